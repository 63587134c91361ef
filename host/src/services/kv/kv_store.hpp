#pragma once
// KvStore: durable per-instance key/value data for plugins (watermarks, ETags, id caches),
// behind cw_host_api.kv_get/kv_put. The SQLite implementation is a table of the state
// database (host/src/state/); tests use MemoryKvStore.

#include <optional>
#include <string>

#include <cw/util/result.hpp>

namespace cw::services {

class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual Result<std::optional<std::string>> get(const std::string& instance,
                                                 const std::string& key) = 0;
  // An empty value deletes the key.
  virtual Status put(const std::string& instance, const std::string& key,
                     const std::string& value) = 0;
};

}  // namespace cw::services
