#pragma once
// SyncRunner: one run of cw (DESIGN.md "The data path"). For each enabled pair and
// feature: health (R2.3) → snapshots (each provider instance and feature read once per
// run and shared by every pair, R6.4) → plan (engine::plan_feature, pure) → apply (Applier:
// chunked, journalled, per-key outcomes) → settle (engine::settle) → commit (one state
// transaction per pair and feature, R6.3). A dry run plans only: the state store is
// read-only and no provider write operation is called (R5.6). A run from a saved plan
// (`cw apply --plan`) re-reads the snapshots first and refuses to write anything when one
// changed since the plan was made, or when planning again now (current configuration, state
// and guards) does not give the same actions (R7.1).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/config.hpp>
#include <cw/engine/plan.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/applier.hpp>
#include <cw/sync/provider_port.hpp>

namespace cw::sync {

struct SyncOptions {
  std::string run_id;
  std::string pair_filter;     // empty: every enabled pair
  std::string feature_filter;  // empty: every enabled feature
  bool dry_run = false;
  bool approve_deletes = false;  // release held pending removals of this run's plan (R5.3)
  // `cw apply --plan`: the approved plan. It is planned again now; only the actions both
  // contain are applied, and any difference refuses the whole apply unless allow_drift.
  std::optional<engine::Plan> plan;
  bool allow_drift = false;
  std::int64_t now_s = 0;
  // The configuration's `id_resolver` (an instance whose plugin declares resolve_ids);
  // empty: items are matched by the ids they carry.
  std::string id_resolver;
  // `cw match INSTANCE KEY`: read the snapshots as a dry run would, then, instead of
  // planning, explain how that item of that instance matched the other side of each pair
  // and feature (the report entry's `match`).
  std::optional<std::pair<std::string, std::string>> explain;
  // How much one item of an index reply may carry (`plugins.max_field`, `max_extra`).
  engine::ItemLimits item_limits;
};

enum class RunStatus { ok, partial, failed, cancelled, drifted };
const char* to_string(RunStatus s);

// Progress of the run as it happens (the terminal display). All optional.
struct RunObserver {
  // phase: "health", "snapshot", "plan", "apply", "commit"
  std::function<void(const std::string& pair, const std::string& feature, const std::string& phase,
                     std::size_t done, std::size_t total)>
      on_phase;
};

struct SyncResult {
  engine::Plan plan;      // what was planned (or, with options.plan, what was applied)
  nlohmann::json report;  // the run report (R7.2), see docs/usage.md
  RunStatus status = RunStatus::ok;
  std::vector<std::string> errors;  // one line each
};

class SyncRunner {
 public:
  // `providers`: every configured instance that could be created, by instance name.
  // `create_errors`: instance name -> why it could not be created (its pairs fail).
  SyncRunner(std::map<std::string, ProviderPort*> providers,
             std::map<std::string, std::string> create_errors, state::StateStore& store,
             services::CancelToken& cancel, services::Logger& log, ApplierOptions applier);

  SyncResult run(const std::vector<config::PairConfig>& pairs, const SyncOptions& options,
                 const RunObserver& observer = {});

  // Per provider instance: plugin operations called in this run, by operation.
  const std::map<std::string, std::map<std::string, int>>& calls() const { return m_calls; }

 private:
  struct Impl;
  std::map<std::string, ProviderPort*> m_providers;
  std::map<std::string, std::string> m_create_errors;
  state::StateStore& m_store;
  services::CancelToken& m_cancel;
  services::Logger& m_log;
  ApplierOptions m_applier;
  std::map<std::string, std::map<std::string, int>> m_calls;
};

}  // namespace cw::sync
