// Fake TMDb v3: api_key/session checks, session flow, account lists with paging, watchlist and
// rating writes with TMDb's status codes, external ids, and the examples of TMDb's OpenAPI.
#include <gtest/gtest.h>

#include "core/generator.hpp"
#include "tests/tracker_harness.hpp"
#include "tmdb/tmdb_fake.hpp"

namespace cw::fakes {
namespace {

using nlohmann::json;
using testing::body_of;
using testing::Harness;

constexpr const char* k_key = "cwsandboxtmdbapikey0000000000000";
constexpr const char* k_session = "cw-sandbox-tmdb-session-id";
constexpr const char* k_account = "20871234";

std::string q(const std::string& path, bool session = true) {
  std::string out = path + (path.find('?') == std::string::npos ? "?" : "&") + "api_key=" + k_key;
  if (session) out += std::string("&session_id=") + k_session;
  return out;
}

json catalog(int movies) {
  json m = json::array();
  for (int i = 0; i < movies; ++i) {
    m.push_back({{"id", 600 + i},
                 {"title", "Movie " + std::to_string(i)},
                 {"external_ids", {{"imdb_id", "tt01" + std::to_string(10000 + i)}}}});
  }
  return {{"movies", m},
          {"tv", json::array({{{"id", 1396},
                               {"name", "Breaking Bad"},
                               {"external_ids", {{"imdb_id", "tt0903747"}, {"tvdb_id", 81189}}}}})},
          {"episodes", json::array({{{"id", 62085},
                                     {"show_id", 1396},
                                     {"season_number", 1},
                                     {"episode_number", 1},
                                     {"name", "Pilot"}}})}};
}

class TmdbTest : public ::testing::Test {
 protected:
  void SetUp() override { h.seed({{"catalog", catalog(45)}}); }
  Harness h{make_tmdb_fake()};
};

TEST_F(TmdbTest, ApiKeyAndSessionErrorsUseTmdbCodes) {
  auto r = h.get("/3/account/" + std::string(k_account) + "?session_id=" + k_session);
  ASSERT_EQ(r->status, 401);
  EXPECT_EQ(body_of(r),
            (json{{"success", false},
                  {"status_code", 7},
                  {"status_message", "Invalid API key: You must be granted a valid key."}}));
  r = h.get(q("/3/account/" + std::string(k_account), false));
  ASSERT_EQ(r->status, 401);
  EXPECT_EQ(body_of(r)["status_code"], 3);
  r = h.get(q("/3/account/" + std::string(k_account)));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["id"], 20871234);
  r = h.get("/3/movie/600/external_ids",
            {{"Authorization", "Bearer cw-sandbox-tmdb-read-access-token"}});
  EXPECT_EQ(r->status, 200);
}

TEST_F(TmdbTest, WatchlistWritesReportOneTwelveThirteen) {
  const std::string path = q("/3/account/" + std::string(k_account) + "/watchlist");
  auto r = h.post(path, {{"media_type", "movie"}, {"media_id", 603}, {"watchlist", true}});
  ASSERT_EQ(r->status, 201);
  EXPECT_EQ(body_of(r)["status_code"], 1);
  r = h.post(path, {{"media_type", "movie"}, {"media_id", 603}, {"watchlist", true}});
  EXPECT_EQ(body_of(r)["status_code"], 12);
  r = h.post(path, {{"media_type", "tv"}, {"media_id", 1396}, {"watchlist", true}});
  EXPECT_EQ(r->status, 201);
  json movies = body_of(h.get(
      q("/3/account/" + std::string(k_account) + "/watchlist/movies?sort_by=created_at.asc")));
  ASSERT_EQ(movies["results"].size(), 1u);
  EXPECT_EQ(movies["results"][0]["id"], 603);
  EXPECT_FALSE(movies["results"][0].contains("external_ids"));
  EXPECT_TRUE(movies["results"][0].contains("vote_average"));
  r = h.post(path, {{"media_type", "movie"}, {"media_id", 603}, {"watchlist", false}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["status_code"], 13);
  r = h.post(path, {{"media_type", "movie"}, {"media_id", 999999}, {"watchlist", true}});
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r)["status_code"], 34);
}

