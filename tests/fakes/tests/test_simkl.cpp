// Fake SIMKL: identification and auth errors, activities, all-items with date_from, lists,
// history, ratings, playback, PIN flow, and the examples of SIMKL's own API description.
#include <gtest/gtest.h>

#include "core/generator.hpp"
#include "simkl/simkl_fake.hpp"
#include "tests/tracker_harness.hpp"

namespace cw::fakes {
namespace {

using nlohmann::json;
using testing::body_of;
using testing::Harness;

constexpr const char* k_client = "cw-sandbox-simkl-client-id";
constexpr const char* k_token = "cw-sandbox-simkl-access-token";

httplib::Headers auth(const std::string& token = k_token, const std::string& client = k_client) {
  return {{"simkl-api-key", client}, {"Authorization", "Bearer " + token}};
}

json catalog() {
  json eps1 = json::array(), eps2 = json::array();
  for (int e = 1; e <= 3; ++e)
    eps1.push_back({{"number", e}, {"title", "Episode " + std::to_string(e)}});
  for (int e = 1; e <= 2; ++e) eps2.push_back({{"number", e}});
  return {
      {"movies",
       json::array({{{"title", "Interstellar"},
                     {"year", 2014},
                     {"ids", {{"simkl", 1001}, {"tmdb", "157336"}, {"imdb", "tt0816692"}}}}})},
      {"shows", json::array({{{"title", "Some Show"},
                              {"year", 2016},
                              {"ids", {{"simkl", 2001}, {"tvdb", "305288"}, {"imdb", "tt4574334"}}},
                              {"seasons", json::array({{{"number", 1}, {"episodes", eps1}},
                                                       {{"number", 2}, {"episodes", eps2}}})}}})},
      {"anime", json::array({{{"title", "Some Anime"},
                              {"year", 2013},
                              {"anime_type", "tv"},
                              {"ids", {{"simkl", 3001}, {"mal", "16498"}, {"anidb", "9541"}}},
                              {"seasons", json::array({{{"number", 1}, {"episodes", eps2}}})}}})}};
}

class SimklTest : public ::testing::Test {
 protected:
  void SetUp() override { h.seed({{"catalog", catalog()}}); }
  Harness h{make_simkl_fake()};
};

TEST_F(SimklTest, ClientIdAndTokenErrorsUseTheEnvelope) {
  auto r = h.get("/sync/activities", auth(k_token, "nope"));
  ASSERT_EQ(r->status, 412);
  EXPECT_EQ(body_of(r)["error"], "client_id_failed");
  EXPECT_EQ(body_of(r)["code"], 412);
  r = h.get("/sync/activities", auth("bad"));
  ASSERT_EQ(r->status, 401);
  EXPECT_EQ(body_of(r)["error"], "user_token_failed");
  r = h.get("/sync/activities?client_id=" + std::string(k_client),
            {{"Authorization", std::string("Bearer ") + k_token}});
  EXPECT_EQ(r->status, 200);
}

TEST_F(SimklTest, EmptyLibraryIsJsonNull) {
  auto r = h.get("/sync/all-items", auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "null");
}

TEST_F(SimklTest, AddToListNeedsPerItemTargetAndMovesActivities) {
  const json before = body_of(h.get("/sync/activities", auth()));
  auto r = h.post("/sync/add-to-list",
                  {{"to", "plantowatch"}, {"movies", json::array({{{"ids", {{"tmdb", 157336}}}}})}},
                  auth());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body_of(r)["error"], "empty_field");
  r = h.post("/sync/add-to-list",
             {{"movies", json::array({{{"to", "plantowatch"}, {"ids", {{"tmdb", 157336}}}},
                                      {{"to", "plantowatch"}, {"ids", {{"tmdb", 1}}}}})},
              {"shows", json::array({{{"to", "plantowatch"}, {"ids", {{"tvdb", 305288}}}}})}},
             auth());
  ASSERT_EQ(r->status, 201);
  json out = body_of(r);
  ASSERT_EQ(out["added"]["movies"].size(), 1u);
  EXPECT_EQ(out["added"]["movies"][0]["type"], "movie");
  EXPECT_EQ(out["not_found"]["movies"].size(), 1u);
  json items = body_of(h.get("/sync/all-items/movies/plantowatch", auth()));
  ASSERT_EQ(items["movies"].size(), 1u);
  EXPECT_EQ(items["movies"][0]["movie"]["ids"]["simkl"], 1001);
  EXPECT_FALSE(items.contains("shows"));
  const json after = body_of(h.get("/sync/activities", auth()));
  EXPECT_GT(after["movies"]["plantowatch"].get<std::string>(),
            before["movies"]["plantowatch"].get<std::string>());
  EXPECT_GT(after["tv_shows"]["plantowatch"].get<std::string>(),
            before["tv_shows"]["plantowatch"].get<std::string>());
  EXPECT_EQ(after["anime"]["plantowatch"], before["anime"]["plantowatch"]);
}

TEST_F(SimklTest, DateFromReturnsOnlyLaterChanges) {
  h.post("/sync/add-to-list",
         {{"movies", json::array({{{"to", "plantowatch"}, {"ids", {{"simkl", 1001}}}}})}}, auth());
  const std::string mark = body_of(h.get("/sync/activities", auth()))["all"];
  h.advance_clock(5000);
  h.post("/sync/add-to-list",
         {{"shows", json::array({{{"to", "plantowatch"}, {"ids", {{"simkl", 2001}}}}})}}, auth());
  json delta = body_of(h.get("/sync/all-items?date_from=" + mark, auth()));
  EXPECT_FALSE(delta.contains("movies"));
  ASSERT_EQ(delta["shows"].size(), 1u);
  json ids_only =
      body_of(h.get("/sync/all-items/shows/plantowatch?extended=simkl_ids_only", auth()));
  EXPECT_EQ(ids_only["shows"][0]["show"], (json{{"ids", {{"simkl", 2001}}}}));
}

TEST_F(SimklTest, HistoryEpisodesCountsAndDestructiveRemoval) {
  json body = {
      {"shows",
       json::array(
           {{{"ids", {{"tvdb", 305288}}},
             {"seasons",
              json::array({{{"number", 1},
                            {"episodes",
                             json::array({{{"number", 1}, {"watched_at", "2026-01-06T22:10:45Z"}},
                                          {{"number", 2},
                                           {"watched_at", "2026-01-07T22:10:45Z"}}})}}})}}})},
      {"movies",
       json::array({{{"ids", {{"imdb", "tt0816692"}}}, {"watched_at", "2026-01-05T20:31:12Z"}}})}};
  auto r = h.post("/sync/history", body, auth());
  ASSERT_EQ(r->status, 201);
  json out = body_of(r);
  EXPECT_EQ(out["added"]["movies"], 1);
  EXPECT_EQ(out["added"]["episodes"], 2);
  EXPECT_EQ(out["added"]["statuses"].size(), 2u);
  json lib = body_of(h.get("/sync/all-items/shows?extended=full&episode_watched_at=yes", auth()));
  json row = lib["shows"][0];
  EXPECT_EQ(row["status"], "watching");
  EXPECT_EQ(row["watched_episodes_count"], 2);
  EXPECT_EQ(row["total_episodes_count"], 5);
  EXPECT_EQ(row["next_to_watch"], "S01E03");
  EXPECT_EQ(row["seasons"][0]["episodes"][1]["watched_at"], "2026-01-07T22:10:45Z");
  h.post("/sync/ratings", {{"movies", json::array({{{"ids", {{"simkl", 1001}}}, {"rating", 9}}})}},
         auth());
  const json before = body_of(h.get("/sync/activities", auth()));
  r = h.post("/sync/history/remove", {{"movies", json::array({{{"ids", {{"simkl", 1001}}}}})}},
             auth());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["deleted"]["movies"], 1);
  // Removing a title removes it from the library, its rating included.
  EXPECT_FALSE(body_of(h.get("/sync/all-items", auth())).contains("movies"));
  EXPECT_FALSE(body_of(h.get("/sync/ratings", auth())).contains("movies"));
  const json after = body_of(h.get("/sync/activities", auth()));
  EXPECT_GT(after["movies"]["removed_from_list"].get<std::string>(),
            before["movies"]["removed_from_list"].get<std::string>());
  r = h.post(
      "/sync/history/remove",
      {{"shows",
        json::array(
            {{{"ids", {{"simkl", 2001}}},
              {"seasons",
               json::array({{{"number", 1}, {"episodes", json::array({{{"number", 1}}})}}})}}})}},
      auth());
  EXPECT_EQ(body_of(r)["deleted"]["episodes"], 1);
  EXPECT_EQ(body_of(h.get("/sync/all-items/shows", auth()))["shows"][0]["watched_episodes_count"],
            1);
}

