// Id normalisation and identity aliases of the local tracker.
#include "ids.hpp"

#include <gtest/gtest.h>

using nlohmann::json;
using namespace cw::crosswatch;

namespace {

TEST(CrosswatchIds, NormalisesValues) {
  EXPECT_EQ(normalise_id("tmdb", 278), "278");
  EXPECT_EQ(normalise_id("tmdb", " 278 "), "278");
  EXPECT_EQ(normalise_id("tvdb", "tvdb-42"), "42");
  EXPECT_EQ(normalise_id("tmdb", 278.0), "278");
  EXPECT_EQ(normalise_id("imdb", "TT0111161"), "tt0111161");
  EXPECT_EQ(normalise_id("imdb", "0111161"), "tt0111161");
  EXPECT_EQ(normalise_id("letterboxd", " abc "), "abc");  // kinds the kit does not name
  for (const char* junk : {"", "0", "none", "None", "null", "nan", "undefined", "unknown"})
    EXPECT_EQ(normalise_id("tmdb", junk), "") << junk;
  EXPECT_EQ(normalise_id("tmdb", json()), "");
  EXPECT_EQ(normalise_id("slug", "the-matrix"), "the-matrix");
}

TEST(CrosswatchIds, AliasesAreTypedAndEpisodesUseTheShow) {
  const json m = {{"type", "movie"}, {"ids", {{"tmdb", 603}, {"imdb", "tt0133093"}, {"trakt", 0}}}};
  EXPECT_EQ(identity_aliases(m),
            (std::vector<std::string>{"movie|imdb:tt0133093", "movie|tmdb:603"}));
  const json e = {{"type", "episode"},
                  {"ids", {{"tvdb", 349232}}},
                  {"show", {{"ids", {{"tvdb", 81189}}}}},
                  {"season", 1},
                  {"episode", 2}};
  EXPECT_EQ(identity_aliases(e), (std::vector<std::string>{"episode|show:tvdb:81189|1|2"}));
  const json orphan = {{"type", "episode"}, {"ids", {{"tvdb", 349232}}}};
  EXPECT_EQ(identity_aliases(orphan), (std::vector<std::string>{"episode|tvdb:349232"}));
  const json bare = {{"type", "movie"}, {"title", "  The Thing "}, {"year", 1982}};
  EXPECT_EQ(identity_aliases(bare), (std::vector<std::string>{"movie|title:the thing|1982"}));
}

TEST(CrosswatchIds, MergeAddsOnlyMissingIds) {
  json stored = {{"ids", {{"tmdb", 603}, {"imdb", "none"}}}};
  EXPECT_TRUE(merge_ids(stored, {{"ids", {{"imdb", "tt0133093"}, {"tmdb", 999}}}}));
  EXPECT_EQ(stored["ids"]["imdb"], "tt0133093");
  EXPECT_EQ(stored["ids"]["tmdb"], 603);
  EXPECT_FALSE(merge_ids(stored, {{"ids", {{"tmdb", 603}}}}));
}

}  // namespace
