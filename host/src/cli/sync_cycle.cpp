#include <unistd.h>

#include <cw/cli/exit_codes.hpp>
#include <cw/cli/sync_cycle.hpp>
#include <cw/engine/time.hpp>
#include <cw/state/backups.hpp>

namespace cw::cli {
namespace {

std::string make_run_id(std::int64_t now_s) {
  std::string t = engine::format_time(now_s);  // 2026-11-24T02:30:00Z
  std::string compact;
  for (char c : t)
    if (c != '-' && c != ':') compact += c;
  return compact + "-" + std::to_string(::getpid());
}

}  // namespace

sync::SessionOptions with_globals(const GlobalOptions& global, sync::SessionOptions options) {
  options.config_path = global.config_path;
  options.plugin_dirs = global.plugin_dirs;
  options.plugin_isolation = global.plugin_isolation;
  options.in_process = global.in_process;
  options.log_level = global.log_level;
  options.log_format = global.log_format;
  return options;
}

int exit_code_for(const sync::SessionError& error) {
  switch (error.cause) {
    case sync::SessionError::Cause::config:
      return k_exit_config;
    case sync::SessionError::Cause::locked:
      return k_exit_locked;
    case sync::SessionError::Cause::usage:
      return k_exit_usage;
    case sync::SessionError::Cause::other:
      break;
  }
  return k_exit_failure;
}

CycleOutcome run_sync_cycle(const sync::SessionOptions& options, CycleRequest request,
                            const sync::RunObserver& observer) {
  CycleOutcome out;
  auto opened = sync::Session::open(options);
  if (auto* err = std::get_if<sync::SessionError>(&opened)) {
    out.session_error = *err;
    return out;
  }
  auto& session = *std::get<std::unique_ptr<sync::Session>>(opened);
  const bool dry = request.dry_run || session.dry_run();
  out.dry = dry;

  sync::SyncRunner runner = session.runner();
  sync::SyncOptions opt = session.run_options();
  opt.run_id = make_run_id(opt.now_s);
  opt.pair_filter = request.pair;
  opt.feature_filter = request.feature;
  opt.dry_run = dry;
  opt.approve_deletes = request.approve_deletes;
  opt.plan = std::move(request.plan);
  opt.allow_drift = request.allow_drift;
  out.result = runner.run(session.config().pairs, opt, observer);

  nlohmann::json& report = out.result.report;
  report["command"] = request.command;
  report["finished_at"] = session.now_s();
  nlohmann::json providers = session.provider_info();
  out.http = session.http_report();
  const nlohmann::json& http = out.http;
  for (auto& [inst, info] : providers.items()) {
    info["operations"] = nlohmann::json::object();
    if (auto it = runner.calls().find(inst); it != runner.calls().end())
      info["operations"] = it->second;
    info["http"] = http.contains("requests") && http["requests"].contains(inst)
                       ? http["requests"][inst]
                       : nlohmann::json::array();
  }
  report["providers"] = providers;
  if (http.contains("budgets")) report["http_budgets"] = http["budgets"];

  if (!dry && out.result.status != sync::RunStatus::drifted) {
    // A rolling copy of what this run committed (`cw state restore` puts one back); none
    // when the newest copy already holds it: a run that changed nothing writes nothing.
    if (auto same = state::current_backup(session.store(), session.config().state_dir)) {
      report["backup"] = same->string();
      report["backup_unchanged"] = true;
    } else if (auto backup =
                   state::make_backup(session.store(), session.config().state_dir, opt.run_id)) {
      report["backup"] = backup->string();
    } else {
      session.logger().warn("cw", "no backup of the state was made: " + backup.error().message);
    }
  }
  if (!dry) {
    state::RunReport rr;
    rr.run_id = opt.run_id;
    rr.started_at = report.value("started_at", std::int64_t{0});
    rr.finished_at = session.now_s();
    rr.status = report.value("status", "failed");
    rr.report = report;
    if (auto st = session.store().save_report(rr); !st)
      session.logger().error("cw", "could not store the run report: " + st.error().message);
  }
  return out;
}

}  // namespace cw::cli
