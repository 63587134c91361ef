#include <cstdlib>
#include <fstream>
#include <sstream>

#include <cw/config/config_secrets.hpp>
#include <cw/services/secrets/redactor.hpp>

namespace cw::config {

namespace {
Result<std::string> read_secret(const SecretRef& ref, const std::string& what) {
  const std::string where = ref.pos.to_string().empty() ? what : ref.pos.to_string() + ": " + what;
  switch (ref.kind) {
    case SecretRef::Kind::literal:
      return ref.ref;
    case SecretRef::Kind::env: {
      const char* v = std::getenv(ref.ref.c_str());
      if (v == nullptr || *v == '\0')
        return make_error(where + ": environment variable " + ref.ref +
                              " is not set; export it before running cw",
                          ErrorKind::not_found);
      return std::string(v);
    }
    case SecretRef::Kind::file: {
      std::ifstream in(ref.ref, std::ios::binary);
      if (!in)
        return make_error(where + ": cannot read secret file " + ref.ref +
                              "; create it or fix the path in ${file:...}",
                          ErrorKind::not_found);
      std::ostringstream text;
      text << in.rdbuf();
      std::string value = text.str();
      // Files written with `echo` end in a newline that is not part of the token.
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      if (value.empty())
        return make_error(where + ": secret file " + ref.ref + " is empty", ErrorKind::not_found);
      return value;
    }
  }
  return make_error(where + ": unknown secret reference", ErrorKind::internal);
}
}  // namespace

Result<std::string> resolve_secret(const SecretRef& ref, const std::string& what) {
  auto value = read_secret(ref, what);
  if (value) services::register_secret(*value);
  return value;
}

Result<std::optional<std::string>> ConfigSecretStore::lookup(const std::string& instance,
                                                             const std::string& name) const {
  SecretRef ref;
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

ConfigSecretStore::ConfigSecretStore(const Config& config, services::SecretStore* fallback)
    : m_fallback(fallback) {
  for (const auto& p : config.providers) m_secrets[p.name] = p.secrets;
}

ConfigSecretStore::ConfigSecretStore(
    std::map<std::string, std::map<std::string, SecretRef>> secrets,
    services::SecretStore* fallback)
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

}  // namespace cw::config
