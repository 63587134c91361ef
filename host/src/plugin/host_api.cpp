#include <string_view>

#include <nlohmann/json.hpp>

#include <cw/plugin/host_api.hpp>
#include <cw/plugin/sinks.hpp>
#include <cw/services/http/http_json.hpp>

namespace cw::plugin {

using nlohmann::json;

cw_status to_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_arg:
      return CW_STATUS_INVALID_ARG;
    case ErrorKind::unsupported:
      return CW_STATUS_UNSUPPORTED;
    case ErrorKind::auth:
      return CW_STATUS_AUTH;
    case ErrorKind::not_found:
      return CW_STATUS_NOT_FOUND;
    case ErrorKind::rate_limited:
      return CW_STATUS_RATE_LIMITED;
    case ErrorKind::transient:
      return CW_STATUS_TRANSIENT;
    case ErrorKind::internal:
      return CW_STATUS_INTERNAL;
    case ErrorKind::cancelled:
      return CW_STATUS_CANCELLED;
  }
  return CW_STATUS_INTERNAL;
}

ErrorKind to_error_kind(cw_status status) {
  switch (status) {
    case CW_STATUS_INVALID_ARG:
      return ErrorKind::invalid_arg;
    case CW_STATUS_UNSUPPORTED:
      return ErrorKind::unsupported;
    case CW_STATUS_AUTH:
      return ErrorKind::auth;
    case CW_STATUS_NOT_FOUND:
      return ErrorKind::not_found;
    case CW_STATUS_RATE_LIMITED:
      return ErrorKind::rate_limited;
    case CW_STATUS_TRANSIENT:
      return ErrorKind::transient;
    case CW_STATUS_CANCELLED:
      return ErrorKind::cancelled;
    default:
      return ErrorKind::internal;
  }
}

const char* status_name(cw_status status) {
  switch (status) {
    case CW_STATUS_OK:
      return "OK";
    case CW_STATUS_INVALID_ARG:
      return "INVALID_ARG";
    case CW_STATUS_UNSUPPORTED:
      return "UNSUPPORTED";
    case CW_STATUS_AUTH:
      return "AUTH";
    case CW_STATUS_NOT_FOUND:
      return "NOT_FOUND";
    case CW_STATUS_RATE_LIMITED:
      return "RATE_LIMITED";
    case CW_STATUS_TRANSIENT:
      return "TRANSIENT";
    case CW_STATUS_INTERNAL:
      return "INTERNAL";
    case CW_STATUS_CANCELLED:
      return "CANCELLED";
    default:
      return "UNKNOWN";
  }
}