TEST_F(SimklTest, RatingANewTitleFilesItAndFiltersByValue) {
  auto r = h.post(
      "/sync/ratings",
      {{"movies",
        json::array(
            {{{"ids", {{"tmdb", 157336}}}, {"rating", 8}, {"rated_at", "2026-03-03T10:00:00Z"}}})},
       {"shows", json::array({{{"ids", {{"simkl", 2001}}}, {"rating", 12}},
                              {{"ids", {{"mal", 16498}}}, {"rating", 6}}})}},
      auth());
  ASSERT_EQ(r->status, 201);
  EXPECT_EQ(body_of(r)["added"]["movies"], 1);
  EXPECT_EQ(body_of(r)["added"]["shows"], 1);  // 12 is ignored without an error
  json movies = body_of(h.get("/sync/all-items/movies", auth()));
  EXPECT_EQ(movies["movies"][0]["status"], "completed");
  json eights = body_of(h.get("/sync/ratings/movies/8,9", auth()));
  EXPECT_EQ(eights["movies"].size(), 1u);
  EXPECT_EQ(body_of(h.get("/sync/ratings/movies/1,2", auth())).size(), 0u);
  EXPECT_EQ(body_of(h.get("/sync/ratings/anime", auth()))["anime"][0]["user_rating"], 6);
  r = h.post("/sync/ratings/remove", {{"movies", json::array({{{"ids", {{"simkl", 1001}}}}})}},
             auth());
  EXPECT_EQ(body_of(r)["deleted"]["movies"], 1);
}

