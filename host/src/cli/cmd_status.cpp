// `cw status`: what the status page of `cw serve` shows, read from the state directory (no
// server needed): the pairs and their schedules, the last runs, the held deletions,
// blackboxed and unresolved items and the providers of the last run. --output json prints
// the document of /api/status (without the server's own parts).
#include <iostream>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/serve/status.hpp>
#include <cw/state/state_store.hpp>

namespace cw::cli {
namespace {

int run_status(const GlobalOptions& global, const Invocation& call) {
  auto dir = config::locate_state_dir(global.config_path, call.value("state-dir"));
  if (!dir) {
    std::cerr << dir.error().message << "\n"
              << "cw status: fix the configuration, or name the state directory with "
                 "--state-dir\n";
    return k_exit_config;
  }
  nlohmann::json schedule = nlohmann::json::object();
  if (!call.has("state-dir")) {
    // The configuration is valid (locate_state_dir read it): the schedules come from it.
    auto cfg = config::load_config(global.config_path.empty() ? "cw.yaml" : global.config_path);
    if (cfg) {
      for (const auto& pc : cfg->pairs) {
        if (!pc.enabled) continue;
        nlohmann::json s = nullptr;
        if (pc.schedule)
          s = pc.schedule->every_s > 0 ? "every " + config::format_duration(pc.schedule->every_s)
                                       : "cron " + pc.schedule->cron;
        schedule[pc.policy.name] = {{"schedule", s}};
      }
    }
  }
  auto store = state::StateStore::open(*dir, state::OpenMode::read_only);
  if (!store) {
    std::cerr << "cw status: " << store.error().message << "\n";
    return k_exit_failure;
  }
  serve::StatusLimits limits;
  limits.runs = std::stoi(call.value("runs", "5"));
  auto status = serve::collect_status(**store, limits);
  if (!status) {
    std::cerr << "cw status: " << status.error().message << "\n";
    return k_exit_failure;
  }
  if (!schedule.empty()) (*status)["schedule"] = schedule;
  if (call.value("output", "text") == "json")
    std::cout << status->dump(2) << "\n";
  else
    std::cout << serve::render_text(*status);
  return k_exit_ok;
}

void status_options(po::options_description& opts) {
  add_output_option(opts);
  add_state_dir_option(opts);
  opts.add_options()("runs", po::value<std::string>()->value_name("N"),
                     "recent runs to show (default 5)");
}

}  // namespace

const Command k_status_command = {
    "status",
    "the pairs, last runs and what is held, as the status page shows them",
    {{"", "", {}, &status_options, ""}},
    "Reads the state directory only (read-only; no lock, no provider is contacted).\n"
    "Exit: 0 shown, 1 no readable state, 3 invalid configuration.\n",
    &run_status};

}  // namespace cw::cli
