#pragma once
// ConfigSecretStore: the SecretStore for secrets written in cw.yaml as ${env:NAME} or
// ${file:PATH} (or clear-text values of keys a manifest declares secret). Values are read
// when a plugin asks (never at load time, never cached), so a rotated token file is seen by
// the next request and nothing secret sits in the Config. Runtime tokens (put) go to an
// optional fallback store (the token store); get() also falls back to it for names the
// configuration does not define.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <cw/config/config.hpp>
#include <cw/services/secrets/secret_store.hpp>

namespace cw::services {

class ConfigSecretStore final : public SecretStore {
 public:
  explicit ConfigSecretStore(const config::Config& config, SecretStore* fallback = nullptr);
  ConfigSecretStore(std::map<std::string, std::map<std::string, config::SecretRef>> secrets,
                    SecretStore* fallback);

  Result<std::string> get(const std::string& instance, const std::string& name) override;
  Status put(const std::string& instance, const std::string& name,
             const std::string& value) override;

  // Every reference that cannot be resolved now (unset variable, unreadable file), one
  // line each, naming where it was written but never a value. For `cw config validate`.
  std::vector<std::string> check() const;
  // The shape HostSecretStore::ConfigLookup expects: nullopt when the
  // configuration does not define `name` for `instance`.
  Result<std::optional<std::string>> lookup(const std::string& instance,
                                            const std::string& name) const;
  // Whether `name` of `instance` comes from the configuration.
  bool defines(const std::string& instance, const std::string& name) const;

 private:
  std::map<std::string, std::map<std::string, config::SecretRef>> m_secrets;
  SecretStore* m_fallback;
  mutable std::mutex m_mutex;
};

// Resolves one reference: the variable's value, or the file's content without its trailing
// newline. The value is registered with the Redactor. Errors name the variable or file and where it
// was written.
Result<std::string> resolve_secret(const config::SecretRef& ref, const std::string& what);

}  // namespace cw::services
