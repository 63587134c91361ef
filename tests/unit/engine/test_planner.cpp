#include <gtest/gtest.h>

#include "helpers.hpp"

namespace cw::engine {
namespace {

using namespace cw::engine::test;

constexpr Instant k_now = 1'700'000'000;
const Feature W = Feature::watchlist;

FeaturePlan run(const PairPolicy& p, Feature f, const Snapshot& s, const Snapshot& t,
                const PriorState& prior = {}) {
  return plan_feature(p, f, s, t, prior, k_now);
}

// ---- one-way presence (R3.1, R3.2)

TEST(OneWay, AddsWhatTheTargetLacks) {
  auto plan = run(pair(W), W, snap("src", W, {movie("tt1"), movie("tt2", "2")}),
                  snap("dst", W, {movie("", "2")}));
  auto adds = actions(plan, ActionKind::add, Side::target);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->key, "movie:imdb:tt1");
  EXPECT_EQ(adds[0]->reason, ActionReason::missing_on_target);
  EXPECT_TRUE(actions(plan, ActionKind::add, Side::source).empty());
  EXPECT_FALSE(plan.skipped);
}

TEST(OneWay, AddDisabledPlansNoAdds) {
  auto plan =
      run(pair(W, PairMode::one_way, false), W, snap("src", W, {movie("tt1")}), snap("dst", W, {}));
  EXPECT_TRUE(plan.actions.empty());
}

TEST(OneWay, AddsCarryNoProviderPrivateData) {
  Item m = movie("tt1");
  m.extra = nlohmann::json{{"ratingKey", "5"}};
  auto plan = run(pair(W), W, snap("src", W, {m}), snap("dst", W, {}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_TRUE(plan.actions[0].item.extra.is_null());
}

TEST(OneWaySourceDeletes, NothingRemovedWithoutSourceBaseline) {
  auto plan = run(pair(W), W, snap("src", W, {}), snap("dst", W, {movie("tt1")}));
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.held.empty());
}

TEST(OneWaySourceDeletes, RemovesWhatLeftTheSource) {
  auto plan = run(pair(W), W, snap("src", W, {movie("tt2")}),
                  snap("dst", W, {movie("tt1", "1"), movie("tt2"), movie("tt3")}),
                  prior(std::vector<Item>{movie("tt1"), movie("tt2")}, std::nullopt));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->key, "movie:tmdb:1");  // the target's own row
  EXPECT_EQ(rem[0]->cause_key, "movie:imdb:tt1");
  EXPECT_EQ(rem[0]->reason, ActionReason::deleted_on_source);
}

TEST(OneWaySourceDeletes, RemoveDisabledPropagatesNothingButSaysSo) {
  auto plan =
      run(pair(W, PairMode::one_way, true, false), W, snap("src", W, {}),
          snap("dst", W, {movie("tt1")}), prior(std::vector<Item>{movie("tt1")}, std::nullopt));
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_FALSE(plan.notes.empty());
}

TEST(OneWayMirror, NeverRemovesWithoutTargetBaseline) {
  auto p = pair(W);
  p.features[W].removal = RemovalMode::mirror;
  auto plan =
      run(p, W, snap("src", W, {movie("tt1")}), snap("dst", W, {movie("tt1"), movie("tt2")}));
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
  EXPECT_FALSE(plan.notes.empty());
}

TEST(OneWayMirror, RemovesTargetItemsAbsentFromSource) {
  auto p = pair(W);
  p.features[W].removal = RemovalMode::mirror;
  auto plan = run(p, W, snap("src", W, {movie("tt1")}),
                  snap("dst", W, {movie("tt1"), movie("tt2"), movie("tt3")}),
                  prior(std::nullopt, std::vector<Item>{movie("tt1"), movie("tt2")}));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);  // tt3 is new on the target since its baseline
  EXPECT_EQ(rem[0]->key, "movie:imdb:tt2");
  EXPECT_EQ(rem[0]->reason, ActionReason::not_on_source);
}

// R3.2 Fix: ratings mirror does not strip ratings on the first run.
TEST(OneWayMirror, RatingsFirstRunRemovesNothing) {
  auto p = pair(Feature::ratings);
  p.features[Feature::ratings].removal = RemovalMode::mirror;
  auto plan = run(p, Feature::ratings, snap("src", Feature::ratings, {}),
                  snap("dst", Feature::ratings, {rated(movie("tt1"), 7)}));
  EXPECT_TRUE(plan.actions.empty());
}

TEST(OneWayMirror, DeltaSourceProvesNothing) {
  auto p = pair(W);
  p.features[W].removal = RemovalMode::mirror;
  auto plan =
      run(p, W, snap("src", W, {}, caps(), Health::ok, true, Semantics::delta),
          snap("dst", W, {movie("tt2")}), prior(std::nullopt, std::vector<Item>{movie("tt2")}));
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
}

// ---- R4.3: who may cause deletions

TEST(Deletions, DeltaSourceNeverCausesDeletions) {
  auto plan =
      run(pair(W), W, snap("src", W, {}, caps(), Health::ok, true, Semantics::delta),
          snap("dst", W, {movie("tt1")}), prior(std::vector<Item>{movie("tt1")}, std::nullopt));
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
  EXPECT_TRUE(plan.held.empty());
}

TEST(Deletions, DeltaSourceStillRetriesBaselineAdds) {
  auto plan = run(pair(W), W, snap("src", W, {}, caps(), Health::ok, true, Semantics::delta),
                  snap("dst", W, {}), prior(std::vector<Item>{movie("tt1")}, std::nullopt));
  EXPECT_EQ(actions(plan, ActionKind::add, Side::target).size(), 1u);
}

TEST(Deletions, UnobservableDeletesAreNotInferred) {
  FeatureCaps c = caps();
  c.observes_deletes = false;
  auto plan = run(pair(W), W, snap("src", W, {}, c), snap("dst", W, {movie("tt1")}),
                  prior(std::vector<Item>{movie("tt1")}, std::nullopt));
  EXPECT_TRUE(plan.actions.empty());
}

TEST(Deletions, IncludeObservedDeletesOffDisablesInference) {
  auto p = pair(W);
  p.features[W].include_observed_deletes = false;
  auto plan = run(p, W, snap("src", W, {}), snap("dst", W, {movie("tt1")}),
                  prior(std::vector<Item>{movie("tt1")}, std::nullopt));
  EXPECT_TRUE(plan.actions.empty());
}

