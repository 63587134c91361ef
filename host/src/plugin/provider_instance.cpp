#include <set>

#include <cw/plugin/manifest.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/reply_buffer.hpp>
#include <cw/plugin/schemas.hpp>
#include <cw/plugin/sinks.hpp>
#include <cw/util/json_stream.hpp>
#include <cw/util/strings.hpp>

namespace cw::plugin {

using nlohmann::json;

json mask_secrets(const json& config, const std::vector<std::string>& secret_keys) {
  json out = config;
  if (!out.is_object()) return out;
  for (const auto& key : secret_keys) {
    const auto it = out.find(key);
    if (it != out.end() && !it->is_null()) *it = std::string(k_secret_placeholder);
  }
  return out;
}

namespace {

// The error document of a failed call: {"message","retry_after_ms"} or plain text.
Error error_from_document(cw_status status, const std::string& body) {
  Error e;
  e.kind = to_error_kind(status);
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    if (const auto it = doc.find("message"); it != doc.end() && it->is_string())
      e.message = util::one_line(it->get<std::string>());
    if (const auto it = doc.find("retry_after_ms"); it != doc.end() && it->is_number_integer())
      e.retry_after_ms = it->get<long long>();
  } else {
    e.message = util::one_line(body);
  }
  if (e.message.empty()) e.message = std::string("status ") + status_name(status) + ", no message";
  return e;
}

// Each check returns an empty string when the reply has the documented shape, else one
// line naming the field (the schemas are in sdk/schema/, compiled in).
std::string schema_problem(std::string_view schema, const json& doc, std::string_view what,
                           std::initializer_list<const char*> leave_out = {}) {
  const Status st = validate_document(schema, doc, what, leave_out);
  return st ? std::string() : util::one_line(st.error().message);
}

}  // namespace

// The envelope is held to the schema; items are not checked here but one by one by the
// engine, so that one unreadable item is reported and left out instead of failing the
// whole feature. Members the reply may omit are filled in.
std::string check_index_reply(json& doc, const FeatureCaps* caps,
                              std::optional<std::size_t> streamed) {
  if (auto bad = schema_problem(k_index_schema_json, doc, "reply", {"items", "removed"});
      !bad.empty())
    return bad;
  const auto n = streamed ? *streamed : doc["items"].size();
  if (!doc.contains("received") || doc["received"].is_null()) doc["received"] = n;
  if (!doc.contains("expected_total")) doc["expected_total"] = nullptr;
  if (!doc.contains("watermark")) doc["watermark"] = nullptr;
  if ((!doc.contains("semantics") || doc["semantics"].is_null()) && caps != nullptr)
    doc["semantics"] = caps->index_semantics;
  return {};
}

// A reply that is not {"outcomes": [...]} fails the request. Inside it, each outcome is
// judged on its own: one without a readable key is dropped (its item then has no outcome
// and counts as unknown), one with a key but a malformed body becomes "unknown" for that
// key, so that the host re-checks it before any resend instead of trusting or failing it.
std::string check_outcomes_reply(json& doc) {
  if (auto bad = schema_problem(k_outcomes_schema_json, doc, "reply", {"outcomes"}); !bad.empty())
    return bad;
  json kept = json::array();
  std::size_t n = 0;
  for (auto& o : doc["outcomes"]) {
    const std::string at = "outcomes[" + std::to_string(n++) + "]";
    const auto key = o.is_object() ? o.find("key") : o.end();
    if (!o.is_object() || key == o.end() || !key->is_string() ||
        key->get_ref<const std::string&>().empty())
      continue;
    if (auto bad = schema_problem(k_outcome_schema_json, o, at); !bad.empty()) {
      kept.push_back({{"key", *key},
                      {"status", "unknown"},
                      {"reason", "unknown"},
                      {"message", "malformed outcome from the plugin: " + bad}});
      continue;
    }
    kept.push_back(std::move(o));
  }
  doc["outcomes"] = std::move(kept);
  return {};
}

Result<std::unique_ptr<ProviderInstance>> ProviderInstance::create(std::shared_ptr<Library> library,
                                                                   std::string instance_name,
                                                                   const json& config,
                                                                   const HostServices& services) {
  const std::string where =
      "provider " + instance_name + " (plugin " + library->name() + "): create failed: ";
  if (!config.is_object())
    return make_error(where + "the configuration must be a JSON object", ErrorKind::invalid_arg);
  std::unique_ptr<ProviderInstance> self(new ProviderInstance());
  self->m_library = std::move(library);
  self->m_binding =
      std::make_unique<HostBinding>(services, self->m_library->name(), std::move(instance_name));
  const std::string config_text = config.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string err;
  cw_instance* inst = nullptr;
  try {
    inst = self->m_library->create(self->m_binding->table(), config_text.data(), config_text.size(),
                                   cw_sink{&err, &append_to_string});
  } catch (const std::exception& e) {
    return make_error(where + "create threw an exception (" + util::one_line(e.what()) +
                          "): the plugin must catch every exception at the ABI edge",
                      ErrorKind::internal);
  } catch (...) {
    return make_error(where +
                          "create threw an exception: the plugin must catch every "
                          "exception at the ABI edge",
                      ErrorKind::internal);
  }
  if (inst == nullptr) {
    // The reason is plain text by contract; accept an error document too.
    Error e = error_from_document(CW_STATUS_INVALID_ARG, err);
    if (err.empty()) e.message = "create returned NULL without a reason";
    return make_error(where + e.message, ErrorKind::invalid_arg);
  }
  self->m_instance = inst;
  return self;
}

