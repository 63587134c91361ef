// The jellyfin provider on the SDK's mock host: paging and honest completeness, ids and
// episodes, dates and ticks, writes with exact outcomes, finding items by external ids,
// the write-through shadow, login and user selection, broken replies.
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

const char* const k_token = "jf-token-1";

class JellyfinTest : public ::testing::Test {
 protected:
  MockHost host;
  MiniServer srv;

  void SetUp() override {
    host.set_secret("access_token", k_token);
    host.set_now_ms(1767225600000);  // 2026-01-01
    srv.rows = {
        MiniServer::movie("m1", "Alpha", 2001, {{"Imdb", "tt0000101"}, {"Tmdb", "101"}}),
        MiniServer::movie("m2", "Beta", 2002, {{"Tmdb", "102"}}),
        MiniServer::movie("m3", "Gamma", 2003, Json::object()),
        MiniServer::series("s1", "Show One", 2010, {{"Tvdb", "9001"}, {"Imdb", "tt0000900"}}),
        MiniServer::episode("e1", "s1", 1, 1, {{"Tvdb", "70001"}}),
        MiniServer::episode("e2", "s1", 1, 2),
    };
  }
  PluginInstance make(Json extra = Json::object()) {
    Json cfg = {{"url", "http://jf.local:8096/"}, {"access_token", "${secret}"}, {"page_size", 10}};
    cfg.update(extra);
    return PluginInstance(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), host, cfg);
  }
  static std::map<std::string, Json> by_key(const Json& outcomes) {
    std::map<std::string, Json> out;
    for (const auto& o : outcomes["outcomes"]) out[o["key"].get<std::string>()] = o;
    return out;
  }
  static Json with_key(Json item, const std::string& key) {
    item["key"] = key;
    return item;
  }
};

TEST_F(JellyfinTest, ManifestDeclaresOnlyWhatExists) {
  const Json m = Json::parse(mediabrowser::Jellyfin::manifest());
  EXPECT_EQ(m["name"], "jellyfin");
  EXPECT_EQ(m["features"]["ratings"]["remove"], false);  // the servers cannot clear a rating
  EXPECT_EQ(m["features"]["history"]["rewatches"], false);
  EXPECT_EQ(m["features"]["history"]["writes_watch_date"], true);
  EXPECT_EQ(m["features"]["progress"]["update"], true);
}

TEST_F(JellyfinTest, HistoryReadsEveryPageWithDatesShowIdsAndTheToken) {
  srv.rows[0]["UserData"] = {{"Played", true}, {"LastPlayedDate", "2024-03-01T20:11:42.0000000Z"}};
  srv.rows[4]["UserData"] = {{"Played", true}, {"LastPlayedDate", "2024-03-02T10:00:00.1234567Z"}};
  srv.rows[5]["UserData"] = {{"Played", true}};  // played, no date
  for (int i = 0; i < 12; ++i) {
    Json m = MiniServer::movie("x" + std::to_string(i), "Extra " + std::to_string(i), 1990,
                               {{"Tmdb", std::to_string(500 + i)}});
    m["UserData"] = {{"Played", true}, {"LastPlayedDate", "2020-01-01T00:00:00.0000000Z"}};
    srv.rows.push_back(m);
  }
  srv.install(host);
  auto p = make({{"user", "u1"}});
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["expected_total"], 15);
  ASSERT_EQ(doc["items"].size(), 15u);
  std::map<std::string, Json> items;
  for (const auto& it : doc["items"]) items[it["extra"]["id"].get<std::string>()] = it;
  EXPECT_EQ(items["m1"]["watched_at"], "2024-03-01T20:11:42Z");
  EXPECT_EQ(items["m1"]["ids"]["imdb"], "tt0000101");
  EXPECT_EQ(items["e1"]["type"], "episode");
  EXPECT_EQ(items["e1"]["watched_at"], "2024-03-02T10:00:00.123Z");
  EXPECT_EQ(items["e1"]["show"]["ids"]["tvdb"], "9001");
  EXPECT_EQ(items["e1"]["show"]["title"], "Show One");
  EXPECT_EQ(items["e1"]["season"], 1);
  EXPECT_EQ(items["e1"]["episode"], 1);
  EXPECT_FALSE(items["e2"].contains("watched_at"));  // played without a date: presence
  int item_reads = 0;
  for (const auto& req : host.requests()) {
    EXPECT_NE(req.header("Authorization").value_or("").find("Token=\"jf-token-1\""),
              std::string::npos);
    if (req.path == "/Items" && req.query_value("Filters") == "IsPlayed") {
      ++item_reads;
      EXPECT_EQ(req.query_value("userId"), "u1");
      EXPECT_EQ(req.query_value("Limit"), "10");
    }
  }
  EXPECT_EQ(item_reads, 2);
  for (const auto& line : host.logs()) EXPECT_EQ(line.text.find(k_token), std::string::npos);
}

