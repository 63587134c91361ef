#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cw/services/http/curl_http_service.hpp>
#include <cw/services/http/http_policy.hpp>
#include <cw/services/secrets/redactor.hpp>
#include <cw/util/strings.hpp>
#include <cw/version.hpp>

namespace cw::services {
namespace {

std::once_flag g_curl_init;

void init_curl_once() {
  // curl_global_init is not thread-safe and must run once per process, before any handle.
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where the body of the current attempt goes, decided when its first byte arrives.
enum class BodyMode { undecided, buffer, stream, hold };

struct Transfer {
  CURL* easy = nullptr;
  HeaderList headers;
  std::string body;  // buffered body, or the held body of a response that may be retried
  const BodySink* sink = nullptr;
  BodyMode mode = BodyMode::undecided;
  bool may_retry = false;   // attempts remain
  bool repeatable = false;  // may_repeat(request): a 5xx may be retried, not only a 429
  bool streamed_any = false;
  bool too_big = false;
  std::int64_t max_body = 0;
  std::int64_t bytes_in = 0;
  const CancelToken* cancelled = nullptr;
};

constexpr std::size_t k_max_held_body = 1 << 20;
constexpr curl_off_t k_max_reserve = 256LL << 20;

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.clear();  // a new response (after 100 Continue or a proxy CONNECT)
    return len;
  }
  if (line.empty()) return len;
  if ((line[0] == ' ' || line[0] == '\t') && !t->headers.empty()) {  // obsolete line folding
    t->headers.back().second += ' ';
    t->headers.back().second += util::trim(line);
    return len;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;  // malformed: ignored
  const std::string_view name = util::trim(line.substr(0, colon));
  if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) return len;
  t->headers.emplace_back(util::to_lower(name), std::string(util::trim(line.substr(colon + 1))));
  return len;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (t->mode == BodyMode::undecided) {
    long code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    if (t->may_retry && is_retryable_status(static_cast<int>(code)) &&
        (code == 429 || t->repeatable))
      t->mode = BodyMode::hold;
    else if (t->sink != nullptr && *t->sink)
      t->mode = BodyMode::stream;
    else
      t->mode = BodyMode::buffer;
    if (t->mode == BodyMode::buffer) {
      curl_off_t cl = -1;
      curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
      if (cl > 0) t->body.reserve(static_cast<std::size_t>(std::min(cl, k_max_reserve)));
    }
  }
  t->bytes_in += static_cast<std::int64_t>(len);
  switch (t->mode) {
    case BodyMode::stream:
      t->streamed_any = true;
      (*t->sink)(std::string_view(data, len));
      break;
    case BodyMode::hold:
      if (t->body.size() + len <= k_max_held_body) t->body.append(data, len);
      break;
    case BodyMode::buffer:
      if (t->bytes_in > t->max_body) {
        t->too_big = true;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
      }
      t->body.append(data, len);
      break;
    case BodyMode::undecided:
      break;
  }
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->cancelled != nullptr && t->cancelled->cancelled() ? 1 : 0;
}

std::string without_query(const std::string& url) {
  const auto q = url.find('?');
  return redact(q == std::string::npos ? url : url.substr(0, q));
}

const char* method_of(const HttpRequest& r) { return r.method.c_str(); }

struct Effective {
  std::int64_t connect_timeout_ms;
  std::int64_t timeout_ms;
  int max_attempts;
  std::int64_t max_wait_ms;
  std::string proxy;
  std::string ca_file;
  std::string ca_path;
  bool verify_tls;
};

}  // namespace

struct CurlHttpService::Impl {
  config::HttpOptions options;
  std::shared_ptr<const Clock> clock;
  HttpLogFn log;
  std::string user_agent;
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST + 1> share_locks;
  std::mutex pool_mutex;
  std::vector<CURL*> idle;
  mutable std::mutex budgets_mutex;
  std::map<std::string, std::shared_ptr<RateBudget>> budgets;
  HttpAccounting accounting;

