#pragma once
// SqliteKvStore: KvStore on the `kv` table of the state database. Reads see the run's own
// buffered writes; writes are buffered in the state::StateStore until the pair-and-feature commit
// that names the instance (StateCommit::kv_instances), so a failed pair never advances a
// plugin's watermark. On a read-only (dry run) store writes are accepted and never stored.

#include <cw/services/kv/kv_store.hpp>
#include <cw/state/state_store.hpp>

namespace cw::services {

class SqliteKvStore final : public KvStore {
 public:
  explicit SqliteKvStore(state::StateStore& store) : m_store(store) {}
  Result<std::optional<std::string>> get(const std::string& instance,
                                         const std::string& key) override;
  Status put(const std::string& instance, const std::string& key,
             const std::string& value) override;

 private:
  state::StateStore& m_store;
};

}  // namespace cw::services
