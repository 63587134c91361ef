// `cw pending list|approve|drop`: the deletions the guards held (R5.3). Approved ones are
// applied by the next run (if still true); dropped ones are marked declined: the next run
// ignores them on purpose (no remove, no hold), advances the baseline past them (R6.3)
// and forgets them, which keeps the item on the target.
#include <ctime>
#include <iomanip>
#include <iostream>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/engine/time.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

namespace cw::cli {
namespace {

struct PendingArgs {
  std::string sub;
  std::string pair;
  std::string feature;
  std::string output;
  bool all = false;
  std::vector<std::string> keys;
};

std::string pending_time(std::int64_t t) { return engine::format_time(t); }

int list_pending(state::StateStore& store, const PendingArgs& a) {
  auto rows = store.pending(a.pair, a.feature);
  if (!rows) {
    std::cerr << "cw pending list: " << rows.error().message << "\n";
    return k_exit_failure;
  }
  if (a.output == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [scope, p] : *rows) {
      const auto slash = scope.find('/');
      j.push_back({{"pair", scope.substr(0, slash)},
                   {"feature", scope.substr(slash + 1)},
                   {"side", p.side},
                   {"key", p.key},
                   {"reason", p.reason},
                   {"first_seen", p.first_seen},
                   {"approved", p.approved},
                   {"declined", p.declined},
                   {"item", p.item}});
    }
    std::cout << j.dump(2) << "\n";
    return k_exit_ok;
  }
  if (rows->empty()) {
    std::cout << "no pending deletions\n";
    return k_exit_ok;
  }
  std::cout << std::left << std::setw(28) << "PAIR/FEATURE" << std::setw(14) << "REMOVE FROM"
            << std::setw(36) << "KEY" << std::setw(14) << "REASON" << std::setw(22) << "FIRST SEEN"
            << "STATUS\n";
  for (const auto& [scope, p] : *rows) {
    std::string title;
    if (p.item.is_object() && p.item.contains("title") && p.item["title"].is_string())
      title = "  " + p.item["title"].get<std::string>();
    std::cout << std::left << std::setw(28) << scope << std::setw(14) << p.side << std::setw(36)
              << p.key << std::setw(14) << p.reason << std::setw(22) << pending_time(p.first_seen)
              << (p.declined   ? "declined"
                  : p.approved ? "approved"
                               : "held")
              << title << "\n";
  }
  std::cout << rows->size() << " pending; approve with `cw pending approve KEY...` or "
            << "`--all`, forget with `cw pending drop`\n";
  return k_exit_ok;
}

int change(state::StateStore& store, const PendingArgs& a) {
  if (a.keys.empty() == !a.all) {
    std::cerr << "cw pending " << a.sub << ": name the keys, or pass --all (not both)\n";
    return k_exit_usage;
  }
  const bool approve = a.sub == "approve";
  auto changed = approve ? store.approve_pending(a.pair, a.feature, a.keys)
                         : store.drop_pending(a.pair, a.feature, a.keys);
  if (!changed) {
    std::cerr << "cw pending " << a.sub << ": " << changed.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << (approve ? "approved " : "dropped ") << *changed << " pending deletion"
            << (*changed == 1 ? "" : "s") << "\n";
  if (*changed == 0) {
    std::cerr << "cw pending " << a.sub << ": nothing matched; `cw pending list` shows the keys"
              << (approve ? " (already approved ones are not counted)"
                          : " (already declined ones are not counted)")
              << "\n";
    return k_exit_failure;
  }
  if (approve)
    std::cout << "the next `cw run` applies them if they are still true\n";
  else
    std::cout << "the next `cw run` keeps these items and does not propose removing them again\n";
  return k_exit_ok;
}

int run_pending(const GlobalOptions& global, const Invocation& call) {
  PendingArgs a;
  a.sub = call.verb;
  a.pair = call.value("pair");
  a.feature = call.value("feature");
  a.output = call.value("output", "text");
  a.all = call.flag("all");
  a.keys = call.operands;
  auto dir = config::locate_state_dir(global.config_path, call.value("state-dir"));
  if (!dir) {
    std::cerr << dir.error().message << "\n"
              << "cw pending: fix the configuration, or name the state directory with "
                 "--state-dir\n";
    return k_exit_config;
  }
  if (a.sub == "list") {
    auto store = state::StateStore::open(*dir, state::OpenMode::read_only);
    if (!store) {
      std::cerr << "cw pending list: " << store.error().message << "\n";
      return k_exit_failure;
    }
    return list_pending(**store, a);
  }
  auto lock = state::RunLock::acquire(*dir);
  if (!lock) {
    std::cerr << "cw pending " << a.sub << ": " << lock.error().message << "\n";
    return lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
  }
  auto store = state::StateStore::open(*dir, state::OpenMode::read_write);
  if (!store) {
    std::cerr << "cw pending " << a.sub << ": " << store.error().message << "\n";
    return k_exit_failure;
  }
  return change(**store, a);
}

void pending_list_options(po::options_description& opts) {
  add_pair_feature_options(opts);
  add_output_option(opts);
  add_state_dir_option(opts);
}

void change_options(po::options_description& opts) {
  add_pair_feature_options(opts);
  opts.add_options()("all", po::bool_switch(), "every pending deletion in scope");
  add_state_dir_option(opts);
}

}  // namespace

const Command k_pending_command = {
    "pending",
    "list, approve or drop held deletions",
    {{"list", "the held deletions", {}, &pending_list_options, ""},
     {"approve",
      "the next run applies them (if they are still true)",
      {"(KEY... | --all)", 0, -1},
      &change_options,
      ""},
     {"drop",
      "decline them: the items stay on the target",
      {"(KEY... | --all)", 0, -1},
      &change_options,
      "The next run does not propose these removals again.\n"}},
    "Deletions held by the drop guard or the mass-delete cap stay pending until approved,\n"
    "until they stop being true (the item came back), or until pending_ttl expires.\n"
    "Exit: 0 ok, 1 failure or no matching key, 2 bad command line, 3 invalid configuration,\n"
    "5 another cw run holds the state directory.\n",
    &run_pending};

}  // namespace cw::cli
