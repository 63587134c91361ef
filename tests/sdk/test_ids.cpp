// cwsdk/support/ids.hpp: the id rules the engine and every plugin share (SYNC-RULES R1.2).
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/support/ids.hpp>

namespace {

using cwsdk::IdKind;
using nlohmann::json;

TEST(Ids, PlaceholdersAreNoIds) {
  for (const char* v : {"", "  ", "0", "null", "NULL", "none", "None", "nan", "NaN", "undefined",
                        "unknown", " Unknown "}) {
    for (IdKind k : {IdKind::tmdb, IdKind::imdb, IdKind::slug, IdKind::guid, IdKind::jellyfin}) {
      EXPECT_FALSE(cwsdk::normalize_id(k, v)) << v << " as " << cwsdk::id_kind_name(k);
    }
    EXPECT_FALSE(cwsdk::normalize_unknown_id(v)) << v;
  }
}

TEST(Ids, NumericKindsKeepTheirDigits) {
  EXPECT_EQ(cwsdk::normalize_id(IdKind::tmdb, " 550 "), "550");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::tvdb, "tvdb-42"), "42");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::trakt, "0042"), "42");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::anilist, "id:21"), "21");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::emby, "12345"), "12345");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::plex, "/library/metadata/777"), "777");
  EXPECT_FALSE(cwsdk::normalize_id(IdKind::tmdb, "abc"));
  EXPECT_FALSE(cwsdk::normalize_id(IdKind::simkl, "000"));
}

TEST(Ids, ImdbJellyfinAndTextKinds) {
  EXPECT_EQ(cwsdk::normalize_id(IdKind::imdb, "TT0111161"), "tt0111161");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::imdb, "0111161"), "tt0111161");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::imdb, "imdb:tt0111161/"), "tt0111161");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::imdb, "https://www.imdb.com/title/tt0133093/"),
            "tt0133093");
  EXPECT_FALSE(cwsdk::normalize_id(IdKind::imdb, "tt"));
  EXPECT_FALSE(cwsdk::normalize_id(IdKind::imdb, "tt000"));
  EXPECT_EQ(cwsdk::normalize_id(IdKind::jellyfin, "A1B2C3D4-0000-1111-2222-333344445555"),
            "a1b2c3d4000011112222333344445555");
  EXPECT_FALSE(cwsdk::normalize_id(IdKind::jellyfin, "00000000-0000-0000-0000-000000000000"));
  EXPECT_EQ(cwsdk::normalize_id(IdKind::slug, " The-Matrix "), "the-matrix");
  EXPECT_EQ(cwsdk::normalize_id(IdKind::mdblist, "ABC"), "abc");
  EXPECT_EQ(cwsdk::normalize_unknown_id(" Zap2It:EP001 "), "Zap2It:EP001");
}

TEST(Ids, KindNamesMatchCaseInsensitivelyWithServerAliases) {
  EXPECT_EQ(cwsdk::id_kind_from_name("Tmdb"), IdKind::tmdb);
  EXPECT_EQ(cwsdk::id_kind_from_name("IMDb"), IdKind::imdb);
  EXPECT_EQ(cwsdk::id_kind_from_name("TheMovieDb"), IdKind::tmdb);
  EXPECT_EQ(cwsdk::id_kind_from_name("moviedb"), IdKind::tmdb);
  EXPECT_EQ(cwsdk::id_kind_from_name("TheTVDB"), IdKind::tvdb);
  EXPECT_EQ(cwsdk::id_kind_from_name("MyAnimeList"), IdKind::mal);
  EXPECT_EQ(cwsdk::id_kind_from_name("AniDb"), IdKind::anidb);
  EXPECT_EQ(cwsdk::id_kind_from_name(" tvdb "), IdKind::tvdb);
  EXPECT_FALSE(cwsdk::id_kind_from_name("TvRage"));
  EXPECT_FALSE(cwsdk::id_kind_from_name(""));
  for (std::size_t i = 0; i < cwsdk::k_id_kind_count; ++i) {
    const auto k = static_cast<IdKind>(i);
    EXPECT_EQ(cwsdk::id_kind_from_name(cwsdk::id_kind_name(k)), k);
  }
}

TEST(Ids, PlexGuidsOfEveryAgent) {
  struct Case {
    const char* guid;
    IdKind kind;
    const char* value;
  };
  const Case cases[] = {
      {"imdb://tt0133093", IdKind::imdb, "tt0133093"},
      {"IMDB://title/TT0133093", IdKind::imdb, "tt0133093"},
      {"com.plexapp.agents.imdb://tt0133093?lang=en", IdKind::imdb, "tt0133093"},
      {"tmdb://603", IdKind::tmdb, "603"},
      {"tmdb://movie/603", IdKind::tmdb, "603"},
      {"tmdb://tv/1396", IdKind::tmdb, "1396"},
      {"tmdb://show/1396", IdKind::tmdb, "1396"},
      {"com.plexapp.agents.themoviedb://603?lang=de", IdKind::tmdb, "603"},
      {"tvdb://81189", IdKind::tvdb, "81189"},
      {"tvdb://series/81189", IdKind::tvdb, "81189"},
      {"tvdb://show/81189", IdKind::tvdb, "81189"},
      {"com.plexapp.agents.thetvdb://81189/1/2?lang=en", IdKind::tvdb, "81189"},
      {" plex://movie/5D776B59AD5437001F79C6F8 ", IdKind::guid,
       "plex://movie/5d776b59ad5437001f79c6f8"},
  };
  for (const auto& c : cases) {
    const auto id = cwsdk::parse_plex_guid(c.guid);
    ASSERT_TRUE(id) << c.guid;
    EXPECT_EQ(id->kind, c.kind) << c.guid;
    EXPECT_EQ(id->value, c.value) << c.guid;
  }
  for (const char* bad : {"local://123", "not a guid", "tmdb://", "imdb://nothing",
                          "com.plexapp.agents.none://123", "tvdb://series/unknown"}) {
    EXPECT_FALSE(cwsdk::parse_plex_guid(bad)) << bad;
  }
}

