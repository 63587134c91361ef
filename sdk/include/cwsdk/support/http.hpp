// cwsdk/support/http.hpp: HTTP through the host, with the standard status mapping.
//
// Plugins never open sockets: every request goes through Host::http, which paces, retries
// (honouring Retry-After), redacts and accounts (sdk/ABI.md "HTTP"). This header builds the
// request document, reads the reply, and maps what came back to a cw_status once, the same
// way for every plugin.
//
//   cwsdk::http::Client api(host, "https://api.trakt.tv");
//   api.header("trakt-api-version", "2").header("trakt-api-key", client_id);
//   auto reply = api.json(cwsdk::http::Request::get("/users/{user}/watchlist/{type}")
//                             .path_param("user", user)         // escaped: "a b" -> a%20b
//                             .path_param("type", "movies")
//                             .query("page", 1).query("limit", 100));
//   if (!reply) return reply.error().reply();   // AUTH, NOT_FOUND, RATE_LIMITED...
//
// The endpoint (for the host's accounting and rate budgets) is the path template with
// `{name}` written `:name` ("/users/:user/watchlist/:type"), unless set with endpoint().
// Messages name the method and endpoint, never the URL or query (which may hold keys).
//
// Status mapping (Response::check, Client::fetch, Client::json):
//   transport (the host's own status, from http): RATE_LIMITED, TRANSIENT, CANCELLED and
//     UNSUPPORTED (a write refused in a dry run) pass through with the host's message and
//     retry_after_ms; INVALID_ARG (the host found the request malformed) becomes INTERNAL.
//   2xx OK; 3xx INTERNAL (redirects are not followed: a wrong base URL);
//   401, 403 AUTH; 404, 410 NOT_FOUND (reason not_found); 408 TRANSIENT;
//   420 (Trakt: an account limit) RATE_LIMITED with reason quota; 429 RATE_LIMITED with
//   Retry-After (seconds or an HTTP date) as retry_after_ms; 5xx TRANSIENT;
//   other 4xx INTERNAL with reason rejected (the service refused what we sent).
//
// Refresh on 401: give the Client an Authenticator (oauth.hpp has one for OAuth tokens).
// It adds credentials to each request; on a 401 the Client calls refresh() once and
// repeats the request once; a refresh that is refused is CW_STATUS_AUTH (one that could not
// reach the service keeps its RATE_LIMITED, TRANSIENT or CANCELLED).
#ifndef CWSDK_SUPPORT_HTTP_HPP
#define CWSDK_SUPPORT_HTTP_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/encoding.hpp>
#include <cwsdk/support/ids.hpp>  // also the ASCII text helpers (detail::iequals, lower_copy)
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/result.hpp>
#include <cwsdk/support/time.hpp>

namespace cwsdk::http {

class Request {
 public:
  // `target` is a path ("/users/{id}/watchlist", joined to the Client's base URL) or an
  // absolute http(s) URL. `{name}` placeholders are filled by path_param().
  Request(std::string method, std::string target)
      : m_method(std::move(method)), m_target(std::move(target)) {}
  static Request get(std::string target) { return Request("GET", std::move(target)); }
  static Request post(std::string target) { return Request("POST", std::move(target)); }
  static Request put(std::string target) { return Request("PUT", std::move(target)); }
  static Request patch(std::string target) { return Request("PATCH", std::move(target)); }
  static Request del(std::string target) { return Request("DELETE", std::move(target)); }

