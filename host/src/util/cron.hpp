#pragma once
// Cron expressions: the five fields of crontab(5) (minute hour day-of-month month
// day-of-week) with `*`, lists, ranges, steps and the names jan..dec and sun..sat, plus the
// shorthands @hourly, @daily, @weekly, @monthly, @yearly. Times are UTC: a server and the
// status page then agree with the run reports, which are in UTC too.
//
// As in cron, when both day fields are restricted a day matches either of them.

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include <cw/util/result.hpp>

namespace cw::util {

class CronExpr {
 public:
  // "*/15 * * * *", "0 3 * * mon-fri", "@daily". The error says which field is wrong.
  static Result<CronExpr> parse(const std::string& text);
  // The first matching minute strictly after `after_s` (Unix seconds), in Unix seconds;
  // nullopt when none within the next eight years (a date that never comes, like 31 feb).
  std::optional<std::int64_t> next_after(std::int64_t after_s) const;
  const std::string& text() const { return m_text; }

 private:
  std::string m_text;
  std::bitset<60> m_minutes;
  std::bitset<24> m_hours;
  std::bitset<32> m_days;     // 1..31
  std::bitset<13> m_months;   // 1..12
  std::bitset<7> m_weekdays;  // 0 = Sunday
  bool m_any_day = true;      // day-of-month is `*`
  bool m_any_weekday = true;  // day-of-week is `*`
};

}  // namespace cw::util
