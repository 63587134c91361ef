#pragma once
// Loopback servers and a controllable clock for the HTTP service tests.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/http/rate_budget.hpp>

namespace cw::test {

// The HTTP tests' clock: a manual clock (services::ManualClock records every sleep) whose
// wall time is in 2026, because reset headers and HTTP dates carry real dates.
class ManualHttpClock final : public services::ManualClock {
 public:
  ManualHttpClock() : ManualClock(1'780'001'000'000) {}
};
// An httplib server on 127.0.0.1 with an OS-chosen port, stopped by the destructor.
template <typename ServerT = httplib::Server>
class LoopbackServer {
 public:
  template <typename... Args>
  explicit LoopbackServer(Args&&... args) : m_server(std::forward<Args>(args)...) {}
  ServerT& server() { return m_server; }
  void start() {
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    // stop() before the thread is listening would be lost and the join would hang.
    while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    m_server.stop();
    if (m_thread.joinable()) m_thread.join();
  }
  int port() const { return m_port; }
  std::string url(const std::string& path, const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(m_port) + path;
  }

 private:
  ServerT m_server;
  std::thread m_thread;
  int m_port = 0;
};

// A TCP server that answers every connection with the same raw bytes: for responses that
// no well-behaved server library would produce (malformed headers).
class RawServer {
 public:
  explicit RawServer(std::string reply);
  ~RawServer();
  int port() const { return m_port; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }
  int connections() const { return m_connections.load(); }

 private:
  std::string m_reply;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::thread m_thread;
};

// A port on 127.0.0.1 that nothing listens on.
int closed_port();

// Writes a self-signed certificate for 127.0.0.1 (CN and subjectAltName) and its key as
// PEM files into `dir`; returns false with `error` set on failure.
bool make_self_signed_cert(const std::string& cert_path, const std::string& key_path,
                           std::string& error);

}  // namespace cw::test