  // Fills `{name}` in the target with the URL-encoded value.
  Request& path_param(std::string name, std::string_view value) {
    m_params[std::move(name)] = url_encode(value);
    return *this;
  }
  Request& path_param(std::string name, std::int64_t value) {
    return path_param(std::move(name), std::to_string(value));
  }
  // Query parameters, sent in the order given; a name may repeat.
  Request& query(std::string name, std::string value) {
    m_query.emplace_back(std::move(name), Json(std::move(value)));
    return *this;
  }
  Request& query(std::string name, const char* value) {
    return query(std::move(name), std::string(value));
  }
  Request& query(std::string name, std::int64_t value) {
    m_query.emplace_back(std::move(name), Json(value));
    return *this;
  }
  Request& query(std::string name, int value) {
    return query(std::move(name), static_cast<std::int64_t>(value));
  }
  Request& query(std::string name, bool value) {
    m_query.emplace_back(std::move(name), Json(value));
    return *this;
  }
  Request& header(std::string name, std::string value) {
    m_headers[std::move(name)] = std::move(value);
    return *this;
  }
  // A JSON body (sent compact) with Content-Type: application/json.
  Request& json(const Json& body) {
    m_body = body.dump();
    m_has_body = true;
    return header("Content-Type", "application/json");
  }
  Request& body(std::string body, std::string content_type) {
    m_body = std::move(body);
    m_has_body = true;
    return header("Content-Type", std::move(content_type));
  }
  // The request changes nothing (default: true for GET, HEAD and OPTIONS). A GraphQL
  // query sent as POST is a read; never mark a write as one (dry runs send only reads).
  Request& read(bool is_read) {
    m_read = is_read;
    return *this;
  }
  // A write that may safely be repeated after a timeout (the host then retries it).
  Request& retry_safe(bool safe) {
    m_retry_safe = safe;
    return *this;
  }
  Request& timeout_ms(std::int64_t ms) {
    m_timeout_ms = ms;
    return *this;
  }
  Request& endpoint(std::string templ) {
    m_endpoint = std::move(templ);
    return *this;
  }

  const std::string& method() const { return m_method; }
  const std::string& target() const { return m_target; }
  const std::map<std::string, std::string>& headers() const { return m_headers; }
  bool has_header(std::string_view name) const {
    for (const auto& kv : m_headers) {
      if (cwsdk::detail::iequals(kv.first, name)) return true;
    }
    return false;
  }

  // The endpoint template: the one given, or the target's path with {name} as :name.
  std::string endpoint() const {
    if (!m_endpoint.empty()) return m_endpoint;
    std::string path = m_target;
    if (const auto scheme = path.find("://"); scheme != std::string::npos) {
      const auto slash = path.find('/', scheme + 3);
      path = slash == std::string::npos ? "/" : path.substr(slash);
    }
    if (const auto q = path.find('?'); q != std::string::npos) path.resize(q);
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '{') {
        const auto close = path.find('}', i);
        if (close != std::string::npos) {
          out += ':' + path.substr(i + 1, close - i - 1);
          i = close;
          continue;
        }
      }
      out += path[i];
    }
    return out;
  }
  // "GET /users/:id/watchlist": how messages name this request.
  std::string describe() const { return m_method + " " + endpoint(); }

  // The request document for Host::http. Fails (INTERNAL: a plugin bug) when a {name}
  // has no value or the URL is not absolute http(s).
  Result<Json> document(std::string_view base_url = {}) const {
    auto url = expand(base_url);
    if (!url) return url.error();
    Json doc = Json::object();
    doc["method"] = m_method;
    doc["url"] = std::move(*url);
    if (!m_query.empty()) doc["query"] = query_json();
    if (!m_headers.empty()) doc["headers"] = m_headers;
    if (m_has_body) doc["body"] = m_body;
    if (m_timeout_ms) doc["timeout_ms"] = *m_timeout_ms;
    if (m_read) doc["read"] = *m_read;
    if (m_retry_safe) doc["retry_safe"] = true;
    doc["endpoint"] = endpoint();
    return doc;
  }

 private:
  Result<std::string> expand(std::string_view base_url) const {
    std::string url;
    const bool absolute = m_target.rfind("http://", 0) == 0 || m_target.rfind("https://", 0) == 0;
    if (!absolute) {
      std::string base(base_url);
      while (!base.empty() && base.back() == '/') base.pop_back();
      url = base;
      if (!m_target.empty() && m_target.front() != '/') url += '/';
    }
    for (std::size_t i = 0; i < m_target.size(); ++i) {
      if (m_target[i] != '{') {
        url += m_target[i];
        continue;
      }
      const auto close = m_target.find('}', i);
      if (close == std::string::npos)
        return Failure::internal(describe() + ": unclosed '{' in the URL template");
      const std::string name = m_target.substr(i + 1, close - i - 1);
      const auto it = m_params.find(name);
      if (it == m_params.end())
        return Failure::internal(describe() + ": no value for {" + name + "} (path_param)");
      url += it->second;
      i = close;
    }
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      return Failure::internal(describe() + ": the URL is not absolute http(s); set the base URL");
    return url;
  }
  Json query_json() const {
    bool unique = true;
    for (std::size_t i = 0; i < m_query.size() && unique; ++i) {
      for (std::size_t j = i + 1; j < m_query.size(); ++j)
        unique = unique && m_query[i].first != m_query[j].first;
    }
    if (unique) {
      Json q = Json::object();
      for (const auto& kv : m_query) q[kv.first] = kv.second;
      return q;
    }
    Json q = Json::array();
    for (const auto& kv : m_query) q.push_back(Json::array({kv.first, kv.second}));
    return q;
  }

  std::string m_method;
  std::string m_target;
  std::map<std::string, std::string> m_params;
  std::vector<std::pair<std::string, Json>> m_query;
  std::map<std::string, std::string> m_headers;
  std::string m_body;
  bool m_has_body = false;
  std::optional<bool> m_read;
  bool m_retry_safe = false;
  std::optional<std::int64_t> m_timeout_ms;
  std::string m_endpoint;
};

