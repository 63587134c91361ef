// Fake MDBList: apikey/bearer auth, daily quota, watchlist paging, ratings, watched plays,
// journal and the OAuth device flow.
#include <gtest/gtest.h>

#include "core/generator.hpp"
#include "mdblist/mdblist_fake.hpp"
#include "tests/tracker_harness.hpp"

namespace cw::fakes {
namespace {

using nlohmann::json;
using testing::body_of;
using testing::Harness;

constexpr const char* k_key = "cwsandboxmdblistapikey";

std::string k(const std::string& path) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + "apikey=" + k_key;
}

json catalog() {
  json movies = json::array();
  for (int i = 0; i < 5; ++i) {
    movies.push_back({{"title", "Movie " + std::to_string(i)},
                      {"year", 2000 + i},
                      {"ids", {{"imdb", "tt00000" + std::to_string(10 + i)}, {"tmdb", 100 + i}}}});
  }
  return {
      {"movies", movies},
      {"shows",
       json::array(
           {{{"title", "Show"},
             {"year", 2008},
             {"ids", {{"imdb", "tt0903747"}, {"tmdb", 1396}, {"tvdb", 81189}}},
             {"seasons",
              json::array({{{"number", 1},
                            {"episodes", json::array({{{"number", 1}}, {{"number", 2}}})}}})}}})}};
}

class MdblistTest : public ::testing::Test {
 protected:
  void SetUp() override { h.seed({{"catalog", catalog()}}); }
  Harness h{make_mdblist_fake()};
};

TEST_F(MdblistTest, ApiKeyOrBearerElse401) {
  auto r = h.get("/user");
  ASSERT_EQ(r->status, 401);
  EXPECT_TRUE(body_of(r).contains("error"));
  EXPECT_EQ(h.get(k("/user"))->status, 200);
  EXPECT_EQ(h.get("/user", {{"Authorization", "Bearer cw-sandbox-mdblist-access-token"}})->status,
            200);
  EXPECT_EQ(body_of(h.get(k("/user")))["limits"]["api_requests"], 1000);
}

// A revoked key gets the same 401 as an unknown one: the expire_token fault covers the API
// key too, so the conformance kit's expired-token drill applies to MDBList.
TEST_F(MdblistTest, AnExpireTokenFaultRevokesTheApiKey) {
  h.fault({{"endpoint", "/user"}, {"expire_token", true}, {"count", 1}});
  EXPECT_EQ(h.get(k("/user"))->status, 401);
  EXPECT_EQ(h.get(k("/user"))->status, 200);
}

TEST_F(MdblistTest, DailyQuotaAnswers429UntilReset) {
  h.seed({{"catalog", catalog()}, {"options", {{"daily_limit", 3}}}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.get(k("/user"))->status, 200);
  auto r = h.get(k("/user"));
  EXPECT_EQ(r->status, 429);
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());
  ASSERT_EQ(h.post("/__sandbox/quota/reset", json::object())->status, 200);
  EXPECT_EQ(h.get(k("/user"))->status, 200);
}

TEST_F(MdblistTest, WatchlistAddPageRemove) {
  json body = {{"movies", json::array()},
               {"shows", json::array({{{"imdb", "tt0903747"}, {"tmdb", 1396}}})}};
  for (int i = 0; i < 5; ++i)
    body["movies"].push_back({{"imdb", "tt00000" + std::to_string(10 + i)}});
  body["movies"].push_back({{"imdb", "tt9999999"}});
  auto r = h.post(k("/watchlist/items/add"), body);
  ASSERT_EQ(r->status, 200);
  json out = body_of(r);
  EXPECT_EQ(out["added"], (json{{"movies", 5}, {"shows", 1}}));
  EXPECT_EQ(out["not_found"]["movies"], 1);
  EXPECT_EQ(body_of(h.post(k("/watchlist/items/add"), body))["existing"]["movies"], 5);
  json p1 = body_of(h.get(k("/watchlist/items?limit=4&offset=0&unified=true")));
  EXPECT_EQ(p1["movies"].size(), 4u);
  EXPECT_TRUE(p1["pagination"]["has_more"].get<bool>());
  EXPECT_EQ(p1["movies"][0]["id"], 100);  // the row id is the TMDb id
  EXPECT_EQ(p1["movies"][0]["imdb_id"], "tt0000010");
  json p2 = body_of(h.get(k("/watchlist/items?limit=4&offset=4&unified=true")));
  EXPECT_EQ(p2["movies"].size(), 1u);
  EXPECT_EQ(p2["shows"].size(), 1u);
  EXPECT_FALSE(p2["pagination"]["has_more"].get<bool>());
  h.seed({{"catalog", catalog()}, {"options", {{"not_found_as_count", false}}}});
  out = body_of(
      h.post(k("/watchlist/items/remove"), {{"movies", json::array({{{"imdb", "tt9999999"}}})}}));
  EXPECT_EQ(out["not_found"]["movies"], json::array({{{"imdb", "tt9999999"}}}));
}

// The reply form MDBList documents for list writes: "response": true, counters, and not_found
// as counts; every write endpoint answers in it.
TEST_F(MdblistTest, WriteRepliesFollowTheDocumentedForm) {
  const json movies = json::array({{{"imdb", "tt0000010"}}, {{"imdb", "tt9999999"}}});
  json out = body_of(h.post(k("/watchlist/items/add"), {{"movies", movies}}));
  EXPECT_EQ(out, (json{{"response", true},
                       {"added", {{"movies", 1}, {"shows", 0}}},
                       {"existing", {{"movies", 0}, {"shows", 0}}},
                       {"not_found", {{"movies", 1}, {"shows", 0}}}}));
  out = body_of(h.post(k("/watchlist/items/remove"), {{"movies", movies}}));
  EXPECT_EQ(out, (json{{"response", true},
                       {"deleted", {{"movies", 1}, {"shows", 0}}},
                       {"not_found", {{"movies", 1}, {"shows", 0}}}}));
  const json sync_movies = json::array({{{"ids", {{"imdb", "tt0000010"}}}, {"rating", 8}},
                                        {{"ids", {{"imdb", "tt9999999"}}}, {"rating", 8}}});
  out = body_of(h.post(k("/sync/ratings"), {{"movies", sync_movies}}));
  EXPECT_EQ(out["response"], true);
  EXPECT_EQ(out["not_found"]["movies"], 1);
  out = body_of(h.post(k("/sync/watched"), {{"movies", sync_movies}}));
  EXPECT_EQ(out["response"], true);
  EXPECT_EQ(out["not_found"]["movies"], 1);
  out = body_of(h.post(k("/sync/watched/remove"), {{"movies", sync_movies}}));
  EXPECT_EQ(out["response"], true);
  EXPECT_EQ(out["removed"]["movies"], 1);
  auto r = h.post(k("/lists/user/add"), {{"name", "Static"}});
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string list = std::to_string(body_of(r)["id"].get<std::int64_t>());
  out = body_of(h.post(k("/lists/" + list + "/items/add"), {{"movies", movies}}));
  EXPECT_EQ(out, (json{{"response", true},
                       {"added", {{"movies", 1}, {"shows", 0}}},
                       {"existing", {{"movies", 0}, {"shows", 0}}},
                       {"not_found", {{"movies", 1}, {"shows", 0}}}}));
  out = body_of(h.post(k("/lists/" + list + "/items/remove"), {{"movies", movies}}));
  EXPECT_EQ(out, (json{{"response", true},
                       {"deleted", {{"movies", 1}, {"shows", 0}}},
                       {"not_found", {{"movies", 1}, {"shows", 0}}}}));
}

TEST_F(MdblistTest, QuotaHeadersOnEveryAnswerAndOnThe429) {
  h.seed({{"catalog", catalog()}, {"options", {{"daily_limit", 2}}}});
  auto r = h.get(k("/user"));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-RateLimit-Limit"), "2");
  EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), "1");
  const long long reset = std::stoll(r->get_header_value("X-RateLimit-Reset"));
  EXPECT_EQ(reset % 86400, 0) << "the quota resets at UTC midnight";
  EXPECT_GT(reset * 1000, h.server().context().now_ms());
  EXPECT_LE(reset * 1000 - h.server().context().now_ms(), 86400000);
  EXPECT_EQ(h.get(k("/user"))->get_header_value("X-RateLimit-Remaining"), "0");
  r = h.get(k("/user"));
  ASSERT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), "0");
  EXPECT_EQ(r->get_header_value("X-RateLimit-Reset"), std::to_string(reset));
  EXPECT_LE(std::stoll(r->get_header_value("Retry-After")), 86400);
  // The next UTC day starts a fresh quota.
  h.advance_clock(86400000);
  r = h.get(k("/user"));
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), "1");
}

