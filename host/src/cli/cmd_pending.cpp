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

const char* const k_pending_usage =
    "usage: cw [--config FILE] pending list [--pair P] [--feature F] [--output text|json]\n"
    "       cw [--config FILE] pending approve (KEY... | --all) [--pair P] [--feature F]\n"
    "       cw [--config FILE] pending drop (KEY... | --all) [--pair P] [--feature F]\n"
    "\n"
    "Deletions held by the drop guard or the mass-delete cap stay pending until approved,\n"
    "until they stop being true (the item came back), or until pending_ttl expires.\n"
    "approve  the next run applies them (if they are still true)\n"
    "drop     decline them: the items stay on the target and the next run does not propose\n"
    "         these removals again\n"
    "Every command also takes --state-dir DIR instead of the configuration's state_dir.\n"
    "exit codes: 0 ok, 1 failure or no matching key, 2 bad command line,\n"
    "3 invalid configuration, 5 another cw run holds the state directory\n";

struct PendingArgs {
  std::string sub;
  std::string state_dir;
  std::string pair;
  std::string feature;
  std::string output = "text";
  bool all = false;
  std::vector<std::string> keys;
};

std::optional<PendingArgs> parse_args(const std::vector<std::string>& args, std::string& error) {
  PendingArgs a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) {
        error = arg + " needs a value";
        return false;
      }
      into = args[++i];
      return true;
    };
    if (arg == "--state-dir") {
      if (!value(a.state_dir)) return std::nullopt;
    } else if (arg == "--pair") {
      if (!value(a.pair)) return std::nullopt;
    } else if (arg == "--feature") {
      if (!value(a.feature)) return std::nullopt;
      if (!config::feature_from_string(a.feature)) {
        error = "--feature: expected one of watchlist, history, ratings, progress";
        return std::nullopt;
      }
    } else if (arg == "--output") {
      if (!value(a.output)) return std::nullopt;
      if (a.output != "text" && a.output != "json") {
        error = "--output: expected text or json";
        return std::nullopt;
      }
    } else if (arg == "--all") {
      a.all = true;
    } else if (arg.rfind("--", 0) == 0) {
      error = "unknown option " + arg;
      return std::nullopt;
    } else if (a.sub.empty()) {
      a.sub = arg;
    } else {
      a.keys.push_back(arg);
    }
  }
  return a;
}

std::string format_time(std::int64_t t) { return engine::format_time(t); }

int list(state::StateStore& store, const PendingArgs& a) {
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
              << p.key << std::setw(14) << p.reason << std::setw(22) << format_time(p.first_seen)
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

int run_pending(const GlobalOptions& global, const std::vector<std::string>& args) {
  std::string error;
  auto a = parse_args(args, error);
  if (!a || a->sub.empty()) {
    std::cerr << (error.empty() ? "" : "cw pending: " + error + "\n") << k_pending_usage;
    return k_exit_usage;
  }
  if (a->sub != "list" && a->sub != "approve" && a->sub != "drop") {
    std::cerr << "cw pending: no sub-command '" << a->sub << "'\n" << k_pending_usage;
    return k_exit_usage;
  }
  if (a->sub == "list" && (!a->keys.empty() || a->all)) {
    std::cerr << "cw pending list: takes no keys; filter with --pair and --feature\n";
    return k_exit_usage;
  }
  auto dir = config::locate_state_dir(global.config_path, a->state_dir);
  if (!dir) {
    std::cerr << dir.error().message << "\n"
              << "cw pending: fix the configuration, or name the state directory with "
                 "--state-dir\n";
    return k_exit_config;
  }
  if (a->sub == "list") {
    auto store = state::StateStore::open(*dir, state::OpenMode::read_only);
    if (!store) {
      std::cerr << "cw pending list: " << store.error().message << "\n";
      return k_exit_failure;
    }
    return list(**store, *a);
  }
  auto lock = state::RunLock::acquire(*dir);
  if (!lock) {
    std::cerr << "cw pending " << a->sub << ": " << lock.error().message << "\n";
    return lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
  }
  auto store = state::StateStore::open(*dir, state::OpenMode::read_write);
  if (!store) {
    std::cerr << "cw pending " << a->sub << ": " << store.error().message << "\n";
    return k_exit_failure;
  }
  return change(**store, *a);
}

}  // namespace

const Command k_pending_command = {"pending", "list, approve or drop held deletions",
                                   k_pending_usage, &run_pending};

}  // namespace cw::cli
