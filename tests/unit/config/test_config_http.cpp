// The `http:` blocks: global settings and per-instance overrides, parsed with the HTTP
// service's own rules, reported in this file's error style, and kept out of the settings
// a plugin's create() sees.
#include <gtest/gtest.h>

#include <cw/config/config.hpp>

#include "config_errors.hpp"

namespace cw::config {
namespace {

using test::errors_of;
using test::only_error;

ConfigParse parse(const std::string& yaml) { return parse_config(yaml, "cw.yaml", "/etc/cw"); }

TEST(ConfigHttp, GlobalAndInstanceBlocksAreParsed) {
  const ConfigParse p = parse(
      "http:\n"
      "  connect_timeout_ms: 3000\n"
      "  timeout_ms: 45000\n"
      "  max_attempts: 3\n"
      "  max_wait_ms: 60000\n"
      "  proxy: http://proxy.lan:3128\n"
      "  ca_file: certs/ca.pem\n"
      "  verify_tls: true\n"
      "  user_agent: cw-test\n"
      "providers:\n"
      "  trakt:\n"
      "    plugin: trakt\n"
      "    client_id: abc\n"
      "    http:\n"
      "      timeout_ms: 5000\n"
      "      max_requests_per_run: 900\n"
      "      rate_limits:\n"
      "        - { name: read, requests: 500, per_seconds: 300 }\n"
      "        - { name: search, methods: [get], endpoints: [\"/search/*\"], requests: 2, "
      "per_seconds: 1 }\n"
      "  plex: { plugin: plex }\n");
  ASSERT_TRUE(p.config) << (p.errors.empty() ? "" : p.errors[0].to_string());
  const Config& c = *p.config;
  EXPECT_EQ(c.http.connect_timeout_ms, 3000);
  EXPECT_EQ(c.http.timeout_ms, 45000);
  EXPECT_EQ(c.http.max_attempts, 3);
  EXPECT_EQ(c.http.max_wait_ms, 60000);
  EXPECT_EQ(c.http.proxy, "http://proxy.lan:3128");
  EXPECT_EQ(c.http.ca_file, "/etc/cw/certs/ca.pem");  // relative to the file
  EXPECT_EQ(c.http.user_agent, "cw-test");

  const ProviderConfig* trakt = c.provider("trakt");
  ASSERT_NE(trakt, nullptr);
  // The block is the host's, not the plugin's.
  EXPECT_FALSE(trakt->settings.contains("http"));
  EXPECT_EQ(trakt->settings.value("client_id", ""), "abc");
  ASSERT_TRUE(trakt->http);
  EXPECT_EQ(trakt->http->timeout_ms, 5000);
  EXPECT_FALSE(trakt->http->connect_timeout_ms);
  EXPECT_EQ(trakt->http->max_requests_per_run, 900);
  ASSERT_EQ(trakt->http->rate_limits.size(), 2u);
  EXPECT_EQ(trakt->http->rate_limits[0].name, "read");
  EXPECT_EQ(trakt->http->rate_limits[0].requests, 500);
  EXPECT_EQ(trakt->http->rate_limits[0].per_seconds, 300);
  EXPECT_EQ(trakt->http->rate_limits[1].methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(trakt->http->rate_limits[1].endpoints, std::vector<std::string>{"/search/*"});
  EXPECT_FALSE(c.provider("plex")->http);

  const config::HttpOptions all = c.http_options();
  EXPECT_EQ(all.timeout_ms, 45000);
  ASSERT_EQ(all.instances.size(), 1u);
  EXPECT_EQ(all.instances.at("trakt").timeout_ms, 5000);
}

TEST(ConfigHttp, DefaultsWithoutABlock) {
  const ConfigParse p = parse("providers:\n  plex: { plugin: plex }\n");
  ASSERT_TRUE(p.config);
  const config::HttpOptions defaults;
  EXPECT_EQ(p.config->http.timeout_ms, defaults.timeout_ms);
  EXPECT_EQ(p.config->http.connect_timeout_ms, defaults.connect_timeout_ms);
  EXPECT_TRUE(p.config->http_options().instances.empty());
}

TEST(ConfigHttp, UnknownGlobalKeyGetsDidYouMean) {
  const std::string e = only_error("http:\n  timout_ms: 100\n");
  EXPECT_EQ(e.rfind("cw.yaml:2:3: http.timout_ms: unknown key (did you mean \"timeout_ms\"?)", 0),
            0u)
      << e;
}

TEST(ConfigHttp, InstanceOnlyKeysAreUnknownGlobally) {
  const std::string e = only_error("http:\n  max_requests_per_run: 10\n");
  EXPECT_EQ(e.rfind("cw.yaml:2:3: http.max_requests_per_run: unknown key", 0), 0u) << e;
}

TEST(ConfigHttp, UnknownInstanceKeyGetsDidYouMean) {
  const std::string e =
      only_error("providers:\n  trakt:\n    plugin: trakt\n    http:\n      proxi: x\n");
  EXPECT_EQ(e.rfind("cw.yaml:5:7: providers.trakt.http.proxi: unknown key (did you mean "
                    "\"proxy\"?)",
                    0),
            0u)
      << e;
}

TEST(ConfigHttp, UnknownRateLimitKeyGetsDidYouMean) {
  const std::string e = only_error(
      "providers:\n  trakt:\n    plugin: trakt\n    http:\n      rate_limits:\n"
      "        - { name: read, request: 5, per_seconds: 1 }\n");
  EXPECT_EQ(e.rfind("cw.yaml:6:25: providers.trakt.http.rate_limits[0].request: unknown key (did "
                    "you mean \"requests\"?)",
                    0),
            0u)
      << e;
}

TEST(ConfigHttp, BlockMustBeAMapping) {
  EXPECT_EQ(only_error("http: 5\n"), "cw.yaml:1:7: http: expected a mapping, got \"5\" (at /http)");
  EXPECT_EQ(only_error("providers:\n  trakt:\n    plugin: trakt\n    http: [1]\n"),
            "cw.yaml:4:11: providers.trakt.http: expected a mapping, got a list (at "
            "/providers/trakt/http)");
}

TEST(ConfigHttp, BadTimeoutNamesPositionPathAndValue) {
  EXPECT_EQ(
      only_error("http:\n  timeout_ms: 0\n"),
      "cw.yaml:2:15: http.timeout_ms: expected an integer >= 1, got \"0\" (at /http/timeout_ms)");
  EXPECT_EQ(only_error("http:\n  connect_timeout_ms: soon\n"),
            "cw.yaml:2:23: http.connect_timeout_ms: expected an integer >= 1, got \"soon\" (at "
            "/http/connect_timeout_ms)");
  EXPECT_EQ(only_error("providers:\n  t:\n    plugin: trakt\n    http: { timeout_ms: -5 }\n"),
            "cw.yaml:4:25: providers.t.http.timeout_ms: expected an integer >= 1, got \"-5\" (at "
            "/providers/t/http/timeout_ms)");
}

TEST(ConfigHttp, BadTypesAreReported) {
  EXPECT_EQ(
      only_error("http:\n  verify_tls: maybe\n"),
      "cw.yaml:2:15: http.verify_tls: expected true or false, got \"maybe\" (at /http/verify_tls)");
  EXPECT_EQ(only_error("http:\n  proxy: [a]\n"),
            "cw.yaml:2:10: http.proxy: expected a string, got a list (at /http/proxy)");
  EXPECT_EQ(only_error("providers:\n  t:\n    plugin: trakt\n    http: { max_wait_ms: -1 }\n"),
            "cw.yaml:4:26: providers.t.http.max_wait_ms: expected an integer >= 0, got \"-1\" (at "
            "/providers/t/http/max_wait_ms)");
  EXPECT_EQ(
      only_error("providers:\n  t:\n    plugin: trakt\n    http: { max_requests_per_run: x }\n"),
      "cw.yaml:4:35: providers.t.http.max_requests_per_run: expected an integer >= 0, got "
      "\"x\" (at /providers/t/http/max_requests_per_run)");
}

TEST(ConfigHttp, BadRateLimitsAreReported) {
  const std::string head = "providers:\n  t:\n    plugin: trakt\n    http:\n      rate_limits:";
  EXPECT_EQ(only_error(head + " 5\n"),
            "cw.yaml:5:20: providers.t.http.rate_limits: expected a list of {name, requests, "
            "per_seconds}, got \"5\" (at /providers/t/http/rate_limits)");
  EXPECT_EQ(only_error(head + "\n        - { requests: 5, per_seconds: 1 }\n"),
            "cw.yaml:6:11: providers.t.http.rate_limits[0].name: expected a non-empty string (at "
            "/providers/t/http/rate_limits/0/name)");
  EXPECT_EQ(only_error(head + "\n        - { name: read, requests: 0, per_seconds: 1 }\n"),
            "cw.yaml:6:35: providers.t.http.rate_limits[0].requests: expected a number > 0, got "
            "\"0\" (at /providers/t/http/rate_limits/0/requests)");
  EXPECT_EQ(only_error(head + "\n        - { name: read, requests: 5 }\n"),
            "cw.yaml:6:11: providers.t.http.rate_limits[0].per_seconds: expected a number > 0 (at "
            "/providers/t/http/rate_limits/0/per_seconds)");
  EXPECT_EQ(only_error(head + "\n        - { name: read, methods: GET, requests: 5, "
                              "per_seconds: 1 }\n"),
            "cw.yaml:6:34: providers.t.http.rate_limits[0].methods: expected a list such as "
            "[GET], got \"GET\" (at /providers/t/http/rate_limits/0/methods)");
}

TEST(ConfigHttp, DuplicateKeyInBlock) {
  const std::string e = only_error("http:\n  timeout_ms: 1\n  timeout_ms: 2\n");
  EXPECT_EQ(e.rfind("cw.yaml:3:3: http.timeout_ms: duplicate key", 0), 0u) << e;
}

}  // namespace
}  // namespace cw::config