TEST_F(MdblistTest, WatchedPlaysReportAddedCollapseAndRemoveById) {
  json body = {
      {"movies", json::array({{{"ids", {{"tmdb", 100}}}, {"watched_at", "2026-01-01T00:00:00Z"}}})},
      {"shows",
       json::array(
           {{{"ids", {{"tmdb", 1396}}},
             {"seasons",
              json::array(
                  {{{"number", 1},
                    {"episodes", json::array({{{"number", 1},
                                               {"watched_at", "2026-01-02T00:00:00Z"}}})}}})}}})}};
  auto r = h.post(k("/sync/watched?report_added=true"), body);
  ASSERT_EQ(r->status, 200);
  json out = body_of(r);
  EXPECT_EQ(out["added"], (json{{"movies", 1}, {"episodes", 1}}));
  ASSERT_EQ(out["plays"].size(), 2u);
  EXPECT_TRUE(out["plays"][0]["added"].get<bool>());
  out = body_of(h.post(k("/sync/watched?report_added=true"), body));
  EXPECT_FALSE(out["plays"][0]["added"].get<bool>()) << "a same-second play collapses";
  json again = {{"movies", json::array({{{"ids", {{"tmdb", 100}}},
                                         {"watched_at", "2026-02-01T00:00:00Z"}}})}};
  h.post(k("/sync/watched"), again);
  json summary = body_of(h.get(k("/sync/watched")));
  ASSERT_EQ(summary["movies"].size(), 1u);
  EXPECT_EQ(summary["movies"][0]["plays"], 2);
  EXPECT_EQ(summary["movies"][0]["last_watched_at"], "2026-02-01T00:00:00Z");
  json plays = body_of(h.get(k("/sync/watched?plays=all")));
  ASSERT_EQ(plays["movies"].size(), 2u);
  const json id = plays["movies"][0]["id"];
  out = body_of(h.post(k("/sync/watched/plays/remove"), {{"play_ids", json::array({id, 1})}}));
  EXPECT_EQ(out["removed"], json::array({id}));
  EXPECT_EQ(out["not_found"], json::array({1}));
  out = body_of(h.post(k("/sync/watched/remove"),
                       {{"shows", json::array({{{"ids", {{"imdb", "tt0903747"}}}}})}}));
  EXPECT_EQ(out["removed"]["episodes"], 1);
  json journal = body_of(h.get(k("/sync/journal?limit=1000")));
  int removed = 0;
  for (const auto& e : journal["journal"])
    removed += e["category"] == "watched" && e["status"] == "removed";
  EXPECT_EQ(removed, 2);
}

