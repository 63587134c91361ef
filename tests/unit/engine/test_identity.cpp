#include <algorithm>

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace cw::engine {
namespace {

using namespace cw::engine::test;
using nlohmann::json;

// R1.2
// An entry's plays are one pointer (null when there are none); the list behaves as the
// std::vector it replaced: growth, removal of every play at an instant, sort + unique, and
// copies that own their own block.
TEST(Plays, GrowRemoveSortAndCopyLikeAVector) {
  Plays p;
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.begin(), p.end());
  for (Instant t = 100; t > 0; --t) p.push_back(t % 40);  // 100 plays, 40 instants
  EXPECT_EQ(p.size(), 100u);
  EXPECT_EQ(p.back(), 1);
  Plays copy = p;
  p.sort_unique();
  ASSERT_EQ(p.size(), 40u);
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p.begin()[i], static_cast<Instant>(i));
  EXPECT_EQ(copy.size(), 100u) << "a copy has its own plays";
  copy.erase(5);
  EXPECT_EQ(copy.size(), 97u) << "every play at the instant";
  EXPECT_EQ(std::count(copy.begin(), copy.end(), 5), 0);
  Plays moved = std::move(copy);
  EXPECT_EQ(moved.size(), 97u);
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  Plays one{7};
  one.erase(7);
  EXPECT_TRUE(one.empty());
  EXPECT_EQ(one.begin(), nullptr) << "an emptied list holds no block";
  EXPECT_EQ((Plays{3, 1, 2}), (std::vector<Instant>{3, 1, 2}));
  EXPECT_EQ(moved.to_vector().size(), 97u);
}

TEST(NormalizeId, TrimsAndDropsPlaceholders) {
  EXPECT_EQ(normalize_id(IdKind::tmdb, " 550 "), "550");
  for (const char* v : {"", "  ", "0", "null", "NULL", "none", "nan", "undefined", "Unknown"}) {
    EXPECT_FALSE(normalize_id(IdKind::tmdb, v)) << v;
    EXPECT_FALSE(normalize_id(IdKind::slug, v)) << v;
    EXPECT_FALSE(normalize_id(IdKind::imdb, v)) << v;
  }
}

TEST(NormalizeId, NumericKindsKeepDigitsOnly) {
  EXPECT_EQ(normalize_id(IdKind::tvdb, "tvdb-42"), "42");
  EXPECT_EQ(normalize_id(IdKind::trakt, "0042"), "42");
  EXPECT_EQ(normalize_id(IdKind::anilist, "id:21"), "21");
  EXPECT_FALSE(normalize_id(IdKind::tmdb, "abc"));
  EXPECT_FALSE(normalize_id(IdKind::simkl, "000"));
}

TEST(NormalizeId, ImdbIsTtPlusDigitsLowerCase) {
  EXPECT_EQ(normalize_id(IdKind::imdb, "TT0111161"), "tt0111161");
  EXPECT_EQ(normalize_id(IdKind::imdb, "0111161"), "tt0111161");
  EXPECT_EQ(normalize_id(IdKind::imdb, "imdb:tt0111161/"), "tt0111161");
  EXPECT_FALSE(normalize_id(IdKind::imdb, "tt"));
}

TEST(NormalizeId, TextKinds) {
  EXPECT_EQ(normalize_id(IdKind::slug, " The-Matrix "), "the-matrix");
  EXPECT_EQ(normalize_id(IdKind::mdblist, "ABC"), "abc");
  EXPECT_EQ(normalize_id(IdKind::jellyfin, "A1B2C3D4-0000-1111-2222-333344445555"),
            "a1b2c3d4000011112222333344445555");
}

