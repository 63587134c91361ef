#include <gtest/gtest.h>

#include "helpers.hpp"

namespace cw::engine {
namespace {

using namespace cw::engine::test;
using nlohmann::json;

constexpr Instant k_now = 1'700'000'000;

// A plan with every kind of entry: adds, updates, removes, held, notes, expired pending.
Plan rich_plan() {
  Plan plan;
  plan.created_at = k_now;
  {
    auto p = pair(Feature::watchlist);
    PriorState pr = prior(many_movies(100), many_movies(100));
    pr.pending.push_back(PendingDeletion{Side::target, "movie:imdb:tt1000099", "mass_delete",
                                         k_now - 40 * k_day_s, false, movie("tt1000099")});
    pr.blackbox.push_back(BlackboxEntry{Side::target, "movie:imdb:tt5", "x", k_now, k_now + 10});
    auto src = many_movies(70);
    src.push_back(movie("tt5"));
    src.push_back(movie("tt6"));
    plan.features.push_back(
        plan_feature(p, Feature::watchlist, snap("plex", Feature::watchlist, src),
                     snap("trakt", Feature::watchlist, many_movies(100)), pr, k_now));
  }
  {
    auto p = pair(Feature::ratings, PairMode::two_way);
    plan.features.push_back(plan_feature(
        p, Feature::ratings, snap("plex", Feature::ratings, {rated(movie("tt1"), 8, 100)}),
        snap("trakt", Feature::ratings, {rated(movie("tt1"), 5, 200), rated(movie("tt2"), 7.5)}),
        {}, k_now));
  }
  {
    auto p = pair(Feature::history);
    Item e = watched(episode("81189", 1, 2), 1704164645);
    plan.features.push_back(plan_feature(p, Feature::history, snap("plex", Feature::history, {e}),
                                         snap("jf", Feature::history, {}, caps(false, false)), {},
                                         k_now));
  }
  {
    FeatureCaps none;
    none.supported = false;
    plan.features.push_back(plan_feature(pair(Feature::progress), Feature::progress,
                                         snap("plex", Feature::progress, {}),
                                         snap("tmdb", Feature::progress, {}, none), {}, k_now));
  }
  return plan;
}

TEST(PlanJson, RoundTrips) {
  const Plan plan = rich_plan();
  ASSERT_FALSE(plan.features[0].held.empty());
  ASSERT_FALSE(plan.features[0].expired_pending.empty());
  ASSERT_FALSE(plan.features[1].actions.empty());
  const json j = to_json(plan);
  auto back = plan_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, plan);
  // Stable text: serialising the parsed plan gives the same bytes.
  EXPECT_EQ(to_json(*back).dump(2), j.dump(2));
  auto reparsed = plan_from_json(json::parse(j.dump()));
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(*reparsed, plan);
}

// A pending deletion the user declined is listed, not removed or held, and survives the
// JSON round trip that `cw apply --plan FILE` relies on.
TEST(PlanJson, DeclinedPendingRoundTripsAndRenders) {
  PriorState pr = prior(many_movies(10), many_movies(10));
  pr.pending.push_back(PendingDeletion{Side::target, "movie:imdb:tt1000009", "mass_delete",
                                       k_now - 1, false, movie("tt1000009"), true});
  Plan plan;
  plan.created_at = k_now;
  plan.features.push_back(plan_feature(pair(Feature::watchlist), Feature::watchlist,
                                       snap("plex", Feature::watchlist, many_movies(9)),
                                       snap("trakt", Feature::watchlist, many_movies(10)), pr,
                                       k_now));
  const auto& f = plan.features[0];
  EXPECT_TRUE(f.actions.empty());
  EXPECT_TRUE(f.held.empty());
  ASSERT_EQ(f.declined_pending.size(), 1u);
  EXPECT_TRUE(f.declined_pending[0].declined);
  const json j = to_json(plan);
  EXPECT_EQ(j["features"][0]["declined_pending"][0]["key"], "movie:imdb:tt1000009");
  auto back = plan_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, plan);
  EXPECT_NE(render_text(plan).find("ignored remove on trakt: Movie (2020) "
                                   "<movie:imdb:tt1000009> (declined by user)"),
            std::string::npos)
      << render_text(plan);
}

TEST(PlanJson, CarriesFingerprintsAndCounts) {
  const json j = to_json(rich_plan());
  const auto& f = j["features"][0];
  EXPECT_EQ(f["source"]["fingerprint"].get<std::string>().size(), 16u);
  EXPECT_EQ(f["source"]["provider"], "plex");
  EXPECT_EQ(f["counts"]["adds"], 1);  // tt6 (tt5 is blackboxed)
  EXPECT_EQ(f["mode"], "one-way");
}

TEST(PlanJson, RejectsBadDocuments) {
  json j = to_json(rich_plan());
  json v = j;
  v["version"] = 2;
  EXPECT_FALSE(plan_from_json(v).ok());
  json r = j;
  r["features"][1]["actions"][0]["reason"] = "because";
  auto e = plan_from_json(r);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("because"), std::string::npos);
  json k = j;
  k["features"][1]["actions"][0]["kind"] = "upsert";
  EXPECT_FALSE(plan_from_json(k).ok());
  EXPECT_FALSE(plan_from_json(json::array()).ok());
  json nf = j;
  nf.erase("features");
  EXPECT_FALSE(plan_from_json(nf).ok());
}

