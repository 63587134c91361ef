#pragma once
// Settings of the HTTP service: process-wide defaults (the `http:` block of the
// configuration) and per provider instance overrides (`providers.<name>.http:`), plus the
// rate limits a plugin's manifest declares. See docs/http.md for every key.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/util/result.hpp>

namespace cw::config {

// One token bucket: `requests` per `per_seconds` for the listed methods (empty: all) and
// endpoint templates (empty: all; "/sync/history" matches exactly, "/sync/*" by prefix).
struct RateLimitSpec {
  std::string name;
  std::vector<std::string> methods;  // upper-case
  double requests = 0;
  double per_seconds = 1;
  std::vector<std::string> endpoints;
};

struct InstanceHttpOptions {
  std::optional<std::int64_t> connect_timeout_ms;
  std::optional<std::int64_t> timeout_ms;
  std::optional<int> max_attempts;
  std::optional<std::string> proxy;
  std::optional<std::string> ca_file;
  std::optional<std::string> ca_path;
  std::optional<bool> verify_tls;
  std::optional<std::int64_t> max_wait_ms;
  // Limits that replace the manifest's limit of the same name, or add one.
  std::vector<RateLimitSpec> rate_limits;
  // Requests this instance may make in one run (MDBList's daily quota); 0: no cap.
  std::optional<std::int64_t> max_requests_per_run;
};

struct HttpOptions {
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t timeout_ms = 60'000;
  int max_attempts = 4;  // in total, first try included
  std::int64_t backoff_base_ms = 500;
  std::int64_t backoff_max_ms = 30'000;
  // The longest the service waits for a budget token or a Retry-After before it gives up
  // and reports rate_limited (the work is left for the next run).
  std::int64_t max_wait_ms = 120'000;
  std::string proxy;    // empty: libcurl's default (the *_proxy environment variables)
  std::string ca_file;  // PEM bundle; empty: the system's
  std::string ca_path;
  bool verify_tls = true;
  bool reuse_connections = true;  // keep-alive; false opens a fresh connection per request
  bool http2 = true;              // HTTP/2 over TLS when the server offers it (ALPN)
  std::string user_agent;         // empty: "cw/<version>"
  std::int64_t max_body_bytes = 1LL << 30;  // bodies held in memory beyond this fail
  std::map<std::string, InstanceHttpOptions> instances;
};

// Parses the `http:` block (as JSON; YAML is converted by the config layer). `where` names
// the place for error messages ("cw.yaml: http"). Unknown keys are errors.
Result<HttpOptions> parse_http_options(const nlohmann::json& doc, const std::string& where);
Result<InstanceHttpOptions> parse_instance_http_options(const nlohmann::json& doc,
                                                        const std::string& where);
// The manifest's "rate_limits" array.
Result<std::vector<RateLimitSpec>> rate_limits_from_manifest(const nlohmann::json& manifest);

// Manifest limits with the instance's overrides applied by name.
std::vector<RateLimitSpec> merge_rate_limits(std::vector<RateLimitSpec> manifest,
                                             const std::vector<RateLimitSpec>& overrides);

}  // namespace cw::config