// Reference §1.3
TEST(Guid, ParsesThePlexTable) {
  struct Case {
    const char* guid;
    IdKind kind;
    const char* value;
  } cases[] = {
      {"com.plexapp.agents.imdb://tt0111161?lang=en", IdKind::imdb, "tt0111161"},
      {"com.plexapp.agents.themoviedb://278?lang=en", IdKind::tmdb, "278"},
      {"com.plexapp.agents.thetvdb://81189/1/2?lang=en", IdKind::tvdb, "81189"},
      {"imdb://tt0903747", IdKind::imdb, "tt0903747"},
      {"imdb://title/tt0903747", IdKind::imdb, "tt0903747"},
      {"tmdb://1396", IdKind::tmdb, "1396"},
      {"tmdb://movie/278", IdKind::tmdb, "278"},
      {"TMDB://TV/1396", IdKind::tmdb, "1396"},
      {"tvdb://series/81189", IdKind::tvdb, "81189"},
      {"tvdb://show/81189", IdKind::tvdb, "81189"},
      {"plex://movie/5d776825880197001ec967c6", IdKind::guid,
       "plex://movie/5d776825880197001ec967c6"},
  };
  for (const auto& c : cases) {
    Ids ids;
    ASSERT_TRUE(parse_guid(c.guid, ids)) << c.guid;
    ASSERT_TRUE(ids.get(c.kind)) << c.guid;
    EXPECT_EQ(*ids.get(c.kind), c.value) << c.guid;
  }
  Ids none;
  EXPECT_FALSE(parse_guid("local://123", none));
  EXPECT_FALSE(parse_guid("not a guid", none));
  EXPECT_TRUE(none.empty());
}

TEST(ItemJson, ReadsIdsStringsNumbersAndProviderIdsCaseInsensitively) {
  auto j = json::parse(R"({"type":"movie","title":"X","year":1994,
    "ids":{"tmdb":278,"IMDB":"TT0111161","ProviderIds":{"Tvdb":"12","Tmdb":"278"}},
    "ProviderIds":{"imdb":"tt0111161","TheMovieDb":"278"}})");
  auto it = item_from_json(j);
  ASSERT_TRUE(it.ok()) << it.error().message;
  EXPECT_EQ(*it->ids.get(IdKind::tmdb), "278");
  EXPECT_EQ(*it->ids.get(IdKind::imdb), "tt0111161");
  EXPECT_EQ(*it->ids.get(IdKind::tvdb), "12");
  EXPECT_EQ(it->year, 1994);
}

TEST(ItemJson, ReadsPlexGuidListAndShowBlock) {
  auto j = json::parse(R"({"type":"episode","season_number":1,"episode_number":2,
    "Guid":[{"id":"imdb://tt0959621"},{"id":"tvdb://349232"}],
    "show":{"title":"Breaking Bad","year":2008,"ids":{"tvdb":"81189","imdb":"tt0903747"}},
    "watched_at":"2024-01-02T03:04:05.1234567Z","extra":{"ratingKey":"77"}})");
  auto it = item_from_json(j);
  ASSERT_TRUE(it.ok());
  EXPECT_EQ(it->kind, ItemKind::episode);
  EXPECT_EQ(it->season, 1);
  EXPECT_EQ(it->episode, 2);
  EXPECT_EQ(*it->ids.get(IdKind::imdb), "tt0959621");
  EXPECT_EQ(*it->show_ids.get(IdKind::tvdb), "81189");
  EXPECT_EQ(it->watched_at, 1704164645);
  EXPECT_EQ(it->extra["ratingKey"], "77");
}