// ---- R5.1 drop guard

TEST(DropGuard, ShrunkSnapshotHoldsItsDeletions) {
  auto base = many_movies(30);
  auto plan = run(pair(W), W, snap("src", W, many_movies(3)), snap("dst", W, many_movies(30)),
                  prior(base, std::nullopt));
  EXPECT_TRUE(plan.source.suspect);
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
  auto h = held(plan, HoldReason::drop_guard);
  EXPECT_EQ(h.size(), 27u);
  EXPECT_EQ(h[0]->first_seen, k_now);
}

// R5.1 Fix: a watermark (activity checkpoint) does not make a shrunk snapshot trusted.
TEST(DropGuard, WatermarkDoesNotExemptTheGuard) {
  Completeness c;
  c.watermark = "2024-01-02T03:04:05Z";
  auto plan = run(pair(W), W, make_snapshot("src", W, many_movies(1), c, caps()),
                  snap("dst", W, many_movies(30)), prior(many_movies(30), std::nullopt));
  EXPECT_TRUE(plan.source.suspect);
  EXPECT_EQ(held(plan, HoldReason::drop_guard).size(), 29u);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(DropGuard, IncompleteSnapshotIsSuspectEvenWithoutShrink) {
  auto plan = run(pair(W), W, snap("src", W, many_movies(29), caps(), Health::ok, false),
                  snap("dst", W, many_movies(30)), prior(many_movies(30), std::nullopt));
  EXPECT_TRUE(plan.source.suspect);
  EXPECT_EQ(held(plan, HoldReason::drop_guard).size(), 1u);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(DropGuard, SmallBaselineIsTrusted) {
  auto plan = run(pair(W), W, snap("src", W, {}), snap("dst", W, many_movies(5)),
                  prior(many_movies(5), std::nullopt));
  EXPECT_FALSE(plan.source.suspect);
  EXPECT_EQ(actions(plan, ActionKind::remove, Side::target).size(), 5u);
}

TEST(DropGuard, OffMeansShrinkIsTrustedButMassDeleteStillHolds) {
  auto p = pair(W);
  p.guards.drop_guard = false;
  auto plan = run(p, W, snap("src", W, many_movies(3)), snap("dst", W, many_movies(30)),
                  prior(many_movies(30), std::nullopt));
  EXPECT_FALSE(plan.source.suspect);
  EXPECT_EQ(held(plan, HoldReason::mass_delete).size(), 27u);
}

// ---- R5.2 mass-delete cap

TEST(MassDelete, OverTheCapHoldsAllRemovals) {
  // Target baseline 100: limit max(5, 10) = 10.
  auto p = pair(W);
  auto src = many_movies(89);
  auto plan = run(p, W, snap("src", W, src), snap("dst", W, many_movies(100)),
                  prior(many_movies(100), many_movies(100)));
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
  EXPECT_EQ(held(plan, HoldReason::mass_delete).size(), 11u);
  EXPECT_NE(held(plan, HoldReason::mass_delete)[0]->detail.find("limit 10"), std::string::npos);
}

TEST(MassDelete, AtTheCapPasses) {
  auto plan = run(pair(W), W, snap("src", W, many_movies(90)), snap("dst", W, many_movies(100)),
                  prior(many_movies(100), many_movies(100)));
  EXPECT_EQ(actions(plan, ActionKind::remove, Side::target).size(), 10u);
  EXPECT_TRUE(plan.held.empty());
}

TEST(MassDelete, MinimumCountAppliesToSmallLibraries) {
  auto ok = run(pair(W), W, snap("src", W, many_movies(15)), snap("dst", W, many_movies(20)),
                prior(many_movies(20), many_movies(20)));
  EXPECT_EQ(actions(ok, ActionKind::remove, Side::target).size(), 5u);
  auto capped = run(pair(W), W, snap("src", W, many_movies(14)), snap("dst", W, many_movies(20)),
                    prior(many_movies(20), many_movies(20)));
  EXPECT_EQ(held(capped, HoldReason::mass_delete).size(), 6u);
}

// ---- R5.3 pending deletions

PriorState with_pending(PriorState p, std::vector<PendingDeletion> pending) {
  p.pending = std::move(pending);
  return p;
}

TEST(Pending, HeldKeepsItsFirstSeenTime) {
  PendingDeletion pd{Side::target, "movie:imdb:tt1000000", "mass_delete", k_now - 100, false, {}};
  auto plan = run(pair(W), W, snap("src", W, many_movies(80, 20)), snap("dst", W, many_movies(100)),
                  with_pending(prior(many_movies(100), many_movies(100)), {pd}));
  auto h = held(plan, HoldReason::mass_delete);
  ASSERT_EQ(h.size(), 20u);
  for (const auto* x : h) {
    if (x->action.key == pd.key)
      EXPECT_EQ(x->first_seen, k_now - 100);
    else
      EXPECT_EQ(x->first_seen, k_now);
  }
}

TEST(Pending, ApprovedIsReleasedPastTheCap) {
  PendingDeletion pd{Side::target, "movie:imdb:tt1000000", "mass_delete", k_now - 100, true, {}};
  auto plan = run(pair(W), W, snap("src", W, many_movies(80, 20)), snap("dst", W, many_movies(100)),
                  with_pending(prior(many_movies(100), many_movies(100)), {pd}));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->reason, ActionReason::approved);
  EXPECT_EQ(held(plan, HoldReason::mass_delete).size(), 19u);
}

TEST(Pending, ApprovalAlsoReleasesDropGuardHolds) {
  PendingDeletion pd{Side::target, "movie:imdb:tt1000005", "drop_guard", k_now - 10, true, {}};
  auto plan = run(pair(W), W, snap("src", W, many_movies(2)), snap("dst", W, many_movies(30)),
                  with_pending(prior(many_movies(30), std::nullopt), {pd}));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->key, pd.key);
}

TEST(Pending, ExpiredIsDroppedNotHeld) {
  PendingDeletion pd{
      Side::target, "movie:imdb:tt1000000", "mass_delete", k_now - 31 * k_day_s, false, {}};
  auto plan = run(pair(W), W, snap("src", W, many_movies(80, 20)), snap("dst", W, many_movies(100)),
                  with_pending(prior(many_movies(100), many_movies(100)), {pd}));
  ASSERT_EQ(plan.expired_pending.size(), 1u);
  EXPECT_EQ(plan.expired_pending[0].key, pd.key);
  for (const auto& h : plan.held) EXPECT_NE(h.action.key, pd.key);
}

