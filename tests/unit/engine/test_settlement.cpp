#include <algorithm>

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace cw::engine {
namespace {

using namespace cw::engine::test;
using nlohmann::json;

constexpr Instant k_now = 1'700'000'000;
const Feature W = Feature::watchlist;

bool baseline_has(const PairFeatureState& st, Side side, const Item& item) {
  const auto& b = st.baseline(side);
  if (!b) return false;
  return std::any_of(b->items.begin(), b->items.end(),
                     [&](const Item& i) { return same_item(i, item); });
}

Outcome outcome(const Action& a, OutcomeStatus s, std::string reason = {}) {
  return Outcome{a.side, a.kind, a.key, s, std::move(reason), {}};
}

// One run: plan from `state`, apply `decide` to every action, settle.
struct Run {
  FeaturePlan plan;
  Settlement settlement;
};

template <typename Decide>
Run cycle(const PairPolicy& p, Feature f, const Snapshot& s, const Snapshot& t,
          const PairFeatureState& state, Instant now, Decide decide) {
  Run r;
  r.plan = plan_feature(p, f, s, t, PriorState::from(state, f), now);
  std::vector<Outcome> outs;
  for (const auto& a : r.plan.actions) {
    if (auto o = decide(a)) outs.push_back(*o);
  }
  r.settlement = settle(p, r.plan, outs, s, t, state, now);
  return r;
}

auto confirm_all = [](const Action& a) {
  return std::optional<Outcome>(outcome(a, OutcomeStatus::confirmed));
};

TEST(Outcomes, MissingKeysAreUnknownNeverInferred) {
  auto resp = json::parse(R"({"outcomes":[{"key":"a","status":"confirmed"},
      {"key":"b","status":"unresolved","reason":"not_found","message":"no match"},
      {"key":"c","status":"skipped"},{"key":"zz","status":"confirmed"},
      {"key":"a","status":"unresolved"}], "count": 4})");
  auto outs = outcomes_from_response(Side::target, ActionKind::add, {"a", "b", "c", "d"}, resp);
  ASSERT_EQ(outs.size(), 4u);
  EXPECT_EQ(outs[0].status, OutcomeStatus::confirmed);
  EXPECT_EQ(outs[1].status, OutcomeStatus::unresolved);
  EXPECT_EQ(outs[1].reason, "not_found");
  EXPECT_EQ(outs[2].status, OutcomeStatus::skipped);
  EXPECT_EQ(outs[3].status, OutcomeStatus::unknown);
  auto none = outcomes_from_response(Side::target, ActionKind::remove, {"a"}, json::object());
  EXPECT_EQ(none[0].status, OutcomeStatus::unknown);
}

// R6.3
TEST(Settle, BaselinesAdvanceOnlyForSettledItems) {
  auto p = pair(W);
  auto s = snap("src", W, {movie("tt1"), movie("tt2"), movie("tt3")});
  auto t = snap("dst", W, {movie("tt3")});
  auto r = cycle(p, W, s, t, {}, k_now, [](const Action& a) -> std::optional<Outcome> {
    if (a.key == "movie:imdb:tt1") return outcome(a, OutcomeStatus::confirmed);
    if (a.key == "movie:imdb:tt2") return outcome(a, OutcomeStatus::unresolved, "not_found");
    return std::nullopt;
  });
  const auto& st = r.settlement.state;
  ASSERT_TRUE(st.source && st.target);
  EXPECT_EQ(st.source->items.size(), 3u);
  EXPECT_TRUE(baseline_has(st, Side::target, movie("tt1")));
  EXPECT_FALSE(baseline_has(st, Side::target, movie("tt2")));
  EXPECT_TRUE(baseline_has(st, Side::target, movie("tt3")));
  EXPECT_EQ(r.settlement.summary.confirmed, 1u);
  EXPECT_EQ(r.settlement.summary.unresolved, 1u);
}

TEST(Settle, SkippedPlanLeavesStateAlone) {
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1")}, std::nullopt};
  auto p = pair(Feature::ratings);  // watchlist not enabled
  auto r = cycle(p, W, snap("src", W, {}), snap("dst", W, {}), st, k_now, confirm_all);
  EXPECT_TRUE(r.plan.skipped);
  EXPECT_EQ(r.settlement.state, st);
}

