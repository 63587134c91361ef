#include "jellyfin/mediabrowser_fake.hpp"
#include "tests/server_harness.hpp"

namespace cw::fakes::testing {
namespace {

const char* const k_jf_user = "6f7a0b3b9c2d4e1f8a7b6c5d4e3f2a10";
const char* const k_emby_user = "7f3c2a1b9e8d4c6a";

class JellyfinTest : public ServerTest {
 protected:
  void SetUp() override {
    start("jellyfin");
    m_universe = small_universe();
    seed_universe(m_universe);
  }
  httplib::Headers auth() const { return {{"X-Emby-Token", "jellyfin-sandbox-token"}}; }
  json items(const std::string& query) {
    return body(m_client->Get("/Items?userId=" + std::string(k_jf_user) + "&" + query, auth()));
  }
  json m_universe;
};

TEST_F(JellyfinTest, AcceptsEveryTokenFormAndAnswers401WithEmptyBody) {
  const std::string path = "/Users/Me";
  EXPECT_EQ(m_client->Get(path)->status, 401);
  EXPECT_TRUE(m_client->Get(path)->body.empty());
  EXPECT_EQ(m_client->Get(path, {{"X-Emby-Token", "wrong"}})->status, 401);
  const std::string mb =
      "MediaBrowser Client=\"cw\", Device=\"cw\", DeviceId=\"x\", Version=\"1\", "
      "Token=\"jellyfin-sandbox-token\"";
  EXPECT_EQ(m_client->Get(path, {{"Authorization", mb}})->status, 200);
  EXPECT_EQ(m_client->Get(path, {{"X-Emby-Authorization", mb}})->status, 200);
  EXPECT_EQ(m_client->Get(path, {{"X-MediaBrowser-Token", "jellyfin-sandbox-token"}})->status, 200);
  EXPECT_EQ(m_client->Get(path + "?api_key=jellyfin-sandbox-token")->status, 200);
  EXPECT_EQ(m_client->Get(path + "?ApiKey=jellyfin-sandbox-token")->status, 200);
  EXPECT_EQ(m_client->Get("/System/Info/Public")->status, 200);
}

TEST_F(JellyfinTest, PasswordLoginReturnsAuthenticationResult) {
  auto bad = m_client->Post("/Users/AuthenticateByName", R"({"Username":"alice","Pw":"nope"})",
                            "application/json");
  EXPECT_EQ(bad->status, 401);
  auto ok = body(m_client->Post("/Users/AuthenticateByName",
                                R"({"Username":"alice","Pw":"secret"})", "application/json"));
  ASSERT_TRUE(ok.contains("AccessToken"));
  EXPECT_EQ(ok["User"]["Id"], k_jf_user);
  EXPECT_EQ(
      m_client->Get("/Users/Me", {{"X-Emby-Token", ok["AccessToken"].get<std::string>()}})->status,
      200);
}

TEST_F(JellyfinTest, QuickConnectFlow) {
  auto init = body(m_client->Post("/QuickConnect/Initiate", "", "application/json"));
  const std::string secret = init["Secret"];
  EXPECT_EQ(body(m_client->Get("/QuickConnect/Connect?secret=" + secret))["Authenticated"], false);
  EXPECT_EQ(m_client
                ->Post("/Users/AuthenticateWithQuickConnect", json{{"Secret", secret}}.dump(),
                       "application/json")
                ->status,
            401);
  m_client->Post(
      "/__sandbox/jellyfin/quickconnect/" + init["Code"].get<std::string>() + "/authorize", "",
      "application/json");
  EXPECT_EQ(body(m_client->Get("/QuickConnect/Connect?secret=" + secret))["Authenticated"], true);
  auto auth_result = body(m_client->Post("/Users/AuthenticateWithQuickConnect",
                                         json{{"Secret", secret}}.dump(), "application/json"));
  EXPECT_TRUE(auth_result.contains("AccessToken"));
}

TEST_F(JellyfinTest, PagingWithStartIndexLimitAndTotalRecordCount) {
  auto page =
      items("IncludeItemTypes=Movie&Recursive=true&StartIndex=10&Limit=7&Fields=ProviderIds");
  EXPECT_EQ(page["Items"].size(), 7u);
  EXPECT_EQ(page["TotalRecordCount"], 30);
  EXPECT_EQ(page["StartIndex"], 10);
  auto no_total =
      items("IncludeItemTypes=Movie&Recursive=true&Limit=5&EnableTotalRecordCount=false");
  EXPECT_EQ(no_total["TotalRecordCount"], 0);
  // Query keys are case-insensitive, as in ASP.NET.
  auto lower = items("includeItemTypes=Movie&recursive=true&startIndex=10&limit=7");
  EXPECT_EQ(lower["Items"],
            items("IncludeItemTypes=Movie&Recursive=true&StartIndex=10&Limit=7")["Items"]);
}

TEST_F(JellyfinTest, ARepeatedPageShowsEveryWriteAndQuirk) {
  // Rendered pages are kept between identical reads; a write or a quirk must still show.
  const std::string q = "IncludeItemTypes=Movie&Recursive=true&StartIndex=0&Limit=5";
  const json before = items(q);
  EXPECT_EQ(items(q), before);
  const std::string id = before["Items"][0]["Id"];
  m_client->Post(
      "/UserPlayedItems/" + id + "?userId=" + k_jf_user + "&DatePlayed=2026-08-02T12:00:00Z",
      auth(), "", "text/plain");
  const json after = items(q);
  EXPECT_NE(after, before);
  EXPECT_TRUE(after["Items"][0]["UserData"]["Played"].get<bool>());
  EXPECT_TRUE(after["Items"][0]["UserData"]["LastPlayedDate"].is_string());
  m_client->Post("/__sandbox/jellyfin/quirks", R"({"null_last_played_date": true})",
                 "application/json");
  EXPECT_FALSE(items(q)["Items"][0]["UserData"]["LastPlayedDate"].is_string());
}

TEST_F(JellyfinTest, AListedRowCarriesEachMemberOnceAsTheServerSendsIt) {
  // Pages are written as text, not dumped from a DOM: a member the row adds (ServerId,
  // MediaType, LocationType, UserData) must not also be copied from the stored item, even
  // when a seed stored one.
  json st = state();
  std::string id;
  for (auto& it : st["items"]) {
    if (it["Type"] != "Movie") continue;
    id = it["Id"];
    it["ServerId"] = "stale";
    it["MediaType"] = "Audio";
    it["UserData"] = json::object();
    it["SortName"] = "zzz";
    break;
  }
  ASSERT_FALSE(id.empty());
  seed(st);
  auto r = m_client->Get("/Items?userId=" + std::string(k_jf_user) + "&Ids=" + id +
                             "&Recursive=true&Fields=ProviderIds,Path,DateCreated,Overview",
                         auth());
  ASSERT_TRUE(r);
  const std::string& text = r->body;
  auto count = [&](const std::string& key) {
    std::size_t n = 0;
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) ++n;
    return n;
  };
  for (const char* key : {"\"ServerId\":", "\"MediaType\":", "\"LocationType\":", "\"UserData\":",
                          "\"ProviderIds\":", "\"Id\":", "\"Name\":"}) {
    EXPECT_EQ(count(key), 1u) << key;
  }
  EXPECT_EQ(count("\"SortName\""), 0u);
  const json page = json::parse(text);
  const json row = page["Items"][0];
  EXPECT_EQ(row["ServerId"], body(m_client->Get("/System/Info", auth()))["Id"]);
  EXPECT_EQ(row["MediaType"], "Video");
  EXPECT_EQ(row["UserData"]["ItemId"], row["Id"]);
  EXPECT_TRUE(row["ProviderIds"].is_object());
  // The single-item answer is the same row.
  EXPECT_EQ(
      body(m_client->Get(
          "/Users/" + std::string(k_jf_user) + "/Items/" + row["Id"].get<std::string>(), auth())),
      row);
}

TEST_F(JellyfinTest, IgnoresAnyProviderIdEqualsAndUnknownSortValues) {
  auto all = items("IncludeItemTypes=Movie&Recursive=true");
  auto filtered = items("IncludeItemTypes=Movie&Recursive=true&AnyProviderIdEquals=imdb.tt1000000");
  EXPECT_EQ(all["TotalRecordCount"], filtered["TotalRecordCount"]);
  auto sorted =
      items("IncludeItemTypes=Movie&Recursive=true&SortBy=DateLastSaved&SortOrder=Descending");
  EXPECT_EQ(sorted["Items"], all["Items"]);
}

TEST_F(JellyfinTest, SomeItemsHaveNoProviderIds) {
  auto all = items("IncludeItemTypes=Movie,Series&Recursive=true&Fields=ProviderIds");
  int empty = 0;
  for (const auto& it : all["Items"]) empty += it["ProviderIds"].empty();
  EXPECT_GT(empty, 0);
  EXPECT_LT(empty, static_cast<int>(all["Items"].size()));
  auto no_fields = items("IncludeItemTypes=Movie&Recursive=true&Limit=1");
  EXPECT_FALSE(no_fields["Items"][0].contains("ProviderIds"));
}

TEST_F(JellyfinTest, PlayedWithDatePlayedInBothFormatsAndUserDataPartialUpdate) {
  auto movie = items("IncludeItemTypes=Movie&Recursive=true&Filters=IsUnplayed&Limit=2")["Items"];
  ASSERT_EQ(movie.size(), 2u);
  const std::string a = movie[0]["Id"], b = movie[1]["Id"];
  auto ud = body(m_client->Post(
      "/UserPlayedItems/" + a + "?userId=" + k_jf_user + "&DatePlayed=2026-08-02T12:00:00Z", auth(),
      "", "text/plain"));
  EXPECT_EQ(ud["Played"], true);
  EXPECT_EQ(ud["LastPlayedDate"], "2026-08-02T12:00:00.0000000Z");
  ud = body(m_client->Post(
      "/UserPlayedItems/" + b + "?userId=" + k_jf_user + "&DatePlayed=20240301201142", auth(), "",
      "text/plain"));
  EXPECT_EQ(ud["LastPlayedDate"], "2024-03-01T20:11:42.0000000Z");
  ud = body(m_client->Post("/UserItems/" + a + "/UserData?userId=" + k_jf_user, auth(),
                           R"({"PlaybackPositionTicks": 12340000})", "application/json"));
  EXPECT_EQ(ud["PlaybackPositionTicks"], 12340000);
  EXPECT_EQ(ud["Played"], true);  // untouched: only sent fields change
  EXPECT_EQ(m_client->Post("/UserItems/nope/UserData", auth(), "{}", "application/json")->status,
            404);
  auto played = items("Ids=" + a + "," + b + "&Fields=UserData");
  for (const auto& it : played["Items"]) EXPECT_TRUE(it["UserData"]["Played"].get<bool>());
  m_client->Delete("/UserPlayedItems/" + a + "?userId=" + k_jf_user, auth());
  EXPECT_FALSE(items("Ids=" + a)["Items"][0]["UserData"]["Played"].get<bool>());
}

TEST_F(JellyfinTest, FavoritesAreTheWatchlistAndLegacyRoutesWork) {
  auto favs =
      items("IncludeItemTypes=Movie,Series&Recursive=true&Filters=IsFavorite&Fields=ProviderIds");
  EXPECT_EQ(favs["TotalRecordCount"], 6);
  auto plain =
      items("IncludeItemTypes=Movie&Recursive=true&Filters=IsUnplayed&Limit=1")["Items"][0];
  const std::string id = plain["Id"];
  m_client->Post("/Users/" + std::string(k_jf_user) + "/FavoriteItems/" + id, auth(), "",
                 "text/plain");
  EXPECT_TRUE(body(m_client->Get("/Users/" + std::string(k_jf_user) + "/Items/" + id,
                                 auth()))["UserData"]["IsFavorite"]
                  .get<bool>());
  EXPECT_EQ(m_client->Get("/Users/someone-else/Items", auth())->status, 403);
}

TEST_F(JellyfinTest, PlaylistsAndCollections) {
  auto movies = items("IncludeItemTypes=Movie&Recursive=true&Limit=3")["Items"];
  auto created = body(
      m_client->Post("/Playlists", auth(),
                     json{{"Name", "Watchlist"}, {"UserId", k_jf_user}, {"IsPublic", false}}.dump(),
                     "application/json"));
  const std::string pid = created["Id"];
  const std::string ids =
      movies[0]["Id"].get<std::string>() + "," + movies[1]["Id"].get<std::string>();
  EXPECT_EQ(m_client
                ->Post("/Playlists/" + pid + "/Items?ids=" + ids + "&userId=" + k_jf_user, auth(),
                       "", "text/plain")
                ->status,
            204);
  auto entries =
      body(m_client->Get("/Playlists/" + pid + "/Items?Fields=ProviderIds", auth()))["Items"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries[0].contains("PlaylistItemId"));
  m_client->Delete(
      "/Playlists/" + pid + "/Items?entryIds=" + entries[0]["PlaylistItemId"].get<std::string>(),
      auth());
  EXPECT_EQ(body(m_client->Get("/Playlists/" + pid + "/Items", auth()))["Items"].size(), 1u);
  auto coll = body(m_client->Post("/Collections?Name=Watchlist", auth(), "", "text/plain"));
  const std::string cid = coll["Id"];
  m_client->Post("/Collections/" + cid + "/Items?Ids=" + ids, auth(), "", "text/plain");
  EXPECT_EQ(items("ParentId=" + cid + "&Recursive=false")["Items"].size(), 2u);
}

TEST_F(JellyfinTest, EpisodesOfASeriesAndResumableFilter) {
  auto series = items("IncludeItemTypes=Series&Recursive=true&Limit=1")["Items"][0];
  auto eps = body(m_client->Get(
      "/Shows/" + series["Id"].get<std::string>() + "/Episodes?userId=" + k_jf_user, auth()));
  EXPECT_EQ(eps["Items"].size(), 8u);
  EXPECT_EQ(eps["Items"][0]["ParentIndexNumber"], 1);
  auto resumable =
      items("IncludeItemTypes=Movie,Episode&Recursive=true&Filters=IsResumable&Fields=UserData");
  for (const auto& it : resumable["Items"])
    EXPECT_GT(it["UserData"]["PlaybackPositionTicks"].get<long>(), 0);
}

TEST_F(JellyfinTest, OldVersionCanBeSeededForTheVersionGate) {
  seed({{"server", {{"Version", "10.8.13"}}}});
  EXPECT_EQ(body(m_client->Get("/System/Info", auth()))["Version"], "10.8.13");
}

class EmbyTest : public ServerTest {
 protected:
  void SetUp() override {
    start("emby");
    seed_universe(small_universe());
  }
  httplib::Headers auth() const { return {{"X-Emby-Token", "emby-sandbox-token"}}; }
  std::string user_path() const { return "/Users/" + std::string(k_emby_user); }
};

TEST_F(EmbyTest, FormEncodedLoginAndTextErrors) {
  auto ok = body(m_client->Post("/Users/AuthenticateByName", "Username=alice&Pw=secret",
                                "application/x-www-form-urlencoded"));
  EXPECT_EQ(ok["User"]["Id"], k_emby_user);
  auto denied = m_client->Get(user_path() + "/Items");
  EXPECT_EQ(denied->status, 401);
  EXPECT_FALSE(denied->body.empty());
  EXPECT_EQ(m_client->Get("/QuickConnect/Enabled")->status, 404);
}

TEST_F(EmbyTest, NumericIdsNoStartIndexAndAnyProviderIdEquals) {
  auto all = body(m_client->Get(
      user_path() + "/Items?IncludeItemTypes=Movie&Recursive=true&Fields=ProviderIds", auth()));
  EXPECT_FALSE(all.contains("StartIndex"));
  const json* with_imdb = nullptr;
  for (const auto& it : all["Items"]) {
    const std::string id = it["Id"];
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), ::isdigit));
    if (!with_imdb && it["ProviderIds"].contains("Imdb")) with_imdb = &it;
  }
  ASSERT_NE(with_imdb, nullptr);
  const std::string imdb = (*with_imdb)["ProviderIds"]["Imdb"];
  auto hit = body(m_client->Get(user_path() +
                                    "/Items?Recursive=true&IncludeItemTypes=Movie,Series&"
                                    "AnyProviderIdEquals=IMDB." +
                                    imdb + ",tmdb.0",
                                auth()));
  ASSERT_EQ(hit["Items"].size(), 1u);
  EXPECT_EQ(hit["Items"][0]["Id"], (*with_imdb)["Id"]);
}

