// The Jellyfin and Emby fakes against what the servers do (issue 15): played and unplayed as
// BaseItem.MarkPlayed/MarkUnplayed change the user data, the user routes, seasons, playback
// reporting, views without invented fields, the modelled version, and no routes Emby lacks.
#include "jellyfin/mediabrowser_fake.hpp"
#include "tests/server_harness.hpp"

namespace cw::fakes::testing {
namespace {

const char* const k_jf_user = "6f7a0b3b9c2d4e1f8a7b6c5d4e3f2a10";
const char* const k_emby_user = "7f3c2a1b9e8d4c6a";

class JellyfinFixesTest : public ServerTest {
 protected:
  void SetUp() override {
    start("jellyfin");
    seed_universe(small_universe());
  }
  httplib::Headers auth() const { return {{"X-Emby-Token", "jellyfin-sandbox-token"}}; }
  std::string q() const { return "?userId=" + std::string(k_jf_user); }
  json unplayed_movie() {
    return body(m_client->Get("/Items" + q() +
                                  "&IncludeItemTypes=Movie&Recursive=true&Filters=IsUnplayed&"
                                  "Limit=1",
                              auth()))["Items"][0];
  }
  json user_data(const std::string& id) {
    return body(m_client->Get("/Items/" + id + q(), auth()))["UserData"];
  }
};

TEST_F(JellyfinFixesTest, MarkingPlayedAndUnplayedChangesCountAndDateAsTheServerDoes) {
  const std::string id = unplayed_movie()["Id"];
  const std::string path = "/UserPlayedItems/" + id + q();
  auto ud =
      body(m_client->Post(path + "&datePlayed=2024-03-01T20:11:42Z", auth(), "", "text/plain"));
  EXPECT_EQ(ud["PlayCount"], 1);
  EXPECT_EQ(ud["LastPlayedDate"], "2024-03-01T20:11:42.0000000Z");
  // Without a date: the count stays (at least 1) and the date stays where it was.
  ud = body(m_client->Post(path, auth(), "", "text/plain"));
  EXPECT_EQ(ud["PlayCount"], 1);
  EXPECT_EQ(ud["LastPlayedDate"], "2024-03-01T20:11:42.0000000Z");
  // With a date: one more play, and the date becomes the given one.
  ud = body(m_client->Post(path + "&datePlayed=2025-01-01T00:00:00Z", auth(), "", "text/plain"));
  EXPECT_EQ(ud["PlayCount"], 2);
  EXPECT_EQ(ud["LastPlayedDate"], "2025-01-01T00:00:00.0000000Z");
  // Unplayed clears the date.
  ud = body(m_client->Delete(path, auth()));
  EXPECT_EQ(ud["Played"], false);
  EXPECT_EQ(ud["PlayCount"], 0);
  EXPECT_FALSE(ud.contains("LastPlayedDate"));
  // A first play without a date is dated now and counted once.
  ud = body(m_client->Post(path, auth(), "", "text/plain"));
  EXPECT_EQ(ud["PlayCount"], 1);
  EXPECT_TRUE(ud.contains("LastPlayedDate"));
}

// The session websocket answers only an authenticated upgrade (its frames, SessionsStart and
// the pushed lists, are read end to end by the host's watcher in ScrobbleWatchers).
TEST_F(JellyfinFixesTest, SessionSocketNeedsAnUpgradeAndAToken) {
  EXPECT_EQ(m_client->Get("/socket", auth())->status, 400);
  const httplib::Headers upgrade = {{"Upgrade", "websocket"},
                                    {"Connection", "Upgrade"},
                                    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                    {"Sec-WebSocket-Version", "13"}};
  EXPECT_EQ(m_client->Get("/socket", upgrade)->status, 401);
  EXPECT_EQ(m_client->Get("/embywebsocket", auth())->status, 404);  // Emby's path, not Jellyfin's
}

TEST_F(JellyfinFixesTest, UsersVersionAndViews) {
  auto users = body(m_client->Get("/Users", auth()));
  ASSERT_TRUE(users.is_array());
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]["Id"], k_jf_user);
  EXPECT_EQ(users[0]["Policy"]["IsAdministrator"], true);
  EXPECT_EQ(m_client->Get("/Users")->status, 401);
  auto pub = body(m_client->Get("/Users/Public"));
  ASSERT_TRUE(pub.is_array());
  EXPECT_EQ(pub[0]["Name"], "alice");
  EXPECT_EQ(body(m_client->Get("/System/Info/Public"))["Version"], "10.11.11");
  auto views = body(m_client->Get("/UserViews" + q(), auth()));
  ASSERT_FALSE(views["Items"].empty());
  for (const auto& v : views["Items"]) EXPECT_FALSE(v.contains("Locations")) << v.dump();
  const json folders = body(m_client->Get("/Library/MediaFolders", auth()));
  for (const auto& v : folders["Items"]) EXPECT_FALSE(v.contains("Locations"));
}

