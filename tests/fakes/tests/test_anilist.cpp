// Fake AniList: the GraphQL parser, list queries and mutations, score formats, errors, the rate
// limiter, and the recorded pyanilist replies (MIT) served unchanged.
#include <gtest/gtest.h>

#include "anilist/anilist_fake.hpp"
#include "anilist/graphql_doc.hpp"
#include "anilist/graphql_schema.hpp"
#include "core/generator.hpp"
#include "tests/tracker_harness.hpp"

namespace cw::fakes {
namespace {

using nlohmann::json;
using testing::body_of;
using testing::Harness;

constexpr const char* k_token = "cw-sandbox-anilist-access-token";

httplib::Headers auth(const std::string& token = k_token) {
  return {{"Authorization", "Bearer " + token}};
}

json media(int id, int mal, const std::string& title, const std::string& format = "TV") {
  return {{"id", id},
          {"idMal", mal},
          {"type", "ANIME"},
          {"format", format},
          {"title", {{"romaji", title}, {"english", title + " (en)"}, {"native", nullptr}}},
          {"seasonYear", 2018},
          {"startDate", {{"year", 2018}, {"month", 1}, {"day", 2}}},
          {"episodes", 13}};
}

class AnilistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.seed(
        {{"viewer",
          {{"id", 5150}, {"name", "tester"}, {"mediaListOptions", {{"scoreFormat", "POINT_100"}}}}},
         {"media", json::array({media(99426, 35839, "Sora yori mo Tooi Basho"),
                                media(21, 21, "One Piece"), media(1535, 1535, "Death Note")})},
         {"entries", json::array({{{"id", 11},
                                   {"mediaId", 21},
                                   {"status", "CURRENT"},
                                   {"scoreRaw", 85},
                                   {"progress", 100}}})},
         {"options", {{"rate_limit", 0}}}});
  }
  json gql(const std::string& query, const json& vars = json::object(), int expect = 200,
           const httplib::Headers& headers = auth()) {
    auto r = h.post("/", {{"query", query}, {"variables", vars}}, headers);
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, expect) << r->body;
    return body_of(r);
  }
  Harness h{make_anilist_fake()};
};

TEST(GraphqlParse, FragmentsAliasesDefaultsAndErrors) {
  graphql::ParseError err;
  auto doc = graphql::parse(R"(
    # comment
    query Q($id: Int = 7, $skip: Boolean!) {
      first: Media(id: $id, type: ANIME) { ...M  title @skip(if: $skip) { romaji } }
    }
    fragment M on Media { id idMal ... on Media { format } })",
                            err);
  ASSERT_TRUE(doc) << err.message;
  const auto& op = doc->operations.front();
  EXPECT_EQ(op.name, "Q");
  const json vars = {{"skip", true}};
  auto roots = graphql::collect_fields(op.selections, *doc, vars, op);
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0]->key(), "first");
  EXPECT_EQ(*graphql::resolve_value(roots[0]->args.at("id"), vars, op), 7);
  EXPECT_EQ(*graphql::resolve_value(roots[0]->args.at("type"), vars, op), "ANIME");
  auto fields = graphql::collect_fields(roots[0]->selections, *doc, vars, op, "Media");
  std::vector<std::string> names;
  for (const auto* f : fields) names.push_back(f->name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "idMal", "format"}));
  EXPECT_FALSE(graphql::parse("query { Media(id: 1) { id }", err));
  EXPECT_EQ(err.line, 1);
  EXPECT_NE(err.message.find("Expected"), std::string::npos);
}

TEST_F(AnilistTest, ViewerNeedsAValidToken) {
  json out = gql("query { Viewer { id name mediaListOptions { scoreFormat } } }");
  EXPECT_EQ(out["data"]["Viewer"], (json{{"id", 5150},
                                         {"name", "tester"},
                                         {"mediaListOptions", {{"scoreFormat", "POINT_100"}}}}));
  out = gql("query { Viewer { id } }", json::object(), 401, {});
  EXPECT_EQ(out["errors"][0]["status"], 401);
  out = gql("query { Viewer { id } }", json::object(), 401, auth("bad"));
  EXPECT_EQ(out["errors"][0]["message"], "Invalid token");
  EXPECT_TRUE(out["data"].is_null());
}

