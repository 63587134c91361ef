#include <set>

#include <cw/plugin/provider_instance.hpp>

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

void append_sink(void* ctx, const char* data, size_t len) {
  if (data != nullptr) static_cast<std::string*>(ctx)->append(data, len);
}

std::string one_line(std::string s, std::size_t max_len = 500) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > max_len) s = s.substr(0, max_len - 3) + "...";
  return s;
}

// The error document of a failed call: {"message","retry_after_ms"} or plain text.
Error error_from_document(cw_status status, const std::string& body) {
  Error e;
  e.kind = to_error_kind(status);
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    if (const auto it = doc.find("message"); it != doc.end() && it->is_string())
      e.message = one_line(it->get<std::string>());
    if (const auto it = doc.find("retry_after_ms"); it != doc.end() && it->is_number_integer())
      e.retry_after_ms = it->get<long long>();
  } else {
    e.message = one_line(body);
  }
  if (e.message.empty()) e.message = std::string("status ") + status_name(status) + ", no message";
  return e;
}

bool is_one_of(const json& v, std::initializer_list<const char*> allowed) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  for (const char* a : allowed)
    if (s == a) return true;
  return false;
}

// Each returns an empty string when the document has the documented shape.
std::string check_health(const json& doc) {
  if (!doc.is_object()) return "response is not a JSON object";
  if (!doc.contains("status")) return "response has no \"status\"";
  if (!is_one_of(doc["status"], {"ok", "degraded", "down", "auth_failed"}))
    return "\"status\" must be one of ok, degraded, down, auth_failed";
  if (doc.contains("message") && !doc["message"].is_string() && !doc["message"].is_null())
    return "\"message\" must be a string";
  if (doc.contains("features") && !doc["features"].is_object())
    return "\"features\" must be an object";
  return {};
}

std::string check_index(json& doc, const FeatureCaps* caps) {
  if (!doc.is_object()) return "response is not a JSON object";
  if (!doc.contains("items") || !doc["items"].is_array()) return "\"items\" must be an array";
  if (!doc.contains("complete") || !doc["complete"].is_boolean())
    return "\"complete\" must be a boolean";
  std::size_t n = 0;
  for (const auto& item : doc["items"]) {
    if (!item.is_object()) return "items[" + std::to_string(n) + "] is not an object";
    const auto t = item.find("type");
    if (t == item.end() || !is_one_of(*t, {"movie", "show", "season", "episode"}))
      return "items[" + std::to_string(n) + "].type must be movie, show, season or episode";
    ++n;
  }
  if (doc.contains("expected_total") && !doc["expected_total"].is_null() &&
      !doc["expected_total"].is_number_unsigned() && !doc["expected_total"].is_number_integer())
    return "\"expected_total\" must be an integer or null";
  if (doc.contains("received") && !doc["received"].is_number_integer())
    return "\"received\" must be an integer";
  if (doc.contains("watermark") && !doc["watermark"].is_null() && !doc["watermark"].is_string())
    return "\"watermark\" must be a string or null";
  if (doc.contains("semantics") && !is_one_of(doc["semantics"], {"present", "delta"}))
    return "\"semantics\" must be present or delta";
  if (!doc.contains("received")) doc["received"] = n;
  if (!doc.contains("expected_total")) doc["expected_total"] = nullptr;
  if (!doc.contains("watermark")) doc["watermark"] = nullptr;
  if (!doc.contains("semantics") && caps != nullptr) doc["semantics"] = caps->index_semantics;
  return {};
}

std::string check_outcomes(const json& doc) {
  if (!doc.is_object()) return "response is not a JSON object";
  if (!doc.contains("outcomes") || !doc["outcomes"].is_array())
    return "\"outcomes\" must be an array";
  std::size_t n = 0;
  for (const auto& o : doc["outcomes"]) {
    const std::string at = "outcomes[" + std::to_string(n++) + "]";
    if (!o.is_object()) return at + " is not an object";
    if (!o.contains("key") || !o["key"].is_string()) return at + ".key must be a string";
    if (!o.contains("status") || !is_one_of(o["status"], {"confirmed", "skipped", "unresolved"}))
      return at + ".status must be confirmed, skipped or unresolved";
    if (o.contains("reason") && !o["reason"].is_null() &&
        !is_one_of(o["reason"], {"not_found", "rate_limited", "rejected", "unknown"}))
      return at + ".reason must be not_found, rate_limited, rejected or unknown";
  }
  return {};
}

}  // namespace

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
    inst = self->m_library->api().create(self->m_binding->table(), config_text.data(),
                                         config_text.size(), cw_sink{&err, &append_sink});
  } catch (const std::exception& e) {
    return make_error(where + "create threw an exception (" + one_line(e.what()) +
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
  else
    return error(op, "no such operation", ErrorKind::invalid_arg);
  if (fn == nullptr) return error(op, "the plugin does not implement it", ErrorKind::unsupported);
  RawReply reply;
  std::lock_guard lock(m_mutex);
  try {
    reply.status =
        fn(m_instance, request.data(), request.size(), cw_sink{&reply.body, &append_sink});
  } catch (...) {
    return error(op, "the operation threw an exception across the ABI");
  }
  return reply;
}

Result<json> ProviderInstance::call(const char* op, cw_operation_fn fn, const json& request) {
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
  json doc = json::parse(raw->body, nullptr, false);
  if (doc.is_discarded())
    return error(op, "response is not valid JSON (" + std::to_string(raw->body.size()) +
                         " bytes): the plugin must write one JSON document to the sink");
  return doc;
}

Result<json> ProviderInstance::health() {
  auto r = call("health", m_library->api().health, json::object());
  if (!r) return r;
  if (const std::string bad = check_health(*r); !bad.empty()) return error("health", bad);
  return r;
}

Result<json> ProviderInstance::build_index(std::string_view feature,
                                           const std::optional<std::string>& watermark) {
  const FeatureCaps* caps = manifest().feature(feature);
  if (caps == nullptr)
    return error("build_index",
                 "feature '" + std::string(feature) + "' is not in the plugin's manifest",
                 ErrorKind::unsupported);
  json req = {{"feature", std::string(feature)}, {"watermark", nullptr}};
  if (watermark) req["watermark"] = *watermark;
  auto r = call("build_index", m_library->api().build_index, req);
  if (!r) return r;
  if (const std::string bad = check_index(*r, caps); !bad.empty()) return error("build_index", bad);
  return r;
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
  if (const std::string bad = check_outcomes(*r); !bad.empty()) return error(op, bad);
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
  if (r && (!r->is_object() || !r->contains("kind")))
    return error("auth_start", "response must be a JSON object with \"kind\"");
  return r;
}

Result<json> ProviderInstance::auth_poll() {
  auto r = call("auth_poll", m_library->api().auth_poll, json::object());
  if (r && (!r->is_object() ||
            !is_one_of(r->value("state", json()), {"pending", "done", "denied", "expired"})))
    return error("auth_poll", "\"state\" must be pending, done, denied or expired");
  return r;
}

}  // namespace cw::plugin
