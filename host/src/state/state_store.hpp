#pragma once
// StateStore: the state database `state.db` of one state directory (SQLite, WAL,
// synchronous=FULL: the journal row for a play must be on disk before the play is posted,
// and FULL is what makes a committed WAL transaction survive a power cut, not only a
// killed process; commits are few per run, so the extra fsync is cheap).
//
// The schema is versioned with PRAGMA user_version and upgraded by migrations() on open.
// A read-only store (dry runs, `cw state show`) opens the file with mode=ro and never
// writes: not a row, not a checkpoint, not the schema (an older schema is upgraded in a
// private in-memory copy); a missing database reads as empty and is not created. When no
// run holds the directory it also holds a shared lock on cw.lock while open, so a run that
// starts meanwhile is refused (RunLock) instead of changing the file under the reader.
//
// One StateStore per process and thread; SQLite serialises access between processes, and
// RunLock keeps two runs from interleaving their commits.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <cw/state/state_types.hpp>
#include <cw/util/result.hpp>

struct sqlite3;

namespace cw::state {

enum class OpenMode { read_write, read_only };

// One schema version: the SQL that upgrades version-1 to version.
struct Migration {
  int version;
  const char* sql;
};
const std::vector<Migration>& migrations();
int current_schema_version();

inline constexpr const char* k_state_db_name = "state.db";

class StateStore {
 public:
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Opens (read_write: creating the directory and the database, migrating) the state
  // database of `state_dir`. Errors name the file and what to do about it.
  static Result<std::unique_ptr<StateStore>> open(const std::filesystem::path& state_dir,
                                                  OpenMode mode);
  // Opens a database file directly (tests, tools).
  static Result<std::unique_ptr<StateStore>> open_file(const std::filesystem::path& db_path,
                                                       OpenMode mode);

  bool read_only() const { return m_read_only; }
  const std::filesystem::path& path() const { return m_path; }
  int schema_version() const;

  // --- pair and feature state ------------------------------------------------------------
  // The record form (load() below) reads a stored baseline item as JSON: the binary form
  // decoded (engine/item_codec.hpp), JSON text parsed.
  Result<PairFeatureRecord> load(const std::string& pair, const std::string& feature);
  // One baseline row as it is read: the side (provider instance), the row key and the item
  // as stored (the binary form of engine/item_codec.hpp, or JSON text), valid during the
  // call. A sink's error ends the load with that error.
  using BaselineRowSink =
      std::function<Status(const std::string& side, std::string key, std::string_view stored)>;
  // As load(), but the baseline rows go to `sink` one by one and the record's `baselines`
  // stays empty: a run turns each row into an engine item at once instead of holding a
  // 100k-row baseline as JSON documents.
  Result<PairFeatureRecord> load(const std::string& pair, const std::string& feature,
                                 const BaselineRowSink& sink);
  // Applies the change and flushes the buffered kv writes of commit.kv_instances in ONE
  // transaction: either all of it is stored or none. Refused on a read-only store.
  Status commit(const PairFeatureCommit& change);
  // Every (pair, feature) with stored state, with its counts.
  Result<std::vector<PairFeatureSummary>> summaries();
  // The blackboxed and unresolved items of every pair and feature, newest first, at most
  // `limit` of each, without loading baselines (the `cw serve` status page).
  Result<std::vector<HeldItem>> held_items(int limit);
  // Removes all state of a pair (and feature); empty strings match everything. Plugin kv,
  // the journal and run reports are kept. Returns the number of rows removed.
  Result<std::int64_t> reset(const std::string& pair, const std::string& feature);

  // --- pending deletions and blackbox (CLI) ----------------------------------------------
  // Filters: empty matches all. Keys empty: every entry that matches pair/feature.
  Result<std::vector<std::pair<std::string, PendingDeletion>>> pending(
      const std::string& pair, const std::string& feature);  // (pair/feature, entry)
  Result<std::int64_t> approve_pending(const std::string& pair, const std::string& feature,
                                       const std::vector<std::string>& keys);
  Result<std::int64_t> drop_pending(const std::string& pair, const std::string& feature,
                                    const std::vector<std::string>& keys);
  // Releases a blocked key (and resets its flap counter). Returns rows removed.
  Result<std::int64_t> unblock(const std::string& key, const std::string& pair,
                               const std::string& feature);

  // --- write journal (R6.2) --------------------------------------------------------------
  // Records the entries as in_flight in one durable transaction; fills in their ids.
  Status journal_begin(std::vector<JournalEntry>& entries);
  // Marks entries confirmed or unknown.
  Status journal_settle(const std::map<std::int64_t, std::string>& states, std::int64_t now);
  // Entries still in_flight or unknown for a target (any pair/feature when empty): what a
  // crash or an unknown outcome left open, to be re-checked before sending again.
  Result<std::vector<JournalEntry>> journal_open(const std::string& pair,
                                                 const std::string& feature,
                                                 const std::string& target);
  // Deletes confirmed entries created before `before`. Returns rows removed.
  Result<std::int64_t> journal_prune(std::int64_t before);