TEST_F(JellyfinTest, ACountThatDisagreesOrAFailedPageIsNeverComplete) {
  srv.rows[0]["UserData"]["IsFavorite"] = true;
  srv.total_bonus = 3;  // the server announces rows it never returns
  srv.install(host);
  auto p = make({{"user", "u1"}});
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);

  MockHost failing;
  failing.set_secret("access_token", k_token);
  failing.on("GET", "/Users/u1").reply_json(200, {{"Id", "u1"}, {"Name", "alice"}});
  failing.on("GET", "/Items").reply(503);
  PluginInstance q(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), failing,
                   {{"url", "http://jf.local"}, {"access_token", "${secret}"}, {"user", "u1"}});
  r = q.build_index("history");
  EXPECT_EQ(r.status, CW_STATUS_TRANSIENT);
}

TEST_F(JellyfinTest, BrokenRowsAndBodiesAreOneErrorNeverACrash) {
  host.on("GET", "/Users/u1").reply_json(200, {{"Id", "u1"}, {"Name", "alice"}});
  host.on("GET", "/Items")
      .with_query("Filters", "IsPlayed")
      .reply_json(200,
                  {{"Items", Json::array({42,
                                          {{"Type", "Movie"}},
                                          {{"Id", "m9"},
                                           {"Type", "Movie"},
                                           {"Name", "Ok"},
                                           {"UserData", {{"Played", true}, {"LastPlayedDate", 7}}}},
                                          {{"Id", "m8"},
                                           {"Type", "Movie"},
                                           {"Name", "Fine"},
                                           {"ProductionYear", "soon"},
                                           {"UserData", {{"Played", true}}}}})},
                   {"TotalRecordCount", 4}});
  host.on("GET", "/Items").with_query("Filters", "IsFavorite").reply(200, "{\"Items\": [");
  host.on("GET", "/Items").with_query("Filters", "IsResumable").reply_json(200, {{"Items", 5}});
  auto p = make({{"user", "u1"}});
  auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  ASSERT_EQ(r.json()["items"].size(), 1u);  // only m8; its odd year is dropped
  EXPECT_FALSE(r.json()["items"][0].contains("year"));
  r = p.build_index("watchlist");
  EXPECT_EQ(r.status, CW_STATUS_INTERNAL);
  EXPECT_NE(r.message().find("GET /Items"), std::string::npos) << r.message();
  r = p.build_index("progress");
  EXPECT_EQ(r.status, CW_STATUS_INTERNAL);
  EXPECT_EQ(p.call_raw("build_index", "[").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call("add", {{"feature", "history"}, {"items", "x"}}).status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.remove("ratings", Json::array()).status, CW_STATUS_UNSUPPORTED);
}