TEST_F(SimklTest, ScrobblePauseCreatesPlaybackAndStopWatches) {
  auto r = h.post("/scrobble/pause",
                  {{"progress", 45.5},
                   {"show", {{"ids", {{"simkl", 2001}}}}},
                   {"episode", {{"season", 1}, {"number", 1}}}},
                  auth());
  ASSERT_EQ(r->status, 201);
  EXPECT_EQ(body_of(r)["episode"]["title"], "Episode 1");
  json pb = body_of(h.get("/sync/playback", auth()));
  ASSERT_EQ(pb.size(), 1u);
  EXPECT_EQ(pb[0]["episode"]["episode"], 1);
  const std::int64_t id = pb[0]["id"].get<std::int64_t>();
  r = h.post("/scrobble/stop", {{"progress", 90}, {"movie", {{"ids", {{"simkl", 1001}}}}}}, auth());
  EXPECT_EQ(body_of(r)["action"], "scrobble");
  // Duplicate protection: a second stop within the hour is 409.
  r = h.post("/scrobble/stop", {{"progress", 95}, {"movie", {{"ids", {{"simkl", 1001}}}}}}, auth());
  EXPECT_EQ(r->status, 409);
  EXPECT_TRUE(body_of(r).contains("expires_at"));
  EXPECT_EQ(body_of(h.get("/sync/all-items/movies", auth()))["movies"][0]["status"], "completed");
  EXPECT_EQ(h.del("/sync/playback/" + std::to_string(id), auth())->status, 204);
  r = h.del("/sync/playback/" + std::to_string(id), auth());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r)["error"], "url_failed");
}

