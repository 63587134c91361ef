// cwsdk/testing/mock_host.hpp: a cw_host_api for a plugin's unit tests.
//
// MockHost plays the host: scripted HTTP, a manual clock, in-memory kv and secrets, log
// capture and a cancellation switch. PluginInstance drives a plugin's operation table the
// way the host does (create, operations, destroy). Nothing touches the network or disk.
//
//   cwsdk::testing::MockHost host;
//   host.set_secret("api_key", "k-123");
//   host.on("GET", "/users/*/watchlist")                 // '*': one path segment
//       .reply(503).times(2)                             // a burst of 503s...
//       .reply_json(200, {{"items", cwsdk::Json::array()}},
//                   {{"X-Pagination-Page-Count", "1"}});  // ...then this, from then on
//   cwsdk::testing::PluginInstance p(cwsdk::detail::provider_table<MyPlugin>(), host,
//                                    {{"url", "https://api.example"}});
//   auto r = p.build_index("watchlist");
//   EXPECT_EQ(r.status, CW_STATUS_OK);
//   EXPECT_EQ(host.requests().size(), 3u);
//   EXPECT_EQ(host.requests()[0].header("x-api-key"), "k-123");
//
// Scripted HTTP. on(method, pattern) adds a route; the first route that matches a request
// answers it. `method` is case-insensitive ("*": any). `pattern` is matched against the
// URL's path, or against the whole URL (without the query) when it contains "://"; `*`
// matches within one path segment, `**` across segments. with_query()/when() narrow a
// route. Each request consumes the route's next reply; the last one repeats. handle() gives
// a function instead, for paging scripts. Faults: reply(status) with any status (429 with
// a Retry-After header, 5xx bursts with times()), truncated(n) cuts the body after n bytes
// (a dropped connection), transport_error(status, message, retry_after_ms) answers as the
// host does when no response arrived (RATE_LIMITED with its retry_after_ms, TRANSIENT,
// CANCELLED). A request no route matches gets TRANSIENT "mock host: no route for ..." and
// is listed in unmatched(). Like the real host, the mock does not retry: each scripted
// reply is what the plugin sees after the host's retries are spent.
//
// The mock also checks what a plugin sends as the host would: a request document that is
// not JSON, lacks an absolute http(s) URL or has a bad method is refused with
// INVALID_ARG; in dry-run mode (set_dry_run) a request not marked as a read is refused
// with UNSUPPORTED before any route sees it.
//
// Thread-safe: every service may be called from any thread, as the ABI allows.
#ifndef CWSDK_TESTING_MOCK_HOST_HPP
#define CWSDK_TESTING_MOCK_HOST_HPP

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <cwsdk/cwsdk.h>
#include <cwsdk/provider.hpp>

namespace cwsdk::testing {

using Json = nlohmann::json;
using Headers = std::map<std::string, std::string>;

namespace detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Glob match: `*` within a segment, `**` across segments.
inline bool glob(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.substr(0, 2) == "**") {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob(pattern.substr(2), text.substr(i))) return true;
    }
    return false;
  }
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob(pattern.substr(1), text.substr(i))) return true;
      if (i < text.size() && text[i] == '/') break;
    }
    return false;
  }
  return !text.empty() && pattern.front() == text.front() &&
         glob(pattern.substr(1), text.substr(1));
}

inline void write_sink(cw_sink sink, std::string_view s) {
  if (sink.write != nullptr && !s.empty()) sink.write(sink.ctx, s.data(), s.size());
}

}  // namespace detail

// One request as the plugin sent it.
struct RecordedRequest {
  std::string method;  // upper case
  std::string url;     // without the query
  std::string path;    // the URL's path
  Json query;          // as sent: an object, a list of [name, value] pairs, or null
  Headers headers;     // as sent
  std::string body;
  bool read = true;
  bool retry_safe = false;
  std::string endpoint;
  Json document;  // the whole request document

