// StateStore: pair-feature state round trips, one-transaction commits, CLI operations,
// journal and reports.
#include <fstream>
#include <functional>

#include <sqlite3.h>
#include <unistd.h>

#include <cw/state/backups.hpp>
#include <cw/state/state_store.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

using test::fresh_dir;
using test::item;
using test::sample_record;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fresh_dir("store");
    auto s = StateStore::open(m_dir, OpenMode::read_write);
    ASSERT_TRUE(s) << s.error().message;
    m_store = std::move(*s);
  }
  void TearDown() override {
    m_store.reset();
    std::filesystem::remove_all(m_dir);
  }
  std::filesystem::path m_dir;
  std::unique_ptr<StateStore> m_store;
};

TEST_F(StateStoreTest, OpenCreatesTheDatabaseInWalModeAtTheCurrentSchema) {
  EXPECT_TRUE(std::filesystem::exists(m_dir / k_state_db_name));
  EXPECT_EQ(m_store->schema_version(), current_schema_version());
  EXPECT_GE(current_schema_version(), 2);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((m_dir / k_state_db_name).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_TRUE(m_store->integrity_check());
}

TEST_F(StateStoreTest, EmptyPairFeatureLoadsEmpty) {
  auto r = m_store->load("p", "watchlist");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, PairFeatureRecord{});
}

TEST_F(StateStoreTest, CommitThenLoadRoundTrips) {
  const PairFeatureRecord want = sample_record();
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, want)));
  auto got = m_store->load("p", "watchlist");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, want);
  // Other pairs and features are untouched.
  EXPECT_EQ(*m_store->load("p", "history"), PairFeatureRecord{});
  EXPECT_EQ(*m_store->load("q", "watchlist"), PairFeatureRecord{});
  // And the record survives a reopen.
  m_store.reset();
  auto again = StateStore::open(m_dir, OpenMode::read_write);
  ASSERT_TRUE(again);
  EXPECT_EQ(*(*again)->load("p", "watchlist"), want);
}

TEST_F(StateStoreTest, MakeCommitIsMinimal) {
  const PairFeatureRecord before = sample_record();
  PairFeatureRecord after = before;
  after.baselines["plex"].erase("tmdb:movie:2");
  after.baselines["plex"]["tmdb:movie:6"] = item("Six", 6);
  after.baselines.erase("trakt");
  after.pending.clear();
  after.flaps[0].consecutive = 3;
  after.last_run_id = "run-2";
  const PairFeatureCommit c = make_commit("p", "watchlist", before, after);
  EXPECT_EQ(c.replace_baseline_sides, std::vector<std::string>{"trakt"});
  ASSERT_EQ(c.baseline_upserts.size(), 1u);
  EXPECT_EQ(c.baseline_upserts.at("plex").size(), 1u);
  EXPECT_EQ(c.baseline_deletes.at("plex"), std::vector<std::string>{"tmdb:movie:2"});
  EXPECT_TRUE(c.tombstone_upserts.empty());
  EXPECT_TRUE(c.tombstone_deletes.empty());
  ASSERT_EQ(c.pending_deletes.size(), 1u);
  EXPECT_EQ(c.pending_deletes[0].key, "tmdb:movie:3");
  ASSERT_EQ(c.flap_upserts.size(), 1u);
  EXPECT_TRUE(c.meta.is_null());  // unchanged
  EXPECT_TRUE(make_commit("p", "w", before, before).baseline_upserts.empty());

  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, before)));
  ASSERT_TRUE(m_store->commit(c));
  auto got = m_store->load("p", "watchlist");
  ASSERT_TRUE(got);
  after.last_commit_at = got->last_commit_at;
  EXPECT_EQ(*got, after);
}

