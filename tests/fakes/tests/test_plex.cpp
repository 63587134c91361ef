#include "plex/plex_fake.hpp"
#include "tests/server_harness.hpp"

namespace cw::fakes::testing {
namespace {

const httplib::Headers k_json = {{"Accept", "application/json"},
                                 {"X-Plex-Token", "plex-pms-owner-token"}};
const httplib::Headers k_cloud = {{"Accept", "application/json"},
                                  {"X-Plex-Token", "plex-cloud-owner-token"}};

class PlexTest : public ServerTest {
 protected:
  void SetUp() override { start("plex"); }
};

TEST_F(PlexTest, MissingOrBadTokenIs401WithHtmlBody) {
  auto r = m_client->Get("/library/sections");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("<title>Unauthorized</title>"), std::string::npos);
  r = m_client->Get("/library/sections", {{"X-Plex-Token", "wrong"}});
  EXPECT_EQ(r->status, 401);
}

TEST_F(PlexTest, NegotiatesJsonAndXml) {
  auto j = m_client->Get("/library/sections", k_json);
  ASSERT_EQ(j->status, 200);
  EXPECT_EQ(body(j)["MediaContainer"]["Directory"].size(), 2u);
  auto x = m_client->Get("/library/sections", {{"X-Plex-Token", "plex-pms-owner-token"}});
  ASSERT_EQ(x->status, 200);
  EXPECT_NE(x->get_header_value("Content-Type").find("xml"), std::string::npos);
  EXPECT_NE(x->body.find("<Directory "), std::string::npos);
  EXPECT_NE(x->body.find("<MediaContainer "), std::string::npos);
}

TEST_F(PlexTest, PagesByQueryAndByHeaderAlike) {
  seed_universe(small_universe());
  auto by_query = body(m_client->Get(
      "/library/sections/1/all?type=1&X-Plex-Container-Start=10&X-Plex-Container-Size=5", k_json));
  httplib::Headers h = k_json;
  h.insert({"X-Plex-Container-Start", "10"});
  h.insert({"X-Plex-Container-Size", "5"});
  auto by_header = body(m_client->Get("/library/sections/1/all?type=1", h));
  const auto& mq = by_query["MediaContainer"];
  EXPECT_EQ(mq["size"], 5);
  EXPECT_EQ(mq["totalSize"], 30);
  EXPECT_EQ(mq["offset"], 10);
  EXPECT_EQ(mq["Metadata"], by_header["MediaContainer"]["Metadata"]);
  // Past the end: an empty page, still with the total.
  auto tail = body(m_client->Get(
      "/library/sections/1/all?type=1&X-Plex-Container-Start=30&X-Plex-Container-Size=5", k_json));
  EXPECT_EQ(tail["MediaContainer"]["size"], 0);
  EXPECT_FALSE(tail["MediaContainer"].contains("Metadata"));
}

TEST_F(PlexTest, IncludeGuidsControlsGuidChildren) {
  seed_universe(small_universe());
  auto without = body(m_client->Get("/library/sections/1/all?type=1", k_json));
  auto with = body(m_client->Get("/library/sections/1/all?type=1&includeGuids=1", k_json));
  int with_guids = 0;
  for (const auto& row : without["MediaContainer"]["Metadata"]) EXPECT_FALSE(row.contains("Guid"));
  for (const auto& row : with["MediaContainer"]["Metadata"]) with_guids += row.contains("Guid");
  EXPECT_GT(with_guids, 0);
}

TEST_F(PlexTest, LibraryAllGuidMatchesOnlyThePrimaryGuid) {
  seed_universe(small_universe());
  auto all = body(m_client->Get("/library/all?type=1&includeGuids=1", k_json));
  const json* new_agent = nullptr;
  for (const auto& row : all["MediaContainer"]["Metadata"]) {
    if (row["guid"].get<std::string>().rfind("plex://", 0) == 0 && row.contains("Guid")) {
      new_agent = &row;
      break;
    }
  }
  ASSERT_NE(new_agent, nullptr);
  const std::string imdb = (*new_agent)["Guid"][0]["id"];
  auto by_child =
      body(m_client->Get("/library/all?guid=" + httplib::detail::encode_query_param(imdb), k_json));
  EXPECT_EQ(by_child["MediaContainer"]["size"], 0);
  auto by_primary = body(m_client->Get(
      "/library/all?guid=" + httplib::detail::encode_query_param((*new_agent)["guid"]), k_json));
  EXPECT_EQ(by_primary["MediaContainer"]["size"], 1);
}

TEST_F(PlexTest, ScrobbleWithViewedAtThenUnscrobble) {
  seed_universe(small_universe());
  auto r = m_client->Get(
      "/:/scrobble?key=1001&identifier=com.plexapp.plugins.library&viewedAt=1700000000", k_json);
  ASSERT_EQ(r->status, 200);
  auto meta =
      body(m_client->Get("/library/metadata/1001", k_json))["MediaContainer"]["Metadata"][0];
  EXPECT_GE(meta["viewCount"].get<int>(), 1);
  EXPECT_GE(meta["lastViewedAt"].get<std::int64_t>(), 1700000000);
  auto hist = body(m_client->Get(
      "/status/sessions/history/all?sort=viewedAt:desc&viewedAt>=1700000000", k_json));
  bool found = false;
  for (const auto& row : hist["MediaContainer"]["Metadata"]) {
    found = found || (row["ratingKey"] == "1001" && row["viewedAt"] == 1700000000);
  }
  EXPECT_TRUE(found);
  ASSERT_EQ(m_client
                ->Put("/:/unscrobble?key=1001&identifier=com.plexapp.plugins.library", k_json, "",
                      "text/plain")
                ->status,
            200);
  meta = body(m_client->Get("/library/metadata/1001", k_json))["MediaContainer"]["Metadata"][0];
  EXPECT_FALSE(meta.contains("viewCount"));
  EXPECT_FALSE(meta.contains("viewOffset"));
}

TEST_F(PlexTest, RateAcceptsGetAndPutAndClearsWithZeroOrMinusOne) {
  seed_universe(small_universe());
  ASSERT_EQ(
      m_client->Get("/:/rate?key=1002&identifier=com.plexapp.plugins.library&rating=7", k_json)
          ->status,
      200);
  auto rated = body(m_client->Get(
      "/library/all?type=1&includeUserState=1&userRating>>=0&sort=lastRatedAt:desc", k_json));
  bool found = false;
  for (const auto& row : rated["MediaContainer"]["Metadata"]) {
    if (row["ratingKey"] == "1002") found = row["userRating"] == 7.0;
  }
  EXPECT_TRUE(found);
  ASSERT_EQ(m_client
                ->Put("/:/rate?key=1002&identifier=com.plexapp.plugins.library&rating=-1", k_json,
                      "", "text/plain")
                ->status,
            200);
  auto meta =
      body(m_client->Get("/library/metadata/1002", k_json))["MediaContainer"]["Metadata"][0];
  EXPECT_FALSE(meta.contains("userRating"));
  EXPECT_EQ(
      m_client->Get("/:/rate?key=1002&identifier=com.plexapp.plugins.library&rating=11", k_json)
          ->status,
      400);
}

TEST_F(PlexTest, TimelineSetsOffsetAndMarksWatchedPastNinetyPercent) {
  seed_universe(small_universe());
  auto meta =
      body(m_client->Get("/library/metadata/1003", k_json))["MediaContainer"]["Metadata"][0];
  const std::int64_t duration = meta["duration"];
  m_client->Post(
      "/:/timeline?ratingKey=1003&key=/library/metadata/1003&state=stopped&time=60000&duration=" +
          std::to_string(duration),
      k_json, "", "text/plain");
  meta = body(m_client->Get("/library/metadata/1003", k_json))["MediaContainer"]["Metadata"][0];
  EXPECT_EQ(meta["viewOffset"], 60000);
  const int views = meta.value("viewCount", 0);
  m_client->Post("/:/timeline?ratingKey=1003&state=stopped&time=" +
                     std::to_string(duration * 95 / 100) + "&duration=" + std::to_string(duration),
                 k_json, "", "text/plain");
  meta = body(m_client->Get("/library/metadata/1003", k_json))["MediaContainer"]["Metadata"][0];
  EXPECT_EQ(meta.value("viewCount", 0), views + 1);
  EXPECT_FALSE(meta.contains("viewOffset"));
}

TEST_F(PlexTest, WatchlistReadNeedsPerItemMetadataAndWritesAreIdempotentByStatus) {
  seed_universe(small_universe());
  auto wl = body(
      m_client->Get("/library/sections/watchlist/"
                    "all?includeCollections=1&X-Plex-Container-Start=0&X-Plex-Container-Size=100",
                    k_cloud));
  const auto& mc = wl["MediaContainer"];
  ASSERT_EQ(mc["totalSize"], 6);
  for (const auto& row : mc["Metadata"]) {
    EXPECT_FALSE(row.contains("Guid"));  // external ids only via the metadata host
    auto meta = body(m_client->Get(
        "/library/metadata/" + row["ratingKey"].get<std::string>() + "?includeGuids=1", k_cloud));
    EXPECT_TRUE(meta["MediaContainer"]["Metadata"][0].contains("Guid"));
  }
  const std::string rk = mc["Metadata"][0]["ratingKey"];
  auto dup = m_client->Put("/actions/addToWatchlist?ratingKey=" + rk, k_cloud, "", "text/plain");
  EXPECT_EQ(dup->status, 409);
  EXPECT_NE(dup->body.find("already on the watchlist"), std::string::npos);
  EXPECT_EQ(m_client->Put("/actions/removeFromWatchlist?ratingKey=" + rk, k_cloud, "", "text/plain")
                ->status,
            200);
  auto again =
      m_client->Put("/actions/removeFromWatchlist?ratingKey=" + rk, k_cloud, "", "text/plain");
  EXPECT_EQ(again->status, 404);
  EXPECT_NE(again->body.find("not on the watchlist"), std::string::npos);
  EXPECT_EQ(m_client->Get("/library/metadata/ffffffffffffffffffffffff", k_cloud)->status, 404);
  // The PMS token of a home user does not open the watchlist; cloud tokens do.
  EXPECT_EQ(m_client->Get("/library/sections/watchlist/all", {{"X-Plex-Token", "nope"}})->status,
            401);
}

TEST_F(PlexTest, MetadataMatchesFindsByExternalIdInSearchResultsShape) {
  const json u = small_universe();
  seed_universe(u);
  const std::string tmdb = u["movies"][4]["ids"]["tmdb"];
  auto r = body(m_client->Get("/library/metadata/matches?type=movie&title=tmdb-" + tmdb, k_cloud));
  const auto& results = r["MediaContainer"]["SearchResults"][0]["SearchResult"];
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["Metadata"]["title"], u["movies"][4]["title"]);
  auto search = body(m_client->Get(
      "/library/search?query=" + httplib::detail::encode_query_param(u["movies"][4]["title"]) +
          "&searchTypes=movies,tv&searchProviders=discover&includeMetadata=1",
      k_cloud));
  EXPECT_EQ(search["MediaContainer"]["SearchResults"][0]["id"], "external");
  EXPECT_GE(search["MediaContainer"]["SearchResults"][0]["SearchResult"].size(), 1u);
}