// R2.3
TEST(Settle, DownSideFreezesBaselines) {
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1")}, std::nullopt};
  st.target = SideBaseline{{movie("tt1")}, std::nullopt};
  auto p = pair(W, PairMode::two_way);
  auto r = cycle(p, W, snap("src", W, {movie("tt2")}), snap("dst", W, {}, caps(), Health::down), st,
                 k_now, confirm_all);
  EXPECT_EQ(r.settlement.state.source, st.source);
  EXPECT_EQ(r.settlement.state.target, st.target);
}

TEST(Settle, DownSideKeepsTheUnresolvedList) {
  PairFeatureState st;
  UnresolvedEntry u;
  u.key = "movie:imdb:tt9";
  u.reason = "not_found";
  u.item = movie("tt9");
  st.unresolved = {u};
  auto r = cycle(pair(W), W, snap("src", W, {movie("tt9")}),
                 snap("dst", W, {}, caps(), Health::down), st, k_now, confirm_all);
  EXPECT_EQ(r.settlement.state.unresolved, st.unresolved);
}

// R5.3 across runs: held, kept pending with its first-seen time, baseline not advanced,
// then approved and released.
TEST(Settle, HeldDeletionStaysPendingUntilApproved) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{many_movies(100), std::nullopt};
  st.target = SideBaseline{many_movies(100), std::nullopt};
  auto s = snap("src", W, many_movies(80, 20));
  auto t = snap("dst", W, many_movies(100));

  auto r1 = cycle(p, W, s, t, st, k_now, confirm_all);
  EXPECT_EQ(held(r1.plan, HoldReason::mass_delete).size(), 20u);
  const auto& st1 = r1.settlement.state;
  ASSERT_EQ(st1.pending.size(), 20u);
  EXPECT_EQ(st1.pending[0].first_seen, k_now);
  EXPECT_EQ(st1.pending[0].reason, "mass_delete");
  EXPECT_EQ(st1.source->items.size(), 100u);  // not past the held deletions

  auto r2 = cycle(p, W, s, t, st1, k_now + 3600, confirm_all);
  const auto& st2 = r2.settlement.state;
  ASSERT_EQ(st2.pending.size(), 20u);
  EXPECT_EQ(st2.pending[0].first_seen, k_now);

  PairFeatureState approved = st2;
  for (auto& pd : approved.pending) pd.approved = true;
  auto r3 = cycle(p, W, s, t, approved, k_now + 7200, confirm_all);
  EXPECT_EQ(actions(r3.plan, ActionKind::remove, Side::target).size(), 20u);
  const auto& st3 = r3.settlement.state;
  EXPECT_TRUE(st3.pending.empty());
  EXPECT_EQ(st3.source->items.size(), 80u);
  EXPECT_EQ(st3.target->items.size(), 80u);
}

TEST(Settle, PendingDeletionStopsWhenNoLongerTrue) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{many_movies(100), std::nullopt};
  st.target = SideBaseline{many_movies(100), std::nullopt};
  auto r1 = cycle(p, W, snap("src", W, many_movies(80, 20)), snap("dst", W, many_movies(100)), st,
                  k_now, confirm_all);
  ASSERT_EQ(r1.settlement.state.pending.size(), 20u);
  // The items came back on the source.
  auto r2 = cycle(p, W, snap("src", W, many_movies(100)), snap("dst", W, many_movies(100)),
                  r1.settlement.state, k_now + 10, confirm_all);
  EXPECT_TRUE(r2.settlement.state.pending.empty());
}

TEST(Settle, ExpiredPendingLetsTheBaselineAdvance) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{many_movies(100), std::nullopt};
  st.target = SideBaseline{many_movies(100), std::nullopt};
  auto s = snap("src", W, many_movies(80, 20));
  auto t = snap("dst", W, many_movies(100));
  auto r1 = cycle(p, W, s, t, st, k_now, confirm_all);
  auto r2 = cycle(p, W, s, t, r1.settlement.state, k_now + 31 * k_day_s, confirm_all);
  EXPECT_EQ(r2.plan.expired_pending.size(), 20u);
  EXPECT_TRUE(r2.settlement.state.pending.empty());
  EXPECT_EQ(r2.settlement.state.source->items.size(), 80u);
  // Forgotten: the next run plans nothing.
  auto r3 = cycle(p, W, s, t, r2.settlement.state, k_now + 32 * k_day_s, confirm_all);
  EXPECT_TRUE(r3.plan.actions.empty());
  EXPECT_TRUE(r3.plan.held.empty());
}

