#pragma once
// RunLock: one run per state directory (R6.5). A lock file `state_dir/cw.lock` held with
// flock(2): the kernel releases it when the process dies, even by SIGKILL, so a crash never
// leaves a stale lock. The holder writes its PID into the file for the refusal message.

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

  void release();

 private:
  explicit RunLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

}  // namespace cw::state