  // The first value of a query parameter, as text.
  std::optional<std::string> query_value(std::string_view name) const {
    auto text = [](const Json& v) -> std::string {
      return v.is_string() ? v.get<std::string>() : v.dump();
    };
    if (query.is_object()) {
      const auto it = query.find(name);
      if (it == query.end()) return std::nullopt;
      if (it->is_array())
        return it->empty() ? std::nullopt : std::optional<std::string>(text((*it)[0]));
      return text(*it);
    }
    if (query.is_array()) {
      for (const auto& pair : query) {
        if (pair.is_array() && pair.size() == 2 && pair[0] == name) return text(pair[1]);
      }
    }
    return std::nullopt;
  }
  // A header, case-insensitively.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& kv : headers) {
      if (detail::lower(kv.first) == detail::lower(name)) return kv.second;
    }
    return std::nullopt;
  }
  // The body as JSON (discarded when it is not).
  Json json_body() const { return Json::parse(body, nullptr, false); }
};

// What the mock host answers one request with.
struct MockReply {
  int status = 200;
  Headers headers;
  std::string body;
  cw_status transport = CW_STATUS_OK;  // not OK: no HTTP response, the host's own failure
  std::string transport_message;
  std::int64_t retry_after_ms = -1;  // with a transport failure
  std::optional<std::size_t> truncate_at;

  static MockReply with(int status, std::string body = {}, Headers headers = {}) {
    MockReply r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }
  static MockReply json(int status, const Json& body, Headers headers = {}) {
    headers.emplace("Content-Type", "application/json");
    return with(status, body.dump(), std::move(headers));
  }
  static MockReply transport_error(cw_status status, std::string message,
                                   std::int64_t retry_after_ms = -1) {
    MockReply r;
    r.transport = status;
    r.transport_message = std::move(message);
    r.retry_after_ms = retry_after_ms;
    return r;
  }
};

class Route {
 public:
  using Handler = std::function<MockReply(const RecordedRequest&)>;

  Route(std::string method, std::string pattern)
      : m_method(detail::lower(method)), m_pattern(std::move(pattern)) {}

  // Queues a reply (see the top: each request takes the next; the last one repeats).
  Route& reply(MockReply r) {
    m_queue.push_back(Entry{std::move(r), 1});
    return *this;
  }
  Route& reply(int status, std::string body = {}, Headers headers = {}) {
    return reply(MockReply::with(status, std::move(body), std::move(headers)));
  }
  Route& reply_json(int status, const Json& body, Headers headers = {}) {
    return reply(MockReply::json(status, body, std::move(headers)));
  }
  Route& transport_error(cw_status status, std::string message, std::int64_t retry_after_ms = -1) {
    return reply(MockReply::transport_error(status, std::move(message), retry_after_ms));
  }
  // The last queued reply answers `n` requests before the next one is used.
  Route& times(int n) {
    if (!m_queue.empty()) m_queue.back().count = n < 1 ? 1 : n;
    return *this;
  }
  // The last queued reply's body is cut after `bytes` bytes.
  Route& truncated(std::size_t bytes) {
    if (!m_queue.empty()) m_queue.back().reply.truncate_at = bytes;
    return *this;
  }
  // Answers every request with a function instead of queued replies.
  Route& handle(Handler fn) {
    m_handler = std::move(fn);
    return *this;
  }
  Route& with_query(std::string name, std::string value) {
    m_query.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Route& when(std::function<bool(const RecordedRequest&)> predicate) {
    m_predicate = std::move(predicate);
    return *this;
  }
  int hits() const { return m_hits; }

  bool matches(const RecordedRequest& r) const {
    if (m_method != "*" && m_method != detail::lower(r.method)) return false;
    const std::string& subject = m_pattern.find("://") != std::string::npos ? r.url : r.path;
    if (!detail::glob(m_pattern, subject)) return false;
    for (const auto& q : m_query) {
      if (r.query_value(q.first) != q.second) return false;
    }
    return !m_predicate || m_predicate(r);
  }
  MockReply next(const RecordedRequest& r) {
    ++m_hits;
    if (m_handler) return m_handler(r);
    if (m_queue.empty()) return MockReply::with(200);
    Entry& head = m_queue.front();
    MockReply out = head.reply;
    if (m_queue.size() > 1 && --head.count <= 0) m_queue.pop_front();
    return out;
  }

 private:
  struct Entry {
    MockReply reply;
    int count;
  };
  std::string m_method;
  std::string m_pattern;
  std::deque<Entry> m_queue;
  Handler m_handler;
  std::vector<std::pair<std::string, std::string>> m_query;
  std::function<bool(const RecordedRequest&)> m_predicate;
  int m_hits = 0;
};

class MockHost {
 public:
  struct LogLine {
    int level;
    std::string text;
  };

