// The TMDb provider on the SDK's mock host: paging and honest completeness, credentials
// (v3 and v4), exact write outcomes from TMDb's status codes, the rating grid and the id
// resolver.
#include "tmdb.hpp"

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

Json tmdb_error(int code, const char* message) {
  return {{"success", false}, {"status_code", code}, {"status_message", message}};
}
Json tmdb_ok(int code) {
  return {{"success", true}, {"status_code", code}, {"status_message", "Success."}};
}
Json movie_row(std::int64_t id, const char* title, const char* date = "1999-03-30") {
  return {{"id", id}, {"title", title}, {"release_date", date}, {"adult", false}};
}
Json tv_row(std::int64_t id, const char* name) {
  return {{"id", id}, {"name", name}, {"first_air_date", "2008-01-20"}};
}
// A TMDb list page envelope.
Json page(int n, Json rows, std::int64_t total, int per_page = 20) {
  const std::int64_t pages = (total + per_page - 1) / per_page;
  return {
      {"page", n}, {"results", std::move(rows)}, {"total_pages", pages}, {"total_results", total}};
}
Json with_rating(Json row, double rating) {
  row["rating"] = rating;
  return row;
}

class TmdbTest : public ::testing::Test {
 protected:
  MockHost host;
  void SetUp() override {
    host.set_secret("api_key", "k3y");
    host.set_secret("session_id", "s3ss");
  }
  Json v3_config() const {
    return {{"url", "https://tmdb.test"},
            {"api_key", "${secret}"},
            {"session_id", "${secret}"},
            {"account_id", 42},
            {"external_ids", false}};
  }
  PluginInstance make(const Json& cfg) {
    return PluginInstance(cwsdk::detail::provider_table<tmdb::Tmdb>(), host, cfg);
  }
  PluginInstance make() { return make(v3_config()); }
  static Json outcome(const cwsdk::testing::CallResult& r, const std::string& key) {
    const Json doc = r.json();
    for (const auto& o : doc["outcomes"])
      if (o["key"] == key) return o;
    return Json();
  }
};

TEST_F(TmdbTest, MissingCredentialsAreAnAuthFailureNamingTheKeys) {
  auto p = make(Json{{"url", "https://tmdb.test"}, {"api_key", "${secret}"}});
  ASSERT_TRUE(p.created());
  const auto h = p.health();
  EXPECT_EQ(h.json()["status"], "auth_failed");
  EXPECT_NE(h.json()["message"].get<std::string>().find("session_id"), std::string::npos);
  EXPECT_EQ(p.build_index("watchlist").status, CW_STATUS_AUTH);
  EXPECT_TRUE(host.requests().empty());
}

TEST_F(TmdbTest, WatchlistReadsEveryPageOfBothListsWithKeyAndSession) {
  Json first = Json::array(), second = Json::array();
  for (int i = 0; i < 20; ++i) first.push_back(movie_row(100 + i, "M"));
  second.push_back(movie_row(200, "Last", "2001-01-01"));
  host.on("GET", "/3/account/42/watchlist/movies")
      .with_query("page", "1")
      .reply_json(200, page(1, first, 21));
  host.on("GET", "/3/account/42/watchlist/movies")
      .with_query("page", "2")
      .reply_json(200, page(2, second, 21));
  host.on("GET", "/3/account/42/watchlist/tv")
      .reply_json(200, page(1, Json::array({tv_row(1396, "Breaking Bad")}), 1));
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["items"].size(), 22u);
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["expected_total"], 22);
  const Json& show = doc["items"][21];
  EXPECT_EQ(show["type"], "show");
  EXPECT_EQ(show["ids"]["tmdb"], "1396");
  EXPECT_EQ(show["year"], 2008);
  EXPECT_EQ(doc["items"][20]["year"], 2001);
  ASSERT_EQ(host.requests().size(), 3u);
  for (const auto& req : host.requests()) {
    EXPECT_EQ(req.query_value("api_key"), "k3y");
    EXPECT_EQ(req.query_value("session_id"), "s3ss");
  }
  for (const auto& line : host.logs()) {
    EXPECT_EQ(line.text.find("k3y"), std::string::npos);
    EXPECT_EQ(line.text.find("s3ss"), std::string::npos);
  }
}

