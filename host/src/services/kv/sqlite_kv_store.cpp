#include <cw/services/kv/sqlite_kv_store.hpp>

namespace cw::services {

Result<std::optional<std::string>> SqliteKvStore::get(const std::string& instance,
                                                      const std::string& key) {
  return m_store.kv_get(instance, key);
}

Status SqliteKvStore::put(const std::string& instance, const std::string& key,
                          const std::string& value) {
  if (key.empty()) return make_error("plugin data needs a non-empty key", ErrorKind::invalid_arg);
  m_store.kv_buffer(instance, key, value);
  return ok_status();
}

}  // namespace cw::services
