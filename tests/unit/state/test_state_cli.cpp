// `cw state ...` and `cw pending ...` on the real binary: output, exit codes, effects.
#include <array>
#include <cstdio>
#include <fstream>

#include <sys/wait.h>

#include <cw/state/backups.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

struct Ran {
  int code = -1;
  std::string out;  // stdout and stderr
};

Ran run_cw(const std::string& args) {
  Ran r;
  const std::string cmd = std::string(CW_BINARY) + " " + args + " 2>&1 </dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class StateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(CW_BINARY))
      GTEST_SKIP() << CW_BINARY << " is not built; build the `cw` target to run the CLI tests";
    m_dir = test::fresh_dir("cli");
    auto s = StateStore::open(m_dir, OpenMode::read_write);
    ASSERT_TRUE(s);
    PairFeatureRecord r = test::sample_record();
    ASSERT_TRUE((*s)->commit(make_commit("plex-to-trakt", "watchlist", {}, r)));
    ASSERT_TRUE((*s)->save_report({"run-7", 10, 20, "partial", {{"pairs", 1}}}));
  }
  void TearDown() override {
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir);
  }
  std::string dir_arg() const { return "--state-dir " + m_dir.string(); }
  std::unique_ptr<StateStore> store() {
    auto s = StateStore::open(m_dir, OpenMode::read_only);
    EXPECT_TRUE(s);
    return s ? std::move(*s) : nullptr;
  }
  std::filesystem::path m_dir;
};

TEST_F(StateCli, ShowSummarisesEachPairAndFeature) {
  const auto hash = test::hash_file(m_dir / k_state_db_name);
  Ran r = run_cw("state show " + dir_arg());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("plex-to-trakt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plex=2 trakt=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last run: run-7, partial"), std::string::npos) << r.out;
  Ran j = run_cw("state show --output json " + dir_arg());
  ASSERT_EQ(j.code, 0) << j.out;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["pair_features"][0]["pending"], 1);
  EXPECT_EQ(doc["pair_features"][0]["blocked"], 1);
  EXPECT_EQ(doc["pair_features"][0]["unresolved"], 1);
  EXPECT_EQ(doc["last_run"]["run_id"], "run-7");
  EXPECT_EQ(test::hash_file(m_dir / k_state_db_name), hash);  // reading changes nothing
}

// Rolling backups, `cw state check` and `cw state restore` (issue 10): a damaged database
// is found, refused, and put back from the last backup without losing the damaged file.
TEST_F(StateCli, CheckFindsDamageAndRestorePutsTheLastBackupBack) {
  {
    auto s = StateStore::open(m_dir, OpenMode::read_write);
    ASSERT_TRUE(s);
    for (const char* run :
         {"20260101T000000Z-1", "20260102T000000Z-2", "20260103T000000Z-3", "20260104T000000Z-4"})
      ASSERT_TRUE(make_backup(**s, m_dir, run));
  }
  const auto backups = list_backups(m_dir);
  ASSERT_EQ(backups.size(), 3U);  // the newest three
  EXPECT_EQ(backups.front().filename(), "state-20260104T000000Z-4.db");
  EXPECT_EQ(std::filesystem::status(backups.front()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  Ran r = run_cw("state check " + dir_arg());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(": ok (schema version"), std::string::npos) << r.out;

  // Damage the database: check, show and every run refuse it.
  {
    std::fstream f(m_dir / k_state_db_name, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 8);
    const std::string junk(2000, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  r = run_cw("state check " + dir_arg());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("damaged"), std::string::npos) << r.out;
  EXPECT_EQ(run_cw("state show " + dir_arg()).code, 1);

  r = run_cw("state restore " + dir_arg());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("state-20260104T000000Z-4.db"), std::string::npos) << r.out;
  r = run_cw("state restore latest " + dir_arg());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("the replaced file is kept as"), std::string::npos) << r.out;
  r = run_cw("state show " + dir_arg());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("plex-to-trakt"), std::string::npos) << r.out;
  bool kept = false;
  for (const auto& e : std::filesystem::directory_iterator(m_dir))
    kept = kept || e.path().filename().string().rfind("state.db.replaced-", 0) == 0;
  EXPECT_TRUE(kept);
  EXPECT_EQ(run_cw("state restore no-such.db " + dir_arg()).code, 2);
}

TEST_F(StateCli, ExportIsJson) {
  Ran r = run_cw("state export " + dir_arg());
  ASSERT_EQ(r.code, 0) << r.out;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(record_from_json(doc["pair_features"][0]).baselines, test::sample_record().baselines);
}

TEST_F(StateCli, PendingListApproveDrop) {
  Ran list = run_cw("pending list " + dir_arg());
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("tmdb:movie:3"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("mass_delete"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("held"), std::string::npos) << list.out;

  EXPECT_EQ(run_cw("pending approve " + dir_arg()).code, 2);  // neither keys nor --all
  EXPECT_EQ(run_cw("pending approve nope " + dir_arg()).code, 1);
  Ran ok = run_cw("pending approve tmdb:movie:3 " + dir_arg());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(store()->load("plex-to-trakt", "watchlist")->pending.at(0).approved);
  Ran drop = run_cw("pending drop --all --pair plex-to-trakt " + dir_arg());
  EXPECT_EQ(drop.code, 0) << drop.out;
  // Declined, not deleted: the next run settles it as intentionally ignored (R6.3).
  const auto pending = store()->load("plex-to-trakt", "watchlist")->pending;
  ASSERT_FALSE(pending.empty());
  for (const auto& p : pending) EXPECT_TRUE(p.declined) << p.key;
  Ran listed = run_cw("pending list " + dir_arg());
  EXPECT_NE(listed.out.find("declined"), std::string::npos) << listed.out;
  EXPECT_EQ(run_cw("pending drop --all --pair plex-to-trakt " + dir_arg()).code, 1);  // again
}

TEST_F(StateCli, UnblockAndReset) {
  EXPECT_EQ(run_cw("state unblock tmdb:movie:404 " + dir_arg()).code, 1);
  Ran ok = run_cw("state unblock tmdb:movie:5 " + dir_arg());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(store()->load("plex-to-trakt", "watchlist")->blackbox.empty());

  Ran refused = run_cw("state reset " + dir_arg());  // stdin is not a terminal
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("--yes"), std::string::npos);
  EXPECT_FALSE(store()->load("plex-to-trakt", "watchlist")->baselines.empty());
  Ran reset = run_cw("state reset --yes --pair plex-to-trakt --feature watchlist " + dir_arg());
  EXPECT_EQ(reset.code, 0) << reset.out;
  EXPECT_TRUE(store()->load("plex-to-trakt", "watchlist")->baselines.empty());
}

