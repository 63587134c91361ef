// provider.hpp: header-only C++ layer over the cwsdk C ABI.
//
// A provider is one class and one macro:
//
//   class Minimal {
//    public:
//     static const char* manifest();                       // static JSON
//     Minimal(cwsdk::Host host, std::string_view config);  // may throw cwsdk::Error
//     cwsdk::Reply health(std::string_view request);
//     cwsdk::Reply build_index(std::string_view request);
//     cwsdk::Reply add(std::string_view request);
//     cwsdk::Reply remove(std::string_view request);
//     // optional: update, scrobble, auth_start, auth_poll, action, lookup, resolve_ids
//     // with the same signature
//   };
//   CWSDK_PROVIDER(Minimal)
//
// The layer checks the signatures at compile time with readable messages, fills the
// operation table (optional operations only when the class has them), performs the
// version handshake, and catches every exception at the ABI edge: cwsdk::Error becomes
// its status (and retry_after_ms), any other exception CW_STATUS_INTERNAL with its what().
// It depends on nothing but the C++17 standard library, so a plugin can use any JSON
// library.
//
// Streaming. Any operation may instead take a second parameter, `cwsdk::Output& out`:
//     cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out);
// and write the first part of its response to `out` as it goes, so that a 100k-item index
// is never held whole in the plugin (cwsdk/support/documents.hpp's IndexWriter does this).
// The returned Reply's body is written after what went to `out`. Once anything went to
// `out`, an error can no longer replace the response: the writer must end the document
// itself (IndexWriter ends it as an incomplete index and calls close_document()), and the
// edge then answers OK; a failure after an unclosed partial write becomes
// CW_STATUS_INTERNAL.

#ifndef CWSDK_PROVIDER_HPP
#define CWSDK_PROVIDER_HPP

#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <cwsdk/cwsdk.h>

namespace cwsdk {

// What an operation returns: a status and its document (response or error message).
struct Reply {
  cw_status status = CW_STATUS_OK;
  std::string body;

  static Reply ok(std::string body) { return Reply{CW_STATUS_OK, std::move(body)}; }
  static Reply error(cw_status status, std::string_view message, std::int64_t retry_after_ms = -1) {
    return Reply{status, error_document(message, retry_after_ms)};
  }

  // {"message": "..."} with the message JSON-escaped.
  static std::string error_document(std::string_view message, std::int64_t retry_after_ms = -1) {
    std::string out = "{\"message\":\"";
    for (char c : message) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            static const char* k_hex = "0123456789abcdef";
            out += "\\u00";
            out += k_hex[(c >> 4) & 0xf];
            out += k_hex[c & 0xf];
          } else {
            out += c;
          }
      }
    }
    out += '"';
    if (retry_after_ms >= 0) out += ",\"retry_after_ms\":" + std::to_string(retry_after_ms);
    out += '}';
    return out;
  }
};

// Throw from a constructor or operation to fail with a specific status. `retry_after_ms`
// (>= 0) goes into the error document, so the host waits that long before a retry.
class Error : public std::runtime_error {
 public:
  Error(cw_status status, const std::string& message, std::int64_t retry_after_ms = -1)
      : std::runtime_error(message), m_status(status), m_retry_after_ms(retry_after_ms) {}
  cw_status status() const noexcept { return m_status; }
  std::int64_t retry_after_ms() const noexcept { return m_retry_after_ms; }

 private:
  cw_status m_status;
  std::int64_t m_retry_after_ms;
};

namespace detail {
inline void append_to_string(void* ctx, const char* data, std::size_t len) {
  static_cast<std::string*>(ctx)->append(data, len);
}
inline cw_sink string_sink(std::string& s) { return cw_sink{&s, &append_to_string}; }
inline void write_all(cw_sink sink, std::string_view s) {
  if (sink.write != nullptr && !s.empty()) sink.write(sink.ctx, s.data(), s.size());
}
}  // namespace detail

// The response stream of a streaming operation (see "Streaming" at the top). Wraps the
// host's sink for the duration of one call; never keep it.
class Output {
 public:
  explicit Output(cw_sink sink) : m_sink(sink) {}
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void write(std::string_view bytes) {
    if (bytes.empty() || m_sink.write == nullptr) return;
    m_sink.write(m_sink.ctx, bytes.data(), bytes.size());
    m_written += bytes.size();
  }
  std::size_t written() const { return m_written; }
  // The writer has ended a complete, valid OK document: nothing may follow it, and a
  // failure that arrives afterwards (an exception, an error Reply) still answers OK.
  void close_document() { m_closed = true; }
  bool closed() const { return m_closed; }

