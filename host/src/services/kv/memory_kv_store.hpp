#pragma once
// MemoryKvStore: a KvStore that lives as long as the object. Used by tests, by
// `cw plugins check` (nothing a check does may touch real state) and by dry runs that have
// no state directory. Thread-safe.

#include <map>
#include <mutex>
#include <utility>

#include <cw/services/kv/kv_store.hpp>

namespace cw::services {

class MemoryKvStore final : public KvStore {
 public:
  Result<std::optional<std::string>> get(const std::string& instance,
                                         const std::string& key) override;
  Status put(const std::string& instance, const std::string& key,
             const std::string& value) override;
  std::size_t size() const;

 private:
  mutable std::mutex m_mutex;
  std::map<std::pair<std::string, std::string>, std::string> m_values;
};

}  // namespace cw::services
