#include <algorithm>
#include <cstdlib>

#include <cw/config/http_options.hpp>
#include <cw/engine/time.hpp>
#include <cw/plugin/discovery.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/sync/session.hpp>

namespace cw::sync {

Session::~Session() {
  // Instances go before the registry (their libraries), which goes before the services
  // the libraries were given.
  m_ports.clear();
  m_registry.reset();
}

std::variant<std::unique_ptr<Session>, SessionError> Session::open(const SessionOptions& options) {
  std::unique_ptr<Session> s(new Session());
  auto logger = services::Logger::from_options(options.log_level, options.log_format);
  if (!logger) return SessionError{SessionError::Cause::other, logger.error().message};
  s->m_logger = std::move(logger).value();

  const std::string config_path = options.config_path.empty() ? "cw.yaml" : options.config_path;
  auto cfg = config::load_config(config_path);
  if (!cfg) return SessionError{SessionError::Cause::config, cfg.error().message};
  s->m_config = std::move(cfg).value();

  if (const char* now = std::getenv("CW_NOW"); now != nullptr && *now != '\0') {
    auto t = engine::parse_time(now);
    if (!t)
      return SessionError{
          SessionError::Cause::other,
          std::string("CW_NOW: expected epoch seconds or ISO-8601, got \"") + now + "\""};
    s->m_clock = std::make_unique<services::PinnedClock>(*t * 1000);
  } else {
    s->m_clock = std::make_unique<services::SystemClock>();
  }

  const bool scrobble = options.purpose == Purpose::scrobble;
  const bool one_instance = options.purpose != Purpose::sync && !scrobble;
  if (one_instance && s->m_config.provider(options.instance) == nullptr) {
    std::string known;
    for (const auto& p : s->m_config.providers) known += (known.empty() ? "" : ", ") + p.name;
    return SessionError{SessionError::Cause::usage,
                        "no provider instance \"" + options.instance + "\" in " + s->m_config.path +
                            " (instances: " + (known.empty() ? std::string("none") : known) + ")"};
  }

  bool all_dry = true;
  bool any_selected = false;
  for (const auto& pc : s->m_config.pairs) {
    if (!pc.enabled || (!options.pair_filter.empty() && pc.policy.name != options.pair_filter))
      continue;
    any_selected = true;
    all_dry = all_dry && pc.dry_run;
  }
  s->m_dry_run = !one_instance && !scrobble && (options.dry_run || (any_selected && all_dry));

  // A dry run takes no lock and opens the database read-only: it leaves the state
  // directory exactly as it found it (R5.6).
  if (!s->m_dry_run && !scrobble) {
    auto lock = state::RunLock::acquire(s->m_config.state_dir);
    if (!lock)
      return SessionError{lock.error().kind == ErrorKind::transient ? SessionError::Cause::locked
                                                                    : SessionError::Cause::other,
                          lock.error().message};
    s->m_lock.emplace(std::move(lock).value());
  }
  auto store =
      state::StateStore::open(s->m_config.state_dir, s->m_dry_run ? state::OpenMode::read_only
                                                                  : state::OpenMode::read_write);
  if (!store) return SessionError{SessionError::Cause::other, store.error().message};
  s->m_store = std::move(store).value();
  s->m_kv = std::make_unique<services::SqliteKvStore>(*s->m_store);

  s->m_tokens =
      std::make_unique<services::FileTokenStore>(services::default_token_dir(s->m_config.path));
  Session* self = s.get();
  s->m_secrets = std::make_unique<services::HostSecretStore>(
      [self](const std::string& instance,
             const std::string& name) -> Result<std::optional<std::string>> {
        if (!self->m_config_secrets || !self->m_config_secrets->defines(instance, name))
          return std::optional<std::string>();
        auto v = self->m_config_secrets->get(instance, name);
        if (!v) return v.error();
        self->m_logger->add_secret(*v);
        return std::optional<std::string>(*v);
      },
      *s->m_tokens);
  // The configuration's `http:` blocks: global settings, plus each instance's overrides,
  // which configure_instance() below lays over the manifest's rate limits.
  s->m_http = std::make_unique<services::CurlHttpService>(s->m_config.http_options());

  services::SignalCancelToken::install_signal_handlers();
  s->m_cancel = &services::SignalCancelToken::instance();
  s->m_services = std::make_unique<plugin::HostServices>(
      plugin::HostServices{*s->m_logger, *s->m_clock, *s->m_cancel, s->m_kv.get(),
                           s->m_secrets.get(), s->m_http.get(), s->m_dry_run});

  plugin::SearchPathOptions sp;
  for (const auto& d : options.plugin_dirs) sp.plugin_dirs.emplace_back(d);
  const auto& pcfg = s->m_config.plugins;
  plugin::IsolationPolicy policy;
  const std::string mode =
      options.plugin_isolation.empty() ? pcfg.isolation : options.plugin_isolation;
  const auto parsed_mode = plugin::isolation_mode_from_string(mode);
  if (!parsed_mode)
    return SessionError{
        SessionError::Cause::usage,
        "--plugin-isolation: expected none, untrusted or all, got \"" + mode + "\""};
  policy.mode = *parsed_mode;
  if (auto bundled = plugin::bundled_plugin_dir(sp)) policy.trusted_dirs.push_back(*bundled);
  policy.in_process.insert(pcfg.in_process.begin(), pcfg.in_process.end());
  policy.in_process.insert(options.in_process.begin(), options.in_process.end());
  policy.timeout = std::chrono::seconds(pcfg.timeout_s);
  for (const auto& [name, secs] : pcfg.timeouts_s)
    policy.timeouts[name] = std::chrono::seconds(secs);
  policy.cancel_grace = std::chrono::seconds(pcfg.cancel_grace_s);
  policy.restarts = static_cast<int>(pcfg.restarts);
  s->m_registry = std::make_unique<plugin::Registry>(*s->m_services, std::move(policy));
  s->m_registry->load_folders(plugin::plugin_search_path(sp));
  s->m_registry->log_rejections();

  const auto wanted = [&](const config::ProviderConfig& pc) {
    if (scrobble)
      return std::find(s->m_config.scrobble.sinks.begin(), s->m_config.scrobble.sinks.end(),
                       pc.name) != s->m_config.scrobble.sinks.end();
    return !one_instance || pc.name == options.instance;
  };
  for (auto& pc : s->m_config.providers) {
    if (!wanted(pc)) continue;
    auto lib = s->m_registry->get(pc.plugin);
    if (!lib) {
      s->m_create_errors[pc.name] = lib.error().message;
      continue;
    }
    const plugin::Manifest& m = (*lib)->manifest();
    pc.mark_secret_keys(m.secrets);
    if (auto v = plugin::validate_against_schema(m.config_schema.dump(), pc.settings.dump(),
                                                 "providers." + pc.name);
        !v) {
      s->m_create_errors[pc.name] = pc.pos.to_string() + ": " + v.error().message;
      s->m_invalid_settings.insert(pc.name);
      continue;
    }
    auto limits = config::rate_limits_from_manifest(m.raw);
    if (!limits)
      s->m_logger->warn("cw", "provider " + pc.name + ": " + limits.error().message +
                                  "; only the configuration's rate limits apply");
    // Even without manifest limits the instance's configured limits and run quota apply.
    s->m_http->configure_instance(pc.name, limits ? *limits : std::vector<config::RateLimitSpec>{});
  }
  s->m_config_secrets = std::make_unique<services::ConfigSecretStore>(s->m_config, nullptr);
  for (const auto& pc : s->m_config.providers) {
    if (!wanted(pc) || s->m_create_errors.count(pc.name)) continue;
    auto lib = s->m_registry->get(pc.plugin);
    auto inst = plugin::ProviderInstance::create(*lib, pc.name, pc.settings, *s->m_services);
    if (!inst) {
      s->m_create_errors[pc.name] = inst.error().message;
      continue;
    }
    (*inst)->set_max_reply_bytes(static_cast<std::size_t>(pcfg.max_reply_bytes));
    s->m_ports[pc.name] = std::make_unique<PluginPort>(std::move(inst).value());
  }
  for (const auto& [name, why] : s->m_create_errors)
    s->m_logger->error("cw", "provider " + name + " is unavailable: " + why);
  return s;
}

SyncRunner Session::runner() {
  ApplierOptions applier;
  applier.clock = m_clock.get();
  return SyncRunner(ports(), create_errors(), store(), cancel(), logger(), applier);
}

SyncOptions Session::run_options() const {
  SyncOptions options;
  options.now_s = now_s();
  options.id_resolver = m_config.id_resolver;
  options.item_limits.max_text = static_cast<std::size_t>(m_config.plugins.max_field_bytes);
  options.item_limits.max_extra = static_cast<std::size_t>(m_config.plugins.max_extra_bytes);
  return options;
}

std::int64_t Session::now_s() const { return m_clock->now_ms() / 1000; }

plugin::ProviderInstance* Session::instance(const std::string& name) {
  const auto it = m_ports.find(name);
  return it == m_ports.end() ? nullptr : &it->second->provider();
}

const plugin::Manifest* Session::manifest_of(const std::string& instance) const {
  const config::ProviderConfig* pc = m_config.provider(instance);
  if (pc == nullptr) return nullptr;
  auto lib = m_registry->get(pc->plugin);
  return lib ? &(*lib)->manifest() : nullptr;
}

Status Session::keep_plugin_data(const std::string& instance) {
  return m_store->kv_flush(instance);
}

std::map<std::string, ProviderPort*> Session::ports() {
  std::map<std::string, ProviderPort*> out;
  for (auto& [name, p] : m_ports) out[name] = p.get();
  return out;
}

nlohmann::json Session::provider_info() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, p] : m_ports)
    out[name] = {{"plugin", p->manifest().name}, {"version", p->manifest().version}};
  return out;
}

nlohmann::json Session::http_report() const { return m_http->report(); }

}  // namespace cw::sync
