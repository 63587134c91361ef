// The emby provider on the SDK's mock host: what differs from Jellyfin. The user-scoped
// routes, X-Emby-Token, the compact DatePlayed, the POST .../Delete fallback, the form login,
// AnyProviderIdEquals, /Users/Query, collections that are created with their first items.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "mediabrowser.hpp"
#include "mini_server.hpp"

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::PluginInstance;
using cwsdk::testing::RecordedRequest;
using mbtest::MiniServer;

namespace {

class EmbyTest : public ::testing::Test {
 protected:
  MockHost host;
  MiniServer srv;

  void SetUp() override {
    srv.emby = true;
    host.set_secret("access_token", "emby-token-1");
    srv.rows = {
        MiniServer::movie("101", "Alpha", 2001, {{"Imdb", "tt0000101"}, {"Tmdb", "101"}}),
        MiniServer::movie("102", "Beta", 2002, {{"Tmdb", "102"}}),
        MiniServer::series("200", "Show", 2010, {{"Tvdb", "9001"}}),
        MiniServer::episode("201", "200", 1, 1),
    };
  }
  PluginInstance make(Json extra = Json::object()) {
    Json cfg = {{"url", "http://emby.local:8096"}, {"access_token", "${secret}"}};
    cfg.update(extra);
    return PluginInstance(cwsdk::detail::provider_table<mediabrowser::Emby>(), host, cfg);
  }
  static Json with_key(Json item, const std::string& key) {
    item["key"] = key;
    return item;
  }
};

TEST_F(EmbyTest, UserScopedRoutesTheTokenHeaderAndTheFirstAdministrator) {
  srv.users = {Json{{"Id", "u0"}, {"Name", "kid"}, {"Policy", {{"IsAdministrator", false}}}},
               Json{{"Id", "u1"}, {"Name", "alice"}, {"Policy", {{"IsAdministrator", true}}}}};
  srv.rows[0]["UserData"] = {{"Played", true}, {"LastPlayedDate", "2024-03-01T20:11:42.0000000Z"}};
  srv.install(host);
  auto p = make();
  auto h = p.health();
  EXPECT_EQ(h.json()["message"], "signed in as alice on Emby 4.8.11.0") << h.body;
  auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  ASSERT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["watched_at"], "2024-03-01T20:11:42Z");
  for (const auto& req : host.requests()) {
    EXPECT_EQ(req.header("X-Emby-Token"), "emby-token-1");
    EXPECT_NE(req.path, "/Users/Me");  // Emby has no /Users/Me
  }
  EXPECT_EQ(host.requests().back().path, "/Users/u1/Items");
}

TEST_F(EmbyTest, PlayedTakesTheCompactDateAndDeleteFallsBackToPost) {
  host.on("DELETE", "/Users/u1/PlayedItems/*").reply(405);
  srv.install(host);
  auto p = make({{"user", "u1"}});
  auto r = p.add("history", Json::array({with_key({{"type", "movie"},
                                                   {"ids", {{"imdb", "tt0000101"}}},
                                                   {"watched_at", "2024-01-02T03:04:05.678Z"}},
                                                  "a")}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  bool any_provider = false, dated = false;
  for (const auto& req : host.requests()) {
    if (req.query_value("AnyProviderIdEquals")) {
      any_provider = true;
      EXPECT_EQ(req.query_value("AnyProviderIdEquals"), "imdb.tt0000101");
    }
    if (req.method == "POST" && req.path == "/Users/u1/PlayedItems/101") {
      EXPECT_EQ(req.query_value("DatePlayed"), "20240102030405");
      dated = true;
    }
  }
  EXPECT_TRUE(any_provider);
  EXPECT_TRUE(dated);
  r = p.remove("history",
               Json::array({with_key({{"type", "movie"}, {"extra", {{"id", "101"}}}}, "a")}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().path, "/Users/u1/PlayedItems/101/Delete");
  EXPECT_EQ(srv.find("101")->at("UserData")["Played"], false);
}

TEST_F(EmbyTest, FormLogin) {
  MockHost h;
  h.set_secret("password", "p&w");
  h.on("POST", "/Users/AuthenticateByName").handle([](const RecordedRequest& r) {
    EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(r.body, "Username=alice&Pw=p%26w");
    EXPECT_TRUE(r.header("X-Emby-Authorization").has_value());
    return MockReply::json(200, {{"AccessToken", "t1"}, {"User", {{"Id", "u1"}}}});
  });
  MiniServer s;
  s.emby = true;
  s.install(h);
  PluginInstance p(
      cwsdk::detail::provider_table<mediabrowser::Emby>(), h,
      {{"url", "http://emby.local"}, {"username", "alice"}, {"password", "${secret}"}});
  EXPECT_EQ(p.health().json()["status"], "ok");
  EXPECT_EQ(h.requests().back().header("X-Emby-Token"), "t1");

  MockHost refused;
  refused.set_secret("password", "bad");
  refused.on("POST", "/Users/AuthenticateByName")
      .reply(401, "Invalid username or password entered.");
  PluginInstance q(
      cwsdk::detail::provider_table<mediabrowser::Emby>(), refused,
      {{"url", "http://emby.local"}, {"username", "alice"}, {"password", "${secret}"}});
  EXPECT_EQ(q.health().json()["status"], "auth_failed");
  EXPECT_EQ(q.build_index("watchlist").status, CW_STATUS_AUTH);
}

TEST_F(EmbyTest, ACollectionWatchlistIsCreatedWithItsFirstItems) {
  srv.install(host);
  host.on("GET", "/Users/u1/Items")
      .with_query("IncludeItemTypes", "BoxSet")
      .reply_json(200, {{"Items", Json::array()}, {"TotalRecordCount", 0}});
  Json created;
  host.on("POST", "/Collections").handle([&created](const RecordedRequest& r) {
    created = r.document;
    return MockReply::json(200, {{"Id", "900"}, {"Name", "Watchlist"}});
  });
  host.on("POST", "/Collections/900/Items").reply(204);
  auto p = make({{"user", "u1"}, {"watchlist", {{"mode", "collection"}}}});
  // Before anything was added there is no collection: an empty, complete watchlist.
  auto r = p.build_index("watchlist");
  EXPECT_EQ(r.json()["complete"], true);
  EXPECT_EQ(r.json()["items"].size(), 0u);
  r = p.add("watchlist",
            Json::array({with_key({{"type", "movie"}, {"ids", {{"tmdb", "102"}}}}, "b")}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(created["query"]["Ids"], "102");
  EXPECT_EQ(created["query"]["Name"], "Watchlist");
  r = p.add("watchlist",
            Json::array({with_key({{"type", "show"}, {"ids", {{"tvdb", "9001"}}}}, "s")}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().path, "/Collections/900/Items");
  EXPECT_EQ(host.requests().back().query_value("Ids"), "200");
}

}  // namespace
