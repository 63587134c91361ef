// The Plex provider on the SDK's mock host: library paging and honest completeness, GUIDs of
// every agent, the GUID index that writes resolve through, the exact requests of each write,
// the Discover watchlist with id hydration and idempotent writes, malformed replies and
// requests.
#include "plex.hpp"

#include <algorithm>
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

Json movie_row(int rk, const std::string& title, int year, Json guids, Json user = Json::object()) {
  Json r = {{"ratingKey", std::to_string(rk)},
            {"type", "movie"},
            {"title", title},
            {"year", year},
            {"guid", "plex://movie/5d77" + std::to_string(rk)},
            {"duration", 6000000}};
  if (!guids.empty()) r["Guid"] = guids;
  for (auto it = user.begin(); it != user.end(); ++it) r[it.key()] = it.value();
  return r;
}

Json guid_list(std::initializer_list<const char*> ids) {
  Json out = Json::array();
  for (const char* id : ids) out.push_back({{"id", id}});
  return out;
}

class PlexTest : public ::testing::Test {
 protected:
  MockHost host;
  // rows per "section|type"
  std::map<std::string, std::vector<Json>> rows;
  // When set, the section listing claims this many more rows than it serves.
  int extra_total = 0;

  void SetUp() override {
    host.set_secret("token", "pms-secret-token");
    host.set_secret("account_token", "cloud-secret-token");
    host.on("GET", "http://pms.local:32400/library/sections")
        .reply_json(200,
                    {{"MediaContainer",
                      {{"size", 3},
                       {"Directory",
                        Json::array({{{"key", "1"}, {"type", "movie"}, {"title", "Movies"}},
                                     {{"key", "2"}, {"type", "show"}, {"title", "TV Shows"}},
                                     {{"key", "3"}, {"type", "artist"}, {"title", "Music"}}})}}}});
    host.on("GET", "http://pms.local:32400/library/sections/*/all")
        .handle([this](const RecordedRequest& r) {
          const std::string section = r.path.substr(std::string("/library/sections/").size(), 1);
          const std::string key = section + "|" + r.query_value("type").value_or("?");
          const auto& list = rows[key];
          const auto start = std::stoul(r.header("x-plex-container-start").value_or("0"));
          const auto size = std::stoul(r.header("x-plex-container-size").value_or("100"));
          Json page = Json::array();
          for (std::size_t i = start; i < list.size() && i < start + size; ++i)
            page.push_back(list[i]);
          Json mc = {{"size", page.size()},
                     {"offset", start},
                     {"totalSize", list.size() + static_cast<std::size_t>(extra_total)}};
          if (!page.empty()) mc["Metadata"] = page;
          return MockReply::json(200, {{"MediaContainer", mc}});
        });
  }

  PluginInstance make(Json extra = Json::object()) {
    Json cfg = {{"url", "http://pms.local:32400/"},
                {"token", "${secret}"},
                {"account_token", "${secret}"},
                {"plextv_url", "http://plextv.local"},
                {"discover_url", "http://discover.local"},
                {"metadata_url", "http://metadata.local"},
                {"page_size", 2}};
    for (auto it = extra.begin(); it != extra.end(); ++it) cfg[it.key()] = it.value();
    return PluginInstance(cwsdk::detail::provider_table<plex::Plex>(), host, cfg);
  }

  void seed_library() {
    rows["1|1"] = {
        movie_row(101, "The Matrix", 1999, guid_list({"imdb://tt0133093", "tmdb://603"}),
                  {{"viewCount", 2},
                   {"lastViewedAt", 1700000000},
                   {"userRating", 8.0},
                   {"lastRatedAt", 1700000100}}),
        movie_row(102, "Heat", 1995, Json::array(),
                  {{"viewOffset", 600000}, {"lastViewedAt", 1700000200}}),
        // A legacy-agent movie: its ids come from the primary guid.
        {{"ratingKey", "103"},
         {"type", "movie"},
         {"title", "Alien"},
         {"year", 1979},
         {"guid", "com.plexapp.agents.imdb://tt0078748?lang=en"},
         {"viewCount", 1},
         {"lastViewedAt", 1600000000}},
    };
    rows["2|2"] = {{{"ratingKey", "200"},
                    {"type", "show"},
                    {"title", "Breaking Bad"},
                    {"year", 2008},
                    {"guid", "plex://show/5d9c"},
                    {"Guid", guid_list({"tvdb://81189", "tmdb://1396"})},
                    {"userRating", 10}},
                   {{"ratingKey", "300"},
                    {"type", "show"},
                    {"title", "Cowboy Bebop"},
                    {"year", 1998},
                    {"guid", "com.plexapp.agents.hama://anidb-23?lang=en"}}};
    rows["2|3"] = {{{"ratingKey", "250"},
                    {"type", "season"},
                    {"title", "Season 2"},
                    {"parentRatingKey", "200"},
                    {"index", 2},
                    {"guid", "plex://season/5e00"},
                    {"userRating", 6}}};
    rows["2|4"] = {{{"ratingKey", "201"},
                    {"type", "episode"},
                    {"title", "Pilot"},
                    {"grandparentRatingKey", "200"},
                    {"parentIndex", 1},
                    {"index", 1},
                    {"guid", "plex://episode/5e11"},
                    {"Guid", guid_list({"tvdb://349232"})},
                    {"viewCount", 1},
                    {"lastViewedAt", 1710000000},
                    {"duration", 2880000},
                    {"viewOffset", 0}},
                   {{"ratingKey", "301"},
                    {"type", "episode"},
                    {"title", "Asteroid Blues"},
                    {"grandparentRatingKey", "300"},
                    {"parentIndex", 1},
                    {"index", 1},
                    // A legacy episode GUID names the show, never the episode.
                    {"guid", "com.plexapp.agents.hama://anidb-23/1/1?lang=en"},
                    {"viewOffset", 1200000},
                    {"duration", 1440000},
                    {"lastViewedAt", 1710000500}}};
  }

