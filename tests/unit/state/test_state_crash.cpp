// Kill -9 safety: a child process commits in a loop and is SIGKILLed at random points; every
// reopen must pass integrity_check and show each committed transaction whole.
#include <csignal>
#include <random>

#include <sys/wait.h>
#include <unistd.h>

#include <cw/state/state_store.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

constexpr int k_items = 40;

// One generation: every row the commit touches carries the generation number.
PairFeatureCommit generation(std::int64_t g) {
  PairFeatureCommit c;
  c.pair = "p";
  c.feature = "history";
  c.run_id = "gen-" + std::to_string(g);
  c.committed_at = g;
  c.replace_baseline_sides = {"src"};
  for (int i = 0; i < k_items; ++i)
    c.baseline_upserts["src"]["k" + std::to_string(i)] = {{"gen", g}, {"i", i}};
  c.tombstone_upserts.push_back({"t", g, g, nullptr});
  c.flap_upserts.push_back({"dst", "f", static_cast<int>(g % 1000), "x", g});
  c.meta = {{"gen", g}};
  c.kv_instances = {"src"};
  return c;
}

[[noreturn]] void child_loop(const std::filesystem::path& dir, int ready_fd) {
  auto store = StateStore::open(dir, OpenMode::read_write);
  if (!store) _exit(2);
  auto r = (*store)->load("p", "history");
  if (!r) _exit(3);
  std::int64_t g = r->meta.is_object() ? r->meta["gen"].get<std::int64_t>() : 0;
  bool signalled = false;
  for (int n = 0; n < 200000; ++n) {  // bounded: the parent kills long before
    ++g;
    (*store)->kv_buffer("src", "gen", std::to_string(g));
    if (!(*store)->commit(generation(g))) _exit(4);
    if (!signalled) {
      const char byte = 1;
      if (write(ready_fd, &byte, 1) != 1) _exit(5);
      signalled = true;
    }
  }
  _exit(0);
}

// The generation the database holds; fails the test if any part of it is from another one.
std::int64_t check_whole(const std::filesystem::path& dir) {
  auto store = StateStore::open(dir, OpenMode::read_write);
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return -1;
  EXPECT_TRUE((*store)->integrity_check());
  auto r = (*store)->load("p", "history");
  EXPECT_TRUE(r);
  if (!r || r->meta.is_null()) {
    EXPECT_TRUE(r->baselines.empty());
    return 0;
  }
  const std::int64_t g = r->meta["gen"].get<std::int64_t>();
  EXPECT_EQ(r->last_run_id, "gen-" + std::to_string(g));
  EXPECT_EQ(r->last_commit_at, g);
  const auto& items = r->baselines.at("src");
  EXPECT_EQ(items.size(), static_cast<std::size_t>(k_items));
  for (const auto& [key, item] : items) EXPECT_EQ(item["gen"], g) << key;
  EXPECT_EQ(r->tombstones.size(), 1u);
  EXPECT_EQ(r->tombstones.at(0).created_at, g);
  EXPECT_EQ(r->flaps.at(0).last_at, g);
  EXPECT_EQ((*store)->kv_get("src", "gen")->value_or(""), std::to_string(g));
  return g;
}

TEST(StateCrash, KilledWriterLeavesWholeCommits) {
  const auto dir = test::fresh_dir("crash");
  { ASSERT_TRUE(StateStore::open(dir, OpenMode::read_write)); }
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> delay_us(0, 40'000);
  std::int64_t last = 0;
  constexpr int k_kills = 12;
  for (int round = 0; round < k_kills; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child_loop(dir, fds[1]);
    }
    close(fds[1]);
    char byte = 0;
    // Wait for the first commit of this child, then let it run for a random while.
    ASSERT_EQ(read(fds[0], &byte, 1), 1) << "child failed before its first commit";
    close(fds[0]);
    usleep(static_cast<useconds_t>(delay_us(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "round " << round << ": child exited on its own, status " << status;
    const std::int64_t g = check_whole(dir);
    if (::testing::Test::HasFailure()) FAIL() << "round " << round;
    EXPECT_GT(g, last) << "round " << round << ": a confirmed commit was lost";
    last = g;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cw::state
