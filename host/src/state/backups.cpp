#include <algorithm>
#include <system_error>

#include <sqlite3.h>

#include <cw/state/backups.hpp>

namespace cw::state {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_prefix = "state-";
constexpr std::string_view k_suffix = ".db";

bool is_backup(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.size() > k_prefix.size() + k_suffix.size() && name.rfind(k_prefix, 0) == 0 &&
         name.compare(name.size() - k_suffix.size(), k_suffix.size(), k_suffix) == 0;
}

void make_private(const fs::path& p) {
  std::error_code ec;
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
}

// A backup is only as good as its check: an unreadable or damaged copy is refused.
Status check_copy(const fs::path& file) {
  sqlite3* db = nullptr;
  const std::string uri = "file:" + file.string() + "?mode=ro";
  int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  std::string result;
  if (rc == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, nullptr);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    else
      result = sqlite3_errmsg(db);
    sqlite3_finalize(st);
  } else {
    result = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
  }
  sqlite3_close(db);
  if (result == "ok") return ok_status();
  return make_error(file.string() + " is not a usable state database (" + result + ")",
                    ErrorKind::invalid_arg);
}

// The content version a backup was made at; nullopt for a copy older than schema v8 or
// one that cannot be read (either way, not known to be current).
std::optional<std::int64_t> content_version_of(const fs::path& file) {
  sqlite3* db = nullptr;
  const std::string uri = "file:" + file.string() + "?mode=ro";
  std::optional<std::int64_t> out;
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT v FROM content_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

}  // namespace

std::optional<fs::path> current_backup(StateStore& store, const fs::path& state_dir) {
  const auto all = list_backups(state_dir);
  if (all.empty()) return std::nullopt;
  const auto now = store.content_version();
  if (!now) return std::nullopt;
  const auto then = content_version_of(all.front());
  if (!then || *then != *now) return std::nullopt;
  return all.front();
}

std::vector<fs::path> list_backups(const fs::path& state_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(state_dir / k_backup_dir_name, ec))
    if (e.is_regular_file(ec) && is_backup(e.path())) out.push_back(e.path());
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().string() > b.filename().string();
  });
  return out;
}

Result<fs::path> make_backup(StateStore& store, const fs::path& state_dir,
                             const std::string& run_id, int keep) {
  std::error_code ec;
  const fs::path dir = state_dir / k_backup_dir_name;
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const fs::path file = dir / (std::string(k_prefix) + run_id + std::string(k_suffix));
  const fs::path partial = file.string() + ".partial";
  fs::remove(partial, ec);
  if (auto st = store.backup_to(partial); !st) {
    fs::remove(partial, ec);
    return st.error();
  }
  make_private(partial);
  fs::rename(partial, file, ec);
  if (ec)
    return make_error("cannot store the backup " + file.string() + ": " + ec.message(),
                      ErrorKind::internal);
  const auto all = list_backups(state_dir);
  for (std::size_t i = static_cast<std::size_t>(std::max(keep, 1)); i < all.size(); ++i)
    fs::remove(all[i], ec);
  return file;
}

Result<fs::path> restore_backup(const fs::path& state_dir, const fs::path& backup,
                                const std::string& stamp) {
  if (auto st = check_copy(backup); !st) return st.error();
  std::error_code ec;
  const fs::path db = state_dir / k_state_db_name;
  const fs::path incoming = db.string() + ".restoring";
  fs::copy_file(backup, incoming, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return make_error("cannot copy " + backup.string() + ": " + ec.message(), ErrorKind::internal);
  make_private(incoming);
  fs::path replaced;
  if (fs::exists(db, ec)) {
    replaced = db.string() + ".replaced-" + stamp;
    fs::rename(db, replaced, ec);
    if (ec) {
      fs::remove(incoming, ec);
      return make_error("cannot move " + db.string() + " aside: " + ec.message(),
                        ErrorKind::internal);
    }
    // The write-ahead log belongs to the replaced file, never to the restored one.
    for (const char* side : {"-wal", "-shm"}) {
      const fs::path f = db.string() + side;
      if (fs::exists(f, ec)) fs::rename(f, replaced.string() + side, ec);
    }
  }
  fs::rename(incoming, db, ec);
  if (ec)
    return make_error("cannot put " + backup.string() + " in place: " + ec.message(),
                      ErrorKind::internal);
  return replaced;
}

}  // namespace cw::state
