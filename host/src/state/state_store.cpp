#include <ctime>
#include <set>
#include <system_error>
#include <tuple>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cw/engine/item_codec.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

namespace cw::state {

// ---------------------------------------------------------------------------------------
// Schema. Each step upgrades version-1 to version; steps are never edited once released,
// only appended, because databases in the field are at every version.

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> k_migrations = {
      {1, R"sql(
CREATE TABLE baselines(
  pair TEXT NOT NULL, feature TEXT NOT NULL, side TEXT NOT NULL, key TEXT NOT NULL,
  item TEXT NOT NULL,
  PRIMARY KEY (pair, feature, side, key)) WITHOUT ROWID;
CREATE TABLE tombstones(
  pair TEXT NOT NULL, feature TEXT NOT NULL, key TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, data TEXT,
  PRIMARY KEY (pair, feature, key)) WITHOUT ROWID;
CREATE TABLE pending_deletions(
  pair TEXT NOT NULL, feature TEXT NOT NULL, side TEXT NOT NULL, key TEXT NOT NULL,
  reason TEXT NOT NULL, first_seen INTEGER NOT NULL, approved INTEGER NOT NULL DEFAULT 0,
  item TEXT,
  PRIMARY KEY (pair, feature, side, key)) WITHOUT ROWID;
CREATE TABLE flaps(
  pair TEXT NOT NULL, feature TEXT NOT NULL, side TEXT NOT NULL, key TEXT NOT NULL,
  consecutive INTEGER NOT NULL, last_reason TEXT NOT NULL, last_at INTEGER NOT NULL,
  PRIMARY KEY (pair, feature, side, key)) WITHOUT ROWID;
CREATE TABLE blackbox(
  pair TEXT NOT NULL, feature TEXT NOT NULL, side TEXT NOT NULL, key TEXT NOT NULL,
  reason TEXT NOT NULL, since INTEGER NOT NULL, until INTEGER NOT NULL,
  PRIMARY KEY (pair, feature, side, key)) WITHOUT ROWID;
CREATE TABLE unresolved(
  pair TEXT NOT NULL, feature TEXT NOT NULL, side TEXT NOT NULL, key TEXT NOT NULL,
  reason TEXT NOT NULL, message TEXT NOT NULL, first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL, item TEXT,
  PRIMARY KEY (pair, feature, side, key)) WITHOUT ROWID;
CREATE TABLE pair_features(
  pair TEXT NOT NULL, feature TEXT NOT NULL, meta TEXT, last_run_id TEXT NOT NULL,
  last_commit_at INTEGER NOT NULL,
  PRIMARY KEY (pair, feature)) WITHOUT ROWID;
CREATE TABLE kv(
  instance TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (instance, key)) WITHOUT ROWID;
CREATE TABLE journal(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL, pair TEXT NOT NULL, feature TEXT NOT NULL, target TEXT NOT NULL,
  op TEXT NOT NULL, key TEXT NOT NULL, payload_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_flight', 'confirmed', 'unknown')),
  created_at INTEGER NOT NULL);
CREATE TABLE runs(
  run_id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
  status TEXT NOT NULL, report TEXT NOT NULL);
)sql"},
      // v2: when a journal entry was settled (for pruning and diagnosing a crash), an index
      // for the recovery query, and how often an unresolved item was retried.
      {2, R"sql(
ALTER TABLE journal ADD COLUMN settled_at INTEGER;
CREATE INDEX journal_open ON journal(target, state) WHERE state <> 'confirmed';
ALTER TABLE unresolved ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
CREATE INDEX runs_started ON runs(started_at);
)sql"},
      // v3: a pending deletion the user declined (`cw pending drop`): the next run neither
      // removes nor holds it, advances the baseline past it and forgets the row (R6.3).
      {3, R"sql(
ALTER TABLE pending_deletions ADD COLUMN declined INTEGER NOT NULL DEFAULT 0;
)sql"},
      // v4: what an id resolver (ABI 1.1 resolve_ids) answered, per query, until it
      // expires; an empty ids object is "not known to the service", cached as well.
      {4, R"sql(
CREATE TABLE id_resolutions(
  resolver TEXT NOT NULL, query TEXT NOT NULL, ids TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (resolver, query)) WITHOUT ROWID;
)sql"},
      // v5: manual mappings (`cw map`): the ids an item of an instance should have, by the
      // key the instance's item has without them; applied to every later read.
      {5, R"sql(
CREATE TABLE id_mappings(
  instance TEXT NOT NULL, key TEXT NOT NULL, ids TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (instance, key)) WITHOUT ROWID;
)sql"},
      // v6: real-time scrobbling (`cw serve`): the durable queue of playback events per
      // sink, delivered in id order, and the plays (watched stops) queued or delivered, by
      // which a repeated stop is recognised across a restart.
      {6, R"sql(
CREATE TABLE scrobble_queue(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sink TEXT NOT NULL, action TEXT NOT NULL, request TEXT NOT NULL, title TEXT NOT NULL,
  progress REAL NOT NULL, watched INTEGER NOT NULL, session TEXT NOT NULL,
  play_key TEXT NOT NULL, created_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', next_try_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX scrobble_queue_sink ON scrobble_queue(sink, id);
CREATE TABLE scrobble_plays(
  sink TEXT NOT NULL, play_key TEXT NOT NULL, watched_ms INTEGER NOT NULL,
  item TEXT NOT NULL, delivered_ms INTEGER,
  PRIMARY KEY (sink, play_key, watched_ms)) WITHOUT ROWID;
)sql"},
      // v7: overrides (`cw override`): the user's correction of an item of an instance
      // (watch date, rating) or its exclusion from sync, by the item's key; applied to
      // every later read.
      {7, R"sql(
CREATE TABLE overrides(
  instance TEXT NOT NULL, key TEXT NOT NULL, watched_at INTEGER, rating REAL,
  ignore INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  PRIMARY KEY (instance, key)) WITHOUT ROWID;
)sql"},
      // v8: a count of the changes to what a backup is for (baselines and the other
      // per-pair rows, a pair's meta, plugin kv, mappings, overrides; not the journal, run
      // reports, caches or the scrobble queue), kept by triggers so that every writer counts:
      // a run whose newest backup holds the same count changed nothing, and copies nothing.
      {8, R"sql(
CREATE TABLE content_version(v INTEGER NOT NULL);
INSERT INTO content_version VALUES (0);
CREATE TRIGGER baselines_i AFTER INSERT ON baselines BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER baselines_u AFTER UPDATE ON baselines BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER baselines_d AFTER DELETE ON baselines BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER tombstones_i AFTER INSERT ON tombstones BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER tombstones_u AFTER UPDATE ON tombstones BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER tombstones_d AFTER DELETE ON tombstones BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER pending_deletions_i AFTER INSERT ON pending_deletions BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER pending_deletions_u AFTER UPDATE ON pending_deletions BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER pending_deletions_d AFTER DELETE ON pending_deletions BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER flaps_i AFTER INSERT ON flaps BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER flaps_u AFTER UPDATE ON flaps BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER flaps_d AFTER DELETE ON flaps BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER blackbox_i AFTER INSERT ON blackbox BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER blackbox_u AFTER UPDATE ON blackbox BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER blackbox_d AFTER DELETE ON blackbox BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER unresolved_i AFTER INSERT ON unresolved BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER unresolved_u AFTER UPDATE ON unresolved BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER unresolved_d AFTER DELETE ON unresolved BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER kv_i AFTER INSERT ON kv BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER kv_u AFTER UPDATE ON kv BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER kv_d AFTER DELETE ON kv BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER id_mappings_i AFTER INSERT ON id_mappings BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER id_mappings_u AFTER UPDATE ON id_mappings BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER id_mappings_d AFTER DELETE ON id_mappings BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER overrides_i AFTER INSERT ON overrides BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER overrides_u AFTER UPDATE ON overrides BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER overrides_d AFTER DELETE ON overrides BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER pair_features_i AFTER INSERT ON pair_features BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER pair_features_u AFTER UPDATE OF meta ON pair_features WHEN old.meta IS NOT new.meta BEGIN UPDATE content_version SET v = v + 1; END;
CREATE TRIGGER pair_features_d AFTER DELETE ON pair_features BEGIN UPDATE content_version SET v = v + 1; END;
)sql"},
  };
  return k_migrations;
}

int current_schema_version() { return migrations().back().version; }

namespace {

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A prepared statement; reset and rebound for each row of a batch.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
  ~Stmt() { sqlite3_finalize(m_stmt); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool prepared() const { return m_rc == SQLITE_OK; }
  // After a `while (step() == SQLITE_ROW)` loop: the rows ran out, rather than the statement
  // failing (a missing or damaged table must read as an error, never as "no rows").
  bool finished() const { return prepared() && m_last == SQLITE_DONE; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
  }
  Stmt& bind_real(int i, double v) {
    sqlite3_bind_double(m_stmt, i, v);
    return *this;
  }
  Stmt& bind_json(int i, const nlohmann::json& j) {
    if (j.is_null()) {
      sqlite3_bind_null(m_stmt, i);
      return *this;
    }
    return bind(i, j.dump());
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return m_last = prepared() ? sqlite3_step(m_stmt) : m_rc; }
  // Runs a statement that returns no rows, then resets it for the next binding. False
  // when it failed, or could not be prepared (sqlite3_clear_bindings takes no NULL).
  bool run() {
    if (!prepared()) return false;
    const int rc = sqlite3_step(m_stmt);
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  }
  void reset() {
    if (!prepared()) return;
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
    return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(m_stmt, col));
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(m_stmt, col); }
  // The column's bytes as stored (a BLOB or TEXT), valid until the next step.
  std::string_view bytes(int col) const {
    const void* p = sqlite3_column_blob(m_stmt, col);
    return p == nullptr
               ? std::string_view()
               : std::string_view(static_cast<const char*>(p),
                                  static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)));
  }
  double real(int col) const { return sqlite3_column_double(m_stmt, col); }
  sqlite3_stmt* raw() { return m_stmt; }
  bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
  nlohmann::json json(int col) const {
    if (is_null(col)) return nullptr;
    return nlohmann::json::parse(text(col), nullptr, false);  // discarded value on bad JSON
  }

 private:
  sqlite3_stmt* m_stmt = nullptr;
  int m_rc;
  int m_last = SQLITE_OK;  // what the last step() returned
};

