// `cw plugins list|check`: what plugins this cw sees, and whether one file passes the
// contract checks a third party runs before shipping.
#include <iostream>
#include <map>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/plugin_services.hpp>
#include <cw/plugin/checker.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/http/curl_http_service.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/services/secrets/secret_store.hpp>

namespace po = boost::program_options;
using nlohmann::json;

namespace cw::cli {
namespace {

// `plugins check`: the configuration's secret keys, served to the plugin by get_secret as
// a run would (the plugin sees "${secret}" in its configuration); tokens it stores are kept
// in memory only.
class CheckSecrets final : public services::SecretStore {
 public:
  explicit CheckSecrets(std::map<std::string, std::string> values) : m_values(std::move(values)) {}
  Result<std::string> get(const std::string&, const std::string& name) override {
    const auto it = m_values.find(name);
    if (it == m_values.end())
      return make_error("no secret '" + name + "' in --config-json", ErrorKind::not_found);
    return it->second;
  }
  Status put(const std::string&, const std::string& name, const std::string& value) override {
    m_values[name] = value;
    return ok_status();
  }

 private:
  std::map<std::string, std::string> m_values;
};

// `plugins check --base-url`: real HTTP, confined to the base URL the user named, so a
// check never reaches anything else (a plugin with a hard-coded host fails loudly).
class ConfinedHttp final : public services::HttpService {
 public:
  ConfinedHttp(std::string base, config::HttpOptions options)
      : m_base(std::move(base)), m_http(std::move(options)) {}
  Result<services::HttpResponse> send(const services::HttpContext& ctx,
                                      const services::HttpRequest& request,
                                      const services::BodySink& sink) override {
    if (request.url.compare(0, m_base.size(), m_base) != 0)
      return make_error("plugins check --base-url " + m_base + ": a request to another address (" +
                            request.method + " " + request.endpoint + ") was not sent",
                        ErrorKind::unsupported);
    return m_http.send(ctx, request, sink);
  }