ProviderInstance::~ProviderInstance() {
  if (m_instance == nullptr) return;
  std::lock_guard lock(m_mutex);
  try {
    m_library->api().destroy(m_instance);
  } catch (...) {
    // destroy "never fails"; one that throws anyway must not take the host down.
  }
  m_instance = nullptr;
}

Error ProviderInstance::error(std::string_view op, std::string_view what, ErrorKind kind) const {
  return make_error("provider " + name() + " (plugin " + m_library->name() + ") " +
                        std::string(op) + ": " + std::string(what),
                    kind);
}

Result<ProviderInstance::RawReply> ProviderInstance::call_raw(std::string_view op,
                                                              std::string_view request) {
  const cw_provider_api& api = m_library->api();
  cw_operation_fn fn = nullptr;
  if (op == "health")
    fn = api.health;
  else if (op == "build_index")
    fn = api.build_index;
  else if (op == "add")
    fn = api.add;
  else if (op == "remove")
    fn = api.remove;
  else if (op == "update")
    fn = api.update;
  else if (op == "scrobble")
    fn = api.scrobble;
  else if (op == "auth_start")
    fn = api.auth_start;
  else if (op == "auth_poll")
    fn = api.auth_poll;
  else if (op == "action")
    fn = api.action;
  else if (op == "lookup")
    fn = api.lookup;
  else if (op == "resolve_ids")
    fn = api.resolve_ids;
  else
    return error(op, "no such operation", ErrorKind::invalid_arg);
  if (fn == nullptr) return error(op, "the plugin does not implement it", ErrorKind::unsupported);
  RawReply reply;
  // One reply is held whole before it is parsed, capped (reply_buffer.hpp).
  ReplyBuffer sink;
  sink.cap = m_max_reply_bytes;
  std::lock_guard lock(m_mutex);
  try {
    reply.status = fn(m_instance, request.data(), request.size(), reply_buffer_sink(sink));
  } catch (...) {
    return error(op, "the operation threw an exception across the ABI");
  }
  if (sink.overflow)
    return error(op, "the reply is larger than " + std::to_string(m_max_reply_bytes) +
                         " bytes, the most one reply may hold; nothing of it was used");
  reply.body = std::move(sink.body);
  return reply;
}

Result<std::string> ProviderInstance::call_ok(const char* op, cw_operation_fn fn,
                                              const json& request) {
  if (fn == nullptr) return error(op, "the plugin does not implement it", ErrorKind::unsupported);
  const std::string text = request.dump(-1, ' ', false, json::error_handler_t::replace);
  auto raw = call_raw(op, text);
  if (!raw) return raw.error();
  if (raw->status != CW_STATUS_OK) {
    Error e = error_from_document(raw->status, raw->body);
    const bool known = raw->status > CW_STATUS_OK && raw->status <= CW_STATUS_CANCELLED;
    if (!known) e.message = "unknown status " + std::to_string(raw->status) + ": " + e.message;
    Error out = error(op, e.message, e.kind);
    out.retry_after_ms = e.retry_after_ms;
    return out;
  }
  return std::move(raw->body);
}

Result<json> ProviderInstance::call(const char* op, cw_operation_fn fn, const json& request) {
  auto raw = call_ok(op, fn, request);
  if (!raw) return raw.error();
  json doc = json::parse(*raw, nullptr, false);
  if (doc.is_discarded())
    return error(op, "response is not valid JSON (" + std::to_string(raw->size()) +
                         " bytes): the plugin must write one JSON document to the sink");
  return doc;
}

Result<json> ProviderInstance::health() {
  auto r = call("health", m_library->api().health, json::object());
  if (!r) return r;
  if (const std::string bad = schema_problem(k_health_schema_json, *r, "reply"); !bad.empty())
    return error("health", bad);
  return r;
}

Result<json> ProviderInstance::index_request(std::string_view feature,
                                             const std::optional<std::string>& watermark,
                                             const FeatureCaps*& caps) {
  caps = manifest().feature(feature);
  if (caps == nullptr)
    return error("build_index",
                 "feature '" + std::string(feature) + "' is not in the plugin's manifest",
                 ErrorKind::unsupported);
  json req = {{"feature", std::string(feature)}, {"watermark", nullptr}};
  if (watermark) req["watermark"] = *watermark;
  return req;
}

Result<json> ProviderInstance::build_index(std::string_view feature,
                                           const std::optional<std::string>& watermark) {
  const FeatureCaps* caps = nullptr;
  auto req = index_request(feature, watermark, caps);
  if (!req) return req;
  auto r = call("build_index", m_library->api().build_index, *req);
  if (!r) return r;
  if (const std::string bad = check_index_reply(*r, caps); !bad.empty())
    return error("build_index", bad);
  return r;
}

