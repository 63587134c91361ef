// `cw provider <instance> <action> [--args JSON]`: runs one of the maintenance
// actions a provider's manifest lists (the local tracker's snapshot.list,
// snapshot.restore, ...) and prints the JSON document it returns. Only the
// named instance is created; the run lock is held so that an action never
// changes a provider while a run reads or writes it.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/config/config_secrets.hpp>
#include <cw/plugin/discovery.hpp>
#include <cw/plugin/host_api.hpp>
#include <cw/plugin/manifest.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/http/curl_http_service.hpp>
#include <cw/services/http/http_options.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/services/secrets/host_secret_store.hpp>
#include <cw/services/secrets/token_store.hpp>
#include <cw/state/run_lock.hpp>

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

  auto logger_r = services::Logger::from_options(global.log_level, global.log_format);
  if (!logger_r) {
    std::cerr << "cw: " << logger_r.error().message << "\n";
    return k_exit_usage;
  }
  std::unique_ptr<services::Logger> logger = std::move(logger_r).value();

  const std::string config_path = global.config_path.empty() ? "cw.yaml" : global.config_path;
  auto cfg_r = config::load_config(config_path);
  if (!cfg_r) {
    std::cerr << cfg_r.error().message << "\n";
    return k_exit_config;
  }
  config::Config cfg = std::move(cfg_r).value();
  config::ProviderConfig* pc = nullptr;
  std::string known;
  for (auto& p : cfg.providers) {
    known += (known.empty() ? "" : ", ") + p.name;
    if (p.name == pa.instance) pc = &p;
  }
  if (pc == nullptr) {
    std::cerr << "cw provider: no provider instance \"" << pa.instance << "\" in " << config_path
              << " (instances: " << (known.empty() ? "none" : known) << ")\n";
    return k_exit_usage;
  }

  auto lock = state::RunLock::acquire(cfg.state_dir);
  if (!lock) {
    std::cerr << "cw provider: " << lock.error().message << "\n";
    return lock.error().kind == ErrorKind::transient ? k_exit_locked : k_exit_failure;
  }

  // The services lent to the plugin, declared before the registry and the
  // instance so that they are destroyed after them.
  services::SystemClock clock;
  services::MemoryKvStore kv;
  services::FileTokenStore tokens(services::default_token_dir(cfg.path));
  std::unique_ptr<config::ConfigSecretStore> config_secrets;
  services::HostSecretStore secrets(
      [&](const std::string& instance,
          const std::string& name) -> Result<std::optional<std::string>> {
        if (!config_secrets || !config_secrets->defines(instance, name))
          return std::optional<std::string>();
        auto v = config_secrets->get(instance, name);
        if (!v) return v.error();
        logger->add_secret(*v);
        return std::optional<std::string>(*v);
      },
      tokens);
  services::CurlHttpService http;
  services::SignalCancelToken::install_signal_handlers();
  const plugin::HostServices host{
      *logger, clock, services::SignalCancelToken::instance(), &kv, &secrets, &http, false};

  plugin::Registry registry(host);
  plugin::SearchPathOptions sp;
  for (const auto& d : global.plugin_dirs) sp.plugin_dirs.emplace_back(d);
  registry.load_folders(plugin::plugin_search_path(sp));
  registry.log_rejections();
  auto lib = registry.get(pc->plugin);
  if (!lib) {
    std::cerr << "cw provider: " << pc->pos.to_string() << ": providers." << pc->name << ": "
              << lib.error().message << "\n";
    return k_exit_failure;
  }
  const plugin::Manifest& manifest = (*lib)->manifest();
  if (pa.action == "list") {
    json out = json::array();
    for (const auto& a : manifest.actions)
      out.push_back({{"name", a.name}, {"description", a.description}});
    std::cout << (pa.indent ? out.dump(2) : out.dump()) << "\n";
    return k_exit_ok;
  }
  if (!manifest.has_action(pa.action)) {
    std::cerr << "cw provider: plugin " << manifest.name << " (instance " << pc->name
              << ") has no action \"" << pa.action << "\" (actions: " << action_names(manifest)
              << ")\n";
    return k_exit_usage;
  }
  pc->mark_secret_keys(manifest.secrets);
  if (auto v = plugin::validate_against_schema(manifest.config_schema.dump(), pc->settings.dump(),
                                               "providers." + pc->name);
      !v) {
    std::cerr << pc->pos.to_string() << ": " << v.error().message << "\n";
    return k_exit_config;
  }
  config_secrets = std::make_unique<config::ConfigSecretStore>(cfg, nullptr);
  if (auto limits = services::rate_limits_from_manifest(manifest.raw); limits)
    http.configure_instance(pc->name, *limits);

  auto inst = plugin::ProviderInstance::create(*lib, pc->name, pc->settings, host);
  if (!inst) {
    std::cerr << "cw provider: " << inst.error().message << "\n";
    return k_exit_failure;
  }
  auto result = (*inst)->action(pa.action, pa.args);
  if (!result) {
    std::cerr << "cw provider: " << pc->name << " " << pa.action << ": "
              << logger->redact(result.error().message) << "\n";
    return k_exit_failure;
  }
  std::cout << logger->redact(pa.indent ? result->dump(2) : result->dump()) << "\n";
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
    "it). Key/value data the plugin writes during an action is not kept.\n"
    "Exit: 0 done, 1 the action failed, 2 bad command line or unknown instance or action,\n"
    "3 invalid configuration, 5 state directory in use.\n",
    &run_provider};

}  // namespace cw::cli
