#include <map>
#include <memory>
#include <mutex>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cw/util/json_schema.hpp>

namespace cw::util {
namespace {

struct CompiledSchema {
  rapidjson::Document document;  // kept to look up keywords when describing an error
  std::unique_ptr<rapidjson::SchemaDocument> schema;
};

// Schemas are compiled once per process. They are the host's own (embedded), a plugin's
// config schema or a test's; one that does not parse is reported, never thrown.
const CompiledSchema* compiled(std::string_view schema_text) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<CompiledSchema>, std::less<>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(schema_text);
  if (it != cache.end()) return it->second.get();
  auto c = std::make_unique<CompiledSchema>();
  c->document.Parse(schema_text.data(), schema_text.size());
  if (c->document.HasParseError()) return nullptr;
  c->schema = std::make_unique<rapidjson::SchemaDocument>(c->document);
  return cache.emplace(std::string(schema_text), std::move(c)).first->second.get();
}

std::string to_text(const rapidjson::Value& v, std::size_t max_len = 60) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v.Accept(writer);
  std::string s(buf.GetString(), buf.GetSize());
  if (s.size() > max_len) s = s.substr(0, max_len - 3) + "...";
  return s;
}

std::string type_name(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsInt64() || v.IsUint64()) return "an integer";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

// Whether `v` has the JSON Schema type `type` ("integer" is a number without a fraction).
bool has_type(const rapidjson::Value& v, std::string_view type) {
  if (type == "null") return v.IsNull();
  if (type == "boolean") return v.IsBool();
  if (type == "integer") return v.IsInt64() || v.IsUint64();
  if (type == "number") return v.IsNumber();
  if (type == "string") return v.IsString();
  if (type == "array") return v.IsArray();
  if (type == "object") return v.IsObject();
  return false;
}