TEST_F(SimklTest, PinFlowPendingApprovedThenANewCode) {
  auto r = h.get("/oauth/pin?client_id=" + std::string(k_client));
  ASSERT_EQ(r->status, 200);
  const std::string code = body_of(r)["user_code"];
  const std::string poll = "/oauth/pin/" + code + "?client_id=" + k_client;
  EXPECT_EQ(body_of(h.get(poll))["result"], "KO");
  ASSERT_EQ(h.post("/__sandbox/oauth/approve", {{"user_code", code}})->status, 200);
  json ok = body_of(h.get(poll));
  EXPECT_EQ(ok["result"], "OK");
  EXPECT_EQ(ok["access_token"], k_token);
  json again = body_of(h.get(poll));
  EXPECT_TRUE(again.contains("device_code")) << "a used code turns into a new one";
  EXPECT_NE(again["user_code"], code);
}

TEST_F(SimklTest, RedirectAndIdSearch) {
  auto r = h.get("/redirect?to=simkl&mal=16498");
  ASSERT_EQ(r->status, 302);
  EXPECT_EQ(r->get_header_value("Location").rfind("https://simkl.com/anime/3001", 0), 0u);
  json hits = body_of(h.get("/search/id?imdb=tt0816692&client_id=" + std::string(k_client)));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["type"], "movie");
}

// ---- examples in SIMKL's API description (apiary.apib) ----

// The JSON body of the n-th 2xx response example after `heading`.
std::optional<json> apib_example(const std::string& text, const std::string& heading, int nth = 0) {
  std::size_t pos = text.find(heading);
  if (pos == std::string::npos) return std::nullopt;
  for (int i = 0; i <= nth; ++i) {
    pos = text.find("+ Response 20", pos + 1);
    if (pos == std::string::npos) return std::nullopt;
  }
  const std::size_t start = text.find_first_of("{[", pos);
  if (start == std::string::npos) return std::nullopt;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth == 0) {
        json parsed = json::parse(text.substr(start, i - start + 1), nullptr, false);
        if (parsed.is_discarded()) return std::nullopt;
        return parsed;
      }
    }
  }
  return std::nullopt;
}

class SimklRecorded : public SimklTest {
 protected:
  void SetUp() override {
    auto text = testing::read_shared("api-reference/simkl/apiary.apib");
    if (!text) GTEST_SKIP() << "../shared/api-reference/simkl/apiary.apib is absent";
    apib = *text;
  }
  json example(const std::string& heading, int nth = 0) {
    auto e = apib_example(apib, heading, nth);
    EXPECT_TRUE(e) << "no example under " << heading;
    return e ? *e : json();
  }
  std::string apib;
};

TEST_F(SimklRecorded, ActivitiesAllItemsRatingsAndPlaybackServeTheExamples) {
  const json activities = example("## Last Activities [/sync/activities]");
  const json all_items = example("## Get All Items [/sync/all-items/");
  const json ratings = example("## Get Ratings [/sync/ratings/");
  const json playback = example("### Get Playback Sessions [GET]");
  h.seed({{"activities", activities}, {"library", all_items}, {"playback", playback}});
  EXPECT_EQ(body_of(h.get("/sync/activities", auth())), activities);
  EXPECT_EQ(body_of(h.get("/sync/all-items", auth())), all_items);
  json served = body_of(h.get("/sync/playback", auth()));
  auto by_id = [](json rows) {
    std::sort(rows.begin(), rows.end(),
              [](const json& a, const json& b) { return a["id"] < b["id"]; });
    return rows;
  };
  EXPECT_EQ(by_id(served), by_id(playback));
  EXPECT_GT(served[0]["paused_at"].get<std::string>(), served[1]["paused_at"].get<std::string>())
      << "newest first";
  h.seed({{"library", ratings}});
  EXPECT_EQ(body_of(h.get("/sync/ratings", auth())), ratings);
}

