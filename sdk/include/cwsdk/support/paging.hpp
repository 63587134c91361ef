// cwsdk/support/paging.hpp: reading every page, and proving it.
//
// A Pager drives the page loop; the plugin supplies one function that fetches the page it
// is asked for, adds its entries to the index and says what the service reported:
//
//   cwsdk::Pager pager = cwsdk::Pager::page_numbers(100);          // Trakt, SIMKL
//   cwsdk::Completeness c = pager.run(host, [&](const cwsdk::PageRequest& p)
//                                               -> cwsdk::Result<cwsdk::Page> {
//     auto reply = api.fetch(cwsdk::http::Request::get("/sync/watchlist/movies")
//                                .query("page", p.number).query("limit", p.limit));
//     if (!reply) return reply.error();
//     auto doc = reply->json();
//     if (!doc || !doc->is_array()) return ...;
//     for (const auto& entry : *doc) index.add(to_item(entry));
//     return cwsdk::pagination_headers(*reply, static_cast<std::int64_t>(doc->size()));
//   });
//
// Three kinds: page_numbers (page=1,2,...: Trakt and SIMKL with X-Pagination-* headers,
// AniList with hasNextPage), offsets (start=0,100,...: Plex X-Plex-Container-Start/Size
// with totalSize, Jellyfin/Emby StartIndex/Limit with TotalRecordCount; the next offset is
// this offset plus the entries received, so a service that returns smaller pages than
// asked loses nothing), and cursors (the reply names the next page).
//
// Before every page the pager checks Host::cancelled() (a failure with
// CW_STATUS_CANCELLED). It stops at max_pages (default 10000). The Completeness it returns
// is complete only when the read ended because the service said there was nothing more AND
// the counts agree: never after a failed page, a cancelled read, the page cap, an empty
// page where more were announced, a page shorter than asked before the last one (when the
// service gives no total), or a total that differs from what was received. `reason` says
// which. Page.count is what the service returned on the page, before the plugin filters
// anything out.
//
// Pipelined reads (run_pipelined): when every page costs a round trip plus parsing, a
// sequential loop spends its time waiting. run_pipelined splits the page function in two:
// `build(const PageRequest&) -> http::Request` and `parse(const PageRequest&,
// http::Response) -> Result<Page>`; it sends up to `depth` pages' requests ahead on worker
// threads while the caller parses. build, the client's Authenticator and parse run only on
// the calling thread, in page order, so a plugin's state needs no locking; the workers only
// call Host::http (which ABI.md allows from any thread, concurrently). The Completeness is
// exactly run()'s; see run_pipelined for what it may request beyond run().
//
//   auto c = cwsdk::Pager::offsets(200).run_pipelined(api,
//       [&](const cwsdk::PageRequest& p) {
//         http::Request r = http::Request::get("/Users/{id}/Items").path_param("id", uid);
//         return cwsdk::jellyfin_paging(r, p);
//       },
//       [&](const cwsdk::PageRequest&, http::Response reply) -> cwsdk::Result<cwsdk::Page> {
//         auto doc = reply.json();
//         if (!doc) return doc.error();
//         ... index the rows ...
//         return cwsdk::jellyfin_page(*doc, rows);
//       });
#ifndef CWSDK_SUPPORT_PAGING_HPP
#define CWSDK_SUPPORT_PAGING_HPP

#include <cstdint>
#include <deque>
#include <future>
#include <optional>
#include <string>
#include <utility>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/http.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/replies.hpp>
#include <cwsdk/support/result.hpp>

namespace cwsdk {

// Which page to fetch.
struct PageRequest {
  int number = 1;           // page_numbers: the page number
  std::int64_t offset = 0;  // offsets: the first entry's index
  int limit = 100;          // the page size to ask for
  std::string cursor;       // cursors: "" for the first page, then the previous next_cursor
  int index = 0;            // 0 for the first page fetched, 1 for the next...
};

// What the service said about the page it returned.
struct Page {
  std::int64_t count = 0;                  // entries on this page, before any filtering
  std::optional<std::int64_t> total;       // entries in all pages, if the service says
  std::optional<std::int64_t> page_count;  // pages in all, if the service says
  std::optional<bool> has_more;            // the service says whether a next page exists
  std::string next_cursor;                 // cursors: the next page's cursor, "" for none
};

class Pager {
 public:
  enum class Kind { page_numbers, offsets, cursors };