// A read that ended on an error rather than on its last row: never an empty answer.
Error unreadable(const std::filesystem::path& file, sqlite3* db, const std::string& what) {
  return make_error(file.string() + ": cannot read " + what + ": " + sqlite3_errmsg(db) +
                        "; `cw state check` tells whether the file is damaged",
                    ErrorKind::internal);
}

// Filters "(?1 = '' OR pair = ?1) AND (?2 = '' OR feature = ?2)" shared by the CLI queries.
constexpr const char* k_pf_filter = "(?1 = '' OR pair = ?1) AND (?2 = '' OR feature = ?2)";

// A file path as the path part of an SQLite URI: '?', '#' and '%' would otherwise end or
// escape it.
std::string uri_path(const std::filesystem::path& p) {
  std::string out;
  for (char c : std::filesystem::absolute(p).string()) {
    if (c == '%')
      out += "%25";
    else if (c == '?')
      out += "%3f";
    else if (c == '#')
      out += "%23";
    else
      out += c;
  }
  return out;
}

const char* const k_pf_tables[] = {"baselines", "tombstones", "pending_deletions", "flaps",
                                   "blackbox",  "unresolved", "pair_features"};

// The rows of one pair-and-feature commit, table by table: each writer returns false at the
// first statement that fails (StateStore::commit then rolls the whole transaction back and
// names the table).
Stmt& bind_pf(const PairFeatureCommit& c, Stmt& s) { return s.bind(1, c.pair).bind(2, c.feature); }

bool delete_side_keys(sqlite3* db, const PairFeatureCommit& c, const char* table,
                      const std::vector<PairFeatureCommit::SideKey>& keys) {
  const std::string sql = std::string("DELETE FROM ") + table +
                          " WHERE pair = ?1 AND feature = ?2 AND side = ?3 AND key = ?4";
  Stmt del(db, sql.c_str());
  for (const auto& k : keys)
    if (!bind_pf(c, del).bind(3, k.side).bind(4, k.key).run()) return false;
  return true;
}

bool write_baselines(sqlite3* db, const PairFeatureCommit& c) {
  Stmt del_side(db, "DELETE FROM baselines WHERE pair = ?1 AND feature = ?2 AND side = ?3");
  for (const auto& side : c.replace_baseline_sides)
    if (!bind_pf(c, del_side).bind(3, side).run()) return false;
  Stmt del(db, "DELETE FROM baselines WHERE pair = ?1 AND feature = ?2 AND side = ?3 AND key = ?4");
  for (const auto& [side, keys] : c.baseline_deletes)
    for (const auto& key : keys)
      if (!bind_pf(c, del).bind(3, side).bind(4, key).run()) return false;
  Stmt up(db,
          "INSERT OR REPLACE INTO baselines(pair, feature, side, key, item) VALUES "
          "(?1, ?2, ?3, ?4, ?5)");
  for (const auto& [side, items] : c.baseline_upserts)
    for (const auto& [key, item] : items)
      if (!bind_pf(c, up).bind(3, side).bind(4, key).bind(5, item.dump()).run()) return false;
  for (const auto& [side, items] : c.baseline_encoded)
    for (const auto& [key, bytes] : items)
      if (!bind_pf(c, up).bind(3, side).bind(4, key).bind_blob(5, bytes).run()) return false;
  return true;
}