  static void lock_cb(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<std::size_t>(data)].lock();
  }
  static void unlock_cb(CURL*, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<std::size_t>(data)].unlock();
  }

  CURL* take() {
    {
      std::lock_guard lock(pool_mutex);
      if (!idle.empty()) {
        CURL* e = idle.back();
        idle.pop_back();
        return e;
      }
    }
    return curl_easy_init();
  }
  void give(CURL* e) {
    curl_easy_reset(e);
    std::lock_guard lock(pool_mutex);
    idle.push_back(e);
  }

  Effective effective(const std::string& instance) const {
    Effective e{options.connect_timeout_ms,
                options.timeout_ms,
                options.max_attempts,
                options.max_wait_ms,
                options.proxy,
                options.ca_file,
                options.ca_path,
                options.verify_tls};
    auto it = options.instances.find(instance);
    if (it == options.instances.end()) return e;
    const auto& o = it->second;
    if (o.connect_timeout_ms) e.connect_timeout_ms = *o.connect_timeout_ms;
    if (o.timeout_ms) e.timeout_ms = *o.timeout_ms;
    if (o.max_attempts) e.max_attempts = *o.max_attempts;
    if (o.max_wait_ms) e.max_wait_ms = *o.max_wait_ms;
    if (o.proxy) e.proxy = *o.proxy;
    if (o.ca_file) e.ca_file = *o.ca_file;
    if (o.ca_path) e.ca_path = *o.ca_path;
    if (o.verify_tls) e.verify_tls = *o.verify_tls;
    return e;
  }

  std::shared_ptr<RateBudget> budget(const std::string& instance) {
    std::lock_guard lock(budgets_mutex);
    auto& b = budgets[instance];
    if (!b) {
      std::vector<config::RateLimitSpec> limits;
      std::int64_t cap = 0;
      if (auto it = options.instances.find(instance); it != options.instances.end()) {
        limits = it->second.rate_limits;
        cap = it->second.max_requests_per_run.value_or(0);
      }
      b = std::make_shared<RateBudget>(instance, std::move(limits), cap, clock->steady_ms());
    }
    return b;
  }

  void emit(HttpLogLevel level, const std::string& line) const {
    const std::string clean = redact(line);
    if (log) {
      log(level, clean);
      return;
    }
    switch (level) {
      case HttpLogLevel::debug:
        spdlog::debug("{}", clean);
        break;
      case HttpLogLevel::info:
        spdlog::info("{}", clean);
        break;
      case HttpLogLevel::warn:
        spdlog::warn("{}", clean);
        break;
    }
  }

  // One transfer, no retries. Fills `t`; returns the curl code.
  CURLcode perform(const HttpRequest& req, const Effective& eff, Transfer& t,
                   std::string& curl_error, HttpTiming& timing, int& status) {
    CURL* e = t.easy;
    char errbuf[CURL_ERROR_SIZE] = {0};
    const std::string url = full_url(req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   // a redirect could carry tokens elsewhere
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     options.http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                   : static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(eff.connect_timeout_ms));
    const std::int64_t total = req.timeout_ms > 0 ? req.timeout_ms : eff.timeout_ms;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(total));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!options.reuse_connections) {
      curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (!eff.proxy.empty()) curl_easy_setopt(e, CURLOPT_PROXY, eff.proxy.c_str());
    if (!eff.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, eff.ca_file.c_str());
    if (!eff.ca_path.empty()) curl_easy_setopt(e, CURLOPT_CAPATH, eff.ca_path.c_str());
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, eff.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, eff.verify_tls ? 2L : 0L);

    if (req.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      if (req.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_of(req));
      // A body-less POST/PUT/PATCH still says `Content-Length: 0`: without it some proxies
      // answer 411 and some servers wait for a body until their read timeout.
      if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
          !req.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
      }
    }
    curl_slist* hdrs = nullptr;
    bool has_expect = false;
    for (const auto& [k, v] : req.headers) {
      if (util::to_lower(k) == "expect") has_expect = true;
      const std::string line = v.empty() ? k + ";" : k + ": " + v;
      hdrs = curl_slist_append(hdrs, line.c_str());
    }
    // 100-continue costs a round trip per POST for bodies the services always accept.
    if (!has_expect) hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);

    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);

    const CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(hdrs);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    status = static_cast<int>(code);
    curl_off_t us = 0;
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
    timing.total_ms = static_cast<double>(us) / 1000.0;
    curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &us);
    timing.connect_ms = static_cast<double>(us) / 1000.0;
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &us);
    timing.first_byte_ms = static_cast<double>(us) / 1000.0;
    curl_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    while (!curl_error.empty() && curl_error.back() == '\n') curl_error.pop_back();
    return rc;
  }

  std::int64_t backoff_ms(int attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const double base = static_cast<double>(options.backoff_base_ms) *
                        static_cast<double>(1LL << std::min(attempt - 1, 20));
    const double capped = std::min(base, static_cast<double>(options.backoff_max_ms));
    // Jitter over the upper half keeps the growth while spreading clients apart.
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return static_cast<std::int64_t>(capped * jitter(rng));
  }
};