TEST_F(TmdbTest, ListsPageAtTwentyAndRejectPageZero) {
  const std::string path = q("/3/account/" + std::string(k_account) + "/watchlist");
  for (int i = 0; i < 45; ++i)
    h.post(path, {{"media_type", "movie"}, {"media_id", 600 + i}, {"watchlist", true}});
  json p1 = body_of(h.get(q("/3/account/" + std::string(k_account) + "/watchlist/movies")));
  EXPECT_EQ(p1["total_pages"], 3);
  EXPECT_EQ(p1["total_results"], 45);
  EXPECT_EQ(p1["results"].size(), 20u);
  EXPECT_EQ(p1["results"][0]["id"], 600);
  json p3 = body_of(h.get(q("/3/account/" + std::string(k_account) + "/watchlist/movies?page=3")));
  EXPECT_EQ(p3["results"].size(), 5u);
  json desc = body_of(h.get(
      q("/3/account/" + std::string(k_account) + "/watchlist/movies?sort_by=created_at.desc")));
  EXPECT_EQ(desc["results"][0]["id"], 644);
  auto r = h.get(q("/3/account/" + std::string(k_account) + "/watchlist/movies?page=0"));
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body_of(r)["status_code"], 22);
}

TEST_F(TmdbTest, RatingsAcceptHalfStepsOnly) {
  auto r = h.post(q("/3/movie/603/rating"), {{"value", 8.5}});
  ASSERT_EQ(r->status, 201);
  EXPECT_EQ(body_of(r)["status_code"], 1);
  EXPECT_EQ(h.post(q("/3/movie/603/rating"), {{"value", 8.3}})->status, 400);
  EXPECT_EQ(h.post(q("/3/movie/603/rating"), {{"value", 0}})->status, 400);
  EXPECT_EQ(h.post(q("/3/movie/603/rating"), {{"value", 10.5}})->status, 400);
  EXPECT_EQ(body_of(h.post(q("/3/movie/603/rating"), {{"value", 7}}))["status_code"], 12);
  h.post(q("/3/tv/1396/rating"), {{"value", 9}});
  h.post(q("/3/tv/1396/season/1/episode/1/rating"), {{"value", 6.5}});
  json rated = body_of(h.get(q("/3/account/" + std::string(k_account) + "/rated/movies")));
  ASSERT_EQ(rated["results"].size(), 1u);
  EXPECT_EQ(rated["results"][0]["rating"], 7);
  json eps = body_of(h.get(q("/3/account/" + std::string(k_account) + "/rated/tv/episodes")));
  ASSERT_EQ(eps["results"].size(), 1u);
  EXPECT_EQ(eps["results"][0]["show_id"], 1396);
  EXPECT_EQ(eps["results"][0]["rating"], 6.5);
  r = h.del(q("/3/movie/603/rating"));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["status_code"], 13);
  EXPECT_EQ(h.del(q("/3/movie/603/rating"))->status, 404);
  EXPECT_EQ(h.post(q("/3/tv/1396/season/9/episode/9/rating"), {{"value", 5}})->status, 404);
}

