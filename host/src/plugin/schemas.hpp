#pragma once
// The SDK's JSON schemas (sdk/schema/), compiled into the binary at build time: one for
// every document that crosses the ABI. The host validates manifests, replies and the
// plugin's HTTP requests with them (validate_against_schema, manifest.hpp).

#include <string_view>

namespace cw::plugin {

extern const std::string_view k_manifest_schema_json;      // manifest.schema.json
extern const std::string_view k_item_schema_json;          // item.schema.json
extern const std::string_view k_health_schema_json;        // health reply
extern const std::string_view k_index_schema_json;         // build_index reply (envelope)
extern const std::string_view k_outcomes_schema_json;      // add/remove/update reply
extern const std::string_view k_outcome_schema_json;       // one entry of "outcomes"
extern const std::string_view k_lookup_schema_json;        // lookup reply (ABI 1.1)
extern const std::string_view k_resolve_schema_json;       // resolve_ids reply (ABI 1.1)
extern const std::string_view k_auth_start_schema_json;    // auth_start reply
extern const std::string_view k_auth_poll_schema_json;     // auth_poll reply
extern const std::string_view k_error_schema_json;         // error document
extern const std::string_view k_http_request_schema_json;  // cw_host_api.http request
extern const std::string_view k_http_meta_schema_json;     // cw_host_api.http meta reply

}  // namespace cw::plugin
