// serve::Scheduler: when pairs run, back-off after failures, the lock held by another run.
#include <gtest/gtest.h>

#include <cw/serve/scheduler.hpp>

namespace cw::serve {
namespace {

config::ScheduleConfig every(std::int64_t s, std::int64_t jitter = 0) {
  config::ScheduleConfig c;
  c.every_s = s;
  c.jitter_s = jitter;
  return c;
}

TEST(Scheduler, IntervalPairRunsAtStartThenEveryInterval) {
  Scheduler s({"a", "b"}, {{"a", every(1800)}}, 1);
  s.start(1000);
  EXPECT_EQ(s.due(1000), "a");
  EXPECT_EQ(s.due(999), std::nullopt);
  s.finished("a", RunResult::ok, 1010);
  EXPECT_EQ(s.next_due(), 1010 + 1800);
  EXPECT_EQ(s.due(2809), std::nullopt);
  EXPECT_EQ(s.due(2810), "a");
  // "b" has no schedule: it runs only on request.
  EXPECT_TRUE(s.to_json()["b"]["schedule"].is_null());
  s.request("b", 1500);
  EXPECT_EQ(s.due(1500), "b");
  s.finished("b", RunResult::ok, 1501);
  EXPECT_TRUE(s.to_json()["b"]["next_run"].is_null());
}

TEST(Scheduler, CronPairWaitsForItsMinute) {
  config::ScheduleConfig c;
  c.cron = "0 * * * *";
  Scheduler s({"a"}, {{"a", c}}, 1);
  s.start(3600 * 10 + 5);
  EXPECT_EQ(s.next_due(), 3600 * 11);
}

TEST(Scheduler, JitterStaysWithinItsBound) {
  Scheduler s({"a"}, {{"a", every(600, 120)}}, 42);
  s.start(0);
  for (int i = 0; i < 50; ++i) {
    const std::int64_t now = 10'000 * (i + 1);
    s.finished("a", RunResult::ok, now);
    const auto next = *s.next_due();
    EXPECT_GE(next, now + 600);
    EXPECT_LE(next, now + 720);
  }
}

TEST(Scheduler, FailuresBackOffAndNeverPassTheRegularTime) {
  Scheduler s({"a"}, {{"a", every(86400)}}, 1);
  s.start(0);
  std::int64_t now = 0;
  const std::int64_t expected[] = {60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600};
  for (std::int64_t wait : expected) {
    s.finished("a", RunResult::failed, now);
    EXPECT_EQ(*s.next_due() - now, wait);
    now = *s.next_due();
  }
  EXPECT_EQ(s.to_json()["a"]["consecutive_failures"], 11);
  s.finished("a", RunResult::ok, now);
  EXPECT_EQ(*s.next_due() - now, 86400);
  EXPECT_EQ(s.to_json()["a"]["consecutive_failures"], 0);

  // A five-minute pair is retried at its own pace, not sooner.
  Scheduler fast({"b"}, {{"b", every(300)}}, 1);
  fast.start(0);
  for (int i = 0; i < 5; ++i) fast.finished("b", RunResult::failed, 0);
  EXPECT_EQ(fast.next_due(), 300);
}

TEST(Scheduler, LockedRetriesInAMinuteWithoutCountingAFailure) {
  Scheduler s({"a"}, {{"a", every(3600)}}, 1);
  s.start(0);
  s.finished("a", RunResult::locked, 100);
  EXPECT_EQ(s.next_due(), 160);
  EXPECT_EQ(s.to_json()["a"]["consecutive_failures"], 0);
  EXPECT_EQ(s.to_json()["a"]["last_result"], "locked");
}

}  // namespace
}  // namespace cw::serve