TEST_F(TmdbTest, SessionNeedsAnApprovedRequestToken) {
  json token = body_of(h.get(q("/3/authentication/token/new", false)));
  ASSERT_TRUE(token["success"].get<bool>());
  EXPECT_EQ(token["expires_at"].get<std::string>().size(), 23u);  // "2026-04-02 19:00:00 UTC"
  auto r = h.post(q("/3/authentication/session/new", false),
                  {{"request_token", token["request_token"]}});
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(body_of(r)["status_code"], 41);
  ASSERT_EQ(h.post("/__sandbox/oauth/approve", {{"request_token", token["request_token"]}})->status,
            200);
  r = h.post(q("/3/authentication/session/new", false),
             {{"request_token", token["request_token"]}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["session_id"], k_session);
  r = h.post(q("/3/authentication/session/new", false), {{"request_token", "unknown"}});
  EXPECT_EQ(body_of(r)["status_code"], 33);
}

TEST_F(TmdbTest, ExternalIdsAndFind) {
  json ext = body_of(h.get(q("/3/tv/1396/external_ids", false)));
  EXPECT_EQ(ext["tvdb_id"], 81189);
  EXPECT_EQ(ext["imdb_id"], "tt0903747");
  EXPECT_EQ(h.get(q("/3/movie/1/external_ids", false))->status, 404);
  json found = body_of(h.get(q("/3/find/tt0110005?external_source=imdb_id", false)));
  ASSERT_EQ(found["movie_results"].size(), 1u);
  EXPECT_EQ(found["movie_results"][0]["id"], 605);
  EXPECT_EQ(found["movie_results"][0]["media_type"], "movie");
  found = body_of(h.get(q("/3/find/81189?external_source=tvdb_id", false)));
  EXPECT_EQ(found["tv_results"][0]["id"], 1396);
}

TEST_F(TmdbTest, InjectedFaultsAnswerInTmdbFormat) {
  h.fault({{"endpoint", "/rated/"}, {"status", 429}, {"count", 1}, {"retry_after_s", 2}});
  auto r = h.get(q("/3/account/" + std::string(k_account) + "/rated/movies"));
  ASSERT_EQ(r->status, 429);
  EXPECT_EQ(body_of(r)["status_code"], 25);
  EXPECT_EQ(r->get_header_value("Retry-After"), "2");
  h.fault({{"endpoint", "/account"}, {"expire_token", true}, {"count", 1}});
  r = h.get(q("/3/account/" + std::string(k_account)));
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(body_of(r)["status_code"], 3);
}

// ---- examples of TMDb's own OpenAPI document ----

TEST_F(TmdbTest, AccountListsServeTheOpenApiExamples) {
  CW_REQUIRE_SHARED(spec, std::string("api-reference/tmdb/tmdb-api.json"));
  auto example = [&](const std::string& path) {
    const json& content =
        (*spec)["paths"][path]["get"]["responses"]["200"]["content"]["application/json"];
    for (const auto& [name, ex] : content["examples"].items())
      return json::parse(ex["value"].get<std::string>());
    return json();
  };
  const std::string base = "/3/account/{account_id}";
  const json wl_movies = example(base + "/watchlist/movies");
  const json wl_tv = example(base + "/watchlist/tv");
  const json rated_movies = example(base + "/rated/movies");
  const json rated_tv = example(base + "/rated/tv");
  const json rated_eps = example(base + "/rated/tv/episodes");
  const json account = example(base);
  ASSERT_FALSE(rated_movies["results"].empty());
  // Watchlist and rated examples come from different accounts' snapshots: seed them apart so
  // that one title's two snapshots do not meet in the catalog.
  h.seed({{"account", account},
          {"watchlist", {{"movies", wl_movies["results"]}, {"tv", wl_tv["results"]}}},
          {"options", {{"page_size", 1000}}}});
  const std::string id = std::to_string(account["id"].get<std::int64_t>());
  EXPECT_EQ(body_of(h.get(q("/3/account/" + id))), account);
  EXPECT_EQ(body_of(h.get(q("/3/account/" + id + "/watchlist/movies")))["results"],
            wl_movies["results"]);
  EXPECT_EQ(body_of(h.get(q("/3/account/" + id + "/watchlist/tv")))["results"], wl_tv["results"]);
  h.seed({{"account", account},
          {"rated",
           {{"movies", rated_movies["results"]},
            {"tv", rated_tv["results"]},
            {"episodes", rated_eps["results"]}}},
          {"options", {{"page_size", 1000}}}});
  EXPECT_EQ(body_of(h.get(q("/3/account/" + id + "/rated/movies")))["results"],
            rated_movies["results"]);
  EXPECT_EQ(body_of(h.get(q("/3/account/" + id + "/rated/tv")))["results"], rated_tv["results"]);
  EXPECT_EQ(body_of(h.get(q("/3/account/" + id + "/rated/tv/episodes")))["results"],
            rated_eps["results"]);
}

TEST_F(TmdbTest, GeneratedUniverseFillsWatchlistAndRatings) {
  GenerateOptions o;
  o.movies = 30;
  o.shows = 5;
  o.watchlist = 12;
  o.ratings = 9;
  const json u = generate_universe(o);
  ASSERT_EQ(h.client().Post("/__sandbox/universe", u.dump(), "application/json")->status, 200);
  const std::string acc = "/3/account/" + std::string(k_account);
  const int wl = body_of(h.get(q(acc + "/watchlist/movies")))["total_results"].get<int>() +
                 body_of(h.get(q(acc + "/watchlist/tv")))["total_results"].get<int>();
  EXPECT_EQ(wl, 12);  // every generated title has a tmdb id
  const int rated = body_of(h.get(q(acc + "/rated/movies")))["total_results"].get<int>() +
                    body_of(h.get(q(acc + "/rated/tv")))["total_results"].get<int>() +
                    body_of(h.get(q(acc + "/rated/tv/episodes")))["total_results"].get<int>();
  EXPECT_EQ(rated, 9);
}

// ---- details, configuration, episode ids, v4 ----

TEST_F(TmdbTest, MovieAndTvDetailsWithExternalIdsAppended) {
  auto r = h.get(q("/3/movie/600", false));
  ASSERT_EQ(r->status, 200) << r->body;
  json m = body_of(r);
  EXPECT_EQ(m["id"], 600);
  EXPECT_EQ(m["title"], "Movie 0");
  EXPECT_EQ(m["imdb_id"], "tt0110000");
  for (const char* k :
       {"belongs_to_collection", "budget", "genres", "homepage", "revenue", "runtime",
        "spoken_languages", "status", "tagline", "production_companies"}) {
    EXPECT_TRUE(m.contains(k)) << k;
  }
  EXPECT_FALSE(m.contains("genre_ids")) << "details list genres, not genre_ids";
  EXPECT_FALSE(m.contains("external_ids")) << "only with append_to_response";
  m = body_of(h.get(q("/3/movie/600?append_to_response=external_ids,credits", false)));
  EXPECT_EQ(m["external_ids"]["imdb_id"], "tt0110000");
  EXPECT_FALSE(m["external_ids"].contains("id"));
  EXPECT_FALSE(m.contains("credits")) << "the fake answers only what it models";

  r = h.get(q("/3/tv/1396?append_to_response=external_ids", false));
  ASSERT_EQ(r->status, 200) << r->body;
  json t = body_of(r);
  EXPECT_EQ(t["name"], "Breaking Bad");
  EXPECT_EQ(t["external_ids"]["tvdb_id"], 81189);
  EXPECT_EQ(t["external_ids"]["imdb_id"], "tt0903747");
  EXPECT_EQ(t["number_of_episodes"], 1);
  EXPECT_EQ(t["number_of_seasons"], 1);
  ASSERT_EQ(t["seasons"].size(), 1u);
  EXPECT_EQ(t["seasons"][0]["episode_count"], 1);
  EXPECT_EQ(t["last_episode_to_air"]["name"], "Pilot");

  r = h.get(q("/3/movie/999999", false));
  ASSERT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r)["status_code"], 34);
  EXPECT_EQ(body_of(r)["success"], false);
  r = h.get("/3/movie/600?api_key=wrong");
  ASSERT_EQ(r->status, 401);
  EXPECT_EQ(body_of(r)["status_code"], 7);
}