TEST_F(StateCli, ARunningRunRefusesChangesWithExitCode5) {
  auto lock = RunLock::acquire(m_dir);
  ASSERT_TRUE(lock);
  Ran r = run_cw("pending approve --all " + dir_arg());
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_NE(r.out.find("PID " + std::to_string(getpid())), std::string::npos) << r.out;
  EXPECT_EQ(run_cw("state reset --yes " + dir_arg()).code, 5);
  Ran show = run_cw("state show " + dir_arg());  // reading is fine
  EXPECT_EQ(show.code, 0);
  EXPECT_NE(show.out.find("a run is in progress (PID " + std::to_string(getpid())),
            std::string::npos)
      << show.out;
}

TEST_F(StateCli, BadUsageAndBadConfig) {
  EXPECT_EQ(run_cw("state " + dir_arg()).code, 2);
  EXPECT_EQ(run_cw("state frobnicate " + dir_arg()).code, 2);
  EXPECT_EQ(run_cw("state show --feature films " + dir_arg()).code, 2);
  EXPECT_EQ(run_cw("pending list --bogus " + dir_arg()).code, 2);
  Ran cfg = run_cw("--config " + (m_dir / "missing.yaml").string() + " state show");
  EXPECT_EQ(cfg.code, 3) << cfg.out;
  EXPECT_NE(cfg.out.find("missing.yaml: cannot read"), std::string::npos) << cfg.out;
}

TEST_F(StateCli, ConfigValidateExitCodes) {
  const auto good = m_dir / "good.yaml";
  const auto bad = m_dir / "bad.yaml";
  std::ofstream(good) << "providers: { a: { plugin: x }, b: { plugin: y } }\n"
                         "pairs: [ { source: a, target: b, features: { watchlist: true } } ]\n";
  std::ofstream(bad) << "providers: { a: { plugin: x } }\n"
                        "pairs: [ { source: a, target: b, features: { watchlist: true } } ]\n";
  // x and y are no plugins this cw has: --no-plugins checks the file alone.
  Ran ok = run_cw("--config " + good.string() + " config validate --no-plugins");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("OK: "), std::string::npos);
  EXPECT_NE(ok.out.find("a-to-b: a -> b, one-way"), std::string::npos) << ok.out;
  Ran ko = run_cw("--config " + bad.string() + " config validate");
  EXPECT_EQ(ko.code, 3) << ko.out;
  EXPECT_NE(
      ko.out.find("bad.yaml:2:31: pairs[0].target: no provider instance named \"b\"; defined: a"),
      std::string::npos)
      << ko.out;
  EXPECT_EQ(run_cw("--config " + good.string() + " config").code, 2);
  Ran unknown = run_cw("--config " + good.string() + " config validate");
  EXPECT_EQ(unknown.code, 3) << unknown.out;
  EXPECT_NE(unknown.out.find("good.yaml:1:14: providers.a.plugin: no plugin 'x' was found"),
            std::string::npos)
      << unknown.out;
  EXPECT_NE(unknown.out.find("providers.b.plugin: no plugin 'y'"), std::string::npos)
      << unknown.out;
  EXPECT_NE(unknown.out.find("2 errors in"), std::string::npos) << unknown.out;
}

// config validate checks each provider's settings against its plugin's schema, as a run
// would when it loads the plugins (issue 10): a wrong type, a missing required key and an
// unknown key are each one line at the provider, exit 3; good settings pass.
TEST_F(StateCli, ConfigValidateChecksSettingsAgainstThePluginSchema) {
  const auto path = m_dir / "plugins.yaml";
  std::ofstream(path) << "providers:\n"
                         "  a: { plugin: crosswatch, root: 5 }\n"
                         "  b: { plugin: crosswatch }\n"
                         "  c: { plugin: crosswatch, root: lib, colour: blue }\n"
                         "  d: { plugin: crosswatch, root: lib }\n"
                         "pairs: [ { source: d, target: a, features: { watchlist: true } } ]\n";
  Ran r = run_cw("--config " + path.string() + " config validate");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("plugins.yaml:2:3: providers.a field /root: expected string"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("plugins.yaml:3:3: providers.b field /root: is required"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("plugins.yaml:4:3: providers.c field /colour: is not a known field"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("providers.d"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 errors in"), std::string::npos) << r.out;

  std::ofstream(path) << "providers:\n"
                         "  d: { plugin: crosswatch, root: lib }\n"
                         "  e: { plugin: crosswatch, root: other }\n"
                         "pairs: [ { source: d, target: e, features: { watchlist: true } } ]\n";
  Ran ok = run_cw("--config " + path.string() + " config validate");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("OK: "), std::string::npos) << ok.out;
}

}  // namespace
}  // namespace cw::state
