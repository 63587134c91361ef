#include <cctype>
#include <cstdio>

#include <cw/engine/time.hpp>

namespace cw::engine {
namespace {

// Howard Hinnant's days_from_civil: proleptic Gregorian, no time zone database needed.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
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

class Cursor {
 public:
  explicit Cursor(std::string_view s) : m_s(s) {}
  bool done() const { return m_pos >= m_s.size(); }
  char peek() const { return done() ? '\0' : m_s[m_pos]; }
  void skip() { ++m_pos; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++m_pos;
    return true;
  }
  // Exactly `n` digits.
  bool digits(int n, int& out) {
    out = 0;
    for (int i = 0; i < n; ++i) {
      if (done() || !std::isdigit(static_cast<unsigned char>(m_s[m_pos]))) return false;
      out = out * 10 + (m_s[m_pos++] - '0');
    }
    return true;
  }

 private:
  std::string_view m_s;
  std::size_t m_pos = 0;
};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::optional<Instant> parse_time(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty()) return std::nullopt;

  if (all_digits(text)) {
    if (text.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : text) v = v * 10 + (c - '0');
    if (text.size() >= 13) v /= 1000;  // epoch milliseconds
    if (v <= 0) return std::nullopt;
    return v;
  }

  Cursor c(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!c.digits(4, year) || !c.eat('-') || !c.digits(2, month) || !c.eat('-') || !c.digits(2, day))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  std::int64_t offset_s = 0;
  if (!c.done()) {
    if (!c.eat('T') && !c.eat('t') && !c.eat(' ')) return std::nullopt;
    if (!c.digits(2, hour) || !c.eat(':') || !c.digits(2, minute)) return std::nullopt;
    if (c.eat(':')) {
      if (!c.digits(2, second)) return std::nullopt;
      if (c.eat('.') || c.eat(',')) {
        // Fractions of any length (Emby sends 7 digits) are dropped: instants are seconds.
        int ignored = 0;
        if (!c.digits(1, ignored)) return std::nullopt;
        while (std::isdigit(static_cast<unsigned char>(c.peek()))) c.skip();
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (c.eat('Z') || c.eat('z')) {
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
      offset_s = sign * (oh * 3600 + om * 60);
    }
    if (!c.done()) return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t t = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  if (t <= 0) return std::nullopt;
  return t;
}

std::string format_time(Instant t) {
  std::int64_t days = t / 86400;
  std::int64_t rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                d, static_cast<int>(rem / 3600), static_cast<int>(rem % 3600 / 60),
                static_cast<int>(rem % 60));
  return buf;
}

}  // namespace cw::engine
