#include <cw/services/secrets/host_secret_store.hpp>
#include <cw/services/secrets/redactor.hpp>

namespace cw::services {

HostSecretStore::HostSecretStore(ConfigLookup config, TokenStore& tokens)
    : m_config(std::move(config)), m_tokens(tokens) {}

Result<std::string> HostSecretStore::get(const std::string& instance, const std::string& name) {
  if (m_config) {
    auto v = m_config(instance, name);
    if (!v) return v.error();
    if (v.value()) {
      register_secret(**v);
      return std::move(**v);
    }
  }
  auto t = m_tokens.get(instance, name);
  if (!t) return t.error();
  if (!t.value())
    return make_error("provider " + instance + " has no secret '" + name +
                          "'; set it in the configuration or run `cw auth login " + instance + "`",
                      ErrorKind::not_found);
  register_secret(**t);
  return std::move(**t);
}

Status HostSecretStore::put(const std::string& instance, const std::string& name,
                            const std::string& value) {
  return m_tokens.put(instance, name, value);
}

}  // namespace cw::services
