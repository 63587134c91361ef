// MDBList provider tests on the SDK's mock host: the key on every request, offset paging
// with honest completeness, the daily quota, counts that never vouch for unnamed items,
// plays removed by id.
#include "mdblist.hpp"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/testing/mock_host.hpp>

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::PluginInstance;
using cwsdk::testing::RecordedRequest;

namespace {

Json wl_movie(int tmdb, const char* imdb, const char* title) {
  return {{"id", tmdb},      {"title", title},       {"release_year", 1999},
          {"imdb_id", imdb}, {"mediatype", "movie"}, {"ids", {{"imdb", imdb}, {"tmdb", tmdb}}}};
}

std::map<std::string, Json> by_key(const Json& reply) {
  std::map<std::string, Json> out;
  for (const auto& o : reply["outcomes"]) out[o["key"].get<std::string>()] = o;
  return out;
}

class MdblistTest : public ::testing::Test {
 protected:
  MockHost host;
  void SetUp() override { host.set_secret("api_key", "key-123"); }
  PluginInstance make() {
    return PluginInstance(cwsdk::detail::provider_table<mdblist::Mdblist>(), host,
                          {{"url", "https://api.mdblist.test"}, {"api_key", "${secret}"}});
  }
};

}  // namespace

TEST_F(MdblistTest, WatchlistReadsEveryPageWithTheKey) {
  host.on("GET", "/watchlist/items").handle([](const RecordedRequest& r) {
    const int offset = std::stoi(r.query_value("offset").value_or("0"));
    Json movies = Json::array();
    if (offset == 0) movies = {wl_movie(1, "tt0000001", "A"), wl_movie(2, "tt0000002", "B")};
    if (offset == 2) movies = {wl_movie(3, "tt0000003", "C")};
    return MockReply::json(
        200,
        {{"movies", movies},
         {"shows", Json::array()},
         {"pagination", {{"total_movies", 3}, {"total_shows", 0}, {"has_more", offset == 0}}}});
  });
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.call("build_index", {{"feature", "watchlist"}, {"watermark", nullptr}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["items"].size(), 3u);
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["items"][0]["ids"]["tmdb"], "1");
  for (const auto& req : host.requests()) EXPECT_EQ(req.query_value("apikey"), "key-123");
  for (const auto& line : host.logs()) EXPECT_EQ(line.text.find("key-123"), std::string::npos);
}

TEST_F(MdblistTest, AFailedOrMalformedPageNeverGivesACompleteIndex) {
  host.on("GET", "/watchlist/items")
      .with_query("offset", "0")
      .reply_json(200, {{"movies", {wl_movie(1, "tt0000001", "A"), {{"title", "no ids"}}}},
                        {"pagination", {{"has_more", true}}}});
  host.on("GET", "/watchlist/items").reply(503, "");
  auto p = make();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 1u);
}

TEST_F(MdblistTest, TheSpentDailyQuotaIsReportedAsQuota) {
  host.on("GET", "/watchlist/items")
      .reply_json(429, {{"error", "API request limit reached"}},
                  {{"X-RateLimit-Limit", "1000"},
                   {"X-RateLimit-Remaining", "0"},
                   {"Retry-After", "40000"}});
  host.on("POST", "/watchlist/items/add")
      .transport_error(CW_STATUS_RATE_LIMITED, "budget spent", 40000000);
  auto p = make();
  const auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_RATE_LIMITED);
  EXPECT_NE(r.message().find("daily API quota"), std::string::npos) << r.message();
  const auto w =
      p.add("watchlist", {{{"key", "a"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}}});
  ASSERT_EQ(w.status, CW_STATUS_OK) << w.message();
  EXPECT_EQ(w.json()["outcomes"][0]["reason"], "quota");
}