TEST_F(JellyfinTest, ProgressIsTicksAndMilliseconds) {
  srv.rows[1]["UserData"] = {{"PlaybackPositionTicks", 12345670000LL},
                             {"LastPlayedDate", "2025-05-05T05:05:05.0000000Z"}};
  srv.install(host);
  auto p = make({{"user", "u1"}});
  auto r = p.build_index("progress");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  ASSERT_EQ(r.json()["items"].size(), 1u);
  const Json it = r.json()["items"][0];
  EXPECT_EQ(it["progress_ms"], 1234567);
  EXPECT_EQ(it["duration_ms"], 7200000);
  EXPECT_EQ(it["progress_at"], "2025-05-05T05:05:05Z");

  Json upd = with_key(it, "k1");
  upd["progress_ms"] = 2000000;
  upd["progress_at"] = "2025-06-01T00:00:00Z";
  r = p.update("progress", Json::array({upd}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  const RecordedRequest sent = host.requests().back();
  EXPECT_EQ(sent.path, "/UserItems/m2/UserData");
  EXPECT_EQ(sent.json_body()["PlaybackPositionTicks"], 20000000000LL);
  EXPECT_EQ(sent.json_body()["LastPlayedDate"], "2025-06-01T00:00:00Z");
  r = p.remove("progress", Json::array({upd}));
  EXPECT_EQ(host.requests().back().json_body()["PlaybackPositionTicks"], 0);
}

TEST_F(JellyfinTest, HistoryAddsWithAnIsoDateSkipsWhatIsPlayedAndFindsItemsByIds) {
  srv.rows[1]["UserData"]["Played"] = true;
  srv.install(host);
  auto p = make({{"user", "u1"}});
  const Json items = Json::array({
      // by tmdb only, through the library index
      with_key({{"type", "movie"},
                {"title", "Alpha"},
                {"ids", {{"tmdb", "101"}}},
                {"watched_at", "2024-01-02T03:04:05Z"}},
               "a"),
      with_key({{"type", "movie"}, {"title", "Beta"}, {"ids", {{"tmdb", "102"}}}}, "b"),
      // no ids: title and year
      with_key({{"type", "movie"}, {"title", "gamma"}, {"year", 2003}}, "c"),
      // an episode without ids of its own: its show and numbers
      with_key({{"type", "episode"},
                {"show", {{"title", "x"}, {"ids", {{"imdb", "tt0000900"}}}}},
                {"season", 1},
                {"episode", 2}},
               "d"),
      with_key({{"type", "movie"}, {"title", "Nowhere"}, {"ids", {{"imdb", "tt9999999"}}}}, "e"),
  });
  auto r = p.add("history", items);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  auto out = by_key(r.json());
  EXPECT_EQ(out["a"]["status"], "confirmed");
  EXPECT_EQ(out["b"]["status"], "skipped");  // already played
  EXPECT_EQ(out["c"]["status"], "confirmed");
  EXPECT_EQ(out["d"]["status"], "confirmed");
  EXPECT_EQ(out["e"]["status"], "unresolved");
  EXPECT_EQ(out["e"]["reason"], "not_found");
  bool dated = false;
  for (const auto& req : host.requests()) {
    if (req.method == "POST" && req.path == "/UserPlayedItems/m1") {
      EXPECT_EQ(req.query_value("datePlayed"), "2024-01-02T03:04:05Z");
      EXPECT_EQ(req.query_value("userId"), "u1");
      dated = true;
    }
  }
  EXPECT_TRUE(dated);
  EXPECT_EQ(srv.find("e2")->at("UserData")["Played"], true);
  EXPECT_EQ(srv.find("m3")->at("UserData")["Played"], true);

  // Removing: the server's id from extra; an item the server does not have is skipped.
  r = p.remove("history",
               Json::array({with_key({{"type", "movie"}, {"extra", {{"id", "m1"}}}}, "x"),
                            with_key(items[4], "y")}));
  out = by_key(r.json());
  EXPECT_EQ(out["x"]["status"], "confirmed");
  EXPECT_EQ(out["y"]["status"], "skipped");
  EXPECT_EQ(srv.find("m1")->at("UserData")["Played"], false);
}

TEST_F(JellyfinTest, AStaleReadDoesNotUndoAnAcceptedWrite) {
  // The server accepts favourites but its reads lag behind (these routes win over srv's).
  host.on("POST", "/UserFavoriteItems/*").reply(204);
  host.on("DELETE", "/UserFavoriteItems/*").reply(204);
  srv.install(host);
  auto p = make({{"user", "u1"}});
  Json beta = {{"type", "movie"}, {"title", "Beta"}, {"year", 2002}, {"ids", {{"tmdb", "102"}}}};
  auto r = p.add("watchlist", Json::array({with_key(beta, "k")}));
  ASSERT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  r = p.build_index("watchlist");
  ASSERT_EQ(r.json()["items"].size(), 1u);  // the shadow stands in for the lagging read
  EXPECT_EQ(r.json()["items"][0]["ids"]["tmdb"], "102");
  EXPECT_EQ(r.json()["complete"], true);
  // Once the server shows it, the shadow entry goes.
  srv.find("m2")->at("UserData")["IsFavorite"] = true;
  r = p.build_index("watchlist");
  EXPECT_EQ(r.json()["items"].size(), 1u);
  EXPECT_FALSE(host.kv("shadow/watchlist").has_value());

  // A removal the server does not show yet stays removed in the index, until the ttl.
  r = p.remove("watchlist",
               Json::array({with_key({{"type", "movie"}, {"extra", {{"id", "m2"}}}}, "k")}));
  ASSERT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(p.build_index("watchlist").json()["items"].size(), 0u);
  host.advance_ms(2LL * 60 * 60 * 1000);
  EXPECT_EQ(p.build_index("watchlist").json()["items"].size(), 1u);  // the server wins again
}

TEST_F(JellyfinTest, AnApiKeyHasNoUserSoTheFirstAdministratorIsUsed) {
  srv.users = {Json{{"Id", "u0"}, {"Name", "kid"}, {"Policy", {{"IsAdministrator", false}}}},
               Json{{"Id", "u1"}, {"Name", "alice"}, {"Policy", {{"IsAdministrator", true}}}}};
  host.on("GET", "/Users/Me").reply(400, "Not a user");
  srv.install(host);
  auto p = make();
  auto r = p.health();
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.json()["status"], "ok") << r.body;
  EXPECT_EQ(r.json()["message"], "signed in as alice on Jellyfin 10.11.11");
  // A user by name.
  MockHost other;
  other.set_secret("access_token", k_token);
  MiniServer s2;
  s2.users = srv.users;
  s2.install(other);
  PluginInstance q(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), other,
                   {{"url", "http://jf.local"}, {"access_token", "${secret}"}, {"user", "KID"}});
  EXPECT_EQ(q.health().json()["message"], "signed in as kid on Jellyfin 10.11.11");
}