// `cw pending drop` (R6.3): a declined pending deletion is intentionally ignored. The next
// run neither removes nor holds it, lists it as declined, advances the source baseline past
// it and forgets the record; the run after plans nothing for it.
TEST(Settle, DeclinedPendingIsIgnoredAndTheBaselineAdvances) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{many_movies(100), std::nullopt};
  st.target = SideBaseline{many_movies(100), std::nullopt};
  auto s = snap("src", W, many_movies(80, 20));
  auto t = snap("dst", W, many_movies(100));
  auto r1 = cycle(p, W, s, t, st, k_now, confirm_all);
  ASSERT_EQ(r1.settlement.state.pending.size(), 20u);

  PairFeatureState declined = r1.settlement.state;
  for (auto& pd : declined.pending) pd.declined = true;
  auto r2 = cycle(p, W, s, t, declined, k_now + 60, confirm_all);
  EXPECT_TRUE(r2.plan.actions.empty());
  EXPECT_TRUE(r2.plan.held.empty());
  ASSERT_EQ(r2.plan.declined_pending.size(), 20u);
  EXPECT_TRUE(r2.plan.declined_pending[0].declined);
  EXPECT_NE(render_text(r2.plan).find("declined by user"), std::string::npos);
  const auto& st2 = r2.settlement.state;
  EXPECT_TRUE(st2.pending.empty());
  EXPECT_EQ(st2.source->items.size(), 80u);
  EXPECT_FALSE(baseline_has(st2, Side::source, many_movies(1)[0]));
  EXPECT_EQ(st2.target->items.size(), 100u);  // the target keeps them

  auto r3 = cycle(p, W, s, t, st2, k_now + 120, confirm_all);
  EXPECT_TRUE(r3.plan.actions.empty());
  EXPECT_TRUE(r3.plan.held.empty());
  EXPECT_TRUE(r3.plan.declined_pending.empty());
  EXPECT_TRUE(r3.settlement.state.pending.empty());

  // Back on the source, the item is a normal item again: a later deletion is derived anew.
  auto back = cycle(p, W, snap("src", W, many_movies(81, 19)), t, r3.settlement.state, k_now + 180,
                    confirm_all);
  EXPECT_TRUE(baseline_has(back.settlement.state, Side::source, many_movies(20)[19]));
  auto gone_again = cycle(p, W, s, t, back.settlement.state, k_now + 240, confirm_all);
  ASSERT_EQ(actions(gone_again.plan, ActionKind::remove, Side::target).size(), 1u);
  EXPECT_EQ(actions(gone_again.plan, ActionKind::remove, Side::target)[0]->item.ids,
            many_movies(20)[19].ids);
}

// Only the declined keys are ignored; a declined deletion on a down target stays declined.
TEST(Settle, DeclinedPendingOnlyCoversItsKeys) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1"), movie("tt2"), movie("tt3")}, std::nullopt};
  st.target = SideBaseline{{movie("tt1"), movie("tt2"), movie("tt3")}, std::nullopt};
  const Item& gone = st.source->items[0];
  st.pending.push_back(
      PendingDeletion{Side::target, "movie:imdb:tt1", "mass_delete", k_now, false, gone, true});
  auto s = snap("src", W, {movie("tt3")});
  auto t = snap("dst", W, {movie("tt1"), movie("tt2"), movie("tt3")});
  auto r = cycle(p, W, s, t, st, k_now + 1, confirm_all);
  const auto removes = actions(r.plan, ActionKind::remove, Side::target);
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0]->key, "movie:imdb:tt2");
  ASSERT_EQ(r.plan.declined_pending.size(), 1u);
  EXPECT_EQ(r.plan.declined_pending[0].key, "movie:imdb:tt1");
  EXPECT_TRUE(r.settlement.state.pending.empty());
  EXPECT_FALSE(baseline_has(r.settlement.state, Side::source, movie("tt1")));

  auto down = cycle(p, W, s, snap("dst", W, {}, caps(), Health::down), st, k_now + 1, confirm_all);
  ASSERT_EQ(down.settlement.state.pending.size(), 1u);
  EXPECT_TRUE(down.settlement.state.pending[0].declined);
  EXPECT_TRUE(baseline_has(down.settlement.state, Side::source, movie("tt1")));
}