 private:
  std::string m_base;
  services::CurlHttpService m_http;
};

std::string features_text(const plugin::Manifest& m) {
  std::string out;
  for (const auto& [name, f] : m.features) {
    std::string ops;
    if (f.add) ops += "add,";
    if (f.remove) ops += "remove,";
    if (f.update) ops += "update,";
    if (!ops.empty()) ops.pop_back();
    out += (out.empty() ? "" : " ") + name + "(" + f.index_semantics + (ops.empty() ? "" : ";") +
           ops + ")";
  }
  return out;
}

std::string capabilities_text(const plugin::Manifest& m) {
  std::string out = "auth:" + m.auth;
  if (m.scrobble) out += " scrobble";
  if (!m.actions.empty()) out += " actions:" + std::to_string(m.actions.size());
  return out;
}

int run_list(const GlobalOptions& global, const std::string& output) {
  auto svc = make_plugin_services(global);
  if (!svc) {
    std::cerr << "cw: " << svc.error().message << "\n";
    return k_exit_usage;
  }
  plugin::SearchPathOptions sp;
  for (const auto& d : global.plugin_dirs) sp.plugin_dirs.emplace_back(d);
  auto policy = isolation_policy(global, sp);
  if (!policy) {
    std::cerr << "cw: " << policy.error().message << "\n";
    return k_exit_usage;
  }
  plugin::Registry registry(*(*svc)->host, std::move(*policy));
  registry.load_folders(plugin::plugin_search_path(sp));
  registry.log_rejections();

  if (output == "json") {
    json out = {{"plugins", json::array()}, {"rejected", json::array()}};
    for (const auto& p : registry.plugins()) {
      const auto& m = p->manifest();
      out["plugins"].push_back(
          {{"name", m.name},
           {"version", m.version},
           {"display_name", m.display_name},
           {"abi", std::to_string(p->abi_major()) + "." + std::to_string(p->abi_minor())},
           {"path", p->path().string()},
           {"features", m.raw.at("features")},
           {"capabilities", m.raw.at("capabilities")},
           {"actions", m.raw.value("actions", json::array())}});
    }
    for (const auto& r : registry.rejections())
      out["rejected"].push_back(
          {{"path", r.path.string()}, {"message", r.message}, {"duplicate", r.duplicate}});
    std::cout << out.dump(2) << "\n";
  } else {
    if (registry.plugins().empty()) {
      std::cout << "no plugins found; add a folder with --plugin-dir or $CW_PLUGIN_PATH\n";
    }
    for (const auto& p : registry.plugins()) {
      const auto& m = p->manifest();
      std::cout << m.name << " " << m.version << " (ABI " << p->abi_major() << "." << p->abi_minor()
                << ")  " << p->path().string() << "\n"
                << "  features:     " << features_text(m) << "\n"
                << "  capabilities: " << capabilities_text(m) << "\n";
    }
  }
  return registry.has_duplicates() ? k_exit_failure : k_exit_ok;
}

// Puts a fault on a cw-sandbox fake (POST /__sandbox/faults), or clears them (nullptr).
Status install_sandbox_fault(services::HttpService& http, const std::string& base_url,
                             const json* spec) {
  services::HttpRequest request;
  request.method = spec != nullptr ? "POST" : "DELETE";
  request.url = base_url + "/__sandbox/faults";
  request.read = false;
  request.endpoint = "/__sandbox/faults";
  if (spec != nullptr) {
    request.headers = {{"Content-Type", "application/json"}};
    request.body = spec->dump();
  }
  auto reply = http.send({"check", "sandbox", false, nullptr}, request, nullptr);
  if (!reply)
    return make_error("cw-sandbox fault control: " + reply.error().message, reply.error().kind);
  if (reply->status / 100 != 2)
    return make_error("cw-sandbox fault control at " + request.url + ": HTTP " +
                          std::to_string(reply->status) + " (is the service a cw-sandbox fake?)",
                      ErrorKind::invalid_arg);
  return ok_status();
}

int run_check(const GlobalOptions& global, const Invocation& call) {
  const std::string& path = call.operands.front();
  const std::string config_json = call.value("config-json");
  std::string base_url = call.value("base-url");
  json config = json::object();
  if (!config_json.empty()) {
    config = json::parse(config_json, nullptr, false);
    if (config.is_discarded() || !config.is_object()) {
      std::cerr << "cw plugins check: --config-json must be a JSON object, e.g. "
                   "'{\"url\":\"http://127.0.0.1:32400\"}'\n";
      return k_exit_usage;
    }
  }
  if (!base_url.empty() && base_url.rfind("http://", 0) != 0 &&
      base_url.rfind("https://", 0) != 0) {
    std::cerr << "cw plugins check: --base-url must be an http:// or https:// URL\n";
    return k_exit_usage;
  }
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  auto svc = make_plugin_services(global);
  if (!svc) {
    std::cerr << "cw: " << svc.error().message << "\n";
    return k_exit_usage;
  }
  plugin::CheckOptions options;
  auto policy = isolation_policy(global, {});
  if (!policy) {
    std::cerr << "cw: " << policy.error().message << "\n";
    return k_exit_usage;
  }
  options.load = policy->options_for(path);
  options.writes = call.flag("writes") || !base_url.empty();
  if (const std::string fault = call.value("fault"); !fault.empty()) {
    options.drill = plugin::find_fault_drill(fault);
    if (options.drill == nullptr || base_url.empty()) {
      std::string names;
      for (const auto& d : plugin::fault_drills()) names += (names.empty() ? "" : ", ") + d.name;
      std::cerr << "cw plugins check: --fault " << fault
                << (options.drill == nullptr ? " is not a fault drill: use one of " + names
                                             : " needs --base-url (a cw-sandbox fake)")
                << "\n";
      return k_exit_usage;
    }
    // A drill judges reads; the round trip belongs to the clean check.
    options.writes = false;
  }
  std::unique_ptr<ConfinedHttp> http;
  std::unique_ptr<CheckSecrets> secrets;
  if (!base_url.empty()) {
    options.network = true;
    if (!config.contains("url")) config["url"] = base_url;
    config::HttpOptions http_options;
    http_options.max_attempts = 2;  // a check reports what it meets; it does not wait it out
    http_options.max_wait_ms = 10'000;
    http_options.timeout_ms = 15'000;
    http = std::make_unique<ConfinedHttp>(base_url, http_options);
    (*svc)->host->http = http.get();
    options.install_fault = [&http, &base_url](const json* spec) {
      return install_sandbox_fault(*http, base_url, spec);
    };
  }
  // Secret keys (the manifest's `secrets`) go through get_secret, as in a run.
  if (auto lib = plugin::Library::load(path, *(*svc)->host, options.load); lib) {
    std::map<std::string, std::string> values;
    for (const auto& key : (*lib)->manifest().secrets) {
      if (config.contains(key) && config[key].is_string())
        values[key] = config[key].get<std::string>();
    }
    secrets = std::make_unique<CheckSecrets>(std::move(values));
    (*svc)->host->secrets = secrets.get();
    config = plugin::mask_secrets(config, (*lib)->manifest().secrets);
  }
  const auto report = plugin::check_plugin(path, config, *(*svc)->host, options);
  if (call.value("output", "text") == "json")
    std::cout << report.to_json().dump(2) << "\n";
  else
    std::cout << report.to_text();
  return report.passed() ? k_exit_ok : k_exit_failure;
}

int run_plugins(const GlobalOptions& global, const Invocation& call) {
  const std::string output = call.value("output", "text");
  if (call.verb == "list") return run_list(global, output);
  return run_check(global, call);
}

void check_options(po::options_description& opts) {
  opts.add_options()("config-json", po::value<std::string>()->value_name("JSON"),
                     "the instance configuration (a JSON object; default {})")(
      "base-url", po::value<std::string>()->value_name("URL"),
      "check against a running service (a sandbox or test account): real HTTP, confined "
      "to URL; sets the configuration's url when it has none; implies --writes")(
      "writes", po::bool_switch(),
      "round-trip add and remove on every feature that declares them (changes the "
      "service's data: use a test account)")(
      "fault", po::value<std::string>()->value_name("NAME"),
      "with --base-url pointing at a cw-sandbox fake: after the clean pass, read again "
      "under this fault and judge the replies (429, 5xx-burst, 5xx-down, page-cap, "
      "malformed, truncated, expired-token); no writes");
  add_output_option(opts);
}

}  // namespace

const Command k_plugins_command = {
    "plugins",
    "list and check provider plugins",
    {{"list",
      "every plugin found, with its features and capabilities",
      {},
      &add_output_option,
      "Searches --plugin-dir folders, $CW_PLUGIN_PATH (colon-separated), the build tree's\n"
      "plugin folder and the install's plugin folder, in that order: name, version, ABI,\n"
      "features, capabilities and path. Files that were refused are reported on stderr with\n"
      "the reason. Exit 1 when two files provide the same plugin name.\n"},
     {"check",
      "load one plugin file and run the contract checks",
      {"PATH", 1, 1},
      &check_options,
      "Load and version handshake, manifest against the schema, operations against the\n"
      "manifest, create with {} (or --config-json), health, build_index of every declared\n"
      "feature with shape checks, a malformed request (must be INVALID_ARG), destroy.\n"
      "Without --base-url no network is used: http answers UNSUPPORTED, so auth, transient\n"
      "and unsupported statuses are warnings. With --base-url URL the HTTP paths run for\n"
      "real against URL (and nothing else), those statuses fail, and every feature that\n"
      "declares add and remove is round-tripped (--writes does that without network).\n"
      "Secret keys of --config-json reach the plugin through get_secret, as in a run.\n"
      "With --fault NAME and a cw-sandbox fake at URL, health and every index are read\n"
      "again under that fault: a 429 or one 5xx must change nothing (the host retries);\n"
      "a dead service, capped pages, corrupt or cut bodies may fail or come back\n"
      "incomplete, never complete with items missing; an expired token must be reported\n"
      "as an auth failure. The conformance kit (cwsdk/testing/conformance.hpp) runs each.\n"
      "Exit 0 when no check failed, 1 otherwise.\n"}},
    "",
    &run_plugins};
}  // namespace cw::cli