TEST_F(PlexTest, PinLoginFlowAndHomeUserSwitch) {
  auto no_cid = m_client->Post("/api/v2/pins", {{"Accept", "application/json"}}, "", "text/plain");
  EXPECT_EQ(no_cid->status, 400);
  EXPECT_EQ(body(no_cid)["errors"][0]["code"], 1000);
  auto pin = body(m_client->Post(
      "/api/v2/pins", {{"Accept", "application/json"}, {"X-Plex-Client-Identifier", "cid"}}, "",
      "text/plain"));
  const std::string id = std::to_string(pin["id"].get<std::int64_t>());
  EXPECT_TRUE(pin["authToken"].is_null());
  m_client->Post("/__sandbox/plex/pins/" + id + "/link", "{}", "application/json");
  auto linked = body(m_client->Get("/api/v2/pins/" + id, {{"Accept", "application/json"}}));
  EXPECT_EQ(linked["authToken"], "plex-cloud-owner-token");
  m_client->Post("/__sandbox/clock", R"({"advance_ms": 1000000})", "application/json");
  EXPECT_EQ(m_client->Get("/api/v2/pins/" + id)->status, 404);

  auto wrong_pin = m_client->Post("/api/home/users/5/switch?pin=0000", k_cloud, "", "text/plain");
  EXPECT_EQ(wrong_pin->status, 401);
  auto sw = m_client->Post("/api/home/users/5/switch?pin=1234",
                           {{"X-Plex-Token", "plex-cloud-owner-token"}}, "", "text/plain");
  ASSERT_EQ(sw->status, 201);
  EXPECT_NE(sw->body.find("authenticationToken=\"plex-cloud-kid-token\""), std::string::npos);
  auto res =
      m_client->Get("/api/resources?includeHttps=1", {{"X-Plex-Token", "plex-cloud-kid-token"}});
  EXPECT_NE(res->body.find("accessToken=\"plex-pms-kid-token\""), std::string::npos);
  EXPECT_NE(res->body.find("<Connection "), std::string::npos);
}