  MockHost() {
    m_api.struct_size = sizeof(cw_host_api);
    m_api.abi_major = CWSDK_VERSION_MAJOR;
    m_api.abi_minor = CWSDK_VERSION_MINOR;
    m_api.host_ctx = this;
    m_api.log = &MockHost::log_cb;
    m_api.http = &MockHost::http_cb;
    m_api.now = &MockHost::now_cb;
    m_api.is_cancelled = &MockHost::cancelled_cb;
    m_api.kv_get = &MockHost::kv_get_cb;
    m_api.kv_put = &MockHost::kv_put_cb;
    m_api.get_secret = &MockHost::get_secret_cb;
    m_api.put_secret = &MockHost::put_secret_cb;
  }
  MockHost(const MockHost&) = delete;
  MockHost& operator=(const MockHost&) = delete;

  const cw_host_api* api() const { return &m_api; }
  Host host() const { return Host(&m_api); }

  // ----- HTTP -----
  Route& on(std::string method, std::string pattern) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_routes.push_back(std::make_unique<Route>(std::move(method), std::move(pattern)));
    return *m_routes.back();
  }
  std::vector<RecordedRequest> requests() const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_requests;
  }
  std::vector<RecordedRequest> unmatched() const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_unmatched;
  }
  // Every request also moves the clock forward by this much (a slow service).
  void set_http_latency_ms(std::int64_t ms) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_latency_ms = ms;
  }
  void set_dry_run(bool on) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_dry_run = on;
  }

  // ----- clock -----
  std::int64_t now_ms() const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_now_ms;
  }
  void set_now_ms(std::int64_t ms) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_now_ms = ms;
  }
  void advance_ms(std::int64_t ms) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_now_ms += ms;
  }

  // ----- cancellation -----
  void cancel(bool on = true) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_cancelled = on;
  }
  // is_cancelled turns true once `n` more HTTP requests were made.
  void cancel_after_requests(std::size_t n) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_cancel_at = m_requests.size() + m_unmatched_count + n;
  }

  // ----- kv and secrets -----
  void set_kv(std::string key, std::string value) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_kv[std::move(key)] = std::move(value);
  }
  std::optional<std::string> kv(std::string_view key) const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_kv.find(std::string(key));
    if (it == m_kv.end()) return std::nullopt;
    return it->second;
  }
  void set_secret(std::string name, std::string value) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_secrets[std::move(name)] = std::move(value);
  }
  std::optional<std::string> secret(std::string_view name) const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_secrets.find(std::string(name));
    if (it == m_secrets.end()) return std::nullopt;
    return it->second;
  }

  // ----- logs -----
  std::vector<LogLine> logs() const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_logs;
  }
  bool logged(std::string_view needle) const {
    const std::lock_guard<std::mutex> lock(m_mutex);
    for (const auto& l : m_logs) {
      if (l.text.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  static MockHost& self(void* ctx) { return *static_cast<MockHost*>(ctx); }

  static void log_cb(void* ctx, int32_t level, const char* msg, size_t len) {
    MockHost& h = self(ctx);
    const std::lock_guard<std::mutex> lock(h.m_mutex);
    h.m_logs.push_back(
        LogLine{level, std::string(msg == nullptr ? "" : msg, msg == nullptr ? 0 : len)});
  }
  static int64_t now_cb(void* ctx) { return self(ctx).now_ms(); }
  static int32_t cancelled_cb(void* ctx) {
    MockHost& h = self(ctx);
    const std::lock_guard<std::mutex> lock(h.m_mutex);
    const bool by_count =
        h.m_cancel_at && h.m_requests.size() + h.m_unmatched_count >= *h.m_cancel_at;
    return h.m_cancelled || by_count ? 1 : 0;
  }
  static cw_status kv_get_cb(void* ctx, const char* key, size_t len, cw_sink value) {
    if (key == nullptr || len == 0) return CW_STATUS_INVALID_ARG;
    const auto v = self(ctx).kv(std::string_view(key, len));
    if (!v) return CW_STATUS_NOT_FOUND;
    detail::write_sink(value, *v);
    return CW_STATUS_OK;
  }
  static cw_status kv_put_cb(void* ctx, const char* key, size_t klen, const char* value,
                             size_t vlen) {
    if (key == nullptr || klen == 0) return CW_STATUS_INVALID_ARG;
    MockHost& h = self(ctx);
    const std::lock_guard<std::mutex> lock(h.m_mutex);
    if (h.m_dry_run) return CW_STATUS_OK;
    if (vlen == 0)
      h.m_kv.erase(std::string(key, klen));
    else
      h.m_kv[std::string(key, klen)] = std::string(value, vlen);
    return CW_STATUS_OK;
  }
  static cw_status get_secret_cb(void* ctx, const char* name, size_t len, cw_sink value) {
    if (name == nullptr || len == 0) return CW_STATUS_INVALID_ARG;
    const auto v = self(ctx).secret(std::string_view(name, len));
    if (!v) return CW_STATUS_NOT_FOUND;
    detail::write_sink(value, *v);
    return CW_STATUS_OK;
  }
  static cw_status put_secret_cb(void* ctx, const char* name, size_t nlen, const char* value,
                                 size_t vlen) {
    if (name == nullptr || nlen == 0) return CW_STATUS_INVALID_ARG;
    MockHost& h = self(ctx);
    const std::lock_guard<std::mutex> lock(h.m_mutex);
    if (vlen == 0)
      h.m_secrets.erase(std::string(name, nlen));
    else
      h.m_secrets[std::string(name, nlen)] = std::string(value, vlen);
    return CW_STATUS_OK;
  }

  static cw_status fail(cw_sink meta, cw_status status, const std::string& message,
                        std::int64_t retry_after_ms = -1) {
    Json doc{{"message", message}};
    if (retry_after_ms >= 0) doc["retry_after_ms"] = retry_after_ms;
    detail::write_sink(meta, doc.dump());
    return status;
  }

  // The request document, checked as the host checks it.
  static std::optional<RecordedRequest> parse_request(std::string_view text, std::string& error) {
    const Json doc = Json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      error = "http request: not a JSON object";
      return std::nullopt;
    }
    RecordedRequest r;
    r.document = doc;
    const auto method = doc.find("method");
    if (method == doc.end()) {
      r.method = "GET";
    } else if (method->is_string() && !method->get_ref<const std::string&>().empty()) {
      for (char c : method->get_ref<const std::string&>()) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
          error = "http request: method: letters only";
          return std::nullopt;
        }
        r.method += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      }
    } else {
      error = "http request: method: expected a string";
      return std::nullopt;
    }
    const auto url = doc.find("url");
    if (url == doc.end() || !url->is_string()) {
      error = "http request: url: expected an absolute http(s) URL";
      return std::nullopt;
    }
    r.url = url->get<std::string>();
    const auto scheme = r.url.find("://");
    if ((r.url.rfind("http://", 0) != 0 && r.url.rfind("https://", 0) != 0) ||
        scheme == std::string::npos) {
      error = "http request: url: expected an absolute http(s) URL";
      return std::nullopt;
    }
    if (const auto q = r.url.find('?'); q != std::string::npos) r.url.resize(q);
    const auto slash = r.url.find('/', scheme + 3);
    r.path = slash == std::string::npos ? "/" : r.url.substr(slash);
    if (const auto q = doc.find("query"); q != doc.end()) r.query = *q;
    if (const auto h = doc.find("headers"); h != doc.end() && h->is_object()) {
      for (auto it = h->begin(); it != h->end(); ++it)
        r.headers[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    }
    if (const auto b = doc.find("body"); b != doc.end() && !b->is_null())
      r.body = b->is_string() ? b->get<std::string>() : b->dump();
    const bool default_read = r.method == "GET" || r.method == "HEAD" || r.method == "OPTIONS";
    const auto read = doc.find("read");
    r.read = read != doc.end() && read->is_boolean() ? read->get<bool>() : default_read;
    const auto safe = doc.find("retry_safe");
    r.retry_safe = safe != doc.end() && safe->is_boolean() && safe->get<bool>();
    const auto ep = doc.find("endpoint");
    r.endpoint = ep != doc.end() && ep->is_string() ? ep->get<std::string>() : r.path;
    return r;
  }

  static cw_status http_cb(void* ctx, const char* req, size_t len, cw_sink meta, cw_sink body) {
    MockHost& h = self(ctx);
    std::string error;
    auto parsed =
        parse_request(std::string_view(req == nullptr ? "" : req, req == nullptr ? 0 : len), error);
    if (!parsed) return fail(meta, CW_STATUS_INVALID_ARG, error);
    RecordedRequest r = std::move(*parsed);
    MockReply reply;
    {
      const std::lock_guard<std::mutex> lock(h.m_mutex);
      h.m_now_ms += h.m_latency_ms;
      if (h.m_dry_run && !r.read) {
        h.m_requests.push_back(r);
        return fail(
            meta, CW_STATUS_UNSUPPORTED,
            "dry run refused " + r.method + " " + r.endpoint + ": it is not marked as a read");
      }
      Route* route = nullptr;
      for (auto& candidate : h.m_routes) {
        if (candidate->matches(r)) {
          route = candidate.get();
          break;
        }
      }
      if (route == nullptr) {
        h.m_unmatched.push_back(r);
        ++h.m_unmatched_count;
        return fail(meta, CW_STATUS_TRANSIENT, "mock host: no route for " + r.method + " " + r.url);
      }
      h.m_requests.push_back(r);
      reply = route->next(r);
    }
    if (reply.transport != CW_STATUS_OK)
      return fail(meta, reply.transport, reply.transport_message, reply.retry_after_ms);
    Json headers = Json::object();
    for (const auto& kv : reply.headers) {
      const std::string name = detail::lower(kv.first);
      if (headers.contains(name))
        headers[name] = headers[name].get<std::string>() + ", " + kv.second;
      else
        headers[name] = kv.second;
    }
    const Json m{{"status", reply.status},
                 {"headers", headers},
                 {"timing", {{"total_ms", 0.0}}},
                 {"attempts", 1}};
    detail::write_sink(meta, m.dump());
    std::string_view b = reply.body;
    if (reply.truncate_at && *reply.truncate_at < b.size()) b = b.substr(0, *reply.truncate_at);
    // In chunks, as the real host may deliver it.
    constexpr std::size_t k_chunk = 4096;
    for (std::size_t i = 0; i < b.size(); i += k_chunk)
      detail::write_sink(body, b.substr(i, k_chunk));
    return CW_STATUS_OK;
  }

  cw_host_api m_api{};
  mutable std::mutex m_mutex;
  std::vector<std::unique_ptr<Route>> m_routes;
  std::vector<RecordedRequest> m_requests;
  std::vector<RecordedRequest> m_unmatched;
  std::size_t m_unmatched_count = 0;
  std::int64_t m_now_ms = 1767225600000;  // 2026-01-01T00:00:00Z
  std::int64_t m_latency_ms = 0;
  bool m_cancelled = false;
  std::optional<std::size_t> m_cancel_at;
  bool m_dry_run = false;
  std::map<std::string, std::string> m_kv;
  std::map<std::string, std::string> m_secrets;
  std::vector<LogLine> m_logs;
};