// Mirror removals follow from the target itself, not from a baseline that could advance:
// a declined one is remembered while it is still derived, and forgotten once it is not.
TEST(Settle, DeclinedMirrorRemovalIsRememberedWhileTrue) {
  auto p = pair(W);
  p.features[W].removal = RemovalMode::mirror;
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt2")}, std::nullopt};
  st.target = SideBaseline{{movie("tt1"), movie("tt2")}, std::nullopt};
  st.pending.push_back(PendingDeletion{Side::target, "movie:imdb:tt1", "mass_delete", k_now, false,
                                       movie("tt1"), true});
  auto s = snap("src", W, {movie("tt2")});
  auto t = snap("dst", W, {movie("tt1"), movie("tt2")});
  auto r1 = cycle(p, W, s, t, st, k_now + 1, confirm_all);
  EXPECT_TRUE(r1.plan.actions.empty());
  EXPECT_TRUE(r1.plan.held.empty());
  ASSERT_EQ(r1.settlement.state.pending.size(), 1u);
  EXPECT_TRUE(r1.settlement.state.pending[0].declined);
  EXPECT_EQ(r1.settlement.state.pending[0].first_seen, k_now);
  auto r2 = cycle(p, W, s, t, r1.settlement.state, k_now + 2, confirm_all);
  EXPECT_TRUE(r2.plan.actions.empty());
  // Back on the source: no longer derived, so forgotten.
  auto r3 = cycle(p, W, snap("src", W, {movie("tt1"), movie("tt2")}), t, r2.settlement.state,
                  k_now + 3, confirm_all);
  EXPECT_TRUE(r3.settlement.state.pending.empty());
}

// Two-way: declining a propagated deletion also clears the tombstone written while it was
// held, so the kept copy is not removed by the tombstone later.
TEST(Settle, DeclinedTwoWayDeletionClearsItsTombstone) {
  auto p = pair(W, PairMode::two_way);
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1"), movie("tt2")}, std::nullopt};
  st.target = SideBaseline{{movie("tt1"), movie("tt2")}, std::nullopt};
  st.tombstones.push_back(Tombstone{"movie:imdb:tt1", movie("tt1"), k_now, k_now + 30 * k_day_s});
  st.pending.push_back(PendingDeletion{Side::target, "movie:imdb:tt1", "mass_delete", k_now, false,
                                       movie("tt1"), true});
  auto s = snap("src", W, {movie("tt2")});
  auto t = snap("dst", W, {movie("tt1"), movie("tt2")});
  auto r1 = cycle(p, W, s, t, st, k_now + 1, confirm_all);
  EXPECT_TRUE(actions(r1.plan, ActionKind::remove, Side::target).empty());
  EXPECT_TRUE(r1.plan.held.empty());
  EXPECT_TRUE(r1.settlement.state.tombstones.empty());
  EXPECT_TRUE(r1.settlement.state.pending.empty());
  auto r2 = cycle(p, W, s, t, r1.settlement.state, k_now + 2, confirm_all);
  EXPECT_TRUE(actions(r2.plan, ActionKind::remove, Side::target).empty());
  EXPECT_TRUE(r2.plan.held.empty());
  // The kept copy is then an item on one side only: the pair converges by copying it back
  // (as with removes disabled, R4.5), rather than differing forever.
  EXPECT_EQ(actions(r2.plan, ActionKind::add, Side::source).size(), 1u);
}

