// `cw map add|list|rm`: manual mappings kept in the state database. A mapping gives the
// item an instance knows by KEY (the key plans and unresolved lists show, e.g.
// `movie|title:solaris|year:2002`) the ids it should have; every later run applies it to
// that instance's reads before matching (docs/usage.md).
#include <ctime>
#include <iomanip>
#include <iostream>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/engine/identity.hpp>
#include <cw/engine/time.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

namespace cw::cli {
namespace {

// "imdb:tt0307479" -> ("imdb", "tt0307479"), normalised as every id read (R1.2).
std::optional<std::pair<std::string, std::string>> parse_id(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const auto kind = engine::id_kind_from_string(text.substr(0, colon));
  if (!kind || *kind == engine::IdKind::other || engine::is_server_local(*kind))
    return std::nullopt;
  auto value = engine::normalize_id(*kind, text.substr(colon + 1));
  if (!value) return std::nullopt;
  return std::make_pair(std::string(engine::to_string(*kind)), *value);
}

int list(state::StateStore& store, const Invocation& call) {
  auto rows = store.mappings(call.value("instance"));
  if (!rows) {
    std::cerr << "cw map list: " << rows.error().message << "\n";
    return k_exit_failure;
  }
  if (call.value("output", "text") == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& m : *rows)
      j.push_back({{"instance", m.instance},
                   {"key", m.key},
                   {"ids", nlohmann::json::parse(m.ids, nullptr, false)},
                   {"created_at", m.created_at}});
    std::cout << j.dump(2) << "\n";
    return k_exit_ok;
  }
  if (rows->empty()) {
    std::cout << "no mappings\n";
    return k_exit_ok;
  }
  std::cout << std::left << std::setw(16) << "INSTANCE" << std::setw(44) << "KEY" << std::setw(36)
            << "IDS"
            << "SINCE\n";
  for (const auto& m : *rows)
    std::cout << std::left << std::setw(16) << m.instance << std::setw(44) << m.key << std::setw(36)
              << m.ids << engine::format_time(m.created_at) << "\n";
  return k_exit_ok;
}

int change(state::StateStore& store, const Invocation& call) {
  const std::string& instance = call.operands.at(0);
  const std::string& key = call.operands.at(1);
  if (call.verb == "rm") {
    auto removed = store.mapping_remove(instance, key);
    if (!removed) {
      std::cerr << "cw map rm: " << removed.error().message << "\n";
      return k_exit_failure;
    }
    if (!*removed) {
      std::cerr << "cw map rm: no mapping of " << key << " on " << instance
                << "; `cw map list` shows them\n";
      return k_exit_failure;
    }
    std::cout << "removed the mapping of " << key << " on " << instance << "\n";
    return k_exit_ok;
  }
  nlohmann::json ids = nlohmann::json::object();
  for (const auto& to : call.values("to")) {
    auto id = parse_id(to);
    if (!id) {
      std::cerr << "cw map add: --to " << to
                << ": expected an id as kind:value (imdb:tt0111161, tmdb:603, tvdb:81189, ...)\n";
      return k_exit_usage;
    }
    ids[id->first] = id->second;
  }
  if (ids.empty()) {
    std::cerr << "cw map add: give the ids with --to KIND:VALUE (one or more)\n";
    return k_exit_usage;
  }
  state::IdMapping m{instance, key, ids.dump(), static_cast<std::int64_t>(std::time(nullptr))};
  if (auto st = store.mapping_put(m); !st) {
    std::cerr << "cw map add: " << st.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << "mapped " << key << " on " << instance << " to " << ids.dump()
            << "; every later run reads it with these ids\n";
  return k_exit_ok;
}

int run_map(const GlobalOptions& global, const Invocation& call) {
  auto dir = config::locate_state_dir(global.config_path, call.value("state-dir"));
  if (!dir) {
    std::cerr << dir.error().message << "\n"
              << "cw map: fix the configuration, or name the state directory with --state-dir\n";
    return k_exit_config;
  }
  if (call.verb == "list") {
    auto store = state::StateStore::open(*dir, state::OpenMode::read_only);
    if (!store) {
      std::cerr << "cw map list: " << store.error().message << "\n";
      return k_exit_failure;
    }
    return list(**store, call);
  }
  auto lock = state::RunLock::acquire(*dir);
  if (!lock) {
    std::cerr << "cw map " << call.verb << ": " << lock.error().message << "\n";
    return lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
  }
  auto store = state::StateStore::open(*dir, state::OpenMode::read_write);
  if (!store) {
    std::cerr << "cw map " << call.verb << ": " << store.error().message << "\n";
    return k_exit_failure;
  }
  return change(**store, call);
}

void add_options(po::options_description& opts) {
  opts.add_options()("to", po::value<std::vector<std::string>>()->value_name("KIND:VALUE"),
                     "an id the item should have (repeatable): imdb:tt0307479, tmdb:2103, ...");
  add_state_dir_option(opts);
}

void list_options(po::options_description& opts) {
  opts.add_options()("instance", po::value<std::string>()->value_name("NAME"),
                     "only this provider instance's mappings");
  add_output_option(opts);
  add_state_dir_option(opts);
}

}  // namespace

const Command k_map_command = {
    "map",
    "give an item the ids it should have (manual mappings)",
    {{"add",
      "map an instance's item to ids",
      {"INSTANCE KEY", 2, 2},
      &add_options,
      "KEY is the item's key on INSTANCE as plans and unresolved lists show it. Every later\n"
      "run reads that item with these ids in place of its own (server-local ids kept;\n"
      "seasons and episodes get them as their show's ids), before matching.\n"},
     {"list", "the mappings", {}, &list_options, ""},
     {"rm", "remove a mapping", {"INSTANCE KEY", 2, 2}, &add_state_dir_option, ""}},
    "Mappings are kept in the state database and exported by `cw state export`.\n"
    "Exit: 0 ok, 1 failure or no such mapping, 2 bad command line, 3 invalid configuration,\n"
    "5 another cw run holds the state directory.\n",
    &run_map};

}  // namespace cw::cli