namespace detail {

// A short, single-line excerpt of a service's error message, from the usual JSON shapes
// ({"error": ..}, {"message": ..}, {"error_description": ..}, {"errors": [{"message": ..}]}).
inline std::string service_message(std::string_view body) {
  Json doc = Json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  std::string msg;
  for (const char* name : {"error_description", "message", "error", "status_message"}) {
    const Json* v = cwsdk::find(doc, name);
    if (v != nullptr && v->is_string()) {
      msg = v->get<std::string>();
      break;
    }
  }
  if (msg.empty()) {
    if (const Json* errors = cwsdk::find(doc, "errors");
        errors != nullptr && errors->is_array() && !errors->empty()) {
      msg = get_or((*errors)[0], "message", "");
    }
  }
  for (char& c : msg) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (msg.size() > 160) msg = msg.substr(0, 157) + "...";
  return msg;
}

inline std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 420:
      return "Account Limit Exceeded";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

}  // namespace detail

// The status a non-2xx HTTP status maps to (table at the top); `what` names the request.
inline Failure failure_for_status(int status, std::string_view what,
                                  std::int64_t retry_after_ms = -1,
                                  std::string_view service_message = {}) {
  std::string msg = std::string(what) + ": HTTP " + std::to_string(status);
  const auto phrase = detail::reason_phrase(status);
  if (!phrase.empty()) msg += " " + std::string(phrase);
  if (!service_message.empty()) msg += " (" + std::string(service_message) + ")";
  Failure f;
  f.http_status = status;
  f.message = std::move(msg);
  if (status >= 300 && status < 400) {
    f.status = CW_STATUS_INTERNAL;
    f.message += ": redirects are not followed; check the base URL";
    f.reason = Reason::unknown;
  } else if (status == 401 || status == 403) {
    f.status = CW_STATUS_AUTH;
    f.reason = Reason::rejected;
  } else if (status == 404 || status == 410) {
    f.status = CW_STATUS_NOT_FOUND;
    f.reason = Reason::not_found;
  } else if (status == 408) {
    f.status = CW_STATUS_TRANSIENT;
    f.reason = Reason::unknown;
  } else if (status == 420) {
    f.status = CW_STATUS_RATE_LIMITED;
    f.reason = Reason::quota;
  } else if (status == 429) {
    f.status = CW_STATUS_RATE_LIMITED;
    f.reason = Reason::rate_limited;
    f.retry_after_ms = retry_after_ms;
  } else if (status >= 500) {
    f.status = CW_STATUS_TRANSIENT;
    f.reason = Reason::unknown;
    f.retry_after_ms = retry_after_ms;
  } else {
    f.status = CW_STATUS_INTERNAL;
    f.reason = Reason::rejected;
  }
  return f;
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int attempts = 1;
  std::string what;                 // "GET /users/:id/watchlist"
  std::int64_t received_at_ms = 0;  // host clock when the reply arrived

  bool ok() const { return status >= 200 && status < 300; }

  // A header by name, case-insensitively.
  std::optional<std::string> header(std::string_view name) const {
    const auto it = headers.find(cwsdk::detail::lower_copy(name));
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
  // A header holding an integer (X-Pagination-Page-Count); nullopt when absent or not one.
  std::optional<std::int64_t> header_int(std::string_view name) const {
    const auto v = header(name);
    if (!v) return std::nullopt;
    return cwsdk::detail::parse_int_text(*v);
  }
  // Retry-After as milliseconds from now: delay-seconds or an HTTP date.
  std::optional<std::int64_t> retry_after_ms() const {
    const auto v = header("retry-after");
    if (!v) return std::nullopt;
    if (const auto secs = cwsdk::detail::parse_int_text(*v)) {
      if (*secs < 0) return std::nullopt;
      return *secs * 1000;
    }
    if (const auto at = parse_http_date(*v)) return *at > received_at_ms ? *at - received_at_ms : 0;
    return std::nullopt;
  }

  // The body as JSON; a truncated or malformed body is a clear error (INTERNAL).
  Result<Json> json() const {
    return parse_json(body, what + " reply (HTTP " + std::to_string(status) + ")");
  }
  // OK for 2xx; the mapped failure otherwise.
  Status check() const {
    if (ok()) return {};
    return failure_for_status(status, what, retry_after_ms().value_or(-1),
                              detail::service_message(body));
  }
};

// Sends one request through the host. Any HTTP status is a Response; only transport
// failures (see the top) are Failures.
inline Result<Response> send(const Host& host, const Request& request,
                             std::string_view base_url = {}) {
  auto doc = request.document(base_url);
  if (!doc) return doc.error();
  HttpResult r = host.http(doc->dump());
  const std::string what = request.describe();
  if (r.status != CW_STATUS_OK) {
    Json err = Json::parse(r.meta, nullptr, false);
    std::string message = r.meta;
    std::int64_t retry = -1;
    if (!err.is_discarded() && err.is_object()) {
      message = get_or(err, "message", "");
      retry = get_or<std::int64_t>(err, "retry_after_ms", -1);
    }
    if (message.empty()) message = "no message";
    cw_status st = r.status;
    if (st == CW_STATUS_INVALID_ARG) {
      st = CW_STATUS_INTERNAL;
      message = "the host refused the request as malformed: " + message;
    } else if (st != CW_STATUS_RATE_LIMITED && st != CW_STATUS_TRANSIENT &&
               st != CW_STATUS_CANCELLED && st != CW_STATUS_UNSUPPORTED) {
      st = CW_STATUS_INTERNAL;
    }
    return Failure::of(st, what + ": " + message, retry);
  }
  auto meta = parse_json(r.meta, what + ": the host's reply meta");
  if (!meta) return meta.error();
  Response out;
  out.what = what;
  out.received_at_ms = host.now_ms();
  auto status = cwsdk::get<int>(*meta, "/status");
  if (!status || *status < 100 || *status > 599)
    return Failure::internal(what + ": the host's reply meta has no HTTP status");
  out.status = *status;
  out.attempts = get_or(*meta, "/attempts", 1);
  if (const Json* h = cwsdk::find(*meta, "/headers"); h != nullptr && h->is_object()) {
    for (auto it = h->begin(); it != h->end(); ++it) {
      if (it->is_string())
        out.headers[cwsdk::detail::lower_copy(it.key())] = it->get<std::string>();
    }
  }
  out.body = std::move(r.body);
  return out;
}

// Adds credentials to requests and renews them after a 401 (see the top).
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Adds the credentials (an Authorization header). A failure (no token stored) is AUTH.
  virtual Status authorize(Request& request) = 0;
  // Renews the credentials after a 401 and stores them; a failure is AUTH.
  virtual Status refresh() = 0;
};