bool write_tombstones(sqlite3* db, const PairFeatureCommit& c) {
  Stmt del(db, "DELETE FROM tombstones WHERE pair = ?1 AND feature = ?2 AND key = ?3");
  for (const auto& key : c.tombstone_deletes)
    if (!bind_pf(c, del).bind(3, key).run()) return false;
  Stmt up(db,
          "INSERT OR REPLACE INTO tombstones(pair, feature, key, created_at, expires_at, "
          "data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  for (const auto& t : c.tombstone_upserts)
    if (!bind_pf(c, up)
             .bind(3, t.key)
             .bind(4, t.created_at)
             .bind(5, t.expires_at)
             .bind_json(6, t.data)
             .run())
      return false;
  return true;
}

bool write_pending(sqlite3* db, const PairFeatureCommit& c) {
  if (!delete_side_keys(db, c, "pending_deletions", c.pending_deletes)) return false;
  Stmt up(db,
          "INSERT OR REPLACE INTO pending_deletions(pair, feature, side, key, reason, "
          "first_seen, approved, item, declined) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (const auto& p : c.pending_upserts)
    if (!bind_pf(c, up)
             .bind(3, p.side)
             .bind(4, p.key)
             .bind(5, p.reason)
             .bind(6, p.first_seen)
             .bind(7, std::int64_t{p.approved})
             .bind_json(8, p.item)
             .bind(9, std::int64_t{p.declined})
             .run())
      return false;
  return true;
}

bool write_flaps(sqlite3* db, const PairFeatureCommit& c) {
  if (!delete_side_keys(db, c, "flaps", c.flap_deletes)) return false;
  Stmt up(db,
          "INSERT OR REPLACE INTO flaps(pair, feature, side, key, consecutive, "
          "last_reason, last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (const auto& f : c.flap_upserts)
    if (!bind_pf(c, up)
             .bind(3, f.side)
             .bind(4, f.key)
             .bind(5, std::int64_t{f.consecutive})
             .bind(6, f.last_reason)
             .bind(7, f.last_at)
             .run())
      return false;
  return true;
}

bool write_blackbox(sqlite3* db, const PairFeatureCommit& c) {
  if (!delete_side_keys(db, c, "blackbox", c.blackbox_deletes)) return false;
  Stmt up(db,
          "INSERT OR REPLACE INTO blackbox(pair, feature, side, key, reason, since, "
          "until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (const auto& b : c.blackbox_upserts)
    if (!bind_pf(c, up)
             .bind(3, b.side)
             .bind(4, b.key)
             .bind(5, b.reason)
             .bind(6, b.since)
             .bind(7, b.until)
             .run())
      return false;
  return true;
}

bool write_unresolved(sqlite3* db, const PairFeatureCommit& c) {
  if (!delete_side_keys(db, c, "unresolved", c.unresolved_deletes)) return false;
  Stmt up(db,
          "INSERT OR REPLACE INTO unresolved(pair, feature, side, key, reason, message, "
          "first_seen, last_seen, attempts, item) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
          "?9, ?10)");
  for (const auto& u : c.unresolved_upserts)
    if (!bind_pf(c, up)
             .bind(3, u.side)
             .bind(4, u.key)
             .bind(5, u.reason)
             .bind(6, u.message)
             .bind(7, u.first_seen)
             .bind(8, u.last_seen)
             .bind(9, std::int64_t{u.attempts})
             .bind_json(10, u.item)
             .run())
      return false;
  return true;
}

bool write_pair_feature(sqlite3* db, const PairFeatureCommit& c, std::int64_t at) {
  Stmt up(db,
          "INSERT INTO pair_features(pair, feature, meta, last_run_id, last_commit_at) VALUES "
          "(?1, ?2, ?3, ?4, ?5) ON CONFLICT(pair, feature) DO UPDATE SET "
          "meta = CASE WHEN ?6 THEN excluded.meta ELSE meta END, "
          "last_run_id = excluded.last_run_id, last_commit_at = excluded.last_commit_at");
  if (!bind_pf(c, up)
           .bind_json(3, c.meta)
           .bind(4, c.run_id)
           .bind(5, at)
           .bind(6, std::int64_t{!c.meta.is_null()})
           .run())
    return false;
  return true;
}

bool settle_journal(sqlite3* db, const PairFeatureCommit& c, std::int64_t at) {
  Stmt up(db, "UPDATE journal SET state = ?1, settled_at = ?2 WHERE id = ?3");
  for (const auto& [id, state] : c.journal_settle)
    if (!up.bind(1, state).bind(2, at).bind(3, id).run()) return false;
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening

StateStore::~StateStore() {
  if (m_db != nullptr) sqlite3_close_v2(m_db);
  if (m_reader_lock_fd >= 0) close(m_reader_lock_fd);  // releases the shared flock
}

Status StateStore::open_connection(const std::string& uri, int flags) {
  const int rc =
      sqlite3_open_v2(uri.c_str(), &m_db, flags | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    return make_error(m_path.string() + ": cannot open the state database: " + msg +
                          "; check the path and its permissions (state_dir in the configuration)",
                      ErrorKind::internal);
  }
  sqlite3_busy_timeout(m_db, 10'000);
  sqlite3_extended_result_codes(m_db, 1);
  return ok_status();
}

Status StateStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(m_db);
    sqlite3_free(err);
    return make_error(m_path.string() + ": " + msg, ErrorKind::internal);
  }
  return ok_status();
}

Result<std::int64_t> StateStore::content_version() {
  Stmt s(m_db, "SELECT v FROM content_version");
  if (!s.prepared() || s.step() != SQLITE_ROW)
    return make_error(
        m_path.string() + ": cannot read the content version: " + sqlite3_errmsg(m_db),
        ErrorKind::internal);
  return s.integer(0);
}

int StateStore::schema_version() const {
  Stmt s(m_db, "PRAGMA user_version");
  return s.prepared() && s.step() == SQLITE_ROW ? static_cast<int>(s.integer(0)) : -1;
}

Status StateStore::migrate() {
  const int have = schema_version();
  if (have > current_schema_version())
    return make_error(m_path.string() + ": the state database has schema version " +
                          std::to_string(have) + ", newer than this cw understands (" +
                          std::to_string(current_schema_version()) + "); upgrade cw",
                      ErrorKind::unsupported);
  for (const auto& m : migrations()) {
    if (m.version <= have) continue;
    // Each step and its version number commit together, so a crash mid-upgrade leaves
    // the previous version intact and the step is simply run again.
    if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
    Status st = exec(m.sql);
    if (st) st = exec(("PRAGMA user_version = " + std::to_string(m.version)).c_str());
    if (st) st = exec("COMMIT");
    if (!st) {
      (void)exec("ROLLBACK");
      return make_error("upgrading the state database to schema version " +
                            std::to_string(m.version) + " failed: " + st.error().message,
                        ErrorKind::internal);
    }
  }
  return ok_status();
}

Result<std::unique_ptr<StateStore>> StateStore::open(const std::filesystem::path& state_dir,
                                                     OpenMode mode) {
  if (mode == OpenMode::read_write) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec)
      return make_error("cannot create the state directory " + state_dir.string() + ": " +
                            ec.message() + "; set state_dir in the configuration",
                        ErrorKind::internal);
  }
  return open_file(state_dir / k_state_db_name, mode);
}

Result<std::unique_ptr<StateStore>> StateStore::open_file(const std::filesystem::path& db_path,
                                                          OpenMode mode) {
  std::unique_ptr<StateStore> store(new StateStore());
  store->m_path = db_path;
  store->m_read_only = mode == OpenMode::read_only;
  std::error_code size_ec;
  const bool existed = std::filesystem::exists(db_path, size_ec);
  // SQLite takes an empty file for a new database: every baseline would be gone and the
  // next run would plan from nothing. An existing empty file is a damaged one.
  if (existed && std::filesystem::is_regular_file(db_path, size_ec) &&
      std::filesystem::file_size(db_path, size_ec) == 0 && !size_ec)
    return make_error(db_path.string() +
                          " is empty (0 bytes): it is not taken for a new database, which "
                          "would lose every baseline; restore it from a backup, or move it "
                          "away to start from nothing",
                      ErrorKind::internal);
  if (mode == OpenMode::read_write) {
    if (auto st =
            store->open_connection(db_path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        !st)
      return st.error();
    // The watch history is personal: a new database is readable by its owner only (SQLite
    // gives its -wal and -shm files the same permissions).
    if (!existed)
      std::filesystem::permissions(
          db_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
          std::filesystem::perm_options::replace, size_ec);
    // WAL: readers (`cw state show`, a dry run) never block the writer. FULL: see header.
    if (auto st = store->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"); !st)
      return st.error();
    if (auto st = store->quick_check(); !st) return st.error();
    if (auto st = store->migrate(); !st) return st.error();
    if (auto st = store->exec("PRAGMA foreign_keys = ON"); !st) return st.error();
    return store;
  }

  std::error_code ec;
  const bool present = std::filesystem::exists(db_path, ec);
  if (ec)  // an unreadable folder is not an empty state: planning against it would mislead
    return make_error("cannot read the state in " + db_path.parent_path().string() + ": " +
                          ec.message() + "; check the folder's permissions",
                      ErrorKind::internal);
  if (!present) {
    // Nothing stored yet: an empty in-memory schema answers every query, and nothing is
    // created on disk.
    store->m_missing = true;
    if (auto st = store->open_connection(":memory:", SQLITE_OPEN_READWRITE); !st) return st.error();
    if (auto st = store->migrate(); !st) return st.error();
    return store;
  }
  // With no -wal file, the database file holds every committed transaction. When no run
  // holds the directory, a shared flock on its lock file (kept while this store is open)
  // also keeps one from starting, so the file cannot change under us and SQLite may read it
  // as immutable: no -shm or -wal side file appears. Otherwise mode=ro reads through the
  // WAL (and SQLite may create its side files, never touching the database file).
  std::string uri = "file:" + uri_path(db_path) + "?mode=ro";
  const std::filesystem::path wal = db_path.string() + "-wal";
  if (!std::filesystem::exists(wal, ec)) {
    const int fd = RunLock::share(db_path.parent_path());
    if (fd >= 0) {
      if (!std::filesystem::exists(wal, ec)) {
        store->m_reader_lock_fd = fd;
        uri += "&immutable=1";
      } else {
        close(fd);
      }
    }
  }
  if (auto st = store->open_connection(uri, SQLITE_OPEN_READONLY); !st) return st.error();
  if (auto st = store->quick_check(); !st) return st.error();
  const int version = store->schema_version();
  if (version < 0)
    return make_error(db_path.string() + ": not a readable SQLite database: " +
                          sqlite3_errmsg(store->m_db) + "; move it away to start afresh",
                      ErrorKind::internal);
  if (version == current_schema_version()) return store;
  if (version > current_schema_version()) {
    return make_error(db_path.string() + ": the state database has schema version " +
                          std::to_string(version) + ", newer than this cw understands (" +
                          std::to_string(current_schema_version()) + "); upgrade cw",
                      ErrorKind::unsupported);
  }
  // An older schema cannot be upgraded in place without writing: copy the database into
  // memory and upgrade the copy, which is thrown away on close.
  sqlite3* mem = nullptr;
  if (sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(mem);
    return make_error("cannot open an in-memory database for a read-only upgrade",
                      ErrorKind::internal);
  }
  sqlite3_backup* backup = sqlite3_backup_init(mem, "main", store->m_db, "main");
  int rc = backup != nullptr ? sqlite3_backup_step(backup, -1) : SQLITE_ERROR;
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    sqlite3_close_v2(mem);
    return make_error(db_path.string() +
                          ": cannot read the state database for a read-only "
                          "open: " +
                          sqlite3_errstr(rc),
                      ErrorKind::internal);
  }
  sqlite3_close_v2(store->m_db);
  store->m_db = mem;
  if (auto st = store->migrate(); !st) return st.error();
  return store;
}

// ---------------------------------------------------------------------------------------
// Pair and feature state

namespace {
Result<nlohmann::json> stored_item_json(std::string_view stored) {
  if (engine::is_encoded_item(stored)) {
    auto item = engine::decode_item(stored);
    if (!item) return item.error();
    return engine::item_to_json(*item);
  }
  auto j = nlohmann::json::parse(stored, nullptr, false);
  if (j.is_discarded()) return make_error("not valid JSON", ErrorKind::internal);
  return j;
}
}  // namespace

Result<PairFeatureRecord> StateStore::load(const std::string& pair, const std::string& feature) {
  PairFeatureRecord r;
  auto rest =
      load(pair, feature, [&](const std::string& side, std::string key, std::string_view stored) {
        auto item = stored_item_json(stored);
        if (!item)
          return Status(make_error(m_path.string() + ": baseline row " + key + " of " + side +
                                       " for pair " + pair + ", " + feature + ": " +
                                       item.error().message + "; `cw state reset --pair " + pair +
                                       " --feature " + feature + "` discards it",
                                   ErrorKind::internal));
        r.baselines[side][std::move(key)] = std::move(item).value();
        return ok_status();
      });
  if (!rest) return rest.error();
  rest->baselines = std::move(r.baselines);
  return rest;
}

Result<PairFeatureRecord> StateStore::load(const std::string& pair, const std::string& feature,
                                           const BaselineRowSink& sink) {
  PairFeatureRecord r;
  const auto bad_row = [&](const char* table) {
    return make_error(m_path.string() + ": a row of " + table + " for pair " + pair + ", " +
                          feature + " is not valid JSON; `cw state reset --pair " + pair +
                          " --feature " + feature + "` discards it",
                      ErrorKind::internal);
  };
  const auto unreadable = [&](const char* table) {
    return make_error(m_path.string() + ": cannot read " + table + " for pair " + pair + ", " +
                          feature + ": " + sqlite3_errmsg(m_db) +
                          "; `cw state check` tells whether the file is damaged",
                      ErrorKind::internal);
  };
  {
    Stmt s(m_db, "SELECT side, key, item FROM baselines WHERE pair = ?1 AND feature = ?2");
    s.bind(1, pair).bind(2, feature);
    while (s.step() == SQLITE_ROW)
      if (auto st = sink(s.text(0), s.text(1), s.bytes(2)); !st) return st.error();
    if (!s.finished()) return unreadable("baselines");
  }
  {
    Stmt s(m_db,
           "SELECT key, created_at, expires_at, data FROM tombstones WHERE pair = ?1 AND "
           "feature = ?2 ORDER BY key");
    s.bind(1, pair).bind(2, feature);
    while (s.step() == SQLITE_ROW) {
      Tombstone t{s.text(0), s.integer(1), s.integer(2), s.json(3)};
      if (t.data.is_discarded()) return bad_row("tombstones");
      r.tombstones.push_back(std::move(t));
    }
    if (!s.finished()) return unreadable("tombstones");
  }
  {
    Stmt s(m_db,
           "SELECT side, key, reason, first_seen, approved, item, declined FROM "
           "pending_deletions WHERE pair = ?1 AND feature = ?2 ORDER BY side, key");
    s.bind(1, pair).bind(2, feature);
    while (s.step() == SQLITE_ROW) {
      PendingDeletion p{s.text(0),         s.text(1), s.text(2),        s.integer(3),
                        s.integer(4) != 0, s.json(5), s.integer(6) != 0};
      if (p.item.is_discarded()) return bad_row("pending_deletions");
      r.pending.push_back(std::move(p));
    }
    if (!s.finished()) return unreadable("pending_deletions");
  }
  {
    Stmt s(m_db,
           "SELECT side, key, consecutive, last_reason, last_at FROM flaps WHERE pair = ?1 AND "
           "feature = ?2 ORDER BY side, key");
    s.bind(1, pair).bind(2, feature);
    while (s.step() == SQLITE_ROW)
      r.flaps.push_back(FlapCounter{s.text(0), s.text(1), static_cast<int>(s.integer(2)), s.text(3),
                                    s.integer(4)});
    if (!s.finished()) return unreadable("flaps");
  }
  {
    Stmt s(m_db,
           "SELECT side, key, reason, since, until FROM blackbox WHERE pair = ?1 AND "
           "feature = ?2 ORDER BY side, key");
    s.bind(1, pair).bind(2, feature);
    while (s.step() == SQLITE_ROW)
      r.blackbox.push_back(
          BlackboxEntry{s.text(0), s.text(1), s.text(2), s.integer(3), s.integer(4)});
    if (!s.finished()) return unreadable("blackbox");
  }
  {
    Stmt s(m_db,
           "SELECT side, key, reason, message, first_seen, last_seen, attempts, item FROM "
           "unresolved WHERE pair = ?1 AND feature = ?2 ORDER BY side, key");
    s.bind(1, pair).bind(2, feature);
    while (s.step() == SQLITE_ROW) {
      UnresolvedItem u{s.text(0),
                       s.text(1),
                       s.text(2),
                       s.text(3),
                       s.integer(4),
                       s.integer(5),
                       static_cast<int>(s.integer(6)),
                       s.json(7)};
      if (u.item.is_discarded()) return bad_row("unresolved");
      r.unresolved.push_back(std::move(u));
    }
    if (!s.finished()) return unreadable("unresolved");
  }
  {
    Stmt s(m_db,
           "SELECT meta, last_run_id, last_commit_at FROM pair_features WHERE pair = ?1 AND "
           "feature = ?2");
    s.bind(1, pair).bind(2, feature);
    if (s.step() == SQLITE_ROW) {
      r.meta = s.json(0);
      if (r.meta.is_discarded()) return bad_row("pair_features");
      r.last_run_id = s.text(1);
      r.last_commit_at = s.integer(2);
    } else if (!s.finished()) {
      return unreadable("pair_features");
    }
  }
  return r;
}

Status StateStore::commit(const PairFeatureCommit& c) {
  if (m_read_only)
    return make_error("the state is open read-only (dry run); nothing was stored",
                      ErrorKind::unsupported);
  for (const auto& [id, state] : c.journal_settle)
    if (state != "confirmed" && state != "unknown")
      return make_error("journal entries settle as confirmed or unknown, got \"" + state + "\"",
                        ErrorKind::invalid_arg);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  const auto fail = [&](const char* what) -> Status {
    std::string msg = m_path.string() + ": committing " + c.pair + "/" + c.feature + " failed (" +
                      what + "): " + sqlite3_errmsg(m_db);
    (void)exec("ROLLBACK");
    return make_error(std::move(msg), ErrorKind::internal);
  };
  const std::int64_t at = c.committed_at != 0 ? c.committed_at : now_s();
  using Writer = bool (*)(sqlite3*, const PairFeatureCommit&);
  const std::pair<const char*, Writer> tables[] = {
      {"baselines", write_baselines}, {"tombstones", write_tombstones},
      {"pending", write_pending},     {"flaps", write_flaps},
      {"blackbox", write_blackbox},   {"unresolved", write_unresolved}};
  for (const auto& [what, write] : tables)
    if (!write(m_db, c)) return fail(what);
  if (!write_pair_feature(m_db, c, at)) return fail("pair_features");
  if (!settle_journal(m_db, c, at)) return fail("journal");
  // The buffer stays locked until COMMIT so that a write buffered meanwhile by another
  // instance's thread is neither lost nor half-stored.
  std::unique_lock kv_lock(m_kv_mutex);
  if (!c.kv_instances.empty()) {
    if (auto st = kv_flush_locked(c.kv_instances); !st) {
      (void)exec("ROLLBACK");
      return st;
    }
  }
  if (auto st = exec("COMMIT"); !st) return fail("commit");
  for (const auto& name : c.kv_instances) m_kv_pending.erase(name);
  return ok_status();
}

Result<std::vector<HeldItem>> StateStore::held_items(int limit) {
  std::vector<HeldItem> out;
  {
    Stmt s(m_db,
           "SELECT pair, feature, side, key, reason, since, until FROM blackbox "
           "ORDER BY since DESC LIMIT ?");
    if (!s.prepared())
      return make_error(std::string("cannot read the blackbox: ") + sqlite3_errmsg(m_db));
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step() == SQLITE_ROW)
      out.push_back(HeldItem{"blackbox", s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), "",
                             s.integer(5), s.integer(6), nullptr});
    if (!s.finished()) return unreadable(m_path, m_db, "the blackbox");
  }
  {
    Stmt s(m_db,
           "SELECT pair, feature, side, key, reason, message, first_seen, item FROM unresolved "
           "ORDER BY last_seen DESC LIMIT ?");
    if (!s.prepared())
      return make_error(std::string("cannot read the unresolved items: ") + sqlite3_errmsg(m_db));
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step() == SQLITE_ROW)
      out.push_back(HeldItem{"unresolved", s.text(0), s.text(1), s.text(2), s.text(3), s.text(4),
                             s.text(5), s.integer(6), 0, s.json(7)});
    if (!s.finished()) return unreadable(m_path, m_db, "the unresolved items");
  }
  return out;
}

