#include <gtest/gtest.h>

#include "helpers.hpp"

namespace cw::engine {
namespace {

using namespace cw::engine::test;
using nlohmann::json;

TEST(SnapshotResponse, ParsesItemsAndCompleteness) {
  auto resp = json::parse(R"({"items":[{"type":"movie","ids":{"imdb":"tt1"}},
     {"type":"movie","ids":{"imdb":"tt1","tmdb":"5"}},{"type":"bogus"}],
     "complete":true,"expected_total":3,"received":3,"watermark":"w1","semantics":"present"})");
  auto s = snapshot_from_response("plex", Feature::watchlist, resp, caps());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->index.size(), 1u);  // the two rows are one movie
  // The unreadable row is left out and reported, and its absence proves nothing: the
  // index is not complete (no deletion can be inferred from it).
  EXPECT_EQ(s->warnings.size(), 2u);
  EXPECT_FALSE(s->completeness.complete);
  EXPECT_EQ(s->completeness.watermark, "w1");
}

TEST(SnapshotResponse, FewerThanExpectedIsIncomplete) {
  auto resp = json::parse(R"({"items":[],"complete":true,"expected_total":10,"received":4})");
  auto s = snapshot_from_response("plex", Feature::watchlist, resp, caps());
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->completeness.complete);
}

TEST(SnapshotResponse, RejectsMalformedDocuments) {
  EXPECT_FALSE(snapshot_from_response("x", Feature::watchlist, json::array(), caps()).ok());
  EXPECT_FALSE(snapshot_from_response("x", Feature::watchlist, json::object(), caps()).ok());
  auto bad = snapshot_from_response("x", Feature::watchlist,
                                    json::parse(R"({"items":[],"semantics":"full"})"), caps());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("semantics"), std::string::npos);
}

TEST(SnapshotResponse, SemanticsDefaultsToManifest) {
  FeatureCaps c = caps();
  c.semantics = Semantics::delta;
  auto s = snapshot_from_response("simkl", Feature::history, json::parse(R"({"items":[]})"), c);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->completeness.semantics, Semantics::delta);
}

TEST(Fingerprint, StableAcrossOrderSensitiveToContent) {
  auto a = snap("x", Feature::ratings, {rated(movie("tt1"), 8), rated(movie("tt2"), 6)});
  auto b = snap("x", Feature::ratings, {rated(movie("tt2"), 6), rated(movie("tt1"), 8)});
  auto c = snap("x", Feature::ratings, {rated(movie("tt2"), 7), rated(movie("tt1"), 8)});
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  EXPECT_NE(fingerprint(a), fingerprint(c));
  EXPECT_EQ(fingerprint(a).size(), 16u);
  auto h1 = snap("x", Feature::history, {watched(movie("tt1"), 100)});
  auto h2 = snap("x", Feature::history, {watched(movie("tt1"), 100), watched(movie("tt1"), 200)});
  EXPECT_NE(fingerprint(h1), fingerprint(h2));
}

TEST(Snapshot, ApplyMappingsReplacesMatchableIdsAndKeepsServerLocalOnes) {
  Item bare;
  bare.kind = ItemKind::movie;
  bare.title = "Solaris";
  bare.year = 2002;
  bare.ids.set(IdKind::jellyfin, "abc");
  Item other;
  other.kind = ItemKind::movie;
  other.title = "Other";
  other.ids.set(IdKind::tmdb, "5");
  Snapshot s = make_snapshot("src", Feature::watchlist, {bare, other});
  Ids to;
  to.set(IdKind::imdb, "tt0307479");
  EXPECT_EQ(apply_mappings(s, {{"movie|unknown", to}}), 0u);
  EXPECT_EQ(apply_mappings(s, {{canonical_key(bare), to}}), 1u);
  ASSERT_EQ(s.index.size(), 2u);
  const auto pos = s.index.find_key("movie:imdb:tt0307479");
  ASSERT_TRUE(pos);
  EXPECT_EQ(s.index.entries()[*pos].item.ids.get(IdKind::jellyfin), "abc");
}

}  // namespace
}  // namespace cw::engine