TEST_F(TmdbTest, ListedItemsGetImdbAndTvdbIdsAskedOnceAndCached) {
  host.on("GET", "/3/account/42/watchlist/movies")
      .reply_json(200,
                  page(1, Json::array({movie_row(603, "The Matrix"), movie_row(604, "B")}), 2));
  host.on("GET", "/3/account/42/watchlist/tv")
      .reply_json(200, page(1, Json::array({tv_row(1396, "Breaking Bad")}), 1));
  host.on("GET", "/3/movie/603/external_ids")
      .reply_json(200, {{"id", 603}, {"imdb_id", "tt0133093"}});
  host.on("GET", "/3/movie/604/external_ids")
      .reply_json(404, tmdb_error(34, "The resource you requested could not be found."));
  host.on("GET", "/3/tv/1396/external_ids")
      .reply_json(200, {{"id", 1396}, {"imdb_id", "tt0903747"}, {"tvdb_id", 81189}});
  Json cfg = v3_config();
  cfg.erase("external_ids");  // on by default
  auto p = make(cfg);
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  Json doc = r.json();
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["items"][0]["ids"]["imdb"], "tt0133093");
  EXPECT_FALSE(doc["items"][1]["ids"].contains("imdb"));
  EXPECT_EQ(doc["items"][2]["ids"]["tvdb"], "81189");
  EXPECT_EQ(host.requests().size(), 5u);
  ASSERT_TRUE(host.kv("external_ids").has_value());

  // A new instance (the next run) asks nothing more: the store answers, 404s included.
  auto p2 = make(cfg);
  r = p2.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.json()["items"][2]["ids"]["imdb"], "tt0903747");
  EXPECT_EQ(host.requests().size(), 7u);  // the two list pages only

  // After 30 days the answers are asked again.
  host.advance_ms(31LL * 24 * 3600 * 1000);
  auto p3 = make(cfg);
  ASSERT_EQ(p3.build_index("watchlist").status, CW_STATUS_OK);
  EXPECT_EQ(host.requests().size(), 12u);
}

TEST_F(TmdbTest, AFailedIdLookupKeepsTheItemAndStopsAsking) {
  host.on("GET", "/3/account/42/watchlist/movies")
      .reply_json(200, page(1, Json::array({movie_row(1, "A"), movie_row(2, "B")}), 2));
  host.on("GET", "/3/account/42/watchlist/tv").reply_json(200, page(1, Json::array(), 0));
  host.on("GET", "/3/movie/*/external_ids")
      .reply_json(429, tmdb_error(25, "over the limit"), {{"Retry-After", "9"}});
  Json cfg = v3_config();
  cfg["external_ids"] = true;
  auto p = make(cfg);
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["items"].size(), 2u);
  EXPECT_EQ(r.json()["complete"], true);  // the items are all there, with their tmdb ids
  EXPECT_EQ(host.requests().size(), 3u);  // one lookup, then no more this read
  EXPECT_FALSE(host.kv("external_ids").has_value());
}

TEST_F(TmdbTest, ASilentlyCappedListIsNotComplete) {
  // total_results says 3 but the only page holds 2.
  host.on("GET", "/3/account/42/watchlist/movies")
      .reply_json(200, {{"page", 1},
                        {"results", Json::array({movie_row(1, "A"), movie_row(2, "B")})},
                        {"total_pages", 1},
                        {"total_results", 3}});
  host.on("GET", "/3/account/42/watchlist/tv").reply_json(200, page(1, Json::array(), 0));
  auto p = make();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 2u);
}

TEST_F(TmdbTest, AFailedSecondListLeavesAnIncompleteIndex) {
  host.on("GET", "/3/account/42/rated/movies")
      .reply_json(200, page(1, Json::array({with_rating(movie_row(1, "A"), 7.5)}), 1));
  host.on("GET", "/3/account/42/rated/tv")
      .reply_json(503, tmdb_error(9, "Service offline: try again later."));
  auto p = make();
  const auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 1u);
}

TEST_F(TmdbTest, RatingsKeepHalvesAndLeaveOutBadRows) {
  host.on("GET", "/3/account/42/rated/movies")
      .reply_json(200, page(1,
                            Json::array({with_rating(movie_row(1, "A"), 7.5),
                                         with_rating(movie_row(2, "B"), 10),
                                         with_rating(movie_row(3, "C"), 11),  // out of range
                                         movie_row(4, "D"),                   // no rating
                                         Json{{"id", nullptr}, {"rating", 5}}}),
                            5));
  host.on("GET", "/3/account/42/rated/tv")
      .reply_json(200, page(1, Json::array({with_rating(tv_row(5, "S"), 0.5)}), 1));
  auto p = make();
  const auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  ASSERT_EQ(doc["items"].size(), 3u);
  EXPECT_DOUBLE_EQ(doc["items"][0]["rating"].get<double>(), 7.5);
  EXPECT_EQ(doc["items"][1]["rating"], 10);
  EXPECT_DOUBLE_EQ(doc["items"][2]["rating"].get<double>(), 0.5);
  EXPECT_EQ(doc["complete"], false);  // three rows were left out
}