// ---- R5.4 blackbox

TEST(Blackbox, BlocksAddsForEveryFeatureIncludingWatchlist) {
  for (Feature f : {Feature::watchlist, Feature::ratings}) {
    PriorState pr;
    pr.blackbox.push_back(
        BlackboxEntry{Side::target, "movie:imdb:tt1", "x", k_now - 10, k_now + 100});
    auto plan = run(pair(f), f, snap("src", f, {rated(movie("tt1"), 7)}), snap("dst", f, {}), pr);
    EXPECT_TRUE(plan.actions.empty());
    EXPECT_EQ(held(plan, HoldReason::blackbox).size(), 1u) << to_string(f);
  }
}

TEST(Blackbox, ExpiredEntryNoLongerBlocks) {
  PriorState pr;
  pr.blackbox.push_back(BlackboxEntry{Side::target, "movie:imdb:tt1", "x", k_now - 100, k_now - 1});
  auto plan = run(pair(W), W, snap("src", W, {movie("tt1")}), snap("dst", W, {}), pr);
  EXPECT_EQ(plan.actions.size(), 1u);
}

// ---- R2.3 health

TEST(Health, AuthFailedSkipsWithCredentialHint) {
  auto plan = run(pair(W), W, snap("src", W, {movie("tt1")}),
                  snap("dst", W, {}, caps(), Health::auth_failed));
  EXPECT_TRUE(plan.skipped);
  EXPECT_NE(plan.skip_reason.find("cw auth login dst"), std::string::npos);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(Health, DownTargetIsNotComparedWith) {
  auto plan = run(pair(W), W, snap("src", W, {movie("tt1")}),
                  snap("dst", W, {}, caps(), Health::down, false),
                  prior(std::vector<Item>{movie("tt2"), movie("tt3")}, std::nullopt));
  EXPECT_TRUE(plan.actions.empty());
  // Its inventory was not read: no add is held for an item it may have, no removal planned.
  EXPECT_TRUE(plan.held.empty());
  EXPECT_EQ(plan.not_compared, 1u);
  EXPECT_EQ(plan.not_compared_reason, "target down");
  EXPECT_NE(render_text(plan).find("not compared (target down): 1 item of src"), std::string::npos)
      << render_text(plan);
  auto back = feature_plan_from_json(to_json(plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), plan);
}

TEST(Health, DownSourceSkipsOneWay) {
  auto plan =
      run(pair(W), W, snap("src", W, {}, caps(), Health::down), snap("dst", W, {movie("tt1")}),
          prior(std::vector<Item>{movie("tt1")}, std::nullopt));
  EXPECT_TRUE(plan.skipped);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(Health, UnsupportedOrDisabledFeatureIsSkipped) {
  FeatureCaps none;
  none.supported = false;
  EXPECT_TRUE(run(pair(W), W, snap("src", W, {}), snap("dst", W, {}, none)).skipped);
  EXPECT_TRUE(run(pair(Feature::ratings), W, snap("src", W, {}), snap("dst", W, {})).skipped);
}

// ---- history (R3.4, R3.5)

const Feature H = Feature::history;

TEST(HistoryPresence, DifferentDateAloneWritesNothing) {
  auto plan =
      run(pair(H), H, snap("src", H, {watched(movie("tt1"), 1000), watched(movie("tt2"), 5000)}),
          snap("dst", H, {watched(movie("tt1"), 999999)}));
  auto adds = actions(plan, ActionKind::add, Side::target);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->item.watched_at, 5000);
}

TEST(HistoryPresence, OneEntryPerItemWithLatestPlay) {
  auto plan =
      run(pair(H), H, snap("src", H, {watched(movie("tt1"), 1000), watched(movie("tt1"), 3000)}),
          snap("dst", H, {}));
  auto adds = actions(plan, ActionKind::add, Side::target);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->item.watched_at, 3000);
}

TEST(HistoryPresence, ItemsWithoutWatchDateAreNotPropagated) {
  auto plan = run(pair(H), H, snap("src", H, {movie("tt1")}), snap("dst", H, {}));
  EXPECT_TRUE(plan.actions.empty());
}

TEST(HistoryPresence, DateWillBeLostIsSaid) {
  auto plan = run(pair(H), H, snap("src", H, {watched(movie("tt1"), 1000)}),
                  snap("dst", H, {}, caps(false, false)));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_NE(plan.actions[0].note.find("date will be lost"), std::string::npos);
  bool noted = false;
  for (const auto& n : plan.notes) noted |= n.find("date will be lost") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(HistoryEvents, NeedsBothProvidersAndThePolicy) {
  auto p = pair(H);
  p.features[H].rewatches = true;
  auto plan = run(p, H, snap("src", H, {}, caps(true)), snap("dst", H, {}, caps(false)));
  EXPECT_FALSE(plan.event_mode);
  EXPECT_FALSE(plan.notes.empty());
  EXPECT_TRUE(run(p, H, snap("src", H, {}, caps(true)), snap("dst", H, {}, caps(true))).event_mode);
}

// R3.4 Fix: a symmetric ±60 s window, not a minute bucket.
TEST(HistoryEvents, PlaysMatchWithinSymmetricTolerance) {
  auto p = pair(H);
  p.features[H].rewatches = true;
  const Instant ten = 1'700'000'000 - 1'700'000'000 % 60 + 36000;  // a minute boundary
  auto src = snap("src", H,
                  {watched(movie("tt1"), ten + 59),    // matches ten+61 across the boundary
                   watched(movie("tt1"), ten + 5000),  // 61 s from the target's play: no match
                   watched(movie("tt1"), ten + 9000)},
                  caps(true));
  auto dst = snap("dst", H,
                  {watched(movie("tt1"), ten + 61), watched(movie("tt1"), ten + 5061),
                   watched(movie("tt1"), ten + 8940)},  // exactly 60 s before: matches
                  caps(true));
  auto plan = run(p, H, src, dst);
  ASSERT_TRUE(plan.event_mode);
  auto adds = actions(plan, ActionKind::add, Side::target);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->item.watched_at, ten + 5000);
  EXPECT_EQ(adds[0]->key, "movie:imdb:tt1@" + std::to_string(ten + 5000));
}