// The result of one operation call.
struct CallResult {
  cw_status status = CW_STATUS_OK;
  std::string body;
  // The body as JSON (discarded when it is not JSON).
  Json json() const { return Json::parse(body, nullptr, false); }
  // The error document's message (or the body, when it is plain text).
  std::string message() const {
    const Json doc = json();
    if (doc.is_object() && doc.contains("message") && doc["message"].is_string())
      return doc["message"].get<std::string>();
    return body;
  }
};

// One plugin instance made through its operation table, as the host makes it; destroyed
// with this object. `api` is the table from cwsdk_entry (a loaded .so) or from
// cwsdk::detail::provider_table<T>() (a plugin class compiled into the test).
class PluginInstance {
 public:
  PluginInstance(const cw_provider_api* api, const MockHost& host,
                 const Json& config = Json::object())
      : m_api(api) {
    const std::string cfg = config.dump();
    m_self = api->create(host.api(), cfg.data(), cfg.size(), cw_sink{&m_create_error, &append});
  }
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;
  ~PluginInstance() {
    if (m_self != nullptr) m_api->destroy(m_self);
  }

  bool created() const { return m_self != nullptr; }
  const std::string& create_error() const { return m_create_error; }
  const cw_provider_api* api() const { return m_api; }

  // Calls an operation by name ("health", "build_index", "add", "remove", "update",
  // "scrobble", "auth_start", "auth_poll", "action", "lookup", "resolve_ids") with a raw
  // request text (malformed requests). An operation the table lacks answers UNSUPPORTED
  // "not implemented".
  CallResult call_raw(std::string_view op, std::string_view request) {
    CallResult c;
    cw_operation_fn fn = operation(op);
    if (fn == nullptr || m_self == nullptr) {
      c.status = CW_STATUS_UNSUPPORTED;
      c.body = m_self == nullptr ? "{\"message\":\"instance not created\"}"
                                 : "{\"message\":\"not implemented\"}";
      return c;
    }
    c.status = fn(m_self, request.data(), request.size(), cw_sink{&c.body, &append});
    return c;
  }
  CallResult call(std::string_view op, const Json& request) {
    const std::string text = request.dump();
    return call_raw(op, text);
  }