  // --- run reports (R7.2) ----------------------------------------------------------------
  Status save_report(const RunReport& report);
  Result<std::optional<RunReport>> report(const std::string& run_id);
  Result<std::vector<RunReport>> recent_reports(int limit);

  // A consistent copy of the whole database in `file` (SQLite's online backup API).
  Status backup_to(const std::filesystem::path& file);
  // The count of changes to backed-up content (schema v8's content_version), which a copy
  // carries too: equal counts, equal content.
  Result<std::int64_t> content_version();

  // --- id resolutions (ABI 1.1 resolve_ids), cached with a time to live ----------------
  // The cached answers among `queries` that have not expired at `now`: query -> ids
  // (a JSON object as text; "{}" means the resolver does not know the item).
  Result<std::map<std::string, std::string>> resolutions_get(
      const std::string& resolver, const std::vector<std::string>& queries, std::int64_t now);
  // Stores answers in one transaction; nothing in a read-only (dry-run) store.
  Status resolutions_put(const std::string& resolver, const std::vector<IdResolution>& answers);

  // --- manual mappings (`cw map`): the ids an instance's item should have ---------------
  // Every mapping of `instance` (all instances when empty), by instance and key.
  Result<std::vector<IdMapping>> mappings(const std::string& instance);
  // Adds or replaces the mapping of (instance, key).
  Status mapping_put(const IdMapping& mapping);
  // False when there was no such mapping.
  Result<bool> mapping_remove(const std::string& instance, const std::string& key);

  // --- scrobble queue (`cw serve`) -------------------------------------------------------
  // Queues rows in one durable transaction and fills in their ids; a watched row also
  // records its play (scrobble_plays, not yet delivered).
  Status scrobble_enqueue(std::vector<ScrobbleRow>& rows);
  // The first `limit` rows in delivery order, of one sink (all when empty).
  Result<std::vector<ScrobbleRow>> scrobble_queue(const std::string& sink, std::int64_t limit);
  // Rows queued per sink.
  Result<std::map<std::string, std::int64_t>> scrobble_counts();
  // Removes a delivered row; its play is marked delivered when the service recorded it,
  // forgotten otherwise. One transaction.
  Status scrobble_delivered(const ScrobbleRow& row, std::int64_t now_ms, bool play_recorded);
  // Counts a failed attempt and sets when the row may be tried again.
  Status scrobble_retry_later(std::int64_t id, const std::string& error, std::int64_t next_try_ms);
  // Plays of a sink (all when empty) and play key (all when empty) watched at or after
  // `since_ms`, oldest first.
  Result<std::vector<ScrobblePlay>> scrobble_plays(const std::string& sink,
                                                   const std::string& play_key,
                                                   std::int64_t since_ms);

  // --- overrides (`cw override`): the user's corrections and exclusions of items --------
  // Every override of `instance` (all instances when empty), by instance and key.
  Result<std::vector<ItemOverride>> overrides(const std::string& instance);
  // Adds or replaces the override of (instance, key).
  Status override_put(const ItemOverride& override_);
  // False when there was no such override.
  Result<bool> override_remove(const std::string& instance, const std::string& key);

  // --- plugin kv (used by services::SqliteKvStore)
  // -------------------------------------------------
  Result<std::optional<std::string>> kv_get(const std::string& instance, const std::string& key);
  // Buffers a write until the next commit() that names the instance (or kv_flush()).
  void kv_buffer(const std::string& instance, const std::string& key, const std::string& value);
  // Stores every buffered write of `instance` now (all instances when empty).
  Status kv_flush(const std::string& instance);
  void kv_discard();
  Result<std::map<std::string, std::map<std::string, std::string>>> kv_all();

  // --- export ----------------------------------------------------------------------------
  // The whole database as one JSON document (`cw state export`). Plugin kv values are not
  // included (plugins may keep tokens there), only their keys.
  Result<nlohmann::json> export_json();

  Status integrity_check();

 private:
  StateStore() = default;
  Status migrate();
  Status quick_check();  // PRAGMA quick_check on open: a damaged file is refused
  Status exec(const char* sql);
  Status kv_flush_locked(const std::vector<std::string>& instances);  // inside a transaction
  Status open_connection(const std::string& uri, int flags);

  sqlite3* m_db = nullptr;
  std::filesystem::path m_path;
  bool m_read_only = false;
  bool m_missing = false;     // read-only store of a database that does not exist
  int m_reader_lock_fd = -1;  // shared flock on cw.lock while reading an immutable file
  // instance -> key -> value ("" deletes). Plugins of different instances may run on
  // different threads, so the buffer has its own lock; the connection is serialized.
  std::mutex m_kv_mutex;
  std::map<std::string, std::map<std::string, std::string>> m_kv_pending;
};

}  // namespace cw::state
