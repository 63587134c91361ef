#include <algorithm>
#include <chrono>
#include <thread>

#include <cw/services/clock/clock.hpp>

namespace cw::services {

std::int64_t SystemClock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SystemClock::steady_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::sleep_ms(std::int64_t ms, const CancelToken* cancel) const {
  // Slices: the signal handler can only set a flag, so a wait notices it within 25 ms.
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    if (cancel != nullptr && cancel->cancelled()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(25)));
  }
}

bool ManualClock::sleep_ms(std::int64_t ms, const CancelToken* cancel) const {
  if (cancel != nullptr && cancel->cancelled()) return false;
  {
    std::lock_guard lock(m_mutex);
    m_sleeps.push_back(ms);
  }
  if (ms > 0) {
    m_wall.fetch_add(ms);
    m_steady.fetch_add(ms);
  }
  return cancel == nullptr || !cancel->cancelled();
}

std::vector<std::int64_t> ManualClock::sleeps() const {
  std::lock_guard lock(m_mutex);
  return m_sleeps;
}

}  // namespace cw::services