TEST(ItemJson, PlexIdKeepsGlobalGuid) {
  auto it = item_from_json(json::parse(R"({"type":"movie","ids":{"plex":"plex://movie/5d77AB"}})"));
  ASSERT_TRUE(it.ok());
  EXPECT_EQ(*it->ids.get(IdKind::plex), "plex://movie/5d77ab");
  auto local = item_from_json(json::parse(R"({"type":"movie","ids":{"plex":"12345"}})"));
  EXPECT_EQ(*local->ids.get(IdKind::plex), "12345");
}

TEST(ItemJson, RejectsUnknownTypeAndNonObjects) {
  EXPECT_FALSE(item_from_json(json::parse(R"({"type":"podcast"})")).ok());
  EXPECT_FALSE(item_from_json(json::array()).ok());
  // The ABI's four names exactly (item.schema.json); nothing is guessed.
  for (const char* t :
       {R"({"type":"anime"})", R"({"type":"Series"})", R"({"type":"movies"})", R"({"type":""})",
        R"({"type":null})", R"({"title":"no type"})", R"({"type":7})"}) {
    const auto r = item_from_json(json::parse(t));
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_NE(r.error().message.find("type"), std::string::npos) << r.error().message;
  }
  for (const char* t : {"movie", "show", "season", "episode"})
    EXPECT_TRUE(item_from_json(json{{"type", t}}).ok()) << t;
}

TEST(ItemJson, Abi11FieldsRoundTrip) {
  const auto it = item_from_json(json::parse(
      R"({"type":"episode","season":1,"episode":3,"episode_end":4,"absolute_episode":1071,
          "progress_percent":42.5})"));
  ASSERT_TRUE(it.ok()) << it.error().message;
  EXPECT_EQ(it->episode_end, 4);
  EXPECT_EQ(it->absolute_episode, 1071);
  EXPECT_EQ(it->progress_bp, 4250);
  const json j = item_to_json(*it);
  EXPECT_EQ(j["episode_end"], 4);
  EXPECT_EQ(j["absolute_episode"], 1071);
  EXPECT_DOUBLE_EQ(j["progress_percent"].get<double>(), 42.5);
  EXPECT_FALSE(item_from_json(json{{"type", "movie"}, {"progress_percent", 120}}).ok());
}

TEST(ItemJson, AHugeTitleIsRefused) {
  const auto it = item_from_json(json{{"type", "movie"}, {"title", std::string(100000, 'x')}});
  ASSERT_FALSE(it.ok());
  EXPECT_NE(it.error().message.find("at most 4096"), std::string::npos) << it.error().message;
  EXPECT_TRUE(item_from_json(json{{"type", "movie"}, {"title", std::string(4096, 'x')}}).ok());
}

// Every text field and the provider's `extra` have a cap, named in the error (issue 10:
// a 200 MB title was stored twice). The caps come from the configuration; cw's own
// documents are read back unbounded, so lowering a cap never makes a baseline unreadable.
TEST(ItemJson, EveryFieldHasACapThatTheConfigurationSets) {
  const std::string long_text(5000, 'x');
  const json show_title{{"type", "episode"}, {"show", {{"title", long_text}}}};
  const json series_title{{"type", "episode"}, {"series_title", long_text}};
  const json big_extra{{"type", "movie"}, {"extra", {{"blob", std::string(70000, 'x')}}}};
  const json deep_extra{{"type", "movie"}, {"extra", json::array({json::array(), long_text})}};
  for (const auto& [j, field] : {std::pair{show_title, "item show title is 5000 bytes"},
                                 std::pair{series_title, "item series_title is 5000 bytes"},
                                 std::pair{big_extra, "item extra is more than 65536 bytes"}}) {
    const auto it = item_from_json(j);
    ASSERT_FALSE(it.ok()) << j.dump().substr(0, 80);
    EXPECT_NE(it.error().message.find(field), std::string::npos) << it.error().message;
    EXPECT_NE(it.error().message.find("plugins.max_"), std::string::npos) << it.error().message;
  }
  EXPECT_TRUE(item_from_json(deep_extra).ok());
  ItemLimits raised;
  raised.max_text = 8192;
  raised.max_extra = 1 << 20;
  EXPECT_EQ(item_from_json(show_title, raised)->show_title, long_text);
  EXPECT_EQ(item_from_json(series_title, raised)->show_title, long_text);
  EXPECT_EQ(item_from_json(big_extra, raised)->extra, big_extra["extra"]);
  ItemLimits lowered;
  lowered.max_extra = 1024;
  EXPECT_FALSE(item_from_json(deep_extra, lowered).ok());
  EXPECT_TRUE(item_from_json(big_extra, ItemLimits::unbounded()).ok());
}

TEST(ItemJson, RatingOutsideZeroToTenIsRefused) {
  for (const json& r : {json(150), json(85), json(10.5), json(-1), json("11"), json("eight"),
                        json(json::array())}) {
    const auto it = item_from_json(json{{"type", "movie"}, {"rating", r}});
    ASSERT_FALSE(it.ok()) << r;
    EXPECT_NE(it.error().message.find("0-10"), std::string::npos) << it.error().message;
  }
  EXPECT_DOUBLE_EQ(*item_from_json(json{{"type", "movie"}, {"rating", 10}})->rating, 10);
  EXPECT_DOUBLE_EQ(*item_from_json(json{{"type", "movie"}, {"rating", 7.5}})->rating, 7.5);
  EXPECT_FALSE(item_from_json(json{{"type", "movie"}, {"rating", nullptr}})->rating);
}

TEST(ItemJson, UnknownIdKindsAreKeptAndMatched) {
  const auto a = item_from_json(json::parse(
      R"({"type":"movie","ids":{"Letterboxd":"abc","anidb2":"77","imdb":"tt0000001"}})"));
  const auto b = item_from_json(json::parse(R"({"type":"movie","ids":{"letterboxd":"abc"}})"));
  const auto c = item_from_json(json::parse(R"({"type":"movie","ids":{"letterboxd":"xyz"}})"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->ids.size(), 3U);
  EXPECT_TRUE(same_item(*a, *b));
  EXPECT_FALSE(same_item(*b, *c));
  EXPECT_TRUE(a->ids.intersects(b->ids));
  // Kept through the ABI form (what the state database and write requests carry).
  const json back = item_to_json(*a);
  EXPECT_EQ(back["ids"]["letterboxd"], "abc");
  EXPECT_EQ(back["ids"]["anidb2"], "77");
  EXPECT_EQ(back["ids"]["imdb"], "tt0000001");
  EXPECT_EQ(*item_from_json(back), *a);
  // A second value for one kind replaces the first; other kinds stay.
  Ids ids = a->ids;
  ids.set_other("LETTERBOXD", "def");
  EXPECT_EQ(ids.size(), 3U);
  Ids merged = b->ids;
  merged.merge_from(a->ids);
  EXPECT_EQ(merged, a->ids);
  // A hostile reply's thousands of ids are capped, never overflow the packed buffer.
  json many = {{"imdb", "tt0000001"}};
  for (int i = 0; i < 5000; ++i) many["kind" + std::to_string(i)] = std::string(200, 'v');
  const auto crowded = item_from_json(json{{"type", "movie"}, {"ids", many}});
  ASSERT_TRUE(crowded.ok());
  EXPECT_LE(crowded->ids.size(), 1U + Ids::k_max_other);
  EXPECT_EQ(*crowded->ids.get(IdKind::imdb), "tt0000001");
  // Canonical keys never use them.
  EXPECT_EQ(canonical_key(*b).find("letterboxd"), std::string::npos);
}

TEST(ItemJson, RoundTrips) {
  Item e = episode("81189", 1, 2);
  e.ids.set(IdKind::imdb, "tt0959621");
  e.show_ids.set(IdKind::imdb, "tt0903747");
  e.show_year = 2008;
  e.watched_at = 1704164645;
  e.rating = 8.5;
  e.rated_at = 1704164600;
  e.progress_ms = 1000;
  e.duration_ms = 5000;
  e.progress_at = 1704164000;
  e.extra = json{{"k", 1}};
  auto j = item_to_json(e, "key1");
  EXPECT_EQ(j["key"], "key1");
  auto back = item_from_json(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, e);
}

// R1.3
TEST(CanonicalKey, PriorityOrderAndPerKindSpaces) {
  EXPECT_EQ(canonical_key(movie("tt0137523", "550")), "movie:tmdb:550");
  EXPECT_EQ(canonical_key(movie("tt0137523")), "movie:imdb:tt0137523");
  Item show = movie("", "550");
  show.kind = ItemKind::show;
  EXPECT_EQ(canonical_key(show), "show:tmdb:550");
  Item trakt_only;
  trakt_only.ids.set(IdKind::trakt, "9");
  trakt_only.ids.set(IdKind::slug, "x");
  EXPECT_EQ(canonical_key(trakt_only), "movie:trakt:9");
}

TEST(CanonicalKey, EpisodesUseTheShowAndPaddedNumbers) {
  Item e = episode("81189", 1, 2);
  e.show_ids.set(IdKind::imdb, "tt0903747");
  EXPECT_EQ(canonical_key(e), "episode:imdb:tt0903747#s01e02");
  EXPECT_EQ(canonical_key(episode("81189", 23, 1156)), "episode:tvdb:81189#s23e1156");
  Item s;
  s.kind = ItemKind::season;
  s.show_ids.set(IdKind::tmdb, "1396");
  s.season = 0;
  EXPECT_EQ(canonical_key(s), "season:tmdb:1396#season:0");
}

TEST(CanonicalKey, TitleYearWithoutIds) {
  Item m;
  m.title = "  Some Indie ";
  m.year = 2024;
  EXPECT_EQ(canonical_key(m), "movie|title:some indie|year:2024");
  Item none;
  EXPECT_EQ(canonical_key(none), "movie|unknown");
}

TEST(CanonicalKey, ServerLocalIdsNeverFormKeys) {
  Item m;
  m.title = "X";
  m.ids.set(IdKind::jellyfin, "abcdef12");
  m.ids.set(IdKind::plex, "123");
  EXPECT_EQ(canonical_key(m), "movie|title:x|year:");
}

// R1.3 Fix: a movie and a show with the same tmdb/trakt number never match.
TEST(SameItem, MovieAndShowNeverMatch) {
  Item m = movie("", "1396");
  m.ids.set(IdKind::trakt, "1");
  Item s = m;
  s.kind = ItemKind::show;
  EXPECT_FALSE(same_item(m, s));
  Index idx = Index::build({m, s});
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_NE(canonical_key(m), canonical_key(s));
}

// R1.4
TEST(SameItem, AnySharedIdMatches) {
  EXPECT_TRUE(same_item(movie("tt1", "5"), movie("tt1", "")));
  EXPECT_TRUE(same_item(movie("", "5"), movie("tt9", "5")));
  EXPECT_FALSE(same_item(movie("tt1", "5"), movie("tt2", "6")));
}

TEST(SameItem, ServerLocalIdsDoNotMatchAcrossItems) {
  Item a, b;
  a.title = "A";
  b.title = "B";
  a.ids.set(IdKind::emby, "100");
  b.ids.set(IdKind::emby, "100");
  EXPECT_FALSE(same_item(a, b));
}

TEST(SameItem, EpisodesByShowAndNumbers) {
  Item a = episode("81189", 1, 2);
  Item b = episode("81189", 1, 2);
  b.show_ids.set(IdKind::imdb, "tt0903747");
  EXPECT_TRUE(same_item(a, b));
  EXPECT_FALSE(same_item(a, episode("81189", 1, 3)));
  EXPECT_FALSE(same_item(a, episode("81190", 1, 2)));
}

TEST(SameItem, EpisodeLevelIdsMatchButCopiesOfTheShowIdDoNot) {
  // Tautulli copies the show's ids into each episode: those must not join episodes.
  Item a = episode("81189", 1, 1);
  a.ids.set(IdKind::tvdb, "81189");
  Item b = episode("81189", 1, 2);
  b.ids.set(IdKind::tvdb, "81189");
  EXPECT_FALSE(same_item(a, b));
  // A real episode-level id matches even when the numbering differs (e.g. absolute).
  Item c = episode("81189", 1, 2);
  c.ids.set(IdKind::imdb, "tt0959621");
  Item d = episode("81189", 0, 9);
  d.ids.set(IdKind::imdb, "tt0959621");
  EXPECT_TRUE(same_item(c, d));
}

TEST(SameItem, TitleYearOnlyWhenNoIds) {
  Item a, b;
  a.title = "Some Indie";
  a.year = 2024;
  b.title = "some indie";
  b.year = 2024;
  EXPECT_TRUE(same_item(a, b));
  b.year = 2023;
  EXPECT_FALSE(same_item(a, b));
}

TEST(AliasTokens, KindPrefixedAndEpisodeAware) {
  Item e = episode("81189", 1, 2);
  e.ids.set(IdKind::tvdb, "81189");  // a copy of the show's id: not an episode-level token
  e.ids.set(IdKind::imdb, "tt0959621");
  e.ids.set(IdKind::jellyfin, "abc");  // server-local: no token
  auto t = alias_tokens(e);
  std::sort(t.begin(), t.end());
  EXPECT_EQ(t, (std::vector<std::string>{"episode:imdb:tt0959621", "episode:tvdb:81189#s01e02"}));
  std::vector<std::string> seen;
  for_each_alias_token(movie("tt1", "5"), [&](std::string_view x) { seen.emplace_back(x); });
  EXPECT_EQ(seen, (std::vector<std::string>{"movie:tmdb:5", "movie:imdb:tt1"}));
}

TEST(Index, MergesMatchingEntriesIdsUnioned) {
  Index idx;
  idx.add(movie("tt0100"));
  idx.add(movie("tt0100", "100"));
  ASSERT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx.entries()[0].key, "movie:tmdb:100");
  EXPECT_TRUE(idx.entries()[0].item.ids.has(IdKind::imdb));
  EXPECT_TRUE(idx.find(movie("", "100")).has_value());
  EXPECT_TRUE(idx.find_key("movie:tmdb:100").has_value());
}

// R1.5 Fix: current values win when ids disagree.
TEST(Index, LaterValuesWin) {
  Index idx;
  Item old = movie("tt0100", "999", "Old Title");
  Item cur = movie("tt0100", "100", "New Title");
  idx.add(old);
  idx.add(cur);
  ASSERT_EQ(idx.size(), 1u);
  EXPECT_EQ(*idx.entries()[0].item.ids.get(IdKind::tmdb), "100");
  EXPECT_EQ(idx.entries()[0].item.title, "New Title");
  // The stale tmdb value no longer finds the entry.
  EXPECT_FALSE(idx.find(movie("", "999")).has_value());
}

TEST(Index, BridgingItemMergesTwoEntries) {
  Index idx;
  idx.add(movie("tt1"));
  idx.add(movie("", "2"));
  idx.add(movie("tt3"));
  ASSERT_EQ(idx.size(), 3u);
  idx.add(movie("tt1", "2"));
  ASSERT_EQ(idx.size(), 2u);
  auto pos = idx.find(movie("tt1"));
  ASSERT_TRUE(pos);
  EXPECT_EQ(idx.find(movie("", "2")), pos);
  EXPECT_TRUE(idx.find(movie("tt3")).has_value());
  EXPECT_NE(idx.find(movie("tt3")), pos);
}

TEST(Index, HistoryCollectsPlays) {
  Index idx(true);
  idx.add(watched(movie("tt1"), 200));
  idx.add(watched(movie("tt1", "5"), 100));
  idx.add(watched(movie("tt1"), 200));
  ASSERT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx.entries()[0].plays, (std::vector<Instant>{100, 200}));
  EXPECT_EQ(idx.entries()[0].item.watched_at, 200);  // latest watch kept
  EXPECT_EQ(idx.to_items(true).size(), 2u);
  EXPECT_EQ(idx.to_items(false).size(), 1u);
}

// ---- title matching between two indexes (R1.4)

Item titled(std::string title, int year, std::string imdb = {}) {
  Item it;
  it.kind = ItemKind::movie;
  it.title = std::move(title);
  it.year = year;
  if (!imdb.empty()) it.ids.set(IdKind::imdb, imdb);
  return it;
}

TEST(TitleMatch, AnIdLessItemMatchesTheOneItemWithIdsByTitleAndYear) {
  const Index ids = Index::build({titled("Heat", 1995, "tt1"), titled("Up", 2009, "tt2")});
  const Index bare = Index::build({titled("  HEAT ", 1995), titled("Other", 2000)});
  const Match m = ids.match(bare, 0);
  ASSERT_TRUE(m.pos);
  EXPECT_TRUE(m.by_title);
  EXPECT_EQ(ids.entries()[*m.pos].key, "movie:imdb:tt1");
  // And the other way: the item with ids finds the id-less one.
  const auto back = bare.find(ids, 0);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, 0u);
  EXPECT_FALSE(ids.find(bare, 1));  // no such title
  EXPECT_FALSE(bare.find(ids, 1));
}

