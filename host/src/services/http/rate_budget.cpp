#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <thread>

#include <curl/curl.h>

#include <cw/services/http/rate_budget.hpp>
#include <cw/util/strings.hpp>

namespace cw::services {

// ---- header parsing ---------------------------------------------------------------------

std::optional<std::int64_t> parse_retry_after(std::string_view value, std::int64_t wall_now_ms) {
  const std::string v(util::trim(value));
  if (v.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '.') {
    std::size_t used = 0;
    double secs = 0;
    try {
      secs = std::stod(v, &used);
    } catch (...) {
      return std::nullopt;
    }
    if (used != v.size() || !std::isfinite(secs) || secs < 0) return std::nullopt;
    return static_cast<std::int64_t>(std::min(secs, 1e9) * 1000.0);
  }
  const time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::max<std::int64_t>(0, static_cast<std::int64_t>(when) * 1000 - wall_now_ms);
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view value) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double s = 0;
  const std::string v(util::trim(value));
  if (std::sscanf(v.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf", &y, &mo, &d, &h, &mi, &s) != 6)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(t) * 1000 + static_cast<std::int64_t>(s * 1000.0);
}

const std::string* find_header(const HeaderList& headers, std::string_view lower_name) {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return &v;
  return nullptr;
}

namespace {

std::optional<double> to_number(const std::string* s) {
  if (s == nullptr) return std::nullopt;
  const std::string v(util::trim(*s));
  try {
    std::size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == 0 || !std::isfinite(d)) return std::nullopt;
    return d;
  } catch (...) {
    return std::nullopt;
  }
}

std::string seconds_text(std::int64_t ms) { return std::to_string((ms + 999) / 1000) + " s"; }

}  // namespace

// ---- RateBudget -------------------------------------------------------------------------

RateBudget::RateBudget(std::string instance, std::vector<config::RateLimitSpec> limits,
                       std::int64_t max_requests_per_run, std::int64_t now_ms)
    : m_instance(std::move(instance)), m_max_requests(max_requests_per_run) {
  for (auto& spec : limits) {
    Bucket b;
    b.tokens = spec.requests;
    b.last_ms = now_ms;
    b.spec = std::move(spec);
    m_buckets.push_back(std::move(b));
  }
}

bool RateBudget::applies(const Bucket& b, std::string_view method,
                         std::string_view endpoint) const {
  if (!b.spec.methods.empty() &&
      std::find(b.spec.methods.begin(), b.spec.methods.end(), method) == b.spec.methods.end())
    return false;
  if (b.spec.endpoints.empty()) return true;
  for (const auto& e : b.spec.endpoints) {
    if (!e.empty() && e.back() == '*') {
      if (endpoint.substr(0, e.size() - 1) == std::string_view(e).substr(0, e.size() - 1))
        return true;
    } else if (endpoint == e) {
      return true;
    }
  }
  return false;
}

void RateBudget::refill(Bucket& b, std::int64_t now_ms) const {
  if (now_ms <= b.last_ms) return;
  const double rate_per_ms = b.spec.requests / (b.spec.per_seconds * 1000.0);
  b.tokens =
      std::min(b.spec.requests, b.tokens + rate_per_ms * static_cast<double>(now_ms - b.last_ms));
  b.last_ms = now_ms;
}

std::string RateBudget::describe(const Bucket& b) const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s: %g per %g s", b.spec.name.c_str(), b.spec.requests,
                b.spec.per_seconds);
  return buf;
}

Status RateBudget::acquire(std::string_view method, std::string_view endpoint, const Clock& clock,
                           std::int64_t max_wait_ms, const CancelToken* cancelled) {
  for (;;) {
    if (cancelled != nullptr && cancelled->cancelled())
      return make_error(m_instance + ": cancelled", ErrorKind::cancelled);
    std::int64_t wait = 0;
    std::string why;
    {
      std::lock_guard lock(m_mutex);
      if (m_max_requests > 0 && m_requests >= m_max_requests) {
        ++m_refused;
        m_exhausted = true;
        return make_error(m_instance + ": this run's request budget (max_requests_per_run " +
                              std::to_string(m_max_requests) +
                              ") is spent; the remaining work is left for the next run",
                          ErrorKind::rate_limited);
      }
      const std::int64_t now = clock.steady_ms();
      if (m_blocked_until_ms > now) {
        wait = m_blocked_until_ms - now;
        why = "the service asked to wait";
      }
      for (auto& b : m_buckets) {
        if (!applies(b, method, endpoint)) continue;
        refill(b, now);
        std::int64_t w = 0;
        if (b.blocked_until_ms > now) w = b.blocked_until_ms - now;
        if (b.tokens < 1.0) {
          const double rate_per_ms = b.spec.requests / (b.spec.per_seconds * 1000.0);
          w = std::max<std::int64_t>(
              w, static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / rate_per_ms)));
        }
        if (w > wait) {
          wait = w;
          why = describe(b);
        }
      }
      if (wait <= 0) {
        for (auto& b : m_buckets)
          if (applies(b, method, endpoint)) b.tokens -= 1.0;
        ++m_requests;
        return ok_status();
      }
      if (wait > max_wait_ms) {
        ++m_refused;
        m_exhausted = true;
        Error e = make_error(m_instance + ": rate budget spent (" + why + "); next request in " +
                                 seconds_text(wait) +
                                 ", which is beyond max_wait_ms; the remaining work is left for "
                                 "the next run",
                             ErrorKind::rate_limited);
        e.retry_after_ms = wait;
        return e;
      }
      m_waited_ms += wait;
    }
    if (!clock.sleep_ms(wait, cancelled))
      return make_error(m_instance + ": cancelled while waiting for the rate budget",
                        ErrorKind::cancelled);
  }
}

