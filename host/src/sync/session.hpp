#pragma once
// Session: the one composition root. Everything a command that talks to providers needs
// (`cw run|plan|apply`, `cw auth login`, `cw provider`), built in the right order and torn
// down in the reverse one: logger, configuration, clock, cancel token, run lock, state
// store, the plugin's persisted kv store, token store and secret store (configuration
// secrets marked and redacted), the HTTP service with the configuration's `http:` block and
// the manifest's budgets, the plugin registry, and the provider instances. The purpose
// decides the lock, how state is opened and which instances are made. Provider instances
// that cannot be created are recorded with their reason; the pairs using them fail, the
// others run.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <cw/config/config.hpp>
#include <cw/plugin/host_api.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/http/curl_http_service.hpp>
#include <cw/services/kv/sqlite_kv_store.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/services/secrets/config_secret_store.hpp>
#include <cw/services/secrets/host_secret_store.hpp>
#include <cw/services/secrets/token_store.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/plugin_port.hpp>
#include <cw/sync/sync_runner.hpp>

namespace cw::sync {

// What a session is for.
enum class Purpose {
  sync,    // run, plan, apply: every configured instance
  auth,    // `cw auth login INSTANCE`: only that instance, the lock held, kv kept
  action,  // `cw provider INSTANCE ACTION`: only that instance, the lock held, kv kept
  // `cw serve`'s scrobbling: only the instances named in scrobble.sinks, for as long as the
  // server runs. It takes no run lock (the scheduled runs take it, one at a time) and opens
  // the state read-write (WAL: its writes and a run's commits are serialised by SQLite).
  scrobble,
};

struct SessionOptions {
  Purpose purpose = Purpose::sync;
  std::string instance;     // auth and action: the one provider instance to make
  std::string config_path;  // empty: ./cw.yaml
  std::vector<std::string> plugin_dirs;
  // Overrides of the configuration's `plugins:` block (--plugin-isolation, --in-process).
  std::string plugin_isolation;
  std::vector<std::string> in_process;
  std::string log_level = "info";
  std::string log_format = "text";
  bool dry_run = false;  // read-only state, no lock, plugins refused writes
  // The pair the run is limited to (empty: all). When every selected pair is a dry run by
  // configuration (sync.dry_run), the session is a dry run as well.
  std::string pair_filter;
};

// Why a session could not be opened; `exit` distinguishes the causes for the CLI.
struct SessionError {
  // usage: the command named an instance the configuration does not have.
  enum class Cause { config, locked, usage, other } cause = Cause::other;
  std::string message;
};

class Session {
 public:
  static std::variant<std::unique_ptr<Session>, SessionError> open(const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  services::Logger& logger() { return *m_logger; }
  // Whether this session writes nothing: asked for, or every selected pair is configured so.
  bool dry_run() const { return m_dry_run; }
  const config::Config& config() const { return m_config; }
  state::StateStore& store() { return *m_store; }
  services::CancelToken& cancel() { return *m_cancel; }
  services::Clock& clock() { return *m_clock; }
  // Unix seconds; $CW_NOW (epoch seconds or ISO-8601) replaces the clock, for tests.
  std::int64_t now_s() const;
  std::map<std::string, ProviderPort*> ports();
  // A runner over this session's providers, state, cancel token and log, with dates from the
  // session's clock, and the options every run of it starts from (now, the id resolver):
  // `cw run`, `cw plan` and `cw match` differ only in what they add to those options.
  SyncRunner runner();
  SyncOptions run_options() const;
  const std::map<std::string, std::string>& create_errors() const { return m_create_errors; }
  // Whether an instance failed because its settings do not match its plugin's schema.
  bool settings_invalid(const std::string& instance) const {
    return m_invalid_settings.count(instance) > 0;
  }
  // The loaded instance (nullptr when it could not be created: see create_errors()).
  plugin::ProviderInstance* instance(const std::string& name);
  // The manifest of the plugin an instance uses, even when the instance could not be made.
  const plugin::Manifest* manifest_of(const std::string& instance) const;
  // Stores what the instance wrote to its kv store outside a sync (auth, actions): a sync
  // commits kv with each pair and feature, these purposes commit it when they succeed.
  Status keep_plugin_data(const std::string& instance);
  // {"<instance>": {"plugin": .., "version": ..}}
  nlohmann::json provider_info() const;
  // The HTTP service's report: requests per instance, endpoint, method and outcome.
  nlohmann::json http_report() const;

 private:
  Session() = default;
  std::unique_ptr<services::Logger> m_logger;
  config::Config m_config;
  std::optional<state::RunLock> m_lock;
  std::unique_ptr<state::StateStore> m_store;
  std::unique_ptr<services::SqliteKvStore> m_kv;
  std::unique_ptr<services::ConfigSecretStore> m_config_secrets;
  std::unique_ptr<services::FileTokenStore> m_tokens;
  std::unique_ptr<services::HostSecretStore> m_secrets;
  std::unique_ptr<services::CurlHttpService> m_http;
  // $CW_NOW pins its wall time. The HTTP service keeps its own system clock: servers' dates
  // and reset times are real whatever the run takes as now.
  std::unique_ptr<services::Clock> m_clock;
  services::CancelToken* m_cancel = nullptr;
  std::unique_ptr<plugin::HostServices> m_services;
  std::unique_ptr<plugin::Registry> m_registry;
  std::map<std::string, std::unique_ptr<PluginPort>> m_ports;
  std::map<std::string, std::string> m_create_errors;
  std::set<std::string> m_invalid_settings;
  bool m_dry_run = false;
};

}  // namespace cw::sync