TEST(TitleMatch, NeverInsideOneIndex) {
  // An index keeps an id-less copy and a copy with ids apart: only another side's item
  // can be matched by title, where uniqueness is checked.
  const Index idx = Index::build({titled("Heat", 1995), titled("Heat", 1995, "tt1")});
  EXPECT_EQ(idx.size(), 2u);
}

TEST(TitleMatch, KindAndYearMustAgree) {
  Item show = titled("Heat", 1995);
  show.kind = ItemKind::show;
  const Index ids = Index::build({titled("Heat", 1995, "tt1")});
  EXPECT_FALSE(ids.find(Index::build({show}), 0));
  EXPECT_FALSE(ids.find(Index::build({titled("Heat", 1996)}), 0));
}

TEST(TitleMatch, TwoCandidatesAreAmbiguousEitherWay) {
  const Index two = Index::build({titled("Solaris", 2002, "tt1"), titled("Solaris", 2002, "tt2")});
  const Index bare = Index::build({titled("Solaris", 2002)});
  const Match m = two.match(bare, 0);
  EXPECT_FALSE(m.pos);
  EXPECT_TRUE(m.ambiguous());
  EXPECT_EQ(m.candidates.size(), 2u);
  // Each film with ids finds the one id-less film, which two films could be: no match.
  for (std::size_t i = 0; i < 2; ++i) {
    const Match r = bare.match(two, i);
    EXPECT_FALSE(r.pos);
    EXPECT_TRUE(r.ambiguous());
    EXPECT_TRUE(r.candidates_elsewhere);
  }
}

