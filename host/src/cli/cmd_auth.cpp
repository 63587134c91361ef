// cw auth login|status|logout: credentials of provider instances. `login` drives a plugin's
// auth_start/auth_poll (device code, PIN, or username and password prompts); the plugin
// stores what it obtains with put_secret in the token store (0600 files under the
// configuration directory). Nothing here prints a secret.
#include <ctime>
#include <iostream>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/open_session.hpp>
#include <cw/config/config.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/secrets/auth_flow.hpp>
#include <cw/services/secrets/config_secret_store.hpp>
#include <cw/services/secrets/token_store.hpp>

namespace cw::cli {
namespace {

std::string config_path_of(const GlobalOptions& g) {
  return g.config_path.empty() ? std::string("cw.yaml") : g.config_path;
}

// A loaded plugin instance as the auth flow sees it.
class InstanceAuthProvider final : public services::AuthProvider {
 public:
  explicit InstanceAuthProvider(plugin::ProviderInstance& instance) : m_instance(instance) {}
  const std::string& instance() const override { return m_instance.name(); }
  std::string auth_kind() const override { return m_instance.manifest().auth; }
  std::vector<services::AuthPrompt> prompts() const override {
    std::vector<services::AuthPrompt> out;
    for (const auto& p : m_instance.manifest().auth_prompts) {
      if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) continue;
      out.push_back({p["name"].get<std::string>(), p.value("label", std::string()),
                     p.value("secret", false)});
    }
    return out;
  }
  bool has_auth_operations() const override {
    const auto& api = m_instance.library().api();
    return api.auth_start != nullptr && api.auth_poll != nullptr;
  }
  Result<nlohmann::json> auth_start(const nlohmann::json& request) override {
    return m_instance.auth_start(request.value("fields", nlohmann::json::object()));
  }
  Result<nlohmann::json> auth_poll(const nlohmann::json&) override {
    return m_instance.auth_poll();
  }

 private:
  plugin::ProviderInstance& m_instance;
};

int exit_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_arg:
      return k_exit_usage;
    case ErrorKind::cancelled:
      return k_exit_cancelled;
    default:
      return k_exit_failure;
  }
}

int run_login(const GlobalOptions& g, const Invocation& call) {
  const std::string instance_name = call.operands.front();
  services::AuthLoginOptions opts;
  opts.non_interactive = call.flag("non-interactive");
  for (const auto& kv : call.values("field")) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "cw auth login: --field expects NAME=VALUE\n";
      return k_exit_usage;
    }
    opts.fields[kv.substr(0, eq)] = kv.substr(eq + 1);
  }

  // The same context a run builds (sync::Session): the configuration validated, its
  // secrets marked and redacted, the `http:` block, the manifest's budgets and the
  // plugin's persisted kv store, which keeps what the sign-in writes there.
  sync::SessionOptions so;
  so.purpose = sync::Purpose::auth;
  so.instance = instance_name;
  auto opened = open_session(g, so, "auth login");
  if (const int* exit = std::get_if<int>(&opened)) return *exit;
  sync::Session& session = *std::get<std::unique_ptr<sync::Session>>(opened);
  plugin::ProviderInstance* inst = session.instance(instance_name);
  if (inst == nullptr) {
    std::cerr << "cw auth login: " << session.create_errors().at(instance_name) << "\n";
    return session.settings_invalid(instance_name) ? k_exit_config : k_exit_failure;
  }
  services::CancelToken& cancel = session.cancel();
  InstanceAuthProvider provider(*inst);
  services::AuthIo io = services::terminal_auth_io(std::cerr);
  io.sleep = [&session, &cancel](std::int64_t ms) { return session.clock().sleep_ms(ms, &cancel); };
  auto st = services::run_auth_login(provider, opts, io);
  if (!st) {
    std::cerr << "cw auth login: " << session.logger().redact(st.error().message) << "\n";
    return exit_for(st.error().kind);
  }
  if (auto kept = session.keep_plugin_data(instance_name); !kept) {
    std::cerr << "cw auth login: signed in, but the plugin's data could not be stored: "
              << kept.error().message << "\n";
    return k_exit_failure;
  }
  return k_exit_ok;
}

