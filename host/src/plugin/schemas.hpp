#pragma once
// The SDK's JSON schemas (sdk/schema/), compiled into the binary at build time.

#include <string_view>

namespace cw::plugin {

extern const std::string_view k_manifest_schema_json;  // manifest.schema.json
extern const std::string_view k_item_schema_json;      // item.schema.json

}  // namespace cw::plugin