namespace {

HostBinding& self(void* ctx) { return *static_cast<HostBinding*>(ctx); }

void write_error(cw_sink sink, std::string_view message, long long retry_after_ms = -1) {
  json doc = {{"message", std::string(message)}};
  if (retry_after_ms >= 0) doc["retry_after_ms"] = retry_after_ms;
  write_to_sink(sink, doc.dump(-1, ' ', false, json::error_handler_t::replace));
}

cw_status unsupported(cw_sink sink, std::string_view what) {
  write_error(sink, what);
  return CW_STATUS_UNSUPPORTED;
}

services::LogLevel level_of(int32_t level) {
  if (level <= CW_LOG_TRACE) return services::LogLevel::trace;
  if (level == CW_LOG_DEBUG) return services::LogLevel::debug;
  if (level == CW_LOG_INFO) return services::LogLevel::info;
  if (level == CW_LOG_WARN) return services::LogLevel::warn;
  return services::LogLevel::error;
}

const std::string& source_of(const HostBinding& b) {
  return b.instance_bound() ? b.instance() : b.plugin();
}

void cb_log(void* ctx, int32_t level, const char* msg, size_t len) noexcept {
  try {
    auto& b = self(ctx);
    const auto lvl = level_of(level);
    if (!b.services().logger.enabled(lvl)) return;
    b.services().logger.log(lvl, source_of(b),
                            msg == nullptr ? std::string_view{} : std::string_view(msg, len));
  } catch (...) {
    // Logging must never fail a plugin's operation.
  }
}

int64_t cb_now(void* ctx) noexcept {
  try {
    return self(ctx).services().clock.now_ms();
  } catch (...) {
    return 0;
  }
}

int32_t cb_is_cancelled(void* ctx) noexcept {
  try {
    return self(ctx).services().cancel.cancelled() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

cw_status cb_http(void* ctx, const char* request_json, size_t request_len, cw_sink meta,
                  cw_sink body) noexcept {
  try {
    auto& b = self(ctx);
    if (!b.instance_bound())
      return unsupported(meta, "http is not available in cwsdk_entry; use it from an instance");
    if (b.services().http == nullptr)
      return unsupported(meta, "http is not available in this host context");
    if (request_json == nullptr) {
      write_error(meta, "http request is NULL");
      return CW_STATUS_INVALID_ARG;
    }
    auto req = services::parse_http_request(std::string_view(request_json, request_len));
    if (!req) {
      write_error(meta, req.error().message);
      return CW_STATUS_INVALID_ARG;
    }
    if (b.services().dry_run && !req->read)
      return unsupported(meta,
                         "dry run: " + req->method + " " +
                             (req->endpoint.empty() ? std::string("request") : req->endpoint) +
                             " is a write and was not sent");
    if (b.services().cancel.cancelled()) {
      write_error(meta, "cancelled");
      return CW_STATUS_CANCELLED;
    }
    services::HttpContext hctx;
    hctx.instance = b.instance();
    hctx.plugin = b.plugin();
    hctx.dry_run = b.services().dry_run;
    hctx.cancel = &b.services().cancel;
    services::BodySink sink = [&body](std::string_view chunk) { write_to_sink(body, chunk); };
    auto resp = b.services().http->send(hctx, *req, sink);
    if (!resp) {
      write_to_sink(meta, services::http_error_json(resp.error()));
      return to_status(resp.error().kind);
    }
    if (!resp->body.empty()) write_to_sink(body, resp->body);
    write_to_sink(meta, services::http_response_meta_json(*resp));
    return CW_STATUS_OK;
  } catch (const std::exception& e) {
    write_error(meta, std::string("host error in http: ") + e.what());
    return CW_STATUS_INTERNAL;
  } catch (...) {
    write_error(meta, "host error in http");
    return CW_STATUS_INTERNAL;
  }
}

cw_status cb_kv_get(void* ctx, const char* key, size_t key_len, cw_sink value) noexcept {
  try {
    auto& b = self(ctx);
    if (!b.instance_bound())
      return unsupported(value, "kv is not available in cwsdk_entry; use it from an instance");
    if (b.services().kv == nullptr) return unsupported(value, "no kv store in this host context");
    if (key == nullptr || key_len == 0) {
      write_error(value, "kv_get: empty key");
      return CW_STATUS_INVALID_ARG;
    }
    auto r = b.services().kv->get(b.instance(), std::string(key, key_len));
    if (!r) {
      write_error(value, r.error().message);
      return to_status(r.error().kind);
    }
    if (!r->has_value()) return CW_STATUS_NOT_FOUND;
    write_to_sink(value, **r);
    return CW_STATUS_OK;
  } catch (...) {
    return CW_STATUS_INTERNAL;
  }
}

cw_status cb_kv_put(void* ctx, const char* key, size_t key_len, const char* value,
                    size_t value_len) noexcept {
  try {
    auto& b = self(ctx);
    if (!b.instance_bound() || b.services().kv == nullptr) return CW_STATUS_UNSUPPORTED;
    if (key == nullptr || key_len == 0) return CW_STATUS_INVALID_ARG;
    if (value == nullptr && value_len != 0) return CW_STATUS_INVALID_ARG;
    if (b.services().dry_run) return CW_STATUS_OK;
    auto st = b.services().kv->put(b.instance(), std::string(key, key_len),
                                   value_len == 0 ? std::string() : std::string(value, value_len));
    return st ? CW_STATUS_OK : to_status(st.error().kind);
  } catch (...) {
    return CW_STATUS_INTERNAL;
  }
}

cw_status cb_get_secret(void* ctx, const char* name, size_t name_len, cw_sink value) noexcept {
  try {
    auto& b = self(ctx);
    if (!b.instance_bound()) return unsupported(value, "secrets are not available in cwsdk_entry");
    if (b.services().secrets == nullptr)
      return unsupported(value, "no secret store in this host context");
    if (name == nullptr || name_len == 0) {
      write_error(value, "get_secret: empty name");
      return CW_STATUS_INVALID_ARG;
    }
    auto r = b.services().secrets->get(b.instance(), std::string(name, name_len));
    if (!r) {
      // The message names the secret, never its value.
      write_error(value, r.error().message);
      return to_status(r.error().kind);
    }
    // The value will travel back in plugin-built strings (headers, error bodies); make sure
    // the log never shows it.
    b.services().logger.add_secret(*r);
    write_to_sink(value, *r);
    return CW_STATUS_OK;
  } catch (...) {
    return CW_STATUS_INTERNAL;
  }
}

cw_status cb_put_secret(void* ctx, const char* name, size_t name_len, const char* value,
                        size_t value_len) noexcept {
  try {
    auto& b = self(ctx);
    if (!b.instance_bound() || b.services().secrets == nullptr) return CW_STATUS_UNSUPPORTED;
    if (name == nullptr || name_len == 0) return CW_STATUS_INVALID_ARG;
    if (value == nullptr && value_len != 0) return CW_STATUS_INVALID_ARG;
    std::string v = value_len == 0 ? std::string() : std::string(value, value_len);
    if (!v.empty()) b.services().logger.add_secret(v);
    // Stored even in a dry run: a refreshed token replaces one the service has already
    // invalidated, and losing it would lock the user out.
    auto st = b.services().secrets->put(b.instance(), std::string(name, name_len), v);
    return st ? CW_STATUS_OK : to_status(st.error().kind);
  } catch (...) {
    return CW_STATUS_INTERNAL;
  }
}

}  // namespace

HostBinding::HostBinding(const HostServices& services, std::string plugin)
    : m_services(services), m_plugin(std::move(plugin)), m_instance_bound(false) {
  fill();
}

HostBinding::HostBinding(const HostServices& services, std::string plugin, std::string instance)
    : m_services(services),
      m_plugin(std::move(plugin)),
      m_instance(std::move(instance)),
      m_instance_bound(true) {
  fill();
}

void HostBinding::fill() {
  m_api.struct_size = sizeof(cw_host_api);
  m_api.abi_major = CWSDK_VERSION_MAJOR;
  m_api.abi_minor = CWSDK_VERSION_MINOR;
  m_api.host_ctx = this;
  m_api.log = &cb_log;
  m_api.http = &cb_http;
  m_api.now = &cb_now;
  m_api.is_cancelled = &cb_is_cancelled;
  m_api.kv_get = &cb_kv_get;
  m_api.kv_put = &cb_kv_put;
  m_api.get_secret = &cb_get_secret;
  m_api.put_secret = &cb_put_secret;
}

}  // namespace cw::plugin