TEST_F(StateStoreTest, AFailedCommitStoresNothing) {
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, sample_record())));
  std::vector<JournalEntry> j(1);
  j[0].pair = "p";
  ASSERT_TRUE(m_store->journal_begin(j));
  PairFeatureCommit bad;
  bad.pair = "p";
  bad.feature = "watchlist";
  bad.replace_baseline_sides = {"plex", "trakt"};
  bad.baseline_upserts["plex"]["new"] = item("New", 7);
  bad.tombstone_deletes = {"tmdb:movie:9"};
  m_store->kv_buffer("plex", "watermark", "w2");
  bad.kv_instances = {"plex"};
  bad.journal_settle[j[0].id] = "bogus";  // refused inside the transaction
  EXPECT_FALSE(m_store->commit(bad));
  auto got = m_store->load("p", "watchlist");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->baselines, sample_record().baselines);
  EXPECT_EQ(got->tombstones.size(), 1u);
  m_store->kv_discard();
  EXPECT_FALSE(m_store->kv_get("plex", "watermark")->has_value());
}

TEST_F(StateStoreTest, SummariesCountEverything) {
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, sample_record())));
  PairFeatureRecord h;
  h.baselines["a"]["k"] = item("K", 1);
  ASSERT_TRUE(m_store->commit(make_commit("q", "history", {}, h)));
  auto sums = m_store->summaries();
  ASSERT_TRUE(sums);
  ASSERT_EQ(sums->size(), 2u);
  const auto& s = (*sums)[0];
  EXPECT_EQ(s.pair, "p");
  EXPECT_EQ(s.baseline_sizes.at("plex"), 2);
  EXPECT_EQ(s.baseline_sizes.at("trakt"), 1);
  EXPECT_EQ(s.tombstones, 1);
  EXPECT_EQ(s.pending, 1);
  EXPECT_EQ(s.pending_approved, 0);
  EXPECT_EQ(s.blocked, 1);
  EXPECT_EQ(s.unresolved, 1);
  EXPECT_EQ(s.flapping, 1);
  EXPECT_EQ(s.last_run_id, "run-1");
  EXPECT_EQ(s.last_commit_at, 1000);
  EXPECT_EQ((*sums)[1].pair, "q");
}

TEST_F(StateStoreTest, ResetByPairAndFeature) {
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, sample_record())));
  ASSERT_TRUE(m_store->commit(make_commit("p", "history", {}, sample_record())));
  ASSERT_TRUE(m_store->commit(make_commit("q", "watchlist", {}, sample_record())));
  m_store->kv_buffer("plex", "wm", "x");
  ASSERT_TRUE(m_store->kv_flush(""));
  auto n = m_store->reset("p", "history");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n,
            3 + 1 + 1 + 1 + 1 + 1);  // baselines, tombstone, pending, flap, blackbox, unresolved
  EXPECT_EQ(*m_store->load("p", "history"), PairFeatureRecord{});
  EXPECT_EQ(m_store->load("p", "watchlist")->baselines.size(), 2u);
  ASSERT_TRUE(m_store->reset("", ""));
  EXPECT_TRUE(m_store->summaries()->empty());
  EXPECT_EQ(m_store->kv_get("plex", "wm")->value_or(""), "x");  // plugin data survives
}