TEST_F(AnilistTest, PlanningAddReadAndDelete) {
  json saved =
      gql("mutation ($mediaId: Int, $status: MediaListStatus) { SaveMediaListEntry(mediaId: "
          "$mediaId, status: $status) { id status mediaId } }",
          {{"mediaId", 99426}, {"status", "PLANNING"}});
  const json entry = saved["data"]["SaveMediaListEntry"];
  EXPECT_EQ(entry["status"], "PLANNING");
  const std::string coll =
      "query ($userId: Int, $type: MediaType, $status: MediaListStatus) { "
      "MediaListCollection(userId: $userId, type: $type, status: $status) "
      "{ lists { name status entries { id status media { id idMal title { romaji english native } "
      "format seasonYear startDate { year } } } } } }";
  json out = gql(coll, {{"userId", 5150}, {"type", "ANIME"}, {"status", "PLANNING"}});
  json lists = out["data"]["MediaListCollection"]["lists"];
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0]["name"], "Planning");
  ASSERT_EQ(lists[0]["entries"].size(), 1u);
  EXPECT_EQ(lists[0]["entries"][0]["media"]["idMal"], 35839);
  EXPECT_EQ(lists[0]["entries"][0]["media"]["startDate"], (json{{"year", 2018}}));
  out = gql(coll, {{"userId", 5150}, {"type", "ANIME"}});
  EXPECT_EQ(out["data"]["MediaListCollection"]["lists"].size(), 2u);
  out =
      gql("query ($mediaId: Int, $userId: Int) { MediaList(mediaId: $mediaId, userId: $userId) { "
          "id status } }",
          {{"mediaId", 99426}, {"userId", 5150}});
  EXPECT_EQ(out["data"]["MediaList"]["id"], entry["id"]);
  const std::string del = "mutation ($id: Int) { DeleteMediaListEntry(id: $id) { deleted } }";
  EXPECT_EQ(gql(del, {{"id", entry["id"]}})["data"]["DeleteMediaListEntry"]["deleted"], true);
  EXPECT_EQ(gql(del, {{"id", entry["id"]}})["data"]["DeleteMediaListEntry"]["deleted"], false);
  out = gql("query { MediaList(mediaId: 99426, userId: 5150) { id } }", json::object(), 404);
  EXPECT_EQ(out["errors"][0]["message"], "Not Found.");
  EXPECT_TRUE(out["data"]["MediaList"].is_null());
}

TEST_F(AnilistTest, ScoreFormatsConvertTheRawScore) {
  gql("mutation { SaveMediaListEntry(mediaId: 1535, scoreRaw: 73) { id } }");
  json out = gql(R"(query { MediaList(mediaId: 1535, userId: 5150) {
      raw: score p100: score(format: POINT_100) p10: score(format: POINT_10) d10: score(format: POINT_10_DECIMAL)
      p5: score(format: POINT_5) p3: score(format: POINT_3) } })");
  const json s = out["data"]["MediaList"];
  EXPECT_EQ(s["raw"], 73);  // the viewer's own format (POINT_100)
  EXPECT_EQ(s["p100"], 73);
  EXPECT_EQ(s["p10"], 7);
  EXPECT_EQ(s["d10"], 7.3);
  EXPECT_EQ(s["p5"], 4);
  EXPECT_EQ(s["p3"], 3);
  gql("mutation { SaveMediaListEntry(mediaId: 1535, score: 40) { id } }");
  out = gql("query { MediaList(mediaId: 1535) { score(format: POINT_100) } }");
  EXPECT_EQ(out["data"]["MediaList"]["score"], 40);
}

TEST_F(AnilistTest, LookupsByMalIdAndSearchWithPageInfo) {
  json out = gql(
      "query ($idMal: Int, $type: MediaType) { Media(idMal: $idMal, type: $type) { id idMal } }",
      {{"idMal", 35839}, {"type", "ANIME"}});
  EXPECT_EQ(out["data"]["Media"]["id"], 99426);
  out = gql("query { Media(idMal: 1) { id } }", json::object(), 404);
  EXPECT_TRUE(out["data"]["Media"].is_null());
  EXPECT_EQ(out["errors"][0]["locations"][0], (json{{"line", 1}, {"column", 9}}));
  out = gql(
      "query ($search: String) { Page(page: 1, perPage: 10) { pageInfo { hasNextPage total } "
      "media(search: $search, type: ANIME) { id title { romaji } mediaListEntry { status } } } }",
      {{"search", "one"}});
  const json page = out["data"]["Page"];
  EXPECT_EQ(page["pageInfo"], (json{{"hasNextPage", false}, {"total", 1}}));
  ASSERT_EQ(page["media"].size(), 1u);
  EXPECT_EQ(page["media"][0]["mediaListEntry"]["status"], "CURRENT");
}

