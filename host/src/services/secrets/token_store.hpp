#pragma once
// TokenStore: credentials that plugins obtain at run time (OAuth access/refresh tokens,
// PIN-flow tokens), stored per provider instance. FileTokenStore keeps one JSON file per
// instance, mode 0600, in a 0700 folder under the configuration directory; values never
// pass through a logger. MemoryTokenStore is for tests.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <cw/util/result.hpp>

namespace cw::services {

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  virtual Result<std::optional<std::string>> get(const std::string& instance,
                                                 const std::string& name) = 0;
  // Stores `value`; an empty value deletes the entry. Calls the change hooks.
  Status put(const std::string& instance, const std::string& name, const std::string& value);
  // Names stored for `instance`, sorted.
  virtual Result<std::vector<std::string>> names(const std::string& instance) = 0;
  // Deletes every token of `instance` (`cw auth logout`).
  virtual Status erase(const std::string& instance) = 0;

  // Called after every successful put (instance, name); never with the value.
  using ChangeHook = std::function<void(const std::string&, const std::string&)>;
  void on_change(ChangeHook hook);

  // Refresh hooks: whoever can renew an instance's tokens (its plugin binding) registers a
  // function; the host calls refresh() before a run when needs_refresh() says so, or after
  // a 401. Without a hook refresh() fails with ErrorKind::unsupported.
  using RefreshHook = std::function<Status()>;
  void set_refresh_hook(const std::string& instance, RefreshHook hook);
  Status refresh(const std::string& instance);
  // True when token `name` is JSON with "expires_at" (epoch seconds) less than `margin_s`
  // seconds after `now_s`.
  bool needs_refresh(const std::string& instance, const std::string& name, std::int64_t now_s,
                     std::int64_t margin_s = 120);

 protected:
  virtual Status do_put(const std::string& instance, const std::string& name,
                        const std::string& value) = 0;

 private:
  std::mutex m_hooks_mutex;
  std::vector<ChangeHook> m_change_hooks;
  std::map<std::string, RefreshHook> m_refresh_hooks;
};

class FileTokenStore final : public TokenStore {
 public:
  // `dir` is created with mode 0700 on the first write.
  explicit FileTokenStore(std::string dir);
  Result<std::optional<std::string>> get(const std::string& instance,
                                         const std::string& name) override;
  Result<std::vector<std::string>> names(const std::string& instance) override;
  Status erase(const std::string& instance) override;
  const std::string& dir() const { return m_dir; }
  // The file that holds `instance`'s tokens.
  std::string path_of(const std::string& instance) const;

 protected:
  Status do_put(const std::string& instance, const std::string& name,
                const std::string& value) override;

 private:
  Result<std::map<std::string, std::string>> load(const std::string& instance) const;
  std::string m_dir;
  std::mutex m_mutex;
};

class MemoryTokenStore final : public TokenStore {
 public:
  Result<std::optional<std::string>> get(const std::string& instance,
                                         const std::string& name) override;
  Result<std::vector<std::string>> names(const std::string& instance) override;
  Status erase(const std::string& instance) override;

 protected:
  Status do_put(const std::string& instance, const std::string& name,
                const std::string& value) override;

 private:
  std::mutex m_mutex;
  std::map<std::string, std::map<std::string, std::string>> m_tokens;
};

// The default token folder: $CW_CONFIG_DIR/tokens, else the folder of the configuration
// file + /tokens, else $XDG_CONFIG_HOME/cw/tokens or ~/.config/cw/tokens.
std::string default_token_dir(const std::string& config_path);

}  // namespace cw::services
