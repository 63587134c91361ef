#include <algorithm>
#include <cmath>
#include <ctime>
#include <stdexcept>

#include "core/fake_service.hpp"

namespace cw::fakes {

namespace {

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string cache_key(const httplib::Request& req) {
  return req.method + " " + req.path + "?" + query_string(req);
}

}  // namespace

void to_json(nlohmann::json& j, const FaultSpec& f) {
  j = nlohmann::json{{"endpoint", f.endpoint},
                     {"method", f.method},
                     {"status", f.status},
                     {"count", f.count},
                     {"retry_after_s", f.retry_after_s},
                     {"latency_ms", f.latency_ms},
                     {"slow_body_bytes_per_s", f.slow_body_bytes_per_s},
                     {"truncate_body", f.truncate_body},
                     {"malformed_body", f.malformed_body},
                     {"stale_reads", f.stale_reads},
                     {"page_cap", f.page_cap},
                     {"expire_token", f.expire_token},
                     {"rate_per_s", f.rate_per_s},
                     {"burst", f.burst},
                     {"every", f.every},
                     {"after_handling", f.after_handling}};
}

void from_json(const nlohmann::json& j, FaultSpec& f) {
  if (!j.is_object()) throw std::invalid_argument("fault: expected a JSON object");
  static const nlohmann::json k_defaults = FaultSpec{};
  for (const auto& [key, value] : j.items()) {
    if (!k_defaults.contains(key)) {
      throw std::invalid_argument("fault: unknown key '" + key + "'");
    }
    if (value.type() != k_defaults.at(key).type() &&
        !(value.is_number() && k_defaults.at(key).is_number())) {
      throw std::invalid_argument("fault: key '" + key + "' has the wrong type");
    }
  }
  FaultSpec d;
  f.endpoint = j.value("endpoint", d.endpoint);
  f.method = j.value("method", d.method);
  f.status = j.value("status", d.status);
  f.count = j.value("count", d.count);
  f.retry_after_s = j.value("retry_after_s", d.retry_after_s);
  f.latency_ms = j.value("latency_ms", d.latency_ms);
  f.slow_body_bytes_per_s = j.value("slow_body_bytes_per_s", d.slow_body_bytes_per_s);
  f.truncate_body = j.value("truncate_body", d.truncate_body);
  f.malformed_body = j.value("malformed_body", d.malformed_body);
  f.stale_reads = j.value("stale_reads", d.stale_reads);
  f.page_cap = j.value("page_cap", d.page_cap);
  f.expire_token = j.value("expire_token", d.expire_token);
  f.rate_per_s = j.value("rate_per_s", d.rate_per_s);
  f.burst = j.value("burst", d.burst);
  f.every = j.value("every", d.every);
  f.after_handling = j.value("after_handling", d.after_handling);
  if (f.every < 1) throw std::invalid_argument("fault: 'every' must be at least 1");
  if (f.after_handling && f.status == 0)
    throw std::invalid_argument("fault: 'after_handling' needs a 'status' to answer with");
}

nlohmann::json to_json_value(const RequestRecord& r) {
  return nlohmann::json{{"method", r.method},  {"path", r.path},     {"query", r.query},
                        {"body", r.body},      {"status", r.status}, {"at_ms", r.at_ms},
                        {"headers", r.headers}};
}

Context::Context(std::string service_name) : m_service(std::move(service_name)) {}

std::string Context::base_url() const {
  std::lock_guard lock(m_mutex);
  return m_base_url;
}

void Context::set_base_url(std::string url) {
  std::lock_guard lock(m_mutex);
  m_base_url = std::move(url);
}

void Context::set_valid_tokens(std::vector<std::string> tokens) {
  std::lock_guard lock(m_mutex);
  m_tokens = std::move(tokens);
}

void Context::add_valid_token(const std::string& token) {
  std::lock_guard lock(m_mutex);
  if (std::find(m_tokens.begin(), m_tokens.end(), token) == m_tokens.end()) {
    m_tokens.push_back(token);
  }
}

void Context::revoke_token(const std::string& token) {
  std::lock_guard lock(m_mutex);
  std::erase(m_tokens, token);
}

bool Context::is_known_token(const std::string& token) const {
  std::lock_guard lock(m_mutex);
  return !token.empty() && std::find(m_tokens.begin(), m_tokens.end(), token) != m_tokens.end();
}

// The decision of the current request is kept per worker thread: pre-routing, the handler and
// post-routing of one request all run on the same thread.
namespace {
thread_local const Context* t_ctx = nullptr;
thread_local Context::Decision t_decision;
}  // namespace

bool Context::token_expired(const httplib::Request& /*req*/) const {
  return t_ctx == this && t_decision.expire_token;
}

bool Context::token_valid(const httplib::Request& req, std::string_view token) const {
  if (token_expired(req)) return false;
  return is_known_token(std::string(token));
}

int Context::page_cap(const httplib::Request& /*req*/) const {
  return t_ctx == this ? t_decision.page_cap : 0;
}

Page Context::page(const httplib::Request& req, std::size_t total, std::size_t start,
                   std::size_t size) const {
  Page p;
  p.total = total;
  p.start = std::min(start, total);
  p.count = std::min(size, total - p.start);
  const int cap = page_cap(req);
  if (cap > 0) p.count = std::min<std::size_t>(p.count, static_cast<std::size_t>(cap));
  return p;
}

std::int64_t Context::now_ms() const {
  std::lock_guard lock(m_mutex);
  return wall_ms() + m_clock_offset_ms;
}

std::string Context::now_iso() const { return iso_from_ms(now_ms()); }

void Context::advance_clock(std::int64_t ms) {
  std::lock_guard lock(m_mutex);
  m_clock_offset_ms += ms;
}

void Context::reset_clock() {
  std::lock_guard lock(m_mutex);
  m_clock_offset_ms = 0;
}

Context::Decision Context::current() const { return t_ctx == this ? t_decision : Decision{}; }

void Context::note_write() {
  std::lock_guard lock(m_mutex);
  for (auto& f : m_faults) {
    if (f.spec.stale_reads > 0) f.stale_remaining = f.spec.stale_reads;
  }
}

void Context::add_fault(FaultSpec fault) {
  FaultState st;
  try {
    st.pattern = std::regex(fault.endpoint, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    throw std::invalid_argument("fault: endpoint '" + fault.endpoint +
                                "' is not a valid regular expression");
  }
  if (fault.rate_per_s > 0 && fault.burst < 1) fault.burst = 1;
  st.tokens = fault.burst;
  st.last_refill_ms = wall_ms();
  st.spec = std::move(fault);
  std::lock_guard lock(m_mutex);
  m_faults.push_back(std::move(st));
}

void Context::clear_faults() {
  std::lock_guard lock(m_mutex);
  m_faults.clear();
}

std::vector<FaultSpec> Context::faults() const {
  std::lock_guard lock(m_mutex);
  std::vector<FaultSpec> out;
  for (const auto& f : m_faults) out.push_back(f.spec);
  return out;
}

std::vector<RequestRecord> Context::requests() const {
  std::lock_guard lock(m_mutex);
  return m_log;
}

std::size_t Context::request_count(const std::string& path_regex, const std::string& method) const {
  const std::regex re(path_regex);
  std::lock_guard lock(m_mutex);
  return static_cast<std::size_t>(
      std::count_if(m_log.begin(), m_log.end(), [&](const RequestRecord& r) {
        return (method.empty() || r.method == method) && std::regex_search(r.path, re);
      }));
}

void Context::clear_requests() {
  std::lock_guard lock(m_mutex);
  m_log.clear();
}

void Context::record(RequestRecord rec) {
  std::lock_guard lock(m_mutex);
  m_log.push_back(std::move(rec));
}

bool Context::matches(const FaultState& f, const httplib::Request& req) const {
  if (!f.spec.method.empty() && f.spec.method != req.method) return false;
  return f.spec.endpoint.empty() || std::regex_search(req.path, f.pattern);
}

Context::Decision Context::decide(const httplib::Request& req) {
  Decision d;
  const bool is_read = req.method == "GET" || req.method == "HEAD";
  {
    std::lock_guard lock(m_mutex);
    const std::int64_t now = wall_ms();
    for (auto& f : m_faults) {
      if (f.spec.count == 0 || !matches(f, req)) continue;
      const FaultSpec& s = f.spec;
      // Only every Nth matching request is affected; the others do not spend `count`.
      if (s.every > 1 && ++f.seen % s.every != 0) continue;
      if (s.rate_per_s > 0) {
        const double elapsed_s = static_cast<double>(now - f.last_refill_ms) / 1000.0;
        f.tokens = std::min<double>(s.burst, f.tokens + elapsed_s * s.rate_per_s);
        f.last_refill_ms = now;
        if (f.tokens >= 1.0) {
          f.tokens -= 1.0;
        } else if (d.status == 0) {
          d.status = s.status != 0 ? s.status : 429;
          d.retry_after_s = s.retry_after_s >= 0
                                ? s.retry_after_s
                                : static_cast<int>(std::ceil((1.0 - f.tokens) / s.rate_per_s));
          if (f.spec.count > 0) --f.spec.count;
        }
        continue;
      }
      if (s.stale_reads > 0) {
        // Stale-read faults only act on reads after a write; they do not spend `count`.
        if (is_read && f.stale_remaining > 0) {
          auto it = f.cache.find(cache_key(req));
          if (it != f.cache.end() && !d.stale) {
            d.stale = it->second;
            --f.stale_remaining;
          }
        }
        continue;
      }
      if (s.after_handling) {
        if (d.late_status == 0) {
          d.late_status = s.status;
          d.retry_after_s = s.retry_after_s;
        }
      } else if (d.status == 0 && s.status != 0) {
        d.status = s.status;
        d.retry_after_s = s.retry_after_s;
      }
      d.latency_ms = std::max(d.latency_ms, s.latency_ms);
      if (s.slow_body_bytes_per_s > 0) d.slow_body_bytes_per_s = s.slow_body_bytes_per_s;
      d.truncate_body = d.truncate_body || s.truncate_body;
      d.malformed_body = d.malformed_body || s.malformed_body;
      d.expire_token = d.expire_token || s.expire_token;
      if (s.page_cap > 0) d.page_cap = s.page_cap;
      if (f.spec.count > 0) --f.spec.count;
    }
  }
  t_ctx = this;
  t_decision = d;
  return d;
}

void Context::after_response(const httplib::Request& req, const httplib::Response& res) {
  const bool is_read = req.method == "GET" || req.method == "HEAD";
  std::lock_guard lock(m_mutex);
  for (auto& f : m_faults) {
    if (f.spec.stale_reads <= 0) continue;
    if (is_read) {
      // Keep the last fresh answer of each read so that later stale reads can repeat it.
      if (f.stale_remaining == 0 && res.status < 400 && matches(f, req)) {
        f.cache[cache_key(req)] = {res.body, res.get_header_value("Content-Type")};
      }
    } else if (res.status < 400) {
      f.stale_remaining = f.spec.stale_reads;
    }
  }
  if (t_ctx == this) t_ctx = nullptr;
}

// ---------------------------------------------------------------- helpers

std::string query_string(const httplib::Request& req) {
  const auto q = req.target.find('?');
  return q == std::string::npos ? std::string() : req.target.substr(q + 1);
}

long long param_int(const httplib::Request& req, const std::string& key, long long def) {
  std::string v = req.has_param(key) ? req.get_param_value(key) : req.get_header_value(key);
  if (v.empty()) return def;
  try {
    std::size_t used = 0;
    const long long n = std::stoll(v, &used);
    return used == v.size() ? n : def;
  } catch (const std::exception&) {
    return def;
  }
}

std::string header_or_param(const httplib::Request& req, const std::string& header,
                            const std::string& param) {
  if (req.has_header(header)) return req.get_header_value(header);
  if (req.has_param(param)) return req.get_param_value(param);
  return {};
}

std::string bearer_token(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view k_prefix = "Bearer ";
  if (auth.size() > k_prefix.size() && auth.compare(0, k_prefix.size(), k_prefix) == 0) {
    return auth.substr(k_prefix.size());
  }
  return {};
}

void send_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

std::string iso_from_ms(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::optional<std::int64_t> ms_from_iso(std::string_view iso) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const std::string str(iso);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) {
    if (std::sscanf(str.c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3) return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  const auto dot = str.find('.');
  if (dot != std::string::npos && str.size() > dot + 1) {
    int frac = 0, digits = 0;
    for (std::size_t i = dot + 1; i < str.size() && digits < 3 && std::isdigit(str[i]); ++i) {
      frac = frac * 10 + (str[i] - '0');
      ++digits;
    }
    while (digits++ < 3) frac *= 10;
    ms += frac;
  }
  return ms;
}

}  // namespace cw::fakes
