#include <map>
#include <memory>
#include <mutex>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cw/plugin/manifest.hpp>
#include <cw/plugin/schemas.hpp>

namespace cw::plugin {
namespace {

struct CompiledSchema {
  rapidjson::Document document;  // kept to look up keywords when describing an error
  std::unique_ptr<rapidjson::SchemaDocument> schema;
};

// Schemas are compiled once per process. They are the host's own (embedded) or a test's,
// so a schema that does not parse is a build defect and reported as such.
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

std::string pointer_text(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer buf;
  p.Stringify(buf);
  std::string s(buf.GetString(), buf.GetSize());
  return s.empty() ? "/" : s;
}

std::string join_values(const rapidjson::Value& array) {
  std::string out;
  for (const auto& v : array.GetArray()) {
    if (!out.empty()) out += ", ";
    out += v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : to_text(v);
  }
  return out;
}

// One line that names the failing field and what was expected. rapidjson 1.1 reports the
// keyword and both pointers; the rest is read from the schema and the document.
std::string describe(const CompiledSchema& schema, const rapidjson::Document& doc,
                     const rapidjson::SchemaValidator& validator, std::string_view what) {
  const std::string keyword = validator.GetInvalidSchemaKeyword();
  const rapidjson::Pointer doc_ptr = validator.GetInvalidDocumentPointer();
  const rapidjson::Pointer schema_ptr = validator.GetInvalidSchemaPointer();
  std::string field = pointer_text(doc_ptr);
  const rapidjson::Value* node = doc_ptr.Get(doc);
  const rapidjson::Value* rule = schema_ptr.Get(schema.document);
  std::string detail;

  if (keyword == "required" && rule && rule->HasMember("required") && node && node->IsObject()) {
    for (const auto& name : (*rule)["required"].GetArray()) {
      if (name.IsString() && !node->HasMember(name)) {
        field = (field == "/" ? "" : field) + "/" + name.GetString();
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
  } else if (keyword == "type" && rule && rule->HasMember("type") && node) {
    const auto& t = (*rule)["type"];
    detail = "expected " + (t.IsArray() ? join_values(t) : std::string(t.GetString())) + ", got " +
             type_name(*node);
  } else if (keyword == "pattern" && rule && rule->HasMember("pattern") && node) {
    detail = "value " + to_text(*node) + " does not match " + (*rule)["pattern"].GetString();
  } else if ((keyword == "minimum" || keyword == "maximum") && rule && node) {
    detail = "value " + to_text(*node) + " is out of range (" + keyword + " " +
             to_text((*rule)[keyword.c_str()]) + ")";
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
  }
  if (detail.empty()) detail = "fails the schema rule '" + keyword + "'";
  return std::string(what) + " field " + field + ": " + detail;
}

bool bool_or(const nlohmann::json& obj, const char* key, bool fallback) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

}  // namespace

Status validate_against_schema(std::string_view schema_text, std::string_view document,
                               std::string_view what) {
  const CompiledSchema* schema = compiled(schema_text);
  if (schema == nullptr)
    return make_error("internal: the " + std::string(what) + " schema does not parse; rebuild cw",
                      ErrorKind::internal);
  rapidjson::Document doc;
  doc.Parse(document.data(), document.size());
  if (doc.HasParseError())
    return make_error(std::string(what) + " is not valid JSON: " +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                          std::to_string(doc.GetErrorOffset()),
                      ErrorKind::invalid_arg);
  rapidjson::SchemaValidator validator(*schema->schema);
  if (!doc.Accept(validator))
    return make_error(describe(*schema, doc, validator, what), ErrorKind::invalid_arg);
  return ok_status();
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

bool Manifest::declares_update() const {
  for (const auto& [feature_name, caps] : features)
    if (caps.update) return true;
  return false;
}

bool Manifest::has_action(std::string_view action_name) const {
  for (const auto& a : actions)
    if (a.name == action_name) return true;
  return false;
}

const FeatureCaps* Manifest::feature(std::string_view feature_name) const {
  const auto it = features.find(std::string(feature_name));
  return it == features.end() ? nullptr : &it->second;
}

Result<Manifest> parse_manifest(std::string_view text) {
  if (Status st = validate_against_schema(k_manifest_schema_json, text, "manifest"); !st)
    return st.error();
  Manifest m;
  try {
    m.raw = nlohmann::json::parse(text);
    const auto& j = m.raw;
    m.name = j.at("name").get<std::string>();
    m.version = j.at("version").get<std::string>();
    m.display_name = j.value("display_name", m.name);
    m.description = j.value("description", "");
    for (const auto& [fname, f] : j.at("features").items()) {
      FeatureCaps caps;
      caps.types = f.at("types").get<std::vector<std::string>>();
      caps.index_semantics = f.at("index_semantics").get<std::string>();
      caps.add = bool_or(f, "add", false);
      caps.remove = bool_or(f, "remove", false);
      caps.update = bool_or(f, "update", false);
      caps.observes_deletes = bool_or(f, "observes_deletes", false);
      caps.provides_ids = bool_or(f, "provides_ids", false);
      caps.chunk_size = f.value("chunk_size", 100);
      caps.page_size = f.value("page_size", 0);
      caps.writes_watch_date = bool_or(f, "writes_watch_date", false);
      caps.rewatches = bool_or(f, "rewatches", false);
      caps.stores_rated_at = bool_or(f, "stores_rated_at", false);
      if (f.contains("rating_scale")) {
        const auto& rs = f["rating_scale"];
        caps.rating_scale = RatingScale{rs.at("min").get<double>(), rs.at("max").get<double>(),
                                        rs.value("step", 1.0)};
      }
      m.features.emplace(fname, std::move(caps));
    }
    const auto& caps = j.at("capabilities");
    m.auth = caps.value("auth", "none");
    m.scrobble = bool_or(caps, "scrobble", false);
    m.lookup = bool_or(caps, "lookup", false);
    m.resolve_ids = bool_or(caps, "resolve_ids", false);
    if (j.contains("secrets")) m.secrets = j["secrets"].get<std::vector<std::string>>();
    if (j.contains("actions"))
      for (const auto& a : j["actions"])
        m.actions.push_back({a.at("name").get<std::string>(), a.value("description", "")});
    if (j.contains("rate_limits")) m.rate_limits = j["rate_limits"];
    if (j.contains("auth_prompts")) m.auth_prompts = j["auth_prompts"];
    m.config_schema = j.at("config");
  } catch (const nlohmann::json::exception& e) {
    // The schema should have caught it; say so rather than crash.
    return make_error(std::string("manifest could not be read: ") + e.what(),
                      ErrorKind::invalid_arg);
  }
  if (m.features.count("ratings") != 0 && m.features["ratings"].rating_scale) {
    const auto& rs = *m.features["ratings"].rating_scale;
    if (!(rs.min < rs.max))
      return make_error("manifest field /features/ratings/rating_scale: min must be below max",
                        ErrorKind::invalid_arg);
  }
  return m;
}

}  // namespace cw::plugin
