#pragma once
// The interactive half of `cw auth login`: collects the answers to a plugin's auth prompts
// (terminal, flags or environment), calls its auth_start, shows the device code or PIN,
// and polls auth_poll until the plugin says done, denied or expired. The plugin stores its
// tokens itself through put_secret; this flow never sees them.

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/util/result.hpp>

namespace cw::services {

struct AuthPrompt {
  std::string name;
  std::string label;
  bool secret = false;
};

// A provider instance as the auth flow needs it; the CLI adapts a loaded plugin instance.
class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  virtual const std::string& instance() const = 0;
  // The manifest's capabilities.auth: none|api_key|device_code|pin|password.
  virtual std::string auth_kind() const = 0;
  virtual std::vector<AuthPrompt> prompts() const = 0;
  // False when the plugin has no auth_start/auth_poll operations.
  virtual bool has_auth_operations() const = 0;
  virtual Result<nlohmann::json> auth_start(const nlohmann::json& request) = 0;
  virtual Result<nlohmann::json> auth_poll(const nlohmann::json& request) = 0;
};

struct AuthLoginOptions {
  bool non_interactive = false;
  std::map<std::string, std::string> fields;  // from --field name=value
  std::int64_t max_wait_ms = 15 * 60 * 1000;  // upper bound when the plugin gives none
};

// What the flow needs from the outside world; tests replace every part.
struct AuthIo {
  std::ostream* out = nullptr;
  // Asks the user; returns false when no answer can be had (no terminal, EOF).
  std::function<bool(const AuthPrompt& prompt, std::string& answer)> ask;
  // Environment lookup (CW_AUTH_<INSTANCE>_<FIELD>); nullptr-returning when unset.
  std::function<const char*(const std::string& name)> getenv;
  // Waits `ms`; false when cancelled.
  std::function<bool(std::int64_t ms)> sleep;
};

// The environment variable that answers `field` for `instance` in non-interactive mode:
// CW_AUTH_<INSTANCE>_<FIELD>, upper-cased, other characters as '_'.
std::string auth_env_name(std::string_view instance, std::string_view field);

// Runs the flow. Errors: invalid_arg (a field missing in non-interactive mode), unsupported
// (no auth operations), auth (denied or expired), cancelled, or the plugin's own error.
Status run_auth_login(AuthProvider& provider, const AuthLoginOptions& options, AuthIo& io);

// The real terminal: prompts on stderr, reads stdin with echo off for secret prompts.
AuthIo terminal_auth_io(std::ostream& out);

}  // namespace cw::services