 private:
  cw_sink m_sink;
  std::size_t m_written = 0;
  bool m_closed = false;
};

// The result of Host::http.
struct HttpResult {
  cw_status status = CW_STATUS_OK;  // transport outcome; OK when a response arrived
  std::string meta;                 // {"status":..,"headers":{..},..} or an error document
  std::string body;                 // raw response body
};

// The host services bound to one instance (or, in cwsdk_entry, library-wide). Cheap to
// copy; valid as long as the table it wraps.
class Host {
 public:
  explicit Host(const cw_host_api* api) : m_api(api) {}

  const cw_host_api* raw() const { return m_api; }

  void log(int32_t level, std::string_view msg) const {
    m_api->log(m_api->host_ctx, level, msg.data(), msg.size());
  }
  void debug(std::string_view msg) const { log(CW_LOG_DEBUG, msg); }
  void info(std::string_view msg) const { log(CW_LOG_INFO, msg); }
  void warn(std::string_view msg) const { log(CW_LOG_WARN, msg); }
  void error(std::string_view msg) const { log(CW_LOG_ERROR, msg); }

  HttpResult http(std::string_view request_json) const {
    HttpResult r;
    r.status = m_api->http(m_api->host_ctx, request_json.data(), request_json.size(),
                           detail::string_sink(r.meta), detail::string_sink(r.body));
    return r;
  }

  std::int64_t now_ms() const { return m_api->now(m_api->host_ctx); }
  bool cancelled() const { return m_api->is_cancelled(m_api->host_ctx) != 0; }

  std::optional<std::string> kv_get(std::string_view key) const {
    std::string value;
    const cw_status st =
        m_api->kv_get(m_api->host_ctx, key.data(), key.size(), detail::string_sink(value));
    if (st != CW_STATUS_OK) return std::nullopt;
    return value;
  }
  cw_status kv_put(std::string_view key, std::string_view value) const {
    return m_api->kv_put(m_api->host_ctx, key.data(), key.size(), value.data(), value.size());
  }

  std::optional<std::string> secret(std::string_view name) const {
    std::string value;
    const cw_status st =
        m_api->get_secret(m_api->host_ctx, name.data(), name.size(), detail::string_sink(value));
    if (st != CW_STATUS_OK) return std::nullopt;
    return value;
  }
  cw_status put_secret(std::string_view name, std::string_view value) const {
    return m_api->put_secret(m_api->host_ctx, name.data(), name.size(), value.data(), value.size());
  }

 private:
  const cw_host_api* m_api;
};

namespace detail {

// Signature checks. Each trait says whether T has a usable operation of that name.
// has_member_<op>: T has a member of that name (any signature). has_plain_op_<op>:
// `Reply op(std::string_view)`. has_stream_op_<op>: `Reply op(std::string_view, Output&)`.
#define CWSDK_DETAIL_DECLARE_OP_TRAITS(op)                                                         \
  template <typename T, typename = void>                                                           \
  struct has_member_##op : std::false_type {};                                                     \
  template <typename T>                                                                            \
  struct has_member_##op<T, std::void_t<decltype(&T::op)>> : std::true_type {};                    \
  template <typename T, typename = void>                                                           \
  struct has_plain_op_##op : std::false_type {};                                                   \
  template <typename T>                                                                            \
  struct has_plain_op_##op<T, std::void_t<decltype(std::declval<T&>().op(std::string_view{}))>>    \
      : std::is_same<decltype(std::declval<T&>().op(std::string_view{})), Reply> {};               \
  template <typename T, typename = void>                                                           \
  struct has_stream_op_##op : std::false_type {};                                                  \
  template <typename T>                                                                            \
  struct has_stream_op_##op<T, std::void_t<decltype(std::declval<T&>().op(                         \
                                   std::string_view{}, std::declval<Output&>()))>>                 \
      : std::is_same<decltype(std::declval<T&>().op(std::string_view{}, std::declval<Output&>())), \
                     Reply> {};                                                                    \
  template <typename T>                                                                            \
  struct has_op_##op : std::integral_constant<bool, has_plain_op_##op<T>::value ||                 \
                                                        has_stream_op_##op<T>::value> {};

