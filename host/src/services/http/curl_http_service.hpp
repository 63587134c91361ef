#pragma once
// CurlHttpService: the HttpService every plugin gets through cw_host_api.http. libcurl with
// one share handle (connection cache, DNS, TLS sessions) and a small pool of easy handles,
// so connections are reused across requests and threads; HTTP/2 over TLS when offered;
// gzip/deflate/br/zstd; connect and total timeouts, proxy and CA per instance. Around each
// transfer: the instance's token-bucket budget, retries with exponential backoff and jitter
// (honouring Retry-After and rate-limit headers), cancellation, dry-run refusal, accounting
// and redaction. docs/http.md describes the behaviour and every setting.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/http_options.hpp>
#include <cw/services/http/accounting.hpp>
#include <cw/services/http/http_service.hpp>
#include <cw/services/http/rate_budget.hpp>

namespace cw::services {

enum class HttpLogLevel { debug, info, warn };
// Receives one already-redacted line. The default writes to spdlog's default logger.
using HttpLogFn = std::function<void(HttpLogLevel level, const std::string& line)>;

class CurlHttpService final : public HttpService {
 public:
  explicit CurlHttpService(config::HttpOptions options = {},
                           std::shared_ptr<const Clock> clock = nullptr, HttpLogFn log = nullptr);
  ~CurlHttpService() override;
  CurlHttpService(const CurlHttpService&) = delete;
  CurlHttpService& operator=(const CurlHttpService&) = delete;

  // Seeds `instance`'s budget from its manifest's rate limits, with the configuration's
  // overrides (config::HttpOptions::instances) applied. An instance never configured has no
  // bucket limits (only the service's own 429s and rate-limit headers pace it).
  void configure_instance(const std::string& instance,
                          const std::vector<config::RateLimitSpec>& manifest_limits);

  Result<HttpResponse> send(const HttpContext& ctx, const HttpRequest& request,
                            const BodySink& body_sink) override;

  const HttpAccounting& accounting() const;
  // {"requests": accounting().to_json(), "budgets": {"<instance>": {...}}}: for the run report.
  nlohmann::json report() const;
  // Writes the accounting, one line per endpoint, at debug level.
  void log_summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cw::services
