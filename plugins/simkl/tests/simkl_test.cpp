// SIMKL provider tests on the SDK's mock host: identification and token on every request,
// full and delta reads gated on /sync/activities (removals in `removed`), honest
// completeness, exact write outcomes, PIN login.
#include "simkl.hpp"

#include <string>

#include <gtest/gtest.h>

#include <cwsdk/testing/mock_host.hpp>

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::PluginInstance;
using cwsdk::testing::RecordedRequest;

namespace {

Json acts(const std::string& all, const std::string& removed = "2024-01-01T00:00:00Z",
          const std::string& rated = "2024-01-01T00:00:00Z") {
  Json section = {
      {"all", all}, {"rated_at", rated}, {"plantowatch", all}, {"removed_from_list", removed}};
  return {{"all", all}, {"movies", section}, {"tv_shows", section}, {"anime", section}};
}

Json movie_row(int simkl, const char* imdb, const char* title, const char* status,
               const char* watched = nullptr) {
  return {
      {"status", status},
      {"last_watched_at", watched ? Json(watched) : Json()},
      {"movie", {{"title", title}, {"year", 2000}, {"ids", {{"simkl", simkl}, {"imdb", imdb}}}}}};
}

Json show_row(int simkl, const char* title, const char* status, Json seasons = Json()) {
  Json r = {{"status", status},
            {"show",
             {{"title", title},
              {"year", 2010},
              {"ids", {{"simkl", simkl}, {"tvdb", std::to_string(simkl + 1000)}}}}}};
  if (!seasons.is_null()) r["seasons"] = seasons;
  return r;
}

class SimklTest : public ::testing::Test {
 protected:
  MockHost host;
  void SetUp() override { host.set_secret("access_token", "tok-123"); }
  PluginInstance make() {
    return PluginInstance(cwsdk::detail::provider_table<simkl::Simkl>(), host,
                          {{"url", "https://api.simkl.test/"},
                           {"client_id", "cid-1"},
                           {"access_token", "${secret}"}});
  }
  static int count(const MockHost& h, const std::string& path) {
    int n = 0;
    for (const auto& r : h.requests()) n += r.path == path ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_F(SimklTest, FirstReadIsFullAndIdentifiesTheApp) {
  host.on("GET", "/sync/activities").reply_json(200, acts("2024-02-01T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies",
                         {movie_row(1, "tt0000001", "A", "plantowatch"),
                          movie_row(2, "tt0000002", "B", "completed", "2024-01-05T00:00:00Z")}},
                        {"shows", {show_row(10, "S", "plantowatch")}}});
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["semantics"], "present");
  EXPECT_EQ(doc["complete"], true);
  ASSERT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["items"][0]["ids"]["imdb"], "tt0000001");
  EXPECT_EQ(doc["items"][1]["type"], "show");
  EXPECT_TRUE(doc["watermark"].is_string());
  for (const auto& req : host.requests()) {
    EXPECT_EQ(req.header("simkl-api-key"), "cid-1");
    EXPECT_EQ(req.header("Authorization"), "Bearer tok-123");
    EXPECT_EQ(req.query_value("client_id"), "cid-1");
    EXPECT_EQ(req.query_value("app-name"), "cw");
  }
  EXPECT_TRUE(host.kv("index:watchlist").has_value());
  for (const auto& line : host.logs()) EXPECT_EQ(line.text.find("tok-123"), std::string::npos);
}

TEST_F(SimklTest, UnchangedActivitiesGiveAnEmptyDeltaWithoutReadingTheLibrary) {
  host.on("GET", "/sync/activities").reply_json(200, acts("2024-02-01T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies", {movie_row(1, "tt0000001", "A", "plantowatch")}}});
  auto p = make();
  const Json wm = p.build_index("watchlist").json()["watermark"];
  const auto r = p.build_index("watchlist", wm);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["semantics"], "delta");
  EXPECT_EQ(r.json()["items"].size(), 1u);  // the stored inventory
  EXPECT_FALSE(r.json().contains("removed"));
  EXPECT_EQ(r.json()["watermark"], wm);
  EXPECT_EQ(count(host, "/sync/all-items"), 1);
}

