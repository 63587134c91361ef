// The Trakt provider on the SDK's mock host: headers and tokens, refresh on 401 with a
// single-use refresh token, every page read and honest completeness, the last_activities
// copy, exact outcomes of batch writes (watchlist, history by history id, ratings,
// progress), 420 account limits, and the device-code sign-in. No network, no cw.
#include "trakt.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cwsdk/testing/mock_host.hpp>

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::PluginInstance;
using cwsdk::testing::RecordedRequest;

namespace {

const char* k_url = "https://api.trakt.example";

Json movie_row(int n, const char* extra_key = nullptr, Json extra = nullptr) {
  Json row{{"type", "movie"},
           {"movie",
            {{"title", "Movie " + std::to_string(n)},
             {"year", 2000 + n},
             {"ids",
              {{"trakt", 100 + n},
               {"slug", "movie-" + std::to_string(n)},
               {"imdb", "tt00000" + std::to_string(10 + n)},
               {"tmdb", 500 + n}}}}}};
  if (extra_key != nullptr) row[extra_key] = std::move(extra);
  return row;
}

Json episode_row(int season, int number) {
  return {{"type", "episode"},
          {"episode",
           {{"season", season},
            {"number", number},
            {"title", "Ep"},
            {"ids", {{"trakt", 9000 + season * 100 + number}, {"tvdb", 7000 + number}}}}},
          {"show", {{"title", "Show"}, {"year", 2010}, {"ids", {{"trakt", 42}, {"tvdb", 4242}}}}}};
}

Json activities(const std::string& stamp) {
  return {{"all", stamp},
          {"movies",
           {{"watched_at", stamp},
            {"rated_at", stamp},
            {"watchlisted_at", stamp},
            {"paused_at", stamp}}},
          {"episodes", {{"watched_at", stamp}, {"rated_at", stamp}, {"paused_at", stamp}}},
          {"shows", {{"rated_at", stamp}, {"watchlisted_at", stamp}}},
          {"seasons", {{"rated_at", stamp}}},
          {"watchlist", {{"updated_at", stamp}}}};
}

class TraktTest : public ::testing::Test {
 protected:
  MockHost host;
  std::string stamp = "2026-01-01T00:00:00.000Z";

  void SetUp() override {
    host.set_secret("client_secret", "shh");
    host.set_secret("access_token", "config-access");
    host.set_secret("refresh_token", "config-refresh");
    host.on("GET", "/sync/last_activities").handle([this](const RecordedRequest&) {
      return MockReply::json(200, activities(stamp));
    });
  }
  static Json config() {
    return {{"url", std::string(k_url) + "/"},
            {"client_id", "cid"},
            {"client_secret", "${secret}"},
            {"access_token", "${secret}"},
            {"refresh_token", "${secret}"}};
  }
  PluginInstance make(Json cfg = config()) {
    return PluginInstance(cwsdk::detail::provider_table<trakt::Trakt>(), host, cfg);
  }
  // Serves `rows` at `path` in pages of the requested limit, with Trakt's headers.
  void serve(const std::string& path, std::vector<Json> rows, bool headers = true) {
    host.on("GET", path).handle([rows, headers](const RecordedRequest& r) {
      const auto page = static_cast<std::size_t>(std::stoi(r.query_value("page").value_or("1")));
      const auto limit =
          static_cast<std::size_t>(std::stoi(r.query_value("limit").value_or("100")));
      Json out = Json::array();
      for (std::size_t i = (page - 1) * limit; i < rows.size() && i < page * limit; ++i)
        out.push_back(rows[i]);
      cwsdk::testing::Headers h;
      if (headers) {
        h["X-Pagination-Page-Count"] = std::to_string((rows.size() + limit - 1) / limit);
        h["X-Pagination-Item-Count"] = std::to_string(rows.size());
      }
      return MockReply::json(200, out, h);
    });
  }
  std::vector<RecordedRequest> requests_to(const std::string& path) const {
    std::vector<RecordedRequest> out;
    for (const auto& r : host.requests())
      if (r.path == path) out.push_back(r);
    return out;
  }
  static std::map<std::string, Json> by_key(const Json& reply) {
    std::map<std::string, Json> out;
    for (const auto& o : reply["outcomes"]) out[o["key"].get<std::string>()] = o;
    return out;
  }
};

Json movie_item(const char* key, int n) {
  return {{"key", key},
          {"type", "movie"},
          {"title", "Movie " + std::to_string(n)},
          {"ids", {{"imdb", "tt00000" + std::to_string(10 + n)}, {"tmdb", 500 + n}}}};
}

}  // namespace

TEST_F(TraktTest, CreateNeedsAClientIdAndAValidUrl) {
  auto p = make({{"url", k_url}});
  EXPECT_FALSE(p.created());
  EXPECT_NE(p.create_error().find("client_id"), std::string::npos);
  auto q = make({{"url", "ftp://x"}, {"client_id", "cid"}});
  EXPECT_FALSE(q.created());
  auto r = make({{"client_id", "cid"}, {"page_limit", 500}});
  EXPECT_FALSE(r.created());
}