Result<std::vector<PairFeatureSummary>> StateStore::summaries() {
  std::map<std::pair<std::string, std::string>, PairFeatureSummary> out;
  const auto at = [&](const std::string& p, const std::string& f) -> PairFeatureSummary& {
    auto& s = out[{p, f}];
    s.pair = p;
    s.feature = f;
    return s;
  };
  {
    Stmt s(m_db, "SELECT pair, feature, side, COUNT(*) FROM baselines GROUP BY 1, 2, 3");
    while (s.step() == SQLITE_ROW)
      at(s.text(0), s.text(1)).baseline_sizes[s.text(2)] = s.integer(3);
  }
  struct Count {
    const char* sql;
    std::int64_t PairFeatureSummary::*field;
  };
  const Count counts[] = {
      {"SELECT pair, feature, COUNT(*) FROM tombstones GROUP BY 1, 2",
       &PairFeatureSummary::tombstones},
      {"SELECT pair, feature, COUNT(*) FROM pending_deletions GROUP BY 1, 2",
       &PairFeatureSummary::pending},
      {"SELECT pair, feature, SUM(approved) FROM pending_deletions GROUP BY 1, 2",
       &PairFeatureSummary::pending_approved},
      {"SELECT pair, feature, COUNT(*) FROM blackbox GROUP BY 1, 2", &PairFeatureSummary::blocked},
      {"SELECT pair, feature, COUNT(*) FROM unresolved GROUP BY 1, 2",
       &PairFeatureSummary::unresolved},
      {"SELECT pair, feature, COUNT(*) FROM flaps WHERE consecutive > 0 GROUP BY 1, 2",
       &PairFeatureSummary::flapping},
  };
  for (const auto& c : counts) {
    Stmt s(m_db, c.sql);
    while (s.step() == SQLITE_ROW) at(s.text(0), s.text(1)).*(c.field) = s.integer(2);
    if (!s.finished()) return unreadable(m_path, m_db, "the state's counts");
  }
  {
    Stmt s(m_db, "SELECT pair, feature, last_run_id, last_commit_at FROM pair_features");
    while (s.step() == SQLITE_ROW) {
      auto& e = at(s.text(0), s.text(1));
      e.last_run_id = s.text(2);
      e.last_commit_at = s.integer(3);
    }
    if (!s.finished()) return unreadable(m_path, m_db, "pair_features");
  }
  std::vector<PairFeatureSummary> v;
  for (auto& [k, s] : out) v.push_back(std::move(s));
  return v;
}