TEST_F(StateStoreTest, PendingApproveDropAndUnblock) {
  PairFeatureRecord r = sample_record();
  r.pending.push_back({"trakt", "tmdb:movie:8", "drop_guard", 151, false, nullptr});
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, r)));
  ASSERT_TRUE(m_store->commit(make_commit("q", "ratings", {}, r)));
  auto all = m_store->pending("", "");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 4u);
  EXPECT_EQ(all->front().first, "p/watchlist");

  EXPECT_EQ(*m_store->approve_pending("p", "", {"tmdb:movie:3"}), 1);
  EXPECT_EQ(*m_store->approve_pending("p", "", {"tmdb:movie:3"}), 0);  // already approved
  auto p = m_store->load("p", "watchlist");
  EXPECT_TRUE(p->pending[0].approved);
  EXPECT_FALSE(p->pending[1].approved);
  EXPECT_FALSE(m_store->load("q", "ratings")->pending[0].approved);

  // Dropping declines (R6.3): the rows stay, marked, until the next run settles them.
  EXPECT_EQ(*m_store->drop_pending("q", "ratings", {}), 2);  // every key
  auto q = m_store->load("q", "ratings");
  ASSERT_EQ(q->pending.size(), 2u);
  EXPECT_TRUE(q->pending[0].declined && q->pending[1].declined);
  EXPECT_FALSE(q->pending[0].approved || q->pending[1].approved);
  EXPECT_EQ(*m_store->drop_pending("q", "ratings", {}), 0);  // already declined
  auto listed = m_store->pending("q", "");
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE(listed->front().second.declined);
  EXPECT_FALSE(m_store->load("p", "watchlist")->pending[1].declined);
  // Dropping an approved one declines it; approving a declined one un-declines it.
  EXPECT_EQ(*m_store->drop_pending("p", "watchlist", {"tmdb:movie:3"}), 1);
  EXPECT_TRUE(m_store->load("p", "watchlist")->pending[0].declined);
  EXPECT_FALSE(m_store->load("p", "watchlist")->pending[0].approved);
  EXPECT_EQ(*m_store->approve_pending("q", "", {"tmdb:movie:8"}), 1);
  EXPECT_FALSE(m_store->load("q", "ratings")->pending[1].declined);
  EXPECT_TRUE(m_store->load("q", "ratings")->pending[1].approved);
  // A commit that writes the row keeps the flag.
  PairFeatureRecord d = *m_store->load("q", "ratings");
  d.pending[1].declined = true;
  ASSERT_TRUE(m_store->commit(make_commit("q", "ratings", *m_store->load("q", "ratings"), d)));
  EXPECT_TRUE(m_store->load("q", "ratings")->pending[1].declined);

  EXPECT_EQ(*m_store->unblock("tmdb:movie:5", "p", ""), 1);
  EXPECT_TRUE(m_store->load("p", "watchlist")->blackbox.empty());
  EXPECT_EQ(m_store->load("q", "ratings")->blackbox.size(), 1u);
  EXPECT_EQ(*m_store->unblock("tmdb:movie:4", "", ""), 0);  // not blocked: only flaps reset
  EXPECT_TRUE(m_store->load("p", "watchlist")->flaps.empty());
}

TEST_F(StateStoreTest, JournalBeginSettleOpenPrune) {
  std::vector<JournalEntry> entries(3);
  for (int i = 0; i < 3; ++i) {
    entries[i].run_id = "r1";
    entries[i].pair = "p";
    entries[i].feature = "history";
    entries[i].target = i < 2 ? "trakt" : "simkl";
    entries[i].op = "add";
    entries[i].key = "tmdb:movie:" + std::to_string(i) + "@1700000000";
    entries[i].payload_hash = "h" + std::to_string(i);
    entries[i].created_at = 100 + i;
  }
  ASSERT_TRUE(m_store->journal_begin(entries));
  EXPECT_GT(entries[0].id, 0);
  EXPECT_NE(entries[0].id, entries[1].id);
  EXPECT_EQ(m_store->journal_open("", "", "")->size(), 3u);
  EXPECT_EQ(m_store->journal_open("p", "history", "trakt")->size(), 2u);

  PairFeatureCommit c;
  c.pair = "p";
  c.feature = "history";
  c.journal_settle[entries[0].id] = "confirmed";
  ASSERT_TRUE(m_store->commit(c));
  ASSERT_TRUE(m_store->journal_settle({{entries[1].id, "unknown"}}, 500));
  EXPECT_FALSE(m_store->journal_settle({{entries[2].id, "in_flight"}}, 500));

  auto open = m_store->journal_open("p", "history", "trakt");
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().state, "unknown");
  EXPECT_EQ(open->front().settled_at, 500);
  EXPECT_EQ(open->front().payload_hash, "h1");
  EXPECT_EQ(*m_store->journal_prune(50), 0);
  EXPECT_EQ(*m_store->journal_prune(1000), 1);  // only the confirmed one
  EXPECT_EQ(m_store->journal_open("", "", "")->size(), 2u);
}