TEST_F(TmdbTest, MalformedAndUnauthorisedReadsAreClearFailures) {
  host.on("GET", "/3/account/42/watchlist/movies").reply(200, "{\"page\":1,\"resu");
  auto p = make();
  auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_INTERNAL);
  EXPECT_NE(r.message().find("watchlist"), std::string::npos);

  MockHost h2;
  h2.set_secret("api_key", "k");
  h2.set_secret("session_id", "s");
  h2.on("GET", "/3/account/42/watchlist/movies")
      .reply_json(401, tmdb_error(3, "Authentication failed"));
  PluginInstance p2(cwsdk::detail::provider_table<tmdb::Tmdb>(), h2, v3_config());
  r = p2.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_AUTH);
  EXPECT_NE(r.message().find("Authentication failed"), std::string::npos);
}

TEST_F(TmdbTest, MalformedRequestsAreInvalidArg) {
  auto p = make();
  EXPECT_EQ(p.call_raw("build_index", "[1]").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call_raw("add", "{\"feature\":\"watchlist\",\"items\":3}").status,
            CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call_raw("resolve_ids", "{}").status, CW_STATUS_INVALID_ARG);
  EXPECT_NE(p.build_index("history").status, CW_STATUS_OK);
}

TEST_F(TmdbTest, WatchlistWritesFollowTmdbStatusCodes) {
  host.on("POST", "/3/account/42/watchlist").handle([](const RecordedRequest& r) {
    const Json b = r.json_body();
    const auto id = b["media_id"].get<std::int64_t>();
    if (id == 603) return MockReply::json(201, tmdb_ok(1));
    if (id == 604) return MockReply::json(201, tmdb_ok(12));
    if (id == 1396) return MockReply::json(201, tmdb_ok(1));
    return MockReply::json(404, tmdb_error(34, "The resource you requested could not be found."));
  });
  host.on("GET", "/3/find/tt0903747")
      .reply_json(200, {{"movie_results", Json::array()},
                        {"tv_results", Json::array({tv_row(1396, "Breaking Bad")})}});
  host.on("GET", "/3/find/tt0000001")
      .reply_json(200, {{"movie_results", Json::array()}, {"tv_results", Json::array()}});
  auto p = make();
  const auto r =
      p.add("watchlist", Json::array({
                             {{"key", "a"}, {"type", "movie"}, {"ids", {{"tmdb", "603"}}}},
                             {{"key", "b"}, {"type", "movie"}, {"ids", {{"tmdb", "604"}}}},
                             {{"key", "c"}, {"type", "movie"}, {"ids", {{"tmdb", "9"}}}},
                             {{"key", "d"}, {"type", "show"}, {"ids", {{"imdb", "tt0903747"}}}},
                             {{"key", "e"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}},
                         }));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(outcome(r, "a")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "b")["status"], "skipped");
  EXPECT_EQ(outcome(r, "c")["reason"], "not_found");
  EXPECT_EQ(outcome(r, "d")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "e")["reason"], "not_found");
  // The bodies are TMDb's and the writes are safe to repeat.
  for (const auto& req : host.requests()) {
    if (req.method != "POST") continue;
    const Json b = req.json_body();
    EXPECT_EQ(b["watchlist"], true);
    EXPECT_TRUE(req.retry_safe);
    EXPECT_EQ(req.query_value("session_id"), "s3ss");
  }
  const auto show_req = host.requests();
  bool saw_tv = false;
  for (const auto& req : show_req)
    if (req.method == "POST" && req.json_body()["media_type"] == "tv") saw_tv = true;
  EXPECT_TRUE(saw_tv);
}

