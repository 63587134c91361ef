#pragma once
// Politeness: token buckets per provider instance, seeded from the manifest's rate_limits,
// overridden by configuration, and corrected at run time by what the service's headers say
// (Retry-After, X-RateLimit-*, RateLimit-*, Trakt's X-Ratelimit JSON). Time and waiting go
// through services::Clock, so that tests neither sleep nor depend on timing.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/http_options.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/http/http_service.hpp>
#include <cw/util/result.hpp>

namespace cw::services {

// Parses a Retry-After value: delta seconds (integer or decimal) or an HTTP date (IMF
// fixdate, RFC 850, asctime). Returns milliseconds from `wall_now_ms`, never negative.
std::optional<std::int64_t> parse_retry_after(std::string_view value, std::int64_t wall_now_ms);
// Parses an ISO-8601 UTC timestamp ("2026-03-01T10:05:00Z", fractions allowed) to epoch ms.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view value);

// Looks up a header (names are lower-case in HttpResponse).
const std::string* find_header(const HeaderList& headers, std::string_view lower_name);

class RateBudget {
 public:
  RateBudget(std::string instance, std::vector<config::RateLimitSpec> limits,
             std::int64_t max_requests_per_run, std::int64_t now_ms);

  // Takes one token from every bucket that applies to `method`, waiting (through `clock`)
  // as long as needed but never longer than `max_wait_ms` in one go. Errors:
  // rate_limited (the wait would be longer, or this run's request cap is spent; the error
  // carries retry_after_ms), cancelled.
  Status acquire(std::string_view method, std::string_view endpoint, const Clock& clock,
                 std::int64_t max_wait_ms, const CancelToken* cancelled);
  Status acquire(std::string_view method, const Clock& clock, std::int64_t max_wait_ms,
                 const CancelToken* cancelled) {
    return acquire(method, {}, clock, max_wait_ms, cancelled);
  }

  // Reads the rate-limit headers of a response to `method` and adjusts the buckets.
  void observe(std::string_view method, std::string_view endpoint, int status,
               const HeaderList& headers, const Clock& clock);
  void observe(std::string_view method, int status, const HeaderList& headers, const Clock& clock) {
    observe(method, {}, status, headers, clock);
  }

  // Summary for the run report: buckets, requests made, refusals, whether it ran dry.
  nlohmann::json to_json(std::int64_t now_ms) const;
  std::int64_t refused() const;
  bool exhausted() const;

 private:
  struct Bucket {
    config::RateLimitSpec spec;
    double tokens = 0;
    std::int64_t last_ms = 0;
    std::int64_t blocked_until_ms = 0;  // set from headers: no request before this
  };
  bool applies(const Bucket& b, std::string_view method, std::string_view endpoint) const;
  void refill(Bucket& b, std::int64_t now_ms) const;
  std::string describe(const Bucket& b) const;

  std::string m_instance;
  mutable std::mutex m_mutex;
  std::vector<Bucket> m_buckets;
  std::int64_t m_blocked_until_ms = 0;  // a 429 without a matching bucket blocks everything
  std::int64_t m_max_requests = 0;
  std::int64_t m_requests = 0;
  std::int64_t m_refused = 0;
  std::int64_t m_waited_ms = 0;
  bool m_exhausted = false;
};

}  // namespace cw::services
