// The engine's capabilities come from the validated manifest (plugin::parse_manifest, the
// one manifest parser) with the defaults ABI.md states, then from the health reply's
// run-time capabilities (ABI 1.1).
#include <gtest/gtest.h>

#include <cw/plugin/manifest.hpp>
#include <cw/sync/capabilities.hpp>

using cw::engine::Feature;
using cw::engine::ItemKind;
using cw::sync::feature_caps;
using nlohmann::json;

namespace {

cw::plugin::Manifest manifest(const json& features) {
  const json m = {{"name", "m"},
                  {"version", "1.0.0"},
                  {"features", features},
                  {"capabilities", {{"auth", "none"}}},
                  {"config", {{"type", "object"}}}};
  auto parsed = cw::plugin::parse_manifest(m.dump());
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.error().message;
    return {};
  }
  return parsed.value();
}

// Only what the schema requires: every optional member takes its ABI.md default.
const json k_minimal = {
    {"types", {"movie"}}, {"index_semantics", "present"}, {"add", true}, {"remove", true}};

}  // namespace

TEST(FeatureCaps, EveryDefaultIsTheOneAbiMdStates) {
  const auto m = manifest({{"history", k_minimal}, {"watchlist", k_minimal}});
  for (const Feature f : {Feature::history, Feature::watchlist}) {
    const auto c = feature_caps(m, f);
    EXPECT_TRUE(c.supported);
    EXPECT_TRUE(c.add);
    EXPECT_TRUE(c.remove);
    EXPECT_FALSE(c.update);             // features.*.update: no (false)
    EXPECT_FALSE(c.observes_deletes);   // features.*.observes_deletes: no (false)
    EXPECT_FALSE(c.writes_watch_date);  // features.history.writes_watch_date: no (false)
    EXPECT_FALSE(c.rewatches);          // features.history.rewatches: no (false)
    EXPECT_EQ(c.chunk_size, 100U);      // features.*.chunk_size: no (100)
    EXPECT_FALSE(c.has_rating_scale);   // rating_scale: no (items keep 0-10 as they are)
    EXPECT_EQ(c.semantics, cw::engine::Semantics::present);
    EXPECT_TRUE(c.takes(ItemKind::movie));
    EXPECT_FALSE(c.takes(ItemKind::show));
    EXPECT_FALSE(c.takes(ItemKind::episode));
  }
}

TEST(FeatureCaps, RatingsStoreRatedAtOnlyWhenDeclared) {
  // features.ratings.stores_rated_at: no (false).
  EXPECT_FALSE(feature_caps(manifest({{"ratings", k_minimal}}), Feature::ratings).stores_rated_at);
  json f = k_minimal;
  f["stores_rated_at"] = true;
  EXPECT_TRUE(feature_caps(manifest({{"ratings", f}}), Feature::ratings).stores_rated_at);
  // Only ratings have it: the schema refuses it on another feature.
  const json m = {{"name", "m"},
                  {"version", "1.0.0"},
                  {"features", {{"history", f}}},
                  {"capabilities", {{"auth", "none"}}},
                  {"config", {{"type", "object"}}}};
  EXPECT_FALSE(cw::plugin::parse_manifest(m.dump()).ok());
}

TEST(FeatureCaps, AFeatureTheManifestDoesNotDeclareIsUnsupported) {
  const auto c = feature_caps(manifest({{"history", k_minimal}}), Feature::ratings);
  EXPECT_FALSE(c.supported);
  EXPECT_FALSE(c.add);
  EXPECT_FALSE(c.remove);
  EXPECT_FALSE(c.takes(ItemKind::movie));
}

TEST(FeatureCaps, DeclaredValuesAreRead) {
  json f = k_minimal;
  f["types"] = {"movie", "show", "episode"};
  f["index_semantics"] = "delta";
  f["update"] = true;
  f["observes_deletes"] = true;
  f["chunk_size"] = 7;
  json history = f;
  history["writes_watch_date"] = true;
  history["rewatches"] = true;
  f["rating_scale"] = {{"min", 0}, {"max", 100}, {"step", 1}};
  const auto m = manifest({{"ratings", f}, {"history", history}});
  const auto h = feature_caps(m, Feature::history);
  EXPECT_TRUE(h.writes_watch_date);
  EXPECT_TRUE(h.rewatches);
  EXPECT_FALSE(h.has_rating_scale);
  const auto c = feature_caps(m, Feature::ratings);
  EXPECT_TRUE(c.update);
  EXPECT_TRUE(c.observes_deletes);
  EXPECT_EQ(c.chunk_size, 7U);
  EXPECT_EQ(c.semantics, cw::engine::Semantics::delta);
  EXPECT_TRUE(c.takes(ItemKind::show));
  EXPECT_FALSE(c.takes(ItemKind::season));
  ASSERT_TRUE(c.has_rating_scale);
  EXPECT_EQ(c.rating_max, 100);
}

TEST(FeatureCaps, HealthCapabilitiesOverrideTheScaleForTheRun) {
  json f = k_minimal;
  f["rating_scale"] = {{"min", 1}, {"max", 10}, {"step", 1}};
  const auto m = manifest({{"ratings", f}});
  const json health = {{"ratings", {{"rating_scale", {{"min", 1}, {"max", 3}, {"step", 1}}}}}};
  const auto c = feature_caps(m, Feature::ratings, health);
  EXPECT_EQ(c.rating_max, 3);
  // An unusable run-time scale is ignored, not trusted.
  const json bad = {{"ratings", {{"rating_scale", {{"min", 5}, {"max", 1}}}}}};
  EXPECT_EQ(feature_caps(m, Feature::ratings, bad).rating_max, 10);
}