TEST_F(JellyfinTest, PasswordLoginStoresTheSessionAndLogsInAgainAfterA401) {
  MockHost h;
  h.set_secret("password", "pw");
  int logins = 0;
  h.on("POST", "/Users/AuthenticateByName").handle([&logins](const RecordedRequest& r) {
    ++logins;
    EXPECT_EQ(r.json_body()["Username"], "alice");
    EXPECT_EQ(r.json_body()["Pw"], "pw");
    EXPECT_EQ(r.header("Authorization").value_or("").find("Token="), std::string::npos);
    return MockReply::json(200, {{"AccessToken", "tok-" + std::to_string(logins)},
                                 {"User", {{"Id", "u1"}, {"Name", "alice"}}}});
  });
  h.on("GET", "/Users/u1").reply(401).times(1).reply_json(200, {{"Id", "u1"}, {"Name", "alice"}});
  h.on("GET", "/System/Info").reply_json(200, {{"Version", "10.9.0"}});
  PluginInstance p(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), h,
                   {{"url", "http://jf.local"}, {"username", "alice"}, {"password", "${secret}"}});
  auto r = p.health();
  EXPECT_EQ(r.json()["status"], "ok") << r.body;
  EXPECT_EQ(logins, 2);  // the first token was refused once
  EXPECT_NE(h.secret("session").value_or("").find("tok-2"), std::string::npos);
  EXPECT_NE(h.requests().back().header("Authorization").value_or("").find("Token=\"tok-2\""),
            std::string::npos);

  // A dry run may log in (the login changes nothing), and reads; writes are refused.
  MockHost dry;
  dry.set_dry_run(true);
  dry.set_secret("password", "pw");
  dry.on("POST", "/Users/AuthenticateByName")
      .reply_json(200, {{"AccessToken", "t"}, {"User", {{"Id", "u1"}, {"Name", "alice"}}}});
  MiniServer s2;
  s2.rows = srv.rows;
  s2.install(dry);
  PluginInstance d(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), dry,
                   {{"url", "http://jf.local"}, {"username", "alice"}, {"password", "${secret}"}});
  EXPECT_EQ(d.build_index("history").status, CW_STATUS_OK);
  auto w = d.add("history",
                 Json::array({with_key({{"type", "movie"}, {"extra", {{"id", "m1"}}}}, "k")}));
  ASSERT_EQ(w.status, CW_STATUS_OK) << w.message();
  EXPECT_EQ(w.json()["outcomes"][0]["status"], "unresolved");

  MockHost old;
  old.set_secret("access_token", k_token);
  old.on("GET", "/Users/Me").reply_json(200, {{"Id", "u1"}, {"Name", "alice"}});
  old.on("GET", "/System/Info").reply_json(200, {{"Version", "10.8.13"}});
  PluginInstance q(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), old,
                   {{"url", "http://jf.local"}, {"access_token", "${secret}"}});
  EXPECT_EQ(q.health().json()["status"], "down");

  MockHost refused;
  refused.set_secret("access_token", "revoked");
  refused.on("GET", "/Users/Me").reply(401);
  PluginInstance z(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), refused,
                   {{"url", "http://jf.local"}, {"access_token", "${secret}"}});
  EXPECT_EQ(z.health().json()["status"], "auth_failed");
  EXPECT_EQ(z.build_index("history").status, CW_STATUS_AUTH);
}

