// util::CronExpr: the fields of crontab(5), in UTC.
#include <gtest/gtest.h>

#include <cw/engine/time.hpp>
#include <cw/util/cron.hpp>

namespace cw::util {
namespace {

std::int64_t at(const char* iso) { return *engine::parse_time(iso); }
std::string next(const char* expr, const char* after) {
  auto c = CronExpr::parse(expr);
  EXPECT_TRUE(c.ok()) << (c ? "" : c.error().message);
  if (!c) return "";
  auto t = c->next_after(at(after));
  return t ? engine::format_time(*t) : "never";
}

TEST(Cron, EveryFifteenMinutes) {
  EXPECT_EQ(next("*/15 * * * *", "2026-01-01T10:07:30Z"), "2026-01-01T10:15:00Z");
  // Strictly after: a time on the minute moves on.
  EXPECT_EQ(next("*/15 * * * *", "2026-01-01T10:15:00Z"), "2026-01-01T10:30:00Z");
}

TEST(Cron, RangesListsNamesAndShorthands) {
  // 2026-01-02 is a Friday; mon-fri at 03:30 skips the weekend.
  EXPECT_EQ(next("30 3 * * mon-fri", "2026-01-02T04:00:00Z"), "2026-01-05T03:30:00Z");
  EXPECT_EQ(next("0 0,12 * * *", "2026-01-01T00:00:00Z"), "2026-01-01T12:00:00Z");
  EXPECT_EQ(next("@daily", "2026-01-01T00:00:01Z"), "2026-01-02T00:00:00Z");
  EXPECT_EQ(next("0 0 1 jan *", "2026-03-01T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next("0 12 * * 7", "2026-01-01T00:00:00Z"), "2026-01-04T12:00:00Z");  // Sunday
  EXPECT_EQ(next("0 0 29 feb *", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00Z");
}

TEST(Cron, BothDayFieldsMatchEither) {
  // The 15th, or any Monday: 2026-01-05 is a Monday before the 15th.
  EXPECT_EQ(next("0 0 15 * mon", "2026-01-01T00:00:00Z"), "2026-01-05T00:00:00Z");
}

TEST(Cron, ImpossibleDateNeverComes) {
  EXPECT_EQ(next("0 0 31 feb *", "2026-01-01T00:00:00Z"), "never");
}

TEST(Cron, BadExpressionsNameTheField) {
  for (const char* bad : {"* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "* * 0 * *",
                          "* * * 13 *", "* * * * funday", "5-1 * * * *", "@often"}) {
    auto c = CronExpr::parse(bad);
    EXPECT_FALSE(c.ok()) << bad;
  }
  auto c = CronExpr::parse("0 25 * * *");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("hour"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace cw::util
