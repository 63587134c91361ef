// `cw config validate`: parses the configuration, loads the plugins it names and checks
// each provider's settings against its plugin's schema; prints every error (one line each,
// with file, line, column and key path) or OK and a summary of what it defines.
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/plugin_services.hpp>
#include <cw/config/config.hpp>
#include <cw/plugin/manifest.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/secrets/config_secret_store.hpp>

namespace cw::cli {
namespace {

std::string feature_summary(const engine::FeaturePolicy& f) {
  std::string ops;
  const auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!ops.empty()) ops += ",";
    ops += name;
  };
  add(f.add, "add");
  add(f.remove, "remove");
  add(f.update, "update");
  if (f.remove && f.removal == engine::RemovalMode::mirror) ops += "(mirror)";
  if (f.rewatches) add(true, "rewatches");
  return "[" + (ops.empty() ? std::string("read only") : ops) + "]";
}

// What a run would refuse when it loads the plugins: a provider naming no plugin this cw
// can load, or settings that break the plugin's schema. One line each, at the provider.
std::vector<std::string> plugin_errors(const GlobalOptions& global, config::Config& cfg) {
  std::vector<std::string> errors;
  auto svc = make_plugin_services(global);
  if (!svc) return {svc.error().message};
  plugin::SearchPathOptions sp;
  for (const auto& d : global.plugin_dirs) sp.plugin_dirs.emplace_back(d);
  auto policy = isolation_policy(global, sp, cfg.plugins.isolation);
  if (!policy) return {policy.error().message};
  policy->in_process.insert(cfg.plugins.in_process.begin(), cfg.plugins.in_process.end());
  plugin::Registry registry(*(*svc)->host, std::move(*policy));
  registry.load_folders(plugin::plugin_search_path(sp));
  std::string loaded;
  for (const auto& p : registry.plugins())
    loaded += (loaded.empty() ? "" : ", ") + p->manifest().name;
  for (auto& pc : cfg.providers) {
    auto lib = registry.get(pc.plugin);
    if (!lib) {
      errors.push_back(pc.pos.to_string() + ": providers." + pc.name + ".plugin: no plugin '" +
                       pc.plugin + "' was found (found: " + (loaded.empty() ? "none" : loaded) +
                       "; see cw plugins list)");
      continue;
    }
    const plugin::Manifest& m = (*lib)->manifest();
    pc.mark_secret_keys(m.secrets);
    if (auto v = plugin::validate_against_schema(m.config_schema.dump(), pc.settings.dump(),
                                                 "providers." + pc.name);
        !v)
      errors.push_back(pc.pos.to_string() + ": " + v.error().message);
  }
  return errors;
}

int run_config(const GlobalOptions& global, const Invocation& call) {
  const std::string path = global.config_path.empty() ? "cw.yaml" : global.config_path;
  config::ConfigParse parsed = config::parse_config_file(path);
  if (!parsed.config) {
    for (const auto& e : parsed.errors) std::cerr << e.to_string() << "\n";
    std::cerr << parsed.errors.size() << (parsed.errors.size() == 1 ? " error" : " errors")
              << " in " << path << "\n";
    return k_exit_config;
  }
  config::Config& cfg = *parsed.config;
  if (!call.flag("no-plugins")) {
    const auto errors = plugin_errors(global, cfg);
    for (const auto& e : errors) std::cerr << e << "\n";
    if (!errors.empty()) {
      std::cerr << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in " << path
                << "\n";
      return k_exit_config;
    }
  }
  // Unset variables and missing files are warnings: validation often runs where the
  // secrets are not (CI, another machine); the run itself reports them as errors.
  services::ConfigSecretStore secrets(cfg);
  for (const auto& problem : secrets.check()) std::cerr << "warning: " << problem << "\n";

  if (global.quiet) return k_exit_ok;
  std::cout << "OK: " << path << "\n";
  std::cout << "state_dir: " << cfg.state_dir.string() << "\n";
  std::cout << "providers (" << cfg.providers.size() << "):\n";
  for (const auto& p : cfg.providers) {
    std::cout << "  " << p.name << ": plugin " << p.plugin << ", " << p.settings.size()
              << (p.settings.size() == 1 ? " setting" : " settings");
    if (!p.secrets.empty()) {
      std::cout << " (secret:";
      for (const auto& [name, ref] : p.secrets) std::cout << " " << name;
      std::cout << ")";
    }
    std::cout << "\n";
  }
  std::cout << "pairs (" << cfg.pairs.size() << "):\n";
  for (const auto& pair : cfg.pairs) {
    const auto& p = pair.policy;
    std::cout << "  " << p.name << ": " << p.source
              << (p.mode == engine::PairMode::two_way ? " <-> " : " -> ") << p.target << ", "
              << config::to_string(p.mode);
    if (!pair.enabled) std::cout << ", disabled";
    if (pair.dry_run) std::cout << ", dry run";
    std::cout << "\n    ";
    bool any = false;
    for (const auto& [f, fp] : p.features) {
      if (!fp.enabled) continue;
      std::cout << (any ? " " : "") << config::to_string(f) << feature_summary(fp);
      any = true;
    }
    if (!any) std::cout << "no feature enabled";
    const auto& g = p.guards;
    std::cout << "\n    guards: drop_guard " << (g.drop_guard ? "on" : "off") << ", mass_delete "
              << g.mass_delete_max_ratio << "/" << g.mass_delete_max_count << ", tombstone_ttl "
              << config::format_duration(g.tombstone_ttl_s) << ", pending_ttl "
              << config::format_duration(g.pending_ttl_s) << ", blackbox " << g.blackbox_failures
              << " runs/" << config::format_duration(g.blackbox_ttl_s) << "\n";
  }
  if (cfg.sync.dry_run) std::cout << "sync.dry_run is on: runs plan and print, and write nothing\n";
  return k_exit_ok;
}

void validate_options(boost::program_options::options_description& opts) {
  opts.add_options()("no-plugins", boost::program_options::bool_switch(),
                     "check the file only: do not load the plugins (where they are not "
                     "installed)");
}

}  // namespace

const Command k_config_command = {
    "config",
    "check the configuration file",
    {{"validate",
      "check every key of the configuration",
      {},
      &validate_options,
      "Reads the configuration (default ./cw.yaml) and checks every key against\n"
      "docs/cw.schema.json (built in): types, allowed values, ranges, unknown keys (with a\n"
      "suggestion); then duplicate names, pairs naming unknown providers, a feature enabled\n"
      "twice for the same two providers. Prints OK and a summary of the providers and pairs,\n"
      "or every error as FILE:LINE:COLUMN: KEY: what was expected, with (at /json/pointer)\n"
      "for what the schema refuses.\n"
      "Secrets written as ${env:NAME} or ${file:PATH} that cannot be resolved now are warnings.\n"
      "Then loads the plugins (the folders cw run searches) and checks that every provider\n"
      "names one that loads and that its settings match the plugin's schema, as a run\n"
      "would; --no-plugins skips that.\n"}},
    "Exit: 0 valid, 2 bad command line, 3 invalid configuration.\n",
    &run_config};

}  // namespace cw::cli