CWSDK_DETAIL_DECLARE_OP_TRAITS(health)
CWSDK_DETAIL_DECLARE_OP_TRAITS(build_index)
CWSDK_DETAIL_DECLARE_OP_TRAITS(add)
CWSDK_DETAIL_DECLARE_OP_TRAITS(remove)
CWSDK_DETAIL_DECLARE_OP_TRAITS(update)
CWSDK_DETAIL_DECLARE_OP_TRAITS(scrobble)
CWSDK_DETAIL_DECLARE_OP_TRAITS(auth_start)
CWSDK_DETAIL_DECLARE_OP_TRAITS(auth_poll)
CWSDK_DETAIL_DECLARE_OP_TRAITS(action)
CWSDK_DETAIL_DECLARE_OP_TRAITS(lookup)
CWSDK_DETAIL_DECLARE_OP_TRAITS(resolve_ids)
#undef CWSDK_DETAIL_DECLARE_OP_TRAITS

template <typename T, typename = void>
struct has_manifest : std::false_type {};
template <typename T>
struct has_manifest<T, std::void_t<decltype(T::manifest())>>
    : std::is_convertible<decltype(T::manifest()), const char*> {};

// Runs `fn`, turning every exception into a status and an error document.
template <typename Fn>
cw_status guarded(cw_sink out, Fn&& fn) noexcept {
  try {
    Reply reply = fn();
    write_all(out, reply.body);
    return reply.status;
  } catch (const Error& e) {
    write_all(out, Reply::error_document(e.what(), e.retry_after_ms()));
    return e.status();
  } catch (const std::bad_alloc&) {
    write_all(out, "{\"message\":\"out of memory\"}");
    return CW_STATUS_INTERNAL;
  } catch (const std::exception& e) {
    write_all(out, Reply::error_document(std::string("unhandled exception: ") + e.what()));
    return CW_STATUS_INTERNAL;
  } catch (...) {
    write_all(out, "{\"message\":\"unhandled non-standard exception\"}");
    return CW_STATUS_INTERNAL;
  }
}

// The streaming form: `fn(Output&)`. Until the operation wrote to the Output it behaves
// as guarded(); afterwards only a closed document can end the call, as OK.
template <typename Fn>
cw_status guarded_stream(cw_sink out, Fn&& fn) noexcept {
  Output output(out);
  auto after_partial_write = [&output]() -> cw_status {
    return output.closed() ? CW_STATUS_OK : CW_STATUS_INTERNAL;
  };
  try {
    Reply reply = fn(output);
    if (output.written() == 0) {
      write_all(out, reply.body);
      return reply.status;
    }
    if (output.closed()) return CW_STATUS_OK;
    if (reply.status != CW_STATUS_OK) return CW_STATUS_INTERNAL;
    write_all(out, reply.body);
    return CW_STATUS_OK;
  } catch (...) {
    if (output.written() != 0) return after_partial_write();
    return guarded(out, []() -> Reply { throw; });
  }
}

// The instance the host sees: the user's object behind an opaque pointer.
template <typename T>
struct Instance {
  T object;
};

template <typename T>
T& self_of(cw_instance* self) {
  return reinterpret_cast<Instance<T>*>(self)->object;
}

#define CWSDK_DETAIL_TRAMPOLINE(op)                                                            \
  template <typename T>                                                                        \
  cw_status op##_trampoline(cw_instance* self, const char* req, size_t len,                    \
                            cw_sink out) noexcept {                                            \
    if constexpr (has_stream_op_##op<T>::value) {                                              \
      return guarded_stream(                                                                   \
          out, [&](Output& o) { return self_of<T>(self).op(std::string_view(req, len), o); }); \
    } else {                                                                                   \
      return guarded(out, [&] { return self_of<T>(self).op(std::string_view(req, len)); });    \
    }                                                                                          \
  }