  static Pager page_numbers(int page_size, int first_page = 1) {
    return Pager(Kind::page_numbers, page_size, first_page);
  }
  static Pager offsets(int page_size) { return Pager(Kind::offsets, page_size, 0); }
  static Pager cursors(int page_size) { return Pager(Kind::cursors, page_size, 0); }

  // At most `n` pages; a read that would need more ends incomplete.
  Pager& max_pages(int n) {
    m_max_pages = n < 1 ? 1 : n;
    return *this;
  }

  // Runs the loop; `fetch(const PageRequest&) -> Result<Page>`.
  template <typename Fetch>
  Completeness run(const Host& host, Fetch&& fetch) const {
    Completeness c;
    PageRequest req;
    req.number = m_first_page;
    req.limit = m_page_size;
    std::optional<std::int64_t> page_count;
    std::string short_page;  // the first page shorter than asked, if one was
    while (true) {
      if (c.pages >= m_max_pages) {
        c.reason = "stopped at the page cap of " + std::to_string(m_max_pages) +
                   " pages with more announced";
        return c;
      }
      if (host.cancelled()) {
        c.failure = Failure::of(CW_STATUS_CANCELLED,
                                "cancelled after " + std::to_string(c.pages) + " pages");
        c.reason = c.failure->message;
        return c;
      }
      Result<Page> page = fetch(static_cast<const PageRequest&>(req));
      const std::optional<bool> more = account(req, page, c, page_count);
      if (!more) return c;
      if (!*more) break;
      const Page& p = *page;
      if (p.count < req.limit && short_page.empty())
        short_page = "page " + std::to_string(c.pages) + " had " + std::to_string(p.count) +
                     " entries, fewer than the " + std::to_string(req.limit) + " asked for";
      if (m_kind == Kind::cursors && p.next_cursor.empty()) {
        c.failure = Failure::internal("page " + std::to_string(c.pages) +
                                      ": the service announced more pages but gave no cursor");
        c.reason = c.failure->message;
        return c;
      }
      ++req.number;
      req.offset += p.count;
      req.cursor = p.next_cursor;
      ++req.index;
    }
    return finish(std::move(c), short_page);
  }

