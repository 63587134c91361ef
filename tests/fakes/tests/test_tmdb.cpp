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

}  // namespace
}  // namespace cw::fakes