TEST_F(JellyfinFixesTest, SeasonsOfASeries) {
  auto series = body(m_client->Get(
      "/Items" + q() + "&IncludeItemTypes=Series&Recursive=true&Limit=1", auth()))["Items"][0];
  auto seasons =
      body(m_client->Get("/Shows/" + series["Id"].get<std::string>() + "/Seasons" + q(), auth()));
  ASSERT_EQ(seasons["Items"].size(), 2u);
  EXPECT_EQ(seasons["TotalRecordCount"], 2);
  EXPECT_EQ(seasons["Items"][0]["Type"], "Season");
  EXPECT_EQ(seasons["Items"][0]["IndexNumber"], 1);
  EXPECT_EQ(seasons["Items"][1]["IndexNumber"], 2);
  EXPECT_EQ(m_client->Get("/Shows/nope/Seasons", auth())->status, 404);
}

TEST_F(JellyfinFixesTest, PlaybackReportingMovesThePositionAndAFinishedPlayCounts) {
  const json movie = unplayed_movie();
  const std::string id = movie["Id"];
  const std::int64_t runtime = movie["RunTimeTicks"];
  ASSERT_GT(runtime, 0);
  auto post = [&](const std::string& path, std::int64_t ticks) {
    return m_client->Post(path, auth(), json{{"ItemId", id}, {"PositionTicks", ticks}}.dump(),
                          "application/json");
  };
  EXPECT_EQ(post("/Sessions/Playing", 0)->status, 204);
  auto sessions = body(m_client->Get("/Sessions", auth()));
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0]["NowPlayingItem"]["Id"], id);
  EXPECT_EQ(post("/Sessions/Playing/Progress", runtime / 2)->status, 204);
  EXPECT_EQ(user_data(id)["PlaybackPositionTicks"], runtime / 2);
  EXPECT_EQ(post("/Sessions/Playing/Stopped", runtime / 2)->status, 204);
  auto ud = user_data(id);
  EXPECT_EQ(ud["PlaybackPositionTicks"], runtime / 2);
  EXPECT_EQ(ud["Played"], false);
  EXPECT_TRUE(ud.contains("LastPlayedDate"));
  EXPECT_TRUE(body(m_client->Get("/Sessions", auth())).empty());
  post("/Sessions/Playing", 0);
  post("/Sessions/Playing/Stopped", runtime * 95 / 100);
  ud = user_data(id);
  EXPECT_EQ(ud["Played"], true);
  EXPECT_EQ(ud["PlayCount"], 1);
  EXPECT_EQ(ud["PlaybackPositionTicks"], 0);
  EXPECT_EQ(m_client->Post("/Sessions/Playing", auth(), "{}", "application/json")->status, 400);
}