Result<json> ProviderInstance::build_index(std::string_view feature,
                                           const std::optional<std::string>& watermark,
                                           const ItemSink& each) {
  const FeatureCaps* caps = nullptr;
  auto req = index_request(feature, watermark, caps);
  if (!req) return req;
  auto raw = call_ok("build_index", m_library->api().build_index, *req);
  if (!raw) return raw.error();
  auto doc = util::parse_streaming_member(*raw, "items", each);
  if (!doc)
    return error("build_index",
                 "response is " + doc.error().message + " (" + std::to_string(raw->size()) +
                     " bytes): the plugin must write one JSON document to the sink",
                 doc.error().kind);
  raw->clear();
  raw->shrink_to_fit();
  if (const std::string bad = check_index_reply(doc->rest, caps, doc->streamed); !bad.empty())
    return error("build_index", bad);
  return std::move(doc->rest);
}

Result<json> ProviderInstance::write_op(const char* op, cw_operation_fn fn,
                                        std::string_view feature, const json& items) {
  const FeatureCaps* caps = manifest().feature(feature);
  if (caps == nullptr)
    return error(op, "feature '" + std::string(feature) + "' is not in the plugin's manifest",
                 ErrorKind::unsupported);
  const std::string_view o(op);
  if ((o == "add" && !caps->add) || (o == "remove" && !caps->remove) ||
      (o == "update" && !caps->update))
    return error(op,
                 "the manifest does not declare " + std::string(op) + " for feature '" +
                     std::string(feature) + "'",
                 ErrorKind::unsupported);
  if (!items.is_array())
    return error(op, "items must be a JSON array (host bug)", ErrorKind::invalid_arg);
  auto r = call(op, fn, json{{"feature", std::string(feature)}, {"items", items}});
  if (!r) return r;
  if (const std::string bad = check_outcomes_reply(*r); !bad.empty()) return error(op, bad);
  return r;
}

Result<json> ProviderInstance::add(std::string_view feature, const json& items) {
  return write_op("add", m_library->api().add, feature, items);
}

Result<json> ProviderInstance::remove(std::string_view feature, const json& items) {
  return write_op("remove", m_library->api().remove, feature, items);
}

Result<json> ProviderInstance::update(std::string_view feature, const json& items) {
  return write_op("update", m_library->api().update, feature, items);
}

Result<json> ProviderInstance::lookup(std::string_view feature, const json& items) {
  if (!manifest().lookup)
    return error("lookup", "the manifest does not declare the lookup capability",
                 ErrorKind::unsupported);
  if (manifest().feature(feature) == nullptr)
    return error("lookup", "feature '" + std::string(feature) + "' is not in the plugin's manifest",
                 ErrorKind::unsupported);
  auto r = call("lookup", m_library->api().lookup,
                json{{"feature", std::string(feature)}, {"items", items}});
  if (!r) return r;
  if (const std::string bad = schema_problem(k_lookup_schema_json, *r, "reply"); !bad.empty())
    return error("lookup", bad);
  return r;
}

Result<json> ProviderInstance::resolve_ids(const json& items) {
  if (!manifest().resolve_ids)
    return error("resolve_ids", "the manifest does not declare the resolve_ids capability",
                 ErrorKind::unsupported);
  auto r = call("resolve_ids", m_library->api().resolve_ids, json{{"items", items}});
  if (!r) return r;
  if (const std::string bad = schema_problem(k_resolve_schema_json, *r, "reply"); !bad.empty())
    return error("resolve_ids", bad);
  return r;
}

Result<json> ProviderInstance::action(std::string_view action_name, const json& args) {
  if (!manifest().has_action(action_name)) {
    std::string names;
    for (const auto& a : manifest().actions) names += (names.empty() ? "" : ", ") + a.name;
    return error("action",
                 "no action '" + std::string(action_name) +
                     "' (available: " + (names.empty() ? std::string("none") : names) + ")",
                 ErrorKind::invalid_arg);
  }
  return call(
      "action", m_library->api().action,
      json{{"action", std::string(action_name)}, {"args", args.is_null() ? json::object() : args}});
}

Result<json> ProviderInstance::scrobble(const json& request) {
  auto r = call("scrobble", m_library->api().scrobble, request);
  if (r && !r->is_object()) return error("scrobble", "response is not a JSON object");
  return r;
}

Result<json> ProviderInstance::auth_start(const json& fields) {
  auto r = call("auth_start", m_library->api().auth_start,
                json{{"fields", fields.is_null() ? json::object() : fields}});
  if (!r) return r;
  if (const std::string bad = schema_problem(k_auth_start_schema_json, *r, "reply"); !bad.empty())
    return error("auth_start", bad);
  return r;
}

Result<json> ProviderInstance::auth_poll() {
  auto r = call("auth_poll", m_library->api().auth_poll, json::object());
  if (!r) return r;
  if (const std::string bad = schema_problem(k_auth_poll_schema_json, *r, "reply"); !bad.empty())
    return error("auth_poll", bad);
  return r;
}

}  // namespace cw::plugin
