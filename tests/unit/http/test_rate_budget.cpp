// Token buckets: pacing, exhaustion, per-run caps and what service headers change.
#include <gtest/gtest.h>

#include <cw/services/http/rate_budget.hpp>

#include "test_support.hpp"

namespace cw::services {
namespace {

using cw::test::ManualHttpClock;

std::vector<config::RateLimitSpec> trakt_limits() {
  return {config::RateLimitSpec{"read", {"GET"}, 500, 300, {}},
          config::RateLimitSpec{"write", {"POST", "PUT", "DELETE"}, 1, 1, {}}};
}

TEST(RateBudget, BurstThenPaceAtTheDeclaredRate) {
  ManualHttpClock clock;
  RateBudget b("trakt", trakt_limits(), 0, clock.steady_ms());
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  EXPECT_TRUE(clock.sleeps().empty());  // the burst fits the bucket
  ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], 600);  // 500 per 300 s: one token every 600 ms
}

TEST(RateBudget, WritesAndReadsUseTheirOwnBuckets) {
  ManualHttpClock clock;
  RateBudget b("trakt", trakt_limits(), 0, clock.steady_ms());
  ASSERT_TRUE(b.acquire("POST", clock, 60'000, nullptr).ok());
  ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  EXPECT_TRUE(clock.sleeps().empty());
  ASSERT_TRUE(b.acquire("DELETE", clock, 60'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], 1000);  // 1 write per second
}

TEST(RateBudget, ExhaustionBeyondMaxWaitIsRateLimitedWithRetryAfter) {
  ManualHttpClock clock;
  // MDBList free tier: 1000 a day.
  RateBudget b("mdblist", {config::RateLimitSpec{"daily", {}, 2, 86'400, {}}}, 0,
               clock.steady_ms());
  ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  auto st = b.acquire("GET", clock, 60'000, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::rate_limited);
  EXPECT_EQ(st.error().retry_after_ms, 43'200'000);
  EXPECT_NE(st.error().message.find("next run"), std::string::npos) << st.error().message;
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_TRUE(b.exhausted());
  EXPECT_EQ(b.refused(), 1);
  const auto doc = b.to_json(clock.steady_ms());
  EXPECT_EQ(doc["requests"], 2);
  EXPECT_EQ(doc["refused"], 1);
  EXPECT_EQ(doc["exhausted"], true);
}

TEST(RateBudget, EndpointScopedBuckets) {
  ManualHttpClock clock;
  RateBudget b("simkl", {config::RateLimitSpec{"history", {"POST"}, 1, 2, {"/sync/history*"}}}, 0,
               clock.steady_ms());
  ASSERT_TRUE(b.acquire("POST", "/sync/history", clock, 60'000, nullptr).ok());
  ASSERT_TRUE(b.acquire("POST", "/sync/watchlist", clock, 60'000, nullptr).ok());  // not scoped
  EXPECT_TRUE(clock.sleeps().empty());
  ASSERT_TRUE(b.acquire("POST", "/sync/history/remove", clock, 60'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], 2'000);
}

TEST(RateBudget, PerRunCap) {
  ManualHttpClock clock;
  RateBudget b("mdblist", {}, 3, clock.steady_ms());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.acquire("GET", clock, 0, nullptr).ok());
  auto st = b.acquire("GET", clock, 0, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::rate_limited);
  EXPECT_NE(st.error().message.find("max_requests_per_run 3"), std::string::npos);
}

TEST(RateBudget, RetryAfterBlocksTheMatchingBucket) {
  ManualHttpClock clock;
  RateBudget b("trakt", trakt_limits(), 0, clock.steady_ms());
  b.observe("GET", 429, {{"retry-after", "20"}}, clock);
  ASSERT_TRUE(b.acquire("POST", clock, 60'000, nullptr).ok());  // writes are not blocked
  EXPECT_TRUE(clock.sleeps().empty());
  ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], 20'000);
}

TEST(RateBudget, A429WithoutBucketsBlocksTheInstance) {
  ManualHttpClock clock;
  RateBudget b("tmdb", {}, 0, clock.steady_ms());
  b.observe("GET", 429, {{"retry-after", "3"}}, clock);
  ASSERT_TRUE(b.acquire("GET", clock, 60'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], 3'000);
}

TEST(RateBudget, TraktXRatelimitJson) {
  ManualHttpClock clock;
  RateBudget b("trakt", {config::RateLimitSpec{"read", {"GET"}, 1000, 300, {}}}, 0,
               clock.steady_ms());
  // The header's reset time is 90 s after the (manual) wall clock.
  const std::int64_t wall = clock.now_ms();
  const time_t until_s = static_cast<time_t>((wall + 90'000) / 1000);
  char until[32];
  std::strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&until_s));
  const std::string header =
      std::string(
          R"({"name":"AUTHED_API_GET_LIMIT","period":300,"limit":500,"remaining":0,"until":")") +
      until + "\"}";
  b.observe("GET", 429, {{"x-ratelimit", header}}, clock);
  const auto doc = b.to_json(clock.steady_ms());
  EXPECT_EQ(doc["buckets"][0]["requests"], 500);  // the service's figure wins
  ASSERT_TRUE(b.acquire("GET", clock, 600'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_NEAR(static_cast<double>(clock.sleeps()[0]), 90'000.0, 1'000.0);
}

TEST(RateBudget, XRateLimitHeadersLowerTheLimitAndBlockUntilReset) {
  ManualHttpClock clock;
  // AniList: 90 per minute, 30 while degraded.
  RateBudget b("anilist", {config::RateLimitSpec{"all", {}, 90, 60, {}}}, 0, clock.steady_ms());
  b.observe("POST", 200, {{"x-ratelimit-limit", "30"}, {"x-ratelimit-remaining", "29"}}, clock);
  EXPECT_EQ(b.to_json(clock.steady_ms())["buckets"][0]["requests"], 30);
  const std::int64_t reset_epoch_s = clock.now_ms() / 1000 + 45;
  b.observe("POST", 429,
            {{"x-ratelimit-limit", "30"},
             {"x-ratelimit-remaining", "0"},
             {"x-ratelimit-reset", std::to_string(reset_epoch_s)}},
            clock);
  ASSERT_TRUE(b.acquire("POST", clock, 600'000, nullptr).ok());
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_NEAR(static_cast<double>(clock.sleeps()[0]), 45'000.0, 1'000.0);
}

TEST(RateBudget, MalformedRateHeadersAreIgnored) {
  ManualHttpClock clock;
  RateBudget b("x", {config::RateLimitSpec{"all", {}, 10, 1, {}}}, 0, clock.steady_ms());
  b.observe("GET", 429,
            {{"x-ratelimit", "{not json"},
             {"x-ratelimit-limit", "lots"},
             {"x-ratelimit-remaining", ""},
             {"retry-after", "whenever"}},
            clock);
  ASSERT_TRUE(b.acquire("GET", clock, 0, nullptr).ok());
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(RateBudget, CancellationStopsTheWait) {
  ManualHttpClock clock;
  RateBudget b("trakt", {config::RateLimitSpec{"write", {}, 1, 10, {}}}, 0, clock.steady_ms());
  ASSERT_TRUE(b.acquire("POST", clock, 60'000, nullptr).ok());
  FlagCancelToken cancel;
  cancel.cancel();
  auto st = b.acquire("POST", clock, 60'000, &cancel);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::cancelled);
}

}  // namespace
}  // namespace cw::services