  static const Json* find_item(const Json& items, const std::string& title) {
    for (const auto& it : items) {
      if (it.value("title", "") == title) return &it;
    }
    return nullptr;
  }
};

}  // namespace

TEST(PlexGuids, EveryAgentGivesItsId) {
  cwsdk::Ids ids;
  EXPECT_TRUE(plex::add_guid(ids, "com.plexapp.agents.hama://anidb-23?lang=en"));
  EXPECT_EQ(ids.get("anidb"), "23");
  EXPECT_TRUE(plex::add_guid(ids, "com.plexapp.agents.hama://tvdb2-76885"));
  EXPECT_EQ(ids.get("tvdb"), "76885");
  EXPECT_TRUE(plex::add_guid(ids, "com.plexapp.agents.themoviedb://603?lang=en"));
  EXPECT_EQ(ids.get("tmdb"), "603");
  EXPECT_TRUE(plex::add_guid(ids, "com.plexapp.agents.imdb://tt0133093?lang=en"));
  EXPECT_EQ(ids.get("imdb"), "tt0133093");
  EXPECT_TRUE(plex::add_guid(ids, "plex://movie/5d776825880197001ec967c8"));
  EXPECT_EQ(ids.get("guid"), "plex://movie/5d776825880197001ec967c8");
  EXPECT_FALSE(plex::add_guid(ids, "local://1234"));
  EXPECT_FALSE(plex::add_guid(ids, "com.plexapp.agents.none://abc"));
  EXPECT_TRUE(plex::is_legacy_child_guid("com.plexapp.agents.thetvdb://81189/1/2?lang=en"));
  EXPECT_FALSE(plex::is_legacy_child_guid("com.plexapp.agents.thetvdb://81189?lang=en"));
  const Json ep = {{"guid", "com.plexapp.agents.thetvdb://81189/1/2?lang=en"}};
  EXPECT_TRUE(plex::ids_of_row(ep, true).empty());
  EXPECT_EQ(plex::ids_of_row(ep, false).get("tvdb"), "81189");
}

