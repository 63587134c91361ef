// cwsdk/support/paging.hpp: every page or an honest "incomplete", against scripted pages.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <cwsdk/support/paging.hpp>
#include <cwsdk/testing/mock_host.hpp>

namespace {

using cwsdk::Json;
using cwsdk::Page;
using cwsdk::Pager;
using cwsdk::PageRequest;
using cwsdk::Result;
using cwsdk::testing::MockHost;

TEST(Paging, TraktStylePagesWithPaginationHeaders) {
  MockHost mock;
  for (int page = 1; page <= 3; ++page) {
    Json items = Json::array();
    for (int i = 0; i < (page < 3 ? 2 : 1); ++i) items.push_back({{"n", page * 10 + i}});
    mock.on("GET", "/sync/watchlist")
        .with_query("page", std::to_string(page))
        .reply_json(200, items,
                    {{"X-Pagination-Page-Count", "3"}, {"X-Pagination-Item-Count", "5"}});
  }
  cwsdk::http::Client api(mock.host(), "https://api.trakt.tv");
  std::vector<int> seen;
  const cwsdk::Completeness c =
      Pager::page_numbers(2).run(mock.host(), [&](const PageRequest& p) -> Result<Page> {
        auto reply = api.fetch(cwsdk::http::Request::get("/sync/watchlist")
                                   .query("page", p.number)
                                   .query("limit", p.limit));
        if (!reply) return reply.error();
        auto doc = reply->json();
        if (!doc) return doc.error();
        for (const auto& e : *doc) seen.push_back(e["n"]);
        return cwsdk::pagination_headers(*reply, static_cast<std::int64_t>(doc->size()));
      });
  EXPECT_TRUE(c.complete) << c.reason;
  EXPECT_EQ(c.pages, 3);
  EXPECT_EQ(c.received, 5);
  EXPECT_EQ(c.expected_total, 5);
  EXPECT_EQ(seen, (std::vector<int>{10, 11, 20, 21, 30}));
  EXPECT_EQ(mock.requests()[2].query_value("limit"), "2");
}

// A scripted service: page sizes per call and what the service says.
struct Script {
  std::vector<Page> pages;
  std::vector<PageRequest> asked;
  Result<Page> operator()(const PageRequest& p) {
    asked.push_back(p);
    if (asked.size() > pages.size()) return cwsdk::Failure::internal("asked for too many pages");
    return pages[asked.size() - 1];
  }
};

Page page(std::int64_t count, std::optional<std::int64_t> total = std::nullopt) {
  Page p;
  p.count = count;
  p.total = total;
  return p;
}

TEST(Paging, OffsetsFollowWhatTheServiceReturned) {
  MockHost mock;
  // Asked for 100, a Plex server returns 60 at a time; the total is 150.
  Script s{{page(60, 150), page(60, 150), page(30, 150)}, {}};
  const auto c = Pager::offsets(100).run(mock.host(), std::ref(s));
  EXPECT_TRUE(c.complete) << c.reason;
  ASSERT_EQ(s.asked.size(), 3u);
  EXPECT_EQ(s.asked[1].offset, 60);
  EXPECT_EQ(s.asked[2].offset, 120);
  EXPECT_EQ(c.received, 150);
}

TEST(Paging, AFailedPageIsNeverComplete) {
  MockHost mock;
  int calls = 0;
  const auto c = Pager::page_numbers(10).run(mock.host(), [&](const PageRequest&) -> Result<Page> {
    if (++calls == 2) return cwsdk::Failure::of(CW_STATUS_TRANSIENT, "HTTP 503");
    return page(10, 30);
  });
  EXPECT_FALSE(c.complete);
  ASSERT_TRUE(c.failure);
  EXPECT_EQ(c.failure->status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(c.reason, "page 2 failed: HTTP 503");
  EXPECT_EQ(c.received, 10);
  EXPECT_EQ(c.pages, 1);
}

TEST(Paging, CancellationIsCheckedBeforeEveryPage) {
  MockHost mock;
  int calls = 0;
  const auto c = Pager::page_numbers(10).run(mock.host(), [&](const PageRequest&) -> Result<Page> {
    if (++calls == 2) mock.cancel();
    return page(10, 100);
  });
  EXPECT_FALSE(c.complete);
  ASSERT_TRUE(c.failure);
  EXPECT_EQ(c.failure->status, CW_STATUS_CANCELLED);
  EXPECT_EQ(calls, 2);
}

TEST(Paging, ThePageCapEndsIncomplete) {
  MockHost mock;
  Script s{std::vector<Page>(10, page(10, 100)), {}};
  const auto c = Pager::page_numbers(10).max_pages(3).run(mock.host(), std::ref(s));
  EXPECT_FALSE(c.complete);
  EXPECT_FALSE(c.failure);
  EXPECT_EQ(c.pages, 3);
  EXPECT_EQ(c.reason, "stopped at the page cap of 3 pages with more announced");
}

TEST(Paging, CountsThatDisagreeAreIncomplete) {
  MockHost mock;
  {
    Script s{{page(10), page(10), page(3)}, {}};
    s.pages[0].page_count = 3;
    s.pages[0].total = 25;  // 23 arrive
    const auto c = Pager::page_numbers(10).run(mock.host(), std::ref(s));
    EXPECT_FALSE(c.complete);
    EXPECT_EQ(c.reason, "received 23 of 25 announced");
  }
  {
    // No totals: a short page in the middle (then more) means entries were skipped.
    Script s{{page(10), page(4), page(10), page(0)}, {}};
    s.pages[1].has_more = true;
    const auto c = Pager::page_numbers(10).run(mock.host(), std::ref(s));
    EXPECT_FALSE(c.complete);
    EXPECT_EQ(c.reason, "page 2 had 4 entries, fewer than the 10 asked for, before the last page");
  }
  {
    // An empty page while the service says there are more.
    Script s{{page(10, 30), page(0, 30)}, {}};
    const auto c = Pager::offsets(10).run(mock.host(), std::ref(s));
    EXPECT_FALSE(c.complete);
    EXPECT_EQ(c.reason, "page 2 was empty but more were announced");
  }
}

TEST(Paging, WithoutTotalsAShortPageIsTheEnd) {
  MockHost mock;
  Script s{{page(10), page(10), page(7)}, {}};
  const auto c = Pager::page_numbers(10).run(mock.host(), std::ref(s));
  EXPECT_TRUE(c.complete) << c.reason;
  EXPECT_EQ(s.asked.size(), 3u);
  EXPECT_EQ(s.asked[2].number, 3);
  EXPECT_FALSE(c.expected_total);
}

TEST(Paging, HasNextPageAndCursors) {
  MockHost mock;
  {
    Script s{{page(50), page(50), page(50)}, {}};
    s.pages[0].has_more = true;
    s.pages[1].has_more = true;
    s.pages[2].has_more = false;
    const auto c = Pager::page_numbers(50).run(mock.host(), std::ref(s));
    EXPECT_TRUE(c.complete) << c.reason;
    EXPECT_EQ(c.received, 150);
  }
  {
    Script s{{page(5), page(5), page(2)}, {}};
    s.pages[0].next_cursor = "c2";
    s.pages[1].next_cursor = "c3";
    const auto c = Pager::cursors(5).run(mock.host(), std::ref(s));
    EXPECT_TRUE(c.complete) << c.reason;
    ASSERT_EQ(s.asked.size(), 3u);
    EXPECT_EQ(s.asked[0].cursor, "");
    EXPECT_EQ(s.asked[2].cursor, "c3");
  }
  {
    Script s{{page(5)}, {}};
    s.pages[0].has_more = true;  // ...but no cursor to get there
    const auto c = Pager::cursors(5).run(mock.host(), std::ref(s));
    EXPECT_FALSE(c.complete);
    ASSERT_TRUE(c.failure);
  }
}

TEST(Paging, PlexAndJellyfinHelpers) {
  cwsdk::http::Request plex = cwsdk::http::Request::get("/library/sections/1/all");
  PageRequest p;
  p.offset = 200;
  p.limit = 100;
  cwsdk::plex_paging(plex, p);
  EXPECT_EQ(plex.headers().at("X-Plex-Container-Start"), "200");
  EXPECT_EQ(plex.headers().at("X-Plex-Container-Size"), "100");
  EXPECT_EQ(cwsdk::plex_page(Json{{"size", 2}, {"totalSize", 1234}}, 2).total, 1234);
  EXPECT_FALSE(cwsdk::plex_page(Json{{"size", 2}}, 2).total);
  EXPECT_FALSE(cwsdk::plex_page(Json{{"totalSize", "many"}}, 2).total);
  cwsdk::http::Request jf = cwsdk::http::Request::get("/Users/{id}/Items");
  cwsdk::jellyfin_paging(jf, p);
  auto doc = jf.path_param("id", "u").document("http://jf:8096");
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["query"], Json::parse(R"({"StartIndex":200,"Limit":100})"));
  EXPECT_EQ(cwsdk::jellyfin_page(Json{{"Items", Json::array()}, {"TotalRecordCount", 7}}, 0).total,
            7);
}

TEST(Paging, CompletenessWholeForOneReplyIndexes) {
  EXPECT_TRUE(cwsdk::Completeness::whole(5).complete);
  EXPECT_TRUE(cwsdk::Completeness::whole(5, 5).complete);
  const auto c = cwsdk::Completeness::whole(4, 5);
  EXPECT_FALSE(c.complete);
  EXPECT_EQ(c.reason, "received 4 of 5");
}

// ----- run_pipelined: the same Completeness as run(), with pages fetched ahead -----

// A service of `size` numbered entries behind GET /items?start=&limit= (or ?page=&limit=)
// that returns at most `serve_max` entries a page, says the total when `announce_total`,
// and answers 503 from `fail_at` (an offset) on. Thread-safe: the mock host calls it from
// the pager's workers.
struct Items {
  std::int64_t size = 0;
  std::int64_t serve_max = 1000;
  bool announce_total = true;
  std::int64_t fail_at = -1;
  std::mutex m;
  std::condition_variable cv;
  int requests = 0;

