#pragma once
// Settlement (R6.3, R5.3–R5.5, R4.2): from a feature plan and the applier's per-key
// outcomes, the state to commit. Pure.
//
// Invariants: a baseline advances only for items whose fate is settled; it never moves
// past a held deletion or an unsettled propagated deletion; a side whose provider is down
// keeps its baseline unchanged (R2.3), as does a dry run (the caller does not settle).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/plan.hpp>
#include <cw/engine/planner.hpp>
#include <cw/engine/snapshot.hpp>
#include <cw/engine/state_model.hpp>

namespace cw::engine {

enum class OutcomeStatus : std::uint8_t { confirmed, skipped, unresolved, unknown };
std::string_view to_string(OutcomeStatus s);

struct Outcome {
  Side side = Side::target;
  ActionKind kind = ActionKind::add;
  std::string key;
  OutcomeStatus status = OutcomeStatus::unknown;
  std::string reason;  // unresolved: not_found | rate_limited | rejected | unknown
  std::string message;
};

// Reads an add/remove/update response (`{"outcomes":[...]}`) for the keys that were sent.
// Every sent key gets exactly one outcome; a key the provider did not mention is
// `unknown` (R2.2 Fix: never inferred from counts). Keys not sent are ignored.
std::vector<Outcome> outcomes_from_response(Side side, ActionKind kind,
                                            const std::vector<std::string>& sent_keys,
                                            const nlohmann::json& response);

struct SettlementSummary {
  std::size_t confirmed = 0, skipped = 0, unresolved = 0, unknown = 0;
  std::size_t tombstones_added = 0, pending = 0, newly_blocked = 0;
};

struct Settlement {
  PairFeatureState state;
  SettlementSummary summary;
};

// `previous` is the state the plan was made from (PriorState::from(previous)).
// Actions without an outcome count as unknown. Held actions were not sent.
Settlement settle(const PairPolicy& policy, const FeaturePlan& plan,
                  const std::vector<Outcome>& outcomes, const Snapshot& source,
                  const Snapshot& target, const PairFeatureState& previous, Instant now);

}  // namespace cw::engine
