#pragma once
// One sync cycle (snapshot, plan, apply, commit) with everything a run keeps afterwards: the
// report with the providers' operations and HTTP accounting, a rolling backup of the state
// and the report stored in the state database. `cw run|plan|apply` and each scheduled run
// of `cw serve` go through here, so a run looks the same whoever started it.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <cw/cli/command_line.hpp>
#include <cw/engine/plan.hpp>
#include <cw/sync/session.hpp>
#include <cw/sync/sync_runner.hpp>

namespace cw::cli {

struct CycleRequest {
  std::string command = "run";  // run | plan | apply | serve: names the report
  std::string pair;             // empty: every enabled pair
  std::string feature;
  bool dry_run = false;
  bool approve_deletes = false;
  std::optional<engine::Plan> plan;  // apply
  bool allow_drift = false;
};

struct CycleOutcome {
  // Set when the session could not be opened (bad configuration, the lock held by another
  // run, ...); nothing else is then meaningful.
  std::optional<sync::SessionError> session_error;
  bool dry = false;  // the run wrote nothing (asked for, or every selected pair is dry)
  sync::SyncResult result;
  // The HTTP service's report of this run (requests with latencies, budgets): metrics.
  nlohmann::json http;
};

// The global options laid over `options` (configuration, plugin folders, logging).
sync::SessionOptions with_globals(const GlobalOptions& global, sync::SessionOptions options);

CycleOutcome run_sync_cycle(const sync::SessionOptions& options, CycleRequest request,
                            const sync::RunObserver& observer);

// The exit code for a session that could not be opened (exit_codes.hpp).
int exit_code_for(const sync::SessionError& error);

}  // namespace cw::cli