TEST_F(SimklRecorded, PauseReplyMatchesTheExample) {
  const json pause = example("## Pause [/scrobble/pause]");
  json show = pause["show"];
  const json episode = {{"number", 1}, {"title", "Episode 1"}};
  const json season = {{"number", 1}, {"episodes", json::array({episode})}};
  show["seasons"] = json::array({season});
  h.seed({{"catalog", {{"shows", json::array({show})}}}});
  json out = body_of(h.post("/scrobble/pause",
                            {{"show", {{"ids", {{"simkl", 12345}, {"tmdb", 1429}}}}},
                             {"episode", {{"season", 1}, {"number", 1}}},
                             {"progress", 45.5}},
                            auth()));
  out["id"] = pause["id"];
  EXPECT_EQ(out, pause);
}

TEST_F(SimklTest, GeneratedUniverseFillsTheLibrary) {
  GenerateOptions o;
  o.movies = 40;
  o.shows = 6;
  o.plays = 80;
  o.watchlist = 10;
  o.ratings = 10;
  const json u = generate_universe(o);
  ASSERT_EQ(h.client().Post("/__sandbox/universe", u.dump(), "application/json")->status, 200);
  json lib = body_of(h.get("/sync/all-items?extended=full&episode_watched_at=yes", auth()));
  std::size_t planned = 0, rows = 0;
  for (const auto& [bucket, list] : lib.items()) {
    for (const auto& row : list) {
      ++rows;
      planned += row["status"] == "plantowatch";
    }
  }
  EXPECT_GT(rows, 10u);
  EXPECT_GE(planned, 1u);
  EXPECT_LE(planned, 10u);  // a planned title that was played since is no longer planned
}

// ---- what SIMKL's documentation shows, for seeded and generated data ----

// Every id but simkl is a string in library reads, whatever type the id was written with.
void expect_library_ids(const json& ids, const std::string& where) {
  ASSERT_TRUE(ids.is_object()) << where;
  ASSERT_TRUE(ids.contains("simkl")) << where << ": every row has ids.simkl";
  EXPECT_TRUE(ids["simkl"].is_number_integer()) << where;
  for (const auto& [k, v] : ids.items()) {
    if (k != "simkl") {
      EXPECT_TRUE(v.is_string()) << where << ": ids." << k << " = " << v.dump();
    }
  }
}

TEST_F(SimklTest, LibraryReadsPrintIdsAsStrings) {
  json cat = catalog();
  cat["movies"][0]["ids"]["tmdb"] = 157336;  // written as a number
  h.seed({{"catalog", cat}});
  h.post("/sync/history", {{"movies", json::array({{{"ids", {{"tmdb", 157336}}}}})}}, auth());
  h.post("/sync/add-to-list",
         {{"shows", json::array({{{"to", "plantowatch"}, {"ids", {{"tvdb", 305288}}}}})}}, auth());
  h.post("/sync/ratings", {{"movies", json::array({{{"ids", {{"simkl", 1001}}}, {"rating", 8}}})}},
         auth());
  json lib = body_of(h.get("/sync/all-items", auth()));
  expect_library_ids(lib["movies"][0]["movie"]["ids"], "all-items movie");
  EXPECT_EQ(lib["movies"][0]["movie"]["ids"]["tmdb"], "157336");
  expect_library_ids(lib["shows"][0]["show"]["ids"], "all-items show");
  EXPECT_EQ(lib["shows"][0]["show"]["ids"]["tvdb"], "305288");
  json ids_only = body_of(h.get("/sync/all-items/movies?extended=ids_only", auth()));
  expect_library_ids(ids_only["movies"][0]["movie"]["ids"], "ids_only");
  json ratings = body_of(h.get("/sync/ratings/movies", auth()));
  expect_library_ids(ratings["movies"][0]["movie"]["ids"], "ratings");
}