void RateBudget::observe(std::string_view method, std::string_view endpoint, int status,
                         const HeaderList& headers, const Clock& clock) {
  const std::int64_t now = clock.steady_ms();
  const std::int64_t wall = clock.now_ms();
  std::lock_guard lock(m_mutex);

  auto block_matching = [&](std::int64_t until) {
    bool any = false;
    for (auto& b : m_buckets)
      if (applies(b, method, endpoint)) {
        b.blocked_until_ms = std::max(b.blocked_until_ms, until);
        b.tokens = std::min(b.tokens, 0.0);
        any = true;
      }
    if (!any) m_blocked_until_ms = std::max(m_blocked_until_ms, until);
  };

  // Trakt: X-Ratelimit: {"name":..,"period":300,"limit":500,"remaining":0,"until":"..."}
  if (const std::string* xr = find_header(headers, "x-ratelimit"); xr != nullptr) {
    const auto doc = nlohmann::json::parse(*xr, nullptr, false);
    if (doc.is_object()) {
      const double period = doc.value("period", 0.0);
      const double limit = doc.value("limit", 0.0);
      const double remaining = doc.contains("remaining") && doc["remaining"].is_number()
                                   ? doc["remaining"].get<double>()
                                   : -1.0;
      for (auto& b : m_buckets) {
        if (!applies(b, method, endpoint)) continue;
        if (period > 0 && limit > 0) {
          b.spec.per_seconds = period;
          b.spec.requests = limit;
        }
        if (remaining >= 0) b.tokens = std::min(b.tokens, remaining);
      }
      if (remaining == 0 && doc.contains("until") && doc["until"].is_string())
        if (auto until = parse_iso8601_ms(doc["until"].get<std::string>()))
          block_matching(now + std::max<std::int64_t>(0, *until - wall));
    }
  }

  // X-RateLimit-Limit/Remaining/Reset (AniList, SIMKL, many others) and the IETF RateLimit-*.
  const std::string* lim = find_header(headers, "x-ratelimit-limit");
  if (lim == nullptr) lim = find_header(headers, "ratelimit-limit");
  const std::string* rem = find_header(headers, "x-ratelimit-remaining");
  if (rem == nullptr) rem = find_header(headers, "ratelimit-remaining");
  const std::string* rst = find_header(headers, "x-ratelimit-reset");
  if (rst == nullptr) rst = find_header(headers, "ratelimit-reset");
  const auto limit = to_number(lim);
  const auto remaining = to_number(rem);
  const auto reset = to_number(rst);
  if (limit && *limit > 0)
    for (auto& b : m_buckets)
      // The service lowered its limit (AniList 90 -> 30 while degraded): follow it.
      if (applies(b, method, endpoint) && *limit < b.spec.requests) {
        b.spec.requests = *limit;
        b.tokens = std::min(b.tokens, *limit);
      }
  if (remaining)
    for (auto& b : m_buckets)
      if (applies(b, method, endpoint)) b.tokens = std::min(b.tokens, *remaining);
  if (remaining && *remaining <= 0 && reset) {
    // A reset above 10^9 is an epoch time in seconds, below it a delay in seconds.
    const std::int64_t delay = *reset > 1e9 ? static_cast<std::int64_t>(*reset * 1000.0) - wall
                                            : static_cast<std::int64_t>(*reset * 1000.0);
    block_matching(now + std::max<std::int64_t>(0, delay));
  }

  if (status == 429 || status == 503) {
    if (const std::string* ra = find_header(headers, "retry-after"); ra != nullptr)
      if (auto ms = parse_retry_after(*ra, wall)) block_matching(now + *ms);
  }
}

nlohmann::json RateBudget::to_json(std::int64_t now_ms) const {
  std::lock_guard lock(m_mutex);
  nlohmann::json buckets = nlohmann::json::array();
  for (auto b : m_buckets) {
    refill(b, now_ms);
    buckets.push_back({{"name", b.spec.name},
                       {"methods", b.spec.methods},
                       {"requests", b.spec.requests},
                       {"per_seconds", b.spec.per_seconds},
                       {"available", std::floor(std::max(0.0, b.tokens))}});
  }
  nlohmann::json out = {{"requests", m_requests},
                        {"refused", m_refused},
                        {"waited_ms", m_waited_ms},
                        {"exhausted", m_exhausted},
                        {"buckets", buckets}};
  if (m_max_requests > 0) out["max_requests_per_run"] = m_max_requests;
  return out;
}

std::int64_t RateBudget::refused() const {
  std::lock_guard lock(m_mutex);
  return m_refused;
}

bool RateBudget::exhausted() const {
  std::lock_guard lock(m_mutex);
  return m_exhausted;
}

}  // namespace cw::services