TEST_F(StateStoreTest, ReportsAreStoredPerRun) {
  ASSERT_TRUE(m_store->save_report({"r1", 10, 20, "ok", {{"pairs", 1}}}));
  ASSERT_TRUE(m_store->save_report({"r2", 30, 40, "partial", {{"pairs", 2}}}));
  auto r1 = m_store->report("r1");
  ASSERT_TRUE(r1 && r1->has_value());
  EXPECT_EQ((*r1)->report["pairs"], 1);
  EXPECT_FALSE(m_store->report("nope")->has_value());
  auto recent = m_store->recent_reports(1);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ(recent->front().run_id, "r2");
  EXPECT_EQ(recent->front().status, "partial");
}

TEST_F(StateStoreTest, ExportHasStateButNoPluginValues) {
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, sample_record())));
  m_store->kv_buffer("trakt", "oauth_etag", "SECRET-VALUE-123");
  ASSERT_TRUE(m_store->kv_flush("trakt"));
  ASSERT_TRUE(m_store->save_report({"r1", 10, 20, "ok", {{"n", 1}}}));
  auto j = m_store->export_json();
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["schema_version"], current_schema_version());
  ASSERT_EQ((*j)["pair_features"].size(), 1u);
  const auto& pf = (*j)["pair_features"][0];
  EXPECT_EQ(pf["pair"], "p");
  EXPECT_EQ(record_from_json(pf), sample_record());
  EXPECT_EQ((*j)["plugin_data_keys"]["trakt"][0], "oauth_etag");
  EXPECT_EQ(j->dump().find("SECRET-VALUE-123"), std::string::npos);
  EXPECT_EQ((*j)["runs"][0]["run_id"], "r1");
}

TEST_F(StateStoreTest, MappingsArePutListedRemovedAndExported) {
  ASSERT_TRUE(m_store->mapping_put({"src", "movie|title:x|year:2002", R"({"imdb":"tt1"})", 5}));
  ASSERT_TRUE(m_store->mapping_put({"dst", "movie:tmdb:9", R"({"imdb":"tt2"})", 6}));
  // A second put of the same key replaces it.
  ASSERT_TRUE(m_store->mapping_put({"src", "movie|title:x|year:2002", R"({"imdb":"tt3"})", 7}));
  auto all = m_store->mappings("");
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  auto src = m_store->mappings("src");
  ASSERT_EQ(src->size(), 1u);
  EXPECT_EQ(src->front().ids, R"({"imdb":"tt3"})");
  EXPECT_EQ(src->front().created_at, 7);
  auto j = m_store->export_json();
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_EQ((*j)["id_mappings"].size(), 2u);
  EXPECT_EQ((*j)["id_mappings"][1]["ids"]["imdb"], "tt3");
  EXPECT_TRUE(*m_store->mapping_remove("src", "movie|title:x|year:2002"));
  EXPECT_FALSE(*m_store->mapping_remove("src", "movie|title:x|year:2002"));
  EXPECT_EQ(m_store->mappings("")->size(), 1u);
}

TEST_F(StateStoreTest, OverridesArePutListedRemovedAndExported) {
  ItemOverride dated{"src", "movie:imdb:tt1", 1700000000, std::nullopt, false, 5};
  ItemOverride rated{"src", "movie:imdb:tt2", std::nullopt, 7.5, false, 6};
  ItemOverride ignored{"dst", "movie:imdb:tt3", std::nullopt, std::nullopt, true, 7};
  for (const auto* o : {&dated, &rated, &ignored}) ASSERT_TRUE(m_store->override_put(*o));
  auto src = m_store->overrides("src");
  ASSERT_TRUE(src) << src.error().message;
  ASSERT_EQ(src->size(), 2u);
  EXPECT_EQ(src->at(0).watched_at, 1700000000);
  EXPECT_FALSE(src->at(0).rating);
  EXPECT_EQ(src->at(1).rating, 7.5);
  EXPECT_FALSE(src->at(1).watched_at);
  EXPECT_TRUE(m_store->overrides("dst")->at(0).ignore);
  auto j = m_store->export_json();
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_EQ((*j)["overrides"].size(), 3u);
  EXPECT_EQ((*j)["overrides"][0]["ignore"], true);
  EXPECT_EQ((*j)["overrides"][2]["rating"], 7.5);
  EXPECT_FALSE((*j)["overrides"][2].contains("watched_at"));
  EXPECT_TRUE(*m_store->override_remove("src", "movie:imdb:tt1"));
  EXPECT_FALSE(*m_store->override_remove("src", "movie:imdb:tt1"));
  EXPECT_EQ(m_store->overrides("")->size(), 2u);
}

