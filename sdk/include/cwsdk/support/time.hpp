// cwsdk/support/time.hpp: every date and time form the services send, to one instant.
//
// An instant is `std::int64_t` milliseconds since 1970-01-01T00:00:00Z (what
// Host::now_ms() returns). Every parser returns std::nullopt for anything it cannot read
// exactly; none throws. The cw engine reads item timestamps with parse_timestamp(), so
// plugins and host agree on every form.
//
//   parse_rfc3339("2024-01-02T03:04:05.1234567+02:00")   // any fraction, any offset
//   parse_naive("2024-01-02 03:04:05", -300)              // no zone in the text: UTC-05:00
//   parse_date("2024-01-02")                              // midnight UTC
//   parse_timestamp(text)                                 // lenient: any of the above, naive
//                                                         // as UTC, epoch seconds or ms digits
//   from_epoch_seconds(1704164645), from_epoch_ms(...)    // numbers in replies
//   from_dotnet_ticks(638397614450000000)                 // Jellyfin/Emby DateTime ticks
//   ticks_to_ms(PlaybackPositionTicks)                    // Jellyfin/Emby durations
//   from_fuzzy_date(json)                                 // AniList {year, month, day}
//   parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")      // Retry-After, Date
//   format_rfc3339(ms)                                    // "2024-01-02T03:04:05Z" (UTC;
//                                                         // ".123" only when ms != 0)
//
// Accepted date-time text (parse_rfc3339 needs the zone, parse_naive and parse_timestamp
// do not): `YYYY-MM-DD` `T`, `t` or one space `hh:mm[:ss[.f...]]` then `Z`, `z`, `±hh`,
// `±hhmm` or `±hh:mm`. Fractions of any length are read to the millisecond (truncated);
// `,` is accepted as the decimal mark. Calendar dates are checked (no 2023-02-29), and
// second 60 (a leap second) is read as the next second.
#ifndef CWSDK_SUPPORT_TIME_HPP
#define CWSDK_SUPPORT_TIME_HPP

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cwsdk {

namespace detail {

// Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian, no tz database.
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

inline unsigned days_in_month(std::int64_t y, unsigned m) {
  static const unsigned k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) {
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return k_days[m - 1];
}

inline bool valid_date(std::int64_t y, int m, int d) {
  return m >= 1 && m <= 12 && d >= 1 && static_cast<unsigned>(d) <= days_in_month(y, m);
}

inline std::int64_t civil_ms(std::int64_t y, int mo, int d, int h, int mi, int s, int ms) {
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + s) * 1000) + ms;
}

inline std::string_view trim_time_text(std::string_view t) {
  while (!t.empty() &&
         (t.front() == ' ' || t.front() == '\t' || t.front() == '\n' || t.front() == '\r'))
    t.remove_prefix(1);
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r'))
    t.remove_suffix(1);
  return t;
}