TEST(Settle, UnsettledRemovalIsRetriedNextRun) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1"), movie("tt2")}, std::nullopt};
  auto s = snap("src", W, {movie("tt2")});
  auto t = snap("dst", W, {movie("tt1"), movie("tt2")});
  auto r1 = cycle(p, W, s, t, st, k_now, [](const Action&) { return std::optional<Outcome>(); });
  ASSERT_EQ(actions(r1.plan, ActionKind::remove, Side::target).size(), 1u);
  EXPECT_TRUE(baseline_has(r1.settlement.state, Side::source, movie("tt1")));
  ASSERT_EQ(r1.settlement.state.unresolved.size(), 1u);
  EXPECT_EQ(r1.settlement.state.unresolved[0].reason, "unknown");
  auto r2 = cycle(p, W, s, t, r1.settlement.state, k_now + 60, confirm_all);
  ASSERT_EQ(actions(r2.plan, ActionKind::remove, Side::target).size(), 1u);
  EXPECT_FALSE(baseline_has(r2.settlement.state, Side::source, movie("tt1")));
  EXPECT_FALSE(baseline_has(r2.settlement.state, Side::target, movie("tt1")));
  EXPECT_TRUE(r2.settlement.state.unresolved.empty());
}

// R5.4: three consecutive failed runs block the key for 30 days, watchlist included.
TEST(Settle, ThreeFailedRunsBlackboxTheKey) {
  auto p = pair(W);
  auto s = snap("src", W, {movie("tt1")});
  auto t = snap("dst", W, {});
  auto fail = [](const Action& a) {
    return std::optional<Outcome>(outcome(a, OutcomeStatus::unresolved, "rejected"));
  };
  PairFeatureState st;
  for (int run = 1; run <= 2; ++run) {
    auto r = cycle(p, W, s, t, st, k_now + run, fail);
    st = r.settlement.state;
    ASSERT_EQ(st.flaps.size(), 1u);
    EXPECT_EQ(st.flaps[0].consecutive, run);
    EXPECT_TRUE(st.blackbox.empty());
  }
  auto r3 = cycle(p, W, s, t, st, k_now + 3, fail);
  st = r3.settlement.state;
  EXPECT_TRUE(st.flaps.empty());
  ASSERT_EQ(st.blackbox.size(), 1u);
  EXPECT_EQ(st.blackbox[0].until, k_now + 3 + 30 * k_day_s);
  EXPECT_EQ(r3.settlement.summary.newly_blocked, 1u);
  auto r4 = cycle(p, W, s, t, st, k_now + 4, fail);
  EXPECT_TRUE(r4.plan.actions.empty());
  EXPECT_EQ(held(r4.plan, HoldReason::blackbox).size(), 1u);
  // After 30 days it is tried again.
  auto r5 = cycle(p, W, s, t, r4.settlement.state, k_now + 31 * k_day_s, confirm_all);
  EXPECT_EQ(r5.plan.actions.size(), 1u);
  EXPECT_TRUE(r5.settlement.state.blackbox.empty());
}

TEST(Settle, RateLimitsAndMissingOutcomesDoNotFlap) {
  auto p = pair(W);
  auto s = snap("src", W, {movie("tt1"), movie("tt2")});
  auto t = snap("dst", W, {});
  auto r = cycle(p, W, s, t, {}, k_now, [](const Action& a) -> std::optional<Outcome> {
    if (a.key == "movie:imdb:tt1") return outcome(a, OutcomeStatus::unresolved, "rate_limited");
    return std::nullopt;
  });
  EXPECT_TRUE(r.settlement.state.flaps.empty());
  EXPECT_EQ(r.settlement.state.unresolved.size(), 2u);
}

// ABI 1.1: an account limit is held and reported in every run, never a flap, never
// blackboxed however often it repeats.
TEST(Settle, QuotaIsReportedButNeverFlapsOrBlackboxes) {
  auto p = pair(W);
  auto s = snap("src", W, {movie("tt1")});
  auto t = snap("dst", W, {});
  auto quota = [](const Action& a) {
    return std::optional<Outcome>(outcome(a, OutcomeStatus::unresolved, "quota"));
  };
  PairFeatureState st;
  for (int run = 0; run < 6; ++run) {
    auto r = cycle(p, W, s, t, st, k_now + run, quota);
    EXPECT_EQ(r.plan.actions.size(), 1u) << run;
    st = r.settlement.state;
    EXPECT_TRUE(st.flaps.empty()) << run;
    EXPECT_TRUE(st.blackbox.empty()) << run;
    ASSERT_EQ(st.unresolved.size(), 1u) << run;
    EXPECT_EQ(st.unresolved[0].reason, "quota");
  }
}