TEST_F(SimklTest, ADeltaReadsSinceTheLastStampAndReportsWhatLeftPlanToWatch) {
  host.on("GET", "/sync/activities")
      .reply_json(200, acts("2024-02-01T00:00:00Z"))
      .reply_json(200, acts("2024-02-02T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .when([](const RecordedRequest& r) { return !r.query_value("date_from"); })
      .reply_json(200, {{"movies",
                         {movie_row(1, "tt0000001", "A", "plantowatch"),
                          movie_row(2, "tt0000002", "B", "plantowatch")}}});
  host.on("GET", "/sync/all-items")
      .with_query("date_from", "2024-02-01T00:00:00Z")
      .reply_json(200, {{"movies",
                         {movie_row(2, "tt0000002", "B", "completed", "2024-02-01T10:00:00Z"),
                          movie_row(3, "tt0000003", "C", "plantowatch")}}});
  auto p = make();
  const Json wm = p.build_index("watchlist").json()["watermark"];
  const auto r = p.build_index("watchlist", wm);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["semantics"], "delta");
  // The delta carries the inventory with the changes applied: A and C; B left.
  ASSERT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["items"][0]["ids"]["imdb"], "tt0000001");
  EXPECT_EQ(doc["items"][1]["ids"]["imdb"], "tt0000003");
  ASSERT_EQ(doc["removed"].size(), 1u);
  EXPECT_EQ(doc["removed"][0]["ids"]["imdb"], "tt0000002");
  EXPECT_NE(doc["watermark"], wm);
  // The stored index now holds A and C: the next delta removing A is proven against it.
  const Json stored = Json::parse(*host.kv("index:watchlist"));
  EXPECT_EQ(stored["titles"].size(), 2u);
}

TEST_F(SimklTest, RemovedFromListMovingForcesAFullRead) {
  host.on("GET", "/sync/activities")
      .reply_json(200, acts("2024-02-01T00:00:00Z"))
      .reply_json(200, acts("2024-02-02T00:00:00Z", "2024-02-02T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies", {movie_row(1, "tt0000001", "A", "plantowatch")}}})
      .reply(200, "null");
  auto p = make();
  const Json wm = p.build_index("watchlist").json()["watermark"];
  const auto r = p.build_index("watchlist", wm);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["semantics"], "present");
  EXPECT_EQ(r.json()["complete"], true);  // SIMKL's null: an empty library
  EXPECT_EQ(r.json()["items"].size(), 0u);
  for (const auto& req : host.requests()) EXPECT_FALSE(req.query_value("date_from"));
}

TEST_F(SimklTest, AStaleWatermarkGetsAFullRead) {
  host.on("GET", "/sync/activities").reply_json(200, acts("2024-02-01T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies", {movie_row(1, "tt1", "A", "plantowatch")}}});
  auto p = make();
  const auto r = p.build_index("watchlist", "simkl1:someone else's");
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.json()["semantics"], "present");
}

TEST_F(SimklTest, HistoryReadsPlaysAndADeltaProvesAnEpisodeRemoval) {
  const Json seasons1 =
      Json::array({{{"number", 1},
                    {"episodes",
                     {{{"number", 1}, {"watched_at", "2024-01-02T00:00:00Z"}},
                      {{"number", 2}, {"watched_at", "2024-01-03T00:00:00Z"}}}}}});
  const Json seasons2 = Json::array(
      {{{"number", 1}, {"episodes", {{{"number", 1}, {"watched_at", "2024-01-02T00:00:00Z"}}}}}});
  host.on("GET", "/sync/activities")
      .reply_json(200, acts("2024-02-01T00:00:00Z"))
      .reply_json(200, acts("2024-02-02T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .with_query("date_from", "2024-02-01T00:00:00Z")
      .reply_json(200, {{"shows", {show_row(10, "S", "watching", seasons2)}}});
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies",
                         {movie_row(2, "tt0000002", "B", "completed", "2024-01-05T00:00:00Z"),
                          movie_row(1, "tt0000001", "A", "plantowatch")}},
                        {"shows", {show_row(10, "S", "watching", seasons1)}}});
  auto p = make();
  const auto full = p.build_index("history");
  ASSERT_EQ(full.status, CW_STATUS_OK) << full.message();
  const Json doc = full.json();
  ASSERT_EQ(doc["items"].size(), 3u);
  EXPECT_EQ(doc["items"][0]["watched_at"], "2024-01-05T00:00:00Z");
  EXPECT_EQ(doc["items"][1]["type"], "episode");
  EXPECT_EQ(doc["items"][1]["show"]["ids"]["simkl"], "10");
  EXPECT_EQ(host.requests()[1].query_value("extended"), "full");
  EXPECT_EQ(host.requests()[1].query_value("episode_watched_at"), "yes");
  const auto delta = p.build_index("history", doc["watermark"]);
  ASSERT_EQ(delta.status, CW_STATUS_OK) << delta.message();
  EXPECT_EQ(delta.json()["items"].size(), 2u);  // movie B and episode 1 remain
  ASSERT_EQ(delta.json()["removed"].size(), 1u);
  EXPECT_EQ(delta.json()["removed"][0]["episode"], 2);
}