class TimeCursor {
 public:
  explicit TimeCursor(std::string_view s) : m_s(s) {}
  bool done() const { return m_pos >= m_s.size(); }
  char peek() const { return done() ? '\0' : m_s[m_pos]; }
  void skip() { ++m_pos; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++m_pos;
    return true;
  }
  bool digit() const { return !done() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9'; }
  // Exactly `n` digits.
  bool digits(int n, int& out) {
    out = 0;
    for (int i = 0; i < n; ++i) {
      if (!digit()) return false;
      out = out * 10 + (m_s[m_pos++] - '0');
    }
    return true;
  }

 private:
  std::string_view m_s;
  std::size_t m_pos = 0;
};

// The one date-time reader. `default_offset_min`: used when the text has no zone; without
// it, a text without a zone is refused. A bare date is accepted only with a default.
inline std::optional<std::int64_t> parse_datetime(std::string_view text,
                                                  std::optional<int> default_offset_min) {
  text = trim_time_text(text);
  TimeCursor c(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!c.digits(4, year) || !c.eat('-') || !c.digits(2, month) || !c.eat('-') || !c.digits(2, day))
    return std::nullopt;
  if (!valid_date(year, month, day)) return std::nullopt;
  std::optional<int> offset_min = default_offset_min;
  if (c.done()) {
    if (!default_offset_min) return std::nullopt;
  } else {
    if (!c.eat('T') && !c.eat('t') && !c.eat(' ')) return std::nullopt;
    if (!c.digits(2, hour) || !c.eat(':') || !c.digits(2, minute)) return std::nullopt;
    if (c.eat(':')) {
      if (!c.digits(2, second)) return std::nullopt;
      if (c.eat('.') || c.eat(',')) {
        if (!c.digit()) return std::nullopt;
        int scale = 100;
        while (c.digit()) {
          int d = 0;
          c.digits(1, d);
          millis += d * scale;
          scale /= 10;
        }
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (c.eat('Z') || c.eat('z')) {
      offset_min = 0;
    } else if (c.peek() == '+' || c.peek() == '-') {
      const int sign = c.peek() == '-' ? -1 : 1;
      c.skip();
      int oh = 0, om = 0;
      if (!c.digits(2, oh)) return std::nullopt;
      if (c.eat(':')) {
        if (!c.digits(2, om)) return std::nullopt;
      } else if (!c.done()) {
        if (!c.digits(2, om)) return std::nullopt;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset_min = sign * (oh * 60 + om);
    }
    if (!c.done() || !offset_min) return std::nullopt;
  }
  return civil_ms(year, month, day, hour, minute, second, millis) -
         static_cast<std::int64_t>(*offset_min) * 60000;
}

}  // namespace detail

// RFC 3339 / ISO 8601 with a zone (`Z` or an offset). See the top for the accepted forms.
inline std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  return detail::parse_datetime(text, std::nullopt);
}

// A date-time that may lack a zone; without one it is read at `offset_minutes` east of
// UTC (0: UTC; a server's local time at -300 is UTC-05:00). A bare date is midnight there.
inline std::optional<std::int64_t> parse_naive(std::string_view text, int offset_minutes = 0) {
  if (offset_minutes < -24 * 60 || offset_minutes > 24 * 60) return std::nullopt;
  return detail::parse_datetime(text, offset_minutes);
}

// `YYYY-MM-DD` alone, as midnight UTC.
inline std::optional<std::int64_t> parse_date(std::string_view text) {
  text = detail::trim_time_text(text);
  if (text.size() != 10) return std::nullopt;
  return detail::parse_datetime(text, 0);
}

inline std::optional<std::int64_t> from_epoch_seconds(std::int64_t seconds) {
  if (seconds < -62135596800LL || seconds > 253402300799LL) return std::nullopt;  // years 1..9999
  return seconds * 1000;
}
inline std::optional<std::int64_t> from_epoch_seconds(double seconds) {
  if (!std::isfinite(seconds)) return std::nullopt;
  const double ms = std::floor(seconds * 1000.0);
  if (ms < -62135596800000.0 || ms > 253402300799999.0) return std::nullopt;
  return static_cast<std::int64_t>(ms);
}
inline std::optional<std::int64_t> from_epoch_ms(std::int64_t ms) {
  if (ms < -62135596800000LL || ms > 253402300799999LL) return std::nullopt;
  return ms;
}

// .NET DateTime ticks (100 ns since 0001-01-01T00:00:00Z), as Jellyfin and Emby write
// dates in some replies. 0 (DateTime.MinValue) means "no date": nullopt.
inline std::optional<std::int64_t> from_dotnet_ticks(std::int64_t ticks) {
  constexpr std::int64_t k_epoch_ticks = 621355968000000000LL;  // 1970-01-01 in ticks
  if (ticks <= 0 || ticks > 3155378975999999999LL) return std::nullopt;
  const std::int64_t rel = ticks - k_epoch_ticks;
  // Floor division, so that instants before 1970 round down like the others.
  std::int64_t ms = rel / 10000;
  if (rel % 10000 < 0) --ms;
  return ms;
}
// A .NET TimeSpan in ticks (PlaybackPositionTicks, RunTimeTicks) in milliseconds
// (truncated); negative durations are nullopt.
inline std::optional<std::int64_t> ticks_to_ms(std::int64_t ticks) {
  if (ticks < 0) return std::nullopt;
  return ticks / 10000;
}

// AniList's FuzzyDate {year, month, day}, any part null or absent. Without a year there is
// no date; a missing month reads as January 1, a missing day as the 1st. Midnight UTC.
inline std::optional<std::int64_t> from_fuzzy_date(std::optional<int> year,
                                                   std::optional<int> month,
                                                   std::optional<int> day) {
  if (!year || *year < 1 || *year > 9999) return std::nullopt;
  int m = 1, d = 1;
  if (month) {
    m = *month;
    if (day) d = *day;
  }
  if (!detail::valid_date(*year, m, d)) return std::nullopt;
  return detail::civil_ms(*year, m, d, 0, 0, 0, 0);
}
inline std::optional<std::int64_t> from_fuzzy_date(const nlohmann::json& fuzzy) {
  if (!fuzzy.is_object()) return std::nullopt;
  auto part = [&fuzzy](const char* name) -> std::optional<int> {
    const auto it = fuzzy.find(name);
    if (it == fuzzy.end() || !it->is_number_integer()) return std::nullopt;
    const auto v = it->get<std::int64_t>();
    if (v < 0 || v > 9999) return std::nullopt;
    return static_cast<int>(v);
  };
  // AniList writes 0 for an unknown part in some older entries; read it as absent.
  auto known = [](std::optional<int> v) { return v && *v > 0 ? v : std::nullopt; };
  return from_fuzzy_date(known(part("year")), known(part("month")), known(part("day")));
}

// The lenient reader the engine uses for item timestamps: RFC 3339, a naive date-time or
// bare date (read as UTC), or a digit string of epoch seconds (milliseconds when it has 13
// or more digits).
inline std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  text = detail::trim_time_text(text);
  if (text.empty()) return std::nullopt;
  bool all_digits = true;
  for (char ch : text) all_digits = all_digits && ch >= '0' && ch <= '9';
  if (all_digits) {
    if (text.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char ch : text) v = v * 10 + (ch - '0');
    return text.size() >= 13 ? from_epoch_ms(v) : from_epoch_seconds(v);
  }
  return detail::parse_datetime(text, 0);
}

// An HTTP date (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"), as in Retry-After.
inline std::optional<std::int64_t> parse_http_date(std::string_view text) {
  text = detail::trim_time_text(text);
  static const char* const k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto comma = text.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  text.remove_prefix(comma + 2);
  // "06 Nov 1994 08:49:37 GMT"
  if (text.size() != 24 || text.substr(21) != "GMT") return std::nullopt;
  detail::TimeCursor c(text);
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!c.digits(2, day) || !c.eat(' ')) return std::nullopt;
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (text.substr(3, 3) == k_months[i]) month = i + 1;
  }
  if (month == 0) return std::nullopt;
  detail::TimeCursor rest(text.substr(6));
  if (!rest.eat(' ') || !rest.digits(4, year) || !rest.eat(' ') || !rest.digits(2, hour) ||
      !rest.eat(':') || !rest.digits(2, minute) || !rest.eat(':') || !rest.digits(2, second))
    return std::nullopt;
  if (!detail::valid_date(year, month, day) || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  return detail::civil_ms(year, month, day, hour, minute, second, 0);
}

// UTC RFC 3339: "2024-01-02T03:04:05Z", or "...05.123Z" when the instant has milliseconds.
inline std::string format_rfc3339(std::int64_t ms) {
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  detail::civil_from_days(days, y, m, d);
  char buf[96];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                  d, static_cast<int>(rem / 3600), static_cast<int>(rem % 3600 / 60),
                  static_cast<int>(rem % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                  static_cast<int>(rem % 3600 / 60), static_cast<int>(rem % 60),
                  static_cast<int>(frac));
  }
  return buf;
}

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_TIME_HPP
