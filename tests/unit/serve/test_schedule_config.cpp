// The `schedule:` key of a pair in cw.yaml.
#include <gtest/gtest.h>

#include <cw/config/config.hpp>

namespace cw::config {
namespace {

const char* const k_head = R"(
providers:
  a: { plugin: crosswatch, root: /tmp/a }
  b: { plugin: crosswatch, root: /tmp/b }
pairs:
  - name: a-to-b
    source: a
    target: b
    features: { watchlist: true }
)";

ConfigParse parse_with(const std::string& schedule) {
  return parse_config(std::string(k_head) + "    schedule: " + schedule + "\n", "cw.yaml",
                      "/etc/cw");
}

TEST(ScheduleConfig, IntervalCronAndJitter) {
  auto p = parse_with("30m");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].to_string();
  ASSERT_TRUE(p.config->pairs[0].schedule.has_value());
  EXPECT_EQ(p.config->pairs[0].schedule->every_s, 1800);
  p = parse_with("\"*/15 * * * *\"");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].to_string();
  EXPECT_EQ(p.config->pairs[0].schedule->cron, "*/15 * * * *");
  p = parse_with("{ every: 6h, jitter: 5m }");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].to_string();
  EXPECT_EQ(p.config->pairs[0].schedule->every_s, 6 * 3600);
  EXPECT_EQ(p.config->pairs[0].schedule->jitter_s, 300);
  p = parse_with("{ cron: \"@daily\" }");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].to_string();
  EXPECT_FALSE(parse_config(k_head, "cw.yaml", "/etc/cw").config->pairs[0].schedule.has_value());
}

TEST(ScheduleConfig, ErrorsSayWhereAndWhat) {
  const struct {
    const char* schedule;
    const char* message;
  } cases[] = {
      {"10s", "at least 1m"},
      {"\"61 * * * *\"", "cron field minute"},
      {"{ every: 1h, cron: \"@daily\" }", "either every or cron"},
      {"{ jitter: 1m }", "missing key \"every\" or \"cron\""},
      {"{ every: often }", "expected an interval"},
      {"{ cron: 1h }", "use every:"},
      {"{ every: 1h, jiter: 1m }", "did you mean \"jitter\""},
  };
  for (const auto& c : cases) {
    auto p = parse_with(c.schedule);
    ASSERT_FALSE(p.errors.empty()) << c.schedule;
    const std::string line = p.errors[0].to_string();
    EXPECT_NE(line.find(c.message), std::string::npos) << c.schedule << " -> " << line;
    EXPECT_NE(line.find("cw.yaml:10:"), std::string::npos) << line;
    EXPECT_NE(line.find("pairs[0].schedule"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace cw::config
