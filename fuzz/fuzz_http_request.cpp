// The request document a plugin hands to cw_host_api.http.
#include <string_view>

#include <cw/services/http/http_json.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(http_request) {
  const auto req =
      cw::services::parse_http_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (req) CW_FUZZ_CHECK(!req->method.empty());
  return 0;
}