TEST_F(TraktTest, SendsTheApiHeadersAndTheBearerToken) {
  serve("/sync/watchlist", {movie_row(1)});
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  ASSERT_FALSE(host.requests().empty());
  for (const auto& req : host.requests()) {
    EXPECT_EQ(req.url.rfind(k_url, 0), 0u) << req.url;
    EXPECT_EQ(req.header("trakt-api-version"), "2");
    EXPECT_EQ(req.header("trakt-api-key"), "cid");
    EXPECT_EQ(req.header("Authorization"), "Bearer config-access");
  }
}

TEST_F(TraktTest, ReadsEveryPageAndIsCompleteOnlyWhenTheCountsAgree) {
  std::vector<Json> rows;
  for (int i = 1; i <= 7; ++i) rows.push_back(movie_row(i));
  serve("/sync/watchlist", rows);
  auto p = make({{"url", k_url},
                 {"client_id", "cid"},
                 {"access_token", "${secret}"},
                 {"page_limit", 3},
                 {"index_cache_hours", 0}});
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  const Json doc = r.json();
  EXPECT_EQ(doc["items"].size(), 7u);
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["expected_total"], 7);
  const auto pages = requests_to("/sync/watchlist");
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[2].query_value("page"), "3");
  EXPECT_EQ(pages[2].query_value("limit"), "3");
  // Items carry ids (no slug) and the types Trakt names.
  EXPECT_EQ(doc["items"][0]["type"], "movie");
  EXPECT_EQ(doc["items"][0]["ids"]["trakt"], "101");
  EXPECT_EQ(doc["items"][0]["ids"]["imdb"], "tt0000011");
  EXPECT_FALSE(doc["items"][0]["ids"].contains("slug"));
}

TEST_F(TraktTest, AFailedOrShortReadIsNeverComplete) {
  // Page 2 fails after the host's retries: what was read is returned, incomplete.
  std::vector<Json> rows;
  for (int i = 1; i <= 4; ++i) rows.push_back(movie_row(i));
  host.on("GET", "/sync/watchlist").with_query("page", "2").reply(503);
  serve("/sync/watchlist", rows);
  auto p = make(
      {{"url", k_url}, {"client_id", "cid"}, {"access_token", "${secret}"}, {"page_limit", 2}});
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 2u);
  EXPECT_FALSE(host.kv("index-cache/watchlist").has_value());

  // A total that the pages do not reach (a silently capped page).
  MockHost h2;
  h2.set_secret("access_token", "a");
  h2.on("GET", "/sync/last_activities").reply_json(200, activities(stamp));
  h2.on("GET", "/sync/watchlist")
      .reply_json(200, Json::array({movie_row(1)}),
                  {{"X-Pagination-Page-Count", "1"}, {"X-Pagination-Item-Count", "5"}});
  PluginInstance p2(cwsdk::detail::provider_table<trakt::Trakt>(), h2,
                    {{"url", k_url}, {"client_id", "cid"}, {"access_token", "${secret}"}});
  auto r2 = p2.build_index("watchlist");
  ASSERT_EQ(r2.status, CW_STATUS_OK) << r2.body;
  EXPECT_EQ(r2.json()["complete"], false);
}

TEST_F(TraktTest, AMalformedRowIsLeftOutAndTheIndexIsIncomplete) {
  Json bad = movie_row(2);
  bad["movie"]["ids"] = nullptr;
  Json worse = {{"type", "movie"}, {"movie", "not an object"}};
  serve("/sync/watchlist", {movie_row(1), bad, worse, Json(42)});
  auto p = make();
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_TRUE(host.logged("left out"));
}

TEST_F(TraktTest, ABodyThatIsNotJsonFailsTheRead) {
  host.on("GET", "/sync/watchlist").reply(200, "{\"truncated");
  auto p = make();
  auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_INTERNAL) << r.body;
  EXPECT_NE(r.message().find("malformed JSON"), std::string::npos) << r.message();
}

TEST_F(TraktTest, HistoryPlaysCarryTheirHistoryIdAndWatchedAt) {
  Json m = movie_row(1, "watched_at", "2025-03-04T05:06:00.000Z");
  m["id"] = 5550001;
  Json e = episode_row(1, 2);
  e["id"] = 5550002;
  e["watched_at"] = "2025-03-05T05:06:00.000Z";
  serve("/sync/history", {m, e});
  auto p = make();
  auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  const Json items = r.json()["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["extra"]["history_id"], 5550001);
  EXPECT_EQ(items[0]["watched_at"], "2025-03-04T05:06:00Z");
  EXPECT_EQ(items[1]["type"], "episode");
  EXPECT_EQ(items[1]["show"]["ids"]["tvdb"], "4242");
  EXPECT_EQ(items[1]["season"], 1);
  EXPECT_EQ(items[1]["episode"], 2);
  EXPECT_EQ(r.json()["complete"], true);
}

TEST_F(TraktTest, RatingsAndProgressAreConverted) {
  Json rated = movie_row(1, "rating", 7);
  rated["rated_at"] = "2025-01-01T00:00:00.000Z";
  Json off_scale = movie_row(2, "rating", 11);
  serve("/sync/ratings", {rated, off_scale});
  Json paused = movie_row(3, "progress", 25.5);
  paused["movie"]["runtime"] = 100;
  paused["id"] = 77;
  paused["paused_at"] = "2025-02-02T00:00:00.000Z";
  serve("/sync/playback", {paused});
  auto p = make();
  auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  ASSERT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["rating"], 7);
  EXPECT_EQ(r.json()["complete"], false);  // the rating of 11 was left out
  auto g = p.build_index("progress");
  ASSERT_EQ(g.status, CW_STATUS_OK) << g.body;
  const Json it = g.json()["items"][0];
  EXPECT_DOUBLE_EQ(it["progress_percent"].get<double>(), 25.5);
  EXPECT_EQ(it["duration_ms"], 6000000);
  EXPECT_FALSE(it.contains("progress_ms"));  // a percentage only: cw compares fractions
  EXPECT_EQ(it["extra"]["playback_id"], 77);
  EXPECT_EQ(requests_to("/sync/playback")[0].query_value("extended"), "full");
}