  cwsdk::testing::MockReply answer(const cwsdk::testing::RecordedRequest& r) {
    {
      const std::lock_guard<std::mutex> lock(m);
      ++requests;
    }
    cv.notify_all();
    const std::int64_t limit = std::stoll(r.query_value("limit").value_or("0"));
    std::int64_t start = 0;
    if (auto page = r.query_value("page")) start = (std::stoll(*page) - 1) * limit;
    if (auto offset = r.query_value("start")) start = std::stoll(*offset);
    if (fail_at >= 0 && start >= fail_at)
      return cwsdk::testing::MockReply::json(503, Json{{"error", "down"}});
    Json rows = Json::array();
    for (std::int64_t i = start; i < size && i < start + std::min(limit, serve_max); ++i)
      rows.push_back(i);
    Json doc{{"rows", rows}};
    if (announce_total) doc["total"] = size;
    return cwsdk::testing::MockReply::json(200, doc);
  }
  // Waits (without a clock deciding the outcome: the bound only keeps a broken pager
  // from hanging the suite) until `n` requests have arrived.
  bool wait_for_requests(int n) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return requests >= n; });
  }
};

struct Read {
  cwsdk::Completeness c;
  std::vector<std::int64_t> rows;           // in the order parse saw them
  std::vector<std::int64_t> parsed_starts;  // the offset (or page) of each parse call
  std::vector<std::thread::id> parse_threads;
  std::size_t requests = 0;
};

