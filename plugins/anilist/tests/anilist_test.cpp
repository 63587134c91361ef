// The AniList provider on the SDK's mock host: the user's score format read at run time
// and reported in health, exact score conversion, the planning list as the watchlist,
// chunked reads with honest completeness, GraphQL errors, and write outcomes.
#include "anilist.hpp"

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

Json media(std::int64_t id, std::int64_t mal, const char* title, const char* format = "TV",
           int year = 2019) {
  return {
      {"id", id},
      {"idMal", mal > 0 ? Json(mal) : Json()},
      {"format", format},
      {"seasonYear", year},
      {"startDate", {{"year", year}}},
      {"title",
       {{"romaji", std::string(title) + " (romaji)"}, {"english", title}, {"native", nullptr}}}};
}
Json entry(std::int64_t id, const char* status, double score, Json m) {
  return {{"id", id},       {"mediaId", m["id"]},      {"status", status},
          {"score", score}, {"updatedAt", 1700000000}, {"media", std::move(m)}};
}
Json collection(Json lists, bool more = false) {
  return {
      {"data", {{"MediaListCollection", {{"hasNextChunk", more}, {"lists", std::move(lists)}}}}}};
}
Json group(const char* status, Json entries, bool custom = false) {
  return {{"isCustomList", custom},
          {"status", custom ? Json() : Json(status)},
          {"entries", std::move(entries)}};
}
Json gql_error(const char* message, int status) {
  return {{"data", nullptr}, {"errors", Json::array({{{"message", message}, {"status", status}}})}};
}

// A scripted GraphQL server: the viewer, one collection reply, and what mutations return.
struct Script {
  std::string format = "POINT_10";
  Json collection_reply = collection(Json::array());
  std::vector<Json> mutations;  // {"query", "variables"} of every mutation received
  std::map<std::int64_t, Json> media_by_id;
  std::map<std::int64_t, Json> media_by_mal;
};

class AnilistTest : public ::testing::Test {
 protected:
  MockHost host;
  Script script;
  void SetUp() override {
    host.set_secret("access_token", "al-token");
    host.on("POST", "/").handle([this](const RecordedRequest& r) { return answer(r); });
  }
  PluginInstance make() {
    return PluginInstance(cwsdk::detail::provider_table<anilist::Anilist>(), host,
                          {{"url", "https://graphql.test"}, {"access_token", "${secret}"}});
  }
  MockReply answer(const RecordedRequest& r) {
    const Json body = r.json_body();
    const std::string q = body.value("query", "");
    const Json vars = body.value("variables", Json::object());
    if (q.find("CwViewer") != std::string::npos)
      return MockReply::json(200, {{"data",
                                    {{"Viewer",
                                      {{"id", 7},
                                       {"name", "yuki"},
                                       {"mediaListOptions", {{"scoreFormat", script.format}}}}}}}});
    if (q.find("CwList") != std::string::npos) return MockReply::json(200, script.collection_reply);
    if (q.find("CwMediaMal") != std::string::npos) {
      auto it = script.media_by_mal.find(vars.value("idMal", 0));
      if (it == script.media_by_mal.end())
        return MockReply::json(
            404, {{"data", {{"Media", nullptr}}},
                  {"errors", Json::array({{{"message", "Not Found."}, {"status", 404}}})}});
      return MockReply::json(200, {{"data", {{"Media", it->second}}}});
    }
    if (q.find("CwMedia") != std::string::npos) {
      auto it = script.media_by_id.find(vars.value("id", 0));
      if (it == script.media_by_id.end())
        return MockReply::json(
            404, {{"data", {{"Media", nullptr}}},
                  {"errors", Json::array({{{"message", "Not Found."}, {"status", 404}}})}});
      return MockReply::json(200, {{"data", {{"Media", it->second}}}});
    }
    script.mutations.push_back({{"query", q}, {"variables", vars}});
    if (q.find("CwDelete") != std::string::npos)
      return MockReply::json(200, {{"data", {{"DeleteMediaListEntry", {{"deleted", true}}}}}});
    // SaveMediaListEntry: echo what was set.
    Json saved = {{"id", 900 + static_cast<int>(script.mutations.size())},
                  {"mediaId", vars["mediaId"]},
                  {"status", vars.value("status", "CURRENT")},
                  {"score", vars.value("score", 0.0)}};
    return MockReply::json(200, {{"data", {{"SaveMediaListEntry", saved}}}});
  }
  static Json outcome(const cwsdk::testing::CallResult& r, const std::string& key) {
    const Json doc = r.json();
    for (const auto& o : doc["outcomes"])
      if (o["key"] == key) return o;
    return Json();
  }
};

