// Dry runs (R5.6): a read-only store never writes; the database file stays byte-identical.
#include <cw/services/kv/sqlite_kv_store.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

TEST(StateReadOnly, MissingDatabaseReadsEmptyAndCreatesNothing) {
  const auto dir = test::fresh_dir("ro-missing");
  auto store = StateStore::open(dir, OpenMode::read_only);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_TRUE((*store)->read_only());
  EXPECT_EQ(*(*store)->load("p", "watchlist"), PairFeatureRecord{});
  EXPECT_TRUE((*store)->summaries()->empty());
  EXPECT_TRUE((*store)->pending("", "")->empty());
  EXPECT_FALSE((*store)->commit(make_commit("p", "watchlist", {}, test::sample_record())));
  store->reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(StateReadOnly, DatabaseFileStaysByteIdentical) {
  const auto dir = test::fresh_dir("ro");
  {
    auto lock = RunLock::acquire(dir);  // as a real run does: it leaves cw.lock behind
    ASSERT_TRUE(lock);
    auto rw = StateStore::open(dir, OpenMode::read_write);
    ASSERT_TRUE(rw);
    ASSERT_TRUE((*rw)->commit(make_commit("p", "watchlist", {}, test::sample_record())));
    (*rw)->kv_buffer("plex", "wm", "w1");
    ASSERT_TRUE((*rw)->kv_flush(""));
    ASSERT_TRUE((*rw)->save_report({"r1", 1, 2, "ok", {{"x", 1}}}));
    rw->reset();
  }
  const auto db = dir / k_state_db_name;
  const std::string bytes = test::read_file(db);
  const auto hash = test::hash_file(db);
  ASSERT_FALSE(bytes.empty());
  {
    auto ro = StateStore::open(dir, OpenMode::read_only);
    ASSERT_TRUE(ro) << ro.error().message;
    StateStore& s = **ro;
    EXPECT_EQ(*s.load("p", "watchlist"), test::sample_record());
    // Everything a dry run might try: refused or kept in memory, never stored.
    PairFeatureRecord changed = test::sample_record();
    changed.baselines.clear();
    PairFeatureCommit c = make_commit("p", "watchlist", test::sample_record(), changed);
    c.kv_instances = {"plex"};
    auto refused = s.commit(c);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::unsupported);
    std::vector<JournalEntry> j(1);
    EXPECT_FALSE(s.journal_begin(j));
    EXPECT_FALSE(s.journal_settle({{1, "confirmed"}}, 1));
    EXPECT_FALSE(s.save_report({"r2", 1, 2, "dry_run", nullptr}));
    EXPECT_FALSE(s.reset("", ""));
    EXPECT_FALSE(s.approve_pending("", "", {}));
    EXPECT_FALSE(s.drop_pending("", "", {}));
    EXPECT_FALSE(s.unblock("tmdb:movie:5", "", ""));
    EXPECT_FALSE(s.journal_prune(1 << 30));
    services::SqliteKvStore kv(s);
    ASSERT_TRUE(kv.put("plex", "wm", "w2"));              // accepted, as the ABI says for dry runs
    EXPECT_EQ(kv.get("plex", "wm")->value_or(""), "w2");  // the run sees its own write
    EXPECT_TRUE(s.kv_flush(""));
    ASSERT_TRUE(s.export_json());
    ASSERT_TRUE(s.summaries());
    ASSERT_TRUE(s.integrity_check());
    // While it reads, no run can start and change the file under it.
    auto refused_lock = RunLock::acquire(dir);
    ASSERT_FALSE(refused_lock);
    EXPECT_NE(refused_lock.error().message.find("dry run"), std::string::npos);
  }
  EXPECT_TRUE(RunLock::acquire(dir));  // released with the store
  EXPECT_EQ(test::hash_file(db), hash);
  EXPECT_EQ(test::read_file(db), bytes);
  // Not even SQLite's side files: the closed database was read as immutable.
  EXPECT_FALSE(std::filesystem::exists(dir / "state.db-wal"));
  EXPECT_FALSE(std::filesystem::exists(dir / "state.db-shm"));
  // And the write that the dry run buffered is not there afterwards.
  auto after = StateStore::open(dir, OpenMode::read_only);
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)->kv_get("plex", "wm")->value_or(""), "w1");
  std::filesystem::remove_all(dir);
}

TEST(StateReadOnly, PathsWithUriCharacters) {
  const auto dir = test::fresh_dir("ro") / "odd ?#% name";
  {
    auto rw = StateStore::open(dir, OpenMode::read_write);
    ASSERT_TRUE(rw) << rw.error().message;
    ASSERT_TRUE((*rw)->commit(make_commit("p", "watchlist", {}, test::sample_record())));
  }
  auto ro = StateStore::open(dir, OpenMode::read_only);
  ASSERT_TRUE(ro) << ro.error().message;
  EXPECT_EQ(*(*ro)->load("p", "watchlist"), test::sample_record());
  ro->reset();
  std::filesystem::remove_all(dir.parent_path());
}

TEST(StateReadOnly, SeesCommitsStillInTheWal) {
  // A writer that is still open has its commits in state.db-wal, not yet in state.db; a
  // read-only open must see them (immutable=1 would not) and still write nothing.
  const auto dir = test::fresh_dir("ro-wal");
  auto rw = StateStore::open(dir, OpenMode::read_write);
  ASSERT_TRUE(rw);
  ASSERT_TRUE((*rw)->commit(make_commit("p", "watchlist", {}, test::sample_record())));
  const auto db = dir / k_state_db_name;
  const auto hash = test::hash_file(db);
  {
    auto ro = StateStore::open(dir, OpenMode::read_only);
    ASSERT_TRUE(ro) << ro.error().message;
    EXPECT_EQ(*(*ro)->load("p", "watchlist"), test::sample_record());
  }
  EXPECT_EQ(test::hash_file(db), hash);
  rw->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cw::state