CurlHttpService::CurlHttpService(config::HttpOptions options, std::shared_ptr<const Clock> clock,
                                 HttpLogFn log)
    : m_impl(std::make_unique<Impl>()) {
  init_curl_once();
  m_impl->options = std::move(options);
  m_impl->clock = clock ? std::move(clock) : std::make_shared<SystemClock>();
  m_impl->log = std::move(log);
  m_impl->user_agent = m_impl->options.user_agent.empty() ? "cw/" + std::string(k_version)
                                                          : m_impl->options.user_agent;
  m_impl->share = curl_share_init();
  curl_share_setopt(m_impl->share, CURLSHOPT_LOCKFUNC, &Impl::lock_cb);
  curl_share_setopt(m_impl->share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock_cb);
  curl_share_setopt(m_impl->share, CURLSHOPT_USERDATA, m_impl.get());
  curl_share_setopt(m_impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(m_impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(m_impl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

CurlHttpService::~CurlHttpService() {
  for (CURL* e : m_impl->idle) curl_easy_cleanup(e);
  m_impl->idle.clear();
  curl_share_cleanup(m_impl->share);
}

void CurlHttpService::configure_instance(
    const std::string& instance, const std::vector<config::RateLimitSpec>& manifest_limits) {
  std::vector<config::RateLimitSpec> overrides;
  std::int64_t cap = 0;
  if (auto it = m_impl->options.instances.find(instance); it != m_impl->options.instances.end()) {
    overrides = it->second.rate_limits;
    cap = it->second.max_requests_per_run.value_or(0);
  }
  auto budget =
      std::make_shared<RateBudget>(instance, config::merge_rate_limits(manifest_limits, overrides),
                                   cap, m_impl->clock->steady_ms());
  std::lock_guard lock(m_impl->budgets_mutex);
  m_impl->budgets[instance] = std::move(budget);
}

namespace {

// What a transfer that got no response means: the accounting outcome, the error kind, and
// whether the request surely never left (a connect error) or must not be repeated.
struct Failure {
  std::string outcome = "transport_error";
  ErrorKind kind = ErrorKind::transient;
  bool nothing_sent = false;
  bool no_retry = false;
};

Failure classify_failure(CURLcode rc, bool too_big, std::int64_t max_body_bytes,
                         std::string& curl_error) {
  Failure f;
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      f.outcome = "timeout";
      break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      f.outcome = "connect_error";
      f.nothing_sent = true;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      f.outcome = "cancelled";
      f.kind = ErrorKind::cancelled;
      break;
    case CURLE_WRITE_ERROR:
      if (too_big) {
        f.outcome = "too_large";
        f.kind = ErrorKind::internal;
        curl_error = "the body is larger than max_body_bytes (" + std::to_string(max_body_bytes) +
                     "); stream it with a body sink or raise http.max_body_bytes";
      }
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
      f.outcome = "tls_error";
      f.kind = ErrorKind::invalid_arg;
      curl_error += "; check http.ca_file/ca_path for a private CA";
      break;
    case CURLE_URL_MALFORMAT:
      f.outcome = "bad_url";
      f.kind = ErrorKind::invalid_arg;
      break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:  // the URL is http(s), so: an HTTP/0.9 or non-HTTP reply
      // Not repeated: a server that speaks garbage (or a wrong port) will do so again.
      f.outcome = "bad_response";
      f.no_retry = true;
      curl_error += "; is the URL pointing at an HTTP server?";
      break;
    default:
      break;
  }
  return f;
}

}  // namespace

Result<HttpResponse> CurlHttpService::send(const HttpContext& ctx, const HttpRequest& request,
                                           const BodySink& body_sink) {
  Impl& im = *m_impl;
  register_request_secrets(request);
  const std::string endpoint =
      request.endpoint.empty() ? endpoint_template(request.url) : request.endpoint;
  const std::int64_t bytes_out = static_cast<std::int64_t>(request.body.size());

  if (auto st = check_dry_run(ctx, request); !st) {
    im.accounting.record(ctx.instance, endpoint, request.method, "refused_dry_run", 0, 0, 0);
    im.emit(HttpLogLevel::info, st.error().message);
    return st.error();
  }
  if (!util::starts_with_icase(request.url, "http://") &&
      !util::starts_with_icase(request.url, "https://"))
    return make_error(ctx.instance + ": http request url '" + without_query(request.url) +
                          "' is not an absolute http(s) URL",
                      ErrorKind::invalid_arg);

  const Effective eff = im.effective(ctx.instance);
  auto budget = im.budget(ctx.instance);
  const std::string where = ctx.instance + ": " + request.method + " " + without_query(request.url);
  const int max_attempts = std::max(1, eff.max_attempts);

  for (int attempt = 1;; ++attempt) {
    if (auto st = budget->acquire(request.method, endpoint, *im.clock, eff.max_wait_ms, ctx.cancel);
        !st) {
      const bool cancelled = st.error().kind == ErrorKind::cancelled;
      im.accounting.record(ctx.instance, endpoint, request.method,
                           cancelled ? "cancelled" : "refused_budget", 0, 0, 0);
      im.emit(cancelled ? HttpLogLevel::debug : HttpLogLevel::warn, st.error().message);
      return st.error();
    }
    Transfer t;
    t.easy = im.take();
    if (t.easy == nullptr)
      return make_error(where + ": libcurl could not make a handle", ErrorKind::internal);
    t.sink = &body_sink;
    t.may_retry = attempt < max_attempts;
    t.repeatable = may_repeat(request);
    t.max_body = im.options.max_body_bytes;
    t.cancelled = ctx.cancel;
    std::string curl_error;
    HttpTiming timing;
    int status = 0;
    const CURLcode rc = im.perform(request, eff, t, curl_error, timing, status);
    im.give(t.easy);

    if (rc == CURLE_OK) {
      budget->observe(request.method, endpoint, status, t.headers, *im.clock);
      im.accounting.record(ctx.instance, endpoint, request.method, std::to_string(status),
                           t.bytes_in, bytes_out, timing.total_ms);
      char line[160];
      std::snprintf(line, sizeof line, " -> %d (%.1f ms, %lld B, attempt %d)", status,
                    timing.total_ms, static_cast<long long>(t.bytes_in), attempt);
      im.emit(HttpLogLevel::debug,
              "http " + ctx.instance + " " + request.method + " " + endpoint + line);

      const bool retry_status =
          is_retryable_status(status) && (status == 429 || may_repeat(request));
      if (retry_status && attempt < max_attempts) {
        std::int64_t delay = im.backoff_ms(attempt);
        if (const std::string* ra = find_header(t.headers, "retry-after"))
          if (auto ms = parse_retry_after(*ra, im.clock->now_ms())) delay = std::max(delay, *ms);
        if (delay <= eff.max_wait_ms) {
          char msg[200];
          std::snprintf(msg, sizeof msg, " got %d; retrying in %.1f s (attempt %d of %d)", status,
                        static_cast<double>(delay) / 1000.0, attempt + 1, max_attempts);
          im.emit(HttpLogLevel::warn,
                  "http " + ctx.instance + " " + request.method + " " + endpoint + msg);
          if (!im.clock->sleep_ms(delay, ctx.cancel)) {
            im.accounting.record(ctx.instance, endpoint, request.method, "cancelled", 0, 0, 0);
            return make_error(where + ": cancelled while waiting to retry", ErrorKind::cancelled);
          }
          continue;
        }
        // The service wants a longer pause than this run may take: give the plugin the
        // response; the budget now refuses this instance's next requests quickly.
      }
      HttpResponse resp;
      resp.status = status;
      resp.headers = std::move(t.headers);
      resp.timing = timing;
      resp.attempts = attempt;
      if (t.mode == BodyMode::hold && body_sink) {
        body_sink(t.body);
      } else if (t.mode != BodyMode::stream) {
        resp.body = std::move(t.body);
      }
      return resp;
    }

    // No response.
    const Failure f = classify_failure(rc, t.too_big, im.options.max_body_bytes, curl_error);
    im.accounting.record(ctx.instance, endpoint, request.method, f.outcome, t.bytes_in, bytes_out,
                         timing.total_ms);
    const bool retry = f.kind == ErrorKind::transient && !f.no_retry && attempt < max_attempts &&
                       !t.streamed_any && (f.nothing_sent || may_repeat(request));
    if (retry) {
      const std::int64_t delay = im.backoff_ms(attempt);
      char msg[120];
      std::snprintf(msg, sizeof msg, "; retrying in %.1f s (attempt %d of %d)",
                    static_cast<double>(delay) / 1000.0, attempt + 1, max_attempts);
      im.emit(HttpLogLevel::warn, where + ": " + curl_error + msg);
      if (!im.clock->sleep_ms(delay, ctx.cancel)) {
        im.accounting.record(ctx.instance, endpoint, request.method, "cancelled", 0, 0, 0);
        return make_error(where + ": cancelled while waiting to retry", ErrorKind::cancelled);
      }
      continue;
    }
    std::string msg = where + ": " + curl_error;
    if (f.kind == ErrorKind::transient) {
      if (f.outcome == "timeout")
        msg += " (connect_timeout_ms " + std::to_string(eff.connect_timeout_ms) + ", timeout_ms " +
               std::to_string(request.timeout_ms > 0 ? request.timeout_ms : eff.timeout_ms) + ")";
      msg += attempt > 1 ? " after " + std::to_string(attempt) + " attempts" : "";
      if (!f.nothing_sent && !may_repeat(request) && attempt < max_attempts)
        msg += "; not repeated: the write may have reached the server";
    }
    Error err = make_error(redact(msg), f.kind);
    im.emit(f.kind == ErrorKind::cancelled ? HttpLogLevel::debug : HttpLogLevel::warn, err.message);
    return err;
  }
}

const HttpAccounting& CurlHttpService::accounting() const { return m_impl->accounting; }

nlohmann::json CurlHttpService::report() const {
  nlohmann::json budgets = nlohmann::json::object();
  {
    std::lock_guard lock(m_impl->budgets_mutex);
    const std::int64_t now = m_impl->clock->steady_ms();
    for (const auto& [name, b] : m_impl->budgets) budgets[name] = b->to_json(now);
  }
  return {{"requests", m_impl->accounting.to_json()}, {"budgets", budgets}};
}

void CurlHttpService::log_summary() const {
  const auto doc = m_impl->accounting.to_json();
  for (const auto& [instance, rows] : doc.items())
    for (const auto& r : rows) {
      char line[256];
      std::snprintf(
          line, sizeof line, " %s %s %s: %lld requests, %lld B in, %.1f ms avg, %.1f ms max",
          r["method"].get<std::string>().c_str(), r["endpoint"].get<std::string>().c_str(),
          r["outcome"].get<std::string>().c_str(),
          static_cast<long long>(r["count"].get<std::int64_t>()),
          static_cast<long long>(r["bytes_in"].get<std::int64_t>()), r["avg_ms"].get<double>(),
          r["max_ms"].get<double>());
      m_impl->emit(HttpLogLevel::debug, "http summary " + instance + line);
    }
}

}  // namespace cw::services