TEST_F(AnilistTest, HealthReportsTheUsersScoreFormatAsTheRatingScale) {
  script.format = "POINT_5";
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.health();
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["capabilities"]["ratings"]["rating_scale"],
            (Json{{"min", 1.0}, {"max", 5.0}, {"step", 1.0}}));
  EXPECT_NE(doc["message"].get<std::string>().find("yuki"), std::string::npos);
  const auto reqs = host.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer al-token");
  EXPECT_TRUE(reqs[0].read);
}

TEST_F(AnilistTest, TheWatchlistIsThePlanningListWithAnimeIdsCountedOnce) {
  const Json planned = entry(1, "PLANNING", 0, media(101, 5101, "Frieren"));
  script.collection_reply = collection(Json::array(
      {group("PLANNING", Json::array({planned, entry(2, "PLANNING", 0,
                                                     media(102, 0, "Movie", "MOVIE", 2021))})),
       group("COMPLETED", Json::array({entry(3, "COMPLETED", 8, media(103, 5103, "Done"))})),
       group(nullptr, Json::array({planned}), true)}));  // a custom list repeats entry 1
  auto p = make();
  const auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  ASSERT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["complete"], true);
  const Json& first = doc["items"][0];
  EXPECT_EQ(first["type"], "show");
  EXPECT_EQ(first["title"], "Frieren");
  EXPECT_EQ(first["year"], 2019);
  EXPECT_EQ(first["ids"]["anilist"], "101");
  EXPECT_EQ(first["ids"]["mal"], "5101");
  EXPECT_EQ(doc["items"][1]["type"], "movie");
  EXPECT_FALSE(doc["items"][1]["ids"].contains("mal"));
  // The collection query names the viewer and asks in chunks.
  const auto reqs = host.requests();
  const Json vars = reqs.back().json_body()["variables"];
  EXPECT_EQ(vars["userId"], 7);
  EXPECT_EQ(vars["chunk"], 1);
  EXPECT_EQ(vars["perChunk"], 500);
  EXPECT_TRUE(reqs.back().read);
}

TEST_F(AnilistTest, ScoresConvertExactlyFromEveryFormat) {
  struct Case {
    const char* format;
    double score;
    double rating;
  };
  for (const Case c :
       {Case{"POINT_100", 73, 7.3}, Case{"POINT_10_DECIMAL", 7.3, 7.3}, Case{"POINT_10", 7, 7},
        Case{"POINT_5", 4, 8}, Case{"POINT_3", 2, 20.0 / 3}}) {
    MockHost h;
    h.set_secret("access_token", "t");
    const std::string format = c.format;
    const Json coll = collection(Json::array(
        {group("COMPLETED", Json::array({entry(1, "COMPLETED", c.score, media(11, 0, "A")),
                                         entry(2, "COMPLETED", 0, media(12, 0, "Unscored"))}))}));
    h.on("POST", "/").handle([&](const RecordedRequest& r) {
      if (r.body.find("CwViewer") != std::string::npos)
        return MockReply::json(
            200,
            {{"data",
              {{"Viewer",
                {{"id", 1}, {"name", "u"}, {"mediaListOptions", {{"scoreFormat", format}}}}}}}});
      return MockReply::json(200, coll);
    });
    PluginInstance p(cwsdk::detail::provider_table<anilist::Anilist>(), h,
                     {{"access_token", "${secret}"}});
    const auto r = p.build_index("ratings");
    ASSERT_EQ(r.status, CW_STATUS_OK) << c.format << ": " << r.message();
    const Json doc = r.json();
    ASSERT_EQ(doc["items"].size(), 1u) << c.format;
    EXPECT_NEAR(doc["items"][0]["rating"].get<double>(), c.rating, 1e-9) << c.format;
    EXPECT_EQ(doc["items"][0]["rated_at"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(doc["complete"], true);
    // What the host would plan back is written as the same score.
    EXPECT_NEAR(*cwsdk::to_scale(c.rating, *cwsdk::anilist_scale(c.format)), c.score, 1e-9);
  }
}

TEST_F(AnilistTest, ABrokenEntryOrAnotherChunkIsHandledHonestly) {
  script.collection_reply = collection(
      Json::array(
          {group("COMPLETED", Json::array({entry(1, "COMPLETED", 8, media(11, 0, "A")),
                                           {{"id", 2}, {"status", "COMPLETED"}, {"score", "eight"}},
                                           entry(3, "COMPLETED", 9, Json())}))}),
      true);
  auto p = make();
  auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  Json doc = r.json();
  EXPECT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["complete"], false);
  // hasNextChunk: the next chunk is asked for (here it repeats, so the entries are not new).
  int chunks = 0;
  for (const auto& req : host.requests())
    if (req.body.find("CwList") != std::string::npos) ++chunks;
  EXPECT_GE(chunks, 2);
}

TEST_F(AnilistTest, GraphqlErrorsAreClearFailures) {
  MockHost h;
  h.set_secret("access_token", "t");
  h.on("POST", "/")
      .reply_json(400, gql_error("Cannot query field \"bogus\" on type \"MediaList\".", 400));
  PluginInstance p(cwsdk::detail::provider_table<anilist::Anilist>(), h,
                   {{"access_token", "${secret}"}});
  auto r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_INTERNAL);
  EXPECT_NE(r.message().find("Cannot query field"), std::string::npos) << r.message();

  MockHost h2;
  h2.set_secret("access_token", "t");
  h2.on("POST", "/").reply_json(401, gql_error("Invalid token", 401));
  PluginInstance p2(cwsdk::detail::provider_table<anilist::Anilist>(), h2,
                    {{"access_token", "${secret}"}});
  EXPECT_EQ(p2.build_index("watchlist").status, CW_STATUS_AUTH);
  EXPECT_EQ(p2.health().json()["status"], "auth_failed");

  MockHost h3;
  h3.set_secret("access_token", "t");
  h3.on("POST", "/").reply_json(429, gql_error("Too Many Requests.", 429), {{"Retry-After", "60"}});
  PluginInstance p3(cwsdk::detail::provider_table<anilist::Anilist>(), h3,
                    {{"access_token", "${secret}"}});
  r = p3.build_index("ratings");
  EXPECT_EQ(r.status, CW_STATUS_RATE_LIMITED);
  EXPECT_EQ(r.json()["retry_after_ms"], 60000);

  // errors beside data with HTTP 200 are failures too.
  MockHost h4;
  h4.set_secret("access_token", "t");
  h4.on("POST", "/")
      .reply_json(200,
                  {{"data", {{"Viewer", nullptr}}},
                   {"errors", Json::array({{{"message", "Unauthorized."}, {"status", 401}}})}});
  PluginInstance p4(cwsdk::detail::provider_table<anilist::Anilist>(), h4,
                    {{"access_token", "${secret}"}});
  EXPECT_EQ(p4.build_index("ratings").status, CW_STATUS_AUTH);

  PluginInstance p5(cwsdk::detail::provider_table<anilist::Anilist>(), h4,
                    {{"access_token", "${secret}"}});
  EXPECT_EQ(p5.call_raw("build_index", "{\"feature\":7}").status, CW_STATUS_INVALID_ARG);
}

