#pragma once
// The plan as a value (R7.1): what a run will write, per pair and feature, each action
// with its reason, and what it holds back and why. Serialisable (stable JSON, round trip)
// and printable. `cw apply --plan` compares the recorded snapshot fingerprints with fresh
// ones and refuses on drift.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/item.hpp>
#include <cw/engine/policy.hpp>
#include <cw/engine/snapshot.hpp>
#include <cw/engine/state_model.hpp>
#include <cw/util/result.hpp>

namespace cw::engine {

enum class ActionKind : std::uint8_t { add, update, remove };

enum class ActionReason : std::uint8_t {
  missing_on_target,  // R3.1 / R4.1: the other side has it, this one does not
  restored,           // R4.5: deleted here, comes back because removes are disabled
  deleted_on_source,  // R3.2 source_deletes / R4.2 observed deletion on the other side
  tombstoned,         // R4.2: a live tombstone and this side's copy is not new
  not_on_source,      // R3.2 mirror
  rating_differs,     // R3.3 one-way: the source wins
  rating_newer,       // R4.4: the newer rated_at wins
  rating_preferred,   // R4.4: no dates, the source of truth wins
  progress_ahead,     // progress: the source is further
  progress_newer,     // progress: the source moved back, with a newer timestamp
  approved,           // R5.3: a pending deletion the user approved
  corrected,          // `cw override`: the user's corrected watch date travels as an update
  rated_at_newer,     // propagate_rated_at: the same rating, rated again later
};

enum class HoldReason : std::uint8_t {
  drop_guard,     // R5.1: derived from a suspect snapshot (pending, R5.3)
  mass_delete,    // R5.2 (pending, R5.3)
  blackbox,       // R5.4
  provider_down,  // R2.3: no writes to a down side
  unsupported,    // the provider cannot do this operation for the feature
};

std::string_view to_string(ActionKind k);
std::string_view to_string(ActionReason r);
std::string_view to_string(HoldReason r);
std::optional<ActionKind> action_kind_from_string(std::string_view s);
std::optional<ActionReason> action_reason_from_string(std::string_view s);
std::optional<HoldReason> hold_reason_from_string(std::string_view s);
// Held removals for these reasons become pending deletions (R5.3).
bool is_pending_hold(HoldReason r);

struct Action {
  ActionKind kind = ActionKind::add;
  Side side = Side::target;  // the side written to
  std::string key;           // outcome key; unique per (side, kind) in a feature plan
  Item item;                 // adds: the other side's item (no extra); updates/removes:
                             // this side's item (its extra kept) with the new values
  ActionReason reason = ActionReason::missing_on_target;
  // Removes caused by a deletion observed on the other side: that side's baseline key,
  // so settlement keeps it in the baseline until the removal is settled.
  std::string cause_key;
  std::string note;  // e.g. "date will be lost" (R3.5)
  bool operator==(const Action&) const = default;
};

struct HeldAction {
  Action action;
  HoldReason hold = HoldReason::drop_guard;
  std::string detail;
  Instant first_seen = 0;  // pending holds: when first held
  bool operator==(const HeldAction&) const = default;
};

// An action the pair's scope left out (`filter`: types, from_date, min_rating, exclude).
struct FilteredAction {
  Action action;
  std::string filter;
  bool operator==(const FilteredAction&) const = default;
};

struct SideSummary {
  std::string provider;
  std::string fingerprint;
  Health health = Health::ok;
  Semantics semantics = Semantics::present;
  bool complete = true;
  bool suspect = false;  // R5.1
  std::string suspect_reason;
  bool has_baseline = false;
  std::size_t items = 0;
  bool operator==(const SideSummary&) const = default;
};

struct FeaturePlan {
  std::string pair;
  Feature feature = Feature::watchlist;
  PairMode mode = PairMode::one_way;
  bool event_mode = false;  // history: one entry per play (R3.4)
  SideSummary source;
  SideSummary target;
  bool skipped = false;  // nothing planned (auth failure, unsupported feature, ...)
  std::string skip_reason;
  std::vector<Action> actions;
  std::vector<HeldAction> held;
  std::vector<std::string> notes;  // plan-level remarks (R4.5, R3.5 summary, ...)
  // Pending deletions that expired this run (side, key): forgotten, the baseline advances.
  std::vector<PendingDeletion> expired_pending;
  // Pending deletions the user declined (`cw pending drop`) that this run derived again:
  // intentionally ignored, neither removed nor held, so the baseline advances (R6.3).
  std::vector<PendingDeletion> declined_pending;
  // Items no write was planned for because their identity is unclear (R1.4: a title that
  // matches several items, reason `ambiguous`); `side` is the side that lacks them.
  // Settlement keeps them in the state's unresolved list (R5.5) while they are derived.
  std::vector<UnresolvedEntry> unresolved;
  // What the feature's scope left alone, every action with the filter that did it.
  std::vector<FilteredAction> filtered;
  // R2.3: a side that is down is not read, so the other side's items are compared with
  // nothing (no adds, removes or holds are planned): how many, and which side is down
  // ("target down"). Empty reason: everything was compared.
  std::size_t not_compared = 0;
  std::string not_compared_reason;
  bool operator==(const FeaturePlan&) const = default;
};

struct PlanCounts {
  std::size_t adds = 0, updates = 0, removes = 0, held = 0;
};
PlanCounts count(const FeaturePlan& p);
// How many actions each scope filter left out, by filter name (sorted).
std::map<std::string, std::size_t> filtered_counts(const FeaturePlan& p);
PlanCounts count(const FeaturePlan& p, Side side);

struct Plan {
  int version = 1;
  Instant created_at = 0;
  std::vector<FeaturePlan> features;
  bool operator==(const Plan&) const = default;
};

nlohmann::json to_json(const Action& a);
nlohmann::json to_json(const FeaturePlan& p);
nlohmann::json to_json(const Plan& p);
Result<Action> action_from_json(const nlohmann::json& j);
Result<FeaturePlan> feature_plan_from_json(const nlohmann::json& j);
Result<Plan> plan_from_json(const nlohmann::json& j);

// Per pair and feature: header with counts, then adds, updates, removes and held, each
// with its reason. Sides are shown by provider instance name.
std::string render_text(const FeaturePlan& p);
std::string render_text(const Plan& p);

// `cw apply --plan FILE --approve-deletes`: turns held pending removals (drop guard,
// mass delete) into actions with reason `approved`. Returns how many were released.
std::size_t approve_held_removals(FeaturePlan& p);

// `cw apply --plan FILE` (R7.1): a saved plan is what the user approved, not an instruction.
// `fresh` is the plan made now from the current configuration, state and guards; the result
// is `fresh` restricted to the actions the approved plan also has (compared whole: kind,
// side, key, item and reason), and to the held actions it also holds. `differences` names,
// one line each, every action or hold that is in one plan and not the other: an edited file
// (an invented add, a write to the source of a one-way pair, a held removal moved into the
// actions) or a changed configuration (`remove: false` since) shows up there.
struct ApprovedPlan {
  FeaturePlan plan;
  std::vector<std::string> differences;
};
ApprovedPlan reconcile_with_approved(const FeaturePlan& approved, const FeaturePlan& fresh);

}  // namespace cw::engine