TEST_F(MdblistTest, RatingsSinceAndRemove) {
  h.post(
      k("/sync/ratings"),
      {{"movies", json::array({{{"ids", {{"imdb", "tt0000010"}}},
                                {"rating", 8},
                                {"rated_at", "2025-01-01T00:00:00Z"}},
                               {{"ids", {{"imdb", "tt0000011"}}},
                                {"rating", 6},
                                {"rated_at", "2026-01-01T00:00:00Z"}}})},
       {"shows",
        json::array(
            {{{"ids", {{"tmdb", 1396}}},
              {"rating", 9},
              {"seasons",
               json::array({{{"number", 1},
                             {"episodes", json::array({{{"number", 2}, {"rating", 7}}})}}})}}})}});
  json all = body_of(h.get(k("/sync/ratings")));
  EXPECT_EQ(all["movies"].size(), 2u);
  EXPECT_EQ(all["episodes"].size(), 1u);
  EXPECT_EQ(all["episodes"][0]["episode"], (json{{"season", 1}, {"number", 2}}));
  json since = body_of(h.get(k("/sync/ratings?since=2025-06-01T00:00:00Z")));
  EXPECT_EQ(since["movies"].size(), 1u);
  auto r =
      h.post(k("/sync/ratings/remove"), {{"movies", json::array({{{"ids", {{"tmdb", 101}}}}})}});
  EXPECT_EQ(body_of(r)["removed"]["movies"], 1);
  const json acts = body_of(h.get(k("/sync/last_activities")));
  EXPECT_GT(acts["rated_at"].get<std::string>(), std::string("2024-01-01T00:00:00Z"));
}