TEST_F(JellyfinTest, ConfigurationErrorsAreClear) {
  MockHost h;
  PluginInstance a(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), h,
                   {{"url", "jf.local"}, {"access_token", "x"}});
  EXPECT_FALSE(a.created());
  EXPECT_NE(a.create_error().find("url"), std::string::npos);
  // No credentials: created (create does no I/O), and every call is an auth failure.
  PluginInstance b(cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), h,
                   {{"url", "http://jf.local"}});
  ASSERT_TRUE(b.created());
  EXPECT_EQ(b.health().json()["status"], "auth_failed");
  EXPECT_NE(b.build_index("history").message().find("access_token"), std::string::npos);
  EXPECT_TRUE(h.requests().empty());
  PluginInstance c(
      cwsdk::detail::provider_table<mediabrowser::Jellyfin>(), h,
      {{"url", "http://jf.local"}, {"api_key", "x"}, {"watchlist", {{"mode", "queue"}}}});
  EXPECT_FALSE(c.created());
  EXPECT_NE(c.create_error().find("watchlist.mode"), std::string::npos);
}

TEST_F(JellyfinTest, APlaylistWatchlistIsFoundByNameCreatedOnceAndEntriesRemovedByEntryId) {
  // The playlist routes, scripted here; they win over srv's (registered first).
  Json entries = Json::array();  // [{"PlaylistItemId", "Id"}]
  bool exists = false;
  Json created;
  host.on("GET", "/Items")
      .with_query("IncludeItemTypes", "Playlist")
      .handle([&](const RecordedRequest&) {
        Json items = Json::array();
        items.push_back({{"Id", "p0"}, {"Name", "Other"}, {"Type", "Playlist"}});
        if (exists) items.push_back({{"Id", "p1"}, {"Name", "watchlist"}, {"Type", "Playlist"}});
        return MockReply::json(200, {{"Items", items}, {"TotalRecordCount", items.size()}});
      });
  host.on("POST", "/Playlists").handle([&](const RecordedRequest& r) {
    created = r.json_body();
    exists = true;
    for (const auto& id : created["Ids"])
      entries.push_back({{"PlaylistItemId", "e-" + id.get<std::string>()}, {"Id", id}});
    return MockReply::json(200, {{"Id", "p1"}});
  });
  host.on("POST", "/Playlists/p1/Items").handle([&](const RecordedRequest& r) {
    for (const auto& id : mbtest::split(r.query_value("Ids").value_or("")))
      entries.push_back({{"PlaylistItemId", "e-" + id}, {"Id", id}});
    return MockReply::with(204);
  });
  host.on("DELETE", "/Playlists/p1/Items").handle([&](const RecordedRequest& r) {
    const auto gone = mbtest::split(r.query_value("EntryIds").value_or(""));
    Json left = Json::array();
    for (const auto& e : entries) {
      if (std::find(gone.begin(), gone.end(), e["PlaylistItemId"]) == gone.end()) left.push_back(e);
    }
    entries = left;
    return MockReply::with(204);
  });
  host.on("GET", "/Playlists/p1/Items").handle([&](const RecordedRequest&) {
    Json items = Json::array();
    for (const auto& e : entries) {
      Json row = *srv.find(e["Id"].get<std::string>());
      row["PlaylistItemId"] = e["PlaylistItemId"];
      items.push_back(row);
    }
    return MockReply::json(200, {{"Items", items}, {"TotalRecordCount", items.size()}});
  });
  srv.install(host);
  auto p = make({{"user", "u1"}, {"watchlist", {{"mode", "playlist"}, {"name", "Watchlist"}}}});
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["items"].size(), 0u);  // no playlist yet: empty and complete
  EXPECT_EQ(r.json()["complete"], true);
  r = p.add("watchlist",
            Json::array({with_key({{"type", "movie"}, {"ids", {{"tmdb", "101"}}}}, "a")}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(created["Name"], "Watchlist");
  EXPECT_EQ(created["Ids"], Json::array({"m1"}));
  r = p.add("watchlist",
            Json::array({with_key({{"type", "show"}, {"ids", {{"tvdb", "9001"}}}}, "s"),
                         with_key({{"type", "movie"}, {"ids", {{"tmdb", "102"}}}}, "b")}));
  EXPECT_EQ(by_key(r.json())["s"]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().query_value("Ids"), "s1,m2");
  r = p.build_index("watchlist");
  ASSERT_EQ(r.json()["items"].size(), 3u);
  EXPECT_EQ(r.json()["items"][1]["extra"]["entry"], "e-s1");
  // Removal: by the entry id from extra, or (without extra) from a fresh read.
  r = p.remove("watchlist",
               Json::array({with_key(r.json()["items"][1], "s"),
                            with_key({{"type", "movie"}, {"ids", {{"tmdb", "101"}}}}, "a"),
                            with_key({{"type", "movie"}, {"ids", {{"tmdb", "999"}}}}, "z")}));
  auto out = by_key(r.json());
  EXPECT_EQ(out["s"]["status"], "confirmed");
  EXPECT_EQ(out["a"]["status"], "confirmed");
  EXPECT_EQ(out["z"]["status"], "skipped");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["Id"], "m2");
}

TEST_F(JellyfinTest, RatingsAreTheUsersRatingOnZeroToTen) {
  srv.rows[0]["UserData"]["Rating"] = 7.5;
  srv.rows[3]["UserData"]["Rating"] = 10;
  srv.rows[4]["UserData"]["Rating"] = 11;  // out of range: left out, index incomplete
  srv.install(host);
  auto p = make({{"user", "u1"}});
  auto r = p.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["items"].size(), 2u);
  EXPECT_EQ(r.json()["complete"], false);
  Json beta = with_key({{"type", "movie"}, {"ids", {{"tmdb", "102"}}}, {"rating", 6}}, "k");
  r = p.add("ratings", Json::array({beta}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(srv.find("m2")->at("UserData")["Rating"], 6);
}

}  // namespace