TEST_F(MdblistTest, WatchlistCountsConfirmOnlyWhenTheyAddUp) {
  host.on("POST", "/watchlist/items/add")
      .reply_json(200, {{"response", true},
                        {"added", {{"movies", 1}, {"shows", 0}}},
                        {"existing", {{"movies", 1}, {"shows", 0}}},
                        {"not_found", {{"movies", 0}, {"shows", 1}}}});
  auto p = make();
  const auto r =
      p.add("watchlist", {{{"key", "a"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}},
                          {{"key", "b"}, {"type", "movie"}, {"ids", {{"tmdb", "2"}}}},
                          {{"key", "c"}, {"type", "show"}, {"ids", {{"tmdb", "3"}}}},
                          {{"key", "d"}, {"type", "show"}, {"ids", {{"tmdb", "4"}}}}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  auto by = by_key(r.json());
  EXPECT_EQ(by["a"]["status"], "confirmed");  // 1 added + 1 existing for 2 movies
  EXPECT_EQ(by["b"]["status"], "confirmed");
  EXPECT_EQ(by["c"]["reason"], "unknown");  // one of the two shows was not found: which?
  EXPECT_EQ(by["d"]["reason"], "unknown");
  const Json body = host.requests()[0].json_body();
  EXPECT_EQ(body["movies"][0]["imdb"], "tt0000001");
  EXPECT_EQ(body["movies"][1]["tmdb"], 2);
}

TEST_F(MdblistTest, RatingsReadAndWriteOnTheTenPointScale) {
  host.on("GET", "/sync/ratings")
      .reply_json(200, {{"movies",
                         {{{"movie", {{"title", "A"}, {"ids", {{"imdb", "tt0000001"}}}}},
                           {"rating", 8},
                           {"rated_at", "2024-01-01T00:00:00Z"}}}},
                        {"episodes",
                         {{{"show", {{"title", "S"}, {"ids", {{"tvdb", 5}}}}},
                           {"episode", {{"season", 1}, {"number", 2}}},
                           {"rating", 11}}}},
                        {"pagination", {{"has_more", false}}}});
  host.on("POST", "/sync/ratings")
      .reply_json(200, {{"response", true},
                        {"added", {{"movies", 0}, {"episodes", 1}}},
                        {"updated", {{"movies", 1}}},
                        {"not_found", {{"movies", 0}, {"episodes", 0}}}});
  auto p = make();
  const auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  ASSERT_EQ(r.json()["items"].size(), 1u);  // 11 is no rating: left out
  EXPECT_EQ(r.json()["items"][0]["rating"], 8);
  EXPECT_EQ(r.json()["complete"], false);
  const auto w = p.update(
      "ratings",
      {{{"key", "m"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}, {"rating", 6.6}},
       {{"key", "e"},
        {"type", "episode"},
        {"show", {{"ids", {{"tvdb", "5"}}}}},
        {"season", 1},
        {"episode", 2},
        {"rating", 9}}});
  ASSERT_EQ(w.status, CW_STATUS_OK) << w.message();
  auto by = by_key(w.json());
  EXPECT_EQ(by["m"]["status"], "confirmed");
  EXPECT_EQ(by["e"]["status"], "confirmed");
  const Json body = host.requests().back().json_body();
  EXPECT_EQ(body["movies"][0]["rating"], 7);
  EXPECT_EQ(body["shows"][0]["seasons"][0]["episodes"][0]["rating"], 9);
  EXPECT_FALSE(body["shows"][0].contains("rating"));
}

TEST_F(MdblistTest, HistoryPlaysCarryTheirIdAndAreRemovedByIt) {
  host.on("GET", "/sync/watched")
      .reply_json(200, {{"movies",
                         {{{"id", 77},
                           {"watched_at", "2024-01-01T00:00:00Z"},
                           {"movie", {{"title", "A"}, {"ids", {{"imdb", "tt0000001"}}}}}}}},
                        {"episodes", Json::array()},
                        {"pagination", {{"has_more", false}}}});
  host.on("POST", "/sync/watched/plays/remove")
      .reply_json(200, {{"removed", {77}}, {"not_found", {78}}});
  auto p = make();
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(host.requests()[0].query_value("plays"), "all");
  ASSERT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["extra"]["play_id"], 77);
  const auto w =
      p.remove("history", {{{"key", "a"},
                            {"type", "movie"},
                            {"ids", {{"imdb", "tt0000001"}}},
                            {"extra", {{"play_id", 77}}}},
                           {{"key", "b"},
                            {"type", "movie"},
                            {"ids", {{"imdb", "tt0000001"}}},
                            {"extra", {{"play_id", 78}}}},
                           {{"key", "c"},
                            {"type", "movie"},
                            {"ids", {{"imdb", "tt0000001"}}},
                            {"watched_at", "2024-01-01T00:00:30Z"}},
                           {{"key", "d"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000099"}}}}});
  ASSERT_EQ(w.status, CW_STATUS_OK) << w.message();
  auto by = by_key(w.json());
  EXPECT_EQ(by["a"]["status"], "confirmed");
  EXPECT_EQ(by["b"]["status"], "skipped");
  // Without its play id a play is found among MDBList's plays (ids, time within 60 s).
  EXPECT_EQ(by["c"]["status"], "confirmed");
  EXPECT_EQ(by["d"]["status"], "skipped");
  const Json sent = host.requests().back().json_body();
  EXPECT_EQ(sent["play_ids"], Json::array({77, 78}));
}

TEST_F(MdblistTest, HistoryAddSendsWatchTimesAndMapsCounts) {
  host.on("POST", "/sync/watched")
      .reply_json(200, {{"response", true},
                        {"added", {{"movies", 1}, {"episodes", 1}}},
                        {"existing", {{"movies", 0}, {"episodes", 0}}},
                        {"not_found", {{"movies", 0}, {"shows", 0}}}});
  auto p = make();
  const auto w = p.add("history", {{{"key", "m"},
                                    {"type", "movie"},
                                    {"ids", {{"tmdb", "603"}}},
                                    {"watched_at", "2024-01-01T00:00:00Z"}},
                                   {{"key", "e"},
                                    {"type", "episode"},
                                    {"show", {{"ids", {{"tmdb", "1396"}}}}},
                                    {"season", 1},
                                    {"episode", 1},
                                    {"watched_at", "2024-01-02T00:00:00Z"}}});
  ASSERT_EQ(w.status, CW_STATUS_OK) << w.message();
  auto by = by_key(w.json());
  EXPECT_EQ(by["m"]["status"], "confirmed");
  EXPECT_EQ(by["e"]["status"], "confirmed");
  const Json body = host.requests()[0].json_body();
  EXPECT_EQ(body["movies"][0]["watched_at"], "2024-01-01T00:00:00Z");
  EXPECT_EQ(body["shows"][0]["seasons"][0]["episodes"][0]["watched_at"], "2024-01-02T00:00:00Z");
}

TEST_F(MdblistTest, BadRequestsAndMissingKey) {
  auto p = make();
  EXPECT_EQ(p.call_raw("build_index", "[1]").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.build_index("progress").status, CW_STATUS_UNSUPPORTED);
  MockHost bare;
  PluginInstance q(cwsdk::detail::provider_table<mdblist::Mdblist>(), bare,
                   {{"api_key", "${secret}"}});
  EXPECT_EQ(q.build_index("watchlist").status, CW_STATUS_AUTH);
  host.on("GET", "/user").reply_json(401, {{"error", "Invalid API key or token"}});
  EXPECT_EQ(p.health().json()["status"], "auth_failed");
}

// cw serve's scrobbling: the host decides what a stop is; a watched stop is a play at the
// event's time (and a resend that finds it "existing" is that play, not a second one), the
// rest keeps the resume point by imdb id.
TEST_F(MdblistTest, ScrobbleKeepsResumePointsAndMakesOnePlayPerWatchedStop) {
  host.on("POST", "/scrobble/pause").reply_json(200, {{"id", 3}, {"progress", 40}});
  int plays = 0;
  host.on("POST", "/sync/watched").handle([&](const RecordedRequest&) {
    const bool first = plays++ == 0;
    return MockReply::json(200, {{"response", true},
                                 {"added", {{"movies", first ? 1 : 0}}},
                                 {"existing", {{"movies", first ? 0 : 1}}},
                                 {"not_found", {{"movies", 0}, {"shows", 0}}}});
  });
  auto p = make();
  const Json movie = {
      {"key", "m"}, {"type", "movie"}, {"ids", {{"imdb", "tt0133093"}, {"tmdb", "603"}}}};
  auto r = p.call("scrobble", {{"event", "start"}, {"item", movie}, {"progress", 12.345}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["recorded"], "progress");
  r = p.call("scrobble",
             {{"event", "stop"}, {"item", movie}, {"progress", 60}, {"watched", false}});
  EXPECT_EQ(r.json()["recorded"], "progress");
  const Json stop = {{"event", "stop"},
                     {"item", movie},
                     {"progress", 75},
                     {"watched", true},
                     {"at", "2026-12-01T20:00:00Z"}};
  r = p.call("scrobble", stop);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "confirmed");
  EXPECT_EQ(r.json()["recorded"], "play");
  r = p.call("scrobble", stop);  // the host's resend after a lost reply
  EXPECT_EQ(r.json()["status"], "skipped");
  EXPECT_EQ(r.json()["recorded"], "play");

  std::vector<Json> pauses, watched;
  for (const auto& q : host.requests()) {
    if (q.path == "/scrobble/pause") pauses.push_back(q.json_body());
    if (q.path == "/sync/watched") watched.push_back(q.json_body());
  }
  ASSERT_EQ(pauses.size(), 2u);
  EXPECT_EQ(pauses[0]["movie"]["ids"], Json({{"imdb", "tt0133093"}}));
  EXPECT_DOUBLE_EQ(pauses[0]["progress"].get<double>(), 12.35);
  ASSERT_EQ(watched.size(), 2u);
  EXPECT_EQ(watched[0]["movies"][0]["watched_at"], "2026-12-01T20:00:00Z");
  EXPECT_EQ(watched[1], watched[0]);

  // An episode's resume point names the show's imdb id with season and episode; without an
  // imdb id there is none to keep, and a show is not scrobbled.
  const Json episode = {{"key", "e"},
                        {"type", "episode"},
                        {"show", {{"ids", {{"imdb", "tt0903747"}}}}},
                        {"season", 2},
                        {"episode", 3}};
  r = p.call("scrobble", {{"event", "pause"}, {"item", episode}, {"progress", 50}});
  EXPECT_EQ(r.json()["recorded"], "progress");
  EXPECT_EQ(host.requests().back().json_body()["show"],
            Json({{"ids", {{"imdb", "tt0903747"}}},
                  {"season", {{"number", 2}, {"episode", {{"number", 3}}}}}}));
  r = p.call("scrobble", {{"event", "pause"},
                          {"item", {{"key", "n"}, {"type", "movie"}, {"ids", {{"tmdb", "1"}}}}},
                          {"progress", 50}});
  EXPECT_EQ(r.json()["status"], "unresolved");
  EXPECT_EQ(r.json()["reason"], "not_found");
  r = p.call("scrobble", {{"event", "start"},
                          {"item", {{"key", "s"}, {"type", "show"}, {"ids", {{"imdb", "tt1"}}}}},
                          {"progress", 1}});
  EXPECT_EQ(r.json()["reason"], "rejected");
}

TEST_F(MdblistTest, ScrobbleOfAnUnknownItemIsUnresolved) {
  host.on("POST", "/scrobble/pause").reply_json(404, {{"error", "Item not found"}});
  host.on("POST", "/sync/watched")
      .reply_json(200, {{"response", true},
                        {"added", {{"movies", 0}}},
                        {"existing", {{"movies", 0}}},
                        {"not_found", {{"movies", 1}, {"shows", 0}}}});
  auto p = make();
  const Json movie = {{"key", "m"}, {"type", "movie"}, {"ids", {{"imdb", "tt9999999"}}}};
  auto r = p.call("scrobble", {{"event", "pause"}, {"item", movie}, {"progress", 30}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "unresolved");
  EXPECT_EQ(r.json()["reason"], "not_found");
  r = p.call("scrobble", {{"event", "stop"}, {"item", movie}, {"progress", 95}, {"watched", true}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "unresolved");
  EXPECT_EQ(r.json()["recorded"], "none");
}

TEST_F(MdblistTest, ScrobbleThatMdblistFailsIsAFailureTheHostRetries) {
  host.on("POST", "/scrobble/pause").reply(503, "");
  auto p = make();
  const Json movie = {{"key", "m"}, {"type", "movie"}, {"ids", {{"imdb", "tt0133093"}}}};
  auto r = p.call("scrobble", {{"event", "pause"}, {"item", movie}, {"progress", 30}});
  EXPECT_NE(r.status, CW_STATUS_OK) << r.body;
}