TEST_F(TraktTest, AnUnchangedAccountIsAnsweredFromTheStoredCopyWithOneRequest) {
  serve("/sync/watchlist", {movie_row(1), movie_row(2)});
  {
    auto p = make();
    auto r = p.build_index("watchlist");
    ASSERT_EQ(r.status, CW_STATUS_OK);
    EXPECT_EQ(r.json()["complete"], true);
  }
  ASSERT_TRUE(host.kv("index-cache/watchlist").has_value());
  const auto before = host.requests().size();
  auto p = make();
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(host.requests().size(), before + 1);  // /sync/last_activities only
  EXPECT_EQ(host.requests().back().path, "/sync/last_activities");
  EXPECT_EQ(r.json()["items"].size(), 2u);
  EXPECT_EQ(r.json()["complete"], true);
  EXPECT_EQ(r.json()["items"][1]["ids"]["trakt"], "102");

  // The stamp moves: everything is read again.
  stamp = "2026-01-02T00:00:00.000Z";
  auto r2 = p.build_index("watchlist");
  ASSERT_EQ(r2.status, CW_STATUS_OK);
  EXPECT_EQ(requests_to("/sync/watchlist").size(), 2u);

  // Too old a copy is not served either.
  host.advance_ms(25LL * 3600 * 1000);
  auto r3 = p.build_index("watchlist");
  ASSERT_EQ(r3.status, CW_STATUS_OK);
  EXPECT_EQ(requests_to("/sync/watchlist").size(), 3u);
}

TEST_F(TraktTest, WithoutLastActivitiesEverythingIsReadAndNothingCached) {
  MockHost h;
  h.set_secret("access_token", "a");
  h.on("GET", "/sync/last_activities").reply(502);
  h.on("GET", "/sync/watchlist")
      .reply_json(200, Json::array({movie_row(1)}),
                  {{"X-Pagination-Page-Count", "1"}, {"X-Pagination-Item-Count", "1"}});
  PluginInstance p(cwsdk::detail::provider_table<trakt::Trakt>(), h,
                   {{"url", k_url}, {"client_id", "cid"}, {"access_token", "${secret}"}});
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["complete"], true);
  EXPECT_FALSE(h.kv("index-cache/watchlist").has_value());
}

TEST_F(TraktTest, A401IsRefreshedOnceAndTheRotatedPairIsStored) {
  host.on("POST", "/oauth/token")
      .reply_json(200, {{"access_token", "new-access"},
                        {"refresh_token", "new-refresh"},
                        {"expires_in", 604800},
                        {"created_at", 1767225600},
                        {"token_type", "bearer"}});
  host.on("GET", "/users/settings")
      .when([](const RecordedRequest& r) {
        return r.header("Authorization") == std::optional<std::string>("Bearer config-access");
      })
      .reply_json(401, {{"error", "invalid_token"}});
  host.on("GET", "/users/settings").reply_json(200, {{"user", {{"username", "sam"}}}});
  {
    auto p = make();
    auto r = p.health();
    ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
    EXPECT_EQ(r.json()["status"], "ok") << r.body;
    EXPECT_NE(r.json()["message"].get<std::string>().find("sam"), std::string::npos);
  }
  const auto refresh = requests_to("/oauth/token");
  ASSERT_EQ(refresh.size(), 1u);
  const Json body = refresh[0].json_body();
  EXPECT_EQ(body["grant_type"], "refresh_token");
  EXPECT_EQ(body["refresh_token"], "config-refresh");
  EXPECT_EQ(body["client_secret"], "shh");
  EXPECT_FALSE(refresh[0].header("Authorization").has_value());
  EXPECT_TRUE(refresh[0].read);  // also sent during a dry run
  const auto stored = host.secret("token");
  ASSERT_TRUE(stored.has_value());
  const Json tok = Json::parse(*stored);
  EXPECT_EQ(tok["access_token"], "new-access");
  EXPECT_EQ(tok["refresh_token"], "new-refresh");
  EXPECT_FALSE(tok["config_mark"].get<std::string>().empty());
  EXPECT_EQ(tok["config_mark"].get<std::string>().find("config"), std::string::npos);

  // The next instance (next run) uses the stored pair, not the spent configured one.
  auto p = make();
  ASSERT_EQ(p.health().json()["status"], "ok");
  EXPECT_EQ(host.requests().back().header("Authorization"), "Bearer new-access");
  EXPECT_EQ(requests_to("/oauth/token").size(), 1u);

  // New tokens pasted into the configuration win over the stored pair.
  host.set_secret("access_token", "pasted-access");
  host.set_secret("refresh_token", "pasted-refresh");
  auto q = make();
  ASSERT_EQ(q.health().json()["status"], "ok");
  EXPECT_EQ(host.requests().back().header("Authorization"), "Bearer pasted-access");
}