// Reads `items` with `pager`, sequentially (depth 0: run()) or pipelined; `numbered` for
// page_numbers pagers.
Read read_items(Items& items, const Pager& pager, int depth, bool numbered = false,
                const std::function<void(const PageRequest&)>& on_parse = {}) {
  MockHost mock;
  mock.on("GET", "/items").handle([&](const auto& r) { return items.answer(r); });
  cwsdk::http::Client api(mock.host(), "https://svc.example");
  Read out;
  const auto build = [](const PageRequest& p) {
    return cwsdk::http::Request::get("/items").query("limit", p.limit).query("start", p.offset);
  };
  const auto build_numbered = [](const PageRequest& p) {
    return cwsdk::http::Request::get("/items").query("limit", p.limit).query("page", p.number);
  };
  const auto parse = [&](const PageRequest& p, cwsdk::http::Response reply) -> Result<Page> {
    out.parsed_starts.push_back(numbered ? p.number : p.offset);
    out.parse_threads.push_back(std::this_thread::get_id());
    if (on_parse) on_parse(p);
    auto doc = reply.json();
    if (!doc) return doc.error();
    for (const auto& v : (*doc)["rows"]) out.rows.push_back(v.get<std::int64_t>());
    Page page;
    page.count = static_cast<std::int64_t>((*doc)["rows"].size());
    if (doc->contains("total")) page.total = (*doc)["total"].get<std::int64_t>();
    return page;
  };
  if (depth == 0) {
    out.c = pager.run(mock.host(), [&](const PageRequest& p) -> Result<Page> {
      auto reply = api.fetch(numbered ? build_numbered(p) : build(p));
      if (!reply) return reply.error();
      return parse(p, std::move(*reply));
    });
  } else if (numbered) {
    out.c = pager.run_pipelined(api, build_numbered, parse, depth);
  } else {
    out.c = pager.run_pipelined(api, build, parse, depth);
  }
  out.requests = mock.requests().size();
  return out;
}

