#include <chrono>
#include <csignal>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>

using namespace cw;
using namespace cw::services;

namespace {

std::shared_ptr<spdlog::sinks::sink> to(std::ostringstream& s) {
  return std::make_shared<spdlog::sinks::ostream_sink_mt>(s);
}

TEST(Logger, TextLineFormat) {
  std::ostringstream out;
  Logger log(LogLevel::info, LogFormat::text, to(out));
  // 2026-11-24T02:30:00.123Z
  EXPECT_EQ(log.format_line(1795487400123, LogLevel::info, "trakt", "message"),
            "2026-11-24T02:30:00.123Z INFO  [trakt] message");
  EXPECT_EQ(log.format_line(0, LogLevel::error, "cw", "two\nlines"),
            "1970-01-01T00:00:00.000Z ERROR [cw] two\\nlines");
}

TEST(Logger, JsonLineFormat) {
  std::ostringstream out;
  Logger log(LogLevel::info, LogFormat::json, to(out));
  EXPECT_EQ(
      log.format_line(1795487400123, LogLevel::warn, "plex", "say \"hi\""),
      R"({"ts":"2026-11-24T02:30:00.123Z","level":"warn","source":"plex","msg":"say \"hi\""})");
  log.warn("plex", "bad \xff byte");
  const auto line = out.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(nlohmann::json::parse(line)["source"], "plex");
}

TEST(Logger, LevelsFilter) {
  std::ostringstream out;
  Logger log(LogLevel::warn, LogFormat::text, to(out));
  log.info("cw", "hidden");
  log.warn("cw", "shown");
  EXPECT_EQ(out.str().find("hidden"), std::string::npos);
  EXPECT_NE(out.str().find("shown"), std::string::npos);
  log.set_level(LogLevel::off);
  log.error("cw", "silenced");
  EXPECT_EQ(out.str().find("silenced"), std::string::npos);
  EXPECT_FALSE(log.enabled(LogLevel::off));
}

TEST(Logger, RedactsRegisteredSecretsLongestFirst) {
  std::ostringstream out;
  Logger log(LogLevel::trace, LogFormat::text, to(out));
  log.add_secret("abcd");
  log.add_secret("abcdefgh");
  log.add_secret("xyz");  // too short to redact safely
  EXPECT_EQ(log.redact("t=abcdefgh u=abcd v=xyz"), "t=[redacted] u=[redacted] v=xyz");
  log.info("cw", "token abcdefgh");
  EXPECT_EQ(out.str().find("abcd"), std::string::npos);
}

TEST(Logger, OptionsParsing) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warn);
  EXPECT_FALSE(parse_log_level("loud"));
  EXPECT_EQ(parse_log_format("json"), LogFormat::json);
  auto bad = Logger::from_options("loud", "text");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "--log-level: unknown level 'loud': use trace, debug, info, warn, error or off");
  auto badf = Logger::from_options("info", "xml");
  ASSERT_FALSE(badf.ok());
  EXPECT_EQ(badf.error().message, "--log-format: unknown format 'xml': use text or json");
  auto good = Logger::from_options("error", "json");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ((*good)->level(), LogLevel::error);
  EXPECT_EQ((*good)->format(), LogFormat::json);
}

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock c(5);
  EXPECT_EQ(c.now_ms(), 5);
  c.advance_ms(10);
  EXPECT_EQ(c.now_ms(), 15);
  c.set_ms(1);
  EXPECT_EQ(c.now_ms(), 1);
  SystemClock s;
  EXPECT_GT(s.now_ms(), 1'600'000'000'000);  // after 2020: the clock is in milliseconds
}

TEST(Clock, ManualClockSleepsMoveTimeAndAreRecorded) {
  ManualClock c(1'000);
  const auto steady = c.steady_ms();
  FlagCancelToken cancel;
  EXPECT_TRUE(c.sleep_ms(250, &cancel));
  EXPECT_EQ(c.now_ms(), 1'250);
  EXPECT_EQ(c.steady_ms(), steady + 250);
  cancel.cancel();
  EXPECT_FALSE(c.sleep_ms(100, &cancel));  // a cancelled run does not wait
  EXPECT_EQ(c.sleeps(), std::vector<std::int64_t>{250});
}

TEST(Clock, SystemSleepEndsWhenTheTokenIsSet) {
  // The wait is an hour; only the token can end it, so a pass proves the early end.
  SystemClock c;
  FlagCancelToken cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cancel.cancel();
  });
  EXPECT_FALSE(c.sleep_ms(3'600'000, &cancel));
  stopper.join();
  EXPECT_TRUE(c.sleep_ms(0, nullptr));
}

TEST(Clock, PinnedClockHoldsTheWallTimeOnly) {
  PinnedClock c(1'700'000'000'000);
  EXPECT_EQ(c.now_ms(), 1'700'000'000'000);
  const auto before = c.steady_ms();
  EXPECT_TRUE(c.sleep_ms(2, nullptr));
  EXPECT_GE(c.steady_ms(), before + 2);  // waits are real
  EXPECT_EQ(c.now_ms(), 1'700'000'000'000);
}

TEST(Cancel, FlagToken) {
  FlagCancelToken t;
  EXPECT_FALSE(t.cancelled());
  t.cancel();
  EXPECT_TRUE(t.cancelled());
  t.reset();
  EXPECT_FALSE(t.cancelled());
}

TEST(Cancel, SigintSetsTheProcessWideToken) {
  SignalCancelToken::reset();
  SignalCancelToken::install_signal_handlers();
  auto& token = SignalCancelToken::instance();
  EXPECT_FALSE(token.cancelled());
  std::raise(SIGTERM);  // handled synchronously on this thread
  EXPECT_TRUE(token.cancelled());
  SignalCancelToken::reset();  // a second signal now would terminate the process
  EXPECT_FALSE(token.cancelled());
  SignalCancelToken::request();
  EXPECT_TRUE(token.cancelled());
  SignalCancelToken::reset();
}

TEST(MemoryKv, PutGetDeletePerInstance) {
  MemoryKvStore kv;
  ASSERT_TRUE(kv.put("a", "k", "1").ok());
  ASSERT_TRUE(kv.put("b", "k", "2").ok());
  EXPECT_EQ(**kv.get("a", "k"), "1");
  EXPECT_EQ(**kv.get("b", "k"), "2");
  EXPECT_FALSE(kv.get("a", "missing")->has_value());
  ASSERT_TRUE(kv.put("a", "k", "").ok());
  EXPECT_FALSE(kv.get("a", "k")->has_value());
  EXPECT_EQ(kv.size(), 1u);
}

}  // namespace
