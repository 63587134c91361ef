#pragma once
// The validated form of cw.yaml (DESIGN.md "Configuration", docs/configuration.md).
//
// load_config() parses the file with yaml-cpp and checks every key it knows: unknown keys
// (with a "did you mean" hint), wrong types, duplicate keys and pair names, pairs naming
// unknown providers, a feature enabled twice between the same two providers. Every error
// is one line: `cw.yaml:12:7: pairs[0].mode: expected one of one-way, two-way, got "oneway"`.
//
// Provider instances keep their plugin-specific keys as JSON, with the source position of
// every value, because they can only be checked against the plugin manifest's `config`
// schema once the plugin is loaded: the caller reports those errors through
// ProviderConfig::where(). Secret references (${env:NAME}, ${file:PATH}) are not resolved
// here; the plugin sees "${secret}" and asks services::ConfigSecretStore for the value.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/http_options.hpp>
#include <cw/engine/policy.hpp>
#include <cw/util/result.hpp>

namespace cw::config {

// Where a value came from; line and column are 1-based (0 when unknown).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  // "cw.yaml:12:7"
};

// A secret reference found in a provider's settings.
struct SecretRef {
  enum class Kind { env, file, literal };
  Kind kind = Kind::env;
  std::string ref;  // variable name, absolute file path, or (literal) the value itself
  SourcePos pos;
};

// The string a plugin's create() sees in place of a secret value.
inline constexpr const char* k_secret_placeholder = "${secret}";

struct ProviderConfig {
  std::string name;    // instance name: the key under `providers`
  std::string plugin;  // plugin name (the manifest's `name`)
  SourcePos pos;       // position of the instance's mapping
  // Plugin-specific keys (everything but `plugin`) as a JSON object; scalars typed by the
  // YAML 1.2 core schema (quoted scalars stay strings). Secret values are "${secret}".
  nlohmann::json settings = nlohmann::json::object();
  // Secret name (the dotted key path inside settings, e.g. "token" or "auth.token") to its
  // reference. services::ConfigSecretStore resolves them when asked.
  std::map<std::string, SecretRef> secrets;
  // JSON pointer inside settings ("/url", "/libraries/0") to the position of its value.
  std::map<std::string, SourcePos> positions;
  // The instance's `http:` block (timeouts, proxy, CA, rate-limit overrides, run quota); not
  // part of settings, so the plugin's create() never sees it.
  std::optional<config::InstanceHttpOptions> http;

  // "cw.yaml:4:22: providers.plex.url" for a JSON pointer into settings (as a JSON schema
  // validator reports it); falls back to the instance's position for unknown pointers.
  std::string where(const std::string& json_pointer) const;
  // Moves the literal values of `keys` (the manifest's `secrets`: top-level or dotted
  // config keys) out of settings into `secrets`, so a token written in clear text in
  // cw.yaml is still handed to the plugin as "${secret}". Keys already secret are kept.
  void mark_secret_keys(const std::vector<std::string>& keys);
};

// Global `sync` guards; each pair may override any of them under its own `sync`.
struct SyncOptions {
  bool dry_run = false;
  engine::GuardPolicy guards;
};

// A pair's `schedule:` for `cw serve` (docs/serve.md): every N seconds, or at the minutes a
// cron expression names (UTC), each run delayed by up to `jitter_s` (random) so that many
// servers do not hit a provider at the same second.
struct ScheduleConfig {
  std::int64_t every_s = 0;  // 0 when `cron` is used
  std::string cron;          // validated with util::CronExpr
  std::int64_t jitter_s = 0;
  SourcePos pos;
};

struct PairConfig {
  engine::PairPolicy policy;  // guards already merged: global `sync`, then the pair's
  bool enabled = true;
  bool dry_run = false;                    // global sync.dry_run or the pair's override
  std::optional<ScheduleConfig> schedule;  // only `cw serve` reads it
  SourcePos pos;
};

// The `plugins:` block: which plugins run in a child process (cw-plugin-runner), how long
// one operation of an isolated plugin may take, how often a lost one is started again, and
// how large one reply of any plugin may be (docs/configuration.md).
struct PluginsOptions {
  std::string isolation = "untrusted";  // none | untrusted | all
  std::vector<std::string> in_process;  // plugin names that run in cw's process regardless
  std::int64_t timeout_s = 300;         // per operation, isolated plugins only
  std::map<std::string, std::int64_t> timeouts_s;          // per plugin name
  std::int64_t cancel_grace_s = 5;                         // after Ctrl-C, isolated plugins only
  std::int64_t restarts = 3;                               // per plugin and run, isolated only
  std::int64_t max_reply_bytes = std::int64_t{512} << 20;  // one reply, every plugin
  std::int64_t max_field_bytes = 4096;                     // an item's title or show title
  std::int64_t max_extra_bytes = 64 << 10;                 // an item's `extra`, as JSON
};

