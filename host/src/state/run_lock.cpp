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

RunLock::RunLock(RunLock&& other) noexcept : m_fd(other.m_fd), m_pid_fd(other.m_pid_fd) {
  other.m_fd = -1;
  other.m_pid_fd = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = other.m_fd;
    m_pid_fd = other.m_pid_fd;
    other.m_fd = -1;
    other.m_pid_fd = -1;
  }
  return *this;
}

RunLock::~RunLock() { release(); }

void RunLock::release() {
  if (m_pid_fd >= 0) {
    // Clearing the PID first means a reader never names a process that no longer holds it.
    (void)ftruncate(m_pid_fd, 0);
    close(m_pid_fd);
    m_pid_fd = -1;
  }
  if (m_fd < 0) return;
  flock(m_fd, LOCK_UN);
  close(m_fd);
  m_fd = -1;
}

namespace {

std::optional<pid_t> pid_in_lock_file(const std::filesystem::path& state_dir) {
  const int fd = ::open((state_dir / k_lock_file_name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto pid = read_pid(fd);
  close(fd);
  return pid;
}

int open_dir(const std::filesystem::path& state_dir) {
  return ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

}  // namespace

Result<RunLock> RunLock::acquire(const std::filesystem::path& state_dir) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(state_dir, ec);
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return make_error("cannot create the state directory " + state_dir.string() + ": " +
                          ec.message() + "; set state_dir in the configuration",
                      ErrorKind::internal);
  if (!existed)
    std::filesystem::permissions(state_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  const int dir = open_dir(state_dir);
  if (dir < 0)
    return make_error(
        "cannot open the state directory " + state_dir.string() + ": " + std::strerror(errno),
        ErrorKind::internal);
  if (flock(dir, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(dir);
    if (err == EWOULDBLOCK) {
      const auto pid = pid_in_lock_file(state_dir);
      return make_error("state directory " + state_dir.string() +
                            " is in use by another cw process (" +
                            (pid ? "PID " + std::to_string(*pid)
                                 : std::string("PID unknown: a dry run or `cw state show` may be "
                                               "reading it")) +
                            "); wait for it to finish, or stop it, and run again",
                        ErrorKind::transient);
    }
    return make_error("cannot lock " + state_dir.string() + ": " + std::strerror(err),
                      ErrorKind::internal);
  }
  const auto path = state_dir / k_lock_file_name;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  const std::string pid = std::to_string(getpid()) + "\n";
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    if (fd >= 0) close(fd);
    close(dir);
    return make_error("cannot write the lock file " + path.string() + ": " + std::strerror(err),
                      ErrorKind::internal);
  }
  return RunLock(dir, fd);
}

std::optional<pid_t> RunLock::holder(const std::filesystem::path& state_dir) {
  const int dir = open_dir(state_dir);
  if (dir < 0) return std::nullopt;
  std::optional<pid_t> pid;
  if (flock(dir, LOCK_SH | LOCK_NB) == 0) {
    flock(dir, LOCK_UN);  // nobody holds it
  } else if (errno == EWOULDBLOCK) {
    pid = pid_in_lock_file(state_dir);
  }
  close(dir);
  return pid;
}

int RunLock::share(const std::filesystem::path& state_dir) {
  const int dir = open_dir(state_dir);
  if (dir < 0) return -1;
  if (flock(dir, LOCK_SH | LOCK_NB) != 0) {
    close(dir);
    return -1;
  }
  return dir;
}

}  // namespace cw::state