  // run() with the fetching of later pages overlapped with the parsing of earlier ones (see
  // the top). `build(const PageRequest&) -> http::Request` and `parse(const PageRequest&,
  // http::Response) -> Result<Page>` run on the calling thread, in page order; parse gets
  // only 2xx replies (a transport failure or another status fails the page as
  // Client::fetch() would, without calling parse). `depth` is the pages in flight,
  // the one being waited for included; 1 (or a cursors pager, whose next request is
  // known only from the reply) is run() itself.
  //
  // Requests: the first page goes alone, so a service that announces a total (or a page
  // count) is never asked for a page past it. Without one, up to depth-1 pages past the
  // end may be asked for, and their replies are dropped. Pages are requested ahead at full
  // size (offset + limit); a page that comes back short shows the guess was wrong: the
  // replies fetched ahead are dropped and the read continues from the true offset, so no
  // entry is skipped or read twice. A 401 on a client with an Authenticator drops the pages
  // in flight (they carry the refused credentials) and sends that page again through
  // Client::send(), which renews the credentials once.
  //
  // Every worker is joined before this returns, whatever the way out (the pending replies
  // are std::async futures, whose destructors wait).
  template <typename Build, typename Parse>
  Completeness run_pipelined(const http::Client& client, Build&& build, Parse&& parse,
                             int depth = 4) const {
    if (depth <= 1 || m_kind == Kind::cursors) {
      return run(client.host(), [&](const PageRequest& req) -> Result<Page> {
        auto reply = client.fetch(build(req));
        if (!reply) return reply.error();
        return parse(req, std::move(*reply));
      });
    }
    struct InFlight {
      PageRequest req;
      http::Request request;  // as built, before the client's headers and credentials
      std::future<Result<http::Response>> reply;
    };
    std::deque<InFlight> in_flight;
    Completeness c;
    PageRequest want;  // the page run() would fetch next
    want.number = m_first_page;
    want.limit = m_page_size;
    std::optional<std::int64_t> page_count;
    std::string short_page;

    // Whether page `req` (ahead of `want`, guessing full pages) may be asked for now: the
    // first page goes alone; with a total or page count, never past it.
    const auto worth_asking = [&](const PageRequest& req) {
      if (req.index >= m_max_pages) return false;
      if (req.index > want.index && c.pages == 0) return false;
      if (page_count) return req.index < *page_count;
      if (c.expected_total)
        return c.received + static_cast<std::int64_t>(req.index - want.index) * req.limit <
               *c.expected_total;
      return true;
    };
    const auto ask = [&](const PageRequest& req) {
      InFlight f{req, build(static_cast<const PageRequest&>(req)), {}};
      http::Request prepared = f.request;
      if (Status st = client.prepare(prepared); !st) {
        std::promise<Result<http::Response>> failed;
        failed.set_value(st.error());
        f.reply = failed.get_future();
      } else {
        f.reply = std::async(std::launch::async,
                             [host = client.host(), base = client.base_url(),
                              r = std::move(prepared)]() { return http::send(host, r, base); });
      }
      in_flight.push_back(std::move(f));
    };
    const auto same_page = [](const PageRequest& a, const PageRequest& b) {
      return a.index == b.index && a.number == b.number && a.offset == b.offset &&
             a.limit == b.limit;
    };

    while (true) {
      if (c.pages >= m_max_pages) {
        c.reason = "stopped at the page cap of " + std::to_string(m_max_pages) +
                   " pages with more announced";
        return c;
      }
      if (client.host().cancelled()) {
        c.failure = Failure::of(CW_STATUS_CANCELLED,
                                "cancelled after " + std::to_string(c.pages) + " pages");
        c.reason = c.failure->message;
        return c;
      }
      // Pages fetched ahead from a wrong guess (a short page came before) are dropped.
      if (!in_flight.empty() && !same_page(in_flight.front().req, want)) in_flight.clear();
      if (in_flight.empty()) ask(want);
      while (static_cast<int>(in_flight.size()) < depth && !client.host().cancelled()) {
        PageRequest next = in_flight.back().req;
        ++next.number;
        next.offset += next.limit;
        ++next.index;
        if (!worth_asking(next)) break;
        ask(next);
      }
      InFlight current = std::move(in_flight.front());
      in_flight.pop_front();
      Result<http::Response> reply = current.reply.get();
      if (reply && reply->status == 401 && client.authenticates()) {
        in_flight.clear();
        reply = client.send(current.request);
      }
      Result<Page> page = [&]() -> Result<Page> {
        if (!reply) return reply.error();
        if (Status st = reply->check(); !st) return st.error();
        return parse(static_cast<const PageRequest&>(current.req), std::move(*reply));
      }();
      const std::optional<bool> more = account(want, page, c, page_count);
      if (!more) return c;
      if (!*more) break;
      const Page& p = *page;
      if (p.count < want.limit && short_page.empty())
        short_page = "page " + std::to_string(c.pages) + " had " + std::to_string(p.count) +
                     " entries, fewer than the " + std::to_string(want.limit) + " asked for";
      ++want.number;
      want.offset += p.count;
      ++want.index;
    }
    return finish(std::move(c), short_page);
  }