// The most `plugins.max_reply` may say: what the runner's socket carries in one frame.
inline constexpr std::int64_t k_max_reply_limit = std::int64_t{2} << 30;
// "512MiB", "64 KiB", "1GiB", "2000000" (bytes); nullopt when it is not such a size.
std::optional<std::int64_t> parse_size(const std::string& text);

// The `scrobble:` block (docs/configuration.md "scrobble"): real-time scrobbling in
// `cw serve`.
struct WebhookOptions {
  // The endpoint's own secret, sent as the `token` query parameter or the X-CW-Token
  // header; an endpoint without one is refused (401) unless it is explicitly open.
  std::optional<SecretRef> secret;
  bool open = false;  // `secret: none`: accepted without a secret (loopback set-ups)
  SourcePos pos;
};

// A watcher: for Jellyfin and Emby servers without the webhook plugin, polling of their
// sessions (GET /Sessions).
struct WatcherOptions {
  std::string type;  // plex | jellyfin | emby
  std::string url;   // the server's base URL
  std::optional<SecretRef> token;
  std::int64_t interval_s = 10;  // between two polls
  bool websocket = true;         // also listen to the server's websocket
  SourcePos pos;
};

struct ScrobbleOptions {
  bool enabled = false;                // set when the block is present
  double threshold = 80;               // percent: a stop at or over it is a play
  std::vector<std::string> sinks;      // tracker instances (their plugins declare scrobble)
  std::vector<std::string> users;      // only these users' plays (empty: everyone's)
  std::vector<std::string> libraries;  // only these libraries (empty: all)
  bool remove_from_watchlist = false;  // once watched, remove from each sink's watchlist
  // A second watched stop of the same item by the same user within this time of the
  // first is the same play (a server that repeats its stop, a restart in between).
  std::int64_t replay_after_s = 3 * 3600;
  std::map<std::string, WebhookOptions> webhooks;  // by source: plex, jellyfin, emby, tautulli
  std::vector<WatcherOptions> watchers;
  SourcePos pos;
};

struct Config {
  std::string path;                       // the file as given by the user
  std::filesystem::path base_dir;         // directory of the file: relative paths resolve here
  std::filesystem::path state_dir;        // absolute
  std::vector<ProviderConfig> providers;  // in file order
  std::vector<PairConfig> pairs;          // in file order
  SyncOptions sync;
  // `id_resolver:` the instance whose plugin resolves ids (ABI 1.1 resolve_ids), used
  // before matching; empty when none is configured.
  std::string id_resolver;
  // The global `http:` block; `instances` stays empty here (see http_options()).
  config::HttpOptions http;
  PluginsOptions plugins;
  ScrobbleOptions scrobble;

  // The HTTP service's settings: the global block with every instance's `http:` block.
  config::HttpOptions http_options() const;
  const ProviderConfig* provider(const std::string& name) const;
  const PairConfig* pair(const std::string& name) const;
};

// One problem found in the file, already formatted as a single line.
struct ConfigError {
  SourcePos pos;
  std::string path;               // key path, "pairs[0].mode"
  std::string message;            // what was expected and what was found
  std::string to_string() const;  // "cw.yaml:12:7: pairs[0].mode: expected ..."
};

struct ConfigParse {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
};

// Parses YAML text. `file` names it in messages; relative paths (state_dir, ${file:...})
// resolve against `base_dir`.
ConfigParse parse_config(const std::string& text, const std::string& file,
                         const std::filesystem::path& base_dir);
// Reads and parses a file; an unreadable file is one error at position 0.
ConfigParse parse_config_file(const std::string& path);
// parse_config_file() for callers that only need the first failure: the error message is
// every error, one per line.
Result<Config> load_config(const std::string& path);

// "30d", "12h", "90s", "15m", "2w", "1h30m", or a plain number of seconds.
std::optional<std::int64_t> parse_duration(const std::string& text);
// The shortest exact spelling of a number of seconds: 2592000 -> "30d".
std::string format_duration(std::int64_t seconds);

// The default state directory: $XDG_STATE_HOME/cw, else ~/.local/state/cw.
std::filesystem::path default_state_dir();
// Expands a leading "~/" with $HOME; makes a relative path absolute against base_dir.
std::filesystem::path resolve_path(const std::string& path, const std::filesystem::path& base_dir);

// The state directory for commands that need only that (`cw state`, `cw pending`): the
// override when given, else the configuration's state_dir (which means the file must be
// valid: its errors are returned, one per line, with ErrorKind::invalid_arg).
Result<std::filesystem::path> locate_state_dir(const std::string& config_path,
                                               const std::string& override_dir);

const char* to_string(engine::Feature feature);
std::optional<engine::Feature> feature_from_string(const std::string& name);
const char* to_string(engine::PairMode mode);
const char* to_string(engine::RemovalMode mode);

}  // namespace cw::config