TEST_F(SimklTest, RatingsAreOnTheTenPointScaleAndRatedAtForcesAFullRead) {
  Json rated = movie_row(1, "tt0000001", "A", "completed");
  rated["user_rating"] = 8;
  rated["user_rated_at"] = "2024-01-09T00:00:00Z";
  host.on("GET", "/sync/activities")
      .reply_json(200, acts("2024-02-01T00:00:00Z"))
      .reply_json(200,
                  acts("2024-02-02T00:00:00Z", "2024-01-01T00:00:00Z", "2024-02-02T00:00:00Z"));
  host.on("GET", "/sync/ratings/movies/*").reply_json(200, {{"movies", {rated}}});
  host.on("GET", "/sync/ratings/**").reply_json(200, Json::object());
  auto p = make();
  const auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  ASSERT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["rating"], 8);
  EXPECT_EQ(r.json()["items"][0]["rated_at"], "2024-01-09T00:00:00Z");
  const auto again = p.build_index("ratings", r.json()["watermark"]);
  EXPECT_EQ(again.json()["semantics"], "present");
}

TEST_F(SimklTest, AMalformedRowMakesTheIndexIncompleteAndKeepsNoState) {
  host.on("GET", "/sync/activities").reply_json(200, acts("2024-02-01T00:00:00Z"));
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies",
                         {movie_row(1, "tt1", "A", "plantowatch"),
                          "oops",
                          {{"status", "plantowatch"}, {"movie", nullptr}}}}});
  auto p = make();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 1u);
  EXPECT_TRUE(r.json()["watermark"].is_null());
  EXPECT_FALSE(host.kv("index:watchlist").has_value());
}