TEST(Settle, SuccessResetsFlaps) {
  PairFeatureState st;
  st.flaps.push_back(FlapCounter{Side::target, "movie:imdb:tt1", 2, "rejected", k_now - 5});
  auto r =
      cycle(pair(W), W, snap("src", W, {movie("tt1")}), snap("dst", W, {}), st, k_now, confirm_all);
  EXPECT_TRUE(r.settlement.state.flaps.empty());
}

// R5.5
TEST(Settle, UnresolvedKeepsReasonAndLeavesOnSuccessOrWhenVanished) {
  auto p = pair(W);
  auto t = snap("dst", W, {});
  auto fail = [](const Action& a) {
    return std::optional<Outcome>(outcome(a, OutcomeStatus::unresolved, "not_found"));
  };
  auto r1 = cycle(p, W, snap("src", W, {movie("tt1"), movie("tt2")}), t, {}, k_now, fail);
  ASSERT_EQ(r1.settlement.state.unresolved.size(), 2u);
  EXPECT_EQ(r1.settlement.state.unresolved[0].reason, "not_found");
  auto r2 = cycle(p, W, snap("src", W, {movie("tt1"), movie("tt2")}), t, r1.settlement.state,
                  k_now + 10, [&](const Action& a) {
                    return a.key == "movie:imdb:tt1"
                               ? std::optional<Outcome>(outcome(a, OutcomeStatus::confirmed))
                               : fail(a);
                  });
  ASSERT_EQ(r2.settlement.state.unresolved.size(), 1u);
  EXPECT_EQ(r2.settlement.state.unresolved[0].key, "movie:imdb:tt2");
  EXPECT_EQ(r2.settlement.state.unresolved[0].attempts, 2);
  EXPECT_EQ(r2.settlement.state.unresolved[0].first_seen, k_now);
  // tt2 left the source: it vanishes from the list.
  auto r3 = cycle(p, W, snap("src", W, {movie("tt1")}), snap("dst", W, {movie("tt1")}),
                  r2.settlement.state, k_now + 20, fail);
  EXPECT_TRUE(r3.settlement.state.unresolved.empty());
}

// R4.2
TEST(Settle, TwoWayRemovalsLeaveTombstonesThatExpire) {
  auto p = pair(W, PairMode::two_way);
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1"), movie("tt2")}, std::nullopt};
  st.target = SideBaseline{{movie("tt1"), movie("tt2")}, std::nullopt};
  auto r = cycle(p, W, snap("src", W, {movie("tt2")}), snap("dst", W, {movie("tt1"), movie("tt2")}),
                 st, k_now, confirm_all);
  const auto& ts = r.settlement.state.tombstones;
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].key, "movie:imdb:tt1");
  EXPECT_EQ(ts[0].expires_at, k_now + 30 * k_day_s);
  EXPECT_EQ(r.settlement.summary.tombstones_added, 1u);
  auto later = cycle(p, W, snap("src", W, {movie("tt2")}), snap("dst", W, {movie("tt2")}),
                     r.settlement.state, k_now + 31 * k_day_s, confirm_all);
  EXPECT_TRUE(later.settlement.state.tombstones.empty());
}

TEST(Settle, SettledAddClearsMatchingTombstone) {
  auto p = pair(W, PairMode::two_way);
  PairFeatureState st;
  st.source = SideBaseline{{}, std::nullopt};
  st.target = SideBaseline{{}, std::nullopt};
  st.tombstones.push_back(Tombstone{"movie:imdb:tt1", movie("tt1"), k_now - 10, k_now + 1000});
  auto r = cycle(p, W, snap("src", W, {}), snap("dst", W, {movie("tt1")}), st, k_now, confirm_all);
  ASSERT_EQ(actions(r.plan, ActionKind::add, Side::source).size(), 1u);  // new on dst wins
  EXPECT_TRUE(r.settlement.state.tombstones.empty());
}