TEST_F(AnilistTest, ErrorsForSyntaxUnknownFieldsAndMissingIds) {
  json out = gql("query { Media(id: 1 { id } }", json::object(), 400);
  EXPECT_NE(out["errors"][0]["message"].get<std::string>().find("Syntax Error"), std::string::npos);
  out = gql("query { Nope { id } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"], "Cannot query field \"Nope\" on type \"Query\".");
  out = gql("mutation { SaveMediaListEntry(status: PLANNING) { id } }", json::object(), 400);
  EXPECT_TRUE(out["errors"][0].contains("validation"));
}

// ---- validation against AniList's schema, as the service runs it before executing ----

TEST(GraphqlSchema, TheCompiledInSchemaParsesWithTheListSyncTypes) {
  graphql::ParseError err;
  auto schema = graphql::parse_schema(graphql::anilist_schema_sdl(), err);
  ASSERT_TRUE(schema) << err.message << " at " << err.line << ":" << err.column;
  EXPECT_GT(schema->types.size(), 150u);
  const graphql::TypeDef* status = schema->type("MediaListStatus");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->values, (std::vector<std::string>{"CURRENT", "PLANNING", "COMPLETED", "DROPPED",
                                                      "PAUSED", "REPEATING"}));
  const graphql::FieldDef* save = schema->field("Mutation", "SaveMediaListEntry");
  ASSERT_NE(save, nullptr);
  EXPECT_EQ(save->type->text(), "MediaList");
  EXPECT_EQ(save->args.at("status").type->text(), "MediaListStatus");
  EXPECT_EQ(schema->field("MediaListCollection", "lists")->type->text(), "[MediaListGroup]");
  EXPECT_TRUE(schema->can_be("ActivityUnion", "TextActivity"));
}

// The copy compiled into the sandbox is the MIT file of ../shared, byte for byte after its
// licence header.
TEST(GraphqlSchema, TheCompiledInSchemaIsTheReferenceFile) {
  auto text = testing::read_shared("api-reference/anilist/2023-08-mit/schema.graphql");
  if (!text) GTEST_SKIP() << "../shared is absent";
  const std::string& sdl = graphql::anilist_schema_sdl();
  ASSERT_GE(sdl.size(), text->size());
  EXPECT_EQ(sdl.substr(sdl.size() - text->size()), *text);
}

TEST_F(AnilistTest, UnknownFieldsAtAnyDepthAre400WithTheGraphqlError) {
  json out = gql("query {\n  Viewer {\n    id\n    mediaListOptions { scoreFormat nope }\n  }\n}",
                 json::object(), 400);
  EXPECT_TRUE(out["data"].is_null());
  ASSERT_EQ(out["errors"].size(), 1u);
  EXPECT_EQ(out["errors"][0]["message"],
            "Cannot query field \"nope\" on type \"MediaListOptions\".");
  EXPECT_EQ(out["errors"][0]["status"], 400);
  EXPECT_EQ(out["errors"][0]["locations"], (json::array({{{"line", 4}, {"column", 36}}})));
  out =
      gql("{ MediaListCollection(userId: 5150, type: ANIME) { lists { entries { media { title "
          "{ romaji } fakeField } } } } }",
          json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"], "Cannot query field \"fakeField\" on type \"Media\".");
  out = gql("{ Media(id: 21, fakeArg: 1) { id } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"],
            "Unknown argument \"fakeArg\" on field \"Media\" of type \"Query\".");
  // Fragments and inline fragments are checked against their own type.
  out =
      gql("query { Media(id: 21) { ...F } } fragment F on Media { id bogus }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"], "Cannot query field \"bogus\" on type \"Media\".");
}

