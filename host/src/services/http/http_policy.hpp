#pragma once
// The rules every HttpService implementation applies the same way (the libcurl service and
// the test fake): dry-run refusal and which requests may be repeated.

#include <string_view>

#include <cw/services/http/http_service.hpp>
#include <cw/util/result.hpp>

namespace cw::services {

// GET, HEAD, OPTIONS, PUT and DELETE: sending them twice has the effect of sending once.
bool is_idempotent_method(std::string_view method);
// May this request be sent again after a failure that might have reached the server?
bool may_repeat(const HttpRequest& request);
// In a dry run, anything the plugin has not marked `read` is refused (ErrorKind::unsupported).
Status check_dry_run(const HttpContext& ctx, const HttpRequest& request);
// Statuses worth another attempt: 408, 425, 429, 500, 502, 503, 504.
bool is_retryable_status(int status);
// Remembers the credentials a request carries (sensitive headers and query values) with
// the Redactor, so that they are masked wherever they might show up later.
void register_request_secrets(const HttpRequest& request);
// The URL with its query appended and URL-encoded: what goes on the wire.
std::string full_url(const HttpRequest& request);

}  // namespace cw::services
