#include <cw/services/kv/memory_kv_store.hpp>

namespace cw::services {

Result<std::optional<std::string>> MemoryKvStore::get(const std::string& instance,
                                                      const std::string& key) {
  std::lock_guard lock(m_mutex);
  const auto it = m_values.find({instance, key});
  if (it == m_values.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

Status MemoryKvStore::put(const std::string& instance, const std::string& key,
                          const std::string& value) {
  std::lock_guard lock(m_mutex);
  if (value.empty())
    m_values.erase({instance, key});
  else
    m_values[{instance, key}] = value;
  return ok_status();
}

std::size_t MemoryKvStore::size() const {
  std::lock_guard lock(m_mutex);
  return m_values.size();
}

}  // namespace cw::services
