#pragma once
// When each pair runs under `cw serve`. Pure: times are parameters (Unix seconds), jitter
// comes from a seeded generator, nothing here sleeps or reads a clock.
//
// A pair with a schedule runs at its next interval or cron time plus a random jitter. A run
// that fails (a provider down, an error) is retried after 1, 2, 4, ... minutes (at most 6 h),
// and never later than the schedule would run it anyway: a daily pair whose provider is
// down is not left for a day, and a provider that stays down is not hammered. A run that
// found the state directory locked (a `cw run` from cron) is tried again a minute later,
// without counting as a failure.

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/config.hpp>

namespace cw::serve {

enum class RunResult { ok, partial, failed, locked, cancelled };
const char* to_string(RunResult r);

inline constexpr std::int64_t k_first_backoff_s = 60;
inline constexpr std::int64_t k_max_backoff_s = 6 * 3600;
inline constexpr std::int64_t k_locked_retry_s = 60;

class Scheduler {
 public:
  // `pairs`: every pair that can run; `schedules`: pair name -> its schedule. Pairs without
  // one run only on request.
  Scheduler(const std::vector<std::string>& pairs,
            std::map<std::string, config::ScheduleConfig> schedules, std::uint64_t seed);

  // Sets every pair's first run after `now_s`.
  void start(std::int64_t now_s);
  // The pair to run now: the one due longest ago (requests first), or nullopt.
  std::optional<std::string> due(std::int64_t now_s) const;
  // When the next run is due (Unix seconds); nullopt when nothing is scheduled or requested.
  std::optional<std::int64_t> next_due() const;
  // A run of `pair` ended at `now_s`: sets its next time.
  void finished(const std::string& pair, RunResult result, std::int64_t now_s);
  // Runs `pair` as soon as possible (the status page's button, tests).
  void request(const std::string& pair, std::int64_t now_s);

  // Per pair: schedule, next_run, last_result, last_finished, consecutive_failures.
  nlohmann::json to_json() const;

  // The next regular time after `after_s` with jitter (exposed for tests).
  std::optional<std::int64_t> regular_next(const config::ScheduleConfig& s, std::int64_t after_s);

 private:
  struct Entry {
    std::optional<config::ScheduleConfig> schedule;
    std::optional<std::int64_t> next;
    bool requested = false;
    std::optional<RunResult> last;
    std::int64_t last_finished = 0;
    int failures = 0;
  };
  std::map<std::string, Entry> m_pairs;
  std::mt19937_64 m_rng;
};

}  // namespace cw::serve