TEST(HistoryEvents, ToleranceIsConfigurable) {
  auto p = pair(H);
  p.features[H].rewatches = true;
  p.features[H].event_tolerance_s = 0;
  auto plan = run(p, H, snap("src", H, {watched(movie("tt1"), 1000)}, caps(true)),
                  snap("dst", H, {watched(movie("tt1"), 1001)}, caps(true)));
  EXPECT_EQ(actions(plan, ActionKind::add, Side::target).size(), 1u);
}

TEST(HistoryEvents, RemovedPlayRemovesTheMatchingTargetPlay) {
  auto p = pair(H);
  p.features[H].rewatches = true;
  auto plan =
      run(p, H, snap("src", H, {watched(movie("tt1"), 1000)}, caps(true)),
          snap("dst", H, {watched(movie("tt1"), 1010), watched(movie("tt1"), 5030)}, caps(true)),
          prior(std::vector<Item>{watched(movie("tt1"), 1000), watched(movie("tt1"), 5000)},
                std::nullopt, H));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->item.watched_at, 5030);
  EXPECT_EQ(rem[0]->cause_key, "movie:imdb:tt1@5000");
}

// ABI 1.1: each play may carry its own extra (the service's play id); removing one play
// sends that play's extra, not the entry's latest.
TEST(HistoryEvents, RemovingOnePlaySendsThatPlaysOwnExtra) {
  auto p = pair(H);
  p.features[H].rewatches = true;
  auto play = [](Instant t, int id) {
    Item it = watched(movie("tt1"), t);
    it.extra = nlohmann::json{{"history_id", id}};
    return it;
  };
  auto plan = run(p, H, snap("src", H, {watched(movie("tt1"), 1000)}, caps(true)),
                  snap("dst", H, {play(1010, 11), play(5030, 22), play(9000, 33)}, caps(true)),
                  prior(std::vector<Item>{watched(movie("tt1"), 1000), watched(movie("tt1"), 5000),
                                          watched(movie("tt1"), 9000)},
                        std::nullopt, H));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 2u);
  for (const auto* a : rem)
    EXPECT_EQ(a->item.extra["history_id"], *a->item.watched_at == 5030 ? 22 : 33);
}

TEST(HistoryEvents, TwoWayDeletedPlayIsRemovedNotAddedBack) {
  auto p = pair(H, PairMode::two_way);
  p.features[H].rewatches = true;
  auto base = std::vector<Item>{watched(movie("tt1"), 1000), watched(movie("tt1"), 5000)};
  auto plan = run(p, H, snap("src", H, {watched(movie("tt1"), 1000)}, caps(true)),
                  snap("dst", H, base, caps(true)), prior(base, base, H));
  EXPECT_TRUE(actions(plan, ActionKind::add, Side::source).empty());
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->item.watched_at, 5000);
  // A new play on the target goes to the source.
  auto plan2 = run(p, H, snap("src", H, base, caps(true)),
                   snap("dst", H, {base[0], base[1], watched(movie("tt1"), 9000)}, caps(true)),
                   prior(base, base, H));
  auto adds = actions(plan2, ActionKind::add, Side::source);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->item.watched_at, 9000);
}

// ---- ratings (R3.3, R4.4)

const Feature R = Feature::ratings;

TEST(Ratings, MissingIsAddedDifferingIsUpdated) {
  auto plan = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 8), rated(movie("tt2"), 6)}),
                  snap("dst", R, {rated(movie("tt2"), 9)}));
  ASSERT_EQ(actions(plan, ActionKind::add, Side::target).size(), 1u);
  auto up = actions(plan, ActionKind::update, Side::target);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]->item.rating, 6);
  EXPECT_EQ(up[0]->reason, ActionReason::rating_differs);
}

TEST(Ratings, ComparedOnTheCoarserScale) {
  EXPECT_TRUE(ratings_equal(7.5, 8, 0.5, 1));
  EXPECT_FALSE(ratings_equal(7.5, 8, 0.5, 0.5));
  EXPECT_TRUE(ratings_equal(7.4, 7, 0.5, 1));
  EXPECT_FALSE(ratings_equal(7, 8, 1, 1));
  // TMDb halves against Trakt integers: no flip-flop in either direction.
  auto fwd = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 7.5)}, caps(false, true, 0.5)),
                 snap("dst", R, {rated(movie("tt1"), 8)}, caps(false, true, 1)));
  EXPECT_TRUE(fwd.actions.empty());
  auto back = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 8)}, caps(false, true, 1)),
                  snap("dst", R, {rated(movie("tt1"), 7.5)}, caps(false, true, 0.5)));
  EXPECT_TRUE(back.actions.empty());
}

FeatureCaps scaled(double min, double max, double step) {
  FeatureCaps c = caps();
  c.has_rating_scale = true;
  c.rating_min = min;
  c.rating_max = max;
  c.rating_step = step;
  return c;
}

// SDK 1.1: the host converts to the target's declared scale exactly and never sends a
// value outside it; what the target reads back then equals the plan (no flip-flop).
TEST(Ratings, WrittenOnTheTargetsScale) {
  const auto trakt = scaled(1, 10, 1);
  auto plan = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 7.5), rated(movie("tt2"), 0.2)}),
                  snap("dst", R, {}, trakt));
  ASSERT_EQ(plan.actions.size(), 2U);
  for (const auto& a : plan.actions) {
    ASSERT_TRUE(a.item.rating);
    EXPECT_DOUBLE_EQ(*a.item.rating, *a.item.ids.get(IdKind::imdb) == "tt1" ? 8.0 : 1.0);
  }
  const auto mdblist = scaled(0, 100, 1);
  plan = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 7.34)}), snap("dst", R, {}, mdblist));
  ASSERT_EQ(plan.actions.size(), 1U);
  EXPECT_DOUBLE_EQ(*plan.actions[0].item.rating, 7.3);
  // Read back as 7.3 next run: equal on the target's scale, nothing to do.
  plan = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 7.34)}),
             snap("dst", R, {rated(movie("tt1"), 7.3)}, mdblist));
  EXPECT_TRUE(plan.actions.empty());
  // AniList POINT_3: 6.667 and 7 are the same stored value.
  plan = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 7)}),
             snap("dst", R, {rated(movie("tt1"), 20.0 / 3)}, scaled(1, 3, 1)));
  EXPECT_TRUE(plan.actions.empty());
}