TEST_F(PlexTest, UserStateIsPerAccount) {
  seed_universe(small_universe());
  const httplib::Headers kid = {{"Accept", "application/json"},
                                {"X-Plex-Token", "plex-pms-kid-token"}};
  const int owner_before =
      body(m_client->Get("/library/metadata/1005", k_json))["MediaContainer"]["Metadata"][0].value(
          "viewCount", 0);
  m_client->Get("/:/scrobble?key=1005&identifier=com.plexapp.plugins.library", kid);
  auto owner_view =
      body(m_client->Get("/library/metadata/1005", k_json))["MediaContainer"]["Metadata"][0];
  auto kid_view =
      body(m_client->Get("/library/metadata/1005", kid))["MediaContainer"]["Metadata"][0];
  EXPECT_EQ(kid_view["viewCount"], 1);
  EXPECT_EQ(owner_view.value("viewCount", 0), owner_before);
  auto kid_hist = body(m_client->Get("/status/sessions/history/all", kid));
  for (const auto& row : kid_hist["MediaContainer"]["Metadata"]) EXPECT_EQ(row["accountID"], 5);
}

TEST_F(PlexTest, StaleReadAfterScrobbleThenFresh) {
  seed_universe(small_universe());
  fault({{"endpoint", "^/library/sections/1/all$"}, {"stale_reads", 1}});
  const std::string q = "/library/sections/1/all?type=1&unwatched=0";
  const auto before = body(m_client->Get(q, k_json))["MediaContainer"]["size"].get<int>();
  // Find an unwatched movie and scrobble it.
  auto all = body(m_client->Get("/library/sections/1/all?type=1&unwatched=1", k_json));
  const std::string rk = all["MediaContainer"]["Metadata"][0]["ratingKey"];
  m_client->Get("/:/scrobble?key=" + rk + "&identifier=com.plexapp.plugins.library", k_json);
  EXPECT_EQ(body(m_client->Get(q, k_json))["MediaContainer"]["size"], before);
  EXPECT_EQ(body(m_client->Get(q, k_json))["MediaContainer"]["size"], before + 1);
}