void expect_same(const cwsdk::Completeness& a, const cwsdk::Completeness& b) {
  EXPECT_EQ(a.complete, b.complete);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.pages, b.pages);
  EXPECT_EQ(a.received, b.received);
  EXPECT_EQ(a.expected_total, b.expected_total);
  ASSERT_EQ(a.failure.has_value(), b.failure.has_value());
  if (a.failure) {
    EXPECT_EQ(a.failure->status, b.failure->status);
    EXPECT_EQ(a.failure->message, b.failure->message);
  }
}

std::vector<std::int64_t> upto(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

TEST(PagingPipelined, WithATotalItReadsInOrderAndAsksForNoPagePastIt) {
  for (int depth : {2, 4, 8}) {
    Items a, b;
    a.size = b.size = 1050;
    const Read seq = read_items(a, Pager::offsets(100), 0);
    const Read pip = read_items(b, Pager::offsets(100), depth);
    EXPECT_TRUE(pip.c.complete) << pip.c.reason;
    expect_same(pip.c, seq.c);
    EXPECT_EQ(pip.rows, upto(1050));
    EXPECT_EQ(pip.parsed_starts, seq.parsed_starts);
    EXPECT_EQ(pip.requests, 11u);  // the paging minimum, as run() makes
    EXPECT_EQ(seq.requests, 11u);
    for (const auto& id : pip.parse_threads) EXPECT_EQ(id, std::this_thread::get_id());
  }
}

TEST(PagingPipelined, PagesAreInFlightWhileTheCallerParses) {
  // Parsing page 2 waits until pages 3 to 5 have been asked for: a pager that fetched
  // one page after another would never get there (and the wait would give up).
  Items items;
  items.size = 1000;
  bool ahead = false;
  const Read r = read_items(items, Pager::offsets(100), 4, false, [&](const PageRequest& p) {
    if (p.index == 1) ahead = items.wait_for_requests(5);
  });
  EXPECT_TRUE(ahead);
  EXPECT_TRUE(r.c.complete) << r.c.reason;
  EXPECT_EQ(r.rows, upto(1000));
}

TEST(PagingPipelined, WithoutATotalAtMostDepthMinusOnePagesPastTheEnd) {
  for (std::int64_t size : {0, 50, 100, 950, 1000}) {
    Items a, b;
    a.size = b.size = size;
    a.announce_total = b.announce_total = false;
    const Read seq = read_items(a, Pager::offsets(100), 0);
    const Read pip = read_items(b, Pager::offsets(100), 4);
    expect_same(pip.c, seq.c);
    EXPECT_TRUE(pip.c.complete) << size << ": " << pip.c.reason;
    EXPECT_EQ(pip.rows, upto(size));
    EXPECT_EQ(pip.parsed_starts, seq.parsed_starts);
    EXPECT_GE(pip.requests, seq.requests);
    EXPECT_LE(pip.requests, seq.requests + 3) << size;
  }
}

TEST(PagingPipelined, AShortPageDropsThePagesFetchedAheadAndContinuesFromTheTrueOffset) {
  // Asked for 100, the service returns 60 at a time: the offsets guessed ahead (100, 200...)
  // are wrong, and reading them would skip entries 60 to 99.
  for (bool total : {true, false}) {
    Items a, b;
    a.size = b.size = 250;
    a.serve_max = b.serve_max = 60;
    a.announce_total = b.announce_total = total;
    const Read seq = read_items(a, Pager::offsets(100), 0);
    const Read pip = read_items(b, Pager::offsets(100), 4);
    expect_same(pip.c, seq.c);
    EXPECT_EQ(pip.rows, upto(total ? 250 : 60));
    EXPECT_EQ(pip.parsed_starts, seq.parsed_starts);
  }
}

TEST(PagingPipelined, AFailedMiddlePageEndsTheReadAsRunDoes) {
  Items a, b;
  a.size = b.size = 1000;
  a.fail_at = b.fail_at = 300;
  const Read seq = read_items(a, Pager::offsets(100), 0);
  const Read pip = read_items(b, Pager::offsets(100), 4);
  expect_same(pip.c, seq.c);
  ASSERT_TRUE(pip.c.failure);
  EXPECT_EQ(pip.c.failure->status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(pip.c.pages, 3);
  EXPECT_EQ(pip.rows, upto(300));
  EXPECT_EQ(pip.parsed_starts, (std::vector<std::int64_t>{0, 100, 200}));
}

TEST(PagingPipelined, CancellationIsCheckedBeforeEveryPage) {
  // The cancel comes from the read's own host, so this test drives the pager itself.
  for (int depth : {0, 4}) {
    Items items;
    items.size = 1000;
    MockHost mock;
    mock.on("GET", "/items").handle([&](const auto& r) { return items.answer(r); });
    cwsdk::http::Client api(mock.host(), "https://svc.example");
    int parsed = 0;
    const auto build = [](const PageRequest& p) {
      return cwsdk::http::Request::get("/items").query("limit", p.limit).query("start", p.offset);
    };
    const auto parse = [&](const PageRequest&, cwsdk::http::Response) -> Result<Page> {
      if (++parsed == 2) mock.cancel();
      return page(100, 1000);
    };
    const auto c = depth == 0 ? Pager::offsets(100).run(mock.host(),
                                                        [&](const PageRequest& p) -> Result<Page> {
                                                          auto reply = api.fetch(build(p));
                                                          if (!reply) return reply.error();
                                                          return parse(p, std::move(*reply));
                                                        })
                              : Pager::offsets(100).run_pipelined(api, build, parse, depth);
    EXPECT_FALSE(c.complete);
    ASSERT_TRUE(c.failure);
    EXPECT_EQ(c.failure->status, CW_STATUS_CANCELLED);
    EXPECT_EQ(c.reason, "cancelled after 2 pages");
    EXPECT_EQ(parsed, 2);
  }
}

TEST(PagingPipelined, ThePageCapEndsIncompleteWithoutAskingPastIt) {
  Items a, b;
  a.size = b.size = 1000;
  const Read seq = read_items(a, Pager::offsets(100).max_pages(3), 0);
  const Read pip = read_items(b, Pager::offsets(100).max_pages(3), 4);
  expect_same(pip.c, seq.c);
  EXPECT_EQ(pip.c.reason, "stopped at the page cap of 3 pages with more announced");
  EXPECT_EQ(pip.requests, 3u);
}

TEST(PagingPipelined, PageNumbersAreReadAsRunReadsThem) {
  {
    Items a, b;
    a.size = b.size = 730;
    const Read seq = read_items(a, Pager::page_numbers(100), 0, true);
    const Read pip = read_items(b, Pager::page_numbers(100), 3, true);
    EXPECT_TRUE(pip.c.complete) << pip.c.reason;
    expect_same(pip.c, seq.c);
    EXPECT_EQ(pip.rows, upto(730));
    EXPECT_EQ(pip.parsed_starts, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(pip.requests, 8u);
  }
  {
    // Short pages without a total: the read ends at the first one, as run()'s does.
    Items a, b;
    a.size = b.size = 730;
    a.serve_max = b.serve_max = 60;
    a.announce_total = b.announce_total = false;
    const Read seq = read_items(a, Pager::page_numbers(100), 0, true);
    const Read pip = read_items(b, Pager::page_numbers(100), 3, true);
    expect_same(pip.c, seq.c);
    EXPECT_EQ(pip.rows, seq.rows);
  }
}

TEST(PagingPipelined, A401RenewsTheCredentialsOnceAndResendsThePagesInFlight) {
  // The service stops taking token "t1" after the second request: the pages in flight then
  // carry refused credentials; one renewal, and every page is read once, in order.
  struct Renew final : cwsdk::http::Authenticator {
    int token = 1;
    int refreshes = 0;
    cwsdk::Status authorize(cwsdk::http::Request& r) override {
      r.header("Authorization", "t" + std::to_string(token));
      return {};
    }
    cwsdk::Status refresh() override {
      ++refreshes;
      ++token;
      return {};
    }
  } auth;
  Items items;
  items.size = 1000;
  MockHost mock;
  int seen = 0;
  mock.on("GET", "/items").handle([&](const cwsdk::testing::RecordedRequest& r) {
    if (++seen > 2 && r.header("Authorization") == "t1")
      return cwsdk::testing::MockReply::with(401);
    return items.answer(r);
  });
  cwsdk::http::Client api(mock.host(), "https://svc.example");
  api.authenticator(&auth);
  std::vector<std::int64_t> rows;
  const auto c = Pager::offsets(100).run_pipelined(
      api,
      [](const PageRequest& p) {
        return cwsdk::http::Request::get("/items").query("limit", p.limit).query("start", p.offset);
      },
      [&](const PageRequest&, cwsdk::http::Response reply) -> Result<Page> {
        auto doc = reply.json();
        if (!doc) return doc.error();
        for (const auto& v : (*doc)["rows"]) rows.push_back(v.get<std::int64_t>());
        return page(static_cast<std::int64_t>((*doc)["rows"].size()), (*doc)["total"]);
      },
      4);
  EXPECT_TRUE(c.complete) << c.reason;
  EXPECT_EQ(auth.refreshes, 1);
  EXPECT_EQ(rows, upto(1000));
}

TEST(PagingPipelined, CursorsAndDepthOneAreRunItself) {
  Items a, b;
  a.size = b.size = 350;
  const Read seq = read_items(a, Pager::offsets(100), 0);
  const Read one = read_items(b, Pager::offsets(100), 1);
  expect_same(one.c, seq.c);
  EXPECT_EQ(one.requests, seq.requests);
  MockHost mock;
  int fetched = 0;
  mock.on("GET", "/c").handle([&](const auto& r) {
    ++fetched;
    const std::string cur = r.query_value("cursor").value_or("");
    return cwsdk::testing::MockReply::json(200, Json{{"next", cur.empty() ? "b" : ""}});
  });
  cwsdk::http::Client api(mock.host(), "https://svc.example");
  const auto c = Pager::cursors(10).run_pipelined(
      api,
      [](const PageRequest& p) {
        return cwsdk::http::Request::get("/c").query("cursor", p.cursor);
      },
      [](const PageRequest&, cwsdk::http::Response reply) -> Result<Page> {
        auto doc = reply.json();
        if (!doc) return doc.error();
        Page p;
        p.count = 10;
        p.next_cursor = (*doc)["next"].get<std::string>();
        return p;
      },
      4);
  EXPECT_TRUE(c.complete) << c.reason;
  EXPECT_EQ(fetched, 2);
}

}  // namespace