TEST_F(SimklTest, IdLookupAnswersWithTheDocumentedFields) {
  const std::string client = "&client_id=" + std::string(k_client);
  json hits = body_of(h.get("/search/id?imdb=http://www.imdb.com/title/tt0816692/" + client));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0], (json{{"type", "movie"},
                           {"title", "Interstellar"},
                           {"year", 2014},
                           {"status", "released"},
                           {"ids", {{"simkl", 1001}}}}));
  hits = body_of(h.get("/search/id?tvdb=305288" + client));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["type"], "tv");
  EXPECT_EQ(hits[0]["status"], "ended");
  EXPECT_EQ(hits[0]["total_episodes"], 5);
  EXPECT_FALSE(hits[0]["ids"].contains("tvdb")) << "the lookup prints simkl and slug only";
  hits = body_of(h.get("/search/id?mal=16498" + client));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["type"], "anime");
  EXPECT_EQ(hits[0]["total_episodes"], 2);
  // A tmdb id names a movie unless type=show.
  EXPECT_EQ(body_of(h.get("/search/id?tmdb=157336" + client)).size(), 1u);
  EXPECT_EQ(body_of(h.get("/search/id?tmdb=157336&type=show" + client)).size(), 0u);
}

TEST_F(SimklTest, GeneratedRowsCarryWhatSimklComputes) {
  GenerateOptions o;
  o.movies = 30;
  o.shows = 6;
  o.plays = 80;
  o.watchlist = 10;
  o.ratings = 10;
  o.progress = 12;
  const json u = generate_universe(o);
  ASSERT_EQ(h.client().Post("/__sandbox/universe", u.dump(), "application/json")->status, 200);
  json lib = body_of(h.get("/sync/all-items", auth()));
  std::size_t shows = 0;
  for (const auto& [bucket, list] : lib.items()) {
    for (const auto& row : list) {
      const char* key = bucket == "movies" ? "movie" : "show";
      expect_library_ids(row[key]["ids"], bucket);
      EXPECT_TRUE(row[key]["ids"].contains("slug")) << row.dump();
      if (bucket == "movies") continue;
      ++shows;
      for (const char* k : {"last_watched", "next_to_watch", "watched_episodes_count",
                            "total_episodes_count", "not_aired_episodes_count"}) {
        EXPECT_TRUE(row.contains(k)) << k << " in " << row.dump();
      }
      EXPECT_GT(row["total_episodes_count"].get<int>(), 0) << row.dump();
      if (row["watched_episodes_count"].get<int>() > 0) {
        EXPECT_TRUE(row["last_watched"].is_string()) << row.dump();
      } else {
        EXPECT_TRUE(row["last_watched"].is_null()) << row.dump();
      }
    }
  }
  EXPECT_GT(shows, 0u);
  json playback = body_of(h.get("/sync/playback", auth()));
  ASSERT_GT(playback.size(), 0u);
  std::size_t episodes = 0;
  for (const auto& row : playback) {
    const std::string paused = row["paused_at"].get<std::string>();
    EXPECT_EQ(paused.size(), 24u) << paused << " (milliseconds, as SIMKL prints them)";
    EXPECT_EQ(paused[19], '.') << paused;
    if (row["type"] != "episode") continue;
    ++episodes;
    for (const char* k : {"season", "episode", "title", "tvdb_season", "tvdb_number"}) {
      EXPECT_TRUE(row["episode"].contains(k)) << k << " in " << row.dump();
    }
    const json& media = row.contains("show") ? row["show"] : row["anime"];
    EXPECT_TRUE(media["ids"]["simkl"].is_number_integer()) << row.dump();
  }
  EXPECT_GT(episodes, 0u);
}

TEST_F(SimklTest, UnknownRoutesUseTheErrorEnvelope) {
  auto r = h.get("/sync/nothing", auth());
  ASSERT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r), (json{{"error", "url_failed"}, {"code", 404}, {"message", "Wrong URL"}}));
  r = h.client().Put("/sync/history", auth(), "{}", "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r)["error"], "url_failed");
}

}  // namespace
}  // namespace cw::fakes
