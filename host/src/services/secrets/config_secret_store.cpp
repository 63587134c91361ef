#include <cw/services/secrets/config_secret_store.hpp>
#include <cw/services/secrets/redactor.hpp>
#include <cw/services/secrets/secret_reference.hpp>

namespace cw::services {

Result<std::string> resolve_secret(const config::SecretRef& ref, const std::string& what) {
  if (ref.kind == config::SecretRef::Kind::literal) {
    register_secret(ref.ref);
    return ref.ref;
  }
  // The parser already made file paths absolute, so no base directory is needed here.
  const std::string reference =
      std::string(ref.kind == config::SecretRef::Kind::env ? "${env:" : "${file:") + ref.ref + "}";
  auto value = resolve_secret_reference(reference);
  if (!value) {
    const std::string where =
        ref.pos.to_string().empty() ? what : ref.pos.to_string() + ": " + what;
    return make_error(where + ": " + value.error().message, value.error().kind);
  }
  return value;
}

Result<std::optional<std::string>> ConfigSecretStore::lookup(const std::string& instance,
                                                             const std::string& name) const {
  config::SecretRef ref;
  {
    std::lock_guard lock(m_mutex);
    auto i = m_secrets.find(instance);
    if (i == m_secrets.end()) return std::optional<std::string>();
    auto s = i->second.find(name);
    if (s == i->second.end()) return std::optional<std::string>();
    ref = s->second;
  }
  auto value = resolve_secret(ref, "providers." + instance + "." + name);
  if (!value) return value.error();
  return std::optional<std::string>(std::move(*value));
}

ConfigSecretStore::ConfigSecretStore(const config::Config& config, SecretStore* fallback)
    : m_fallback(fallback) {
  for (const auto& p : config.providers) m_secrets[p.name] = p.secrets;
}

ConfigSecretStore::ConfigSecretStore(
    std::map<std::string, std::map<std::string, config::SecretRef>> secrets, SecretStore* fallback)
    : m_secrets(std::move(secrets)), m_fallback(fallback) {}

Result<std::string> ConfigSecretStore::get(const std::string& instance, const std::string& name) {
  {
    std::lock_guard lock(m_mutex);
    if (auto i = m_secrets.find(instance); i != m_secrets.end()) {
      if (auto s = i->second.find(name); s != i->second.end())
        return resolve_secret(s->second, "providers." + instance + "." + name);
    }
  }
  if (m_fallback != nullptr) return m_fallback->get(instance, name);
  return make_error("provider " + instance + " has no secret named \"" + name +
                        "\"; set it in the configuration as ${env:NAME} or ${file:PATH}",
                    ErrorKind::not_found);
}

Status ConfigSecretStore::put(const std::string& instance, const std::string& name,
                              const std::string& value) {
  if (defines(instance, name))
    return make_error("providers." + instance + "." + name +
                          " comes from the configuration file and cannot be replaced at run "
                          "time; change it there",
                      ErrorKind::unsupported);
  if (m_fallback != nullptr) return m_fallback->put(instance, name, value);
  return make_error("no token store is configured to keep secret \"" + name + "\" of " + instance,
                    ErrorKind::unsupported);
}

bool ConfigSecretStore::defines(const std::string& instance, const std::string& name) const {
  std::lock_guard lock(m_mutex);
  auto i = m_secrets.find(instance);
  return i != m_secrets.end() && i->second.count(name) != 0;
}

std::vector<std::string> ConfigSecretStore::check() const {
  std::vector<std::string> problems;
  std::lock_guard lock(m_mutex);
  for (const auto& [instance, secrets] : m_secrets)
    for (const auto& [name, ref] : secrets)
      if (auto v = resolve_secret(ref, "providers." + instance + "." + name); !v)
        problems.push_back(v.error().message);
  return problems;
}

}  // namespace cw::services