// The compact catalog gives back every row as it was kept, finds rows by rating key, any id
// (the first row read wins), show + season/episode and show + season, and stays right when
// its table grows many times over (every lookup is confirmed against the row).
TEST(PlexCatalog, KeepsRowsWholeAndFindsThemByEveryKeyAsItGrows) {
  plex::Catalog cat;
  std::vector<plex::Row> kept;
  const int shows = 40, movies = 3000;
  auto add = [&](plex::Row r) {
    if (cat.add(r)) kept.push_back(std::move(r));
  };
  for (int s = 0; s < shows; ++s) {
    plex::Row show;
    show.rk = "9" + std::to_string(s);
    show.type = cwsdk::ItemType::show;
    show.title = "Show " + std::to_string(s) + std::string(static_cast<std::size_t>(s * 7), 'x');
    show.ids.set("tvdb", std::to_string(70000 + s));
    show.ids.set("plex", show.rk);
    add(show);
    plex::Row season;
    season.rk = "7" + std::to_string(s);
    season.type = cwsdk::ItemType::season;
    season.show_rk = show.rk;
    season.season = 1;
    add(season);
    for (int e = 1; e <= 20; ++e) {
      plex::Row ep;
      ep.rk = "8" + std::to_string(s * 100 + e);
      ep.type = cwsdk::ItemType::episode;
      ep.title = "E" + std::to_string(e);
      ep.show_rk = show.rk;
      ep.season = 1;
      ep.episode = e;
      ep.view_count = e % 3;
      ep.last_viewed_at = 1700000000 + e;
      ep.ids.set("plex", ep.rk);
      add(ep);
    }
  }
  for (int m = 0; m < movies; ++m) {
    plex::Row r;
    r.rk = std::to_string(100001 + m);
    r.title = m == 7 ? std::string(3 << 20, 't') : "Movie " + std::to_string(m);  // > a chunk
    r.year = 1950 + m % 70;
    r.section = "1";
    r.ids.set("imdb", "tt" + std::to_string(1000000 + m));
    r.ids.set("tmdb", std::to_string(m % 2000 + 1));  // 1,000 movies share a tmdb id
    r.ids.set("plex", r.rk);
    r.duration = 6000000;
    r.view_offset = m % 5 == 0 ? 1234 : 0;
    if (m % 4 == 0) r.user_rating = 7.5;
    if (m % 4 == 0) r.last_rated_at = 1600000000 + m;
    add(r);
    add(r);  // read twice: kept once
  }
  ASSERT_EQ(cat.size(), kept.size());
  ASSERT_EQ(kept.size(), static_cast<std::size_t>(shows * 22 + movies));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const plex::Row r = cat.at(i);
    const plex::Row& want = kept[i];
    ASSERT_EQ(r.rk, want.rk);
    EXPECT_EQ(r.type, want.type);
    EXPECT_EQ(r.title, want.title);
    EXPECT_EQ(r.year, want.year);
    EXPECT_EQ(r.ids, want.ids) << r.rk;
    EXPECT_EQ(r.section, want.section);
    EXPECT_EQ(r.show_rk, want.show_rk);
    EXPECT_EQ(r.season, want.season);
    EXPECT_EQ(r.episode, want.episode);
    EXPECT_EQ(r.view_count, want.view_count);
    EXPECT_EQ(r.last_viewed_at, want.last_viewed_at);
    EXPECT_EQ(r.view_offset, want.view_offset);
    EXPECT_EQ(r.duration, want.duration);
    EXPECT_EQ(r.user_rating, want.user_rating);
    EXPECT_EQ(r.last_rated_at, want.last_rated_at);
    auto by_rk = cat.find_rk(want.rk);
    ASSERT_TRUE(by_rk);
    EXPECT_EQ(by_rk->title, want.title);
  }
  for (int m = 0; m < movies; ++m) {
    auto by_imdb = cat.find_id(cwsdk::ItemType::movie, "imdb", "tt" + std::to_string(1000000 + m));
    ASSERT_TRUE(by_imdb) << m;
    EXPECT_EQ(by_imdb->rk, std::to_string(100001 + m));
    auto by_tmdb = cat.find_id(cwsdk::ItemType::movie, "tmdb", std::to_string(m % 2000 + 1));
    ASSERT_TRUE(by_tmdb);
    EXPECT_EQ(by_tmdb->rk, std::to_string(100001 + m % 2000)) << "the first row read with the id";
  }
  EXPECT_FALSE(cat.find_id(cwsdk::ItemType::show, "imdb", "tt1000001")) << "the type counts";
  EXPECT_FALSE(cat.find_id(cwsdk::ItemType::movie, "imdb", "tt9999999"));
  EXPECT_FALSE(cat.find_rk("424242"));
  auto ep = cat.find_episode("93", 1, 17);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->rk, "8317");
  EXPECT_FALSE(cat.find_episode("93", 2, 17));
  auto season = cat.find_season("93", 1);
  ASSERT_TRUE(season);
  EXPECT_EQ(season->rk, "73");
  EXPECT_FALSE(cat.find_season("93", 2));
  auto show = cat.find_id(cwsdk::ItemType::show, "tvdb", "70012");
  ASSERT_TRUE(show);
  EXPECT_EQ(show->rk, "912");
}

