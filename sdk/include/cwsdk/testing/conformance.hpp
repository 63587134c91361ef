// cwsdk/testing/conformance.hpp: the conformance kit. One GoogleTest suite per plugin that
// runs the real host (`cw plugins check`) on the plugin file against a running service,
// once clean (load, manifest, health, every index, add/remove round trips) and once per
// fault drill, with the fault put on a cw-sandbox fake:
//
//   429            one 429 with Retry-After        everything as clean (the host retries)
//   5xx-burst      one 503                         everything as clean (the host retries)
//   5xx-down       every request 502               may fail; never complete with items missing
//   page-cap       pages silently hold 1 item      may be incomplete; never complete and short
//   malformed      every body corrupted            same
//   truncated      every body cut in half          same
//   expired-token  every token check fails         an auth failure reported (plugins with
//                                                  credentials); never complete and short
//
// A crash, an abort or a hang of the plugin fails the test that ran it. Use:
//
//   #include <cwsdk/testing/conformance.hpp>
//   int main(int argc, char** argv) {
//     ::testing::InitGoogleTest(&argc, argv);
//     cwsdk::conformance::Sandbox sandbox("/usr/bin/cw-sandbox", "trakt", "movies=40,watchlist=8");
//     cwsdk::conformance::Target target;
//     target.name = "trakt";
//     target.cw = "/usr/bin/cw";
//     target.plugin = "build/cw-provider-trakt.so";
//     target.config = sandbox.config();      // the providers: entry cw-sandbox prints
//     target.base_url = sandbox.base_url();
//     cwsdk::conformance::register_suite(target);
//     return RUN_ALL_TESTS();
//   }
//
// POSIX only (posix_spawn, loopback sockets); needs GoogleTest and nlohmann/json. `cw` and
// `cw-sandbox` come with an installed cw (cw-sandbox in the sdk-testing component).
#ifndef CWSDK_TESTING_CONFORMANCE_HPP
#define CWSDK_TESTING_CONFORMANCE_HPP

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cwsdk::conformance {

// Every drill `cw plugins check --fault` knows, in the order the suite runs them.
inline std::vector<std::string> all_faults() {
  return {"429", "5xx-burst", "5xx-down", "page-cap", "malformed", "truncated", "expired-token"};
}

struct Target {
  std::string name;       // the suite's name, e.g. the plugin's
  std::string cw;         // the cw executable
  std::string plugin;     // the plugin file (cw-provider-<name>.so)
  nlohmann::json config;  // the instance configuration, secrets included (sandbox values)
  std::string base_url;   // the cw-sandbox fake the configuration points at
  std::vector<std::string> faults = all_faults();
  bool clean = true;  // also run the clean check (with its add/remove round trips)
};

namespace detail {

inline std::string temp_path(const std::string& stem) {
  std::string pattern = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                        std::string("/cwsdk-") + stem + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + pattern);
  ::close(fd);
  return std::string(buf.data());
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts argv with stdout and stderr into `log`; returns the pid (throws on failure).
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for pid at most `timeout`; kills it when it is still running then. Returns the exit
// code, 128 + signal when it died of one, or -1 when it had to be killed.
inline int wait_for(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// One request to a loopback fake's control API (http://127.0.0.1:PORT only); the status.
inline int control(const std::string& base_url, const std::string& method, const std::string& path,
                   const std::string& body = "") {
  const std::string prefix = "http://127.0.0.1:";
  if (base_url.rfind(prefix, 0) != 0) return 0;
  const int port = std::atoi(base_url.c_str() + prefix.size());
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                "Connection: close\r\nContent-Type: application/json\r\n" +
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                                body;
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buf[64] = {};
      const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n > 12) status = std::atoi(buf + 9);  // "HTTP/1.1 200"
    }
  }
  ::close(fd);
  return status;
}

}  // namespace detail