TEST_F(JellyfinFixesTest, StaleReadsTrailUserDataWrites) {
  const std::string favs =
      "/Items" + q() + "&IncludeItemTypes=Movie,Series&Recursive=true&Filters=IsFavorite";
  fault({{"endpoint", "^/Items$"}, {"stale_reads", 2}});
  const auto before = body(m_client->Get(favs, auth()))["TotalRecordCount"].get<int>();
  const std::string id = unplayed_movie()["Id"];
  ASSERT_EQ(m_client->Post("/UserFavoriteItems/" + id + q(), auth(), "", "text/plain")->status,
            200);
  // The next two reads of the same URL answer what they answered before the write.
  EXPECT_EQ(body(m_client->Get(favs, auth()))["TotalRecordCount"], before);
  EXPECT_EQ(body(m_client->Get(favs, auth()))["TotalRecordCount"], before);
  EXPECT_EQ(body(m_client->Get(favs, auth()))["TotalRecordCount"], before + 1);
}

class EmbyFixesTest : public ServerTest {
 protected:
  void SetUp() override {
    start("emby");
    seed_universe(small_universe());
  }
  httplib::Headers auth() const { return {{"X-Emby-Token", "emby-sandbox-token"}}; }
  std::string user_path() const { return "/Users/" + std::string(k_emby_user); }
};

TEST_F(EmbyFixesTest, UserRoutesAreNotTakenForIdsAndEmbyLacksUsersMeAndItemsById) {
  auto query = body(m_client->Get("/Users/Query", auth()));
  ASSERT_TRUE(query.is_object());
  EXPECT_EQ(query["TotalRecordCount"], 1);
  EXPECT_EQ(query["Items"][0]["Id"], k_emby_user);
  EXPECT_EQ(query["Items"][0]["Policy"]["IsAdministrator"], true);
  auto pub = body(m_client->Get("/Users/Public"));
  ASSERT_TRUE(pub.is_array());
  EXPECT_EQ(pub[0]["Id"], k_emby_user);
  EXPECT_NE(m_client->Get("/Users/Me", auth())->status, 200);
  auto item = body(m_client->Get(
      user_path() + "/Items?IncludeItemTypes=Movie&Recursive=true&Limit=1", auth()))["Items"][0];
  const std::string id = item["Id"];
  EXPECT_EQ(m_client->Get(user_path() + "/Items/" + id, auth())->status, 200);
  EXPECT_NE(m_client->Get("/Items/" + id, auth())->status, 200);
  EXPECT_EQ(body(m_client->Get("/System/Info/Public"))["Version"], "4.8.11.0");
}

TEST_F(EmbyFixesTest, PlayingItemsReportPlaybackAndUnplayedClearsTheDate) {
  auto item = body(m_client->Get(user_path() + "/Items?IncludeItemTypes=Movie&Recursive=true&"
                                               "Filters=IsUnplayed&Limit=1",
                                 auth()))["Items"][0];
  const std::string id = item["Id"];
  const std::int64_t runtime = item["RunTimeTicks"];
  const std::string playing = user_path() + "/PlayingItems/" + id;
  EXPECT_EQ(m_client->Post(playing + "?PositionTicks=0", auth(), "", "text/plain")->status, 204);
  EXPECT_EQ(m_client
                ->Post(playing + "/Progress?PositionTicks=" + std::to_string(runtime / 3), auth(),
                       "", "text/plain")
                ->status,
            204);
  EXPECT_EQ(
      m_client->Delete(playing + "?PositionTicks=" + std::to_string(runtime / 3), auth())->status,
      204);
  auto ud = body(m_client->Get(user_path() + "/Items/" + id, auth()))["UserData"];
  EXPECT_EQ(ud["PlaybackPositionTicks"], runtime / 3);
  m_client->Post(playing + "?PositionTicks=0", auth(), "", "text/plain");
  EXPECT_EQ(m_client
                ->Post(playing + "/Delete?PositionTicks=" + std::to_string(runtime), auth(), "",
                       "text/plain")
                ->status,
            204);
  ud = body(m_client->Get(user_path() + "/Items/" + id, auth()))["UserData"];
  EXPECT_EQ(ud["Played"], true);
  EXPECT_TRUE(ud.contains("LastPlayedDate"));
  ud = body(m_client->Delete(user_path() + "/PlayedItems/" + id, auth()));
  EXPECT_FALSE(ud.contains("LastPlayedDate"));
  EXPECT_EQ(ud["PlayCount"], 0);
}

}  // namespace
}  // namespace cw::fakes::testing