// An existing empty or damaged state.db is refused, never taken for a new one (issue 10).
// A run makes a backup only when the state changed since the newest one (issue 13 §6: a
// run that changed nothing writes nothing); every kind of change counts, bookkeeping does not.
TEST_F(StateStoreTest, TheNewestBackupIsCurrentUntilTheContentChanges) {
  EXPECT_FALSE(current_backup(*m_store, m_dir));  // no backup yet
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, sample_record())));
  auto first = make_backup(*m_store, m_dir, "20260101T000000Z-1");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(current_backup(*m_store, m_dir), std::optional(*first));

  // A commit that records the run and changes no row, a report, a journal entry: current.
  PairFeatureCommit bookkeeping;
  bookkeeping.pair = "p";
  bookkeeping.feature = "watchlist";
  bookkeeping.run_id = "run-2";
  ASSERT_TRUE(m_store->commit(bookkeeping));
  ASSERT_TRUE(m_store->save_report({"run-2", 1, 2, "ok", nlohmann::json::object()}));
  EXPECT_TRUE(current_backup(*m_store, m_dir));

  // Each kind of content change makes it stale, and a new backup current again.
  int run = 2;
  const auto changed = [&](const char* what, const std::function<void()>& change) {
    change();
    EXPECT_FALSE(current_backup(*m_store, m_dir)) << what;
    ASSERT_TRUE(make_backup(*m_store, m_dir, "20260101T000000Z-" + std::to_string(++run)));
    EXPECT_TRUE(current_backup(*m_store, m_dir)) << what;
  };
  changed("a baseline row", [&] {
    PairFeatureCommit c;
    c.pair = "p";
    c.feature = "watchlist";
    c.baseline_upserts["plex"]["tmdb:movie:9"] = item("Nine", 9);
    ASSERT_TRUE(m_store->commit(c));
  });
  changed("a pair's meta", [&] {
    PairFeatureCommit c;
    c.pair = "p";
    c.feature = "watchlist";
    c.meta = {{"watermarks", {{"plex", "w2"}}}};
    ASSERT_TRUE(m_store->commit(c));
  });
  changed("plugin kv", [&] {
    m_store->kv_buffer("plex", "k", "v");
    ASSERT_TRUE(m_store->kv_flush("plex"));
  });
  changed("a reset", [&] { ASSERT_TRUE(m_store->reset("p", "")); });
}