CWSDK_DETAIL_TRAMPOLINE(health)
CWSDK_DETAIL_TRAMPOLINE(build_index)
CWSDK_DETAIL_TRAMPOLINE(add)
CWSDK_DETAIL_TRAMPOLINE(remove)
CWSDK_DETAIL_TRAMPOLINE(update)
CWSDK_DETAIL_TRAMPOLINE(scrobble)
CWSDK_DETAIL_TRAMPOLINE(auth_start)
CWSDK_DETAIL_TRAMPOLINE(auth_poll)
CWSDK_DETAIL_TRAMPOLINE(action)
CWSDK_DETAIL_TRAMPOLINE(lookup)
CWSDK_DETAIL_TRAMPOLINE(resolve_ids)
#undef CWSDK_DETAIL_TRAMPOLINE

template <typename T>
const char* manifest_trampoline(size_t* len) noexcept {
  static const std::string k_manifest = [] {
    try {
      return std::string(T::manifest());
    } catch (...) {
      return std::string();
    }
  }();
  if (len != nullptr) *len = k_manifest.size();
  return k_manifest.c_str();
}

template <typename T>
cw_instance* create_trampoline(const cw_host_api* host, const char* config, size_t len,
                               cw_sink err) noexcept {
  try {
    auto* inst = new Instance<T>{T(Host(host), std::string_view(config, len))};
    return reinterpret_cast<cw_instance*>(inst);
  } catch (const std::exception& e) {
    write_all(err, e.what());
  } catch (...) {
    write_all(err, "unhandled non-standard exception in create");
  }
  return nullptr;
}

template <typename T>
void destroy_trampoline(cw_instance* self) noexcept {
  try {
    delete reinterpret_cast<Instance<T>*>(self);
  } catch (...) {
    // A destructor that throws must not cross the ABI; the object is gone either way.
  }
}

// The address of an optional operation's trampoline, or NULL when T lacks it. `if
// constexpr` keeps the trampoline from being instantiated for a class without the member.
#define CWSDK_DETAIL_OPTIONAL_OP(op)          \
  template <typename T>                       \
  constexpr cw_operation_fn optional_##op() { \
    if constexpr (has_op_##op<T>::value) {    \
      return &op##_trampoline<T>;             \
    } else {                                  \
      return nullptr;                         \
    }                                         \
  }
CWSDK_DETAIL_OPTIONAL_OP(update)
CWSDK_DETAIL_OPTIONAL_OP(scrobble)
CWSDK_DETAIL_OPTIONAL_OP(auth_start)
CWSDK_DETAIL_OPTIONAL_OP(auth_poll)
CWSDK_DETAIL_OPTIONAL_OP(action)
CWSDK_DETAIL_OPTIONAL_OP(lookup)
CWSDK_DETAIL_OPTIONAL_OP(resolve_ids)
#undef CWSDK_DETAIL_OPTIONAL_OP

template <typename T>
constexpr void check_provider() {
  static_assert(has_manifest<T>::value,
                "CWSDK_PROVIDER(T): T needs `static const char* manifest()` returning the "
                "manifest JSON (see sdk/schema/manifest.schema.json)");
  static_assert(std::is_constructible<T, Host, std::string_view>::value,
                "CWSDK_PROVIDER(T): T needs a constructor `T(cwsdk::Host host, "
                "std::string_view config_json)`");
  static_assert(std::is_move_constructible<T>::value,
                "CWSDK_PROVIDER(T): T must be move-constructible (hold resources in members "
                "such as std::unique_ptr)");
  static_assert(has_op_health<T>::value,
                "CWSDK_PROVIDER(T): T needs `cwsdk::Reply health(std::string_view request)`");
  static_assert(has_op_build_index<T>::value,
                "CWSDK_PROVIDER(T): T needs `cwsdk::Reply build_index(std::string_view "
                "request)` (or `cwsdk::Reply build_index(std::string_view request, "
                "cwsdk::Output& out)` to stream)");
  static_assert(has_op_add<T>::value,
                "CWSDK_PROVIDER(T): T needs `cwsdk::Reply add(std::string_view request)`");
  static_assert(has_op_remove<T>::value,
                "CWSDK_PROVIDER(T): T needs `cwsdk::Reply remove(std::string_view request)`");
  // Optional operations: if a member of that name exists, its signature must be right;
  // otherwise a typo'd signature would silently leave the operation out.
  static_assert(!has_member_update<T>::value || has_op_update<T>::value,
                "CWSDK_PROVIDER(T): T::update must be `cwsdk::Reply update(std::string_view)`");
  static_assert(!has_member_scrobble<T>::value || has_op_scrobble<T>::value,
                "CWSDK_PROVIDER(T): T::scrobble must be `cwsdk::Reply "
                "scrobble(std::string_view)`");
  static_assert(!has_member_auth_start<T>::value || has_op_auth_start<T>::value,
                "CWSDK_PROVIDER(T): T::auth_start must be `cwsdk::Reply "
                "auth_start(std::string_view)`");
  static_assert(!has_member_auth_poll<T>::value || has_op_auth_poll<T>::value,
                "CWSDK_PROVIDER(T): T::auth_poll must be `cwsdk::Reply "
                "auth_poll(std::string_view)`");
  static_assert(!has_member_action<T>::value || has_op_action<T>::value,
                "CWSDK_PROVIDER(T): T::action must be `cwsdk::Reply action(std::string_view)`");
  static_assert(!has_member_lookup<T>::value || has_op_lookup<T>::value,
                "CWSDK_PROVIDER(T): T::lookup must be `cwsdk::Reply lookup(std::string_view)` "
                "(ABI 1.1; declare capabilities.lookup in the manifest)");
  static_assert(!has_member_resolve_ids<T>::value || has_op_resolve_ids<T>::value,
                "CWSDK_PROVIDER(T): T::resolve_ids must be `cwsdk::Reply "
                "resolve_ids(std::string_view)` (ABI 1.1; declare capabilities.resolve_ids in "
                "the manifest)");
  static_assert(has_op_auth_start<T>::value == has_op_auth_poll<T>::value,
                "CWSDK_PROVIDER(T): auth_start and auth_poll come together; define both or "
                "neither");
}

