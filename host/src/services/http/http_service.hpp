#pragma once
// HttpService: the host's HTTP client as the rest of the host sees it. Plugins reach it
// through cw_host_api.http (request/response JSON, see sdk/ABI.md "HTTP"); the binding
// parses that JSON into HttpRequest and calls send(). The libcurl implementation lives in
// curl_http_service.*; tests use FakeHttpService (tests/support/cwtest/).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cw/services/cancel/cancel_token.hpp>
#include <cw/util/result.hpp>

namespace cw::services {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;   // absolute http(s) URL, without the query
  HeaderList query;  // appended URL-encoded, in order
  HeaderList headers;
  std::string body;
  std::int64_t timeout_ms = 0;  // 0: the provider's configured default
  bool read = true;             // a read (GET/HEAD, or a POST the plugin marks as a query)
  bool retry_safe = false;      // a write the plugin says may be repeated
  std::string endpoint;         // template for accounting, ids stripped: "/sync/history"
};

struct HttpTiming {
  double total_ms = 0;
  double connect_ms = 0;
  double first_byte_ms = 0;
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // names lower-cased
  std::string body;    // empty when the body went to a BodySink
  HttpTiming timing;
  int attempts = 1;
};

// Who is asking: the provider instance whose budget, settings and accounting apply.
struct HttpContext {
  std::string instance;  // provider instance name from the configuration
  std::string plugin;    // plugin name
  bool dry_run = false;  // refuse requests not marked `read`
  // The run's cancellation token: once it says cancelled, waits and transfers abort and
  // send() fails with ErrorKind::cancelled. nullptr: never cancelled.
  const CancelToken* cancel = nullptr;
};

// Receives the body in chunks as it arrives (so a 50 MB body is never copied whole).
using BodySink = std::function<void(std::string_view chunk)>;

class HttpService {
 public:
  virtual ~HttpService() = default;
  // Sends one request, with the service's retries and pacing. Returns a response for any
  // HTTP status; fails (ErrorKind rate_limited, transient, cancelled, invalid_arg,
  // unsupported for a refused dry-run write) only when no final response was obtained.
  // When `body_sink` is set the body is streamed to it and HttpResponse::body stays empty.
  virtual Result<HttpResponse> send(const HttpContext& ctx, const HttpRequest& request,
                                    const BodySink& body_sink) = 0;
};

}  // namespace cw::services
