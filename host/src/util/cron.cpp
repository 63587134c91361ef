#include <array>
#include <cctype>
#include <sstream>
#include <vector>

#include <cw/util/cron.hpp>

namespace cw::util {
namespace {

constexpr std::array<const char*, 12> k_months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> k_weekdays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Field {
  const char* name;
  int lo;
  int hi;
  const char* const* names;  // nullptr, or the spellings of lo..lo+count-1
  int name_count;
};

std::optional<int> parse_value(const std::string& s, const Field& f) {
  if (s.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    int v = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    // Sunday may be written 7, as in Vixie cron.
    if (f.names == k_weekdays.data() && v == 7) v = 0;
    if (v < f.lo || v > f.hi) return std::nullopt;
    return v;
  }
  if (f.names == nullptr) return std::nullopt;
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < f.name_count; ++i)
    if (lower == f.names[i]) return f.names == k_months.data() ? i + 1 : i;
  return std::nullopt;
}

// Sets the bits of one field; false when it does not parse.
template <std::size_t N>
bool parse_field(const std::string& text, const Field& f, std::bitset<N>& bits) {
  std::stringstream list(text);
  std::string part;
  while (std::getline(list, part, ',')) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      const std::string s = part.substr(slash + 1);
      if (s.empty() || s.size() > 3) return false;
      step = 0;
      for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        step = step * 10 + (c - '0');
      }
      if (step == 0) return false;
      part = part.substr(0, slash);
    }
    int lo = f.lo, hi = f.hi;
    if (part != "*") {
      const auto dash = part.find('-');
      auto a = parse_value(part.substr(0, dash), f);
      if (!a) return false;
      lo = hi = *a;
      if (dash != std::string::npos) {
        auto b = parse_value(part.substr(dash + 1), f);
        if (!b) return false;
        hi = *b;
        // "fri-sun": Sunday is 0 once parsed; count it as 7 for the range.
        if (f.names == k_weekdays.data() && hi == 0 && lo > 0) hi = 7;
        if (hi < lo) return false;
      } else if (step > 1) {
        hi = f.hi;  // "5/15" means 5-59/15
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v % (f.hi + 1)));
  }
  return true;
}

// Days since 1970-01-01 to civil date (H. Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

}  // namespace

Result<CronExpr> CronExpr::parse(const std::string& text) {
  std::string spec = text;
  if (spec == "@hourly")
    spec = "0 * * * *";
  else if (spec == "@daily" || spec == "@midnight")
    spec = "0 0 * * *";
  else if (spec == "@weekly")
    spec = "0 0 * * 0";
  else if (spec == "@monthly")
    spec = "0 0 1 * *";
  else if (spec == "@yearly" || spec == "@annually")
    spec = "0 0 1 1 *";
  std::vector<std::string> parts;
  std::stringstream ss(spec);
  for (std::string p; ss >> p;) parts.push_back(p);
  if (parts.size() != 5)
    return make_error(
        "expected five fields (minute hour day-of-month month day-of-week) or "
        "@hourly/@daily/@weekly/@monthly/@yearly, got \"" +
            text + "\"",
        ErrorKind::invalid_arg);
  CronExpr c;
  c.m_text = text;
  const Field fields[5] = {{"minute", 0, 59, nullptr, 0},
                           {"hour", 0, 23, nullptr, 0},
                           {"day-of-month", 1, 31, nullptr, 0},
                           {"month", 1, 12, k_months.data(), 12},
                           {"day-of-week", 0, 6, k_weekdays.data(), 7}};
  bool ok[5] = {
      parse_field(parts[0], fields[0], c.m_minutes), parse_field(parts[1], fields[1], c.m_hours),
      parse_field(parts[2], fields[2], c.m_days), parse_field(parts[3], fields[3], c.m_months),
      parse_field(parts[4], fields[4], c.m_weekdays)};
  for (int i = 0; i < 5; ++i)
    if (!ok[i])
      return make_error(std::string("cron field ") + fields[i].name + " \"" + parts[i] +
                            "\" is not valid (values " + std::to_string(fields[i].lo) + "-" +
                            std::to_string(fields[i].hi) + ", *, lists, ranges, /steps" +
                            (fields[i].names ? ", names" : "") + ")",
                        ErrorKind::invalid_arg);
  c.m_any_day = parts[2].front() == '*';
  c.m_any_weekday = parts[4].front() == '*';
  return c;
}

std::optional<std::int64_t> CronExpr::next_after(std::int64_t after_s) const {
  // Walk day by day, then hour and minute within a matching day: at most ~3000 days.
  std::int64_t t = (after_s / 60 + 1) * 60;
  if (t < 0) return std::nullopt;
  std::int64_t day = t / 86400;
  int start_minute = static_cast<int>((t % 86400) / 60);
  for (int n = 0; n < 366 * 8 + 2; ++n, ++day, start_minute = 0) {
    int y, m, d;
    civil_from_days(day, y, m, d);
    const int weekday = static_cast<int>((day + 4) % 7);  // 1970-01-01 was a Thursday
    if (!m_months.test(static_cast<std::size_t>(m))) continue;
    const bool dom = m_days.test(static_cast<std::size_t>(d));
    const bool dow = m_weekdays.test(static_cast<std::size_t>(weekday));
    bool day_ok;
    if (m_any_day && m_any_weekday)
      day_ok = true;
    else if (m_any_day)
      day_ok = dow;
    else if (m_any_weekday)
      day_ok = dom;
    else
      day_ok = dom || dow;
    if (!day_ok) continue;
    for (int minute = start_minute; minute < 24 * 60; ++minute) {
      if (m_hours.test(static_cast<std::size_t>(minute / 60)) &&
          m_minutes.test(static_cast<std::size_t>(minute % 60)))
        return day * 86400 + minute * 60;
    }
  }
  return std::nullopt;
}

}  // namespace cw::util