TEST_F(AnilistTest, InvalidEnumValuesAre400) {
  json out = gql("{ Media(id: 21, type: SERIES) { id } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"], "Expected type MediaType, found SERIES.");
  out = gql("mutation ($s: MediaListStatus) { SaveMediaListEntry(mediaId: 21, status: $s) { id } }",
            {{"s", "WATCHING"}}, 400);
  EXPECT_EQ(out["errors"][0]["message"],
            "Variable \"$s\" got invalid value \"WATCHING\"; Expected type MediaListStatus.");
  out = gql("{ MediaList(mediaId: 21, userId: 5150) { score(format: POINT_7) } }", json::object(),
            400);
  EXPECT_EQ(out["errors"][0]["message"], "Expected type ScoreFormat, found POINT_7.");
  out = gql("query ($ids: [Int]) { Page { media(id_in: $ids) { id } } }",
            {{"ids", json::array({21, "x"})}}, 400);
  EXPECT_NE(out["errors"][0]["message"].get<std::string>().find("Expected type Int."),
            std::string::npos);
  // Nothing ran: the entry is unchanged.
  out = gql("{ MediaList(mediaId: 21, userId: 5150) { status } }");
  EXPECT_EQ(out["data"]["MediaList"]["status"], "CURRENT");
}

TEST_F(AnilistTest, SelectionsMustMatchLeafAndCompositeTypes) {
  json out = gql("{ Media(id: 21) }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"],
            "Field \"Media\" of type \"Media\" must have a sub selection.");
  out = gql("{ Media(id: 21) { id title } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"],
            "Field \"title\" of type \"MediaTitle\" must have a sub selection.");
  out = gql("{ Media(id: 21) { id { x } } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"],
            "Field \"id\" must not have a selection since type \"Int!\" has no subfields.");
  out = gql("query ($x: Int) { Media(id: $y) { id } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"], "Variable \"$y\" is not defined.");
  out = gql("query ($id: Int!) { Media(id: $id) { id } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"],
            "Variable \"$id\" of required type \"Int!\" was not provided.");
  out = gql("query ($t: Nope) { Media(id: 21) { id } }", json::object(), 400);
  EXPECT_EQ(out["errors"][0]["message"], "Unknown type \"Nope\".");
}

// anilist-node reads media.reviews.nodes, media.characters.nodes … without null checks: fields
// the fake has no data for answer what the schema promises, not null.
TEST_F(AnilistTest, UnmodelledFieldsAnswerWhatTheSchemaPromises) {
  json out =
      gql("{ Media(id: 21) { id isAdult isFavourite genres synonyms coverImage { large color } "
          "reviews { nodes { id } pageInfo { total } } characters { nodes { id } } "
          "nextAiringEpisode { episode } description averageScore } }");
  const json& m = out["data"]["Media"];
  EXPECT_EQ(m["isAdult"], false);
  EXPECT_EQ(m["isFavourite"], false) << "Boolean! answers false";
  EXPECT_EQ(m["genres"], json::array());
  EXPECT_EQ(m["synonyms"], json::array());
  EXPECT_EQ(m["coverImage"], (json{{"large", nullptr}, {"color", nullptr}}));
  EXPECT_EQ(m["reviews"]["nodes"], json::array());
  EXPECT_EQ(m["reviews"]["pageInfo"], (json{{"total", nullptr}}));
  EXPECT_EQ(m["characters"]["nodes"], json::array());
  EXPECT_TRUE(m["nextAiringEpisode"].is_object());
  EXPECT_EQ(m["nextAiringEpisode"]["episode"], 0) << "Int! answers 0";
  EXPECT_TRUE(m["description"].is_null());
  EXPECT_TRUE(m["averageScore"].is_null());
  // Viewer's options object and list fields of Page.
  out =
      gql("{ Viewer { id options { titleLanguage displayAdultContent } favourites { anime { "
          "nodes { id } } } } Page { users { id } pageInfo { total } } }");
  EXPECT_EQ(out["data"]["Viewer"]["options"]["displayAdultContent"], false);
  EXPECT_EQ(out["data"]["Viewer"]["favourites"]["anime"]["nodes"], json::array());
  EXPECT_EQ(out["data"]["Page"]["users"], json::array());
  // A root field the sandbox holds nothing for is AniList's not-found answer.
  out = gql("{ Studio(id: 1) { id name } }", json::object(), 404);
  EXPECT_TRUE(out["data"]["Studio"].is_null());
  EXPECT_EQ(out["errors"][0]["message"], "Not Found.");
}