// R1.5 Fix: when the baseline and the snapshot disagree on an id, the snapshot wins.
TEST(Settle, CurrentIdsReplaceStaleBaselineIds) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1", "999")}, std::nullopt};
  Completeness c;
  c.semantics = Semantics::delta;  // the baseline is merged, not replaced
  auto s = make_snapshot("src", W, {movie("tt1", "100")}, c, caps());
  auto r = cycle(p, W, s, snap("dst", W, {movie("tt1")}), st, k_now, confirm_all);
  const auto& items = r.settlement.state.source->items;
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(*items[0].ids.get(IdKind::tmdb), "100");
}

TEST(Settle, DeltaBaselineIsUnionOfPreviousAndCurrent) {
  auto p = pair(W);
  PairFeatureState st;
  st.source = SideBaseline{{movie("tt1")}, std::string("w1")};
  Completeness c;
  c.semantics = Semantics::delta;
  c.watermark = "w2";
  auto s = make_snapshot("src", W, {movie("tt2")}, c, caps());
  auto r = cycle(p, W, s, snap("dst", W, {movie("tt1"), movie("tt2")}), st, k_now, confirm_all);
  EXPECT_TRUE(baseline_has(r.settlement.state, Side::source, movie("tt1")));
  EXPECT_TRUE(baseline_has(r.settlement.state, Side::source, movie("tt2")));
  EXPECT_EQ(r.settlement.state.source->watermark, "w2");
}

TEST(Settle, EventModeRemovesOnlyThePlay) {
  auto p = pair(Feature::history);
  p.features[Feature::history].rewatches = true;
  const Feature H = Feature::history;
  PairFeatureState st;
  st.source =
      SideBaseline{{watched(movie("tt1"), 1000), watched(movie("tt1"), 5000)}, std::nullopt};
  st.target =
      SideBaseline{{watched(movie("tt1"), 1000), watched(movie("tt1"), 5000)}, std::nullopt};
  auto r =
      cycle(p, H, snap("src", H, {watched(movie("tt1"), 1000)}, caps(true)),
            snap("dst", H, {watched(movie("tt1"), 1000), watched(movie("tt1"), 5000)}, caps(true)),
            st, k_now, confirm_all);
  ASSERT_EQ(actions(r.plan, ActionKind::remove, Side::target).size(), 1u);
  const auto& tgt = r.settlement.state.target->items;
  ASSERT_EQ(tgt.size(), 1u);
  EXPECT_EQ(tgt[0].watched_at, 1000);
}

TEST(StateJson, RoundTrips) {
  PairFeatureState st;
  // Rows come back ordered by row key.
  st.source = SideBaseline{{watched(episode("81189", 1, 2), 3000), watched(movie("tt1"), 1000),
                            watched(movie("tt1"), 2000)},
                           std::string("wm")};
  st.target = SideBaseline{{}, std::nullopt};
  st.tombstones.push_back(Tombstone{"movie:imdb:tt9", movie("tt9"), 1, 2});
  st.pending.push_back(PendingDeletion{Side::target, "k", "drop_guard", 5, true, movie("tt5")});
  st.pending.push_back(
      PendingDeletion{Side::target, "k1", "mass_delete", 6, false, movie("tt6"), true});
  st.flaps.push_back(FlapCounter{Side::source, "k2", 2, "rejected", 7});
  st.blackbox.push_back(BlackboxEntry{Side::target, "k3", "r", 8, 9});
  st.unresolved.push_back(
      UnresolvedEntry{Side::target, "k4", "not_found", "m", 1, 2, 3, movie("tt4")});
  const json j = to_json(st, true);
  EXPECT_EQ(j["baselines"]["source"]["items"].size(), 3u);  // one row per play
  EXPECT_TRUE(j["baselines"]["source"]["items"].contains("movie:imdb:tt1@1000"));
  auto back = state_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, st);
  EXPECT_FALSE(state_from_json(json::parse(R"({"pending":[{"side":"left"}]})")).ok());
  EXPECT_FALSE(state_from_json(json::parse(R"({"flaps":{}})")).ok());
}

}  // namespace
}  // namespace cw::engine