TEST(TitleMatch, YearToleranceOnlyWhenAsked) {
  const Index ids = Index::build({titled("Amelie", 2002, "tt1")});
  const Index bare = Index::build({titled("Amelie", 2001), titled("Amelie", 2004)});
  EXPECT_FALSE(ids.find(bare, 0));
  EXPECT_TRUE(ids.find(bare, 0, MatchOptions{1}));
  EXPECT_FALSE(ids.find(bare, 1, MatchOptions{1}));  // two years off
  EXPECT_TRUE(bare.find(ids, 0, MatchOptions{1}));
  // Two id-less items within a year of the one with ids: neither is a sure match.
  const Index both = Index::build({titled("Amelie", 2001), titled("Amelie", 2003)});
  const Match m = ids.match(both, 0, MatchOptions{1});
  EXPECT_FALSE(m.pos);
  EXPECT_TRUE(m.ambiguous());
  EXPECT_FALSE(both.find(ids, 0, MatchOptions{1}));
}

TEST(TitleMatch, EpisodesByShowTitleYearAndNumbers) {
  Item bare;
  bare.kind = ItemKind::episode;
  bare.show_title = "Dark";
  bare.show_year = 2017;
  bare.season = 1;
  bare.episode = 2;
  Item with_ids = bare;
  with_ids.show_title = "dark";
  with_ids.show_ids.set(IdKind::tvdb, "334824");
  Item other_episode = with_ids;
  other_episode.episode = 3;
  const Index ids = Index::build({with_ids, other_episode});
  const auto pos = ids.find(Index::build({bare}), 0);
  ASSERT_TRUE(pos);
  EXPECT_EQ(ids.entries()[*pos].item.episode, 2);
}

