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
#include <cw/services/http/rate_budget.hpp>

namespace cw::test {

// Time that moves only when the service "sleeps"; every sleep is recorded so that tests
// can check the waits the service chose (Retry-After, backoff, pacing) without waiting.
class ManualHttpClock final : public services::HttpClock {
 public:
  std::int64_t now_ms() override { return m_now.load(); }
  std::int64_t wall_ms() override { return m_wall_base + m_now.load(); }
  bool sleep_ms(std::int64_t ms, const services::CancelToken* cancelled) override {
    if (cancelled != nullptr && cancelled->cancelled()) return false;
    {
      std::lock_guard lock(m_mutex);
      m_sleeps.push_back(ms);
    }
    m_now.fetch_add(ms);
    return cancelled == nullptr || !cancelled->cancelled();
  }
  std::vector<std::int64_t> sleeps() {
    std::lock_guard lock(m_mutex);
    return m_sleeps;
  }
  void set_wall_base(std::int64_t ms) { m_wall_base = ms; }

 private:
  std::atomic<std::int64_t> m_now{1'000'000};
  std::int64_t m_wall_base = 1'780'000'000'000;  // 2026-05-28
  std::mutex m_mutex;
  std::vector<std::int64_t> m_sleeps;
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
