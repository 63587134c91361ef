#pragma once
// HostSecretStore: the SecretStore behind cw_host_api.get_secret/put_secret. It chains the
// configuration's secrets (values written as ${env:..}/${file:..}, resolved by the config
// layer's ConfigSecrets through a lookup function) and then the token store. Every value
// that passes through is registered with the Redactor.

#include <functional>
#include <optional>

#include <cw/services/secrets/secret_store.hpp>
#include <cw/services/secrets/token_store.hpp>

namespace cw::services {

class HostSecretStore final : public SecretStore {
 public:
  // Returns the resolved configuration secret, nullopt when `instance` has no such
  // configuration key, or an error when the reference cannot be resolved.
  using ConfigLookup = std::function<Result<std::optional<std::string>>(const std::string& instance,
                                                                        const std::string& name)>;

  HostSecretStore(ConfigLookup config, TokenStore& tokens);
  Result<std::string> get(const std::string& instance, const std::string& name) override;
  Status put(const std::string& instance, const std::string& name,
             const std::string& value) override;

 private:
  ConfigLookup m_config;
  TokenStore& m_tokens;
};

}  // namespace cw::services
