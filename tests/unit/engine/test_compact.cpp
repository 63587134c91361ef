// The compact storage behind Item: packed Ids, PackedOptional, Index::find_key.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <cw/engine/identity.hpp>
#include <cw/engine/item.hpp>
#include <cw/engine/packed_optional.hpp>

namespace cw::engine {
namespace {

std::vector<std::pair<IdKind, std::string>> listed(const Ids& ids) {
  std::vector<std::pair<IdKind, std::string>> out;
  for (const auto e : ids.entries()) out.emplace_back(e.kind, std::string(e.value));
  return out;
}

TEST(PackedIds, SortedByKindOneValuePerKind) {
  Ids ids;
  ids.set_normalised(IdKind::trakt, "42");
  ids.set_normalised(IdKind::tmdb, "278");
  ids.set_normalised(IdKind::imdb, "tt0111161");
  ids.set_normalised(IdKind::tmdb, "279");  // replaces
  using P = std::pair<IdKind, std::string>;
  EXPECT_EQ(
      listed(ids),
      (std::vector<P>{{IdKind::tmdb, "279"}, {IdKind::imdb, "tt0111161"}, {IdKind::trakt, "42"}}));
  EXPECT_EQ(ids.size(), 3u);
  ids.erase(IdKind::imdb);
  EXPECT_FALSE(ids.has(IdKind::imdb));
  EXPECT_EQ(*ids.get(IdKind::trakt), "42");
  ids.erase(IdKind::slug);  // absent: nothing happens
  EXPECT_EQ(ids.size(), 2u);
}

TEST(PackedIds, GrowsPastTheInlineBufferAndCopiesAndMoves) {
  Ids ids;
  const std::string guid = "plex://movie/" + std::string(60, 'a');
  ids.set_normalised(IdKind::tmdb, "278");
  ids.set_normalised(IdKind::imdb, "tt0111161");
  ids.set_normalised(IdKind::guid, guid);  // beyond the inline bytes: on the heap
  ids.set_normalised(IdKind::slug, "the-shawshank-redemption");
  EXPECT_EQ(*ids.get(IdKind::guid), guid);
  EXPECT_EQ(*ids.get(IdKind::tmdb), "278");

  Ids copy = ids;
  EXPECT_EQ(copy, ids);
  copy.set_normalised(IdKind::tmdb, "1");
  EXPECT_NE(copy, ids);  // deep copy
  EXPECT_EQ(*ids.get(IdKind::tmdb), "278");

  Ids moved = std::move(copy);
  EXPECT_EQ(*moved.get(IdKind::tmdb), "1");
  EXPECT_EQ(*moved.get(IdKind::guid), guid);
  copy = moved;  // the moved-from object is usable again
  EXPECT_EQ(copy, moved);

  Ids small;
  small.set_normalised(IdKind::tmdb, "5");
  moved = small;  // heap to inline contents
  EXPECT_EQ(listed(moved), listed(small));
  moved = std::move(ids);
  EXPECT_EQ(*moved.get(IdKind::guid), guid);
}

TEST(PackedIds, RejectsOverlongValues) {
  Ids ids;
  EXPECT_FALSE(ids.set(IdKind::slug, std::string(Ids::k_max_value + 1, 'x')));
  ids.set_normalised(IdKind::slug, std::string(Ids::k_max_value + 1, 'x'));
  EXPECT_TRUE(ids.empty());
  EXPECT_TRUE(ids.set(IdKind::slug, std::string(Ids::k_max_value, 'x')));
  EXPECT_EQ(ids.get(IdKind::slug)->size(), Ids::k_max_value);
}

TEST(PackedIds, MergeAndIntersect) {
  Ids a, b;
  a.set_normalised(IdKind::tmdb, "1");
  a.set_normalised(IdKind::jellyfin, "x");
  b.set_normalised(IdKind::imdb, "tt2");
  b.set_normalised(IdKind::jellyfin, "x");
  EXPECT_FALSE(a.intersects(b));  // server-local ids never match
  b.set_normalised(IdKind::tmdb, "1");
  EXPECT_TRUE(a.intersects(b));
  a.merge_from(b);
  EXPECT_EQ(a.size(), 3u);
  a.merge_from(a);
  EXPECT_EQ(a.size(), 3u);
}

TEST(PackedOptional, BehavesLikeStdOptional) {
  PackedOptional<std::int64_t> t;
  EXPECT_FALSE(t);
  EXPECT_EQ(t, std::nullopt);
  EXPECT_EQ(t.value_or(7), 7);
  EXPECT_THROW((void)t.value(), std::bad_optional_access);
  t = 0;  // zero is a value
  EXPECT_TRUE(t.has_value());
  EXPECT_EQ(t, 0);
  t = std::optional<std::int64_t>(5);
  EXPECT_EQ(*t, 5);
  std::optional<std::int64_t> back = t;
  EXPECT_EQ(back, 5);
  t = std::optional<std::int64_t>();
  EXPECT_FALSE(t);
  // Ordering as std::optional: empty sorts first.
  EXPECT_LT(PackedOptional<std::int64_t>(), PackedOptional<std::int64_t>(-5));
  EXPECT_LT(PackedOptional<std::int64_t>(1), PackedOptional<std::int64_t>(2));

  PackedOptional<double> r;
  EXPECT_FALSE(r);
  r = 7.5;
  EXPECT_EQ(r, 7.5);
  r.reset();
  EXPECT_FALSE(r);
  EXPECT_EQ(r, PackedOptional<double>());
}

TEST(Index, FindKeyAfterChanges) {
  Index idx;
  for (int i = 0; i < 50; ++i) {
    Item it;
    it.ids.set_normalised(IdKind::tmdb, std::to_string(i));
    idx.add(it);
  }
  ASSERT_TRUE(idx.find_key("movie:tmdb:7"));
  EXPECT_EQ(idx.entries()[*idx.find_key("movie:tmdb:7")].key, "movie:tmdb:7");
  EXPECT_FALSE(idx.find_key("movie:tmdb:50"));
  EXPECT_FALSE(idx.find_key("show:tmdb:7"));
  idx.erase(*idx.find_key("movie:tmdb:7"));
  EXPECT_FALSE(idx.find_key("movie:tmdb:7"));
  ASSERT_TRUE(idx.find_key("movie:tmdb:49"));  // moved into the hole
  EXPECT_EQ(idx.entries()[*idx.find_key("movie:tmdb:49")].key, "movie:tmdb:49");
}

}  // namespace
}  // namespace cw::engine