TEST_F(AnilistTest, WatchlistAddsPlanOnlyWhatIsNotOnTheList) {
  script.collection_reply = collection(Json::array(
      {group("PLANNING", Json::array({entry(1, "PLANNING", 0, media(101, 0, "Planned"))})),
       group("COMPLETED", Json::array({entry(2, "COMPLETED", 0, media(102, 0, "Seen"))}))}));
  script.media_by_mal[5200] = {{"id", 200}, {"idMal", 5200}, {"mediaListEntry", nullptr}};
  auto p = make();
  ASSERT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  const auto r =
      p.add("watchlist", Json::array({
                             {{"key", "new"}, {"type", "show"}, {"ids", {{"anilist", "150"}}}},
                             {{"key", "planned"}, {"type", "show"}, {"ids", {{"anilist", "101"}}}},
                             {{"key", "seen"}, {"type", "show"}, {"ids", {{"anilist", "102"}}}},
                             {{"key", "mal"}, {"type", "show"}, {"ids", {{"mal", "5200"}}}},
                             {{"key", "nomal"}, {"type", "show"}, {"ids", {{"mal", "1"}}}},
                             {{"key", "noids"}, {"type", "movie"}, {"ids", {{"imdb", "tt1"}}}},
                         }));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(outcome(r, "new")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "planned")["status"], "skipped");
  EXPECT_EQ(outcome(r, "seen")["reason"], "rejected");
  EXPECT_EQ(outcome(r, "mal")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "nomal")["reason"], "not_found");
  EXPECT_EQ(outcome(r, "noids")["reason"], "not_found");
  ASSERT_EQ(script.mutations.size(), 2u);
  EXPECT_EQ(script.mutations[0]["variables"], (Json{{"mediaId", 150}, {"status", "PLANNING"}}));
  EXPECT_EQ(script.mutations[1]["variables"]["mediaId"], 200);
  for (const auto& req : host.requests())
    if (req.body.find("mutation") != std::string::npos) {
      EXPECT_FALSE(req.read);
    }
}

