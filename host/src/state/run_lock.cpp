#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cw/state/run_lock.hpp>

namespace cw::state {

namespace {
std::optional<pid_t> read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  char* end = nullptr;
  const long pid = std::strtol(buf, &end, 10);
  if (pid <= 0 || end == buf) return std::nullopt;
  return static_cast<pid_t>(pid);
}
}  // namespace

RunLock::RunLock(RunLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = other.m_fd;
    other.m_fd = -1;
  }
  return *this;
}

RunLock::~RunLock() { release(); }

void RunLock::release() {
  if (m_fd < 0) return;
  // Clearing the PID first means a reader never names a process that no longer holds it.
  (void)ftruncate(m_fd, 0);
  flock(m_fd, LOCK_UN);
  close(m_fd);
  m_fd = -1;
}

Result<RunLock> RunLock::acquire(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return make_error("cannot create the state directory " + state_dir.string() + ": " +
                          ec.message() + "; set state_dir in the configuration",
                      ErrorKind::internal);
  const auto path = state_dir / k_lock_file_name;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error("cannot open the lock file " + path.string() + ": " + std::strerror(errno),
                      ErrorKind::internal);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const auto pid = read_pid(fd);
      close(fd);
      return make_error("state directory " + state_dir.string() +
                            " is in use by another cw process (" +
                            (pid ? "PID " + std::to_string(*pid)
                                 : std::string("PID unknown: a dry run or `cw state show` may be "
                                               "reading it")) +
                            "); wait for it to finish, or stop it, and run again",
                        ErrorKind::transient);
    }
    close(fd);
    return make_error("cannot lock " + path.string() + ": " + std::strerror(err),
                      ErrorKind::internal);
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    close(fd);
    return make_error("cannot write the lock file " + path.string() + ": " + std::strerror(err),
                      ErrorKind::internal);
  }
  return RunLock(fd);
}

std::optional<pid_t> RunLock::holder(const std::filesystem::path& state_dir) {
  const auto path = state_dir / k_lock_file_name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<pid_t> pid;
  if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
    flock(fd, LOCK_UN);  // nobody holds it
  } else if (errno == EWOULDBLOCK) {
    pid = read_pid(fd);
  }
  close(fd);
  return pid;
}

}  // namespace cw::state