  CallResult health() { return call("health", Json::object()); }
  CallResult build_index(std::string_view feature, const Json& watermark = nullptr) {
    return call("build_index", Json{{"feature", feature}, {"watermark", watermark}});
  }
  CallResult add(std::string_view feature, const Json& items) {
    return write("add", feature, items);
  }
  CallResult remove(std::string_view feature, const Json& items) {
    return write("remove", feature, items);
  }
  CallResult update(std::string_view feature, const Json& items) {
    return write("update", feature, items);
  }
  CallResult lookup(std::string_view feature, const Json& items) {
    return write("lookup", feature, items);
  }

 private:
  static void append(void* ctx, const char* data, size_t len) {
    static_cast<std::string*>(ctx)->append(data, len);
  }
  CallResult write(std::string_view op, std::string_view feature, const Json& items) {
    return call(op, Json{{"feature", feature}, {"items", items}});
  }
  cw_operation_fn operation(std::string_view op) const {
    const cw_provider_api* a = m_api;
    if (op == "health") return a->health;
    if (op == "build_index") return a->build_index;
    if (op == "add") return a->add;
    if (op == "remove") return a->remove;
    if (op == "update") return a->update;
    if (op == "scrobble") return a->scrobble;
    if (op == "auth_start") return a->auth_start;
    if (op == "auth_poll") return a->auth_poll;
    if (op == "action") return a->action;
    if (op == "lookup" && CWSDK_HAS_FIELD(a, cw_provider_api, lookup)) return a->lookup;
    if (op == "resolve_ids" && CWSDK_HAS_FIELD(a, cw_provider_api, resolve_ids))
      return a->resolve_ids;
    return nullptr;
  }

  const cw_provider_api* m_api;
  cw_instance* m_self = nullptr;
  std::string m_create_error;
};

}  // namespace cwsdk::testing

#endif  // CWSDK_TESTING_MOCK_HOST_HPP