// cw-sandbox running one fake on a free loopback port, for as long as the object lives.
class Sandbox {
 public:
  Sandbox(const std::string& executable, const std::string& service,
          const std::string& generate =
              "movies=40,shows=4,seasons=2,episodes=4,plays=60,"
              "ratings=12,watchlist=8,progress=4,seed=7")
      : m_info(detail::temp_path("sandbox-info")), m_log(detail::temp_path("sandbox-log")) {
    std::remove(m_info.c_str());
    std::vector<std::string> argv = {executable, "--services", service, "--info", m_info};
    if (!generate.empty()) argv.insert(argv.end(), {"--generate", generate});
    m_pid = detail::spawn(argv, m_log);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const nlohmann::json info = nlohmann::json::parse(detail::slurp(m_info), nullptr, false);
      if (info.is_object() && info.contains(service)) {
        m_service = info[service];
        break;
      }
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = 0;
        throw std::runtime_error("cw-sandbox exited: " + detail::slurp(m_log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!m_service.is_object()) {
      stop();
      throw std::runtime_error("cw-sandbox did not start " + service + " within 30 s");
    }
  }
  ~Sandbox() { stop(); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::string base_url() const { return m_service.value("base_url", ""); }
  // The `providers:` entry cw-sandbox prints for this fake, as JSON, without `plugin`.
  nlohmann::json config() const { return m_service.value("config", nlohmann::json::object()); }
  nlohmann::json credentials() const {
    return m_service.value("credentials", nlohmann::json::object());
  }

 private:
  void stop() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      detail::wait_for(m_pid, std::chrono::seconds(10));
      m_pid = 0;
    }
    std::remove(m_info.c_str());
    std::remove(m_log.c_str());
  }

  std::string m_info, m_log;
  pid_t m_pid = 0;
  nlohmann::json m_service;
};

// What one `cw plugins check` run gave.
struct CheckRun {
  int exit_code = -1;     // 0 passed, 1 a check failed, 128+N a signal, -1 killed (hang)
  nlohmann::json report;  // the JSON report (null when none was printed)
  std::string output;     // stdout and stderr, for the failure message
};

inline CheckRun run_check(const Target& target, const std::string& fault) {
  const std::string log = detail::temp_path("check");
  std::vector<std::string> argv = {
      target.cw,    "--log-level",   "error",         "plugins",
      "check",      target.plugin,   "--config-json", target.config.dump(),
      "--base-url", target.base_url, "--output",      "json"};
  if (!fault.empty()) argv.insert(argv.end(), {"--fault", fault});
  CheckRun run;
  run.exit_code = detail::wait_for(detail::spawn(argv, log), std::chrono::seconds(120));
  run.output = detail::slurp(log);
  std::remove(log.c_str());
  // The report is the one JSON object printed; log lines may come before it.
  const auto start = run.output.find("{\n");
  if (start != std::string::npos)
    run.report = nlohmann::json::parse(run.output.substr(start), nullptr, false);
  if (run.report.is_discarded()) run.report = nullptr;
  return run;
}

// The failed checks of a report, one per line.
inline std::string failures(const CheckRun& run) {
  std::string out;
  if (!run.report.is_object()) return run.output;
  for (const auto& c : run.report.value("checks", nlohmann::json::array()))
    if (c.value("result", "") == "fail")
      out += "  " + c.value("name", "?") + ": " + c.value("message", "") + "\n";
  return out;
}

inline void expect_passed(const Target& target, const std::string& fault) {
  // A drill a crashed run left behind must not fail the next one.
  detail::control(target.base_url, "DELETE", "/__sandbox/faults");
  const CheckRun run = run_check(target, fault);
  ASSERT_GE(run.exit_code, 0) << target.plugin << " did not finish within 120 s";
  ASSERT_LT(run.exit_code, 128) << target.plugin << " died of signal " << run.exit_code - 128
                                << ":\n"
                                << run.output;
  ASSERT_TRUE(run.report.is_object()) << "no check report:\n" << run.output;
  EXPECT_EQ(run.exit_code, 0) << "failed checks" << (fault.empty() ? "" : " under " + fault)
                              << ":\n"
                              << failures(run);
}

// Registers <name>.clean and <name>.fault_<drill> for every drill of the target.
inline void register_suite(const Target& target) {
  struct Case : ::testing::Test {
    Case(Target t, std::string f) : target(std::move(t)), fault(std::move(f)) {}
    void TestBody() override { expect_passed(target, fault); }
    Target target;
    std::string fault;
  };
  std::vector<std::string> cases;
  if (target.clean) cases.emplace_back();
  cases.insert(cases.end(), target.faults.begin(), target.faults.end());
  for (const std::string& fault : cases) {
    std::string name = fault.empty() ? "clean" : "fault_" + fault;
    for (char& c : name)
      if (c == '-') c = '_';
    ::testing::RegisterTest(target.name.c_str(), name.c_str(), nullptr, fault.c_str(), __FILE__,
                            __LINE__,
                            [target, fault]() -> Case* { return new Case(target, fault); });
  }
}

}  // namespace cwsdk::conformance

#endif  // CWSDK_TESTING_CONFORMANCE_HPP