Result<std::int64_t> StateStore::reset(const std::string& pair, const std::string& feature) {
  if (m_read_only)
    return make_error("the state is open read-only; nothing was reset", ErrorKind::unsupported);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st.error();
  std::int64_t removed = 0;
  for (const char* table : k_pf_tables) {
    const std::string sql = std::string("DELETE FROM ") + table + " WHERE " + k_pf_filter;
    Stmt s(m_db, sql.c_str());
    if (!s.bind(1, pair).bind(2, feature).run()) {
      std::string msg = sqlite3_errmsg(m_db);
      (void)exec("ROLLBACK");
      return make_error(m_path.string() + ": reset failed: " + msg, ErrorKind::internal);
    }
    if (std::string(table) != "pair_features") removed += sqlite3_changes(m_db);
  }
  if (auto st = exec("COMMIT"); !st) return st.error();
  return removed;
}

// ---------------------------------------------------------------------------------------
// Pending deletions and blackbox

Result<std::vector<std::pair<std::string, PendingDeletion>>> StateStore::pending(
    const std::string& pair, const std::string& feature) {
  std::vector<std::pair<std::string, PendingDeletion>> out;
  const std::string sql =
      std::string(
          "SELECT pair, feature, side, key, reason, first_seen, approved, item, declined "
          "FROM pending_deletions WHERE ") +
      k_pf_filter + " ORDER BY pair, feature, first_seen, key";
  Stmt s(m_db, sql.c_str());
  s.bind(1, pair).bind(2, feature);
  while (s.step() == SQLITE_ROW) {
    PendingDeletion p{s.text(2),         s.text(3), s.text(4),        s.integer(5),
                      s.integer(6) != 0, s.json(7), s.integer(8) != 0};
    if (p.item.is_discarded()) p.item = nullptr;
    out.emplace_back(s.text(0) + "/" + s.text(1), std::move(p));
  }
  if (!s.finished()) return unreadable(m_path, m_db, "the pending deletions");
  return out;
}

namespace {
// Runs `sql` (with ?1 pair, ?2 feature, ?3 key) for each key, or once with ?3 = '' meaning
// every key, in one transaction. Returns the rows changed.
Result<std::int64_t> for_keys(sqlite3* db, const std::string& sql, const std::string& pair,
                              const std::string& feature, const std::vector<std::string>& keys) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return make_error(std::string("state database busy: ") + sqlite3_errmsg(db),
                      ErrorKind::transient);
  std::int64_t changed = 0;
  Stmt s(db, sql.c_str());
  const std::vector<std::string> all = {""};
  for (const auto& key : keys.empty() ? all : keys) {
    if (!s.bind(1, pair).bind(2, feature).bind(3, key).run()) {
      std::string msg = sqlite3_errmsg(db);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return make_error("state database: " + msg, ErrorKind::internal);
    }
    changed += sqlite3_changes(db);
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return make_error(std::string("state database: ") + sqlite3_errmsg(db), ErrorKind::internal);
  return changed;
}
}  // namespace

Result<std::int64_t> StateStore::approve_pending(const std::string& pair,
                                                 const std::string& feature,
                                                 const std::vector<std::string>& keys) {
  if (m_read_only) return make_error("the state is open read-only", ErrorKind::unsupported);
  return for_keys(m_db,
                  std::string("UPDATE pending_deletions SET approved = 1, declined = 0 WHERE "
                              "approved = 0 AND ") +
                      k_pf_filter + " AND (?3 = '' OR key = ?3)",
                  pair, feature, keys);
}

Result<std::int64_t> StateStore::drop_pending(const std::string& pair, const std::string& feature,
                                              const std::vector<std::string>& keys) {
  if (m_read_only) return make_error("the state is open read-only", ErrorKind::unsupported);
  return for_keys(m_db,
                  std::string("UPDATE pending_deletions SET declined = 1, approved = 0 WHERE "
                              "declined = 0 AND ") +
                      k_pf_filter + " AND (?3 = '' OR key = ?3)",
                  pair, feature, keys);
}