// A base URL, headers for every request and an optional Authenticator, over one Host.
class Client {
 public:
  Client(Host host, std::string base_url) : m_host(host), m_base(std::move(base_url)) {}

  // Sent with every request (unless the request sets the same header).
  Client& header(std::string name, std::string value) {
    m_headers[std::move(name)] = std::move(value);
    return *this;
  }
  // Not owned; must outlive the client's requests. nullptr: none.
  Client& authenticator(Authenticator* auth) {
    m_auth = auth;
    return *this;
  }
  const Host& host() const { return m_host; }
  const std::string& base_url() const { return m_base; }

  // Any HTTP status is a Response (see send()); a 401 with an Authenticator is refreshed
  // and repeated once.
  Result<Response> send(Request request) const {
    if (Status st = prepare(request); !st) return st.error();
    auto reply = http::send(m_host, request, m_base);
    if (!reply || reply->status != 401 || m_auth == nullptr) return reply;
    Status renewed = m_auth->refresh();
    if (!renewed) return as_auth(renewed.error());
    Status st = m_auth->authorize(request);
    if (!st) return as_auth(st.error());
    return http::send(m_host, request, m_base);
  }
  // Adds the client's headers and credentials to `request`, as send() does before sending.
  // A prepared request can then go out through http::send() on another thread (the
  // Authenticator itself is called only here, on the calling thread; see paging.hpp's
  // run_pipelined). A failure to authorize is AUTH, as from send().
  Status prepare(Request& request) const {
    for (const auto& kv : m_headers) {
      if (!request.has_header(kv.first)) request.header(kv.first, kv.second);
    }
    if (m_auth != nullptr) {
      Status st = m_auth->authorize(request);
      if (!st) return as_auth(st.error());
    }
    return {};
  }
  // Whether a 401 is renewed and repeated by send().
  bool authenticates() const { return m_auth != nullptr; }
  // A 2xx Response, or the mapped failure.
  Result<Response> fetch(Request request) const {
    auto reply = send(std::move(request));
    if (!reply) return reply;
    Status st = reply->check();
    if (!st) return st.error();
    return reply;
  }
  // A 2xx reply's JSON body, or the mapped failure.
  Result<Json> json(Request request) const {
    auto reply = fetch(std::move(request));
    if (!reply) return reply.error();
    return reply->json();
  }

 private:
  // Credentials that cannot be had or renewed are AUTH; a refresh that could not reach
  // the service (rate limited, transient, cancelled) keeps its status.
  static Failure as_auth(const Failure& f) {
    Failure out = f;
    if (out.status == CW_STATUS_CANCELLED || out.status == CW_STATUS_RATE_LIMITED ||
        out.status == CW_STATUS_TRANSIENT)
      return out;
    out.status = CW_STATUS_AUTH;
    out.reason = Reason::rejected;
    return out;
  }

  Host m_host;
  std::string m_base;
  std::map<std::string, std::string> m_headers;
  Authenticator* m_auth = nullptr;
};

}  // namespace cwsdk::http

#endif  // CWSDK_SUPPORT_HTTP_HPP