TEST(Ratings, ATargetNeverReceivesTypesItDoesNotList) {
  FeatureCaps movies_only = caps();
  movies_only.types = 1U << static_cast<int>(ItemKind::movie);
  Item show = rated(movie("tt9"), 8);
  show.kind = ItemKind::show;
  auto plan = run(pair(R), R, snap("src", R, {rated(movie("tt1"), 7), show}),
                  snap("dst", R, {}, movies_only));
  ASSERT_EQ(plan.actions.size(), 1U);
  EXPECT_EQ(plan.actions[0].item.kind, ItemKind::movie);
  ASSERT_EQ(plan.held.size(), 1U);
  EXPECT_EQ(plan.held[0].hold, HoldReason::unsupported);
  EXPECT_NE(plan.held[0].detail.find("does not take show items"), std::string::npos)
      << plan.held[0].detail;
}

TEST(Ratings, UpdatesDisabledLeavesDifferencesWithANote) {
  auto plan =
      run(pair(R, PairMode::one_way, true, false, false), R,
          snap("src", R, {rated(movie("tt1"), 8)}), snap("dst", R, {rated(movie("tt1"), 3)}));
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_FALSE(plan.notes.empty());
}

TEST(Ratings, TwoWayNewerRatedAtWins) {
  auto p = pair(R, PairMode::two_way);
  auto plan = run(p, R, snap("src", R, {rated(movie("tt1"), 8, 100)}),
                  snap("dst", R, {rated(movie("tt1"), 5, 200)}));
  auto up = actions(plan, ActionKind::update, Side::source);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]->item.rating, 5);
  EXPECT_EQ(up[0]->reason, ActionReason::rating_newer);
  EXPECT_TRUE(actions(plan, ActionKind::update, Side::target).empty());
}

TEST(Ratings, TwoWayWithoutDatesSourceOfTruthWins) {
  auto p = pair(R, PairMode::two_way);
  auto plan =
      run(p, R, snap("src", R, {rated(movie("tt1"), 8)}), snap("dst", R, {rated(movie("tt1"), 5)}));
  ASSERT_EQ(actions(plan, ActionKind::update, Side::target).size(), 1u);
  EXPECT_EQ(plan.actions[0].reason, ActionReason::rating_preferred);
  p.source_of_truth = "dst";
  auto plan2 =
      run(p, R, snap("src", R, {rated(movie("tt1"), 8)}), snap("dst", R, {rated(movie("tt1"), 5)}));
  ASSERT_EQ(actions(plan2, ActionKind::update, Side::source).size(), 1u);
}

// ---- progress

const Feature P = Feature::progress;

Item prog(Item it, std::int64_t ms, std::int64_t dur = 6'000'000, std::optional<Instant> at = {}) {
  it.progress_ms = ms;
  it.duration_ms = dur;
  it.progress_at = at;
  return it;
}