std::string pointer_text(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer buf;
  p.Stringify(buf);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string join_values(const rapidjson::Value& array, const char* separator = ", ") {
  std::string out;
  for (const auto& v : array.GetArray()) {
    if (!out.empty()) out += separator;
    out += v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : to_text(v);
  }
  return out;
}

// A "$ref": "#/..." inside `root`, followed; anything else as given.
const rapidjson::Value* resolve(const rapidjson::Value& root, const rapidjson::Value& schema) {
  if (!schema.IsObject() || !schema.HasMember("$ref") || !schema["$ref"].IsString()) return &schema;
  const std::string ref = schema["$ref"].GetString();
  if (ref.rfind('#', 0) != 0) return &schema;
  const rapidjson::Value* target = rapidjson::Pointer(ref.substr(1).c_str()).Get(root);
  return target != nullptr ? target : &schema;
}

SchemaViolation describe(const CompiledSchema& schema, const rapidjson::Value& doc,
                         const rapidjson::SchemaValidator& validator, int depth);

// rapidjson names only the oneOf/anyOf that failed. The alternative of the value's own
// type (a mapping where `true` or a mapping is allowed) says what is wrong inside it: it is
// validated on its own, with the schema's definitions, and its first failure is reported.
std::optional<SchemaViolation> describe_alternatives(const CompiledSchema& schema,
                                                     const rapidjson::Value& rule,
                                                     const rapidjson::Value& node,
                                                     const std::string& keyword, int depth) {
  const rapidjson::Value& alts = rule[keyword.c_str()];
  if (!alts.IsArray()) return std::nullopt;
  std::string types;
  std::string keys;  // alternatives that only require a key: "every, cron"
  const rapidjson::Value* match = nullptr;
  for (const auto& alt_in : alts.GetArray()) {
    const rapidjson::Value& alt = *resolve(schema.document, alt_in);
    if (!alt.IsObject()) continue;
    if (alt.MemberCount() == 1 && alt.HasMember("required") && alt["required"].IsArray()) {
      keys += (keys.empty() ? "" : ", ") + join_values(alt["required"]);
      continue;
    }
    if (!alt.HasMember("type")) continue;
    const auto& t = alt["type"];
    bool fits = false;
    if (t.IsString()) fits = has_type(node, t.GetString());
    if (t.IsArray())
      for (const auto& one : t.GetArray())
        fits = fits || (one.IsString() && has_type(node, one.GetString()));
    types += (types.empty() ? "" : " or ") + (t.IsArray() ? join_values(t, " or ") : to_text(t));
    if (fits && match == nullptr) match = &alt;
  }
  if (!keys.empty() && types.empty())
    return SchemaViolation{"", keyword, "expected exactly one of the keys " + keys};
  if (match == nullptr) {
    if (types.empty()) return std::nullopt;
    std::string shown;
    for (char c : types)
      if (c != '"') shown += c;
    return SchemaViolation{"", keyword, "expected " + shown + ", got " + type_name(node)};
  }
  if (depth > 8) return std::nullopt;
  // The alternative as a schema of its own, with the definitions its references name.
  rapidjson::Document sub;
  sub.CopyFrom(*match, sub.GetAllocator());
  for (const char* defs : {"$defs", "definitions"}) {
    if (schema.document.IsObject() && schema.document.HasMember(defs) && !sub.HasMember(defs)) {
      rapidjson::Value name(defs, sub.GetAllocator());
      rapidjson::Value copy(schema.document[defs], sub.GetAllocator());
      sub.AddMember(name, copy, sub.GetAllocator());
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  sub.Accept(writer);
  const CompiledSchema* sub_schema = compiled(std::string_view(buf.GetString(), buf.GetSize()));
  if (sub_schema == nullptr) return std::nullopt;
  rapidjson::SchemaValidator sub_validator(*sub_schema->schema);
  if (node.Accept(sub_validator)) return std::nullopt;  // two alternatives matched
  return describe(*sub_schema, node, sub_validator, depth + 1);
}

// One line that names the failing field and what was expected. rapidjson 1.1 reports the
// keyword and both pointers; the rest is read from the schema and the document.
SchemaViolation describe(const CompiledSchema& schema, const rapidjson::Value& doc,
                         const rapidjson::SchemaValidator& validator, int depth) {
  SchemaViolation v;
  v.keyword = validator.GetInvalidSchemaKeyword();
  const std::string& keyword = v.keyword;
  const rapidjson::Pointer doc_ptr = validator.GetInvalidDocumentPointer();
  const rapidjson::Pointer schema_ptr = validator.GetInvalidSchemaPointer();
  v.pointer = pointer_text(doc_ptr);
  const rapidjson::Value* node = doc_ptr.Get(doc);
  const rapidjson::Value* rule = schema_ptr.Get(schema.document);
  std::string& detail = v.detail;

  if (keyword == "required" && rule && rule->HasMember("required") && node && node->IsObject()) {
    for (const auto& name : (*rule)["required"].GetArray()) {
      if (name.IsString() && !node->HasMember(name)) {
        v.pointer += "/" + std::string(name.GetString());
        detail = "is required but missing";
        break;
      }
    }
  } else if (keyword == "additionalProperties" && rule) {
    // rapidjson points at the unexpected member itself.
    std::string names;
    if (rule->HasMember("properties") && (*rule)["properties"].IsObject()) {
      for (const auto& p : (*rule)["properties"].GetObject()) {
        if (!names.empty()) names += ", ";
        names += p.name.GetString();
      }
    }
    detail = "is not a known field (allowed: " + names + ")";
  } else if (keyword == "enum" && rule && rule->HasMember("enum") && node) {
    detail = "value " + to_text(*node) + " is not one of " + join_values((*rule)["enum"]);
    if ((*rule)["enum"].Size() == 1)
      detail = "value " + to_text(*node) + " is not " + join_values((*rule)["enum"]);
  } else if (keyword == "type" && rule && rule->HasMember("type") && node) {
    const auto& t = (*rule)["type"];
    detail = "expected " + (t.IsArray() ? join_values(t, " or ") : std::string(t.GetString())) +
             ", got " + type_name(*node);
  } else if (keyword == "pattern" && rule && rule->HasMember("pattern") && node) {
    detail = "value " + to_text(*node) + " does not match " + (*rule)["pattern"].GetString();
  } else if ((keyword == "minimum" || keyword == "maximum") && rule && node) {
    const char* exclusive = keyword == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum";
    const bool excl = rule->HasMember(exclusive) && (*rule)[exclusive].IsTrue();
    detail = "value " + to_text(*node) + " is out of range (" + (excl ? "exclusive " : "") +
             keyword + " " + to_text((*rule)[keyword.c_str()]) + ")";
  } else if ((keyword == "minItems" || keyword == "minProperties" || keyword == "minLength") &&
             rule) {
    detail = "needs at least " + to_text((*rule)[keyword.c_str()]) +
             (keyword == "minLength" ? " characters" : " entries");
  } else if ((keyword == "maxItems" || keyword == "maxProperties" || keyword == "maxLength") &&
             rule) {
    detail = "allows at most " + to_text((*rule)[keyword.c_str()]) +
             (keyword == "maxLength" ? " characters" : " entries");
  } else if (keyword == "uniqueItems") {
    detail = "entries must be unique";
  } else if ((keyword == "oneOf" || keyword == "anyOf") && rule && node) {
    if (auto inner = describe_alternatives(schema, *rule, *node, keyword, depth)) {
      v.keyword = inner->keyword;
      v.pointer += inner->pointer;
      detail = inner->detail;
    }
  } else if (keyword == "not") {
    // Not the value: a `not` rule guards text that may be a pasted secret.
    detail = "this value is not allowed here";
  }
  if (detail.empty()) detail = "fails the schema rule '" + keyword + "'";
  return v;
}

}  // namespace

Result<std::optional<SchemaViolation>> find_schema_violation(std::string_view schema_text,
                                                             std::string_view document) {
  const CompiledSchema* schema = compiled(schema_text);
  if (schema == nullptr) return make_error("the schema does not parse", ErrorKind::internal);
  rapidjson::Document doc;
  doc.Parse(document.data(), document.size());
  if (doc.HasParseError())
    return make_error(std::string("not valid JSON: ") +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                          std::to_string(doc.GetErrorOffset()),
                      ErrorKind::invalid_arg);
  rapidjson::SchemaValidator validator(*schema->schema);
  if (doc.Accept(validator)) return std::optional<SchemaViolation>();
  return std::optional<SchemaViolation>(describe(*schema, doc, validator, 0));
}

Status validate_against_schema(std::string_view schema_text, std::string_view document,
                               std::string_view what) {
  auto found = find_schema_violation(schema_text, document);
  if (!found) {
    if (found.error().kind == ErrorKind::internal)
      return make_error("internal: the " + std::string(what) + " schema does not parse; rebuild cw",
                        ErrorKind::internal);
    return make_error(std::string(what) + " is not valid JSON: " +
                          found.error().message.substr(std::string("not valid JSON: ").size()),
                      ErrorKind::invalid_arg);
  }
  if (!*found) return ok_status();
  const SchemaViolation& v = **found;
  return make_error(
      std::string(what) + " field " + (v.pointer.empty() ? "/" : v.pointer) + ": " + v.detail,
      ErrorKind::invalid_arg);
}

Status validate_document(std::string_view schema_text, const nlohmann::json& document,
                         std::string_view what, std::initializer_list<const char*> leave_out) {
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (leave_out.size() == 0 || !document.is_object())
    return validate_against_schema(schema_text, dump(document), what);
  nlohmann::json envelope = nlohmann::json::object();
  for (auto it = document.begin(); it != document.end(); ++it) {
    bool left_out = false;
    for (const char* name : leave_out) left_out = left_out || it.key() == name;
    envelope[it.key()] = left_out && it->is_array() ? nlohmann::json::array() : *it;
  }
  return validate_against_schema(schema_text, dump(envelope), what);
}

}  // namespace cw::util