TEST_F(TmdbTest, AWholeRequestFailureConfirmsNothingAndLaterOnesLeaveTheRestUnresolved) {
  host.on("POST", "/3/account/42/watchlist")
      .reply_json(201, tmdb_ok(1))
      .times(1)
      .reply_json(429, tmdb_error(25, "over the limit"), {{"Retry-After", "5"}});
  auto p = make();
  const Json items = Json::array({{{"key", "a"}, {"type", "movie"}, {"ids", {{"tmdb", "1"}}}},
                                  {{"key", "b"}, {"type", "movie"}, {"ids", {{"tmdb", "2"}}}},
                                  {{"key", "c"}, {"type", "movie"}, {"ids", {{"tmdb", "3"}}}}});
  const auto r = p.remove("watchlist", items);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(outcome(r, "a")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "b")["reason"], "rate_limited");
  EXPECT_EQ(outcome(r, "c")["reason"], "rate_limited");

  MockHost h2;
  h2.set_secret("api_key", "k");
  h2.set_secret("session_id", "s");
  h2.on("POST", "/3/account/42/watchlist").reply_json(401, tmdb_error(3, "Authentication failed"));
  PluginInstance p2(cwsdk::detail::provider_table<tmdb::Tmdb>(), h2, v3_config());
  EXPECT_EQ(p2.add("watchlist", items).status, CW_STATUS_AUTH);
  EXPECT_EQ(h2.requests().size(), 1u);  // nothing more was sent
}