TEST(Progress, AheadIsSentBehindIsNot) {
  auto plan = run(
      pair(P), P,
      snap("src", P,
           {prog(movie("tt1"), 600'000), prog(movie("tt2"), 100'000), prog(movie("tt3"), 500'000)}),
      snap(
          "dst", P,
          {prog(movie("tt1"), 300'000), prog(movie("tt2"), 900'000), prog(movie("tt3"), 490'000)}));
  auto up = actions(plan, ActionKind::update, Side::target);
  ASSERT_EQ(up.size(), 1u);  // tt3 differs by less than 30 s
  EXPECT_EQ(up[0]->item.progress_ms, 600'000);
  EXPECT_EQ(up[0]->reason, ActionReason::progress_ahead);
}

TEST(Progress, BehindWithNewerTimestampIsSent) {
  auto plan = run(pair(P), P, snap("src", P, {prog(movie("tt1"), 100'000, 6'000'000, 2000)}),
                  snap("dst", P, {prog(movie("tt1"), 900'000, 6'000'000, 1000)}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].reason, ActionReason::progress_newer);
}

TEST(Progress, NeverRegressesAFinishedItem) {
  auto plan = run(pair(P), P, snap("src", P, {prog(movie("tt1"), 100'000, 6'000'000, 2000)}),
                  snap("dst", P, {prog(movie("tt1"), 5'900'000, 6'000'000, 1000)}));
  EXPECT_TRUE(plan.actions.empty());
}

TEST(Progress, MissingIsAddedFinishedSourceIsLeftToHistory) {
  auto plan =
      run(pair(P), P, snap("src", P, {prog(movie("tt1"), 100'000), prog(movie("tt2"), 5'950'000)}),
          snap("dst", P, {}));
  auto adds = actions(plan, ActionKind::add, Side::target);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->key, "movie:imdb:tt1");
}

Item percent(Item it, double pct) {
  it.progress_bp = static_cast<std::int16_t>(pct * 100);
  return it;
}

// ABI 1.1: a service that stores only a percentage (progress_percent).
TEST(Progress, PercentOnlySidesCompareAsFractionsAndGetBothForms) {
  // Source in ms (10 of 100 minutes), target only 5 %: ahead, sent with both forms.
  auto plan = run(pair(P), P, snap("src", P, {prog(movie("tt1"), 600'000)}),
                  snap("dst", P, {percent(movie("tt1"), 5)}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].item.progress_ms, 600'000);
  EXPECT_EQ(plan.actions[0].item.progress_bp, 1000);  // 10 %
  // Within one percent: nothing to do.
  plan = run(pair(P), P, snap("src", P, {prog(movie("tt1"), 600'000)}),
             snap("dst", P, {percent(movie("tt1"), 9.5)}));
  EXPECT_TRUE(plan.actions.empty());
  // A percentage-only source reaches a milliseconds target through the target's duration.
  plan = run(pair(P), P, snap("src", P, {percent(movie("tt1"), 50)}),
             snap("dst", P, {prog(movie("tt1"), 600'000)}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].item.progress_ms, 3'000'000);
  // 96 % is finished: left to history, never sent as progress.
  plan = run(pair(P), P, snap("src", P, {percent(movie("tt1"), 96)}), snap("dst", P, {}));
  EXPECT_TRUE(plan.actions.empty());
}

// ---- two-way (R4.1–R4.5)

PairPolicy two(Feature f = W, bool remove = true) {
  return pair(f, PairMode::two_way, true, remove);
}

TEST(TwoWay, FirstRunIsAUnion) {
  auto plan = run(two(), W, snap("src", W, {movie("tt1"), movie("tt2")}),
                  snap("dst", W, {movie("tt2"), movie("tt3")}));
  EXPECT_EQ(actions(plan, ActionKind::add, Side::target).size(), 1u);
  EXPECT_EQ(actions(plan, ActionKind::add, Side::source).size(), 1u);
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::source).empty());
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
}

TEST(TwoWay, ObservedDeletionPropagates) {
  auto base = std::vector<Item>{movie("tt1"), movie("tt2")};
  auto plan = run(two(), W, snap("src", W, {movie("tt2")}),
                  snap("dst", W, {movie("tt1"), movie("tt2")}), prior(base, base));
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->key, "movie:imdb:tt1");
  EXPECT_TRUE(actions(plan, ActionKind::add, Side::source).empty());
  // And the other direction.
  auto plan2 = run(two(), W, snap("src", W, {movie("tt1"), movie("tt2")}),
                   snap("dst", W, {movie("tt1")}), prior(base, base));
  EXPECT_EQ(actions(plan2, ActionKind::remove, Side::source).size(), 1u);
}

TEST(TwoWay, NewItemBeatsOlderTombstone) {
  PriorState pr = prior(std::vector<Item>{}, std::vector<Item>{});
  pr.tombstones.push_back(Tombstone{"movie:imdb:tt1", movie("tt1"), k_now - 100, k_now + 1000});
  auto plan = run(two(), W, snap("src", W, {}), snap("dst", W, {movie("tt1")}), pr);
  EXPECT_EQ(actions(plan, ActionKind::add, Side::source).size(), 1u);
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
}

TEST(TwoWay, TombstoneRemovesAStaleCopy) {
  PriorState pr = prior(std::vector<Item>{}, std::vector<Item>{movie("tt1")});
  pr.tombstones.push_back(Tombstone{"movie:imdb:tt1", movie("tt1"), k_now - 100, k_now + 1000});
  auto plan = run(two(), W, snap("src", W, {}), snap("dst", W, {movie("tt1")}), pr);
  auto rem = actions(plan, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->reason, ActionReason::tombstoned);
  // Expired tombstone: the copy is added back instead.
  pr.tombstones[0].expires_at = k_now - 1;
  auto plan2 = run(two(), W, snap("src", W, {}), snap("dst", W, {movie("tt1")}), pr);
  EXPECT_EQ(actions(plan2, ActionKind::add, Side::source).size(), 1u);
}

TEST(TwoWay, HistoryPlayNewerThanTombstoneRevives) {
  PriorState pr =
      prior(std::vector<Item>{}, std::vector<Item>{watched(movie("tt1"), k_now - 10)}, H);
  pr.tombstones.push_back(Tombstone{"movie:imdb:tt1", movie("tt1"), k_now - 100, k_now + 1000});
  auto plan =
      run(two(H), H, snap("src", H, {}), snap("dst", H, {watched(movie("tt1"), k_now - 10)}), pr);
  EXPECT_EQ(actions(plan, ActionKind::add, Side::source).size(), 1u);
}

// R4.3 Fix (reference D6): a delta side never wipes the other side.
TEST(TwoWay, DeltaSideNeverCausesDeletions) {
  auto base = many_movies(30);
  auto plan = run(two(), W, snap("src", W, {}, caps(), Health::ok, true, Semantics::delta),
                  snap("dst", W, base), prior(base, base));
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
  EXPECT_TRUE(plan.held.empty());
  EXPECT_TRUE(actions(plan, ActionKind::add, Side::source).empty());
}

// R4.3 Fix (reference D5).
TEST(TwoWay, IncludeObservedDeletesOffBringsItemsBack) {
  auto p = two();
  p.features[W].include_observed_deletes = false;
  auto base = std::vector<Item>{movie("tt1")};
  auto plan = run(p, W, snap("src", W, {}), snap("dst", W, {movie("tt1")}), prior(base, base));
  EXPECT_TRUE(actions(plan, ActionKind::remove, Side::target).empty());
  EXPECT_EQ(actions(plan, ActionKind::add, Side::source).size(), 1u);
}

// R4.5
TEST(TwoWay, RemovesDisabledRestoresAndSaysSo) {
  auto base = std::vector<Item>{movie("tt1")};
  auto plan =
      run(two(W, false), W, snap("src", W, {}), snap("dst", W, {movie("tt1")}), prior(base, base));
  auto adds = actions(plan, ActionKind::add, Side::source);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]->reason, ActionReason::restored);
  EXPECT_FALSE(adds[0]->note.empty());
  bool noted = false;
  for (const auto& n : plan.notes) noted |= n.find("removes are disabled") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(TwoWay, SuspectSideHoldsItsDeletionsAndAddsNothingBack) {
  auto base = many_movies(30);
  auto plan =
      run(two(), W, snap("src", W, many_movies(2)), snap("dst", W, base), prior(base, base));
  EXPECT_TRUE(plan.source.suspect);
  EXPECT_EQ(held(plan, HoldReason::drop_guard).size(), 28u);
  EXPECT_TRUE(actions(plan, ActionKind::add, Side::source).empty());
}

TEST(TwoWay, MassDeleteCapIsPerSide) {
  auto base = many_movies(100);
  auto plan =
      run(two(), W, snap("src", W, many_movies(80)), snap("dst", W, base), prior(base, base));
  EXPECT_EQ(held(plan, HoldReason::mass_delete).size(), 20u);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(TwoWay, DownSideGetsNothingAndCausesNoDeletions) {
  auto base = std::vector<Item>{movie("tt1"), movie("tt2")};
  auto plan = run(two(), W, snap("src", W, {movie("tt1"), movie("tt2"), movie("tt3")}),
                  snap("dst", W, {}, caps(), Health::down), prior(base, base));
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.held.empty());
  EXPECT_EQ(plan.not_compared, 3u);
  EXPECT_EQ(plan.not_compared_reason, "target down");
}

// ---- title matching (R1.4)

Item bare_movie(std::string title, int year) {
  Item it;
  it.kind = ItemKind::movie;
  it.title = std::move(title);
  it.year = year;
  return it;
}

Item titled_movie(std::string title, int year, std::string imdb) {
  Item it = bare_movie(std::move(title), year);
  it.ids.set(IdKind::imdb, imdb);
  return it;
}

TEST(TitleMatch, OneWayAddsNothingTwiceAndRemovesTheMatch) {
  const auto policy = pair(W);
  auto first = run(policy, W, snap("src", W, {bare_movie("Heat", 1995)}),
                   snap("dst", W, {titled_movie("heat", 1995, "tt1")}));
  EXPECT_TRUE(first.actions.empty());
  EXPECT_TRUE(first.unresolved.empty());
  // The id-less film leaves the source: its match on the target goes.
  auto later =
      run(policy, W, snap("src", W, {}), snap("dst", W, {titled_movie("heat", 1995, "tt1")}),
          prior(std::vector<Item>{bare_movie("Heat", 1995)},
                std::vector<Item>{titled_movie("heat", 1995, "tt1")}));
  auto rem = actions(later, ActionKind::remove, Side::target);
  ASSERT_EQ(rem.size(), 1u);
  EXPECT_EQ(rem[0]->key, "movie:imdb:tt1");
}

TEST(TitleMatch, TwoWayDeletionOfTheIdLessCopyIsPropagatedNotRestored) {
  const auto policy = pair(W, PairMode::two_way);
  const auto base = prior(std::vector<Item>{bare_movie("Heat", 1995)},
                          std::vector<Item>{titled_movie("Heat", 1995, "tt1")});
  auto plan =
      run(policy, W, snap("src", W, {}), snap("dst", W, {titled_movie("Heat", 1995, "tt1")}), base);
  EXPECT_TRUE(actions(plan, ActionKind::add, Side::source).empty());
  ASSERT_EQ(actions(plan, ActionKind::remove, Side::target).size(), 1u);
  // And the copy with ids deleted on the target removes the id-less one on the source.
  auto back = run(policy, W, snap("src", W, {bare_movie("Heat", 1995)}), snap("dst", W, {}), base);
  EXPECT_TRUE(actions(back, ActionKind::add, Side::target).empty());
  ASSERT_EQ(actions(back, ActionKind::remove, Side::source).size(), 1u);
}

TEST(TitleMatch, AmbiguousIsUnresolvedNotAdded) {
  auto plan = run(
      pair(W, PairMode::two_way), W, snap("src", W, {bare_movie("Solaris", 2002)}),
      snap("dst", W, {titled_movie("Solaris", 2002, "tt1"), titled_movie("Solaris", 2002, "tt2")}));
  // Neither side gets anything: the id-less film could be either, and each of the two
  // films could be the id-less one.
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.unresolved.size(), 3u);
  EXPECT_EQ(plan.unresolved[0].side, Side::target);
  EXPECT_EQ(plan.unresolved[0].reason, "ambiguous");
  EXPECT_NE(plan.unresolved[0].message.find("movie:imdb:tt2"), std::string::npos);
  // The plan file keeps them.
  auto back = feature_plan_from_json(to_json(plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), plan);
}

TEST(TitleMatch, AmbiguousStaysInTheStateWhileDerived) {
  const auto policy = pair(W);
  const auto s = snap("src", W, {bare_movie("Solaris", 2002)});
  const auto t =
      snap("dst", W, {titled_movie("Solaris", 2002, "tt1"), titled_movie("Solaris", 2002, "tt2")});
  auto plan = run(policy, W, s, t);
  ASSERT_EQ(plan.unresolved.size(), 1u);
  auto st = settle(policy, plan, {}, s, t, {}, k_now).state;
  ASSERT_EQ(st.unresolved.size(), 1u);
  EXPECT_EQ(st.unresolved[0].reason, "ambiguous");
  // Resolved (the source now has an id): it leaves the list.
  const auto s2 = snap("src", W, {titled_movie("Solaris", 2002, "tt1")});
  auto plan2 = plan_feature(policy, W, s2, t, PriorState::from(st, W), k_now + 10);
  EXPECT_TRUE(plan2.unresolved.empty());
  EXPECT_TRUE(settle(policy, plan2, {}, s2, t, st, k_now + 10).state.unresolved.empty());
}

// ---- scope (issue 12): what a feature covers; the rest is left alone

TEST(Scope, TypesLeaveOtherKindsAloneBothWays) {
  auto policy = pair(Feature::history);
  policy.features[Feature::history].scope.types = 1U << static_cast<int>(ItemKind::movie);
  const auto s =
      snap("src", Feature::history, {watched(movie("tt1"), 100), watched(episode("5", 1, 1), 100)});
  const auto t = snap("dst", Feature::history, {watched(episode("5", 1, 2), 100)});
  auto plan = run(
      policy, Feature::history, s, t,
      prior(std::vector<Item>{watched(episode("5", 1, 2), 100)}, std::nullopt, Feature::history));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].key, "movie:imdb:tt1");
  ASSERT_EQ(plan.filtered.size(), 2u);  // the episode add and the removal of S01E02
  EXPECT_EQ(filtered_counts(plan), (std::map<std::string, std::size_t>{{"types", 2}}));
  auto back = feature_plan_from_json(to_json(plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), plan);
}

TEST(Scope, FromDateMinRatingAndExclusions) {
  auto policy = pair(R);
  auto& sc = policy.features[R].scope;
  sc.from_date = 1000;
  sc.min_rating = 7;
  sc.exclude_ids = {"imdb:tt9"};
  sc.exclude_titles = {"hidden"};
  Item hidden = rated(movie("tt8"), 9, 2000);
  hidden.title = " HIDDEN ";
  const auto s =
      snap("src", R,
           {rated(movie("tt1"), 9, 2000), rated(movie("tt2"), 9, 500), rated(movie("tt3"), 6, 2000),
            rated(movie("tt4"), 8), rated(movie("tt9"), 9, 2000), hidden});
  auto plan = run(policy, R, s, snap("dst", R, {}));
  std::vector<std::string> added;
  for (const auto& a : plan.actions) added.push_back(a.key);
  // tt4 has no rated_at: not known to be older, so in scope.
  EXPECT_EQ(added, (std::vector<std::string>{"movie:imdb:tt1", "movie:imdb:tt4"}));
  EXPECT_EQ(filtered_counts(plan), (std::map<std::string, std::size_t>{
                                       {"exclude", 2}, {"from_date", 1}, {"min_rating", 1}}));
}

TEST(Scope, OutOfScopeIsLeftAloneNotHeld) {
  auto policy = pair(W);
  policy.features[W].scope.exclude_ids = {"imdb:tt2"};
  auto takes_nothing = caps();
  takes_nothing.types = 0;  // would hold the add as unsupported
  auto plan = run(policy, W, snap("src", W, {movie("tt2")}), snap("dst", W, {}, takes_nothing));
  EXPECT_TRUE(plan.held.empty());
  EXPECT_EQ(plan.filtered.size(), 1u);
}

TEST(TitleMatch, YearToleranceFromThePolicy) {
  auto policy = pair(W);
  const auto s = snap("src", W, {bare_movie("Amelie", 2001)});
  const auto t = snap("dst", W, {titled_movie("Amelie", 2002, "tt1")});
  EXPECT_EQ(run(policy, W, s, t).actions.size(), 1u);
  policy.year_tolerance = 1;
  EXPECT_TRUE(run(policy, W, s, t).actions.empty());
}

// `cw override`: the corrected watch date travels as an update to a history side that can
// update (presence mode), and not at all to one that cannot; a plain different date never.
TEST(Override, CorrectedWatchDateIsAnUpdateWhereTheTargetCanStoreIt) {
  auto policy = pair(H);
  auto s = snap("src", H, {watched(movie("tt1"), 1000), watched(movie("tt2"), 1000)});
  const auto t = snap("dst", H, {watched(movie("tt1"), 5000), watched(movie("tt2"), 5000)});
  EXPECT_TRUE(run(policy, H, s, t).actions.empty());  // a date difference alone: nothing
  Override o;
  o.watched_at = 9000;
  EXPECT_EQ(apply_overrides(s, {{"movie:imdb:tt1", o}, {"movie:imdb:nothere", o}}), 1u);
  EXPECT_EQ(s.index.entries()[*s.index.find_key("movie:imdb:tt1")].plays,
            std::vector<Instant>{9000});
  auto plan = run(policy, H, s, t);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].kind, ActionKind::update);
  EXPECT_EQ(plan.actions[0].reason, ActionReason::corrected);
  EXPECT_EQ(plan.actions[0].item.watched_at, 9000);
  // The target already has a play at that date: converged.
  const auto t2 = snap("dst", H, {watched(movie("tt1"), 9000), watched(movie("tt2"), 5000)});
  EXPECT_TRUE(run(policy, H, s, t2).actions.empty());
  // A target that cannot update history: a note, no write.
  auto no_update = caps();
  no_update.update = false;
  plan = run(policy, H, s, snap("dst", H, t.index.to_items(true), no_update));
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("cannot update a watch date"), std::string::npos);
  // Two-way, corrected on the target side: the source gets the update.
  auto two = pair(H, PairMode::two_way);
  auto t3 = snap("dst", H, {watched(movie("tt1"), 5000)});
  apply_overrides(t3, {{"movie:imdb:tt1", o}});
  plan = run(two, H, snap("src", H, {watched(movie("tt1"), 1000)}), t3);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].side, Side::source);
}

TEST(Override, IgnoredItemIsLeftAloneOnBothSides) {
  auto policy = pair(W);
  auto s = snap("src", W, {movie("tt1"), movie("tt2")});
  Override ignore;
  ignore.ignore = true;
  EXPECT_EQ(apply_overrides(s, {{"movie:imdb:tt1", ignore}}), 1u);
  EXPECT_EQ(s.index.size(), 2u);  // still read: never taken for deleted
  auto plan = run(policy, W, s, snap("dst", W, {}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].key, "movie:imdb:tt2");
  EXPECT_EQ(filtered_counts(plan), (std::map<std::string, std::size_t>{{"ignored", 1}}));
  // Ignored on the target: the mirror removal of it is left alone as well.
  policy.features[W].removal = RemovalMode::mirror;
  auto t = snap("dst", W, {movie("tt3")});
  apply_overrides(t, {{"movie:imdb:tt3", ignore}});
  plan = run(policy, W, snap("src", W, {}), t,
             prior(std::vector<Item>{}, std::vector<Item>{movie("tt3")}));
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(plan.filtered.size(), 1u);
  // Ignored, then deleted from the source (no longer read): the deletion stays there.
  policy.features[W].removal = RemovalMode::source_deletes;
  auto gone = snap("src", W, {movie("tt2")});
  EXPECT_EQ(apply_overrides(gone, {{"movie:imdb:tt1", ignore}}), 0u);
  plan = run(policy, W, gone, snap("dst", W, {movie("tt1"), movie("tt2")}),
             prior(std::vector<Item>{movie("tt1"), movie("tt2")},
                   std::vector<Item>{movie("tt1"), movie("tt2")}));
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(filtered_counts(plan), (std::map<std::string, std::size_t>{{"ignored", 1}}));
}

TEST(Override, CorrectedRatingIsDatedAndSent) {
  auto s = snap("src", R, {rated(movie("tt1"), 4, 100)});
  Override o;
  o.rating = 8;
  o.rated_at = 7000;
  apply_overrides(s, {{"movie:imdb:tt1", o}});
  auto plan = run(pair(R), R, s, snap("dst", R, {rated(movie("tt1"), 4, 100)}));
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].item.rating, 8.0);
  EXPECT_EQ(plan.actions[0].item.rated_at, 7000);
}

// propagate_rated_at: off by default; on, an equal rating rated again later goes to a side
// that stores rated_at, never to one that does not, and never an older date.
TEST(PropagateRatedAt, EqualRatingWithANewerDateIsAnUpdateOnlyWhenAsked) {
  auto policy = pair(R);
  auto stores = caps();
  stores.stores_rated_at = true;
  const auto s = snap("src", R, {rated(movie("tt1"), 8, 2000), rated(movie("tt2"), 8, 100)});
  const auto t =
      snap("dst", R, {rated(movie("tt1"), 8, 1000), rated(movie("tt2"), 8, 900)}, stores);
  EXPECT_TRUE(run(policy, R, s, t).actions.empty());
  policy.propagate_rated_at = true;
  auto plan = run(policy, R, s, t);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].key, "movie:imdb:tt1");
  EXPECT_EQ(plan.actions[0].kind, ActionKind::update);
  EXPECT_EQ(plan.actions[0].reason, ActionReason::rated_at_newer);
  EXPECT_EQ(plan.actions[0].item.rated_at, 2000);
  EXPECT_TRUE(run(policy, R, s, snap("dst", R, t.index.to_items(false))).actions.empty());
  // Two-way: the newer side's date goes to the other.
  policy.mode = PairMode::two_way;
  plan = run(policy, R, snap("src", R, s.index.to_items(false), stores), t);
  ASSERT_EQ(plan.actions.size(), 2u);
  for (const auto& a : plan.actions)
    EXPECT_EQ(a.side, a.key == "movie:imdb:tt1" ? Side::target : Side::source);
}

}  // namespace
}  // namespace cw::engine