TEST_F(PlexTest, DiscoverRateLimitAnswers429WithRetryAfter) {
  seed_universe(small_universe());
  fault({{"endpoint", "^/library/sections/watchlist/"},
         {"status", 429},
         {"retry_after_s", 2},
         {"count", 1}});
  auto r = m_client->Get("/library/sections/watchlist/all", k_cloud);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "2");
  EXPECT_EQ(m_client->Get("/library/sections/watchlist/all", k_cloud)->status, 200);
}

TEST_F(PlexTest, SeedStateRoundTrips) {
  seed_universe(small_universe());
  m_client->Get("/:/rate?key=1001&identifier=com.plexapp.plugins.library&rating=4", k_json);
  const json first = state();
  seed(first);
  EXPECT_EQ(state(), first);
}

// The recorded PMS replies (watchstate, MIT) come back unchanged when their rows are seeded.
TEST_F(PlexTest, ServesRecordedLibraryRepliesUnchanged) {
  auto recorded = read_shared_json("api-reference/plex/fixtures/watchstate/plex_data.json");
  if (!recorded) GTEST_SKIP() << "../shared/api-reference is absent";
  json items = json::array();
  for (const auto& [name, section] :
       {std::pair{"library_movie_get_200", "1"}, std::pair{"library_show_get_200", "2"},
        std::pair{"library_episodes_get_200", "2"}}) {
    for (auto row : (*recorded)[name]["response"]["body"]["MediaContainer"]["Metadata"]) {
      row["librarySectionID"] = section;
      items.push_back(row);
    }
  }
  const json sections =
      (*recorded)["sections_get_200"]["response"]["body"]["MediaContainer"]["Directory"];
  seed({{"sections", sections}, {"items", items}});
  const httplib::Headers h = {{"Accept", "application/json"},
                              {"X-Plex-Token", "plex-pms-owner-token"},
                              {"X-Plex-Container-Size", "1000"},
                              {"X-Plex-Container-Start", "0"}};
  EXPECT_EQ(body(m_client->Get("/library/sections", h)),
            (*recorded)["sections_get_200"]["response"]["body"]);
  for (const char* name :
       {"library_movie_get_200", "library_show_get_200", "library_episodes_get_200"}) {
    const auto& req = (*recorded)[name]["request"];
    std::string path = req["uri"].get<std::string>() + "?";
    for (const auto& [k, v] : req["query"].items()) {
      path += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()) + "&";
    }
    auto r = m_client->Get(path, h);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("X-Plex-Container-Start"), "0");
    EXPECT_EQ(body(r), (*recorded)[name]["response"]["body"]) << name;
  }
  auto unauthorized = m_client->Get("/library/sections", {{"X-Plex-Token", "invalid"}});
  EXPECT_EQ(unauthorized->status, 401);
  EXPECT_EQ(unauthorized->body, (*recorded)["sections_get_401"]["response"]["body"]);
}

TEST(PlexXml, AttributesChildrenAndTypes) {
  const json c = {{"size", 1},
                  {"allowSync", true},
                  {"Metadata",
                   {{{"type", "movie"},
                     {"title", "A & B"},
                     {"userRating", 7.0},
                     {"Guid", {{{"id", "imdb://tt1"}}}}}}}};
  const std::string xml = plex_json_to_xml("MediaContainer", c);
  EXPECT_NE(xml.find("<MediaContainer allowSync=\"1\" size=\"1\">"), std::string::npos);
  EXPECT_NE(xml.find("<Video title=\"A &amp; B\" type=\"movie\" userRating=\"7.0\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<Guid id=\"imdb://tt1\"/>"), std::string::npos);
}

}  // namespace
}  // namespace cw::fakes::testing