TEST_F(PlexTest, HistoryIsTheWatchedStateOfMoviesAndEpisodesAcrossPages) {
  seed_library();
  auto p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["complete"], true);
  const Json& items = doc["items"];
  ASSERT_EQ(items.size(), 3u) << items.dump();  // Matrix, Alien, Pilot
  const Json* matrix = find_item(items, "The Matrix");
  ASSERT_NE(matrix, nullptr);
  EXPECT_EQ((*matrix)["ids"]["imdb"], "tt0133093");
  EXPECT_EQ((*matrix)["ids"]["tmdb"], "603");
  EXPECT_EQ((*matrix)["ids"]["plex"], "101");
  EXPECT_EQ((*matrix)["watched_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ((*matrix)["extra"]["rk"], "101");
  EXPECT_EQ((*find_item(items, "Alien"))["ids"]["imdb"], "tt0078748");
  const Json* pilot = find_item(items, "Pilot");
  ASSERT_NE(pilot, nullptr);
  EXPECT_EQ((*pilot)["type"], "episode");
  EXPECT_EQ((*pilot)["season"], 1);
  EXPECT_EQ((*pilot)["episode"], 1);
  EXPECT_EQ((*pilot)["ids"]["tvdb"], "349232");
  EXPECT_EQ((*pilot)["show"]["ids"]["tvdb"], "81189");
  EXPECT_EQ((*pilot)["show"]["title"], "Breaking Bad");
  // Every library request carries the token, JSON and the paging headers; Music is skipped.
  for (const auto& req : host.requests()) {
    EXPECT_EQ(req.header("x-plex-token"), "pms-secret-token");
    EXPECT_EQ(req.header("accept"), "application/json");
    EXPECT_TRUE(req.header("x-plex-client-identifier").has_value());
    EXPECT_EQ(req.path.find("/library/sections/3"), std::string::npos);
  }
  for (const auto& line : host.logs())
    EXPECT_EQ(line.text.find("pms-secret-token"), std::string::npos);
}

TEST_F(PlexTest, RatingsAndProgressComeFromTheSameRows) {
  seed_library();
  auto p = make();
  const auto ratings = p.build_index("ratings").json();
  ASSERT_EQ(ratings["items"].size(), 3u) << ratings.dump();
  const Json* season = find_item(ratings["items"], "Season 2");
  ASSERT_NE(season, nullptr);
  EXPECT_EQ((*season)["type"], "season");
  EXPECT_EQ((*season)["season"], 2);
  EXPECT_EQ((*season)["rating"], 6.0);
  EXPECT_EQ((*season)["show"]["ids"]["tvdb"], "81189");
  EXPECT_EQ((*find_item(ratings["items"], "The Matrix"))["rating"], 8.0);
  EXPECT_EQ((*find_item(ratings["items"], "Breaking Bad"))["type"], "show");
  EXPECT_EQ(ratings["complete"], true);
  // Movies and episodes are asked with the server-side filter, shows whole.
  for (const auto& req : host.requests()) {
    if (req.path.find("/all") == std::string::npos) continue;
    const bool shows = req.query_value("type") == "2" || req.query_value("type") == "3";
    EXPECT_EQ(req.query_value("userRating>>").has_value(), !shows) << req.path;
  }
  const auto progress = p.build_index("progress").json();
  ASSERT_EQ(progress["items"].size(), 2u) << progress.dump();
  const Json* heat = find_item(progress["items"], "Heat");
  ASSERT_NE(heat, nullptr);
  EXPECT_EQ((*heat)["progress_ms"], 600000);
  EXPECT_EQ((*heat)["duration_ms"], 6000000);
  const Json* bebop = find_item(progress["items"], "Asteroid Blues");
  ASSERT_NE(bebop, nullptr);
  EXPECT_EQ((*bebop)["show"]["ids"]["anidb"], "23");
  EXPECT_FALSE((*bebop).contains("ids") && (*bebop)["ids"].contains("anidb"));
}

// A run reads history (the whole library) before ratings and progress: those two are then
// served from that read without a request, until the instance writes to the library.
TEST_F(PlexTest, RatingsAndProgressAfterHistoryReuseItsRead) {
  seed_library();
  auto items_of = [](const Json& index) {
    std::vector<std::string> out;
    for (const auto& it : index["items"]) out.push_back(it.dump());
    std::sort(out.begin(), out.end());
    return out;
  };
  auto fresh = make();
  const auto want_ratings = items_of(fresh.build_index("ratings").json());
  const auto want_progress = items_of(fresh.build_index("progress").json());
  ASSERT_FALSE(want_ratings.empty());
  ASSERT_FALSE(want_progress.empty());

  auto p = make();
  ASSERT_EQ(p.build_index("history").status, CW_STATUS_OK);
  const std::size_t after_history = host.requests().size();
  const auto ratings = p.build_index("ratings").json();
  EXPECT_EQ(items_of(ratings), want_ratings);
  EXPECT_EQ(ratings["complete"], true);
  EXPECT_EQ(items_of(p.build_index("progress").json()), want_progress);
  EXPECT_EQ(host.requests().size(), after_history);

  host.on("PUT", "/:/rate").reply(200);
  auto r = p.update(
      "ratings",
      Json::array({{{"key", "a"}, {"type", "movie"}, {"ids", {{"tmdb", 603}}}, {"rating", 7}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const std::size_t after_write = host.requests().size();
  EXPECT_EQ(items_of(p.build_index("progress").json()), want_progress);
  EXPECT_GT(host.requests().size(), after_write);  // read from the server again
}

TEST_F(PlexTest, ACappedListingIsNeverComplete) {
  seed_library();
  extra_total = 1;  // the server announces a row it never sends
  auto p = make();
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
}

TEST_F(PlexTest, AFailedPageFailsTheIndex) {
  MockHost h2;
  h2.set_secret("token", "t");
  h2.on("GET", "/library/sections")
      .reply_json(
          200,
          {{"MediaContainer",
            {{"Directory", Json::array({{{"key", "1"}, {"type", "movie"}, {"title", "M"}}})}}}});
  h2.on("GET", "/library/sections/1/all").reply(503);
  PluginInstance q(cwsdk::detail::provider_table<plex::Plex>(), h2,
                   {{"url", "http://pms.local"}, {"token", "${secret}"}});
  const auto r = q.build_index("history");
  EXPECT_EQ(r.status, CW_STATUS_TRANSIENT) << r.body;
}

TEST_F(PlexTest, AMalformedRowIsLeftOutAndTheIndexIsIncomplete) {
  seed_library();
  rows["1|1"].push_back(
      {{"ratingKey", "104"}, {"type", "movie"}, {"title", "Bad"}, {"viewCount", "many"}});
  rows["1|1"].push_back(Json("not an object"));
  rows["1|1"].push_back({{"type", "movie"}, {"title", "No key"}, {"viewCount", 1}});
  auto p = make();
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 3u);
}

TEST_F(PlexTest, ATruncatedBodyIsAnErrorNotACrash) {
  MockHost h2;
  h2.set_secret("token", "t");
  h2.on("GET", "/library/sections")
      .reply_json(200, {{"MediaContainer",
                         {{"Directory", Json::array({{{"key", "1"}, {"type", "movie"}}})}}}});
  h2.on("GET", "/library/sections/1/all")
      .reply_json(200, {{"MediaContainer",
                         {{"size", 1}, {"Metadata", Json::array({movie_row(1, "A", 2000, {})})}}}})
      .truncated(20);
  PluginInstance q(cwsdk::detail::provider_table<plex::Plex>(), h2,
                   {{"url", "http://pms.local"}, {"token", "${secret}"}});
  const auto r = q.build_index("ratings");
  EXPECT_EQ(r.status, CW_STATUS_INTERNAL) << r.body;
}

TEST_F(PlexTest, TheAllowListPicksSectionsByKeyOrTitleAndRefusesUnknownOnes) {
  seed_library();
  auto p = make({{"libraries", Json::array({"tv shows"})}});
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  ASSERT_EQ(r.json()["items"].size(), 1u);
  for (const auto& req : host.requests())
    EXPECT_EQ(req.path.find("/library/sections/1/"), std::string::npos);
  auto q = make({{"libraries", Json::array({1, "Kids"})}});
  const auto bad = q.build_index("history");
  EXPECT_EQ(bad.status, CW_STATUS_INVALID_ARG);
  EXPECT_NE(bad.message().find("Kids"), std::string::npos);
}

TEST_F(PlexTest, WritesFindTheRatingKeyByAnyIdAndSayNotFoundOtherwise) {
  seed_library();
  host.on("PUT", "/:/scrobble").reply(200);
  host.on("PUT", "/:/unscrobble").reply(200);
  host.on("PUT", "/:/rate").reply(200);
  auto p = make();
  const Json items =
      Json::array({{{"key", "k1"},
                    {"type", "movie"},
                    {"ids", {{"tmdb", "603"}}},
                    {"watched_at", "2024-01-02T03:04:05Z"}},
                   {{"key", "k2"},
                    {"type", "episode"},
                    {"show", {{"ids", {{"tvdb", 81189}}}}},
                    {"season", 1},
                    {"episode", 1}},
                   {{"key", "k3"}, {"type", "movie"}, {"ids", {{"imdb", "tt0078748"}}}},
                   {{"key", "k4"}, {"type", "movie"}, {"ids", {{"imdb", "tt9999999"}}}},
                   {{"key", "k5"},
                    {"type", "episode"},
                    {"show", {{"ids", {{"anidb", 23}}}}},
                    {"season", 1},
                    {"episode", 1}}});
  const auto r = p.add("history", items);
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json out = r.json()["outcomes"];
  ASSERT_EQ(out.size(), 5u);
  std::map<std::string, Json> by_key;
  for (const auto& o : out) by_key[o["key"]] = o;
  EXPECT_EQ(by_key["k1"]["status"], "confirmed");
  EXPECT_EQ(by_key["k2"]["status"], "confirmed");
  EXPECT_EQ(by_key["k3"]["status"], "confirmed");
  EXPECT_EQ(by_key["k4"]["status"], "unresolved");
  EXPECT_EQ(by_key["k4"]["reason"], "not_found");
  EXPECT_EQ(by_key["k5"]["status"], "confirmed");
  std::vector<std::string> keys;
  for (const auto& req : host.requests()) {
    if (req.path != "/:/scrobble") continue;
    EXPECT_EQ(req.method, "PUT");
    EXPECT_EQ(req.query_value("identifier"), "com.plexapp.plugins.library");
    keys.push_back(req.query_value("key").value_or(""));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"101", "201", "103", "301"}));
  // viewedAt goes along (servers that honour it keep the date).
  for (const auto& req : host.requests()) {
    if (req.path == "/:/scrobble" && req.query_value("key") == "101") {
      EXPECT_EQ(req.query_value("viewedAt"), "1704164645");
    }
  }
  // A remove unscrobbles by the rating key the index gave (extra.rk).
  const auto rm = p.remove(
      "history", Json::array({{{"key", "r1"}, {"type", "movie"}, {"extra", {{"rk", "103"}}}}}));
  EXPECT_EQ(rm.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().path, "/:/unscrobble");
  EXPECT_EQ(host.requests().back().query_value("key"), "103");
}

TEST_F(PlexTest, RatingWritesAndClears) {
  seed_library();
  host.on("PUT", "/:/rate").reply(200);
  auto p = make();
  auto r = p.update(
      "ratings",
      Json::array({{{"key", "a"}, {"type", "show"}, {"ids", {{"tmdb", 1396}}}, {"rating", 7}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().query_value("key"), "200");
  EXPECT_EQ(host.requests().back().query_value("rating"), "7");
  // A season by its show's ids and its number.
  r = p.add("ratings", Json::array({{{"key", "s"},
                                     {"type", "season"},
                                     {"show", {{"ids", {{"tmdb", 1396}}}}},
                                     {"season", 2},
                                     {"rating", 9}}}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().query_value("key"), "250");
  r = p.remove("ratings",
               Json::array({{{"key", "b"}, {"type", "movie"}, {"ids", {{"imdb", "tt0133093"}}}}}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(host.requests().back().query_value("rating"), "-1");
}

TEST_F(PlexTest, ProgressWritesATimelineAndAFailureIsPerItem) {
  seed_library();
  host.on("POST", "/:/timeline").reply(200).reply(500);
  auto p = make();
  const auto r =
      p.add("progress",
            Json::array(
                {{{"key", "a"},
                  {"type", "movie"},
                  {"ids", {{"plex", 102}}},
                  {"progress_ms", 700000},
                  {"duration_ms", 6000000}},
                 {{"key", "b"}, {"type", "movie"}, {"ids", {{"tmdb", 603}}}, {"progress_ms", 5}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json out = r.json()["outcomes"];
  EXPECT_EQ(out[0]["status"], "confirmed");
  EXPECT_EQ(out[1]["status"], "unresolved");
  const auto reqs = host.requests();
  const auto& first = reqs[reqs.size() - 2];
  EXPECT_EQ(first.query_value("ratingKey"), "102");
  EXPECT_EQ(first.query_value("time"), "700000");
  EXPECT_EQ(first.query_value("state"), "stopped");
  EXPECT_EQ(first.query_value("duration"), "6000000");
}

TEST_F(PlexTest, AnAuthFailureStopsTheWriteAndFailsTheRest) {
  seed_library();
  host.on("PUT", "/:/rate").reply(401, "<html>401</html>");
  auto p = make();
  const auto r = p.add(
      "ratings",
      Json::array({{{"key", "a"}, {"type", "movie"}, {"ids", {{"tmdb", 603}}}, {"rating", 6}},
                   {{"key", "b"}, {"type", "movie"}, {"ids", {{"plex", 102}}}, {"rating", 6}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK);
  const Json outcomes = r.json()["outcomes"];
  for (const auto& o : outcomes) EXPECT_EQ(o["status"], "unresolved");
  int rates = 0;
  for (const auto& req : host.requests()) rates += req.path == "/:/rate";
  EXPECT_EQ(rates, 1);
}

TEST_F(PlexTest, WatchlistReadsDiscoverAndHydratesIdsOnce) {
  host.on("GET", "http://discover.local/library/sections/watchlist/all")
      .reply_json(200, {{"MediaContainer",
                         {{"size", 2},
                          {"totalSize", 2},
                          {"Metadata", Json::array({{{"ratingKey", "5d776825"},
                                                     {"type", "movie"},
                                                     {"title", "The Matrix"},
                                                     {"year", 1999},
                                                     {"guid", "plex://movie/5d776825"}},
                                                    {{"ratingKey", "5d9c086c"},
                                                     {"type", "show"},
                                                     {"title", "Game of Thrones"},
                                                     {"year", 2011},
                                                     {"guid", "plex://show/5d9c086c"}}})}}}});
  host.on("GET", "http://metadata.local/library/metadata/5d776825")
      .reply_json(200,
                  {{"MediaContainer",
                    {{"Metadata",
                      Json::array({{{"Guid", guid_list({"imdb://tt0133093", "tmdb://603"})}}})}}}});
  host.on("GET", "http://metadata.local/library/metadata/5d9c086c").reply(404);
  auto p = make();
  auto r = p.build_index("watchlist");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  Json doc = r.json();
  EXPECT_EQ(doc["complete"], true);
  ASSERT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["items"][0]["ids"]["tmdb"], "603");
  EXPECT_EQ(doc["items"][1]["ids"]["guid"], "plex://show/5d9c086c");
  for (const auto& req : host.requests())
    EXPECT_EQ(req.header("x-plex-token"), "cloud-secret-token");
  // The second read takes the hydrated ids from kv.
  const auto before = host.requests().size();
  r = p.build_index("watchlist");
  EXPECT_EQ(r.json()["items"][0]["ids"]["imdb"], "tt0133093");
  int metadata_calls = 0;
  for (std::size_t i = before; i < host.requests().size(); ++i)
    metadata_calls += host.requests()[i].url.find("metadata.local/library/metadata/5d776825") !=
                      std::string::npos;
  EXPECT_EQ(metadata_calls, 0);
}

TEST_F(PlexTest, WatchlistWritesResolveByIdAndAreIdempotent) {
  host.on("GET", "http://metadata.local/library/metadata/matches")
      .handle([](const RecordedRequest& r) {
        Json results = Json::array();
        if (r.query_value("title") == "tmdb-603")
          results.push_back({{"score", 1.0},
                             {"Metadata",
                              {{"ratingKey", "5d776825"},
                               {"type", "movie"},
                               {"Guid", guid_list({"tmdb://603"})}}}});
        return MockReply::json(
            200,
            {{"MediaContainer", {{"SearchResults", Json::array({{{"SearchResult", results}}})}}}});
      });
  host.on("PUT", "http://discover.local/actions/addToWatchlist")
      .reply(200)
      .reply_json(409,
                  {{"errors", Json::array({{{"message", "Item is already on the watchlist"}}})}});
  host.on("PUT", "http://discover.local/actions/removeFromWatchlist")
      .reply_json(404, {{"errors", Json::array({{{"message", "Item is not on the watchlist"}}})}});
  auto p = make();
  const Json matrix = {{"key", "m"}, {"type", "movie"}, {"ids", {{"tmdb", "603"}}}};
  const Json nothing = {{"key", "n"}, {"type", "movie"}, {"ids", {{"tmdb", "1"}}}};
  auto r = p.add("watchlist", Json::array({matrix, nothing}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "confirmed");
  EXPECT_EQ(r.json()["outcomes"][1]["reason"], "not_found");
  r = p.add("watchlist", Json::array({matrix}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "skipped");
  r = p.remove("watchlist", Json::array({matrix}));
  EXPECT_EQ(r.json()["outcomes"][0]["status"], "skipped");
  for (const auto& req : host.requests()) {
    if (req.path == "/actions/addToWatchlist") {
      EXPECT_EQ(req.query_value("ratingKey"), "5d776825");
    }
  }
}

TEST_F(PlexTest, HealthNamesTheServerAndRefusesAnotherOne) {
  host.on("GET", "http://pms.local:32400/")
      .reply_json(200,
                  {{"MediaContainer", {{"friendlyName", "nas"}, {"machineIdentifier", "abc"}}}});
  host.on("GET", "http://plextv.local/api/v2/user").reply_json(200, {{"username", "me"}});
  auto p = make({{"machine_id", "abc"}});
  auto h = p.health().json();
  EXPECT_EQ(h["status"], "ok") << h.dump();
  EXPECT_EQ(h["features"]["watchlist"], true);
  auto q = make({{"machine_id", "other"}});
  EXPECT_EQ(q.health().json()["status"], "down");
}

TEST_F(PlexTest, HealthSaysAuthFailedOnARefusedToken) {
  host.on("GET", "http://pms.local:32400/").reply(401, "<html>401 Unauthorized</html>");
  auto p = make();
  EXPECT_EQ(p.health().json()["status"], "auth_failed");
}

TEST_F(PlexTest, MalformedRequestsAreInvalidArg) {
  auto p = make();
  EXPECT_EQ(p.call_raw("build_index", "{not json").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call_raw("add", "[]").status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.call("add", {{"feature", "history"}, {"items", "x"}}).status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(p.build_index("playlists").status, CW_STATUS_UNSUPPORTED);
}

TEST_F(PlexTest, AMissingUrlIsACreateError) {
  PluginInstance p(cwsdk::detail::provider_table<plex::Plex>(), host, {{"token", "x"}});
  EXPECT_FALSE(p.created());
  EXPECT_NE(p.create_error().find("url"), std::string::npos);
}

TEST_F(PlexTest, PinLoginStoresTheAccountTokenAndFindsTheServerToken) {
  host.on("POST", "http://plextv.local/api/v2/pins")
      .reply_json(
          201, {{"id", 1934466201}, {"code", "K7QZ"}, {"expiresIn", 900}, {"authToken", nullptr}});
  host.on("GET", "http://plextv.local/api/v2/pins/1934466201")
      .reply_json(200, {{"id", 1934466201}, {"code", "K7QZ"}, {"authToken", nullptr}})
      .reply_json(200, {{"id", 1934466201}, {"code", "K7QZ"}, {"authToken", "fresh-cloud"}});
  host.on("GET", "http://plextv.local/api/v2/resources")
      .reply_json(
          200,
          Json::array({{{"name", "player"}, {"provides", "client,player"}, {"accessToken", "x"}},
                       {{"name", "other"},
                        {"provides", "server"},
                        {"owned", true},
                        {"accessToken", "wrong"},
                        {"clientIdentifier", "zzz"},
                        {"connections", Json::array({{{"uri", "http://10.0.0.9:32400"}}})}},
                       {{"name", "nas"},
                        {"provides", "server"},
                        {"owned", true},
                        {"accessToken", "fresh-server"},
                        {"clientIdentifier", "abc"},
                        {"connections", Json::array({{{"uri", "http://pms.local:32400"}}})}}}));
  PluginInstance p(cwsdk::detail::provider_table<plex::Plex>(), host,
                   {{"url", "http://pms.local:32400"}, {"plextv_url", "http://plextv.local"}});
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto start = p.call("auth_start", {{"fields", Json::object()}});
  ASSERT_EQ(start.status, CW_STATUS_OK) << start.body;
  EXPECT_EQ(start.json()["kind"], "pin");
  EXPECT_EQ(start.json()["user_code"], "K7QZ");
  EXPECT_EQ(start.json()["verification_url"], "https://plex.tv/link");
  EXPECT_EQ(p.call("auth_poll", Json::object()).json()["state"], "pending");
  const auto done = p.call("auth_poll", Json::object());
  EXPECT_EQ(done.json()["state"], "done") << done.body;
  EXPECT_NE(done.json()["message"].get<std::string>().find("nas"), std::string::npos);
  // The POST carried the client identifier; discovery used the new account token.
  const auto reqs = host.requests();
  EXPECT_TRUE(reqs[0].header("x-plex-client-identifier").has_value());
  EXPECT_EQ(reqs.back().header("x-plex-token"), "fresh-cloud");
}

TEST_F(PlexTest, StoredTokensAreUsedWhenTheConfigurationHasNone) {
  seed_library();
  MockHost h;
  h.set_secret("plex_server_token", "stored-server");
  h.on("GET", "/library/sections")
      .reply_json(200, {{"MediaContainer", {{"Directory", Json::array()}}}});
  PluginInstance p(cwsdk::detail::provider_table<plex::Plex>(), h, {{"url", "http://pms.local"}});
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(h.requests()[0].header("x-plex-token"), "stored-server");
  // No server token at all: AUTH, naming both ways to fix it.
  MockHost none;
  PluginInstance q(cwsdk::detail::provider_table<plex::Plex>(), none,
                   {{"url", "http://pms.local"}});
  const auto bad = q.build_index("history");
  EXPECT_EQ(bad.status, CW_STATUS_AUTH);
  EXPECT_NE(bad.message().find("cw auth login"), std::string::npos);
  // Watchlist without any plex.tv token: unsupported, the other features unaffected.
  EXPECT_EQ(q.build_index("watchlist").status, CW_STATUS_UNSUPPORTED);
}

TEST_F(PlexTest, LookupAsksTheServerForEachItemNow) {
  seed_library();
  host.on("GET", "http://pms.local:32400/library/metadata/101")
      .reply_json(
          200, {{"MediaContainer",
                 {{"Metadata",
                   Json::array({movie_row(101, "The Matrix", 1999, guid_list({"tmdb://603"}),
                                          {{"viewCount", 3}, {"lastViewedAt", 1710000000}})})}}}});
  host.on("GET", "http://pms.local:32400/library/metadata/102")
      .reply_json(200, {{"MediaContainer",
                         {{"Metadata", Json::array({movie_row(102, "Heat", 1995, {})})}}}});
  auto p = make();
  const auto r = p.lookup(
      "history", Json::array({{{"key", "a"}, {"type", "movie"}, {"ids", {{"tmdb", 603}}}},
                              {{"key", "b"}, {"type", "movie"}, {"ids", {{"plex", 102}}}},
                              {{"key", "c"}, {"type", "movie"}, {"ids", {{"imdb", "tt1"}}}}}));
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  const Json results = r.json()["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["present"], true);
  EXPECT_EQ(results[0]["items"][0]["watched_at"], "2024-03-09T16:00:00Z");
  EXPECT_EQ(results[1]["present"], false);
  EXPECT_EQ(results[2]["present"], false);
  EXPECT_EQ(p.lookup("watchlist", Json::array()).status, CW_STATUS_UNSUPPORTED);
}

TEST_F(PlexTest, TheTotalSizeHeaderCountsWhenTheContainerHasNone) {
  MockHost h;
  h.set_secret("token", "t");
  h.on("GET", "/library/sections")
      .reply_json(200, {{"MediaContainer",
                         {{"Directory", Json::array({{{"key", "1"}, {"type", "movie"}}})}}}});
  // One row, no totalSize in the container, but the header announces three.
  h.on("GET", "/library/sections/1/all").handle([](const RecordedRequest& r) {
    Json mc = {{"size", 0}};
    if (r.header("x-plex-container-start") == "0") {
      mc["size"] = 1;
      mc["Metadata"] = Json::array({movie_row(1, "A", 2000, {})});
    }
    return MockReply::json(200, {{"MediaContainer", mc}}, {{"X-Plex-Container-Total-Size", "3"}});
  });
  PluginInstance q(cwsdk::detail::provider_table<plex::Plex>(), h,
                   {{"url", "http://pms.local"}, {"token", "${secret}"}});
  const auto r = q.build_index("ratings");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["expected_total"], 3);
}
