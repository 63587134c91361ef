// Helpers shared by the tracker fakes (Trakt, SIMKL, MDBList, AniList, TMDb): time stamps in the
// formats those services print, id matching across id namespaces, JSON request/response plumbing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace cw::fakes::tracker {

using nlohmann::json;

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Formats epoch milliseconds as ISO-8601 UTC: Trakt prints milliseconds ("...:05.000Z"), SIMKL,
// MDBList and TMDb print whole seconds ("...:05Z").
inline std::string iso_utc(std::int64_t epoch_ms, bool with_millis) {
  std::time_t secs =
      static_cast<std::time_t>(epoch_ms >= 0 ? epoch_ms / 1000 : -((-epoch_ms + 999) / 1000));
  std::tm tm_utc{};
  gmtime_r(&secs, &tm_utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm_utc);
  std::string out = buf;
  if (with_millis) {
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(((epoch_ms % 1000) + 1000) % 1000));
    out += ms;
  }
  out += 'Z';
  return out;
}

// Parses the ISO-8601 forms clients send: "2026-01-05T20:31:12Z", "...12.345Z", "...+00:00",
// "2026-01-05" (midnight). Returns epoch milliseconds.
inline std::optional<std::int64_t> parse_iso(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  double second = 0;
  if (text.size() < 10) return std::nullopt;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d", &year, &month, &day) != 3) return std::nullopt;
  std::size_t pos = 10;
  if (text.size() > 10 && (text[10] == 'T' || text[10] == ' ')) {
    int consumed = 0;
    if (std::sscanf(text.c_str() + 11, "%2d:%2d%n", &hour, &minute, &consumed) != 2)
      return std::nullopt;
    pos = 11 + static_cast<std::size_t>(consumed);
    if (pos < text.size() && text[pos] == ':') {
      int c2 = 0;
      if (std::sscanf(text.c_str() + pos + 1, "%lf%n", &second, &c2) != 1) return std::nullopt;
      pos += 1 + static_cast<std::size_t>(c2);
    }
  }
  int offset_min = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) >= 1) {
      offset_min = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59)
    return std::nullopt;
  std::tm tm_utc{};
  tm_utc.tm_year = year - 1900;
  tm_utc.tm_mon = month - 1;
  tm_utc.tm_mday = day;
  tm_utc.tm_hour = hour;
  tm_utc.tm_min = minute;
  const std::int64_t secs = static_cast<std::int64_t>(timegm(&tm_utc));
  return (secs - offset_min * 60) * 1000 + static_cast<std::int64_t>(second * 1000.0 + 0.5);
}

// Hands out strictly increasing time stamps, so that every write moves a service's activity
// markers even when two writes land in the same millisecond (or second, for services that print
// whole seconds).
class StampClock {
 public:
  explicit StampClock(std::int64_t resolution_ms = 1) : m_resolution_ms(resolution_ms) {}
  // `clock_ms` is the service's clock (Context::now_ms, which tests can move forward).
  std::int64_t next(std::int64_t clock_ms) {
    std::lock_guard lock(m_mutex);
    std::int64_t now = clock_ms / m_resolution_ms * m_resolution_ms;
    if (now <= m_last) now = m_last + m_resolution_ms;
    m_last = now;
    return now;
  }
  void reset() {
    std::lock_guard lock(m_mutex);
    m_last = 0;
  }

 private:
  std::mutex m_mutex;
  std::int64_t m_resolution_ms;
  std::int64_t m_last = 0;
};

// Id values arrive as numbers or strings ("tvdb": 81189 vs "tvdb": "81189"); compare as text.
inline std::string id_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_number_float())
    return std::to_string(static_cast<std::int64_t>(value.get<double>()));
  return {};
}

// Two ids objects name the same title when they share any non-empty id (slug included).
inline bool ids_match(const json& a, const json& b) {
  if (!a.is_object() || !b.is_object()) return false;
  for (const auto& [key, value] : a.items()) {
    const std::string text = id_text(value);
    if (text.empty()) continue;
    auto it = b.find(key);
    if (it != b.end() && id_text(*it) == text) return true;
  }
  return false;
}

inline std::optional<json> parse_json_body(const httplib::Request& req) {
  if (req.body.empty()) return std::nullopt;
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return std::nullopt;
  return body;
}

// A string field, or "" when it is absent, null or not a string (json::value throws on null).
inline std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::optional<long long> int_param(const httplib::Request& req, const std::string& name) {
  if (!req.has_param(name.c_str())) return std::nullopt;
  const std::string text = req.get_param_value(name.c_str());
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return std::nullopt;
  return value;
}

inline json array_or_empty(const json& obj, const char* key) {
  if (obj.is_object()) {
    auto it = obj.find(key);
    if (it != obj.end() && it->is_array()) return *it;
  }
  return json::array();
}

// Answers every request no route of the service took (any method) with `handler`: the service's
// own not-found reply. Registered after the service's routes; the framework's control routes
// come before them, so they are never shadowed.
template <typename Handler>
void serve_unrouted(httplib::Server& srv, Handler handler) {
  const char* k_any = R"(/.*)";
  srv.Get(k_any, handler);
  srv.Post(k_any, handler);
  srv.Put(k_any, handler);
  srv.Patch(k_any, handler);
  srv.Delete(k_any, handler);
  srv.Options(k_any, handler);
}

// A random-looking token for issued credentials; tests only need them unique per fake.
inline std::string make_token(const std::string& prefix, std::uint64_t counter) {
  std::uint64_t x = static_cast<std::uint64_t>(now_ms()) * 6364136223846793005ULL +
                    counter * 1442695040888963407ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%04llx", static_cast<unsigned long long>(x),
                static_cast<unsigned long long>(counter & 0xffff));
  return prefix + buf;
}

}  // namespace cw::fakes::tracker

namespace cw::fakes::tracker {

// Copies the listed ids from a generated universe item (all values strings there) into the
// form a service prints: numeric ids as JSON integers, the rest as strings.
inline json pick_ids(const json& ids, std::initializer_list<const char*> numeric,
                     std::initializer_list<const char*> text) {
  json out = json::object();
  if (!ids.is_object()) return out;
  for (const char* k : numeric) {
    auto it = ids.find(k);
    if (it == ids.end()) continue;
    const std::string s = id_text(*it);
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0') {
      out[k] = v;
    } else if (!s.empty()) {
      out[k] = s;
    }
  }
  for (const char* k : text) {
    auto it = ids.find(k);
    if (it != ids.end() && !id_text(*it).empty()) out[k] = id_text(*it);
  }
  return out;
}

// Key of a universe item for lookups: "<type>:<trakt id or first id>".
inline std::string universe_key(const json& item) {
  const std::string type = item.value("type", "");
  const json ids = item.value("ids", json::object());
  for (const char* k : {"trakt", "tmdb", "imdb", "tvdb"}) {
    auto it = ids.find(k);
    if (it != ids.end()) return type + ":" + k + ":" + id_text(*it);
  }
  return type + ":" + item.value("title", "");
}

}  // namespace cw::fakes::tracker
