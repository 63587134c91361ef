#include <algorithm>

#include <cw/config/config.hpp>
#include <cw/serve/scheduler.hpp>
#include <cw/util/cron.hpp>

namespace cw::serve {

const char* to_string(RunResult r) {
  switch (r) {
    case RunResult::ok:
      return "ok";
    case RunResult::partial:
      return "partial";
    case RunResult::failed:
      return "failed";
    case RunResult::locked:
      return "locked";
    case RunResult::cancelled:
      return "cancelled";
  }
  return "failed";
}

Scheduler::Scheduler(const std::vector<std::string>& pairs,
                     std::map<std::string, config::ScheduleConfig> schedules, std::uint64_t seed)
    : m_rng(seed) {
  for (const auto& pair : pairs) m_pairs[pair];
  for (auto& [pair, s] : schedules) m_pairs[pair].schedule = std::move(s);
}

std::optional<std::int64_t> Scheduler::regular_next(const config::ScheduleConfig& s,
                                                    std::int64_t after_s) {
  std::optional<std::int64_t> t;
  if (s.every_s > 0) {
    t = after_s + s.every_s;
  } else if (auto cron = util::CronExpr::parse(s.cron)) {
    t = cron->next_after(after_s);
  }
  if (t && s.jitter_s > 0) *t += std::uniform_int_distribution<std::int64_t>(0, s.jitter_s)(m_rng);
  return t;
}

void Scheduler::start(std::int64_t now_s) {
  for (auto& [pair, e] : m_pairs) {
    if (!e.schedule) continue;
    // An interval pair runs first after a jitter only: a server that restarts syncs at once
    // instead of waiting out a whole interval. A cron pair waits for its time.
    if (e.schedule->every_s > 0)
      e.next = now_s + (e.schedule->jitter_s > 0 ? std::uniform_int_distribution<std::int64_t>(
                                                       0, e.schedule->jitter_s)(m_rng)
                                                 : 0);
    else
      e.next = regular_next(*e.schedule, now_s);
  }
}

std::optional<std::string> Scheduler::due(std::int64_t now_s) const {
  std::optional<std::string> best;
  std::int64_t best_t = 0;
  for (const auto& [pair, e] : m_pairs) {
    if (e.requested) return pair;
    if (e.next && *e.next <= now_s && (!best || *e.next < best_t)) {
      best = pair;
      best_t = *e.next;
    }
  }
  return best;
}

std::optional<std::int64_t> Scheduler::next_due() const {
  std::optional<std::int64_t> out;
  for (const auto& [pair, e] : m_pairs) {
    if (e.requested) return std::int64_t{0};
    if (e.next && (!out || *e.next < *out)) out = e.next;
  }
  return out;
}

void Scheduler::request(const std::string& pair, std::int64_t now_s) {
  auto& e = m_pairs[pair];
  e.requested = true;
  if (!e.next || *e.next > now_s) e.next = now_s;
}

void Scheduler::finished(const std::string& pair, RunResult result, std::int64_t now_s) {
  auto& e = m_pairs[pair];
  e.requested = false;
  e.last = result;
  e.last_finished = now_s;
  std::optional<std::int64_t> regular;
  if (e.schedule) regular = regular_next(*e.schedule, now_s);
  switch (result) {
    case RunResult::ok:
    case RunResult::partial:
    case RunResult::cancelled:
      e.failures = 0;
      e.next = regular;
      break;
    case RunResult::locked:
      e.next = now_s + k_locked_retry_s;
      if (regular) e.next = std::min(*e.next, *regular);
      break;
    case RunResult::failed: {
      ++e.failures;
      std::int64_t backoff = k_first_backoff_s;
      for (int i = 1; i < e.failures && backoff < k_max_backoff_s; ++i) backoff *= 2;
      backoff = std::min(backoff, k_max_backoff_s);
      // Only a scheduled pair is retried; one run on request reports and stops.
      e.next =
          regular ? std::optional<std::int64_t>(std::min(now_s + backoff, *regular)) : std::nullopt;
      break;
    }
  }
}

nlohmann::json Scheduler::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [pair, e] : m_pairs) {
    nlohmann::json j = {{"consecutive_failures", e.failures}};
    if (e.schedule) {
      j["schedule"] = e.schedule->every_s > 0
                          ? "every " + config::format_duration(e.schedule->every_s)
                          : "cron " + e.schedule->cron;
      if (e.schedule->jitter_s > 0) j["jitter_s"] = e.schedule->jitter_s;
    } else {
      j["schedule"] = nullptr;
    }
    j["next_run"] = e.next ? nlohmann::json(*e.next) : nlohmann::json(nullptr);
    j["requested"] = e.requested;
    if (e.last) {
      j["last_result"] = to_string(*e.last);
      j["last_finished"] = e.last_finished;
    }
    out[pair] = j;
  }
  return out;
}

}  // namespace cw::serve