template <typename T>
const cw_provider_api* provider_table() {
  check_provider<T>();
  static const cw_provider_api k_table = {
      sizeof(cw_provider_api),  CWSDK_VERSION_MAJOR,        CWSDK_VERSION_MINOR,
      &manifest_trampoline<T>,  &create_trampoline<T>,      &destroy_trampoline<T>,
      &health_trampoline<T>,    &build_index_trampoline<T>, &add_trampoline<T>,
      &remove_trampoline<T>,    optional_update<T>(),       optional_scrobble<T>(),
      optional_auth_start<T>(), optional_auth_poll<T>(),    optional_action<T>(),
      optional_lookup<T>(),     optional_resolve_ids<T>(),  // ABI 1.1
  };
  return &k_table;
}

// The plugin side of the version handshake.
inline bool check_host_version(uint16_t host_major, uint16_t host_minor, const cw_host_api* host,
                               cw_sink err) {
  if (host == nullptr) {
    write_all(err, "host passed no services table");
    return false;
  }
  if (host_major != CWSDK_VERSION_MAJOR) {
    write_all(err, "plugin built for cwsdk ABI " + std::to_string(CWSDK_VERSION_MAJOR) +
                       ".x, host speaks " + std::to_string(host_major) + "." +
                       std::to_string(host_minor));
    return false;
  }
  // Through int: with CWSDK_VERSION_MINOR 0 a direct unsigned comparison is always false
  // and -Wtype-limits would warn in every plugin.
  const int minor_gap = static_cast<int>(host_minor) - static_cast<int>(CWSDK_VERSION_MINOR);
  if (minor_gap < 0) {
    write_all(err, "plugin needs cwsdk ABI " + std::to_string(CWSDK_VERSION_MAJOR) + "." +
                       std::to_string(CWSDK_VERSION_MINOR) + " or newer, host speaks " +
                       std::to_string(host_major) + "." + std::to_string(host_minor));
    return false;
  }
  return true;
}

}  // namespace detail
}  // namespace cwsdk

// Defines the plugin's exported entry point for provider class `cls`. Use once per plugin,
// at namespace scope.
#define CWSDK_PROVIDER(cls)                                                                        \
  extern "C" CWSDK_EXPORT const cw_provider_api* cwsdk_entry(                                      \
      uint16_t host_major, uint16_t host_minor, const cw_host_api* host, cw_sink err) {            \
    try {                                                                                          \
      if (!::cwsdk::detail::check_host_version(host_major, host_minor, host, err)) return nullptr; \
      return ::cwsdk::detail::provider_table<cls>();                                               \
    } catch (...) {                                                                                \
      ::cwsdk::detail::write_all(err, "exception in cwsdk_entry");                                 \
      return nullptr;                                                                              \
    }                                                                                              \
  }

#endif  // CWSDK_PROVIDER_HPP