TEST_F(AnilistTest, WatchlistRemovalDeletesOnlyPlanningEntries) {
  script.collection_reply = collection(Json::array(
      {group("PLANNING", Json::array({entry(31, "PLANNING", 0, media(101, 0, "Planned"))})),
       group("CURRENT", Json::array({entry(32, "CURRENT", 0, media(102, 0, "Watching"))}))}));
  auto p = make();
  ASSERT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  const auto r =
      p.remove("watchlist", Json::array({
                                {{"key", "a"}, {"type", "show"}, {"ids", {{"anilist", "101"}}}},
                                {{"key", "b"}, {"type", "show"}, {"ids", {{"anilist", "102"}}}},
                                {{"key", "c"}, {"type", "show"}, {"ids", {{"anilist", "103"}}}},
                            }));
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(outcome(r, "a")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "b")["status"], "skipped");
  EXPECT_EQ(outcome(r, "c")["status"], "skipped");
  ASSERT_EQ(script.mutations.size(), 1u);
  EXPECT_EQ(script.mutations[0]["variables"], (Json{{"id", 31}}));
}

TEST_F(AnilistTest, RatingWritesUseTheUsersFormat) {
  script.format = "POINT_100";
  script.collection_reply = collection(Json::array(
      {group("CURRENT", Json::array({entry(41, "CURRENT", 50, media(101, 0, "Rated"))}))}));
  auto p = make();
  ASSERT_EQ(p.health().status, CW_STATUS_OK);
  ASSERT_EQ(p.build_index("ratings").status, CW_STATUS_OK);
  auto r = p.update(
      "ratings",
      Json::array(
          {{{"key", "u"}, {"type", "show"}, {"rating", 7.3}, {"ids", {{"anilist", "101"}}}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(outcome(r, "u")["status"], "confirmed");
  EXPECT_EQ(script.mutations.back()["variables"], (Json{{"mediaId", 101}, {"score", 73.0}}));
  // A title not on the list is added as COMPLETED with its score.
  r = p.add("ratings",
            Json::array(
                {{{"key", "n"}, {"type", "movie"}, {"rating", 9}, {"ids", {{"anilist", "150"}}}}}));
  EXPECT_EQ(outcome(r, "n")["status"], "confirmed");
  EXPECT_EQ(script.mutations.back()["variables"],
            (Json{{"mediaId", 150}, {"score", 90.0}, {"status", "COMPLETED"}}));
  // Unrating sets the score to 0; the entry stays.
  r = p.remove("ratings",
               Json::array({{{"key", "x"}, {"type", "show"}, {"ids", {{"anilist", "101"}}}},
                            {{"key", "y"}, {"type", "show"}, {"ids", {{"anilist", "999"}}}}}));
  EXPECT_EQ(outcome(r, "x")["status"], "confirmed");
  EXPECT_EQ(outcome(r, "y")["status"], "skipped");
  EXPECT_EQ(script.mutations.back()["variables"], (Json{{"mediaId", 101}, {"score", 0.0}}));
}

TEST_F(AnilistTest, ADryRunReadsButWritesNothing) {
  script.collection_reply = collection(Json::array(
      {group("PLANNING", Json::array({entry(1, "PLANNING", 0, media(101, 0, "Planned"))}))}));
  host.set_dry_run(true);
  auto p = make();
  ASSERT_EQ(p.health().json()["status"], "ok");
  ASSERT_EQ(p.build_index("watchlist").status, CW_STATUS_OK);
  const auto r = p.add(
      "watchlist", Json::array({{{"key", "a"}, {"type", "show"}, {"ids", {{"anilist", "150"}}}}}));
  EXPECT_EQ(r.status, CW_STATUS_UNSUPPORTED);
  EXPECT_TRUE(script.mutations.empty());
}

TEST_F(AnilistTest, AnAuthFailureBeforeAnyWriteFailsTheCall) {
  MockHost h;
  h.set_secret("access_token", "t");
  h.on("POST", "/")
      .when([](const RecordedRequest& r) { return r.body.find("CwViewer") != std::string::npos; })
      .reply_json(
          200,
          {{"data",
            {{"Viewer",
              {{"id", 1}, {"name", "u"}, {"mediaListOptions", {{"scoreFormat", "POINT_10"}}}}}}}});
  h.on("POST", "/").reply_json(401, gql_error("Invalid token", 401));
  PluginInstance p(cwsdk::detail::provider_table<anilist::Anilist>(), h,
                   {{"access_token", "${secret}"}});
  const auto r = p.add(
      "watchlist", Json::array({{{"key", "a"}, {"type", "show"}, {"ids", {{"anilist", "1"}}}}}));
  EXPECT_EQ(r.status, CW_STATUS_AUTH);
}

}  // namespace
