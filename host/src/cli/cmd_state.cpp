// `cw state show|export|reset|unblock`: inspect and repair the state database.
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>

#include <unistd.h>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/engine/time.hpp>
#include <cw/state/backups.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

namespace cw::cli {
namespace {

struct StateArgs {
  std::string state_dir;
  std::string pair;
  std::string feature;
  std::string output;
  std::string out_file;
  bool yes = false;
  std::vector<std::string> keys;
};

StateArgs args_of(const Invocation& call) {
  StateArgs a;
  a.state_dir = call.value("state-dir");
  a.pair = call.value("pair");
  a.feature = call.value("feature");
  a.output = call.value("output", "text");
  a.out_file = call.value("out");
  a.yes = call.flag("yes");
  a.keys = call.operands;
  return a;
}

// Times are shown as the engine writes them everywhere else; 0 means "never".
std::string format_time(std::int64_t t) { return t <= 0 ? "never" : engine::format_time(t); }

// Resolves the state directory; prints the reason and sets `exit` on failure.
std::optional<std::filesystem::path> state_dir(const GlobalOptions& global, const StateArgs& a,
                                               int& exit) {
  auto dir = config::locate_state_dir(global.config_path, a.state_dir);
  if (!dir) {
    std::cerr << dir.error().message << "\n";
    std::cerr << "cw state: fix the configuration, or name the state directory with --state-dir\n";
    exit = k_exit_config;
    return std::nullopt;
  }
  return *dir;
}

int show(const std::filesystem::path& dir, const StateArgs& a) {
  auto store = state::StateStore::open(dir, state::OpenMode::read_only);
  if (!store) {
    std::cerr << "cw state show: " << store.error().message << "\n";
    return k_exit_failure;
  }
  auto sums = (*store)->summaries();
  auto last = (*store)->recent_reports(1);
  if (!sums || !last) {
    std::cerr << "cw state show: " << (!sums ? sums.error() : last.error()).message << "\n";
    return k_exit_failure;
  }
  const auto holder = state::RunLock::holder(dir);
  // The user's matching controls. The state keeps each side's baseline, not which item
  // matched which: `cw match` reads both sides and explains one item's match.
  const auto maps = (*store)->mappings("");
  const auto overrides = (*store)->overrides("");
  const std::size_t n_maps = maps ? maps->size() : 0;
  const std::size_t n_overrides = overrides ? overrides->size() : 0;
  std::size_t n_unresolved = 0;
  for (const auto& s : *sums) n_unresolved += s.unresolved;
  if (a.output == "json") {
    nlohmann::json j;
    j["state_db"] = (*store)->path().string();
    j["schema_version"] = (*store)->schema_version();
    j["running_pid"] = holder ? nlohmann::json(*holder) : nlohmann::json();
    auto& list = j["pair_features"] = nlohmann::json::array();
    for (const auto& s : *sums)
      list.push_back({{"pair", s.pair},
                      {"feature", s.feature},
                      {"baselines", s.baseline_sizes},
                      {"tombstones", s.tombstones},
                      {"pending", s.pending},
                      {"pending_approved", s.pending_approved},
                      {"blocked", s.blocked},
                      {"unresolved", s.unresolved},
                      {"flapping", s.flapping},
                      {"last_run_id", s.last_run_id},
                      {"last_commit_at", s.last_commit_at}});
    j["mappings"] = n_maps;
    j["overrides"] = n_overrides;
    if (!last->empty())
      j["last_run"] = {{"run_id", last->front().run_id},
                       {"status", last->front().status},
                       {"started_at", last->front().started_at},
                       {"finished_at", last->front().finished_at}};
    std::cout << j.dump(2) << "\n";
    return k_exit_ok;
  }
  std::cout << "state: " << (*store)->path().string() << " (schema v" << (*store)->schema_version()
            << ")\n";
  if (holder) std::cout << "a run is in progress (PID " << *holder << ")\n";
  if (sums->empty()) {
    std::cout << "no pair has stored state yet\n";
  } else {
    std::cout << std::left << std::setw(22) << "PAIR" << std::setw(11) << "FEATURE" << std::setw(30)
              << "BASELINES" << std::setw(7) << "TOMBS" << std::setw(10) << "PENDING"
              << std::setw(9) << "BLOCKED" << std::setw(12) << "UNRESOLVED"
              << "LAST COMMIT\n";
    for (const auto& s : *sums) {
      std::string sizes;
      for (const auto& [side, n] : s.baseline_sizes)
        sizes += (sizes.empty() ? "" : " ") + side + "=" + std::to_string(n);
      if (sizes.empty()) sizes = "-";
      std::string pending = std::to_string(s.pending);
      if (s.pending_approved > 0) pending += " (" + std::to_string(s.pending_approved) + " ok)";
      std::cout << std::left << std::setw(22) << s.pair << std::setw(11) << s.feature
                << std::setw(30) << sizes << std::setw(7) << s.tombstones << std::setw(10)
                << pending << std::setw(9) << s.blocked << std::setw(12) << s.unresolved
                << format_time(s.last_commit_at) << "\n";
    }
  }
  if (!last->empty()) {
    const auto& r = last->front();
    std::cout << "last run: " << r.run_id << ", " << r.status << ", finished "
              << format_time(r.finished_at) << "\n";
  }
  if (n_maps > 0 || n_overrides > 0)
    std::cout << "manual mappings: " << n_maps << " (cw map list), overrides: " << n_overrides
              << " (cw override list)\n";
  if (n_unresolved > 0) std::cout << "why an item matched or did not: cw match INSTANCE KEY\n";
  return k_exit_ok;
}

int export_state(const std::filesystem::path& dir, const StateArgs& a) {
  auto store = state::StateStore::open(dir, state::OpenMode::read_only);
  if (!store) {
    std::cerr << "cw state export: " << store.error().message << "\n";
    return k_exit_failure;
  }
  auto j = (*store)->export_json();
  if (!j) {
    std::cerr << "cw state export: " << j.error().message << "\n";
    return k_exit_failure;
  }
  if (a.out_file.empty()) {
    std::cout << j->dump(2) << "\n";
    return k_exit_ok;
  }
  std::ofstream out(a.out_file, std::ios::binary | std::ios::trunc);
  out << j->dump(2) << "\n";
  if (!out) {
    std::cerr << "cw state export: cannot write " << a.out_file << "\n";
    return k_exit_failure;
  }
  return k_exit_ok;
}

// Opens the store for a change, holding the run lock so no run commits in between.
struct Writable {
  state::RunLock lock;
  std::unique_ptr<state::StateStore> store;
};

std::optional<Writable> open_writable(const std::filesystem::path& dir, const char* what,
                                      int& exit) {
  auto lock = state::RunLock::acquire(dir);
  if (!lock) {
    std::cerr << "cw " << what << ": " << lock.error().message << "\n";
    exit = lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
    return std::nullopt;
  }
  auto store = state::StateStore::open(dir, state::OpenMode::read_write);
  if (!store) {
    std::cerr << "cw " << what << ": " << store.error().message << "\n";
    exit = k_exit_failure;
    return std::nullopt;
  }
  return Writable{std::move(*lock), std::move(*store)};
}

int reset(const std::filesystem::path& dir, const StateArgs& a) {
  std::string scope = a.pair.empty() ? "every pair" : "pair " + a.pair;
  if (!a.feature.empty()) scope += ", feature " + a.feature;
  if (!a.yes) {
    if (isatty(STDIN_FILENO) == 0) {
      std::cerr << "cw state reset: would forget the state of " << scope
                << "; add --yes to confirm (stdin is not a terminal)\n";
      return k_exit_usage;
    }
    std::cerr << "Forget the state of " << scope << " in " << dir.string()
              << "?\nThe next run will be a first run: it adds what is missing and deletes "
                 "nothing. Type yes to continue: ";
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "yes" && answer != "y") {
      std::cerr << "nothing was changed\n";
      return k_exit_failure;
    }
  }
  int exit = k_exit_ok;
  auto w = open_writable(dir, "state reset", exit);
  if (!w) return exit;
  auto removed = w->store->reset(a.pair, a.feature);
  if (!removed) {
    std::cerr << "cw state reset: " << removed.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << "reset " << scope << ": " << *removed << " rows removed\n";
  return k_exit_ok;
}

int unblock(const std::filesystem::path& dir, const StateArgs& a) {
  int exit = k_exit_ok;
  auto w = open_writable(dir, "state unblock", exit);
  if (!w) return exit;
  auto removed = w->store->unblock(a.keys.front(), a.pair, a.feature);
  if (!removed) {
    std::cerr << "cw state unblock: " << removed.error().message << "\n";
    return k_exit_failure;
  }
  if (*removed == 0) {
    std::cerr << "cw state unblock: " << a.keys.front()
              << " is not blocked; `cw state show` lists the blocked counts\n";
    return k_exit_failure;
  }
  std::cout << "released " << a.keys.front() << " (" << *removed << " entries)\n";
  return k_exit_ok;
}

// Full integrity_check (every page, every index entry); opening already ran quick_check.
int check(const std::filesystem::path& dir) {
  auto store = state::StateStore::open(dir, state::OpenMode::read_only);
  if (!store) {
    std::cerr << "cw state check: " << store.error().message << "\n";
    return k_exit_failure;
  }
  if (auto st = (*store)->integrity_check(); !st) {
    std::cerr << "cw state check: " << st.error().message << "\n";
    return k_exit_failure;
  }
  const auto backups = state::list_backups(dir);
  std::cout << (dir / state::k_state_db_name).string() << ": ok (schema version "
            << (*store)->schema_version() << "); " << backups.size() << " backup"
            << (backups.size() == 1 ? "" : "s") << "\n";
  return k_exit_ok;
}

// Without an operand, the backups; with one ("latest", a file name or a path), puts it
// back under the run lock, keeping the replaced file.
int restore(const std::filesystem::path& dir, const StateArgs& a) {
  const auto backups = state::list_backups(dir);
  if (a.keys.empty()) {
    if (backups.empty()) {
      std::cout << "no backups in " << (dir / state::k_backup_dir_name).string()
                << " (one is made after every run that commits)\n";
      return k_exit_ok;
    }
    for (const auto& b : backups) {
      std::error_code ec;
      std::cout << b.filename().string() << "  " << std::filesystem::file_size(b, ec) << " bytes\n";
    }
    return k_exit_ok;
  }
  std::filesystem::path chosen;
  const std::string& want = a.keys.front();
  if (want == "latest") {
    if (backups.empty()) {
      std::cerr << "cw state restore: no backups in " << (dir / state::k_backup_dir_name).string()
                << "\n";
      return k_exit_failure;
    }
    chosen = backups.front();
  } else {
    chosen = want.find('/') == std::string::npos ? dir / state::k_backup_dir_name / want
                                                 : std::filesystem::path(want);
  }
  if (!std::filesystem::is_regular_file(chosen)) {
    std::cerr << "cw state restore: no backup " << chosen.string()
              << "; `cw state restore` lists them\n";
    return k_exit_usage;
  }
  auto lock = state::RunLock::acquire(dir);
  if (!lock) {
    std::cerr << "cw state restore: " << lock.error().message << "\n";
    return lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
  }
  const std::string stamp = std::to_string(std::time(nullptr));
  auto replaced = state::restore_backup(dir, chosen, stamp);
  if (!replaced) {
    std::cerr << "cw state restore: " << replaced.error().message << "\n";
    return k_exit_failure;
  }
  // Opening it migrates it if it is older and proves it readable.
  if (auto store = state::StateStore::open(dir, state::OpenMode::read_write); !store) {
    std::cerr << "cw state restore: restored, but " << store.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << "restored " << (dir / state::k_state_db_name).string() << " from "
            << chosen.filename().string();
  if (!replaced->empty()) std::cout << "; the replaced file is kept as " << replaced->string();
  std::cout << "\n";
  return k_exit_ok;
}

int run_state(const GlobalOptions& global, const Invocation& call) {
  const StateArgs a = args_of(call);
  int exit = k_exit_ok;
  auto dir = state_dir(global, a, exit);
  if (!dir) return exit;
  if (call.verb == "show") return show(*dir, a);
  if (call.verb == "export") return export_state(*dir, a);
  if (call.verb == "reset") return reset(*dir, a);
  if (call.verb == "check") return check(*dir);
  if (call.verb == "restore") return restore(*dir, a);
  return unblock(*dir, a);
}

void show_options(po::options_description& opts) {
  add_output_option(opts);
  add_state_dir_option(opts);
}

void export_options(po::options_description& opts) {
  opts.add_options()("out", po::value<std::string>()->value_name("FILE"),
                     "write to FILE instead of stdout");
  add_state_dir_option(opts);
}

void reset_options(po::options_description& opts) {
  add_pair_feature_options(opts);
  opts.add_options()("yes,y", po::bool_switch(), "do not ask for confirmation");
  add_state_dir_option(opts);
}

void unblock_options(po::options_description& opts) {
  add_pair_feature_options(opts);
  add_state_dir_option(opts);
}

}  // namespace

const Command k_state_command = {
    "state",
    "inspect, export, check, restore or reset the sync state",
    {{"show",
      "the state of every pair and feature",
      {},
      &show_options,
      "Per pair and feature: baseline sizes per side, tombstones, pending deletions,\n"
      "blocked (blackbox) keys, unresolved items, and the last run.\n"},
     {"export",
      "the whole state database as JSON",
      {},
      &export_options,
      "Plugin data values and secrets are excluded.\n"},
     {"reset",
      "forget the state of every pair, or of --pair/--feature",
      {},
      &reset_options,
      "Forgets baselines, tombstones, pending, flaps, blackbox and unresolved items; the next\n"
      "run is a first run (nothing is deleted anywhere). Asks for confirmation unless --yes.\n"},
     {"unblock",
      "release a key held by the blackbox",
      {"KEY", 1, 1},
      &unblock_options,
      "The next run tries KEY again (R5.4).\n"},
     {"check",
      "check the state database page by page",
      {},
      &add_state_dir_option,
      "Runs SQLite's integrity_check on state.db (every open already runs quick_check and\n"
      "refuses a damaged or empty file). Exit 0 when it is sound, 1 otherwise.\n"},
     {"restore",
      "list the backups, or put one back",
      {"BACKUP", 0, 1},
      &add_state_dir_option,
      "After every run that commits, state.db is copied to backups/state-<run id>.db and the\n"
      "newest 3 are kept. Without BACKUP, lists them, newest first; with BACKUP (latest, a\n"
      "file name from the list, or a path) checks it and puts it in place of state.db, under\n"
      "the run lock. The replaced file is kept as state.db.replaced-<time>.\n"}},
    "The state directory is the configuration's state_dir unless --state-dir is given.\n"
    "Exit: 0 ok, 1 failure, 2 bad command line, 3 invalid configuration,\n"
    "5 another cw run holds the state directory.\n",
    &run_state};

}  // namespace cw::cli
