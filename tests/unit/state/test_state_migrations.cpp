// Schema versions: a database written at v1 opens, upgraded, with its data intact.
#include <sqlite3.h>

#include <cw/state/state_store.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

// Builds a v1 database the way the first release wrote it, with some rows.
void write_v1(const std::filesystem::path& db_path) {
  std::filesystem::create_directories(db_path.parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(migrations().front().version, 1);
  char* err = nullptr;
  const std::string sql =
      std::string("PRAGMA journal_mode = WAL; BEGIN;") + migrations().front().sql +
      "PRAGMA user_version = 1;"
      "INSERT INTO baselines VALUES ('p', 'watchlist', 'plex', 'k1', '{\"title\":\"One\"}');"
      "INSERT INTO unresolved VALUES ('p', 'watchlist', 'trakt', 'k2', 'not_found', "
      "'m', 5, 6, NULL);"
      "INSERT INTO journal(run_id, pair, feature, target, op, key, payload_hash, "
      "state, created_at) VALUES ('r', 'p', 'history', 'trakt', 'add', 'k3', 'h', "
      "'in_flight', 7);"
      "INSERT INTO kv VALUES ('plex', 'wm', 'v', 1);"
      "INSERT INTO pending_deletions VALUES ('p', 'watchlist', 'trakt', 'k4', 'mass_delete', "
      "8, 1, NULL);"
      "COMMIT;";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  sqlite3_close(db);
}

TEST(StateMigrations, StepsAreNumberedInOrder) {
  int expect = 1;
  for (const auto& m : migrations()) EXPECT_EQ(m.version, expect++);
  EXPECT_EQ(current_schema_version(), expect - 1);
}

TEST(StateMigrations, UpgradesV1ToCurrentKeepingData) {
  const auto dir = test::fresh_dir("mig");
  write_v1(dir / k_state_db_name);
  auto store = StateStore::open(dir, OpenMode::read_write);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->schema_version(), current_schema_version());
  auto r = (*store)->load("p", "watchlist");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->baselines.at("plex").at("k1")["title"], "One");
  ASSERT_EQ(r->unresolved.size(), 1u);
  EXPECT_EQ(r->unresolved[0].attempts, 1);  // v2 column, defaulted
  EXPECT_TRUE(r->unresolved[0].item.is_null());
  ASSERT_EQ(r->pending.size(), 1u);
  EXPECT_TRUE(r->pending[0].approved);
  EXPECT_FALSE(r->pending[0].declined);  // v3 column, defaulted
  auto open = (*store)->journal_open("", "", "trakt");
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().settled_at, 0);
  ASSERT_TRUE((*store)->journal_settle({{open->front().id, "confirmed"}}, 9));  // v2 column
  EXPECT_EQ((*store)->kv_get("plex", "wm")->value_or(""), "v");
  EXPECT_TRUE((*store)->integrity_check());
  // Opening again is a no-op.
  store->reset();
  auto again = StateStore::open(dir, OpenMode::read_write);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->schema_version(), current_schema_version());
  again->reset();
  std::filesystem::remove_all(dir);
}

TEST(StateMigrations, ReadOnlyOpenOfV1UpgradesAPrivateCopy) {
  const auto dir = test::fresh_dir("mig-ro");
  write_v1(dir / k_state_db_name);
  const auto before = test::hash_file(dir / k_state_db_name);
  {
    auto store = StateStore::open(dir, OpenMode::read_only);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ((*store)->schema_version(), current_schema_version());
    EXPECT_EQ((*store)->load("p", "watchlist")->unresolved.at(0).attempts, 1);
  }
  EXPECT_EQ(test::hash_file(dir / k_state_db_name), before);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / k_state_db_name).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // the file was not upgraded
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
}

TEST(StateMigrations, NewerSchemaIsRefused) {
  const auto dir = test::fresh_dir("mig-new");
  { ASSERT_TRUE(StateStore::open(dir, OpenMode::read_write)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / k_state_db_name).c_str(), &db), SQLITE_OK);
  const std::string sql = "PRAGMA user_version = " + std::to_string(current_schema_version() + 1);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (auto mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto store = StateStore::open(dir, mode);
    ASSERT_FALSE(store);
    EXPECT_NE(store.error().message.find("newer than this cw understands"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cw::state
