#pragma once
// The planner (DESIGN "Planner"): a pure function of policy, both snapshots, the prior
// state and the time. No I/O, no clock, no logging: everything it decides is in the
// FeaturePlan, with a reason.

#include <optional>
#include <vector>

#include <cw/engine/identity.hpp>
#include <cw/engine/plan.hpp>
#include <cw/engine/policy.hpp>
#include <cw/engine/snapshot.hpp>
#include <cw/engine/state_model.hpp>

namespace cw::engine {

// The prior state in the shape planning and settlement use: baselines as indexes.
struct PriorState {
  std::optional<Index> source;  // baseline of the source side; nullopt: none
  std::optional<Index> target;
  std::vector<Tombstone> tombstones;
  std::vector<PendingDeletion> pending;
  std::vector<BlackboxEntry> blackbox;

  const std::optional<Index>& baseline(Side s) const { return s == Side::source ? source : target; }
  static PriorState from(const PairFeatureState& state, Feature feature);
};

// Progress thresholds (reference §6.3): differences under k_progress_min_delta_ms are
// noise; an item at or past k_progress_finished_ratio of its duration is finished.
inline constexpr std::int64_t k_progress_min_delta_ms = 30'000;
inline constexpr double k_progress_finished_ratio = 0.95;
// Between two sides of which one stores only a percentage: one percent of the item.
inline constexpr double k_progress_min_delta_fraction = 0.01;

// Plans one pair and feature. `policy.features[feature]` decides what is enabled; a
// missing or disabled feature gives a skipped plan.
FeaturePlan plan_feature(const PairPolicy& policy, Feature feature, const Snapshot& source,
                         const Snapshot& target, const PriorState& prior, Instant now);

// R3.3: both ratings rounded to the coarser of the two steps; equal after that means no
// write.
bool ratings_equal(double a, double b, double step_a, double step_b);
// With declared rating scales: equal when either side stores both as the same value
// (cwsdk::same_on_scale); without, the grid comparison above.
bool ratings_equal(double a, double b, const FeatureCaps& caps_a, const FeatureCaps& caps_b);
// `rating` (0-10) moved onto the grid of the provider's rating_scale, still on 0-10 (so
// the plugin's own conversion to its scale is exact); as given when no scale is declared;
// nullopt for a rating outside 0-10.
std::optional<double> rating_on_scale(double rating, const FeatureCaps& caps);

}  // namespace cw::engine