// A read that fails (here: a table gone from under cw, as a damaged page would make it) is
// an error naming the table, never an empty answer: an empty journal would let writes go out
// unchecked, empty baselines would read as a first run (issue 10, "propagate every read error").
TEST_F(StateStoreTest, EveryReadOfAMissingTableIsAnErrorNotAnEmptyAnswer) {
  ASSERT_TRUE(m_store->commit(make_commit("p", "watchlist", {}, sample_record())));
  const auto without = [&](const char* table, const std::function<bool()>& read_fails) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((m_dir / k_state_db_name).c_str(), &db), SQLITE_OK);
    const std::string gone = std::string(table) + "_gone";
    ASSERT_EQ(sqlite3_exec(db, ("ALTER TABLE " + std::string(table) + " RENAME TO " + gone).c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_TRUE(read_fails()) << table;
    ASSERT_EQ(sqlite3_exec(db, ("ALTER TABLE " + gone + " RENAME TO " + table).c_str(), nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  };
  for (const char* table : {"baselines", "tombstones", "pending_deletions", "flaps", "blackbox",
                            "unresolved", "pair_features"})
    without(table, [&] { return !m_store->load("p", "watchlist"); });
  without("journal", [&] { return !m_store->journal_open("", "", ""); });
  without("blackbox", [&] { return !m_store->held_items(10); });
  without("unresolved", [&] { return !m_store->held_items(10); });
  without("pair_features", [&] { return !m_store->summaries(); });
  without("pending_deletions", [&] { return !m_store->pending("", ""); });
  without("runs", [&] { return !m_store->recent_reports(5) && !m_store->report("run-1"); });
  without("kv", [&] { return !m_store->kv_all(); });
  // And with every table back, every read works again.
  EXPECT_TRUE(m_store->load("p", "watchlist"));
  EXPECT_TRUE(m_store->journal_open("", "", ""));
  EXPECT_TRUE(m_store->summaries());
}

TEST(StateOpen, AnEmptyDatabaseFileIsRefusedNotStartedAfresh) {
  const auto dir = fresh_dir("empty-db");
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / k_state_db_name); }
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = StateStore::open(dir, mode);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("is empty (0 bytes)"), std::string::npos) << s.error().message;
  }
  EXPECT_EQ(std::filesystem::file_size(dir / k_state_db_name), 0U);  // left as it was
  std::filesystem::remove_all(dir);
}

TEST(StateOpen, ADamagedDatabaseIsRefused) {
  const auto dir = fresh_dir("damaged-db");
  {
    auto s = StateStore::open(dir, OpenMode::read_write);
    ASSERT_TRUE(s) << s.error().message;
    PairFeatureCommit c;
    c.pair = "p";
    c.feature = "watchlist";
    c.run_id = "r1";
    c.committed_at = 1;
    for (int i = 0; i < 300; ++i)  // several pages
      c.baseline_upserts["plex"]["tmdb:movie:" + std::to_string(i)] = item("Film", i);
    ASSERT_TRUE((*s)->commit(c));
  }
  // Scribble over the second page (the first holds the header SQLite checks on open).
  {
    std::fstream f(dir / k_state_db_name, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 8);
    const std::string junk(2000, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  std::filesystem::remove(dir / (std::string(k_state_db_name) + "-wal"));
  std::filesystem::remove(dir / (std::string(k_state_db_name) + "-shm"));
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = StateStore::open(dir, mode);
    ASSERT_FALSE(s) << "a damaged database was opened";
    EXPECT_NE(s.error().message.find("damaged"), std::string::npos) << s.error().message;
  }
  std::filesystem::remove_all(dir);
}

// `run --dry-run` and `plan` on a state folder they cannot read say so instead of planning
// against an empty state (issue 10).
TEST(StateOpen, AnUnreadableStateFolderIsAnErrorNotAnEmptyState) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every folder";
  const auto dir = fresh_dir("unreadable");
  {
    auto s = StateStore::open(dir, OpenMode::read_write);
    ASSERT_TRUE(s) << s.error().message;
  }
  std::filesystem::permissions(dir, std::filesystem::perms::none,
                               std::filesystem::perm_options::replace);
  auto s = StateStore::open(dir, OpenMode::read_only);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("cannot read the state in"), std::string::npos)
      << s.error().message;
  std::filesystem::remove_all(dir);
}

TEST(StateOpen, ANewDatabaseIsReadableByItsOwnerOnly) {
  const auto dir = fresh_dir("perms-db");
  auto s = StateStore::open(dir, OpenMode::read_write);
  ASSERT_TRUE(s) << s.error().message;
  const auto perms = std::filesystem::status(dir / k_state_db_name).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

TEST(StateTypes, RecordJsonRoundTrip) {
  const PairFeatureRecord r = test::sample_record();
  EXPECT_EQ(record_from_json(to_json(r)), r);
  EXPECT_EQ(record_from_json(nlohmann::json::object()), PairFeatureRecord{});
}

}  // namespace
}  // namespace cw::state
