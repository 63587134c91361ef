// `cw provider <instance> <action> [--args JSON]`: runs one of the maintenance
// actions a provider's manifest lists (the local tracker's snapshot.list,
// snapshot.restore, ...) and prints the JSON document it returns. Only the
// named instance is created (sync::Session, purpose action: the configuration's
// `http:` block, secrets, the plugin's persisted kv store); the run lock is held so
// that an action never changes a provider while a run reads or writes it.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/open_session.hpp>
#include <cw/plugin/manifest.hpp>
#include <cw/plugin/provider_instance.hpp>

using nlohmann::json;

namespace cw::cli {
namespace {

struct ProviderArgs {
  std::string instance;
  std::string action;
  json args = json::object();
  bool indent = true;
};

// Reads the command line; an error is the one-line message for stderr.
std::optional<std::string> args_of(const Invocation& call, ProviderArgs& out) {
  out.instance = call.operands[0];
  out.action = call.operands[1];
  out.indent = call.value("output", "json") == "json";
  if (call.has("args")) {
    const std::string v = call.value("args");
    out.args = json::parse(v, nullptr, false);
    if (out.args.is_discarded() || !out.args.is_object())
      return "--args: expected a JSON object such as '{\"feature\":\"ratings\"}', got '" + v + "'";
  }
  return std::nullopt;
}

std::string action_names(const plugin::Manifest& m) {
  std::string out;
  for (const auto& a : m.actions) out += (out.empty() ? "" : ", ") + a.name;
  return out.empty() ? "none" : out;
}

int run_provider(const GlobalOptions& global, const Invocation& call) {
  ProviderArgs pa;
  if (auto err = args_of(call, pa)) {
    std::cerr << "cw provider: " << *err << "\n";
    return k_exit_usage;
  }

  sync::SessionOptions so;
  so.purpose = sync::Purpose::action;
  so.instance = pa.instance;
  auto opened = open_session(global, so, "provider");
  if (const int* exit = std::get_if<int>(&opened)) return *exit;
  sync::Session& session = *std::get<std::unique_ptr<sync::Session>>(opened);

  const plugin::Manifest* manifest = session.manifest_of(pa.instance);
  if (manifest == nullptr) {
    std::cerr << "cw provider: " << session.create_errors().at(pa.instance) << "\n";
    return k_exit_failure;
  }
  if (pa.action == "list") {
    json out = json::array();
    for (const auto& a : manifest->actions)
      out.push_back({{"name", a.name}, {"description", a.description}});
    std::cout << (pa.indent ? out.dump(2) : out.dump()) << "\n";
    return k_exit_ok;
  }
  if (!manifest->has_action(pa.action)) {
    std::cerr << "cw provider: plugin " << manifest->name << " (instance " << pa.instance
              << ") has no action \"" << pa.action << "\" (actions: " << action_names(*manifest)
              << ")\n";
    return k_exit_usage;
  }
  plugin::ProviderInstance* inst = session.instance(pa.instance);
  if (inst == nullptr) {
    std::cerr << "cw provider: " << session.create_errors().at(pa.instance) << "\n";
    return session.settings_invalid(pa.instance) ? k_exit_config : k_exit_failure;
  }
  services::Logger& logger = session.logger();
  auto result = inst->action(pa.action, pa.args);
  if (!result) {
    std::cerr << "cw provider: " << pa.instance << " " << pa.action << ": "
              << logger.redact(result.error().message) << "\n";
    return k_exit_failure;
  }
  if (auto kept = session.keep_plugin_data(pa.instance); !kept) {
    std::cerr << "cw provider: " << pa.instance << " " << pa.action
              << ": done, but its data could not be stored: " << kept.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << logger.redact(pa.indent ? result->dump(2) : result->dump()) << "\n";
  return k_exit_ok;
}

void provider_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("args", po::value<std::string>()->value_name("JSON"),
       "the action's arguments, a JSON object (default {})")
      ("output", choice("json|text"), "json (default: indented) or text (one line)");
  // clang-format on
}

}  // namespace

const Command k_provider_command = {
    "provider",
    "run a provider's maintenance action",
    {{"",
      "",
      {"INSTANCE ACTION", 2, 2},
      &provider_options,
      "Runs ACTION of the provider instance INSTANCE (a key under `providers` in the\n"
      "configuration) and prints the JSON document it returns. A plugin's actions are listed\n"
      "in its manifest (`cw plugins list --output json`); `cw provider INSTANCE list` prints\n"
      "them. Examples, for a local tracker (plugin crosswatch):\n"
      "  cw provider backup snapshot.list\n"
      "  cw provider backup snapshot.list --args '{\"feature\":\"ratings\"}'\n"
      "  cw provider backup snapshot.restore --args "
      "'{\"feature\":\"ratings\",\"timestamp\":\"latest\"}'\n"
      "  cw provider backup snapshot.prune\n"}},
    "The state directory's run lock is held while the action runs (exit 5 when a run holds\n"
    "it). Key/value data the plugin writes during an action is kept when the action succeeds.\n"
    "Exit: 0 done, 1 the action failed, 2 bad command line or unknown instance or action,\n"
    "3 invalid configuration, 5 state directory in use.\n",
    &run_provider};

}  // namespace cw::cli
