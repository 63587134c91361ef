#pragma once
// Clock: the one source of time for the host and its services, and the one way they wait.
//
// Three questions go through it: what time it is (wall: items, state, HTTP dates), how much
// time has passed (steady: budgets, intervals, deadlines) and "wait this long, unless the
// user asked us to stop". Every wait of the host (HTTP retries and rate limits, the
// applier's back-off, login polling) is a sleep_ms with the run's cancel token, so a
// Ctrl-C ends it at once instead of after a back-off of up to 30 s. Behind an interface so
// that tests can hold time still, move it on, or see which waits were chosen.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include <cw/services/cancel/cancel_token.hpp>

namespace cw::services {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time: milliseconds since the Unix epoch, UTC.
  virtual std::int64_t now_ms() const = 0;
  // Monotonic milliseconds from an arbitrary origin; only differences mean anything.
  virtual std::int64_t steady_ms() const = 0;
  // Waits `ms` (nothing when <= 0), or less once `cancel` is set. Returns false when the
  // wait ended early because of `cancel` (or `cancel` was already set), true otherwise.
  virtual bool sleep_ms(std::int64_t ms, const CancelToken* cancel) const = 0;
};

class SystemClock : public Clock {
 public:
  std::int64_t now_ms() const override;
  std::int64_t steady_ms() const override;
  bool sleep_ms(std::int64_t ms, const CancelToken* cancel) const override;
};

// The system clock with the wall time pinned ($CW_NOW): what runs "see" as now stays put,
// while waits and intervals are real, because the services on the other end are.
class PinnedClock final : public SystemClock {
 public:
  explicit PinnedClock(std::int64_t wall_ms) : m_wall(wall_ms) {}
  std::int64_t now_ms() const override { return m_wall; }

 private:
  std::int64_t m_wall;
};

// A clock that only moves when told to or when something sleeps on it; every sleep is
// recorded, so tests check the waits chosen (Retry-After, back-off, pacing) without
// waiting. The steady time starts far from zero so that code taking 0 for "never" shows.
// Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(std::int64_t wall_ms = 0) : m_wall(wall_ms) {}
  std::int64_t now_ms() const override { return m_wall.load(); }
  std::int64_t steady_ms() const override { return m_steady.load(); }
  bool sleep_ms(std::int64_t ms, const CancelToken* cancel) const override;

  void set_ms(std::int64_t wall_ms) { m_wall.store(wall_ms); }
  // Moves wall and steady time on together.
  void advance_ms(std::int64_t ms) {
    m_wall.fetch_add(ms);
    m_steady.fetch_add(ms);
  }
  std::vector<std::int64_t> sleeps() const;

 private:
  mutable std::atomic<std::int64_t> m_wall;
  mutable std::atomic<std::int64_t> m_steady{1'000'000};
  mutable std::mutex m_mutex;
  mutable std::vector<std::int64_t> m_sleeps;
};

}  // namespace cw::services
