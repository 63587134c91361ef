// The Watchlog example's tests, on the SDK's mock host: what a plugin author writes to know
// the plugin reads every page, sends its key, survives 429 and broken replies, and maps a
// batch reply to exact outcomes. No network, no cw: the plugin class is driven through its
// operation table exactly as the host drives it.
#include "watchlog.hpp"

#include <string>

#include <gtest/gtest.h>

#include <cwsdk/testing/mock_host.hpp>

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::PluginInstance;
using cwsdk::testing::RecordedRequest;

namespace {

Json movie(const char* imdb, const char* title) {
  return {{"type", "movie"}, {"title", title}, {"ids", {{"imdb", imdb}}}};
}

class WatchlogTest : public ::testing::Test {
 protected:
  MockHost host;
  void SetUp() override { host.set_secret("api_key", "wl-key-1"); }
  PluginInstance make() {
    return PluginInstance(cwsdk::detail::provider_table<watchlog::Watchlog>(), host,
                          {{"url", "https://api.watchlog.example/"}, {"api_key", "${secret}"}});
  }
  // Serves `pages` of the watchlist with Trakt-style pagination headers.
  void serve_pages(std::vector<Json> pages, std::int64_t total) {
    host.on("GET", "/v1/watchlist").handle([pages, total](const RecordedRequest& r) {
      const int n = std::stoi(r.query_value("page").value_or("1"));
      if (n < 1 || n > static_cast<int>(pages.size())) return MockReply::json(200, Json::array());
      return MockReply::json(200, pages[static_cast<std::size_t>(n - 1)],
                             {{"X-Pagination-Page-Count", std::to_string(pages.size())},
                              {"X-Pagination-Item-Count", std::to_string(total)}});
    });
  }
};

}  // namespace

TEST_F(WatchlogTest, ReadsEveryPageAndSendsTheKeyEveryTime) {
  serve_pages(
      {Json::array({movie("tt1", "A"), movie("tt2", "B")}),
       Json::array({movie("tt3", "C"), movie("tt4", "D")}), Json::array({movie("tt5", "E")})},
      5);
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["items"].size(), 5u);
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["expected_total"], 5);
  ASSERT_EQ(host.requests().size(), 3u);
  for (const auto& req : host.requests()) {
    EXPECT_EQ(req.header("x-api-key"), "wl-key-1");
    EXPECT_EQ(req.url, "https://api.watchlog.example/v1/watchlist");
    EXPECT_EQ(req.query_value("limit"), "100");
  }
  // The key never appears in what the plugin logged.
  for (const auto& line : host.logs()) EXPECT_EQ(line.text.find("wl-key-1"), std::string::npos);
}

TEST_F(WatchlogTest, ARateLimitMidReadLeavesAnIncompleteIndex) {
  host.on("GET", "/v1/watchlist")
      .with_query("page", "1")
      .reply_json(200, Json::array({movie("tt1", "A")}),
                  {{"X-Pagination-Page-Count", "2"}, {"X-Pagination-Item-Count", "2"}});
  host.on("GET", "/v1/watchlist").with_query("page", "2").reply(429, "", {{"Retry-After", "30"}});
  auto p = make();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);  // the host infers no deletion from it
  EXPECT_EQ(r.json()["items"].size(), 1u);
}

TEST_F(WatchlogTest, ARateLimitOnTheFirstPageIsRateLimitedWithRetryAfter) {
  host.on("GET", "/v1/watchlist").reply(429, "", {{"Retry-After", "30"}});
  auto p = make();
  const auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_RATE_LIMITED);
  EXPECT_EQ(r.json()["retry_after_ms"], 30000);
}