TEST(PlanText, ShowsEveryActionWithReasonAndCounts) {
  const std::string text = render_text(rich_plan());
  EXPECT_NE(text.find("pair p1, watchlist (one-way plex -> trakt)"), std::string::npos) << text;
  EXPECT_NE(text.find("1 add, 0 updates, 0 removes, 30 held"), std::string::npos) << text;
  EXPECT_NE(text.find("(mass_delete: would remove 29 of 100 items"), std::string::npos) << text;
  EXPECT_NE(text.find("(blackbox:"), std::string::npos);
  EXPECT_NE(text.find("pending deletion expired"), std::string::npos);
  EXPECT_NE(text.find("rating differs, newer rating wins"), std::string::npos);
  EXPECT_NE(text.find("Show S01E02"), std::string::npos);
  EXPECT_NE(text.find("date will be lost"), std::string::npos);
  EXPECT_NE(text.find("skipped: tmdb does not support progress"), std::string::npos);
  EXPECT_NE(text.find("total: "), std::string::npos);
}

TEST(PlanApprove, ReleasesOnlyPendingHolds) {
  Plan plan = rich_plan();
  FeaturePlan& f = plan.features[0];
  const auto before = count(f);
  const auto released = approve_held_removals(f);
  EXPECT_EQ(released, 29u);
  const auto after = count(f);
  EXPECT_EQ(after.removes, before.removes + 29);
  ASSERT_EQ(f.held.size(), 1u);
  EXPECT_EQ(f.held[0].hold, HoldReason::blackbox);
  for (const auto& a : f.actions) {
    if (a.kind == ActionKind::remove) {
      EXPECT_EQ(a.reason, ActionReason::approved);
    }
  }
}

TEST(PlanReconcile, ASavedPlanReadBackMatchesAFreshOneExactly) {
  const Plan fresh = rich_plan();
  auto saved = plan_from_json(json::parse(to_json(fresh).dump()));
  ASSERT_TRUE(saved);
  for (std::size_t i = 0; i < fresh.features.size(); ++i) {
    const auto r = reconcile_with_approved(saved->features[i], fresh.features[i]);
    EXPECT_TRUE(r.differences.empty()) << r.differences.front();
    EXPECT_EQ(r.plan, fresh.features[i]);
  }
}

TEST(PlanReconcile, AppliesOnlyWhatBothContainAndNamesEveryDifference) {
  auto src = many_movies(70);
  for (const char* id : {"tt5", "tt6", "tt7"}) src.push_back(movie(id));
  const FeaturePlan fresh = plan_feature(pair(Feature::watchlist), Feature::watchlist,
                                         snap("plex", Feature::watchlist, src),
                                         snap("trakt", Feature::watchlist, many_movies(100)),
                                         prior(many_movies(100), many_movies(100)), k_now);
  ASSERT_GE(fresh.actions.size(), 3u);
  ASSERT_GE(fresh.held.size(), 2u);
  FeaturePlan saved = fresh;
  // Edited by hand: an invented add, a held removal moved into the actions, an action
  // turned to the other side, and one action the user deleted from the file.
  Action invented = fresh.actions[0];
  invented.kind = ActionKind::add;
  invented.key = "movie:imdb:tt7777777";
  invented.item = movie("tt7777777");
  saved.actions.push_back(invented);
  saved.actions.push_back(saved.held[0].action);
  saved.held.erase(saved.held.begin());
  saved.actions[0].side = saved.actions[0].side == Side::target ? Side::source : Side::target;
  saved.actions.erase(saved.actions.begin() + 1);

  const auto r = reconcile_with_approved(saved, fresh);
  // Kept: the fresh actions the saved plan still has unchanged; the holds it still holds.
  EXPECT_EQ(r.plan.actions.size(), fresh.actions.size() - 2);
  for (const auto& a : r.plan.actions) EXPECT_NE(a.key, "movie:imdb:tt7777777");
  EXPECT_EQ(r.plan.held.size(), fresh.held.size() - 1);
  // Named: the changed action twice (both sides), the deleted one, the invented add, the
  // moved removal (as an action and as a missing hold).
  EXPECT_EQ(r.differences.size(), 6u);
  const auto mentions = [&](const std::string& what) {
    int n = 0;
    for (const auto& d : r.differences) n += d.find(what) != std::string::npos;
    return n;
  };
  EXPECT_EQ(mentions("tt7777777"), 1);
  EXPECT_EQ(mentions(fresh.held[0].action.key), 2);
  EXPECT_EQ(mentions("held now, not in the saved plan"), 1);
}

TEST(PlanCounts, PerSide) {
  const Plan plan = rich_plan();
  const auto& ratings = plan.features[1];
  EXPECT_EQ(count(ratings, Side::source).updates, 1u);
  EXPECT_EQ(count(ratings, Side::source).adds, 1u);  // tt2 only on the target
  EXPECT_EQ(count(ratings, Side::target).updates, 0u);
}

}  // namespace
}  // namespace cw::engine