TEST_F(AnilistTest, RateLimitHeadersAndOneMinuteLockout) {
  h.seed({{"media", json::array({media(1, 1, "A")})}, {"options", {{"rate_limit", 3}}}});
  for (int i = 0; i < 3; ++i) {
    auto r = h.post("/", {{"query", "{ Media(id: 1) { id } }"}}, auth());
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("X-RateLimit-Limit"), "3");
    EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), std::to_string(2 - i));
  }
  auto r = h.post("/", {{"query", "{ Media(id: 1) { id } }"}}, auth());
  ASSERT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "60");
  EXPECT_FALSE(r->get_header_value("X-RateLimit-Reset").empty());
  EXPECT_EQ(
      body_of(r),
      json::parse(R"({"data": null,"errors": [{"message": "Too Many Requests.","status": 429}]})"));
  h.advance_clock(30000);
  EXPECT_EQ(h.post("/", {{"query", "{ Media(id: 1) { id } }"}}, auth())->status, 429);
  h.advance_clock(31000);
  EXPECT_EQ(h.post("/", {{"query", "{ Media(id: 1) { id } }"}}, auth())->status, 200);
}

// ---- recorded replies (pyanilist cassettes, MIT) ----

TEST_F(AnilistTest, RecordedMediaReplyAndNotFoundAreServedUnchanged) {
  const std::string dir = "api-reference/anilist/fixtures/pyanilist/";
  CW_REQUIRE_SHARED(body, dir + "get_media_99426.body.json");
  CW_REQUIRE_SHARED(meta, dir + "get_media_99426.meta.json");
  CW_REQUIRE_SHARED(nf_body, dir + "media_not_found_404.body.json");
  CW_REQUIRE_SHARED(nf_meta, dir + "media_not_found_404.meta.json");
  CW_REQUIRE_SHARED(rl_body, dir + "rate_limited_429.body.json");
  h.seed({{"media", json::array({(*body)["data"]["Media"]})}, {"options", {{"rate_limit", 0}}}});
  const json& req = (*meta)["request"]["body"];
  auto r =
      h.post("/", {{"query", req["query"]}, {"variables", req.value("variables", json::object())}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r), *body);
  const json& nf_req = (*nf_meta)["request"]["body"];
  r = h.post(
      "/", {{"query", nf_req["query"]}, {"variables", nf_req.value("variables", json::object())}});
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r), *nf_body);
  h.seed({{"media", json::array({(*body)["data"]["Media"]})}, {"options", {{"rate_limit", 1}}}});
  h.post("/", {{"query", req["query"]}, {"variables", req.value("variables", json::object())}});
  r = h.post("/", {{"query", req["query"]}, {"variables", req.value("variables", json::object())}});
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(body_of(r), *rl_body);
}

TEST_F(AnilistTest, GeneratedUniverseKeepsOnlyAnime) {
  GenerateOptions o;
  o.movies = 30;
  o.shows = 10;
  o.anime_share = 0.5;
  o.watchlist = 20;
  const json u = generate_universe(o);
  std::size_t anime_titles = 0;
  for (const char* k : {"movies", "shows"}) {
    for (const auto& t : u[k]) anime_titles += t.value("anime", false);
  }
  ASSERT_EQ(h.client().Post("/__sandbox/universe", u.dump(), "application/json")->status, 200);
  const json st = h.state();
  EXPECT_EQ(st["media"].size(), anime_titles);
  for (const auto& e : st["entries"]) {
    bool known = false;
    for (const auto& m : st["media"]) known = known || m["id"] == e["mediaId"];
    EXPECT_TRUE(known) << e.dump();
  }
}

TEST_F(AnilistTest, PathsOtherThanTheEndpointGetTheGraphqlErrorObject) {
  auto r = h.get("/graphql");
  ASSERT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r),
            (json{{"data", nullptr},
                  {"errors", json::array({{{"message", "Not Found."}, {"status", 404}}})}}));
}

}  // namespace
}  // namespace cw::fakes
