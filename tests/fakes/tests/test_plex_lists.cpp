// Plex playlists and collections: /playlists, /playlists/{id}/items,
// /library/sections/{id}/collections, /library/collections/{id}/children.
#include "plex/plex_fake.hpp"
#include "tests/server_harness.hpp"

namespace cw::fakes::testing {
namespace {

const httplib::Headers k_json = {{"Accept", "application/json"},
                                 {"X-Plex-Token", "plex-pms-owner-token"}};

class PlexListsTest : public ServerTest {
 protected:
  void SetUp() override {
    start("plex");
    seed_universe(small_universe());
    const auto all = body(m_client->Get("/library/sections/1/all?type=1", k_json));
    for (const auto& row : all["MediaContainer"]["Metadata"]) {
      m_movies.push_back(row["ratingKey"].get<std::string>());
    }
    ASSERT_GE(m_movies.size(), 4u);
    // Seeded through the state round trip, the way a saved state is replayed.
    json st = body(m_client->Get("/__sandbox/state"));
    st["playlists"] = {{{"ratingKey", "501"},
                        {"title", "Weekend"},
                        {"playlistType", "video"},
                        {"addedAt", 1700000000},
                        {"items", {m_movies[2], "999999", m_movies[0]}}}};
    st["collections"] = {{{"ratingKey", "601"},
                          {"title", "Trilogy"},
                          {"subtype", "movie"},
                          {"librarySectionID", 1},
                          {"items", {m_movies[1], m_movies[3]}}}};
    seed(st);
  }
  std::vector<std::string> m_movies;
};

TEST_F(PlexListsTest, ListsPlaylistsWithCountsAndKeys) {
  auto r = m_client->Get("/playlists", k_json);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto mc = body(r)["MediaContainer"];
  ASSERT_EQ(mc["size"], 1);
  const auto& p = mc["Metadata"][0];
  EXPECT_EQ(p["ratingKey"], "501");
  EXPECT_EQ(p["type"], "playlist");
  EXPECT_EQ(p["playlistType"], "video");
  EXPECT_EQ(p["key"], "/playlists/501/items");
  EXPECT_EQ(p["leafCount"], 2);  // the unknown rating key is dropped, as PMS drops deleted media
  EXPECT_FALSE(p["smart"].get<bool>());
  EXPECT_FALSE(
      body(m_client->Get("/playlists?playlistType=audio", k_json))["MediaContainer"].contains(
          "Metadata"));
}

TEST_F(PlexListsTest, PlaylistItemsKeepOrderAndPage) {
  auto mc = body(m_client->Get("/playlists/501/items", k_json))["MediaContainer"];
  ASSERT_EQ(mc["size"], 2);
  EXPECT_EQ(mc["Metadata"][0]["ratingKey"], m_movies[2]);
  EXPECT_EQ(mc["Metadata"][1]["ratingKey"], m_movies[0]);
  EXPECT_TRUE(mc["Metadata"][0].contains("playlistItemID"));
  auto page = body(m_client->Get(
      "/playlists/501/items?X-Plex-Container-Start=1&X-Plex-Container-Size=1", k_json));
  EXPECT_EQ(page["MediaContainer"]["totalSize"], 2);
  ASSERT_EQ(page["MediaContainer"]["Metadata"].size(), 1u);
  EXPECT_EQ(page["MediaContainer"]["Metadata"][0]["ratingKey"], m_movies[0]);
  EXPECT_EQ(m_client->Get("/playlists/777/items", k_json)->status, 404);
  EXPECT_EQ(m_client->Get("/playlists", {{"X-Plex-Token", "wrong"}})->status, 401);
}

TEST_F(PlexListsTest, CollectionsPerSectionAndTheirChildren) {
  auto mc = body(m_client->Get("/library/sections/1/collections", k_json))["MediaContainer"];
  ASSERT_EQ(mc["size"], 1);
  const auto& c = mc["Metadata"][0];
  EXPECT_EQ(c["type"], "collection");
  EXPECT_EQ(c["subtype"], "movie");
  EXPECT_EQ(c["key"], "/library/collections/601/children");
  EXPECT_EQ(c["childCount"], "2");
  EXPECT_FALSE(
      body(m_client->Get("/library/sections/2/collections", k_json))["MediaContainer"].contains(
          "Metadata"));
  auto kids = body(m_client->Get("/library/collections/601/children?includeGuids=1", k_json));
  ASSERT_EQ(kids["MediaContainer"]["size"], 2);
  EXPECT_EQ(kids["MediaContainer"]["Metadata"][0]["ratingKey"], m_movies[1]);
  EXPECT_EQ(kids["MediaContainer"]["Metadata"][1]["ratingKey"], m_movies[3]);
  auto xml = m_client->Get("/library/collections/601/children",
                           {{"X-Plex-Token", "plex-pms-owner-token"}});
  ASSERT_EQ(xml->status, 200);
  EXPECT_NE(xml->body.find("<MediaContainer "), std::string::npos);
  EXPECT_EQ(m_client->Get("/library/collections/999/children", k_json)->status, 404);
  EXPECT_EQ(m_client->Get("/library/sections/99/collections", k_json)->status, 404);
}

TEST_F(PlexListsTest, StateRoundTripsListsAndResetClearsThem) {
  const auto st = body(m_client->Get("/__sandbox/state"));
  ASSERT_EQ(st["playlists"].size(), 1u);
  EXPECT_EQ(st["playlists"][0]["items"].size(), 3u);
  EXPECT_EQ(st["collections"][0]["librarySectionID"], 1);
  ASSERT_EQ(m_client->Post("/__sandbox/reset", "", "application/json")->status, 200);
  EXPECT_TRUE(body(m_client->Get("/__sandbox/state"))["playlists"].empty());
}

}  // namespace
}  // namespace cw::fakes::testing
