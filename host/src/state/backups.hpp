#pragma once
// Rolling backups of the state database. After every run that committed, `state.db` is
// copied with SQLite's online backup API (a consistent copy even while WAL holds recent
// transactions) to `state_dir/backups/state-<run id>.db`, and only the newest few are kept.
// `cw state restore` puts one back; the file it replaces is kept beside it, never deleted.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <cw/state/state_store.hpp>
#include <cw/util/result.hpp>

namespace cw::state {

inline constexpr const char* k_backup_dir_name = "backups";
inline constexpr int k_default_backups_kept = 3;

// The backups of `state_dir`, newest first (run ids sort by time).
std::vector<std::filesystem::path> list_backups(const std::filesystem::path& state_dir);

// Copies `store` to a new backup named after `run_id` and removes all but the newest `keep`.
// The caller holds the run lock.
Result<std::filesystem::path> make_backup(StateStore& store, const std::filesystem::path& state_dir,
                                          const std::string& run_id,
                                          int keep = k_default_backups_kept);

// The newest backup when it holds what `store` holds now (the same content version: no
// baseline, pending deletion, kv entry, mapping, ... changed since it was made), so that a
// run that changed nothing copies nothing; nullopt when there is none or it is older.
std::optional<std::filesystem::path> current_backup(StateStore& store,
                                                    const std::filesystem::path& state_dir);

// Puts `backup` in place of `state_dir`'s state.db after checking it (quick_check). The
// replaced database (and its -wal/-shm files) is renamed `state.db.replaced-<stamp>`, and
// its path returned ("" when there was none). The caller holds the run lock.
Result<std::filesystem::path> restore_backup(const std::filesystem::path& state_dir,
                                             const std::filesystem::path& backup,
                                             const std::string& stamp);

}  // namespace cw::state