TEST(Ids, ReadIdParsesGuidsGivenAsPlexOrGuid) {
  auto plex = cwsdk::read_id(IdKind::plex, "plex://show/5d9c086c46115600200aa2fe");
  ASSERT_TRUE(plex);
  EXPECT_EQ(plex->kind, IdKind::plex);
  auto agent = cwsdk::read_id(IdKind::guid, "com.plexapp.agents.imdb://tt0133093");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->kind, IdKind::imdb);
  auto via_plex = cwsdk::read_id(IdKind::plex, "tmdb://603");
  ASSERT_TRUE(via_plex);
  EXPECT_EQ(via_plex->kind, IdKind::tmdb);
  EXPECT_FALSE(cwsdk::read_id(IdKind::plex, "local://5"));
  auto local_guid = cwsdk::read_id(IdKind::guid, "Local://5");
  ASSERT_TRUE(local_guid);
  EXPECT_EQ(local_guid->value, "local://5");
  auto rating_key = cwsdk::read_id(IdKind::plex, "12345");
  ASSERT_TRUE(rating_key);
  EXPECT_EQ(rating_key->value, "12345");
}

TEST(Ids, IdTextTakesStringsAndWholeNumbersOnly) {
  EXPECT_EQ(cwsdk::id_text(json("tt1")), "tt1");
  EXPECT_EQ(cwsdk::id_text(json(603)), "603");
  EXPECT_EQ(cwsdk::id_text(json(603.0)), "603");
  EXPECT_FALSE(cwsdk::id_text(json(6.5)));
  EXPECT_FALSE(cwsdk::id_text(json(nullptr)));
  EXPECT_FALSE(cwsdk::id_text(json(true)));
  EXPECT_FALSE(cwsdk::id_text(json::object()));
}

TEST(Ids, ProviderIdsAnyCaseNestedOrNot) {
  const json j = json::parse(R"({"Tmdb": "603", "IMDB": "tt0133093", "Tvdb": null,
      "ProviderIds": {"TheTVDB": 81189, "TvRage": "x12"}, "bad": {"x": 1}, "Trakt": true})");
  const cwsdk::Ids ids = cwsdk::Ids::from_json(j);
  EXPECT_EQ(ids.get("tmdb"), "603");
  EXPECT_EQ(ids.get(IdKind::imdb), "tt0133093");
  EXPECT_EQ(ids.get("tvdb"), "81189");
  EXPECT_EQ(ids.get("tvrage"), "x12");  // unknown kinds are kept
  EXPECT_FALSE(ids.has("trakt"));
  EXPECT_FALSE(ids.has("bad"));
  EXPECT_EQ(ids.to_json(), json::parse(R"({"tmdb":"603","imdb":"tt0133093","tvdb":"81189",
      "tvrage":"x12"})"));
  EXPECT_TRUE(cwsdk::Ids::from_json(json("not an object")).empty());
  EXPECT_TRUE(cwsdk::Ids::from_json(json(nullptr)).empty());
}

TEST(Ids, SetGetMergeAndShare) {
  cwsdk::Ids a;
  EXPECT_TRUE(a.set("TMDB", 603));
  EXPECT_TRUE(a.set("imdb", "0133093"));
  EXPECT_FALSE(a.set("tvdb", "unknown"));
  EXPECT_FALSE(a.set("", "5"));
  EXPECT_TRUE(a.add_guid("tvdb://series/81189"));
  EXPECT_FALSE(a.add_guid("local://1"));
  EXPECT_EQ(a.get("imdb"), "tt0133093");
  EXPECT_EQ(a.size(), 3u);
  cwsdk::Ids b;
  b.set("imdb", "tt0133093");
  b.set("slug", "The-Matrix");
  EXPECT_TRUE(a.shares_id_with(b));
  cwsdk::Ids c;
  c.set("jellyfin", "abc");
  cwsdk::Ids d;
  d.set("jellyfin", "ABC");
  EXPECT_TRUE(c.shares_id_with(d));
  EXPECT_FALSE(c.shares_id_with(d, /*include_server_local=*/false));
  a.merge(b);
  EXPECT_EQ(a.get("slug"), "the-matrix");
  a.erase("Slug");
  EXPECT_FALSE(a.has("slug"));
  EXPECT_EQ(a, a);
  EXPECT_NE(a, b);
}

}  // namespace