TEST_F(SimklTest, FailuresMapToStatuses) {
  host.on("GET", "/sync/activities").reply(401, R"({"error":"user_token_failed","code":401})");
  auto p = make();
  EXPECT_EQ(p.build_index("watchlist").status, CW_STATUS_AUTH);
  MockHost h2;
  h2.on("GET", "/sync/activities").reply_json(200, acts("2024-02-01T00:00:00Z"));
  h2.on("GET", "/sync/all-items").reply(503, "");
  PluginInstance p2(cwsdk::detail::provider_table<simkl::Simkl>(), h2, {{"client_id", "c"}});
  EXPECT_EQ(p2.build_index("watchlist").status, CW_STATUS_AUTH);  // no token at all
  h2.set_secret("token", "pin-token");
  EXPECT_EQ(p2.build_index("watchlist").status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(p2.call_raw("build_index", "{nope").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p2.build_index("progress").status, CW_STATUS_UNSUPPORTED);
}

TEST_F(SimklTest, WatchlistAddMapsEchoedListsToOutcomes) {
  host.on("POST", "/sync/add-to-list")
      .reply_json(
          201, {{"added",
                 {{"movies",
                   {{{"to", "plantowatch"}, {"ids", {{"imdb", "tt0000001"}}}, {"type", "movie"}}}},
                  {"shows", Json::array()}}},
                {"not_found",
                 {{"movies", {{{"to", "plantowatch"}, {"ids", {{"imdb", "tt0000009"}}}}}},
                  {"shows", Json::array()}}}});
  auto p = make();
  const auto r =
      p.add("watchlist", {{{"key", "a"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}},
                          {{"key", "b"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000009"}}}},
                          {{"key", "c"}, {"type", "show"}, {"ids", {{"tvdb", "77"}}}},
                          {{"key", "d"}, {"type", "movie"}, {"title", "no ids"}}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  std::map<std::string, Json> by;
  const Json reply = r.json();
  for (const auto& o : reply["outcomes"]) by[o["key"]] = o;
  EXPECT_EQ(by["a"]["status"], "confirmed");
  EXPECT_EQ(by["b"]["reason"], "not_found");
  EXPECT_EQ(by["c"]["reason"], "unknown");  // not in the reply: proves nothing
  EXPECT_EQ(by["d"]["reason"], "not_found");
  const Json body = host.requests()[0].json_body();
  EXPECT_EQ(body["movies"][0]["to"], "plantowatch");
  EXPECT_EQ(body["shows"][0]["ids"]["tvdb"], 77);
}

TEST_F(SimklTest, WatchlistRemoveTouchesOnlyTitlesStillInPlanToWatch) {
  host.on("GET", "/sync/all-items")
      .reply_json(200, {{"movies",
                         {movie_row(1, "tt0000001", "A", "plantowatch"),
                          movie_row(2, "tt0000002", "B", "completed")}}});
  host.on("POST", "/sync/history/remove")
      .reply_json(201, {{"deleted", {{"movies", 1}, {"shows", 0}}},
                        {"not_found", {{"movies", Json::array()}}}});
  auto p = make();
  const auto r =
      p.remove("watchlist", {{{"key", "a"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}},
                             {{"key", "b"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000002"}}}},
                             {{"key", "c"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000003"}}}}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  std::map<std::string, Json> by;
  const Json reply = r.json();
  for (const auto& o : reply["outcomes"]) by[o["key"]] = o;
  EXPECT_EQ(by["a"]["status"], "confirmed");
  EXPECT_EQ(by["b"]["status"], "skipped");
  EXPECT_EQ(by["c"]["status"], "skipped");
  const Json body = host.requests().back().json_body();
  ASSERT_EQ(body["movies"].size(), 1u);
  EXPECT_EQ(body["movies"][0]["ids"]["imdb"], "tt0000001");
}

TEST_F(SimklTest, HistoryAddGroupsEpisodesUnderTheirShowAndTrustsOnlyMatchingCounts) {
  host.on("POST", "/sync/history")
      .reply_json(
          201,
          {{"added", {{"movies", 1}, {"shows", 0}, {"episodes", 1}}},
           {"not_found",
            {{"movies", Json::array()}, {"shows", Json::array()}, {"episodes", Json::array()}}}});
  auto p = make();
  const Json show = {{"title", "S"}, {"ids", {{"tvdb", "5"}}}};
  const auto r = p.add("history", {{{"key", "m"},
                                    {"type", "movie"},
                                    {"ids", {{"imdb", "tt0000001"}}},
                                    {"watched_at", "2024-01-01T00:00:00Z"}},
                                   {{"key", "e1"},
                                    {"type", "episode"},
                                    {"show", show},
                                    {"season", 1},
                                    {"episode", 1},
                                    {"watched_at", "2024-01-01T00:00:00Z"}},
                                   {{"key", "e2"},
                                    {"type", "episode"},
                                    {"show", show},
                                    {"season", 1},
                                    {"episode", 2},
                                    {"watched_at", "2024-01-02T00:00:00Z"}}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  std::map<std::string, Json> by;
  const Json reply = r.json();
  for (const auto& o : reply["outcomes"]) by[o["key"]] = o;
  EXPECT_EQ(by["m"]["status"], "confirmed");
  EXPECT_EQ(by["e1"]["reason"], "unknown");  // 1 episode counted for 2 sent
  EXPECT_EQ(by["e2"]["reason"], "unknown");
  const Json body = host.requests()[0].json_body();
  ASSERT_EQ(body["shows"].size(), 1u);
  EXPECT_EQ(body["shows"][0]["seasons"][0]["episodes"].size(), 2u);
  EXPECT_EQ(body["movies"][0]["watched_at"], "2024-01-01T00:00:00Z");
}

TEST_F(SimklTest, HistoryRemoveNamesEpisodesAndNotFoundShows) {
  host.on("POST", "/sync/history/remove")
      .reply_json(
          200, {{"deleted", {{"movies", 0}, {"shows", 0}, {"episodes", 1}}},
                {"not_found", {{"movies", Json::array()}, {"shows", {{{"ids", {{"tvdb", 6}}}}}}}}});
  auto p = make();
  const auto r = p.remove("history", {{{"key", "e1"},
                                       {"type", "episode"},
                                       {"show", {{"ids", {{"tvdb", "5"}}}}},
                                       {"season", 1},
                                       {"episode", 1}},
                                      {{"key", "e2"},
                                       {"type", "episode"},
                                       {"show", {{"ids", {{"tvdb", "6"}}}}},
                                       {"season", 1},
                                       {"episode", 1}}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  std::map<std::string, Json> by;
  const Json reply = r.json();
  for (const auto& o : reply["outcomes"]) by[o["key"]] = o;
  EXPECT_EQ(by["e1"]["status"], "confirmed");
  EXPECT_EQ(by["e2"]["reason"], "not_found");
  // Never a show without seasons: that would remove the whole title.
  const Json sent = host.requests()[0].json_body();
  for (const auto& s : sent["shows"]) EXPECT_FALSE(s["seasons"].empty());
}

TEST_F(SimklTest, RatingsWriteRoundsToTheScaleAndAFailedPostConfirmsNothing) {
  host.on("POST", "/sync/ratings")
      .reply_json(201, {{"added", {{"movies", 1}, {"shows", 0}}},
                        {"not_found", {{"movies", Json::array()}}}})
      .reply(502, "");
  auto p = make();
  const Json items = {
      {{"key", "a"}, {"type", "movie"}, {"ids", {{"imdb", "tt0000001"}}}, {"rating", 7.5}}};
  const auto r = p.add("ratings", items);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests()[0].json_body()["movies"][0]["rating"], 8);
  EXPECT_EQ(p.update("ratings", items).status, CW_STATUS_TRANSIENT);
}

TEST_F(SimklTest, PinLoginStoresTheToken) {
  host.on("GET", "/oauth/pin")
      .reply_json(200, {{"result", "OK"},
                        {"device_code", "DEVICE_CODE"},
                        {"user_code", "ABCDE"},
                        {"verification_url", "https://simkl.com/pin"},
                        {"expires_in", 900},
                        {"interval", 5}});
  host.on("GET", "/oauth/pin/ABCDE")
      .reply_json(200, {{"result", "KO"}, {"message", "Authorization pending"}})
      .reply_json(200, {{"result", "OK"}, {"access_token", "new-token"}});
  MockHost& h = host;
  PluginInstance p(cwsdk::detail::provider_table<simkl::Simkl>(), h, {{"client_id", "cid-1"}});
  const auto start = p.call("auth_start", {{"fields", Json::object()}});
  ASSERT_EQ(start.status, CW_STATUS_OK) << start.message();
  EXPECT_EQ(start.json()["user_code"], "ABCDE");
  EXPECT_EQ(start.json()["kind"], "pin");
  EXPECT_EQ(p.call("auth_poll", Json::object()).json()["state"], "pending");
  EXPECT_EQ(p.call("auth_poll", Json::object()).json()["state"], "done");
  EXPECT_EQ(host.secret("token"), "new-token");
  EXPECT_EQ(host.requests()[1].query_value("client_id"), "cid-1");
}

// Scrobbling: the host's watched decision is what SIMKL records; its 409 (completed within
// the hour) is the play already there; an episode goes by its show's ids.
TEST_F(SimklTest, ScrobbleFollowsTheHostsDecisionAndReadsA409AsThePlay) {
  // The first stop makes the play; any later one is refused as a duplicate.
  host.on("POST", "/scrobble/stop")
      .reply_json(201, {{"id", 5}, {"action", "scrobble"}})
      .reply_json(409, {{"watched_at", "2024-01-15T10:30:00.000Z"},
                        {"expires_at", "2024-01-15T11:30:00.000Z"}});
  host.on("POST", "/scrobble/pause").reply_json(201, {{"id", 6}, {"action", "pause"}});
  auto p = make();
  const Json movie = {{"type", "movie"}, {"title", "Heat"}, {"ids", {{"imdb", "tt0113277"}}}};
  auto r =
      p.call("scrobble", {{"event", "stop"}, {"item", movie}, {"progress", 70}, {"watched", true}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["recorded"], "play");
  r = p.call("scrobble",
             {{"event", "stop"}, {"item", movie}, {"progress", 90}, {"watched", false}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["recorded"], "progress");
  EXPECT_EQ(count(host, "/scrobble/stop"), 1);
  for (const auto& req : host.requests()) {
    if (req.path == "/scrobble/stop") {
      EXPECT_DOUBLE_EQ(req.json_body()["progress"].get<double>(), 80.0);
      EXPECT_EQ(req.json_body()["movie"]["ids"]["imdb"], "tt0113277");
    }
    if (req.path == "/scrobble/pause") {
      EXPECT_LT(req.json_body()["progress"].get<double>(), 80.0);
    }
  }

  const Json episode = {{"type", "episode"},
                        {"show", {{"title", "Lost"}, {"ids", {{"tvdb", "73739"}}}}},
                        {"season", 1},
                        {"episode", 2}};
  r = p.call("scrobble",
             {{"event", "stop"}, {"item", episode}, {"progress", 95}, {"watched", true}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "skipped");
  EXPECT_EQ(r.json()["recorded"], "play");
  const Json no_show = {
      {"type", "episode"}, {"ids", {{"tvdb", "1"}}}, {"season", 1}, {"episode", 2}};
  r = p.call("scrobble", {{"event", "start"}, {"item", no_show}, {"progress", 0}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["status"], "unresolved");
}