Result<std::int64_t> StateStore::unblock(const std::string& key, const std::string& pair,
                                         const std::string& feature) {
  if (m_read_only) return make_error("the state is open read-only", ErrorKind::unsupported);
  if (key.empty()) return make_error("unblock needs a key", ErrorKind::invalid_arg);
  auto removed =
      for_keys(m_db, std::string("DELETE FROM blackbox WHERE ") + k_pf_filter + " AND key = ?3",
               pair, feature, {key});
  if (!removed) return removed;
  // A released key starts counting failures from zero again.
  auto reset_flaps =
      for_keys(m_db, std::string("DELETE FROM flaps WHERE ") + k_pf_filter + " AND key = ?3", pair,
               feature, {key});
  if (!reset_flaps) return reset_flaps;
  return *removed;
}

// ---------------------------------------------------------------------------------------
// Journal

Status StateStore::journal_begin(std::vector<JournalEntry>& entries) {
  if (m_read_only)
    return make_error("the state is open read-only (dry run); a dry run sends no writes",
                      ErrorKind::unsupported);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  Stmt s(m_db,
         "INSERT INTO journal(run_id, pair, feature, target, op, key, payload_hash, state, "
         "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'in_flight', ?8)");
  const std::int64_t now = now_s();
  for (auto& e : entries) {
    if (e.created_at == 0) e.created_at = now;
    s.bind(1, e.run_id)
        .bind(2, e.pair)
        .bind(3, e.feature)
        .bind(4, e.target)
        .bind(5, e.op)
        .bind(6, e.key)
        .bind(7, e.payload_hash)
        .bind(8, e.created_at);
    if (!s.run()) {
      std::string msg = sqlite3_errmsg(m_db);
      (void)exec("ROLLBACK");
      return make_error(m_path.string() + ": journalling writes failed: " + msg,
                        ErrorKind::internal);
    }
    e.id = sqlite3_last_insert_rowid(m_db);
    e.state = "in_flight";
  }
  return exec("COMMIT");
}

Status StateStore::journal_settle(const std::map<std::int64_t, std::string>& states,
                                  std::int64_t now) {
  if (m_read_only) return make_error("the state is open read-only", ErrorKind::unsupported);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  Stmt s(m_db, "UPDATE journal SET state = ?1, settled_at = ?2 WHERE id = ?3");
  for (const auto& [id, state] : states) {
    if (state != "confirmed" && state != "unknown") {
      (void)exec("ROLLBACK");
      return make_error("journal entries settle as confirmed or unknown, got \"" + state + "\"",
                        ErrorKind::invalid_arg);
    }
    if (!s.bind(1, state).bind(2, now).bind(3, id).run()) {
      std::string msg = sqlite3_errmsg(m_db);
      (void)exec("ROLLBACK");
      return make_error(m_path.string() + ": settling the journal failed: " + msg,
                        ErrorKind::internal);
    }
  }
  return exec("COMMIT");
}

Result<std::vector<JournalEntry>> StateStore::journal_open(const std::string& pair,
                                                           const std::string& feature,
                                                           const std::string& target) {
  std::vector<JournalEntry> out;
  Stmt s(m_db,
         "SELECT id, run_id, pair, feature, target, op, key, payload_hash, state, created_at, "
         "settled_at FROM journal WHERE state <> 'confirmed' AND (?1 = '' OR pair = ?1) AND "
         "(?2 = '' OR feature = ?2) AND (?3 = '' OR target = ?3) ORDER BY id");
  s.bind(1, pair).bind(2, feature).bind(3, target);
  while (s.step() == SQLITE_ROW) {
    JournalEntry e;
    e.id = s.integer(0);
    e.run_id = s.text(1);
    e.pair = s.text(2);
    e.feature = s.text(3);
    e.target = s.text(4);
    e.op = s.text(5);
    e.key = s.text(6);
    e.payload_hash = s.text(7);
    e.state = s.text(8);
    e.created_at = s.integer(9);
    e.settled_at = s.is_null(10) ? 0 : s.integer(10);
    out.push_back(std::move(e));
  }
  // An unreadable journal is not an empty one: the writes it may hold would go unchecked.
  if (!s.finished())
    return make_error(m_path.string() + ": cannot read the write journal: " + sqlite3_errmsg(m_db) +
                          "; `cw state check` tells whether the file is "
                          "damaged",
                      ErrorKind::internal);
  return out;
}