 private:
  // The read ended because the service said there was nothing more: complete if the counts
  // agree (shared by run and run_pipelined, so both judge a read alike).
  Completeness finish(Completeness c, const std::string& short_page) const {
    if (c.expected_total && *c.expected_total != c.received) {
      c.reason = "received " + std::to_string(c.received) + " of " +
                 std::to_string(*c.expected_total) + " announced";
      return c;
    }
    if (!c.expected_total && m_kind == Kind::page_numbers && !short_page.empty()) {
      c.reason = short_page + ", before the last page";
      return c;
    }
    c.complete = true;
    return c;
  }

  Pager(Kind kind, int page_size, int first_page)
      : m_kind(kind), m_page_size(page_size < 1 ? 1 : page_size), m_first_page(first_page) {}

  // Counts one page's reply into `c`, for run and run_pipelined alike. Nothing when the read
  // ends incomplete here (`c` says why: the page failed, had a negative count, or was empty
  // with more announced); otherwise whether the service announced more pages.
  std::optional<bool> account(const PageRequest& req, const Result<Page>& page, Completeness& c,
                              std::optional<std::int64_t>& page_count) const {
    if (!page) {
      c.failure = page.error();
      c.reason = "page " + std::to_string(c.pages + 1) + " failed: " + page.error().message;
      return std::nullopt;
    }
    ++c.pages;
    const Page& p = *page;
    if (p.count < 0) {
      c.failure = Failure::internal("page " + std::to_string(c.pages) + ": negative count");
      c.reason = c.failure->message;
      return std::nullopt;
    }
    c.received += p.count;
    if (p.total) c.expected_total = p.total;
    if (p.page_count) page_count = p.page_count;
    if (!more_pages(req, p, c, page_count)) return false;
    if (p.count == 0) {
      c.reason = "page " + std::to_string(c.pages) + " was empty but more were announced";
      return std::nullopt;
    }
    return true;
  }

  bool more_pages(const PageRequest& req, const Page& p, const Completeness& c,
                  std::optional<std::int64_t> page_count) const {
    if (p.has_more) return *p.has_more;
    switch (m_kind) {
      case Kind::page_numbers:
        if (page_count) return req.index + 1 < *page_count;
        if (c.expected_total) return c.received < *c.expected_total;
        return p.count >= req.limit;
      case Kind::offsets:
        if (c.expected_total) return req.offset + p.count < *c.expected_total;
        return p.count >= req.limit;
      case Kind::cursors:
        return !p.next_cursor.empty();
    }
    return false;
  }

  Kind m_kind;
  int m_page_size;
  int m_first_page;
  int m_max_pages = 10000;
};

// Page facts from Trakt/SIMKL headers: X-Pagination-Item-Count and X-Pagination-Page-Count.
inline Page pagination_headers(const http::Response& reply, std::int64_t count) {
  Page p;
  p.count = count;
  p.total = reply.header_int("x-pagination-item-count");
  p.page_count = reply.header_int("x-pagination-page-count");
  return p;
}

// Offsets for Plex: X-Plex-Container-Start and X-Plex-Container-Size headers.
inline http::Request& plex_paging(http::Request& request, const PageRequest& page) {
  return request.header("X-Plex-Container-Start", std::to_string(page.offset))
      .header("X-Plex-Container-Size", std::to_string(page.limit));
}
// Page facts from a Plex MediaContainer: totalSize (when present).
inline Page plex_page(const Json& media_container, std::int64_t count) {
  Page p;
  p.count = count;
  if (auto total = get_optional<std::int64_t>(media_container, "totalSize"); total && *total)
    p.total = **total;
  return p;
}

// Offsets for Jellyfin and Emby: StartIndex and Limit query parameters.
inline http::Request& jellyfin_paging(http::Request& request, const PageRequest& page) {
  return request.query("StartIndex", page.offset).query("Limit", page.limit);
}
// Page facts from a Jellyfin/Emby items reply: TotalRecordCount (when present).
inline Page jellyfin_page(const Json& reply, std::int64_t count) {
  Page p;
  p.count = count;
  if (auto total = get_optional<std::int64_t>(reply, "TotalRecordCount"); total && *total)
    p.total = **total;
  return p;
}

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_PAGING_HPP