TEST_F(MdblistTest, DeviceCodeFlowWithRefresh) {
  auto r = h.post_form("/oauth/device-authorization/",
                       {{"client_id", "cw-sandbox-mdblist-client"}, {"scope", "write"}});
  ASSERT_EQ(r->status, 200);
  const json dc = body_of(r);
  const httplib::Params poll = {{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                                {"device_code", dc["device_code"]},
                                {"client_id", "cw-sandbox-mdblist-client"}};
  r = h.post_form("/oauth/token/", poll);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body_of(r)["error"], "authorization_pending");
  h.post("/__sandbox/oauth/approve", {{"user_code", dc["user_code"]}});
  r = h.post_form("/oauth/token/", poll);
  ASSERT_EQ(r->status, 200);
  const json tokens = body_of(r);
  EXPECT_EQ(
      h.get("/user", {{"Authorization", "Bearer " + tokens["access_token"].get<std::string>()}})
          ->status,
      200);
  r = h.post_form("/oauth/token/",
                  {{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]}});
  ASSERT_EQ(r->status, 200);
  r = h.post_form("/oauth/token/",
                  {{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]}});
  EXPECT_EQ(r->status, 400);
}

TEST_F(MdblistTest, ScrobblePauseAndClear) {
  auto r = h.post(
      k("/scrobble/pause"),
      {{"movie", {{"ids", {{"imdb", "tt0000012"}}}}}, {"progress", 37.2}, {"app_version", "1"}});
  ASSERT_EQ(r->status, 200);
  const json id = body_of(r)["id"];
  json pb = body_of(h.get(k("/sync/playback")));
  ASSERT_EQ(pb.size(), 1u);
  EXPECT_EQ(pb[0]["progress"], 37.2);
  EXPECT_EQ(h.post(k("/scrobble/clear"), {{"id", id}})->status, 200);
  EXPECT_EQ(h.post(k("/scrobble/clear"), {{"id", id}})->status, 404);
}

TEST_F(MdblistTest, GeneratedUniverseFillsWatchlistAndPlays) {
  GenerateOptions o;
  o.movies = 30;
  o.shows = 4;
  o.plays = 50;
  o.watchlist = 12;
  const json u = generate_universe(o);
  ASSERT_EQ(h.client().Post("/__sandbox/universe", u.dump(), "application/json")->status, 200);
  json wl = body_of(h.get(k("/watchlist/items?limit=1000")));
  EXPECT_EQ(wl["movies"].size() + wl["shows"].size(), 12u);
  json plays = body_of(h.get(k("/sync/watched?plays=all&limit=1000")));
  EXPECT_EQ(plays["movies"].size() + plays["episodes"].size(), 50u);
}

TEST_F(MdblistTest, DroppedShowsArePaged) {
  h.seed({{"catalog", catalog()},
          {"dropped", json::array({{{"type", "show"},
                                    {"ids", {{"tmdb", 1396}}},
                                    {"dropped_at", "2026-02-01T00:00:00Z"}}})}});
  json out = body_of(h.get(k("/sync/dropped?offset=0&limit=1000")));
  ASSERT_EQ(out["shows"].size(), 1u);
  EXPECT_EQ(out["shows"][0]["show"]["title"], "Show");
  EXPECT_EQ(out["shows"][0]["dropped_at"], "2026-02-01T00:00:00Z");
  EXPECT_FALSE(out["pagination"]["has_more"].get<bool>());
}

TEST_F(MdblistTest, UnknownRoutesGetDjangosNotFoundPage) {
  auto r = h.get(k("/sync/nothing"));
  ASSERT_EQ(r->status, 404);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/html", 0), 0u);
  EXPECT_NE(r->body.find("<h1>Not Found</h1>"), std::string::npos);
}

}  // namespace
}  // namespace cw::fakes