Result<std::int64_t> StateStore::journal_prune(std::int64_t before) {
  if (m_read_only) return make_error("the state is open read-only", ErrorKind::unsupported);
  Stmt s(m_db, "DELETE FROM journal WHERE state = 'confirmed' AND created_at < ?1");
  if (!s.bind(1, before).run())
    return make_error(m_path.string() + ": pruning the journal failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return static_cast<std::int64_t>(sqlite3_changes(m_db));
}

// ---------------------------------------------------------------------------------------
// Reports

Status StateStore::save_report(const RunReport& r) {
  if (m_read_only)
    return make_error("the state is open read-only (dry run); the report was not stored",
                      ErrorKind::unsupported);
  Stmt s(m_db,
         "INSERT OR REPLACE INTO runs(run_id, started_at, finished_at, status, report) "
         "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!s.bind(1, r.run_id)
           .bind(2, r.started_at)
           .bind(3, r.finished_at)
           .bind(4, r.status)
           .bind(5, r.report.dump())
           .run())
    return make_error(m_path.string() + ": storing the run report failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return ok_status();
}

namespace {
RunReport report_row(const Stmt& s) {
  RunReport r{s.text(0), s.integer(1), s.integer(2), s.text(3), s.json(4)};
  if (r.report.is_discarded()) r.report = nullptr;
  return r;
}
}  // namespace

Result<std::optional<RunReport>> StateStore::report(const std::string& run_id) {
  Stmt s(m_db,
         "SELECT run_id, started_at, finished_at, status, report FROM runs WHERE run_id = ?1");
  s.bind(1, run_id);
  if (s.step() == SQLITE_ROW) return std::optional<RunReport>(report_row(s));
  if (!s.finished()) return unreadable(m_path, m_db, "the run reports");
  return std::optional<RunReport>();
}

Result<std::vector<RunReport>> StateStore::recent_reports(int limit) {
  std::vector<RunReport> out;
  Stmt s(m_db,
         "SELECT run_id, started_at, finished_at, status, report FROM runs ORDER BY "
         "started_at DESC, rowid DESC LIMIT ?1");
  s.bind(1, std::int64_t{limit});
  while (s.step() == SQLITE_ROW) out.push_back(report_row(s));
  if (!s.finished()) return unreadable(m_path, m_db, "the run reports");
  return out;
}

// ---------------------------------------------------------------------------------------
// Plugin kv

Result<std::optional<std::string>> StateStore::kv_get(const std::string& instance,
                                                      const std::string& key) {
  {
    std::lock_guard lock(m_kv_mutex);
    if (auto i = m_kv_pending.find(instance); i != m_kv_pending.end()) {
      if (auto k = i->second.find(key); k != i->second.end()) {
        if (k->second.empty()) return std::optional<std::string>();
        return std::optional<std::string>(k->second);
      }
    }
  }
  Stmt s(m_db, "SELECT value FROM kv WHERE instance = ?1 AND key = ?2");
  s.bind(1, instance).bind(2, key);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.text(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return make_error(m_path.string() + ": reading plugin data failed: " + sqlite3_errmsg(m_db),
                    ErrorKind::internal);
}

void StateStore::kv_buffer(const std::string& instance, const std::string& key,
                           const std::string& value) {
  std::lock_guard lock(m_kv_mutex);
  m_kv_pending[instance][key] = value;
}

Status StateStore::kv_flush_locked(const std::vector<std::string>& instances) {
  if (m_read_only) return ok_status();  // a dry run stores nothing, by design
  Stmt up(m_db,
          "INSERT OR REPLACE INTO kv(instance, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)");
  Stmt del(m_db, "DELETE FROM kv WHERE instance = ?1 AND key = ?2");
  const std::int64_t now = now_s();
  std::vector<std::string> names = instances;
  if (names.empty())
    for (const auto& [name, values] : m_kv_pending) names.push_back(name);
  for (const auto& name : names) {
    auto i = m_kv_pending.find(name);
    if (i == m_kv_pending.end()) continue;
    for (const auto& [key, value] : i->second) {
      const bool ok = value.empty()
                          ? del.bind(1, name).bind(2, key).run()
                          : up.bind(1, name).bind(2, key).bind(3, value).bind(4, now).run();
      if (!ok)
        return make_error(m_path.string() + ": storing plugin data of " + name +
                              " failed: " + sqlite3_errmsg(m_db),
                          ErrorKind::internal);
    }
  }
  return ok_status();
}

Result<std::map<std::string, std::string>> StateStore::resolutions_get(
    const std::string& resolver, const std::vector<std::string>& queries, std::int64_t now) {
  std::map<std::string, std::string> out;
  Stmt s(m_db,
         "SELECT ids FROM id_resolutions WHERE resolver = ?1 AND query = ?2 AND expires_at > ?3");
  for (const auto& q : queries) {
    s.bind(1, resolver).bind(2, q).bind(3, now);
    const int rc = s.step();
    if (rc == SQLITE_ROW)
      out.emplace(q, s.text(0));
    else if (rc != SQLITE_DONE)
      return make_error(m_path.string() + ": reading resolved ids failed: " + sqlite3_errmsg(m_db),
                        ErrorKind::internal);
    s.reset();
  }
  return out;
}

Status StateStore::resolutions_put(const std::string& resolver,
                                   const std::vector<IdResolution>& answers) {
  if (m_read_only || answers.empty()) return ok_status();  // a dry run stores nothing
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  Stmt up(m_db,
          "INSERT OR REPLACE INTO id_resolutions(resolver, query, ids, expires_at) "
          "VALUES (?1, ?2, ?3, ?4)");
  for (const auto& a : answers) {
    if (!up.bind(1, resolver).bind(2, a.query).bind(3, a.ids).bind(4, a.expires_at).run()) {
      const std::string why = sqlite3_errmsg(m_db);
      (void)exec("ROLLBACK");
      return make_error(m_path.string() + ": storing resolved ids failed: " + why,
                        ErrorKind::internal);
    }
  }
  return exec("COMMIT");
}

// ---------------------------------------------------------------------------------------
// Scrobble queue

Status StateStore::scrobble_enqueue(std::vector<ScrobbleRow>& rows) {
  if (m_read_only)
    return make_error(m_path.string() + ": the state is open read-only", ErrorKind::internal);
  if (rows.empty()) return ok_status();
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  Stmt ins(m_db,
           "INSERT INTO scrobble_queue(sink, action, request, title, progress, watched, "
           "session, play_key, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  Stmt play(m_db,
            "INSERT OR IGNORE INTO scrobble_plays(sink, play_key, watched_ms, item) "
            "VALUES (?1, ?2, ?3, ?4)");
  for (auto& r : rows) {
    sqlite3_bind_double(ins.raw(), 5, r.progress);
    bool ok = ins.bind(1, r.sink)
                  .bind(2, r.action)
                  .bind(3, r.request)
                  .bind(4, r.title)
                  .bind(6, std::int64_t{r.watched ? 1 : 0})
                  .bind(7, r.session)
                  .bind(8, r.play_key)
                  .bind(9, r.created_ms)
                  .run();
    if (ok) r.id = sqlite3_last_insert_rowid(m_db);
    if (ok && r.watched)
      ok = play.bind(1, r.sink).bind(2, r.play_key).bind(3, r.created_ms).bind(4, r.item).run();
    if (!ok) {
      const std::string why = sqlite3_errmsg(m_db);
      (void)exec("ROLLBACK");
      return make_error(m_path.string() + ": queueing a scrobble failed: " + why,
                        ErrorKind::internal);
    }
  }
  return exec("COMMIT");
}

Result<std::vector<ScrobbleRow>> StateStore::scrobble_queue(const std::string& sink,
                                                            std::int64_t limit) {
  std::vector<ScrobbleRow> out;
  Stmt s(m_db,
         "SELECT id, sink, action, request, title, progress, watched, session, play_key, "
         "created_ms, attempts, last_error, next_try_ms FROM scrobble_queue "
         "WHERE ?1 = '' OR sink = ?1 ORDER BY id LIMIT ?2");
  s.bind(1, sink).bind(2, limit);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    ScrobbleRow r;
    r.id = s.integer(0);
    r.sink = s.text(1);
    r.action = s.text(2);
    r.request = s.text(3);
    r.title = s.text(4);
    r.progress = s.real(5);
    r.watched = s.integer(6) != 0;
    r.session = s.text(7);
    r.play_key = s.text(8);
    r.created_ms = s.integer(9);
    r.attempts = static_cast<int>(s.integer(10));
    r.last_error = s.text(11);
    r.next_try_ms = s.integer(12);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE)
    return make_error(
        m_path.string() + ": reading the scrobble queue failed: " + sqlite3_errmsg(m_db),
        ErrorKind::internal);
  return out;
}

Result<std::map<std::string, std::int64_t>> StateStore::scrobble_counts() {
  std::map<std::string, std::int64_t> out;
  Stmt s(m_db, "SELECT sink, COUNT(*) FROM scrobble_queue GROUP BY sink");
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out[s.text(0)] = s.integer(1);
  if (rc != SQLITE_DONE)
    return make_error(
        m_path.string() + ": counting the scrobble queue failed: " + sqlite3_errmsg(m_db),
        ErrorKind::internal);
  return out;
}

Status StateStore::scrobble_delivered(const ScrobbleRow& row, std::int64_t now_ms,
                                      bool play_recorded) {
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  Stmt del(m_db, "DELETE FROM scrobble_queue WHERE id = ?1");
  bool ok = del.bind(1, row.id).run();
  if (ok && row.watched) {
    // A play the service did not record (it answered skipped or unresolved) is forgotten,
    // so that a later watched stop of the item is a play again.
    if (play_recorded) {
      Stmt play(m_db,
                "UPDATE scrobble_plays SET delivered_ms = ?3 WHERE sink = ?1 AND play_key = ?2 "
                "AND watched_ms = ?4");
      ok = play.bind(1, row.sink)
               .bind(2, row.play_key)
               .bind(3, now_ms)
               .bind(4, row.created_ms)
               .run();
    } else {
      Stmt play(m_db,
                "DELETE FROM scrobble_plays WHERE sink = ?1 AND play_key = ?2 AND watched_ms = ?3");
      ok = play.bind(1, row.sink).bind(2, row.play_key).bind(3, row.created_ms).run();
    }
  }
  if (!ok) {
    const std::string why = sqlite3_errmsg(m_db);
    (void)exec("ROLLBACK");
    return make_error(m_path.string() + ": settling a scrobble failed: " + why,
                      ErrorKind::internal);
  }
  return exec("COMMIT");
}

Status StateStore::scrobble_retry_later(std::int64_t id, const std::string& error,
                                        std::int64_t next_try_ms) {
  Stmt up(m_db,
          "UPDATE scrobble_queue SET attempts = attempts + 1, last_error = ?2, next_try_ms = ?3 "
          "WHERE id = ?1");
  if (!up.bind(1, id).bind(2, error).bind(3, next_try_ms).run())
    return make_error(
        m_path.string() + ": updating the scrobble queue failed: " + sqlite3_errmsg(m_db),
        ErrorKind::internal);
  return ok_status();
}

Result<std::vector<ScrobblePlay>> StateStore::scrobble_plays(const std::string& sink,
                                                             const std::string& play_key,
                                                             std::int64_t since_ms) {
  std::vector<ScrobblePlay> out;
  Stmt s(m_db,
         "SELECT sink, play_key, watched_ms, item, delivered_ms FROM scrobble_plays "
         "WHERE (?1 = '' OR sink = ?1) AND (?2 = '' OR play_key = ?2) AND watched_ms >= ?3 "
         "ORDER BY watched_ms");
  s.bind(1, sink).bind(2, play_key).bind(3, since_ms);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    ScrobblePlay p;
    p.sink = s.text(0);
    p.play_key = s.text(1);
    p.watched_ms = s.integer(2);
    p.item = s.text(3);
    if (!s.is_null(4)) p.delivered_ms = s.integer(4);
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE)
    return make_error(m_path.string() + ": reading scrobbled plays failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return out;
}

Result<std::vector<IdMapping>> StateStore::mappings(const std::string& instance) {
  std::vector<IdMapping> out;
  Stmt s(m_db,
         "SELECT instance, key, ids, created_at FROM id_mappings WHERE ?1 = '' OR instance = ?1 "
         "ORDER BY instance, key");
  s.bind(1, instance);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
  if (rc != SQLITE_DONE)
    return make_error(m_path.string() + ": reading mappings failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return out;
}

Status StateStore::mapping_put(const IdMapping& m) {
  Stmt up(m_db,
          "INSERT OR REPLACE INTO id_mappings(instance, key, ids, created_at) "
          "VALUES (?1, ?2, ?3, ?4)");
  if (!up.bind(1, m.instance).bind(2, m.key).bind(3, m.ids).bind(4, m.created_at).run())
    return make_error(m_path.string() + ": storing the mapping failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return ok_status();
}

Result<bool> StateStore::mapping_remove(const std::string& instance, const std::string& key) {
  Stmt del(m_db, "DELETE FROM id_mappings WHERE instance = ?1 AND key = ?2");
  if (!del.bind(1, instance).bind(2, key).run())
    return make_error(m_path.string() + ": removing the mapping failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return sqlite3_changes(m_db) > 0;
}

Result<std::vector<ItemOverride>> StateStore::overrides(const std::string& instance) {
  std::vector<ItemOverride> out;
  Stmt s(m_db,
         "SELECT instance, key, watched_at, rating, ignore, created_at FROM overrides "
         "WHERE ?1 = '' OR instance = ?1 ORDER BY instance, key");
  s.bind(1, instance);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    ItemOverride o{s.text(0),    s.text(1),         std::nullopt,
                   std::nullopt, s.integer(4) != 0, s.integer(5)};
    if (!s.is_null(2)) o.watched_at = s.integer(2);
    if (!s.is_null(3)) o.rating = s.real(3);
    out.push_back(std::move(o));
  }
  if (rc != SQLITE_DONE)
    return make_error(m_path.string() + ": reading overrides failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return out;
}

Status StateStore::override_put(const ItemOverride& o) {
  Stmt up(m_db,
          "INSERT OR REPLACE INTO overrides(instance, key, watched_at, rating, ignore, created_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  up.bind(1, o.instance).bind(2, o.key);
  if (o.watched_at) up.bind(3, *o.watched_at);
  if (o.rating) up.bind_real(4, *o.rating);
  up.bind(5, static_cast<std::int64_t>(o.ignore ? 1 : 0)).bind(6, o.created_at);
  if (!up.run())
    return make_error(m_path.string() + ": storing the override failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return ok_status();
}

Result<bool> StateStore::override_remove(const std::string& instance, const std::string& key) {
  Stmt del(m_db, "DELETE FROM overrides WHERE instance = ?1 AND key = ?2");
  if (!del.bind(1, instance).bind(2, key).run())
    return make_error(m_path.string() + ": removing the override failed: " + sqlite3_errmsg(m_db),
                      ErrorKind::internal);
  return sqlite3_changes(m_db) > 0;
}

Status StateStore::backup_to(const std::filesystem::path& file) {
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(file.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = dest != nullptr ? sqlite3_errmsg(dest) : "cannot open";
    sqlite3_close(dest);
    return make_error("cannot create the backup " + file.string() + ": " + why,
                      ErrorKind::internal);
  }
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", m_db, "main");
  int rc = b != nullptr ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
  if (b != nullptr) sqlite3_backup_finish(b);
  const std::string why = sqlite3_errmsg(dest);
  rc = rc == SQLITE_DONE ? sqlite3_errcode(dest) : rc;
  sqlite3_close(dest);
  if (rc != SQLITE_OK)
    return make_error("backing up " + m_path.string() + " to " + file.string() + " failed: " + why,
                      ErrorKind::internal);
  return ok_status();
}

Status StateStore::quick_check() {
  // Pages and their links, not every index entry: fast enough for every open;
  // integrity_check() is the thorough one.
  Stmt s(m_db, "PRAGMA quick_check(1)");
  const int rc = s.step();
  if (rc == SQLITE_ROW && s.text(0) == "ok") return ok_status();
  const std::string what = rc == SQLITE_ROW ? s.text(0) : std::string(sqlite3_errmsg(m_db));
  return make_error(m_path.string() + " is damaged (" + what +
                        "): nothing was read from or written to it; restore it from a backup",
                    ErrorKind::internal);
}

Status StateStore::kv_flush(const std::string& instance) {
  if (m_read_only) return ok_status();
  std::lock_guard lock(m_kv_mutex);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  std::vector<std::string> names;
  if (!instance.empty()) names.push_back(instance);
  if (auto st = kv_flush_locked(names); !st) {
    (void)exec("ROLLBACK");
    return st;
  }
  if (auto st = exec("COMMIT"); !st) return st;
  if (instance.empty())
    m_kv_pending.clear();
  else
    m_kv_pending.erase(instance);
  return ok_status();
}

void StateStore::kv_discard() {
  std::lock_guard lock(m_kv_mutex);
  m_kv_pending.clear();
}

Result<std::map<std::string, std::map<std::string, std::string>>> StateStore::kv_all() {
  std::map<std::string, std::map<std::string, std::string>> out;
  Stmt s(m_db, "SELECT instance, key, value FROM kv ORDER BY instance, key");
  while (s.step() == SQLITE_ROW) out[s.text(0)][s.text(1)] = s.text(2);
  if (!s.finished()) return unreadable(m_path, m_db, "the plugin data");
  return out;
}

// ---------------------------------------------------------------------------------------
// Export and checks

Result<nlohmann::json> StateStore::export_json() {
  nlohmann::json out;
  out["schema_version"] = schema_version();
  std::set<std::pair<std::string, std::string>> pfs;
  {
    std::string sql;
    for (const char* table : k_pf_tables) {
      if (!sql.empty()) sql += " UNION ";
      sql += std::string("SELECT pair, feature FROM ") + table;
    }
    Stmt s(m_db, sql.c_str());
    while (s.step() == SQLITE_ROW) pfs.emplace(s.text(0), s.text(1));
    if (!s.finished()) return unreadable(m_path, m_db, "the pairs and features");
  }
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [pair, feature] : pfs) {
    auto record = load(pair, feature);
    if (!record) return record.error();
    nlohmann::json j = to_json(*record);
    j["pair"] = pair;
    j["feature"] = feature;
    pairs.push_back(std::move(j));
  }
  out["pair_features"] = std::move(pairs);

  auto journal = journal_open("", "", "");
  if (!journal) return journal.error();
  nlohmann::json open = nlohmann::json::array();
  for (const auto& e : *journal)
    open.push_back({{"id", e.id},
                    {"run_id", e.run_id},
                    {"pair", e.pair},
                    {"feature", e.feature},
                    {"target", e.target},
                    {"op", e.op},
                    {"key", e.key},
                    {"payload_hash", e.payload_hash},
                    {"state", e.state},
                    {"created_at", e.created_at}});
  out["journal_open"] = std::move(open);

  auto reports = recent_reports(1'000'000);
  if (!reports) return reports.error();
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : *reports)
    runs.push_back({{"run_id", r.run_id},
                    {"started_at", r.started_at},
                    {"finished_at", r.finished_at},
                    {"status", r.status},
                    {"report", r.report}});
  out["runs"] = std::move(runs);

  // Plugin values may be tokens or ETags: only their keys leave the database.
  auto kv = kv_all();
  if (!kv) return kv.error();
  nlohmann::json kv_keys = nlohmann::json::object();
  for (const auto& [instance, values] : *kv) {
    auto& list = kv_keys[instance] = nlohmann::json::array();
    for (const auto& [key, value] : values) list.push_back(key);
  }
  out["plugin_data_keys"] = std::move(kv_keys);

  auto maps = mappings("");
  if (!maps) return maps.error();
  nlohmann::json id_mappings = nlohmann::json::array();
  for (const auto& m : *maps)
    id_mappings.push_back({{"instance", m.instance},
                           {"key", m.key},
                           {"ids", nlohmann::json::parse(m.ids, nullptr, false)},
                           {"created_at", m.created_at}});
  out["id_mappings"] = std::move(id_mappings);

  auto ovs = overrides("");
  if (!ovs) return ovs.error();
  nlohmann::json over = nlohmann::json::array();
  for (const auto& o : *ovs) over.push_back(to_json(o));
  out["overrides"] = std::move(over);
  return out;
}

Status StateStore::integrity_check() {
  Stmt s(m_db, "PRAGMA integrity_check");
  std::string result;
  while (s.step() == SQLITE_ROW) {
    if (!result.empty()) result += "; ";
    result += s.text(0);
  }
  if (result == "ok") return ok_status();
  return make_error(m_path.string() + ": integrity check failed: " + result, ErrorKind::internal);
}

}  // namespace cw::state