TEST_F(TraktTest, ARefusedRefreshIsAnAuthFailure) {
  host.on("POST", "/oauth/token").reply_json(400, {{"error", "invalid_grant"}});
  host.on("GET", "/sync/watchlist").reply(401);
  host.on("GET", "/users/settings").reply(401);
  auto p = make();
  auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_AUTH) << r.body;
  EXPECT_NE(r.message().find("cw auth login"), std::string::npos) << r.message();
  auto h = p.health();
  EXPECT_EQ(h.json()["status"], "auth_failed") << h.body;
  EXPECT_EQ(r.body.find("config-refresh"), std::string::npos);
}

TEST_F(TraktTest, NoTokenAnywhereSaysToLogIn) {
  MockHost h;
  PluginInstance p(cwsdk::detail::provider_table<trakt::Trakt>(), h,
                   {{"url", k_url}, {"client_id", "cid"}});
  auto r = p.build_index("history");
  EXPECT_EQ(r.status, CW_STATUS_AUTH);
  EXPECT_NE(r.message().find("cw auth login"), std::string::npos);
  EXPECT_TRUE(h.requests().empty());
}

TEST_F(TraktTest, WatchlistWritesGetExactOutcomes) {
  host.on("POST", "/sync/watchlist")
      .reply_json(201, {{"added", {{"movies", 1}, {"shows", 0}}},
                        {"existing", {{"movies", 0}, {"shows", 0}}},
                        {"not_found",
                         {{"movies", Json::array({{{"ids", {{"imdb", "tt0000012"}}}}})},
                          {"shows", Json::array()}}}});
  auto p = make();
  auto r = p.add("watchlist", Json::array({movie_item("a", 1),
                                           movie_item("b", 2),
                                           {{"key", "c"}, {"type", "movie"}, {"title", "x"}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  auto o = by_key(r.json());
  EXPECT_EQ(o["a"]["status"], "confirmed");
  EXPECT_EQ(o["b"]["status"], "unresolved");
  EXPECT_EQ(o["b"]["reason"], "not_found");
  EXPECT_EQ(o["c"]["reason"], "not_found");  // no id at all: never sent
  const Json body = requests_to("/sync/watchlist").back().json_body();
  ASSERT_EQ(body["movies"].size(), 2u);
  EXPECT_EQ(body["movies"][0]["ids"]["tmdb"], 501);  // numbers as numbers
  EXPECT_EQ(body["movies"][0]["ids"]["imdb"], "tt0000011");
  EXPECT_EQ(requests_to("/sync/watchlist").back().header("Content-Type"), "application/json");

  // Counts that do not add up prove nothing: unknown, never confirmed.
  host.on("POST", "/sync/watchlist/remove")
      .reply_json(200, {{"deleted", {{"movies", 1}}}, {"not_found", {{"movies", Json::array()}}}});
  auto rm = p.remove("watchlist", Json::array({movie_item("a", 1), movie_item("b", 2)}));
  ASSERT_EQ(rm.status, CW_STATUS_OK);
  for (const auto& [k, v] : by_key(rm.json())) EXPECT_EQ(v["status"], "confirmed") << k;
}

TEST_F(TraktTest, AnAccountLimitIsQuotaAndAServerErrorConfirmsNothing) {
  host.on("POST", "/sync/watchlist")
      .reply(420, "", {{"X-Account-Limit", "250"}, {"X-Upgrade-URL", "https://trakt.tv/vip"}})
      .reply(502);
  auto p = make();
  auto r = p.add("watchlist", Json::array({movie_item("a", 1), movie_item("b", 2)}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  for (const auto& [k, v] : by_key(r.json())) {
    EXPECT_EQ(v["reason"], "quota") << k;
    EXPECT_NE(v["message"].get<std::string>().find("250"), std::string::npos);
  }
  auto r2 = p.add("watchlist", Json::array({movie_item("a", 1)}));
  EXPECT_EQ(r2.status, CW_STATUS_TRANSIENT) << r2.body;
}

TEST_F(TraktTest, HistoryAddsSendMinutePlaysAndMapNestedNotFound) {
  host.on("POST", "/sync/history").handle([](const RecordedRequest& r) {
    const Json body = r.json_body();
    // The show-scoped episode the service cannot find comes back nested in shows.
    Json missing = body["shows"][1];
    return MockReply::json(200, {{"added", {{"movies", 2}, {"episodes", 1}}},
                                 {"updated", {{"movies", 0}, {"episodes", 0}}},
                                 {"not_found",
                                  {{"movies", Json::array()},
                                   {"shows", Json::array({missing})},
                                   {"episodes", Json::array()},
                                   {"ids", Json::array()}}}});
  });
  Json ep1 = {{"key", "e1"},
              {"type", "episode"},
              {"show", {{"title", "Show"}, {"ids", {{"tvdb", "4242"}}}}},
              {"season", 1},
              {"episode", 2},
              {"ids", {{"tmdb", "31"}}},
              {"watched_at", "2025-01-01T10:00:45Z"}};
  Json ep2 = ep1;
  ep2["key"] = "e2";
  ep2["episode"] = 3;
  Json m1 = movie_item("m1", 1);
  m1["watched_at"] = "2025-01-02T10:00:59.900Z";
  Json m2 = m1;
  m2["key"] = "m2";
  m2["watched_at"] = "2025-01-03T10:00:00Z";  // a rewatch
  auto p = make();
  auto r = p.add("history", Json::array({m1, m2, ep1, ep2}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  auto o = by_key(r.json());
  EXPECT_EQ(o["m1"]["status"], "confirmed");
  EXPECT_EQ(o["m2"]["status"], "confirmed");
  EXPECT_EQ(o["e1"]["status"], "confirmed");
  EXPECT_EQ(o["e2"]["reason"], "not_found");
  const Json body = requests_to("/sync/history")[0].json_body();
  EXPECT_EQ(body["movies"][0]["watched_at"], "2025-01-02T10:00:00Z");
  EXPECT_EQ(body["shows"][0]["ids"]["tvdb"], 4242);
  EXPECT_EQ(body["shows"][0]["seasons"][0]["episodes"][0]["number"], 2);
  EXPECT_EQ(body["shows"][0]["seasons"][0]["episodes"][0]["watched_at"], "2025-01-01T10:00:00Z");
  EXPECT_FALSE(body.contains("episodes"));
}

TEST_F(TraktTest, OnePlayIsRemovedByItsHistoryIdOnly) {
  host.on("POST", "/sync/history/remove")
      .reply_json(200, {{"deleted", {{"movies", 2}, {"episodes", 0}}},
                        {"not_found", {{"movies", Json::array()}, {"ids", Json::array({222})}}}});
  // The play of c (sent without its history id) is found in the history by its minute.
  Json other = movie_row(1, "watched_at", "2025-01-01T00:07:00.000Z");
  other["id"] = 444;
  Json play = movie_row(1, "watched_at", "2025-01-01T00:00:00.000Z");
  play["id"] = 333;
  serve("/sync/history", {other, play});
  Json a = movie_item("a", 1);
  a["watched_at"] = "2025-01-01T00:00:00Z";
  a["extra"] = {{"history_id", 111}};
  Json b = a;
  b["key"] = "b";
  b["extra"] = {{"history_id", 222}};
  Json c = a;
  c["key"] = "c";
  c["watched_at"] = "2025-01-01T00:00:30Z";
  c.erase("extra");
  Json d = movie_item("d", 3);
  d["watched_at"] = "2025-01-01T00:00:00Z";
  auto p = make();
  auto r = p.remove("history", Json::array({a, b, c, d}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  auto o = by_key(r.json());
  EXPECT_EQ(o["a"]["status"], "confirmed");
  EXPECT_EQ(o["b"]["status"], "skipped");
  EXPECT_EQ(o["c"]["status"], "confirmed");
  EXPECT_EQ(o["d"]["status"], "skipped");  // Trakt has no play of it: already gone
  const auto sent = requests_to("/sync/history/remove");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].json_body(), (Json{{"ids", {111, 222, 333}}}));
}

TEST_F(TraktTest, APlayThatCannotBeLookedUpIsUnknownAndNotSent) {
  host.on("GET", "/sync/history").reply(503);
  Json c = movie_item("c", 1);
  c["watched_at"] = "2025-01-01T00:00:30Z";
  auto p = make();
  auto r = p.remove("history", Json::array({c}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(by_key(r.json())["c"]["reason"], "unknown");
  EXPECT_TRUE(requests_to("/sync/history/remove").empty());
}

TEST_F(TraktTest, RemovalCountsThatDisagreeAreUnknown) {
  host.on("POST", "/sync/history/remove")
      .reply_json(200, {{"deleted", {{"movies", 0}, {"episodes", 0}}},
                        {"not_found", {{"ids", Json::array()}}}});
  Json a = movie_item("a", 1);
  a["watched_at"] = "2025-01-01T00:00:00Z";
  a["extra"] = {{"history_id", "111"}};
  auto p = make();
  auto r = p.remove("history", Json::array({a}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(by_key(r.json())["a"]["reason"], "unknown");
}

TEST_F(TraktTest, RatingsAreWrittenAsIntegersAndUpdatedInPlace) {
  host.on("POST", "/sync/ratings")
      .reply_json(201, {{"added", {{"movies", 1}, {"seasons", 1}}}, {"not_found", Json::object()}});
  Json m = movie_item("m", 1);
  m["rating"] = 8;
  Json s = {{"key", "s"},
            {"type", "season"},
            {"show", {{"ids", {{"tmdb", "99"}}}}},
            {"season", 2},
            {"rating", 6}};
  auto p = make();
  auto r = p.update("ratings", Json::array({m, s}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  for (const auto& [k, v] : by_key(r.json())) EXPECT_EQ(v["status"], "confirmed") << k;
  const Json body = requests_to("/sync/ratings")[0].json_body();
  EXPECT_EQ(body["movies"][0]["rating"], 8);
  EXPECT_EQ(body["shows"][0]["seasons"][0]["number"], 2);
  EXPECT_EQ(body["shows"][0]["seasons"][0]["rating"], 6);
}

TEST_F(TraktTest, ProgressIsPausedAndRemovedByPlaybackId) {
  host.on("POST", "/scrobble/pause").reply_json(201, {{"id", 1}, {"action", "pause"}});
  host.on("DELETE", "/sync/playback/77").reply(204);
  host.on("DELETE", "/sync/playback/78").reply(404);
  Json m = movie_item("m", 1);
  m["progress_ms"] = 1800000;
  m["duration_ms"] = 7200000;
  Json e = {{"key", "e"},  {"type", "episode"}, {"show", {{"ids", {{"tvdb", "4242"}}}}},
            {"season", 1}, {"episode", 2},      {"progress_percent", 40}};
  Json none = movie_item("n", 2);
  auto p = make();
  auto r = p.add("progress", Json::array({m, e, none}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  auto o = by_key(r.json());
  EXPECT_EQ(o["m"]["status"], "confirmed");
  EXPECT_EQ(o["e"]["status"], "confirmed");
  EXPECT_EQ(o["n"]["reason"], "rejected");
  const auto sent = requests_to("/scrobble/pause");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_DOUBLE_EQ(sent[0].json_body()["progress"].get<double>(), 25.0);
  EXPECT_EQ(sent[1].json_body()["episode"]["number"], 2);
  EXPECT_EQ(sent[1].json_body()["show"]["ids"]["tvdb"], 4242);

  Json a = movie_item("a", 1);
  a["extra"] = {{"playback_id", 77}};
  Json b = movie_item("b", 2);
  b["extra"] = {{"playback_id", 78}};
  auto rm = p.remove("progress", Json::array({a, b}));
  ASSERT_EQ(rm.status, CW_STATUS_OK) << rm.body;
  auto ro = by_key(rm.json());
  EXPECT_EQ(ro["a"]["status"], "confirmed");
  EXPECT_EQ(ro["b"]["status"], "skipped");

  // Without the playback id, the entry is found in the playback list.
  Json paused = movie_row(5, "progress", 10.0);
  paused["id"] = 79;
  serve("/sync/playback", {paused});
  host.on("DELETE", "/sync/playback/79").reply(204);
  auto rm2 = p.remove("progress", Json::array({movie_item("x", 5), movie_item("y", 6)}));
  ASSERT_EQ(rm2.status, CW_STATUS_OK) << rm2.body;
  auto r2 = by_key(rm2.json());
  EXPECT_EQ(r2["x"]["status"], "confirmed");
  EXPECT_EQ(r2["y"]["status"], "skipped");
}

TEST_F(TraktTest, MalformedRequestsAreInvalidArguments) {
  auto p = make();
  EXPECT_EQ(p.call_raw("build_index", "not json").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call_raw("add", R"({"feature":"watchlist","items":[{"type":"film"}]})").status,
            CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call_raw("health", "[]").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.build_index("collection").status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(p.update("watchlist", Json::array()).status, CW_STATUS_UNSUPPORTED);
  EXPECT_TRUE(host.requests().empty());
}

TEST_F(TraktTest, DeviceCodeSignInStoresTheTokenWithTheConfigurationMark) {
  host.on("POST", "/oauth/device/code")
      .reply_json(200, {{"device_code", "dev-1"},
                        {"user_code", "ABCD1234"},
                        {"verification_url", "https://trakt.tv/activate"},
                        {"expires_in", 600},
                        {"interval", 5}});
  host.on("POST", "/oauth/device/token")
      .reply(400)
      .reply_json(200, {{"access_token", "dev-access"},
                        {"refresh_token", "dev-refresh"},
                        {"expires_in", 604800},
                        {"created_at", 1767225600}});
  auto p = make();
  auto s = p.call("auth_start", Json{{"fields", Json::object()}});
  ASSERT_EQ(s.status, CW_STATUS_OK) << s.body;
  EXPECT_EQ(s.json()["user_code"], "ABCD1234");
  EXPECT_EQ(s.json()["interval_ms"], 5000);
  EXPECT_EQ(requests_to("/oauth/device/code")[0].json_body()["client_id"], "cid");
  auto first = p.call("auth_poll", Json::object());
  EXPECT_EQ(first.json()["state"], "pending") << first.body;
  host.advance_ms(5000);
  auto done = p.call("auth_poll", Json::object());
  EXPECT_EQ(done.json()["state"], "done") << done.body;
  const Json poll = requests_to("/oauth/device/token").back().json_body();
  EXPECT_EQ(poll["code"], "dev-1");
  EXPECT_EQ(poll["client_secret"], "shh");
  const Json tok = Json::parse(host.secret("token").value_or("{}"));
  EXPECT_EQ(tok["access_token"], "dev-access");
  EXPECT_FALSE(tok.value("config_mark", "").empty());
  EXPECT_EQ(tok["expires_at"], 1767225600 + 604800);
  // The signed-in token is used from now on, though the configuration has tokens too.
  host.on("GET", "/users/settings").reply_json(200, {{"user", {{"username", "sam"}}}});
  auto q = make();
  ASSERT_EQ(q.health().json()["status"], "ok");
  EXPECT_EQ(host.requests().back().header("Authorization"), "Bearer dev-access");
}

TEST_F(TraktTest, ADeniedSignInEnds) {
  host.on("POST", "/oauth/device/code")
      .reply_json(200, {{"device_code", "d"}, {"user_code", "U"}, {"interval", 1}});
  host.on("POST", "/oauth/device/token").reply(418);
  auto p = make();
  ASSERT_EQ(p.call("auth_start", Json::object()).status, CW_STATUS_OK);
  auto r = p.call("auth_poll", Json::object());
  EXPECT_EQ(r.json()["state"], "denied") << r.body;
  EXPECT_FALSE(host.secret("token").has_value());
}

TEST(TraktHelpers, FloorMinuteAndWriteIds) {
  EXPECT_EQ(trakt::floor_minute(125000), 120000);
  cwsdk::Ids ids;
  ids.set("imdb", "tt0133093");
  ids.set("tmdb", "603");
  ids.set("plex", "55");
  const Json w = trakt::write_ids(ids);
  EXPECT_EQ(w, (Json{{"imdb", "tt0133093"}, {"tmdb", 603}}));
}

TEST_F(TraktTest, AWriteDropsTheStoredCopyOfItsFeature) {
  serve("/sync/watchlist", {movie_row(1)});
  host.on("POST", "/sync/watchlist")
      .reply_json(201, {{"added", {{"movies", 1}}}, {"not_found", Json::object()}});
  auto p = make();
  ASSERT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  ASSERT_TRUE(host.kv("index-cache/watchlist").has_value());
  ASSERT_EQ(p.add("watchlist", Json::array({movie_item("a", 2)})).status, CW_STATUS_OK);
  // Even if Trakt's stamps did not move, the next read goes to Trakt.
  EXPECT_FALSE(host.kv("index-cache/watchlist").has_value());
  ASSERT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  EXPECT_EQ(requests_to("/sync/watchlist").size(), 3u);  // 2 reads and the POST
}

TEST_F(TraktTest, ADryRunSendsReadsOnly) {
  serve("/sync/watchlist", {movie_row(1)});
  host.set_dry_run(true);
  auto p = make();
  EXPECT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  auto w = p.add("watchlist", Json::array({movie_item("a", 2)}));
  EXPECT_EQ(w.status, CW_STATUS_UNSUPPORTED) << w.body;
  EXPECT_NE(w.message().find("dry run"), std::string::npos) << w.body;
  EXPECT_TRUE(host.unmatched().empty());  // the POST was refused before any route saw it
}

TEST_F(TraktTest, AWriteThatLacksItsValueIsRejectedWithoutARequest) {
  Json play = movie_item("p", 1);    // a play without watched_at
  Json rating = movie_item("r", 1);  // a rating without a value
  auto p = make();
  auto h = p.add("history", Json::array({play}));
  ASSERT_EQ(h.status, CW_STATUS_OK) << h.body;
  EXPECT_EQ(by_key(h.json())["p"]["reason"], "rejected");
  auto r = p.add("ratings", Json::array({rating}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(by_key(r.json())["r"]["reason"], "rejected");
  EXPECT_TRUE(host.requests().empty());
}

TEST_F(TraktTest, TheHostsRateLimitIsPassedOnWithItsWait) {
  host.on("POST", "/sync/ratings").transport_error(CW_STATUS_RATE_LIMITED, "budget spent", 30000);
  Json m = movie_item("m", 1);
  m["rating"] = 5;
  auto p = make();
  auto r = p.add("ratings", Json::array({m}));
  EXPECT_EQ(r.status, CW_STATUS_RATE_LIMITED) << r.body;
  EXPECT_EQ(r.json()["retry_after_ms"], 30000);
}

TEST_F(TraktTest, ATokenAboutToExpireIsRenewedBeforeUse) {
  host.set_secret("token", Json{{"access_token", "old"},
                                {"refresh_token", "old-refresh"},
                                {"expires_at_ms", host.now_ms() + 30000}}
                               .dump());
  MockHost& h = host;
  h.on("POST", "/oauth/token")
      .reply_json(200, {{"access_token", "fresh"}, {"refresh_token", "r2"}, {"expires_in", 3600}});
  h.on("GET", "/users/settings").reply_json(200, {{"user", {{"username", "sam"}}}});
  // No tokens in the configuration: the stored one is used, and renewed first.
  auto p = make({{"url", k_url}, {"client_id", "cid"}, {"client_secret", "${secret}"}});
  ASSERT_EQ(p.health().json()["status"], "ok");
  EXPECT_EQ(requests_to("/oauth/token")[0].json_body()["refresh_token"], "old-refresh");
  EXPECT_EQ(host.requests().back().header("Authorization"), "Bearer fresh");
  EXPECT_EQ(Json::parse(*host.secret("token"))["refresh_token"], "r2");
}

TEST_F(TraktTest, WatchlistSeasonAndEpisodeRowsAreNotSyncedButTheReadStaysComplete) {
  Json season = {{"type", "season"},
                 {"season", {{"number", 1}, {"ids", {{"trakt", 5}}}}},
                 {"show", {{"title", "S"}, {"ids", {{"trakt", 42}}}}}};
  serve("/sync/watchlist", {movie_row(1), season, episode_row(1, 1)});
  auto p = make();
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["complete"], true);
}

TEST_F(TraktTest, AnEpisodeWithItsOwnTraktIdIsSentFlat) {
  host.on("POST", "/sync/history")
      .reply_json(201,
                  {{"added", {{"episodes", 1}}}, {"not_found", {{"episodes", Json::array()}}}});
  Json e = {{"key", "e"},
            {"type", "episode"},
            {"show", {{"ids", {{"tvdb", "4242"}}}}},
            {"season", 1},
            {"episode", 2},
            {"ids", {{"trakt", "9102"}}},
            {"watched_at", "2025-01-01T10:00:00Z"}};
  auto p = make();
  auto r = p.add("history", Json::array({e}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(by_key(r.json())["e"]["status"], "confirmed");
  const Json body = requests_to("/sync/history")[0].json_body();
  EXPECT_EQ(body["episodes"][0]["ids"]["trakt"], 9102);
  EXPECT_FALSE(body.contains("shows"));
}

TEST_F(TraktTest, ALockedAccountStopsTheInstanceWithAMessage) {
  host.on("GET", "/sync/watchlist").reply(423);
  host.on("POST", "/sync/watchlist").reply(423);
  auto p = make();
  auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_AUTH) << r.body;
  EXPECT_NE(r.message().find("locked"), std::string::npos) << r.message();
  auto w = p.add("watchlist", Json::array({movie_item("a", 1)}));
  EXPECT_EQ(w.status, CW_STATUS_AUTH) << w.body;
}

// Scrobbling: the host's watched decision is what Trakt records (Trakt's own threshold is
// 80 %): a watched stop below 80 is sent at 80, an unwatched stop over it as a pause.
TEST_F(TraktTest, ScrobbleFollowsTheHostsWatchedDecision) {
  host.on("POST", "/scrobble/start").reply_json(201, {{"id", 0}, {"action", "start"}});
  host.on("POST", "/scrobble/stop").reply_json(201, {{"id", 9}, {"action", "scrobble"}});
  host.on("POST", "/scrobble/pause").reply_json(201, {{"id", 3}, {"action", "pause"}});
  auto p = make();
  Json item = movie_item("m", 1);
  auto r = p.call("scrobble", {{"event", "start"}, {"item", item}, {"progress", 1.5}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["recorded"], "none");
  r = p.call("scrobble", {{"event", "stop"}, {"item", item}, {"progress", 75}, {"watched", true}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "confirmed");
  EXPECT_EQ(r.json()["recorded"], "play");
  r = p.call("scrobble", {{"event", "stop"}, {"item", item}, {"progress", 85}, {"watched", false}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["recorded"], "progress");
  const auto stops = requests_to("/scrobble/stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_DOUBLE_EQ(stops[0].json_body()["progress"].get<double>(), 80.0);
  EXPECT_EQ(stops[0].json_body()["movie"]["ids"]["tmdb"], 501);
  const auto pauses = requests_to("/scrobble/pause");
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_LT(pauses[0].json_body()["progress"].get<double>(), 80.0);
}

TEST_F(TraktTest, ScrobbleConflictIsThePlayAlreadyThereAndUnknownItemsAreUnresolved) {
  host.on("POST", "/scrobble/stop")
      .reply_json(409, {{"watched_at", "2026-01-01T00:00:00.000Z"},
                        {"expires_at", "2026-01-01T02:00:00.000Z"}});
  auto p = make();
  auto r = p.call(
      "scrobble",
      {{"event", "stop"}, {"item", movie_item("m", 1)}, {"progress", 95}, {"watched", true}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "skipped");
  EXPECT_EQ(r.json()["recorded"], "play");
  Json bare = {{"type", "movie"}, {"title", "No ids"}};
  r = p.call("scrobble", {{"event", "start"}, {"item", bare}, {"progress", 0}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "unresolved");
  r = p.call("scrobble", {{"event", "rewind"}, {"item", bare}, {"progress", 0}});
  EXPECT_EQ(r.status, CW_STATUS_INVALID_ARG);
}
