// `cw override add|list|rm`: the user's corrections of items, kept in the state database.
// An override names the item an instance knows by KEY (the key plans show, e.g.
// `movie:imdb:tt0111161`) and either corrects a value that instance has wrong (its watch
// date, its rating) or keeps the item out of sync for good; every later run applies it to
// that instance's reads before matching (docs/usage.md).
#include <cmath>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/engine/time.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

namespace cw::cli {
namespace {

// What the override does, in words: "watched_at 2024-01-02T03:04:05Z, rating 8, ignore".
std::string describe(const state::ItemOverride& o) {
  std::string out;
  const auto part = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (o.watched_at) part("watched_at " + engine::format_time(*o.watched_at));
  if (o.rating) {
    std::ostringstream r;
    r << *o.rating;
    part("rating " + r.str());
  }
  if (o.ignore) part("ignore");
  return out;
}

int list_overrides(state::StateStore& store, const Invocation& call) {
  auto rows = store.overrides(call.value("instance"));
  if (!rows) {
    std::cerr << "cw override list: " << rows.error().message << "\n";
    return k_exit_failure;
  }
  if (call.value("output", "text") == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& o : *rows) j.push_back(state::to_json(o));
    std::cout << j.dump(2) << "\n";
    return k_exit_ok;
  }
  if (rows->empty()) {
    std::cout << "no overrides\n";
    return k_exit_ok;
  }
  std::cout << std::left << std::setw(16) << "INSTANCE" << std::setw(44) << "KEY" << std::setw(44)
            << "OVERRIDE"
            << "SINCE\n";
  for (const auto& o : *rows)
    std::cout << std::left << std::setw(16) << o.instance << std::setw(44) << o.key << std::setw(44)
              << describe(o) << engine::format_time(o.created_at) << "\n";
  return k_exit_ok;
}

int remove(state::StateStore& store, const std::string& instance, const std::string& key) {
  auto removed = store.override_remove(instance, key);
  if (!removed) {
    std::cerr << "cw override rm: " << removed.error().message << "\n";
    return k_exit_failure;
  }
  if (!*removed) {
    std::cerr << "cw override rm: no override of " << key << " on " << instance
              << "; `cw override list` shows them\n";
    return k_exit_failure;
  }
  std::cout << "removed the override of " << key << " on " << instance
            << "; the next run reads it as " << instance << " has it\n";
  return k_exit_ok;
}

int add(state::StateStore& store, const Invocation& call) {
  state::ItemOverride o;
  o.instance = call.operands.at(0);
  o.key = call.operands.at(1);
  o.created_at = static_cast<std::int64_t>(std::time(nullptr));
  o.ignore = call.flag("ignore");
  if (call.has("watched-at")) {
    o.watched_at = engine::parse_time(call.value("watched-at"));
    if (!o.watched_at) {
      std::cerr << "cw override add: --watched-at " << call.value("watched-at")
                << ": expected a UTC time as 2024-01-02T03:04:05Z (or a date, 2024-01-02)\n";
      return k_exit_usage;
    }
  }
  if (call.has("rating")) {
    const std::string text = call.value("rating");
    char* end = nullptr;
    const double r = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !std::isfinite(r) || r < 0 || r > 10) {
      std::cerr
          << "cw override add: --rating " << text
          << ": expected a rating from 0 to 10 (cw's scale; each target gets it on its own)\n";
      return k_exit_usage;
    }
    o.rating = r;
  }
  if (!o.watched_at && !o.rating && !o.ignore) {
    std::cerr << "cw override add: say what to override: --watched-at TIME, --rating N or "
                 "--ignore\n";
    return k_exit_usage;
  }
  if (auto st = store.override_put(o); !st) {
    std::cerr << "cw override add: " << st.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << "override of " << o.key << " on " << o.instance << ": " << describe(o)
            << (o.ignore ? "; every later run leaves it alone on every pair"
                         : "; every later run reads it with this value")
            << "\n";
  return k_exit_ok;
}

int run_override(const GlobalOptions& global, const Invocation& call) {
  auto dir = config::locate_state_dir(global.config_path, call.value("state-dir"));
  if (!dir) {
    std::cerr << dir.error().message << "\n"
              << "cw override: fix the configuration, or name the state directory with "
                 "--state-dir\n";
    return k_exit_config;
  }
  if (call.verb == "list") {
    auto store = state::StateStore::open(*dir, state::OpenMode::read_only);
    if (!store) {
      std::cerr << "cw override list: " << store.error().message << "\n";
      return k_exit_failure;
    }
    return list_overrides(**store, call);
  }
  auto lock = state::RunLock::acquire(*dir);
  if (!lock) {
    std::cerr << "cw override " << call.verb << ": " << lock.error().message << "\n";
    return lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
  }
  auto store = state::StateStore::open(*dir, state::OpenMode::read_write);
  if (!store) {
    std::cerr << "cw override " << call.verb << ": " << store.error().message << "\n";
    return k_exit_failure;
  }
  if (call.verb == "rm") return remove(**store, call.operands.at(0), call.operands.at(1));
  return add(**store, call);
}

void override_add_options(po::options_description& opts) {
  opts.add_options()("watched-at", po::value<std::string>()->value_name("TIME"),
                     "history: the item's watch date (UTC, 2024-01-02T03:04:05Z)")(
      "rating", po::value<std::string>()->value_name("N"), "ratings: the item's rating, 0-10")(
      "ignore", po::bool_switch(), "keep the item out of sync for good, on every pair");
  add_state_dir_option(opts);
}

void override_list_options(po::options_description& opts) {
  opts.add_options()("instance", po::value<std::string>()->value_name("NAME"),
                     "only this provider instance's overrides");
  add_output_option(opts);
  add_state_dir_option(opts);
}

}  // namespace

const Command k_override_command = {
    "override",
    "correct an item's watch date or rating, or keep it out of sync (overrides)",
    {{"add",
      "override an instance's item",
      {"INSTANCE KEY", 2, 2},
      &override_add_options,
      "KEY is the item's key on INSTANCE as plans show it. Every later run reads that item\n"
      "with the corrected watch date (its plays become that one play) or rating (rated at\n"
      "the time of the override), before matching; a correction reaches the other side of\n"
      "each pair where that side can store it (history: as an update, when it can update a\n"
      "watch date). --ignore leaves the item alone on every pair: nothing is added, updated\n"
      "or removed for it. Adding an override of the same item again replaces it.\n"},
     {"list", "the overrides", {}, &override_list_options, ""},
     {"rm", "remove an override", {"INSTANCE KEY", 2, 2}, &add_state_dir_option, ""}},
    "Overrides are kept in the state database and exported by `cw state export`.\n"
    "Exit: 0 ok, 1 failure or no such override, 2 bad command line, 3 invalid configuration,\n"
    "5 another cw run holds the state directory.\n",
    &run_override};

}  // namespace cw::cli
