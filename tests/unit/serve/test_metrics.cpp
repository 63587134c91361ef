// serve::Metrics: the Prometheus text of runs, HTTP accounting, held items and scrobbling.
#include <gtest/gtest.h>

#include <cw/serve/metrics.hpp>

namespace cw::serve {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(ServeMetrics, RunsHttpHeldAndScrobble) {
  Metrics m(1000);
  const nlohmann::json report = {
      {"pairs",
       {{{"pair", "a-to-b"},
         {"feature", "watchlist"},
         {"status", "ok"},
         {"duration_ms", 1500},
         {"planned", {{"adds", 3}, {"updates", 1}, {"removes", 2}, {"held", 2}}},
         {"outcomes", {{"confirmed", 4}, {"skipped", 0}, {"unresolved", 0}, {"unknown", 0}}}}}}};
  const nlohmann::json http = {
      {"requests",
       {{"trakt",
         {{{"endpoint", "/sync/watchlist"},
           {"method", "POST"},
           {"outcome", "201"},
           {"count", 3},
           {"total_ms", 120.0},
           {"latency_buckets", {0, 0, 1, 3, 3, 3, 3, 3, 3, 3, 3}}}}}}},
      {"budgets",
       {{"trakt",
         {{"refused", 0},
          {"buckets", {{{"name", "writes"}, {"requests", 1}, {"available", 1}}}}}}}}};
  m.record_run(report, http, 2000);
  m.record_run(report, http, 3000);
  m.record_request("GET /", 200);
  const std::string text =
      m.render({{"a-to-b/watchlist", {{"pending", 2}, {"blackbox", 0}, {"unresolved", 1}}}},
               {{"sources", {{"plex", {{"received", 7}, {"refused", 1}}}}},
                {"sinks", {{"trakt", {{"delivered", 6}, {"failed", 1}}}}},
                {"queued", 1}});
  EXPECT_TRUE(
      has_line(text, "cw_runs_total{pair=\"a-to-b\",feature=\"watchlist\",status=\"ok\"} 2"))
      << text;
  EXPECT_TRUE(has_line(
      text, "cw_actions_planned_total{pair=\"a-to-b\",feature=\"watchlist\",action=\"remove\"} 4"));
  EXPECT_TRUE(has_line(text, "cw_actions_held_total{pair=\"a-to-b\",feature=\"watchlist\"} 4"));
  EXPECT_TRUE(has_line(
      text,
      "cw_actions_applied_total{pair=\"a-to-b\",feature=\"watchlist\",outcome=\"confirmed\"} 8"));
  EXPECT_TRUE(has_line(
      text, "cw_last_success_timestamp_seconds{pair=\"a-to-b\",feature=\"watchlist\"} 3000"));
  EXPECT_TRUE(has_line(text, "cw_run_duration_seconds{pair=\"a-to-b\",feature=\"watchlist\"} 1.5"));
  EXPECT_TRUE(has_line(text,
                       "cw_http_requests_total{provider=\"trakt\",endpoint=\"/sync/"
                       "watchlist\",method=\"POST\",status=\"201\"} 6"));
  EXPECT_TRUE(has_line(text,
                       "cw_http_request_duration_seconds_bucket{provider=\"trakt\",endpoint=\"/"
                       "sync/watchlist\",method=\"POST\",le=\"0.025\"} 2"));
  EXPECT_TRUE(has_line(text,
                       "cw_http_request_duration_seconds_bucket{provider=\"trakt\",endpoint=\"/"
                       "sync/watchlist\",method=\"POST\",le=\"+Inf\"} 6"));
  EXPECT_TRUE(has_line(text,
                       "cw_http_request_duration_seconds_sum{provider=\"trakt\",endpoint=\"/sync/"
                       "watchlist\",method=\"POST\"} 0.24"));
  EXPECT_TRUE(has_line(text, "cw_rate_budget_available{provider=\"trakt\",bucket=\"writes\"} 1"));
  EXPECT_TRUE(
      has_line(text, "cw_held_items{pair=\"a-to-b\",feature=\"watchlist\",kind=\"pending\"} 2"));
  EXPECT_TRUE(has_line(text, "cw_scrobble_events_received_total{source=\"plex\"} 7"));
  EXPECT_TRUE(has_line(text, "cw_scrobble_queued 1"));
  EXPECT_TRUE(has_line(text, "cw_serve_requests_total{route=\"GET /\",code=\"200\"} 1"));
  // Every sample belongs to a family declared with HELP and TYPE.
  EXPECT_NE(text.find("# TYPE cw_http_request_duration_seconds histogram"), std::string::npos);
}

TEST(ServeMetrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace cw::serve