// `cw match`: the explanation says which rule matched, or why nothing qualified.
TEST(ExplainMatch, SaysTheRuleTheCandidatesAndWhyOthersDoNotQualify) {
  const auto film = [](const char* imdb, int year) {
    Item m = movie(imdb, {}, "Solaris");
    m.year = year;
    return m;
  };
  Item bare;
  bare.kind = ItemKind::movie;
  bare.title = "solaris ";
  bare.year = 2002;
  const Index mine = Index::build({bare, film("tt5", 2002)});
  const Index two = Index::build({film("tt1", 2002), film("tt2", 2002), film("tt3", 1972)});
  const auto bare_pos = *mine.find_key("movie|title:solaris|year:2002");
  auto x = explain_match(mine, bare_pos, two);
  EXPECT_FALSE(x.has_ids);
  EXPECT_EQ(x.rule, "ambiguous");
  EXPECT_EQ(x.candidates, (std::vector<std::string>{"movie:imdb:tt1", "movie:imdb:tt2"}));
  ASSERT_EQ(x.near.size(), 1u);
  EXPECT_EQ(x.near[0].first, "movie:imdb:tt3");
  EXPECT_NE(x.near[0].second.find("year 1972 is not 2002"), std::string::npos);

  const Index one = Index::build({film("tt1", 2002), film("tt3", 1972)});
  x = explain_match(mine, bare_pos, one);
  EXPECT_EQ(x.rule, "title");
  EXPECT_EQ(x.match_key, "movie:imdb:tt1");
  EXPECT_EQ(explain_match(mine, bare_pos, Index::build({film("tt3", 2001)}), MatchOptions{1}).rule,
            "title");

  const auto ids_pos = *mine.find_key("movie:imdb:tt5");
  x = explain_match(mine, ids_pos, Index::build({film("tt5", 2002)}));
  EXPECT_EQ(x.rule, "ids");
  EXPECT_EQ(x.shared, (std::vector<std::string>{"movie:imdb:tt5"}));
  x = explain_match(mine, ids_pos, one);
  EXPECT_EQ(x.rule, "none");
  ASSERT_EQ(x.near.size(), 2u);
  EXPECT_EQ(x.near[0].second, "both have ids and they share none");
}

}  // namespace
}  // namespace cw::engine
