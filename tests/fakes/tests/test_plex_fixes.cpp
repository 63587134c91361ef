// The Plex fake's fixes of issue 15: plex.tv documents as plex.tv writes them (booleans,
// required fields, users and home), PMS's library root, aliases and trailing slashes, the
// timeline and progress calls, and the fields of sections, rows and sessions.
#include "core/websocket_feed.hpp"
#include "plex/plex_fake.hpp"
#include "tests/server_harness.hpp"

namespace cw::fakes::testing {
namespace {

const httplib::Headers k_pms = {{"Accept", "application/json"},
                                {"X-Plex-Token", "plex-pms-owner-token"}};
const httplib::Headers k_cloud = {{"Accept", "application/json"},
                                  {"X-Plex-Token", "plex-cloud-owner-token"}};

class PlexFixesTest : public ServerTest {
 protected:
  void SetUp() override { start("plex"); }
  // A movie of the seeded universe with new-agent Guid children.
  std::string movie_with_guids() {
    const json rows = body(m_client->Get("/library/sections/1/all?type=1&includeGuids=1", k_pms));
    for (const auto& r : rows["MediaContainer"]["Metadata"]) {
      if (r.contains("Guid")) return r["ratingKey"];
    }
    return "";
  }
};

TEST_F(PlexFixesTest, ResourcesUseBooleansAndCarryEveryRequiredField) {
  auto r = m_client->Get("/api/v2/resources?includeHttps=1&includeRelay=1", k_cloud);
  ASSERT_EQ(r->status, 200);
  const json list = body(r);
  ASSERT_EQ(list.size(), 2u);  // the server and a client device
  const json& server = list[0];
  for (const char* f : {"name",
                        "product",
                        "productVersion",
                        "platform",
                        "platformVersion",
                        "device",
                        "clientIdentifier",
                        "createdAt",
                        "lastSeenAt",
                        "provides",
                        "ownerId",
                        "sourceTitle",
                        "publicAddress",
                        "accessToken",
                        "owned",
                        "home",
                        "synced",
                        "relay",
                        "presence",
                        "httpsRequired",
                        "publicAddressMatches",
                        "dnsRebindingProtection",
                        "natLoopbackSupported",
                        "connections"}) {
    EXPECT_TRUE(server.contains(f)) << f;
  }
  EXPECT_EQ(server["owned"], true);
  EXPECT_TRUE(server["ownerId"].is_null());
  EXPECT_TRUE(server["presence"].is_boolean());
  const json& conn = server["connections"][0];
  EXPECT_EQ(conn["local"], true);
  EXPECT_EQ(conn["relay"], false);
  EXPECT_EQ(conn["IPv6"], false);
  EXPECT_NE(list[1]["provides"].get<std::string>().find("player"), std::string::npos);
  // A shared user's view: not owned, with the owner's id.
  const json shared =
      body(m_client->Get("/api/v2/resources", {{"Accept", "application/json"},
                                               {"X-Plex-Token", "plex-cloud-kid-token"}}));
  EXPECT_EQ(shared[0]["owned"], false);
  EXPECT_EQ(shared[0]["ownerId"], 1);
  // The legacy XML keeps 1/0 and leaves null attributes out.
  auto xml = m_client->Get("/api/resources", {{"X-Plex-Token", "plex-cloud-owner-token"}});
  EXPECT_NE(xml->body.find("owned=\"1\""), std::string::npos);
  EXPECT_NE(xml->body.find("local=\"1\""), std::string::npos);
  EXPECT_EQ(xml->body.find("ownerId="), std::string::npos);
}

TEST_F(PlexFixesTest, PinRepliesAndTheUserCarryTheirDocumentedFields) {
  auto pin = body(m_client->Post(
      "/api/v2/pins", {{"Accept", "application/json"}, {"X-Plex-Client-Identifier", "c"}}, "",
      "text/plain"));
  EXPECT_NE(pin["qr"].get<std::string>().find(pin["code"].get<std::string>()), std::string::npos);
  EXPECT_TRUE(pin["location"].is_object());
  EXPECT_TRUE(pin.contains("newRegistration"));
  EXPECT_TRUE(pin["newRegistration"].is_null());
  const json user = body(m_client->Get("/api/v2/user", k_cloud));
  for (const char* f : {"authToken", "email", "friendlyName", "hasPassword", "id", "joinedAt",
                        "title", "twoFactorEnabled", "username", "uuid", "subscription"}) {
    EXPECT_TRUE(user.contains(f)) << f;
  }
  EXPECT_TRUE(user["joinedAt"].is_number_integer());
}

TEST_F(PlexFixesTest, UsersAndHomeAreServed) {
  auto users = m_client->Get("/api/users/", {{"X-Plex-Token", "plex-cloud-owner-token"}});
  ASSERT_EQ(users->status, 200);
  EXPECT_NE(users->body.find("<User "), std::string::npos);
  EXPECT_NE(users->body.find("<Server "), std::string::npos);
  EXPECT_NE(users->body.find("username=\"friend\""), std::string::npos);
  EXPECT_EQ(m_client->Get("/api/users")->status, 401);
  const json home = body(m_client->Get("/api/home", k_cloud));
  EXPECT_EQ(home["name"], "Sandbox Home");
  EXPECT_EQ(home["users"], 2);
}

// The notification websocket: an upgrade is answered 101 with the RFC's accept value (the
// feed's frames are read end to end by the host's client in ScrobbleWatchers); a plain GET
// is not an upgrade, and no token is 401 as everywhere on PMS.
TEST_F(PlexFixesTest, NotificationWebsocketNeedsAnUpgradeAndAToken) {
  EXPECT_EQ(NotificationFeed::accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 1.3
  EXPECT_EQ(m_client->Get("/:/websockets/notifications", k_pms)->status, 400);
  httplib::Headers upgrade = {{"Upgrade", "websocket"},
                              {"Connection", "Upgrade"},
                              {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                              {"Sec-WebSocket-Version", "13"}};
  EXPECT_EQ(m_client->Get("/:/websockets/notifications", upgrade)->status, 401);
  EXPECT_EQ(NotificationFeed::text_frame("hi"), std::string("\x81\x02hi"));
  EXPECT_EQ(NotificationFeed::text_frame(std::string(300, 'x')).substr(0, 4),
            std::string("\x81\x7e\x01\x2c"));
}

TEST_F(PlexFixesTest, LibraryRootAliasesAndTrailingSlashes) {
  const json root = body(m_client->Get("/library", k_pms));
  EXPECT_EQ(root["MediaContainer"]["Directory"][0]["key"], "sections");
  EXPECT_EQ(m_client->Get("/library/", k_pms)->status, 200);
  const json sections = body(m_client->Get("/library/sections", k_pms));
  EXPECT_EQ(body(m_client->Get("/library/sections/all", k_pms)), sections);
  EXPECT_EQ(body(m_client->Get("/library/sections/", k_pms)), sections);
  const json& movies = sections["MediaContainer"]["Directory"][0];
  for (const char* f : {"updatedAt", "scannedAt", "createdAt", "contentChangedAt", "Location"})
    EXPECT_TRUE(movies.contains(f)) << f;
  EXPECT_EQ(movies["Location"][0]["path"], "/data/movies");
  seed_universe(small_universe());
  EXPECT_EQ(m_client->Get("/library/sections/1/all/?type=1", k_pms)->status, 200);
  EXPECT_EQ(m_client->Get("/library/all/?type=1", k_pms)->status, 200);
}

TEST_F(PlexFixesTest, GeneratedRowsCarryDatesArtworkAndTheirFile) {
  seed_universe(small_universe());
  const json rows = body(m_client->Get("/library/sections/1/all?type=1", k_pms));
  const json& m = rows["MediaContainer"]["Metadata"][0];
  for (const char* f : {"updatedAt", "originallyAvailableAt", "summary", "thumb", "Media"})
    EXPECT_TRUE(m.contains(f)) << f;
  EXPECT_EQ(m["Media"][0]["Part"][0]["file"].get<std::string>().rfind("/data/movies/", 0), 0u);
  // The single item repeats its section.
  const std::string rk = movie_with_guids();
  ASSERT_FALSE(rk.empty());
  const json one = body(m_client->Get("/library/metadata/" + rk, k_pms));
  EXPECT_EQ(one["MediaContainer"]["Metadata"][0]["librarySectionID"], 1);
  // Settled: /library/metadata/{id} gives Guid children only with includeGuids=1, like the
  // listings (the API description documents the parameter, not a default).
  EXPECT_FALSE(one["MediaContainer"]["Metadata"][0].contains("Guid"));
  const json with = body(m_client->Get("/library/metadata/" + rk + "?includeGuids=1", k_pms));
  EXPECT_TRUE(with["MediaContainer"]["Metadata"][0].contains("Guid"));
}

TEST_F(PlexFixesTest, TheServerRefusesDiscoverIdsTheMetadataHostServes) {
  seed_universe(small_universe());
  const json wl = body(m_client->Get("/library/sections/watchlist/all", k_cloud));
  const std::string hex = wl["MediaContainer"]["Metadata"][0]["ratingKey"];
  auto pms = m_client->Get("/library/metadata/" + hex, k_pms);
  EXPECT_EQ(pms->status, 404);
  EXPECT_NE(pms->body.find("Not Found"), std::string::npos);
  auto meta = m_client->Get("/library/metadata/" + hex + "?includeGuids=1", k_cloud);
  ASSERT_EQ(meta->status, 200);
  EXPECT_EQ(body(meta)["MediaContainer"]["Metadata"][0]["ratingKey"], hex);
}

TEST_F(PlexFixesTest, TimelineAndProgressByGetOrPostAnswerAMediaContainer) {
  seed_universe(small_universe());
  auto post = m_client->Post(
      "/:/timeline?ratingKey=1003&key=/library/metadata/1003&state=stopped&time=60000", k_pms, "",
      "text/plain");
  ASSERT_EQ(post->status, 200);
  EXPECT_TRUE(body(post).contains("MediaContainer"));
  auto meta = body(m_client->Get("/library/metadata/1003", k_pms))["MediaContainer"]["Metadata"][0];
  EXPECT_EQ(meta["viewOffset"], 60000);
  EXPECT_EQ(m_client->Get("/:/timeline?ratingKey=1003&state=paused&time=70000", k_pms)->status,
            200);
  meta = body(m_client->Get("/library/metadata/1003", k_pms))["MediaContainer"]["Metadata"][0];
  EXPECT_EQ(meta["viewOffset"], 70000);
  EXPECT_EQ(
      m_client
          ->Post(
              "/:/"
              "progress?key=1003&identifier=com.plexapp.plugins.library&time=80000&state=stopped",
              k_pms, "", "text/plain")
          ->status,
      200);
  meta = body(m_client->Get("/library/metadata/1003", k_pms))["MediaContainer"]["Metadata"][0];
  EXPECT_EQ(meta["viewOffset"], 80000);
  EXPECT_EQ(m_client->Post("/:/progress?key=1003&state=stopped", k_pms, "", "text/plain")->status,
            400);
}

TEST_F(PlexFixesTest, SessionRowsCarryGuidSessionPlayerAndUser) {
  seed_universe(small_universe());
  json st = state();
  const std::string rk = movie_with_guids();
  ASSERT_FALSE(rk.empty());
  st["sessions"] = json::array({{{"ratingKey", rk}, {"viewOffset", 1000}, {"accountID", 1}}});
  seed(st);
  const json s = body(m_client->Get("/status/sessions", k_pms));
  const json& row = s["MediaContainer"]["Metadata"][0];
  EXPECT_TRUE(row.contains("Guid"));
  EXPECT_EQ(row["Session"]["location"], "lan");
  for (const char* f :
       {"address", "machineIdentifier", "platform", "product", "state", "title", "local", "userID"})
    EXPECT_TRUE(row["Player"].contains(f)) << f;
  EXPECT_EQ(row["User"]["title"], "sandbox-owner");
}

}  // namespace
}  // namespace cw::fakes::testing