TEST_F(WatchlogTest, BrokenRowsAndBrokenPagesAreNeverACrash) {
  serve_pages({Json::array({movie("tt1", "A"), Json{{"type", "episode"}, {"title", "odd"}}, 42})},
              3);
  auto p = make();
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["complete"], false);

  MockHost truncated;
  truncated.set_secret("api_key", "k");
  truncated.on("GET", "/v1/watchlist")
      .reply_json(200, Json::array({movie("tt1", "A")}))
      .truncated(9);
  PluginInstance q(cwsdk::detail::provider_table<watchlog::Watchlog>(), truncated,
                   {{"url", "https://api.watchlog.example"}, {"api_key", "${secret}"}});
  r = q.build_index("watchlist");
  EXPECT_NE(r.status, CW_STATUS_OK);
  EXPECT_NE(r.message().find("GET /v1/watchlist"), std::string::npos) << r.message();
}

TEST_F(WatchlogTest, BatchRepliesBecomeExactOutcomes) {
  host.on("POST", "/v1/watchlist")
      .reply_json(200, {{"added", {{"movies", 1}, {"shows", 1}}},
                        {"existing", {{"movies", 0}, {"shows", 0}}},
                        {"not_found",
                         {{"movies", {{{"ids", {{"imdb", "tt2"}}}}}}, {"shows", Json::array()}}}});
  auto p = make();
  Json items = Json::array({movie("tt1", "A"),
                            movie("tt2", "B"),
                            {{"type", "show"}, {"title", "S"}, {"ids", {{"tvdb", 9}}}}});
  for (std::size_t i = 0; i < items.size(); ++i) items[i]["key"] = "k" + std::to_string(i);
  const auto r = p.add("watchlist", items);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  std::map<std::string, Json> by_key;
  for (const auto& o : doc["outcomes"]) by_key[o["key"].get<std::string>()] = o;
  EXPECT_EQ(by_key["k0"]["status"], "confirmed");
  EXPECT_EQ(by_key["k1"]["status"], "unresolved");
  EXPECT_EQ(by_key["k1"]["reason"], "not_found");
  EXPECT_EQ(by_key["k2"]["status"], "confirmed");
  const Json sent = host.requests().at(0).json_body();
  EXPECT_EQ(sent["movies"].size(), 2u);
  EXPECT_EQ(sent["shows"][0]["ids"]["tvdb"], "9");
}

TEST_F(WatchlogTest, CountsThatDoNotAddUpVouchForNothing) {
  host.on("POST", "/v1/watchlist").reply_json(200, {{"added", {{"movies", 5}}}});
  auto p = make();
  Json items = Json::array({movie("tt1", "A")});
  items[0]["key"] = "k0";
  const auto r = p.add("watchlist", items);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "unresolved");
  EXPECT_EQ(r.json()["outcomes"][0]["reason"], "unknown");
}

TEST_F(WatchlogTest, HealthSaysWhoAndAuthFailures) {
  host.on("GET", "/v1/me").reply_json(200, {{"username", "alice"}});
  auto p = make();
  auto r = p.health();
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.json()["status"], "ok");
  EXPECT_EQ(r.json()["message"], "signed in as alice");
  MockHost refused;
  refused.set_secret("api_key", "revoked");
  refused.on("GET", "/v1/me").reply(401, R"({"error":"invalid key"})");
  PluginInstance q(cwsdk::detail::provider_table<watchlog::Watchlog>(), refused,
                   {{"url", "https://api.watchlog.example"}, {"api_key", "${secret}"}});
  r = q.health();
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.json()["status"], "auth_failed");
}

TEST_F(WatchlogTest, MalformedRequestsAndAMissingKey) {
  auto p = make();
  EXPECT_EQ(p.call_raw("build_index", "not json").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call("add", {{"feature", "watchlist"}, {"items", 5}}).status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.build_index("history").status, CW_STATUS_UNSUPPORTED);
  MockHost keyless;
  PluginInstance q(cwsdk::detail::provider_table<watchlog::Watchlog>(), keyless,
                   {{"url", "https://api.watchlog.example"}, {"api_key", "${secret}"}});
  EXPECT_EQ(q.build_index("watchlist").status, CW_STATUS_AUTH);
  EXPECT_TRUE(keyless.requests().empty());
}
