// Fake Trakt: auth, paging, write bodies, history semantics, playback, OAuth, recorded replies.
#include <ctime>
#include <iomanip>
#include <sstream>

#include <gtest/gtest.h>

#include "core/generator.hpp"
#include "tests/tracker_harness.hpp"
#include "trakt/trakt_fake.hpp"

namespace cw::fakes {
namespace {

using nlohmann::json;
using testing::body_of;
using testing::Harness;

constexpr const char* k_key = "cw-sandbox-trakt-client-id";
constexpr const char* k_token = "cw-sandbox-trakt-access-token";

httplib::Headers auth(const std::string& token = k_token, const std::string& key = k_key) {
  return {{"trakt-api-key", key}, {"trakt-api-version", "2"}, {"Authorization", "Bearer " + token}};
}

json catalog() {
  json eps = json::array();
  for (int e = 1; e <= 3; ++e) {
    eps.push_back({{"season", 1},
                   {"number", e},
                   {"title", "Ep " + std::to_string(e)},
                   {"ids", {{"trakt", 7000 + e}, {"tvdb", 8000 + e}}},
                   {"runtime", 45}});
  }
  return {
      {"movies",
       json::array(
           {{{"title", "The Matrix"},
             {"year", 1999},
             {"ids",
              {{"trakt", 481}, {"slug", "the-matrix-1999"}, {"imdb", "tt0133093"}, {"tmdb", 603}}},
             {"runtime", 136}},
            {{"title", "Heat"},
             {"year", 1995},
             {"ids",
              {{"trakt", 482}, {"slug", "heat-1995"}, {"imdb", "tt0113277"}, {"tmdb", 949}}}}})},
      {"shows",
       json::array(
           {{{"title", "Show"},
             {"year", 2008},
             {"ids", {{"trakt", 1390}, {"slug", "show"}, {"tvdb", 81189}, {"tmdb", 1396}}},
             {"seasons",
              json::array({{{"number", 1}, {"ids", {{"trakt", 61430}}}, {"episodes", eps}}})}}})}};
}

class TraktTest : public ::testing::Test {
 protected:
  void SetUp() override { h.seed({{"catalog", catalog()}}); }
  Harness h{make_trakt_fake()};
};

TEST_F(TraktTest, RejectsBadKeyWith403AndBadTokenWith401) {
  auto r = h.get("/sync/last_activities", auth(k_token, "wrong-key"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = h.get("/sync/last_activities", auth("wrong-token"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(body_of(r).value("error", ""), "invalid_token");
  r = h.get("/sync/last_activities", auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(body_of(r).contains("watchlist"));
}

TEST_F(TraktTest, PostWithoutJsonContentTypeIs412) {
  auto r =
      h.client().Post("/sync/watchlist", auth(), "movies=1", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 412);
}

TEST_F(TraktTest, WatchlistAddReadRemoveWithNotFoundAndActivities) {
  const json before = body_of(h.get("/sync/last_activities", auth()));
  json body = {{"movies", json::array({{{"ids", {{"imdb", "tt0133093"}}}},
                                       {{"ids", {{"imdb", "tt9999999"}}}}})},
               {"shows", json::array({{{"ids", {{"tvdb", 81189}}}}})},
               {"episodes", json::array({{{"ids", {{"trakt", 7002}}}}})}};
  auto r = h.post("/sync/watchlist", body, auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  json out = body_of(r);
  EXPECT_EQ(out["added"], (json{{"movies", 1}, {"shows", 1}, {"seasons", 0}, {"episodes", 1}}));
  EXPECT_EQ(out["not_found"]["movies"], json::array({{{"ids", {{"imdb", "tt9999999"}}}}}));
  EXPECT_EQ(out["list"]["item_count"], 3);

  r = h.post("/sync/watchlist", {{"movies", json::array({{{"ids", {{"tmdb", 603}}}}})}}, auth());
  EXPECT_EQ(body_of(r)["existing"]["movies"], 1);

  r = h.get("/sync/watchlist", auth());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json rows = body_of(r);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["type"], "movie");
  EXPECT_EQ(rows[0]["movie"]["ids"]["trakt"], 481);
  EXPECT_FALSE(rows[0]["movie"].contains("runtime")) << "runtime is extended=full only";
  EXPECT_EQ(rows[2]["type"], "episode");
  EXPECT_EQ(rows[2]["show"]["ids"]["trakt"], 1390);
  EXPECT_EQ(r->get_header_value("X-Pagination-Item-Count"), "3");

  const json after = body_of(h.get("/sync/last_activities", auth()));
  EXPECT_GT(after["watchlist"]["updated_at"].get<std::string>(),
            before["watchlist"]["updated_at"].get<std::string>());
  EXPECT_GT(after["movies"]["watchlisted_at"].get<std::string>(),
            before["movies"]["watchlisted_at"].get<std::string>());

  r = h.post("/sync/watchlist/remove",
             {{"movies", json::array({{{"ids", {{"slug", "the-matrix-1999"}}}}})}}, auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["deleted"]["movies"], 1);
  EXPECT_EQ(body_of(h.get("/sync/watchlist/movies", auth())).size(), 0u);
}

TEST_F(TraktTest, UnpagedReadsStopAt100AndLimitIsClampedTo250) {
  json rows = json::array();
  for (int i = 0; i < 300; ++i) {
    rows.push_back(
        {{"rank", i + 1},
         {"id", 100 + i},
         {"listed_at", "2025-01-01T00:00:00.000Z"},
         {"notes", nullptr},
         {"type", "movie"},
         {"movie",
          {{"title", "M" + std::to_string(i)}, {"year", 2000}, {"ids", {{"trakt", 10000 + i}}}}}});
  }
  h.seed({{"watchlist", rows}});
  auto r = h.get("/sync/watchlist", auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r).size(), 100u);
  EXPECT_EQ(r->get_header_value("X-Pagination-Item-Count"), "300");
  r = h.get("/sync/watchlist?page=1&limit=1000", auth());
  EXPECT_EQ(body_of(r).size(), 250u);
  EXPECT_EQ(r->get_header_value("X-Pagination-Limit"), "250");
  EXPECT_EQ(r->get_header_value("X-Pagination-Page-Count"), "2");
  r = h.get("/sync/watchlist?page=2&limit=250", auth());
  EXPECT_EQ(body_of(r).size(), 50u);
  EXPECT_EQ(body_of(r)[0]["rank"], 251);
}

TEST_F(TraktTest, SilentPageCapFaultKeepsTheClaimedCount) {
  json rows = json::array();
  for (int i = 0; i < 30; ++i) {
    rows.push_back({{"rated_at", "2025-01-01T00:00:00.000Z"},
                    {"rating", 7},
                    {"type", "movie"},
                    {"movie", {{"title", "M"}, {"year", 2000}, {"ids", {{"trakt", 20000 + i}}}}}});
  }
  h.seed({{"ratings", rows}});
  h.fault({{"endpoint", "^/sync/ratings"}, {"page_cap", 7}});
  auto r = h.get("/sync/ratings/movies?page=1&limit=20", auth());
  EXPECT_EQ(body_of(r).size(), 7u);
  EXPECT_EQ(r->get_header_value("X-Pagination-Item-Count"), "30");
}

TEST_F(TraktTest, HistoryKeepsMinutePrecisionAndRemovesPlaysById) {
  json body = {
      {"movies",
       json::array({{{"ids", {{"trakt", 481}}}, {"watched_at", "2026-01-05T20:31:45.123Z"}}})},
      {"shows",
       json::array(
           {{{"ids", {{"tmdb", 1396}}},
             {"seasons",
              json::array(
                  {{{"number", 1},
                    {"episodes", json::array({{{"number", 2},
                                               {"watched_at", "2026-01-06T22:10:09Z"}}})}}})}}})}};
  auto r = h.post("/sync/history", body, auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["added"], (json{{"movies", 1}, {"episodes", 1}}));
  EXPECT_EQ(body_of(r)["updated"], (json{{"movies", 0}, {"episodes", 0}}));
  r = h.get("/sync/history", auth());
  json rows = body_of(r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["watched_at"], "2026-01-06T22:10:00.000Z");  // newest first, seconds dropped
  EXPECT_EQ(rows[1]["watched_at"], "2026-01-05T20:31:00.000Z");
  EXPECT_EQ(rows[0]["episode"]["number"], 2);
  const std::int64_t id = rows[1]["id"].get<std::int64_t>();
  r = h.post("/sync/history/remove", {{"ids", json::array({id, 424242})}}, auth());
  json out = body_of(r);
  EXPECT_EQ(out["deleted"]["movies"], 1);
  EXPECT_EQ(out["not_found"]["ids"], json::array({424242}));
  EXPECT_EQ(body_of(h.get("/sync/history/movies", auth())).size(), 0u);
  EXPECT_EQ(body_of(h.get("/sync/history/episodes/7002", auth())).size(), 1u);
}

TEST_F(TraktTest, CoordinateRemovalDeletesEveryPlayOfTheItem) {
  json plays = json::array();
  for (const char* at : {"2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"}) {
    plays.push_back({{"ids", {{"trakt", 482}}}, {"watched_at", at}});
  }
  h.post("/sync/history", {{"movies", plays}}, auth());
  auto r = h.post("/sync/history/remove",
                  {{"movies", json::array({{{"ids", {{"imdb", "tt0113277"}}}}})}}, auth());
  EXPECT_EQ(body_of(r)["deleted"]["movies"], 3);
  EXPECT_EQ(body_of(h.get("/sync/history", auth())).size(), 0u);
}

TEST_F(TraktTest, DuplicatePlayPolicyIsSwitchable) {
  h.seed({{"catalog", catalog()}, {"options", {{"history_duplicates", "conflict"}}}});
  json body = {{"movies", json::array({{{"ids", {{"trakt", 481}}},
                                        {"watched_at", "2026-01-05T20:31:00Z"}}})}};
  EXPECT_EQ(h.post("/sync/history", body, auth())->status, 200);
  EXPECT_EQ(h.post("/sync/history", body, auth())->status, 409);
  h.seed({{"catalog", catalog()},
          {"options", {{"history_duplicates", "updated"}, {"history_add_status", 200}}}});
  h.post("/sync/history", body, auth());
  auto r = h.post("/sync/history", body, auth());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["updated"]["movies"], 1);
  EXPECT_EQ(body_of(r)["added"]["movies"], 0);
}

TEST_F(TraktTest, RatingsUpsertFilterAndRemove) {
  h.post(
      "/sync/ratings",
      {{"movies", json::array({{{"ids", {{"trakt", 481}}}, {"rating", 9}},
                               {{"ids", {{"trakt", 482}}}, {"rating", 11}}})},
       {"shows",
        json::array(
            {{{"ids", {{"trakt", 1390}}},
              {"seasons",
               json::array({{{"number", 1},
                             {"episodes", json::array({{{"number", 1}, {"rating", 6}}})}}})}}})}},
      auth());
  auto r = h.post("/sync/ratings",
                  {{"movies", json::array({{{"ids", {{"trakt", 481}}}, {"rating", 8}}})}}, auth());
  EXPECT_EQ(r->status, 201);
  json all = body_of(h.get("/sync/ratings", auth()));
  ASSERT_EQ(all.size(), 2u) << all.dump();
  json eights = body_of(h.get("/sync/ratings/movies/8", auth()));
  ASSERT_EQ(eights.size(), 1u);
  EXPECT_EQ(eights[0]["movie"]["ids"]["trakt"], 481);
  json eps = body_of(h.get("/sync/ratings/episodes", auth()));
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0]["rating"], 6);
  r = h.post("/sync/ratings/remove", {{"episodes", json::array({{{"ids", {{"trakt", 7001}}}}})}},
             auth());
  EXPECT_EQ(body_of(r)["deleted"]["episodes"], 1);
}

TEST_F(TraktTest, ScrobblePauseAndStopDriveThePlaybackList) {
  auto r = h.post("/scrobble/pause",
                  {{"progress", 37.5}, {"movie", {{"ids", {{"imdb", "tt0133093"}}}}}}, auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(body_of(r)["action"], "pause");
  json pb = body_of(h.get("/sync/playback/movies?extended=full", auth()));
  ASSERT_EQ(pb.size(), 1u);
  EXPECT_EQ(pb[0]["progress"], 37.5);
  EXPECT_EQ(pb[0]["movie"]["runtime"], 136);
  r = h.post("/scrobble/stop", {{"progress", 95}, {"movie", {{"ids", {{"trakt", 481}}}}}}, auth());
  EXPECT_EQ(body_of(r)["action"], "scrobble");
  EXPECT_EQ(body_of(h.get("/sync/playback", auth())).size(), 0u);
  EXPECT_EQ(body_of(h.get("/sync/history/movies", auth())).size(), 1u);
  // A second stop within the runtime: Trakt's 409, no second play.
  r = h.post("/scrobble/stop", {{"progress", 99}, {"movie", {{"ids", {{"trakt", 481}}}}}}, auth());
  EXPECT_EQ(r->status, 409);
  EXPECT_TRUE(body_of(r).contains("expires_at"));
  EXPECT_EQ(body_of(h.get("/sync/history/movies", auth())).size(), 1u);
  r = h.post("/scrobble/pause",
             {{"progress", 12},
              {"show", {{"ids", {{"tvdb", 81189}}}}},
              {"episode", {{"season", 1}, {"number", 3}}}},
             auth());
  const std::int64_t id = body_of(r)["id"].get<std::int64_t>();
  EXPECT_EQ(h.del("/sync/playback/" + std::to_string(id), auth())->status, 204);
  EXPECT_EQ(h.del("/sync/playback/" + std::to_string(id), auth())->status, 404);
  EXPECT_EQ(
      h.post("/scrobble/pause", {{"progress", 12}, {"movie", {{"ids", {{"trakt", 1}}}}}}, auth())
          ->status,
      404);
}

TEST_F(TraktTest, DeviceCodeFlowRefreshRotationAndReuse) {
  auto r = h.post("/oauth/device/code", {{"client_id", k_key}});
  ASSERT_EQ(r->status, 200);
  const json code = body_of(r);
  const json poll = {{"code", code["device_code"]},
                     {"client_id", k_key},
                     {"client_secret", "cw-sandbox-trakt-client-secret"}};
  EXPECT_EQ(h.post("/oauth/device/token", poll)->status, 400);
  EXPECT_EQ(h.post("/oauth/device/token", poll)->status, 429);  // faster than the interval
  ASSERT_EQ(h.post("/__sandbox/oauth/approve", {{"user_code", code["user_code"]}})->status, 200);
  h.advance_clock(6000);
  r = h.post("/oauth/device/token", poll);
  ASSERT_EQ(r->status, 200);
  const json tokens = body_of(r);
  EXPECT_EQ(h.get("/sync/last_activities", auth(tokens["access_token"]))->status, 200);
  EXPECT_EQ(h.post("/oauth/device/token", poll)->status, 409);
  const json refresh = {{"refresh_token", tokens["refresh_token"]},
                        {"client_id", k_key},
                        {"client_secret", "cw-sandbox-trakt-client-secret"},
                        {"grant_type", "refresh_token"},
                        {"redirect_uri", "urn:ietf:wg:oauth:2.0:oob"}};
  r = h.post("/oauth/token", refresh);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(body_of(r)["refresh_token"], tokens["refresh_token"]);
  r = h.post("/oauth/token", refresh);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body_of(r)["error"], "invalid_grant");
}

TEST_F(TraktTest, TokensExpireOnTheSandboxClock) {
  h.seed({{"catalog", catalog()}, {"auth", {{"token_ttl_s", 60}}}});
  EXPECT_EQ(h.get("/sync/last_activities", auth())->status, 200);
  h.advance_clock(61000);
  EXPECT_EQ(h.get("/sync/last_activities", auth())->status, 401);
}

TEST_F(TraktTest, InjectedRateLimitCarriesTraktHeaders) {
  h.fault({{"endpoint", "^/sync/watchlist"}, {"status", 429}, {"count", 1}, {"retry_after_s", 5}});
  auto r = h.get("/sync/watchlist", auth());
  ASSERT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "5");
  const json limit = json::parse(r->get_header_value("X-Ratelimit"));
  EXPECT_EQ(limit["name"], "AUTHED_API_GET_LIMIT");
  EXPECT_EQ(limit["remaining"], 0);
  // The window's end agrees with Retry-After (a client may trust either).
  std::tm tm{};
  std::istringstream(limit["until"].get<std::string>()) >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  const auto wait =
      std::chrono::system_clock::from_time_t(timegm(&tm)) - std::chrono::system_clock::now();
  EXPECT_GT(wait, std::chrono::seconds(3));
  EXPECT_LE(wait, std::chrono::seconds(6));
  EXPECT_EQ(h.get("/sync/watchlist", auth())->status, 200);
  h.fault({{"endpoint", "^/sync/watchlist$"}, {"method", "POST"}, {"status", 420}, {"count", 1}});
  r = h.post("/sync/watchlist", {{"movies", json::array()}}, auth());
  EXPECT_EQ(r->status, 420);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(TraktTest, PersonalListsCreateAddReorder) {
  auto r = h.post("/users/me/lists", {{"name", "Sci Fi Night"}, {"privacy", "private"}}, auth());
  ASSERT_EQ(r->status, 201);
  const std::string id = std::to_string(body_of(r)["ids"]["trakt"].get<std::int64_t>());
  EXPECT_EQ(body_of(r)["ids"]["slug"], "sci-fi-night");
  r = h.post("/users/me/lists/" + id + "/items",
             {{"movies", json::array({{{"ids", {{"trakt", 481}}}}, {{"ids", {{"trakt", 482}}}}})}},
             auth());
  EXPECT_EQ(body_of(r)["added"]["movies"], 2);
  json items = body_of(h.get("/users/me/lists/sci-fi-night/items", auth()));
  ASSERT_EQ(items.size(), 2u);
  r = h.post("/users/me/lists/" + id + "/items/reorder",
             {{"rank", json::array({items[1]["id"], items[0]["id"], 1})}}, auth());
  EXPECT_EQ(body_of(r)["updated"], 2);
  EXPECT_EQ(body_of(r)["skipped_ids"], json::array({1}));
  items = body_of(h.get("/users/me/lists/" + id + "/items", auth()));
  EXPECT_EQ(items[0]["movie"]["ids"]["trakt"], 482);
}

TEST_F(TraktTest, SearchAndSeasonsServeTheCatalog) {
  json hits = body_of(h.get("/search/tvdb/8002?type=episode", auth()));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["episode"]["number"], 2);
  EXPECT_EQ(hits[0]["show"]["ids"]["trakt"], 1390);
  json seasons = body_of(h.get("/shows/show/seasons?extended=episodes,full", auth()));
  ASSERT_EQ(seasons.size(), 1u);
  EXPECT_EQ(seasons[0]["episodes"].size(), 3u);
  EXPECT_EQ(seasons[0]["episodes"][0]["runtime"], 45);
}

// The 50k-play history is measured in bench/fakes; 10k keeps this test quick under sanitizers.
TEST_F(TraktTest, UniverseOf10kPlaysIsServedInPages) {
  GenerateOptions o;
  o.movies = 2000;
  o.shows = 20;
  o.plays = 10000;
  o.ratings = 100;
  o.watchlist = 50;
  o.progress = 10;
  const json universe = generate_universe(o);
  auto r = h.client().Post("/__sandbox/universe", universe.dump(), "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  r = h.get("/sync/history?page=1&limit=100", auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-Pagination-Item-Count"), "10000");
  EXPECT_EQ(r->get_header_value("X-Pagination-Page-Count"), "100");
  json first = body_of(r);
  EXPECT_EQ(first.size(), 100u);
  EXPECT_GE(first[0]["watched_at"].get<std::string>(), first[99]["watched_at"].get<std::string>());
  r = h.get("/sync/history?page=100&limit=100", auth());
  EXPECT_EQ(body_of(r).size(), 100u);
  EXPECT_EQ(body_of(h.get("/sync/watchlist?page=1&limit=250", auth())).size(), 50u);
  EXPECT_EQ(body_of(h.get("/sync/playback", auth())).size(), 10u);
}

// ---- reads the plugins rely on: watched, /users/me, progress, summaries, search ----

json two_plays_of_matrix_and_episodes() {
  return {{"movies",
           json::array({{{"ids", {{"trakt", 481}}}, {"watched_at", "2026-01-01T10:00:00Z"}},
                        {{"ids", {{"trakt", 481}}}, {"watched_at", "2026-01-03T10:00:00Z"}}})},
          {"episodes",
           json::array({{{"ids", {{"trakt", 7001}}}, {"watched_at", "2026-01-02T10:00:00Z"}},
                        {{"ids", {{"trakt", 7002}}}, {"watched_at", "2026-01-04T10:00:00Z"}},
                        {{"ids", {{"trakt", 7002}}}, {"watched_at", "2026-01-05T10:00:00Z"}}})}};
}

TEST_F(TraktTest, SyncWatchedCountsPlaysPerMovieAndEpisode) {
  ASSERT_EQ(h.post("/sync/history", two_plays_of_matrix_and_episodes(), auth())->status, 200);
  auto r = h.get("/sync/watched/movies", auth());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json movies = body_of(r);
  ASSERT_EQ(movies.size(), 1u);
  EXPECT_EQ(movies[0]["plays"], 2);
  EXPECT_EQ(movies[0]["last_watched_at"], "2026-01-03T10:00:00.000Z");
  EXPECT_EQ(movies[0]["last_updated_at"], "2026-01-03T10:00:00.000Z");
  EXPECT_EQ(
      movies[0]["movie"],
      (json{
          {"title", "The Matrix"},
          {"year", 1999},
          {"ids",
           {{"trakt", 481}, {"slug", "the-matrix-1999"}, {"imdb", "tt0133093"}, {"tmdb", 603}}}}));
  json shows = body_of(h.get("/sync/watched/shows", auth()));
  ASSERT_EQ(shows.size(), 1u);
  EXPECT_EQ(shows[0]["plays"], 3);
  EXPECT_EQ(shows[0]["last_watched_at"], "2026-01-05T10:00:00.000Z");
  EXPECT_TRUE(shows[0]["reset_at"].is_null());
  EXPECT_EQ(shows[0]["show"]["ids"]["trakt"], 1390);
  ASSERT_EQ(shows[0]["seasons"].size(), 1u);
  EXPECT_EQ(shows[0]["seasons"][0]["episodes"],
            (json::array(
                {{{"number", 1}, {"plays", 1}, {"last_watched_at", "2026-01-02T10:00:00.000Z"}},
                 {{"number", 2}, {"plays", 2}, {"last_watched_at", "2026-01-05T10:00:00.000Z"}}})));
  json bare = body_of(h.get("/sync/watched/shows?extended=noseasons", auth()));
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_FALSE(bare[0].contains("seasons"));
}

TEST_F(TraktTest, UsersMeReadsMirrorTheSyncReads) {
  ASSERT_EQ(h.post("/sync/history", two_plays_of_matrix_and_episodes(), auth())->status, 200);
  h.post("/sync/ratings", {{"movies", json::array({{{"ids", {{"trakt", 482}}}, {"rating", 7}}})}},
         auth());
  h.post("/sync/watchlist", {{"movies", json::array({{{"ids", {{"trakt", 482}}}}})}}, auth());
  for (const std::string user : {"me", "sandbox"}) {
    auto r = h.get("/users/" + user + "/history?page=1&limit=2", auth());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << user;
    EXPECT_EQ(body_of(r).size(), 2u);
    EXPECT_EQ(r->get_header_value("X-Pagination-Item-Count"), "5");
    EXPECT_EQ(body_of(h.get("/users/" + user + "/history/movies/481", auth())).size(), 2u);
    EXPECT_EQ(body_of(h.get("/users/" + user + "/ratings/movies/7", auth())).size(), 1u);
    json wl = body_of(h.get("/users/" + user + "/watchlist/movies/rank/asc", auth()));
    ASSERT_EQ(wl.size(), 1u);
    EXPECT_EQ(wl[0]["movie"]["ids"]["trakt"], 482);
    EXPECT_EQ(body_of(h.get("/users/" + user + "/watched/movies", auth()))[0]["plays"], 2);
    EXPECT_EQ(body_of(h.get("/users/" + user + "/watched/shows", auth()))[0]["plays"], 3);
  }
  auto r = h.get("/users/someone-else/history", auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(TraktTest, ShowProgressCountsAiredCompletedAndTheNextEpisode) {
  ASSERT_EQ(h.post("/sync/history", two_plays_of_matrix_and_episodes(), auth())->status, 200);
  auto r = h.get("/shows/1390/progress/watched", auth());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json p = body_of(r);
  EXPECT_EQ(p["aired"], 3);
  EXPECT_EQ(p["completed"], 2);
  EXPECT_EQ(p["last_watched_at"], "2026-01-05T10:00:00.000Z");
  EXPECT_TRUE(p["reset_at"].is_null());
  EXPECT_EQ(p["hidden_seasons"], json::array());
  ASSERT_EQ(p["seasons"].size(), 1u);
  EXPECT_EQ(p["seasons"][0]["aired"], 3);
  EXPECT_EQ(p["seasons"][0]["completed"], 2);
  EXPECT_EQ(p["seasons"][0]["title"], "Season 1");
  EXPECT_EQ(p["seasons"][0]["episodes"][2],
            (json{{"number", 3}, {"completed", false}, {"last_watched_at", nullptr}}));
  // next/last episodes are full episode objects (the contract requires their full fields).
  EXPECT_EQ(p["next_episode"]["number"], 3);
  EXPECT_EQ(p["next_episode"]["runtime"], 45);
  for (const char* key : {"first_aired", "number_abs", "rating", "votes", "comment_count",
                          "updated_at", "available_translations", "overview", "episode_type"}) {
    EXPECT_TRUE(p["next_episode"].contains(key)) << key;
  }
  EXPECT_EQ(p["last_episode"]["number"], 2);
  EXPECT_EQ(p["last_episode"]["ids"]["trakt"], 7002);
  r = h.get("/shows/slug-nobody-has/progress/watched", auth());
  EXPECT_EQ(r->status, 404);
  r = h.get("/shows/1390/progress/watched", auth("expired"));
  EXPECT_EQ(r->status, 401);
}

TEST_F(TraktTest, ExtendedFullOnSearchAndSummaries) {
  json minimal = body_of(h.get("/search/tmdb/603?type=movie", auth()));
  ASSERT_EQ(minimal.size(), 1u);
  EXPECT_EQ(minimal[0]["movie"].size(), 3u) << minimal.dump();  // title, year, ids
  json full = body_of(h.get("/search/tmdb/603?type=movie&extended=full", auth()));
  ASSERT_EQ(full.size(), 1u);
  const json& m = full[0]["movie"];
  EXPECT_EQ(m["runtime"], 136);
  EXPECT_EQ(m["released"], "1999-01-01");
  for (const char* key : {"tagline", "overview", "country", "status", "rating", "votes",
                          "comment_count", "updated_at", "language", "genres", "original_title"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  auto r = h.get("/movies/the-matrix-1999", auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r).size(), 3u);
  r = h.get("/movies/tt0133093?extended=full", auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["runtime"], 136);
  r = h.get("/shows/show?extended=full", auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["aired_episodes"], 3);
  EXPECT_EQ(body_of(r)["first_aired"], "2008-01-01T00:00:00.000Z");
  EXPECT_EQ(h.get("/movies/nope", auth())->status, 404);
  json ep = body_of(h.get("/search/tvdb/8002?type=episode&extended=full", auth()));
  ASSERT_EQ(ep.size(), 1u);
  EXPECT_EQ(ep[0]["episode"]["runtime"], 45);
  EXPECT_EQ(ep[0]["show"]["aired_episodes"], 3);
  json text = body_of(h.get("/search/movie,show?query=matrix", auth()));
  ASSERT_EQ(text.size(), 1u);
  EXPECT_EQ(text[0]["type"], "movie");
  EXPECT_EQ(text[0]["movie"]["ids"]["trakt"], 481);
}

TEST_F(TraktTest, WatchlistSortHeadersCarryThePreferenceAndTheAppliedOrder) {
  h.seed({{"catalog", catalog()},
          {"options", {{"watchlist_sort_by", "added"}, {"watchlist_sort_how", "desc"}}}});
  h.post("/sync/watchlist",
         {{"movies", json::array({{{"ids", {{"trakt", 482}}}}, {{"ids", {{"trakt", 481}}}}})}},
         auth());
  auto r = h.get("/sync/watchlist", auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-Sort-By"), "added");
  EXPECT_EQ(r->get_header_value("X-Sort-How"), "desc");
  EXPECT_EQ(r->get_header_value("X-Applied-Sort-By"), "rank");
  EXPECT_EQ(r->get_header_value("X-Applied-Sort-How"), "asc");
  EXPECT_EQ(body_of(r)[0]["movie"]["ids"]["trakt"], 482);
  r = h.get("/sync/watchlist/movies/title/asc", auth());
  EXPECT_EQ(r->get_header_value("X-Sort-By"), "added");
  EXPECT_EQ(r->get_header_value("X-Applied-Sort-By"), "title");
  EXPECT_EQ(r->get_header_value("X-Applied-Sort-How"), "asc");
  EXPECT_EQ(body_of(r)[0]["movie"]["title"], "Heat");
}

TEST_F(TraktTest, HistoryAddReplyHasTheDocumentedKeys) {
  auto r = h.post(
      "/sync/history",
      {{"movies", json::array({{{"ids", {{"trakt", 481}}}}, {{"ids", {{"imdb", "tt0000111"}}}}})}},
      auth());
  ASSERT_EQ(r->status, 200);
  json out = body_of(r);
  std::vector<std::string> keys, buckets;
  for (const auto& [k, v] : out.items()) keys.push_back(k);
  for (const auto& [k, v] : out["not_found"].items()) buckets.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"added", "not_found", "updated"}));
  EXPECT_EQ(buckets, (std::vector<std::string>{"episodes", "movies", "people", "seasons", "shows",
                                               "users"}));
  EXPECT_EQ(out["not_found"]["movies"], json::array({{{"ids", {{"imdb", "tt0000111"}}}}}));
  h.seed({{"catalog", catalog()}, {"options", {{"legacy_history_reply", true}}}});
  out = body_of(
      h.post("/sync/history", {{"movies", json::array({{{"ids", {{"trakt", 481}}}}})}}, auth()));
  EXPECT_FALSE(out.contains("updated"));
  EXPECT_TRUE(out["not_found"].contains("people"));
  EXPECT_FALSE(out["not_found"].contains("users"));
}

TEST_F(TraktTest, AccountLimitsAnswer420WithTheDocumentedHeaders) {
  json settings = body_of(h.get("/users/settings", auth()));
  settings["limits"]["watchlist"]["item_count"] = 1;
  settings["limits"]["collection"]["item_count"] = 1;
  h.seed({{"catalog", catalog()}, {"settings", settings}});
  auto r =
      h.post("/sync/watchlist", {{"movies", json::array({{{"ids", {{"trakt", 481}}}}})}}, auth());
  ASSERT_EQ(r->status, 201);
  // The same item again fits (it exists); a new one does not, and nothing of the batch is added.
  r = h.post("/sync/watchlist",
             {{"movies", json::array({{{"ids", {{"trakt", 481}}}}, {{"ids", {{"trakt", 482}}}}})}},
             auth());
  ASSERT_EQ(r->status, 420);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->get_header_value("X-Upgrade-URL"), "https://trakt.tv/vip");
  EXPECT_EQ(r->get_header_value("X-VIP-User"), "false");
  EXPECT_EQ(r->get_header_value("X-Account-Limit"), "1");
  EXPECT_EQ(body_of(h.get("/sync/watchlist", auth())).size(), 1u);
  r = h.post("/sync/collection",
             {{"movies", json::array({{{"ids", {{"trakt", 481}}}}, {{"ids", {{"trakt", 482}}}}})}},
             auth());
  ASSERT_EQ(r->status, 420);
  EXPECT_EQ(r->get_header_value("X-Account-Limit"), "1");
  // A VIP account reports it.
  settings["user"]["vip"] = true;
  h.seed({{"catalog", catalog()}, {"settings", settings}});
  h.post("/sync/watchlist", {{"movies", json::array({{{"ids", {{"trakt", 481}}}}})}}, auth());
  r = h.post("/sync/watchlist", {{"movies", json::array({{{"ids", {{"trakt", 482}}}}})}}, auth());
  ASSERT_EQ(r->status, 420);
  EXPECT_EQ(r->get_header_value("X-VIP-User"), "true");
}

TEST_F(TraktTest, EveryAnswerCarriesTheRateLimitItCountsAgainst) {
  auto r = h.get("/sync/last_activities", auth());
  json first = json::parse(r->get_header_value("X-Ratelimit"), nullptr, false);
  ASSERT_TRUE(first.is_object()) << r->get_header_value("X-Ratelimit");
  EXPECT_EQ(first["name"], "AUTHED_API_GET_LIMIT");
  EXPECT_EQ(first["period"], 300);
  EXPECT_EQ(first["limit"], 500);
  EXPECT_EQ(first["remaining"], 499);
  r = h.get("/sync/watchlist", auth());
  EXPECT_EQ(json::parse(r->get_header_value("X-Ratelimit"))["remaining"], 498);
  r = h.post("/sync/watchlist", {{"movies", json::array({{{"ids", {{"trakt", 481}}}}})}}, auth());
  json post = json::parse(r->get_header_value("X-Ratelimit"), nullptr, false);
  EXPECT_EQ(post["name"], "AUTHED_API_POST_LIMIT");
  EXPECT_EQ(post["period"], 1);
  EXPECT_EQ(post["limit"], 1);
  EXPECT_EQ(post["remaining"], 0);
  h.advance_clock(301000);
  r = h.get("/sync/watchlist", auth());
  EXPECT_EQ(json::parse(r->get_header_value("X-Ratelimit"))["remaining"], 499);
}

// ---- recorded replies (TraktKit fixtures, MIT) ----

class TraktRecorded : public TraktTest {
 protected:
  std::string dir = "api-reference/trakt/fixtures/TraktKit/";
};

TEST_F(TraktRecorded, ReadEndpointsServeSeededRecordingsUnchanged) {
  CW_REQUIRE_SHARED(watchlist, dir + "Sync/test_get_watchlist.json");
  CW_REQUIRE_SHARED(history, dir + "Sync/test_get_watched_history.json");
  CW_REQUIRE_SHARED(ratings, dir + "Sync/test_get_ratings.json");
  CW_REQUIRE_SHARED(playback, dir + "Sync/test_get_playback_progress.json");
  CW_REQUIRE_SHARED(activities, dir + "Sync/test_get_last_activity.json");
  CW_REQUIRE_SHARED(settings, dir + "Users/test_get_settings.json");
  CW_REQUIRE_SHARED(list_items, dir + "Users/test_get_items_on_custom_list.json");
  CW_REQUIRE_SHARED(lists, dir + "Users/test_get_custom_lists.json");
  json items_without_people = json::array();
  for (const auto& row : *list_items) {
    if (row.value("type", "") != "person") items_without_people.push_back(row);
  }
  h.seed({{"watchlist", *watchlist},
          {"history", *history},
          {"ratings", *ratings},
          {"playback", *playback},
          {"last_activities", *activities},
          {"settings", *settings},
          {"lists", json::array({{{"list", (*lists)[0]}, {"items", items_without_people}}})}});
  EXPECT_EQ(body_of(h.get("/sync/watchlist", auth())), *watchlist);
  EXPECT_EQ(body_of(h.get("/sync/history", auth())), *history);
  EXPECT_EQ(body_of(h.get("/sync/ratings", auth())), *ratings);
  EXPECT_EQ(body_of(h.get("/sync/playback", auth())), *playback);
  EXPECT_EQ(body_of(h.get("/sync/last_activities", auth())), *activities);
  EXPECT_EQ(body_of(h.get("/users/settings", auth())), *settings);
  EXPECT_EQ(body_of(h.get("/users/me/lists/55/items", auth())), items_without_people);
  json served_list = body_of(h.get("/users/me/lists/55", auth()));
  json expected_list = (*lists)[0];
  expected_list["item_count"] =
      items_without_people.size();  // item_count is derived from the items
  EXPECT_EQ(served_list, expected_list);
}

TEST_F(TraktRecorded, WriteRepliesMatchTheRecordedBodies) {
  CW_REQUIRE_SHARED(add_wl, dir + "Sync/test_add_items_to_watchlist.json");
  CW_REQUIRE_SHARED(rm_wl, dir + "Sync/test_remove_items_from_watchlist.json");
  CW_REQUIRE_SHARED(add_hist, dir + "Sync/test_add_items_to_watched_history.json");
  CW_REQUIRE_SHARED(rm_hist, dir + "Sync/test_remove_items_from_history.json");
  CW_REQUIRE_SHARED(add_rat, dir + "Sync/test_add_new_ratings.json");
  CW_REQUIRE_SHARED(rm_rat, dir + "Sync/test_remove_ratings.json");
  // A catalog shaped so that the recorded counts come out: 2 movies, a show with 72 episodes.
  json seasons = json::array();
  for (int s = 1; s <= 6; ++s) {
    json eps = json::array();
    for (int e = 1; e <= 12; ++e) {
      eps.push_back({{"season", s}, {"number", e}, {"ids", {{"trakt", 100000 + s * 100 + e}}}});
    }
    seasons.push_back({{"number", s}, {"ids", {{"trakt", 90000 + s}}}, {"episodes", eps}});
  }
  json cat = {
      {"movies", json::array({{{"title", "A"}, {"year", 2001}, {"ids", {{"trakt", 1}}}},
                              {{"title", "B"}, {"year", 2002}, {"ids", {{"trakt", 2}}}}})},
      {"shows",
       json::array({{{"title", "S"}, {"year", 2003}, {"ids", {{"trakt", 3}}}, {"seasons", seasons}},
                    {{"title", "T"}, {"year", 2004}, {"ids", {{"trakt", 4}}}}})}};
  // The recording is the Apiary-era history reply (no "updated", "people" in not_found).
  h.seed({{"catalog", cat}, {"options", {{"legacy_history_reply", true}}}});
  const json unknown = {{"ids", {{"imdb", "tt0000111"}}}};
  const json list_body = {
      {"movies", json::array({{{"ids", {{"trakt", 1}}}}, unknown})},
      {"shows", json::array({{{"ids", {{"trakt", 4}}}}})},
      {"seasons", json::array({{{"ids", {{"trakt", 90001}}}}})},
      {"episodes", json::array({{{"ids", {{"trakt", 100201}}}}, {{"ids", {{"trakt", 100202}}}}})}};
  json out = body_of(h.post("/sync/watchlist", list_body, auth()));
  ASSERT_TRUE(out["list"].contains("updated_at"));
  out["list"]["updated_at"] = (*add_wl)["list"]["updated_at"];
  EXPECT_EQ(out, *add_wl);
  out = body_of(h.post("/sync/watchlist/remove", list_body, auth()));
  out.erase("list");  // the 2026 contract adds "list" to removals; the recording predates it
  EXPECT_EQ(out, *rm_wl);

  const json hist_body = {
      {"movies", json::array({{{"ids", {{"trakt", 1}}}}, {{"ids", {{"trakt", 2}}}}, unknown})},
      {"shows", json::array({{{"ids", {{"trakt", 3}}}}})}};
  out = body_of(h.post("/sync/history", hist_body, auth()));
  EXPECT_EQ(out, *add_hist);
  json rm_body = hist_body;
  rm_body["ids"] = json::array({23, 42});
  out = body_of(h.post("/sync/history/remove", rm_body, auth()));
  EXPECT_EQ(out, *rm_hist);

  json rating_body = list_body;
  for (auto& bucket : rating_body) {
    for (auto& item : bucket) item["rating"] = 10;
  }
  out = body_of(h.post("/sync/ratings", rating_body, auth()));
  EXPECT_EQ(out, *add_rat);
  out = body_of(h.post("/sync/ratings/remove", list_body, auth()));
  EXPECT_EQ(out, *rm_rat);
}

TEST_F(TraktRecorded, ScrobbleReplyHasTheRecordedShape) {
  CW_REQUIRE_SHARED(pause, dir + "Scrobble/test_pause_watching_in_media_center.json");
  h.seed({{"catalog", {{"movies", json::array({(*pause)["movie"]})}}}});
  json out = body_of(
      h.post("/scrobble/pause", {{"progress", 75}, {"movie", {{"ids", {{"trakt", 28}}}}}}, auth()));
  out["id"] = (*pause)["id"];
  EXPECT_EQ(out, *pause);
}

TEST_F(TraktTest, UnknownRoutesAre405MethodNotFound) {
  for (const char* path : {"/sync/nothing", "/users/me/nothing/at/all", "/movies/481/nothing"}) {
    auto r = h.get(path, auth());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405) << path;
    EXPECT_TRUE(r->body.empty()) << path;
  }
  auto r = h.client().Put("/sync/watchlist", auth(), "{}", "application/json");
  EXPECT_EQ(r->status, 405) << "no PUT on /sync/watchlist";
  EXPECT_EQ(h.get("/__sandbox/state")->status, 200) << "control routes stay reachable";
}

}  // namespace
}  // namespace cw::fakes