TEST_F(TmdbTest, ConfigurationServesTheImageBase) {
  auto r = h.get(q("/3/configuration", false));
  ASSERT_EQ(r->status, 200);
  json c = body_of(r);
  EXPECT_EQ(c["images"]["secure_base_url"], "https://image.tmdb.org/t/p/");
  EXPECT_GT(c["images"]["poster_sizes"].size(), 3u);
  EXPECT_TRUE(c["change_keys"].is_array());
  EXPECT_EQ(h.get("/3/configuration")->status, 401);
}

TEST_F(TmdbTest, EpisodeIdsAndFindByTvdbAndImdb) {
  GenerateOptions o;
  o.movies = 5;
  o.shows = 2;
  const json u = generate_universe(o);
  ASSERT_EQ(h.client().Post("/__sandbox/universe", u.dump(), "application/json")->status, 200);
  const json& show = u["shows"][0];
  const json& ep = show["seasons"][0]["episodes"][0];
  const std::string show_id = show["ids"]["tmdb"].get<std::string>();
  auto r = h.get(q("/3/tv/" + show_id + "/season/" +
                       std::to_string(show["seasons"][0]["number"].get<int>()) + "/episode/" +
                       std::to_string(ep["number"].get<int>()) + "/external_ids",
                   false));
  ASSERT_EQ(r->status, 200) << r->body;
  json ext = body_of(r);
  EXPECT_EQ(std::to_string(ext["tvdb_id"].get<long long>()), ep["ids"]["tvdb"].get<std::string>());
  json found = body_of(h.get(
      q("/3/find/" + ep["ids"]["tvdb"].get<std::string>() + "?external_source=tvdb_id", false)));
  ASSERT_EQ(found["tv_episode_results"].size(), 1u) << found.dump();
  EXPECT_EQ(found["tv_episode_results"][0]["media_type"], "tv_episode");
  EXPECT_EQ(std::to_string(found["tv_episode_results"][0]["show_id"].get<long long>()), show_id);
  found = body_of(h.get(
      q("/3/find/" + show["ids"]["tvdb"].get<std::string>() + "?external_source=tvdb_id", false)));
  ASSERT_EQ(found["tv_results"].size(), 1u) << found.dump();
  const json& movie = u["movies"][0];
  if (movie["ids"].contains("imdb")) {
    found = body_of(h.get(q(
        "/3/find/" + movie["ids"]["imdb"].get<std::string>() + "?external_source=imdb_id", false)));
    ASSERT_EQ(found["movie_results"].size(), 1u) << found.dump();
    EXPECT_FALSE(found["movie_results"][0].contains("runtime"));
  }
  json details = body_of(h.get(q("/3/movie/" + movie["ids"]["tmdb"].get<std::string>(), false)));
  EXPECT_EQ(details["runtime"], movie["duration_ms"].get<long long>() / 60000);
}