TEST_F(TmdbTest, RatingWritesSendTheHalfStepValueAndDeletesOfUnratedAreSkipped) {
  host.on("POST", "/3/movie/603/rating").reply_json(201, tmdb_ok(1));
  host.on("POST", "/3/tv/1396/rating").reply_json(201, tmdb_ok(12));
  host.on("POST", "/3/movie/7/rating")
      .reply_json(400, tmdb_error(18, "Value too low: Value must be greater than 0.0."));
  host.on("DELETE", "/3/movie/603/rating").reply_json(200, tmdb_ok(13));
  host.on("DELETE", "/3/movie/604/rating")
      .reply_json(404, tmdb_error(34, "The resource you requested could not be found."));
  auto p = make();
  auto r = p.add(
      "ratings",
      Json::array({{{"key", "a"}, {"type", "movie"}, {"rating", 7.5}, {"ids", {{"tmdb", "603"}}}},
                   {{"key", "b"}, {"type", "show"}, {"rating", 8}, {"ids", {{"tmdb", "1396"}}}},
                   {{"key", "c"}, {"type", "movie"}, {"rating", 3}, {"ids", {{"tmdb", "7"}}}},
                   {{"key", "d"}, {"type", "movie"}, {"ids", {{"tmdb", "8"}}}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(outcome(r, "a")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "b")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "c")["reason"], "rejected");
  EXPECT_EQ(outcome(r, "d")["reason"], "rejected");  // no rating to write
  EXPECT_DOUBLE_EQ(host.requests()[0].json_body()["value"].get<double>(), 7.5);
  EXPECT_EQ(host.requests()[1].json_body()["value"], 8);

  r = p.update(
      "ratings",
      Json::array(
          {{{"key", "u"}, {"type", "movie"}, {"rating", 7.3}, {"ids", {{"tmdb", "603"}}}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_DOUBLE_EQ(host.requests().back().json_body()["value"].get<double>(), 7.5);

  r = p.remove("ratings",
               Json::array({{{"key", "x"}, {"type", "movie"}, {"ids", {{"tmdb", "603"}}}},
                            {{"key", "y"}, {"type", "movie"}, {"ids", {{"tmdb", "604"}}}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(outcome(r, "x")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "y")["status"], "skipped");
}

TEST_F(TmdbTest, ADryRunReadsButWritesNothing) {
  host.set_dry_run(true);
  host.on("GET", "/3/account/42/watchlist/*").reply_json(200, page(1, Json::array(), 0));
  host.on("GET", "/3/find/tt1")
      .reply_json(200, {{"movie_results", Json::array({movie_row(5, "A")})},
                        {"tv_results", Json::array()}});
  auto p = make();
  ASSERT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  const auto r = p.add(
      "watchlist", Json::array({{{"key", "a"}, {"type", "movie"}, {"ids", {{"imdb", "tt1"}}}}}));
  EXPECT_EQ(r.status, CW_STATUS_UNSUPPORTED);  // the host refused the POST: nothing confirmed
}

TEST_F(TmdbTest, V4TokenUsesBearerAndMakesOneSessionAndFindsTheAccount) {
  MockHost h;
  h.set_secret("access_token", "v4tok");
  h.on("POST", "/3/authentication/session/convert/4")
      .reply_json(200, {{"success", true}, {"session_id", "conv-sess"}});
  h.on("GET", "/3/account").reply_json(200, {{"id", 77}, {"username", "alice"}});
  h.on("GET", "/3/account/77/watchlist/*").reply_json(200, page(1, Json::array(), 0));
  PluginInstance p(cwsdk::detail::provider_table<tmdb::Tmdb>(), h,
                   {{"url", "https://tmdb.test/3"}, {"access_token", "${secret}"}});
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto health = p.health();
  ASSERT_EQ(health.status, CW_STATUS_OK);
  EXPECT_EQ(health.json()["status"], "ok");
  EXPECT_NE(health.json()["message"].get<std::string>().find("alice"), std::string::npos);
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], true);
  const auto reqs = h.requests();
  ASSERT_EQ(reqs.size(), 4u);  // convert, account, two lists
  EXPECT_TRUE(reqs[0].read);   // sent in dry runs too
  for (const auto& req : reqs) {
    EXPECT_EQ(req.header("authorization"), "Bearer v4tok");
    EXPECT_FALSE(req.query_value("api_key").has_value());
  }
  EXPECT_EQ(reqs[1].query_value("session_id"), "conv-sess");
  EXPECT_EQ(reqs[2].url, "https://tmdb.test/3/account/77/watchlist/movies");
}

TEST_F(TmdbTest, HealthReportsAuthFailures) {
  host.on("GET", "/3/account").reply_json(401, tmdb_error(3, "Authentication failed"));
  auto p = make();
  const auto r = p.health();
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.json()["status"], "auth_failed");
}

TEST_F(TmdbTest, ResolveIdsMapsEveryKnownIdAndSaysWhatItDoesNotKnow) {
  host.on("GET", "/3/movie/603/external_ids")
      .reply_json(200, {{"id", 603}, {"imdb_id", "tt0133093"}, {"wikidata_id", nullptr}});
  host.on("GET", "/3/find/tt0903747")
      .reply_json(200, {{"movie_results", Json::array()},
                        {"tv_results", Json::array({tv_row(1396, "Breaking Bad")})}});
  host.on("GET", "/3/tv/1396/external_ids")
      .reply_json(200, {{"id", 1396}, {"imdb_id", "tt0903747"}, {"tvdb_id", 81189}});
  host.on("GET", "/3/find/tt9999999")
      .reply_json(200, {{"movie_results", Json::array()}, {"tv_results", Json::array()}});
  auto p = make();
  const auto r = p.call(
      "resolve_ids",
      {{"items", Json::array({{{"key", "k1"}, {"type", "movie"}, {"ids", {{"tmdb", "603"}}}},
                              {{"key", "k2"}, {"type", "show"}, {"ids", {{"imdb", "tt0903747"}}}},
                              {{"key", "k3"}, {"type", "movie"}, {"ids", {{"imdb", "tt9999999"}}}},
                              {{"key", "k4"}, {"type", "movie"}, {"title", "No ids"}}})}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  std::map<std::string, Json> by_key;
  const Json doc = r.json();
  for (const auto& res : doc["results"]) by_key[res["key"]] = res;
  EXPECT_EQ(by_key["k1"]["ids"]["imdb"], "tt0133093");
  EXPECT_EQ(by_key["k1"]["ids"]["tmdb"], "603");
  EXPECT_EQ(by_key["k2"]["ids"]["tmdb"], "1396");
  EXPECT_EQ(by_key["k2"]["ids"]["tvdb"], "81189");
  EXPECT_TRUE(by_key["k3"]["ids"].empty());
  EXPECT_TRUE(by_key["k4"]["ids"].empty());
  // None of these needs the session.
  for (const auto& req : host.requests()) EXPECT_FALSE(req.query_value("session_id").has_value());
}

TEST_F(TmdbTest, ResolveIdsFailsTheCallOnAnOutageAndNeverCachesOneAsUnknown) {
  host.on("GET", "/3/movie/1/external_ids").reply_json(200, {{"id", 1}, {"imdb_id", "tt1"}});
  host.on("GET", "/3/movie/2/external_ids").reply_json(503, tmdb_error(9, "offline"));
  auto p = make();
  auto r = p.call(
      "resolve_ids",
      {{"items", Json::array({{{"key", "k2"}, {"type", "movie"}, {"ids", {{"tmdb", "2"}}}}})}});
  EXPECT_EQ(r.status, CW_STATUS_TRANSIENT);
  r = p.call(
      "resolve_ids",
      {{"items", Json::array({{{"key", "k1"}, {"type", "movie"}, {"ids", {{"tmdb", "1"}}}},
                              {{"key", "k2"}, {"type", "movie"}, {"ids", {{"tmdb", "2"}}}}})}});
  ASSERT_EQ(r.status, CW_STATUS_OK);
  const Json res = r.json()["results"];
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[1]["ttl_s"], 0);  // asked again next run
}

}  // namespace
