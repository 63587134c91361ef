#pragma once
// Clock: the time as the host and plugins see it (cw_host_api.now). Behind an interface so
// that tests and scenarios can hold time still or move it on.

#include <atomic>
#include <cstdint>

namespace cw::services {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 0) : m_now(start_ms) {}
  std::int64_t now_ms() const override { return m_now.load(); }
  void set_ms(std::int64_t ms) { m_now.store(ms); }
  void advance_ms(std::int64_t ms) { m_now.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> m_now;
};

}  // namespace cw::services
