// RunLock (R6.5): one run per state directory; a killed holder releases it.
#include <csignal>

#include <sys/wait.h>
#include <unistd.h>

#include <cw/state/run_lock.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

TEST(RunLock, SecondAcquireIsRefusedNamingThePid) {
  const auto dir = test::fresh_dir("lock");
  auto first = RunLock::acquire(dir);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(RunLock::holder(dir), getpid());
  auto second = RunLock::acquire(dir);  // a new open file description: flock conflicts
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::transient);
  EXPECT_NE(second.error().message.find("in use by another cw process (PID " +
                                        std::to_string(getpid()) + ")"),
            std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find(dir.string()), std::string::npos);

  RunLock moved = std::move(*first);  // moving keeps it held
  EXPECT_FALSE(RunLock::acquire(dir));
  moved.release();
  EXPECT_FALSE(RunLock::holder(dir).has_value());
  auto third = RunLock::acquire(dir);
  EXPECT_TRUE(third);
  third->release();
  std::filesystem::remove_all(dir);
}

// Deleting cw.lock under a run once let a second run start beside it (1,700 duplicate
// plays): the lock is on the directory, which cannot be unlinked while it holds state.
TEST(RunLock, DeletingTheLockFileDoesNotLetASecondRunIn) {
  const auto dir = test::fresh_dir("lock-unlink");
  auto first = RunLock::acquire(dir);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(std::filesystem::remove(dir / k_lock_file_name));
  auto second = RunLock::acquire(dir);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::transient);
  EXPECT_TRUE(RunLock::holder(dir).has_value() ||
              second.error().message.find("PID unknown") != std::string::npos);
  EXPECT_EQ(RunLock::share(dir), -1);  // readers see it held too
  first->release();
  auto third = RunLock::acquire(dir);
  EXPECT_TRUE(third) << third.error().message;
  std::filesystem::remove_all(dir);
}

TEST(RunLock, ADirectoryItCreatesIsPrivate) {
  const auto dir = test::fresh_dir("lock-perms") / "state";
  auto lock = RunLock::acquire(dir);
  ASSERT_TRUE(lock) << lock.error().message;
  const auto perms = std::filesystem::status(dir).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
  lock->release();
  std::filesystem::remove_all(dir.parent_path());
}

TEST(RunLock, AKilledHolderReleasesTheLock) {
  const auto dir = test::fresh_dir("lock-kill");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto lock = RunLock::acquire(dir);
    const char byte = lock ? 1 : 0;
    if (write(fds[1], &byte, 1) != 1) _exit(1);
    for (int i = 0; i < 600; ++i) pause();  // until killed
    _exit(0);
  }
  close(fds[1]);
  char byte = 0;
  ASSERT_EQ(read(fds[0], &byte, 1), 1);
  close(fds[0]);
  ASSERT_EQ(byte, 1);
  auto refused = RunLock::acquire(dir);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("PID " + std::to_string(pid)), std::string::npos);
  EXPECT_EQ(RunLock::holder(dir), pid);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  auto after = RunLock::acquire(dir);
  EXPECT_TRUE(after) << after.error().message;
  std::filesystem::remove_all(dir);
}

TEST(RunLock, UncreatableDirectoryIsAnInternalError) {
  auto lock = RunLock::acquire("/proc/cw-cannot-exist/state");
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().kind, ErrorKind::internal);
}

}  // namespace
}  // namespace cw::state
