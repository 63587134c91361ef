#pragma once
// RunLock: one run per state directory (R6.5). The lock is flock(2) on the state directory
// itself, which cannot be unlinked while it holds state.db (a lock *file* can: deleting it
// let a second run start beside the first). The kernel releases it when the process dies,
// even by SIGKILL, so a crash never leaves a stale lock. `state_dir/cw.lock` only carries
// the holder's PID for the refusal message. A directory cw creates is made 0700: the state
// is a person's watch history.

#include <filesystem>
#include <optional>

#include <sys/types.h>

#include <cw/util/result.hpp>

namespace cw::state {

inline constexpr const char* k_lock_file_name = "cw.lock";

class RunLock {
 public:
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

  // Takes the lock, creating the directory when needed. When another process holds it the
  // error has ErrorKind::transient and names the holder's PID ("state directory X is in use
  // by another cw process (PID 1234)..."); other failures are ErrorKind::internal.
  static Result<RunLock> acquire(const std::filesystem::path& state_dir);
  // The PID written by the current holder, if the lock is held by a live process.
  static std::optional<pid_t> holder(const std::filesystem::path& state_dir);

  // A shared hold on the directory while no run holds it (readers that want the files not
  // to change under them): the directory's fd, or -1 when a run holds it or it cannot be
  // opened. Close the fd to let runs start again.
  static int share(const std::filesystem::path& state_dir);

  void release();

 private:
  RunLock(int dir_fd, int pid_fd) : m_fd(dir_fd), m_pid_fd(pid_fd) {}
  int m_fd = -1;      // the state directory, flocked exclusively
  int m_pid_fd = -1;  // cw.lock, holding our PID
};

}  // namespace cw::state
