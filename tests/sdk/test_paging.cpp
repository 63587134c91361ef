// cwsdk/support/paging.hpp: every page or an honest "incomplete", against scripted pages.
#include <functional>
#include <string>
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

}  // namespace