std::string expiry_text(const std::string& value) {
  const auto doc = nlohmann::json::parse(value, nullptr, false);
  if (!doc.is_object() || !doc.contains("expires_at") || !doc["expires_at"].is_number()) return {};
  const time_t t = static_cast<time_t>(doc["expires_at"].get<std::int64_t>());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return std::string(t < std::time(nullptr) ? " (expired " : " (expires ") + buf + ")";
}

int run_status(const GlobalOptions& g, const Invocation& call) {
  const std::vector<std::string>& args = call.operands;
  auto cfg = config::load_config(config_path_of(g));
  if (!cfg) {
    std::cerr << cfg.error().message << "\n";
    return k_exit_config;
  }
  services::FileTokenStore tokens(services::default_token_dir(cfg->path));
  services::ConfigSecretStore config_secrets(*cfg, nullptr);
  const auto problems = config_secrets.check();
  bool any = false;
  for (const auto& pc : cfg->providers) {
    if (!args.empty() && pc.name != args[0]) continue;
    any = true;
    std::cout << pc.name << " (plugin " << pc.plugin << ")\n";
    std::cout << "  configured secrets: ";
    if (pc.secrets.empty()) std::cout << "none";
    bool first = true;
    for (const auto& [name, ref] : pc.secrets) {
      std::cout << (first ? "" : ", ") << name;
      first = false;
    }
    std::cout << "\n";
    for (const auto& p : problems)
      if (p.find(pc.name) != std::string::npos) std::cout << "  problem: " << p << "\n";
    auto names = tokens.names(pc.name);
    if (!names) {
      std::cout << "  token store: " << names.error().message << "\n";
      continue;
    }
    if (names->empty()) {
      std::cout << "  stored tokens: none (run `cw auth login " << pc.name
                << "` if the provider needs one)\n";
      continue;
    }
    std::cout << "  stored tokens:";
    for (const auto& n : *names) {
      auto v = tokens.get(pc.name, n);
      std::cout << " " << n << (v && v->has_value() ? expiry_text(**v) : "");
    }
    std::cout << "\n";
  }
  if (!any && !args.empty()) {
    std::cerr << "cw auth status: " << cfg->path << " has no provider '" << args[0] << "'\n";
    return k_exit_usage;
  }
  return k_exit_ok;
}

int run_logout(const GlobalOptions& g, const Invocation& call) {
  const std::vector<std::string>& args = call.operands;
  const std::string path = config_path_of(g);
  services::FileTokenStore tokens(services::default_token_dir(path));
  auto names = tokens.names(args[0]);
  if (!names) {
    std::cerr << "cw auth logout: " << names.error().message << "\n";
    return k_exit_failure;
  }
  if (auto st = tokens.erase(args[0]); !st) {
    std::cerr << "cw auth logout: " << st.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << "Logged out: " << args[0] << " (" << names->size() << " stored token"
            << (names->size() == 1 ? "" : "s") << " deleted)\n";
  return k_exit_ok;
}

int run_auth(const GlobalOptions& g, const Invocation& call) {
  if (call.verb == "login") return run_login(g, call);
  if (call.verb == "status") return run_status(g, call);
  return run_logout(g, call);
}

void login_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("non-interactive", po::bool_switch(),
       "never prompt; take each field from --field or from the environment variable "
       "CW_AUTH_<INSTANCE>_<NAME>")
      ("field", po::value<std::vector<std::string>>()->value_name("NAME=VALUE"),
       "answer one prompt (repeatable)");
  // clang-format on
}

}  // namespace

const Command k_auth_command = {
    "auth",
    "sign in to providers and manage stored tokens",
    {{"login",
      "run the provider's sign-in",
      {"INSTANCE", 1, 1},
      &login_options,
      "Shows a device code or PIN to enter on the provider's site, or asks for the fields its\n"
      "plugin declares (username, password...). The tokens it obtains go to the token store,\n"
      "a 0600 file per instance in <config dir>/tokens (or $CW_CONFIG_DIR/tokens).\n"},
     {"status",
      "each instance's auth kind and stored token names",
      {"[INSTANCE]", 0, 1},
      nullptr,
      "Lists the names (never the values) of the stored tokens, with their expiry when known.\n"},
     {"logout", "delete every stored token of the instance", {"INSTANCE", 1, 1}, nullptr, ""}},
    "",
    &run_auth};

}  // namespace cw::cli
