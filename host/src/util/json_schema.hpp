#pragma once
// One JSON Schema validator for every document the host checks: plugin manifests, the
// documents that cross the ABI, plugin settings and cw.yaml (docs/cw.schema.json).
// rapidjson's validator: draft-04 keywords only (`const` and a numeric `exclusiveMinimum`
// are not understood; our schemas write them as a one-value `enum` and
// `"minimum": x, "exclusiveMinimum": true`).

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <cw/util/result.hpp>

namespace cw::util {

// The first rule a document breaks.
struct SchemaViolation {
  std::string pointer;  // the failing field, a JSON pointer ("/pairs/0/mode"; "" is the root)
  std::string keyword;  // the rule: type, enum, required, additionalProperties, minimum, ...
  std::string detail;   // what is wrong, one line: "value \"x\" is not one of a, b"
};

// Validates `document` (JSON text) against a JSON schema given as text. A value when the
// document breaks a rule; an error only when the schema or the document is not JSON.
Result<std::optional<SchemaViolation>> find_schema_violation(std::string_view schema_text,
                                                             std::string_view document);

// The same as a Status whose one-line error names the failing field and what was expected,
// prefixed by `what`: "manifest field /features/watchlist/index_semantics: value ...".
Status validate_against_schema(std::string_view schema_text, std::string_view document,
                               std::string_view what);

// The same for a parsed document. Members named in `leave_out` (large arrays checked item
// by item elsewhere, such as an index's "items") are validated as empty arrays when they
// are arrays, so the envelope costs the same for 10 items or 100,000.
Status validate_document(std::string_view schema_text, const nlohmann::json& document,
                         std::string_view what, std::initializer_list<const char*> leave_out = {});

}  // namespace cw::util