TEST_F(EmbyTest, PlayedItemsTakesCompactDateAndPostDeleteFallback) {
  auto unplayed = body(m_client->Get(user_path() + "/Items?IncludeItemTypes=Movie&Recursive=true&"
                                                   "Filters=IsUnplayed&Limit=1",
                                     auth()))["Items"][0];
  const std::string id = unplayed["Id"];
  auto ud = body(m_client->Post(user_path() + "/PlayedItems/" + id + "?DatePlayed=20240301201142",
                                auth(), "", "text/plain"));
  EXPECT_EQ(ud["LastPlayedDate"], "2024-03-01T20:11:42.0000000Z");
  EXPECT_FALSE(ud.contains("Likes"));  // not part of Emby's UserItemDataDto
  m_client->Post(user_path() + "/PlayedItems/" + id + "/Delete", auth(), "", "text/plain");
  EXPECT_FALSE(
      body(m_client->Get(user_path() + "/Items/" + id, auth()))["UserData"]["Played"].get<bool>());
}

TEST_F(EmbyTest, CollectionsCannotStartEmptyAndPlaylistsMove) {
  EXPECT_EQ(m_client->Post("/Collections?Name=Watchlist", auth(), "", "text/plain")->status, 400);
  auto movies = body(m_client->Get(
      user_path() + "/Items?IncludeItemTypes=Movie&Recursive=true&Limit=3", auth()))["Items"];
  const std::string a = movies[0]["Id"], b = movies[1]["Id"], c = movies[2]["Id"];
  auto coll =
      body(m_client->Post("/Collections?Name=Watchlist&Ids=" + a, auth(), "", "text/plain"));
  EXPECT_EQ(coll["Name"], "Watchlist");
  m_client->Post("/Collections/" + coll["Id"].get<std::string>() + "/Items/Delete?Ids=" + a, auth(),
                 "", "text/plain");
  auto pl = body(m_client->Post("/Playlists?Name=Queue&Ids=" + a + "," + b + "," + c, auth(), "",
                                "text/plain"));
  const std::string pid = pl["Id"];
  EXPECT_EQ(pl["ItemAddedCount"], 3);
  auto entries = body(m_client->Get("/Playlists/" + pid + "/Items", auth()))["Items"];
  const std::string last_entry = entries[2]["PlaylistItemId"];
  EXPECT_EQ(
      m_client
          ->Post("/Playlists/" + pid + "/Items/" + last_entry + "/Move/0", auth(), "", "text/plain")
          ->status,
      204);
  EXPECT_EQ(body(m_client->Get("/Playlists/" + pid + "/Items", auth()))["Items"][0]["Id"], c);
}

TEST(MediaBrowserDates, BothFormats) {
  EXPECT_EQ(mediabrowser_parse_date("20240301201142"), ms_from_iso("2024-03-01T20:11:42Z"));
  EXPECT_EQ(mediabrowser_parse_date("2024-03-01T20:11:42.0000000Z"),
            ms_from_iso("2024-03-01T20:11:42Z"));
  EXPECT_FALSE(mediabrowser_parse_date("yesterday").has_value());
  EXPECT_EQ(mediabrowser_date(*ms_from_iso("2024-03-01T20:11:42.5Z")),
            "2024-03-01T20:11:42.5000000Z");
}

}  // namespace
}  // namespace cw::fakes::testing
