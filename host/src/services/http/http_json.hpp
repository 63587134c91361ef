#pragma once
// The JSON documents of cw_host_api.http (sdk/ABI.md "HTTP"): the request a plugin sends,
// and the meta document the host returns. The plugin binding (host/src/plugin/host_api.*)
// calls these; the body itself goes to the body sink raw.

#include <string>
#include <string_view>

#include <cw/services/http/http_service.hpp>
#include <cw/util/result.hpp>

namespace cw::services {

// Parses {"method","url","query":{k:v},"headers":{k:v},"body","timeout_ms","read",
// "retry_safe","endpoint"}. Query and header values may be strings, numbers or booleans.
// Defaults: method GET; read true for GET/HEAD/OPTIONS, false otherwise; endpoint derived
// from the URL with ids stripped. Errors (ErrorKind::invalid_arg) are one line and name the
// field: "http request: url: expected an absolute http:// or https:// URL".
Result<HttpRequest> parse_http_request(std::string_view json);

// {"status":200,"headers":{"content-type":"..."},"timing":{"total_ms":..,"connect_ms":..,
// "first_byte_ms":..},"attempts":1}. Repeated headers are joined with ", " (set-cookie is
// dropped: plugins never need cookies and they are credentials).
std::string http_response_meta_json(const HttpResponse& response);

// {"message":"...","retry_after_ms":N} for a failed request (message redacted).
std::string http_error_json(const Error& error);

}  // namespace cw::services
