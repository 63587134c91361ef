// The configuration's `http:` blocks reach the HTTP service: the options Session builds
// from a parsed cw.yaml (Config::http_options() and configure_instance() after the
// manifest's limits) change what CurlHttpService does against a loopback server.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <cw/config/config.hpp>
#include <cw/services/http/curl_http_service.hpp>

#include "test_support.hpp"

namespace cw::services {
namespace {

using cw::test::LoopbackServer;
using cw::test::ManualHttpClock;

config::Config parse(const std::string& yaml) {
  config::ConfigParse p = config::parse_config(yaml, "cw.yaml", "/tmp");
  for (const auto& e : p.errors) ADD_FAILURE() << e.to_string();
  return p.config ? *p.config : config::Config{};
}

std::unique_ptr<CurlHttpService> service_for(
    const config::Config& cfg, std::shared_ptr<const services::Clock> clock = nullptr) {
  return std::make_unique<CurlHttpService>(cfg.http_options(), std::move(clock),
                                           [](HttpLogLevel, const std::string&) {});
}

Result<HttpResponse> get(CurlHttpService& http, const std::string& instance,
                         const std::string& url) {
  HttpRequest r;
  r.url = url;
  return http.send({instance, instance, false, nullptr}, r, nullptr);
}

TEST(HttpConfigWiring, InstanceTotalTimeoutFromConfigurationApplies) {
  LoopbackServer srv;
  std::atomic<bool> stop{false};
  srv.server().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    for (int i = 0; i < 300 && !stop.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.set_content("late", "text/plain");
  });
  srv.start();
  const config::Config cfg = parse(
      "http: { connect_timeout_ms: 2000, timeout_ms: 30000 }\n"
      "providers:\n"
      "  slowpoke:\n"
      "    plugin: trakt\n"
      "    http: { timeout_ms: 150, max_attempts: 1 }\n");
  auto http = service_for(cfg);
  http->configure_instance("slowpoke", {});
  auto resp = get(*http, "slowpoke", srv.url("/slow"));
  stop = true;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::transient);
  // The instance's timeout and attempt count, not the global ones, were used.
  EXPECT_NE(resp.error().message.find("timeout_ms 150"), std::string::npos) << resp.error().message;
  EXPECT_EQ(resp.error().message.find("timeout_ms 30000"), std::string::npos)
      << resp.error().message;
  EXPECT_EQ(http->accounting().get("slowpoke", "/slow", "GET", "timeout").count, 1);
}

TEST(HttpConfigWiring, ConfiguredLimitsOverrideTheManifestAndCapTheRun) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.set_content("ok", "text/plain");
  });
  srv.start();
  const config::Config cfg = parse(
      "http: { connect_timeout_ms: 2000, timeout_ms: 10000, max_wait_ms: 60000 }\n"
      "providers:\n"
      "  simkl:\n"
      "    plugin: simkl\n"
      "    http:\n"
      "      max_requests_per_run: 3\n"
      "      rate_limits: [{ name: read, requests: 1, per_seconds: 4 }]\n"
      "  other: { plugin: simkl }\n");
  auto clock = std::make_shared<ManualHttpClock>();
  auto http = service_for(cfg, clock);
  // What Session does: the manifest's limits (10 GET a second), then the configuration's.
  const std::vector<config::RateLimitSpec> manifest = {
      config::RateLimitSpec{"read", {"GET"}, 10, 1, {}}};
  http->configure_instance("simkl", manifest);
  http->configure_instance("other", manifest);

  ASSERT_TRUE(get(*http, "simkl", srv.url("/x")).ok());
  ASSERT_TRUE(get(*http, "simkl", srv.url("/x")).ok());  // waits for the configured bucket
  ASSERT_EQ(clock->sleeps().size(), 1u);
  EXPECT_EQ(clock->sleeps()[0], 4'000);
  ASSERT_TRUE(get(*http, "simkl", srv.url("/x")).ok());
  auto fourth = get(*http, "simkl", srv.url("/x"));
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().kind, ErrorKind::rate_limited);
  EXPECT_EQ(calls.load(), 3);

  // An instance without a block keeps the manifest's limits and no cap.
  const std::size_t sleeps_before = clock->sleeps().size();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(get(*http, "other", srv.url("/x")).ok());
  EXPECT_EQ(clock->sleeps().size(), sleeps_before);
  EXPECT_EQ(calls.load(), 8);
}

}  // namespace
}  // namespace cw::services