TEST_F(TmdbTest, V4TokenFlowAccountListsAndSessionConversion) {
  const httplib::Headers app = {{"Authorization", "Bearer cw-sandbox-tmdb-read-access-token"}};
  auto r = h.post("/4/auth/request_token", json::object(), app);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string request = body_of(r)["request_token"];
  r = h.post("/4/auth/access_token", {{"request_token", request}}, app);
  EXPECT_EQ(r->status, 422) << "not approved yet";
  ASSERT_EQ(h.post("/__sandbox/oauth/approve", {{"request_token", request}})->status, 200);
  r = h.post("/4/auth/access_token", {{"request_token", request}}, app);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string access = body_of(r)["access_token"];
  const std::string object_id = body_of(r)["account_id"];
  EXPECT_EQ(object_id.size(), 24u);
  EXPECT_EQ(h.post("/4/auth/access_token", {{"request_token", request}}, app)->status, 401)
      << "a request token is used once";
  const httplib::Headers user = {{"Authorization", "Bearer " + access}};
  // Writes go through v3 with a session converted from the v4 token.
  r = h.post("/3/authentication/session/convert/4?api_key=" + std::string(k_key),
             {{"access_token", access}});
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string session = body_of(r)["session_id"];
  r = h.post("/3/movie/601/rating?api_key=" + std::string(k_key) + "&session_id=" + session,
             {{"value", 7.5}});
  ASSERT_EQ(r->status, 201) << r->body;
  r = h.post("/3/account/" + std::string(k_account) + "/watchlist?session_id=" + session,
             {{"media_type", "tv"}, {"media_id", 1396}, {"watchlist", true}}, user);
  ASSERT_EQ(r->status, 201) << "a v4 user token is accepted as the app credential of v3";
  r = h.get("/4/account/" + object_id + "/movie/rated", user);
  ASSERT_EQ(r->status, 200) << r->body;
  json rated = body_of(r);
  ASSERT_EQ(rated["results"].size(), 1u);
  EXPECT_EQ(rated["results"][0]["id"], 601);
  EXPECT_EQ(rated["results"][0]["account_rating"]["value"], 7.5);
  EXPECT_FALSE(rated["results"][0].contains("rating"));
  EXPECT_EQ(rated["total_results"], 1);
  json wl = body_of(h.get("/4/account/" + object_id + "/tv/watchlist", user));
  ASSERT_EQ(wl["results"].size(), 1u);
  EXPECT_EQ(wl["results"][0]["id"], 1396);
  r = h.get("/4/account/" + object_id + "/movie/watchlist", app);
  ASSERT_EQ(r->status, 401) << "the app token is not a user token";
  EXPECT_EQ(body_of(r)["status_code"], 3);
  r = h.get("/4/account/000000000000000000000000/movie/watchlist", user);
  EXPECT_EQ(r->status, 404);
  r = h.del("/4/auth/access_token", app);
  EXPECT_EQ(r->status, 404);
  r = h.client().Delete("/4/auth/access_token", app, json{{"access_token", access}}.dump(),
                        "application/json");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(h.get("/4/account/" + object_id + "/tv/watchlist", user)->status, 401);
}

TEST_F(TmdbTest, UnknownRoutesAnswerInTmdbErrorFormat) {
  for (const char* path : {"/3/no/such/route", "/4/nothing", "/favicon.ico"}) {
    auto r = h.get(q(path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(body_of(r),
              (json{{"success", false},
                    {"status_code", 34},
                    {"status_message", "The resource you requested could not be found."}}))
        << path;
  }
  auto r = h.client().Put(q("/3/movie/603/rating"), "{}", "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r)["status_code"], 34);
}

}  // namespace
}  // namespace cw::fakes
