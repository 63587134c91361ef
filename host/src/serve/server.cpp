#include <chrono>

#include <httplib.h>

#include <cw/serve/server.hpp>
#include <cw/serve/status.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/version.hpp>

namespace cw::serve {
namespace {

using json = nlohmann::json;

// The route a path belongs to, for metrics: ids and sources never become label values
// beyond the known routes.
std::string route_of(const std::string& method, const std::string& path) {
  static const char* k_routes[] = {"/",
                                   "/api/status",
                                   "/api/runs",
                                   "/api/pending",
                                   "/api/scrobble",
                                   "/api/run",
                                   "/metrics",
                                   "/healthz",
                                   "/run",
                                   "/pending/approve",
                                   "/pending/decline",
                                   "/api/pending/approve",
                                   "/api/pending/decline"};
  for (const char* r : k_routes)
    if (path == r) return method + " " + r;
  if (path.rfind("/webhook/", 0) == 0) return method + " /webhook/:source";
  if (path.rfind("/api/runs/", 0) == 0) return method + " /api/runs/:id";
  return method + " other";
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

void send_page(httplib::Response& res, int status, const std::string& title,
               const std::string& message) {
  res.status = status;
  res.set_content("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                      html_escape(title) + "</title></head><body><h1>" + html_escape(title) +
                      "</h1><p id=\"message\">" + html_escape(message) +
                      "</p><p><a href=\"/\">back to the status page</a></p></body></html>\n",
                  "text/html; charset=utf-8");
}

// A multipart body as httplib parsed it, written back as one body with our own boundary, so
// the scrobble service parses what the sender sent.
std::string rebuild_multipart(const httplib::Request& req, const std::string& boundary) {
  std::string body;
  for (const auto& [name, file] : req.files) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
    if (!file.filename.empty()) body += "; filename=\"" + file.filename + "\"";
    body += "\r\n";
    if (!file.content_type.empty()) body += "Content-Type: " + file.content_type + "\r\n";
    body += "\r\n" + file.content + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return body;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Server::Server(ServerOptions options, RunFn run, NowFn now, services::Logger& log,
               services::CancelToken& cancel, ScrobbleBridge* scrobble)
    : m_options(std::move(options)),
      m_run(std::move(run)),
      m_now(std::move(now)),
      m_log(log),
      m_cancel(cancel),
      m_scrobble(scrobble),
      m_csrf(random_token()),
      m_metrics(m_now()),
      m_webhook_limit(m_options.webhook_rate, m_options.webhook_burst),
      m_http(std::make_unique<httplib::Server>()),
      m_scheduler(
          m_options.pairs, m_options.schedules,
          m_options.seed != 0 ? m_options.seed : std::hash<std::string>{}(random_token(8))) {
  routes();
}

Server::~Server() { stop(); }

Result<int> Server::start() {
  if (auto st = check_bind(m_options.listen, m_options.access); !st) return st.error();
  int port = m_options.listen.port;
  if (port == 0) {
    port = m_http->bind_to_any_port(m_options.listen.host);
    if (port < 0) port = 0;
  } else if (!m_http->bind_to_port(m_options.listen.host, port)) {
    port = 0;
  }
  if (port == 0)
    return make_error("cannot listen on " + m_options.listen.to_string() +
                          ": the address is in use or not available here; pick another with "
                          "--listen HOST:PORT",
                      ErrorKind::transient);
  {
    std::lock_guard lock(m_mutex);
    m_scheduler.start(m_now());
  }
  m_listener = std::thread([this] { m_http->listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so that a stop
  // right after start cannot leave the listener running.
  while (!m_http->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  m_worker = std::thread([this] { worker(); });
  if (m_scrobble != nullptr) m_deliverer = std::thread([this] { deliverer(); });
  m_log.info("serve", "listening on " + m_options.listen.host + ":" + std::to_string(port));
  return port;
}

void Server::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && !m_worker.joinable() && !m_listener.joinable()) return;
    m_stopping = true;
  }
  m_cv.notify_all();
  m_http->stop();
  if (m_listener.joinable()) m_listener.join();
  if (m_worker.joinable()) m_worker.join();
  if (m_deliverer.joinable()) m_deliverer.join();
}

void Server::request_run(const std::string& pair) {
  {
    std::lock_guard lock(m_mutex);
    m_scheduler.request(pair, m_now());
  }
  m_cv.notify_all();
}

void Server::wait_idle() {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock,
            [this] { return m_stopping || (!m_running && !m_scheduler.due(m_now()).has_value()); });
}

void Server::worker() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping && !m_cancel.cancelled()) {
    const std::int64_t now = m_now();
    const auto due = m_scheduler.due(now);
    if (!due) {
      // Woken by a request, stop() or the next due time; a minute at most, so a clock that
      // jumps (suspend, NTP) is noticed.
      const auto next = m_scheduler.next_due();
      const std::int64_t wait = next ? std::clamp<std::int64_t>(*next - now, 1, 60) : 60;
      m_cv.wait_for(lock, std::chrono::seconds(wait));
      continue;
    }
    m_running = *due;
    lock.unlock();
    m_log.info("serve", "running pair " + *due);
    RunOutcome out = m_run(*due);
    if (!out.report.is_null()) m_metrics.record_run(out.report, out.http, m_now());
    if (out.result == RunResult::locked || out.report.is_null())
      m_metrics.record_run_refused(*due, to_string(out.result));
    if (!out.message.empty())
      m_log.warn("serve", "pair " + *due + ": " + to_string(out.result) + ": " + out.message);
    lock.lock();
    m_scheduler.finished(*due, out.result, m_now());
    m_running.reset();
    m_cv.notify_all();
  }
  m_running.reset();
  m_cv.notify_all();
}

void Server::deliverer() {
  std::unique_lock lock(m_mutex);
  // What a restart left in the queue goes out at once.
  std::int64_t wait_ms = 0;
  while (!m_stopping && !m_cancel.cancelled()) {
    const std::int64_t cap_ms = m_options.deliver_every_s * 1000;
    m_cv.wait_for(lock, std::chrono::milliseconds(wait_ms > 0 ? std::min(wait_ms, cap_ms) : cap_ms),
                  [this] { return m_stopping || m_deliver_now; });
    if (m_stopping) break;
    m_deliver_now = false;
    lock.unlock();
    wait_ms = m_scrobble->deliver_pending(m_cancel);
    lock.lock();
  }
}

std::unique_ptr<state::StateStore> Server::open_store(std::string& why) {
  auto opened = state::StateStore::open(m_options.state_dir, state::OpenMode::read_only);
  if (!opened) {
    why = "no state to show yet (" + opened.error().message + ")";
    return nullptr;
  }
  return std::move(opened).value();
}

json Server::status() {
  json s = json::object();
  {
    std::string why;
    if (auto store = open_store(why)) {
      auto collected = collect_status(*store, StatusLimits{});
      if (collected)
        s = std::move(collected).value();
      else
        s["state_error"] = collected.error().message;
    } else {
      s["state_error"] = why;
    }
  }
  for (const char* k : {"pairs", "runs", "pending", "held"})
    if (!s.contains(k)) s[k] = json::array();
  if (!s.contains("providers")) s["providers"] = json::object();
  {
    std::lock_guard lock(m_mutex);
    s["schedule"] = m_scheduler.to_json();
    s["running"] = m_running ? json(*m_running) : json(nullptr);
  }
  s["server"] = {{"version", k_version},
                 {"config", m_options.config_path},
                 {"state_dir", m_options.state_dir.string()},
                 {"now", m_now()}};
  if (m_scrobble != nullptr)
    s["scrobble"] = {{"stats", m_scrobble->stats()},
                     {"recent", m_scrobble->recent(20)},
                     {"queue", m_scrobble->queue(20)}};
  return s;
}

std::string Server::render_metrics() {
  json held = json::object();
  {
    std::string why;
    if (auto store = open_store(why)) {
      auto counts = held_counts(*store);
      if (counts) held = std::move(counts).value();
    }
  }
  return m_metrics.render(held, m_scrobble != nullptr ? m_scrobble->stats() : json(nullptr));
}

std::pair<int, std::string> Server::change_pending(bool approve, const std::string& pair,
                                                   const std::string& feature,
                                                   const std::string& key) {
  if (pair.empty() || feature.empty() || key.empty())
    return {400, "name the pair, the feature and the key of the held deletion"};
  // A page being read holds a shared lock for a moment: a few short tries before giving up.
  auto lock = state::RunLock::acquire(m_options.state_dir);
  for (int i = 0; i < 20 && !lock && lock.error().kind == ErrorKind::transient; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lock = state::RunLock::acquire(m_options.state_dir);
  }
  if (!lock)
    return {409, "a run is using the state directory right now (" + lock.error().message +
                     "); try again when it has finished"};
  auto store = state::StateStore::open(m_options.state_dir, state::OpenMode::read_write);
  if (!store) return {500, store.error().message};
  auto changed = approve ? (*store)->approve_pending(pair, feature, {key})
                         : (*store)->drop_pending(pair, feature, {key});
  if (!changed) return {500, changed.error().message};
  if (*changed == 0)
    return {404, "no held deletion " + key + " in " + pair + "/" + feature +
                     " (already approved, declined, or settled by a run)"};
  m_log.info("serve", std::string(approve ? "approved" : "declined") + " pending deletion " + key +
                          " in " + pair + "/" + feature);
  return {200, approve ? "approved: the next run applies the deletion if it is still true"
                       : "declined: the item stays and the deletion is not proposed again"};
}

void Server::routes() {
  auto& http = *m_http;
  http.set_payload_max_length(m_options.max_body_bytes);
  http.set_read_timeout(10, 0);

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // A page elsewhere must not reach a loopback server through a rebound DNS name.
    if (is_loopback_host(m_options.listen.host) &&
        !loopback_host_header(req.get_header_value("Host"))) {
      send_page(res, 403, "Forbidden", "this server answers only to a loopback Host header");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Webhooks carry their own secrets (the scrobble service checks them); senders such as
    // Plex cannot add an Authorization header.
    const bool open = req.path.rfind("/webhook/", 0) == 0 || req.path == "/healthz";
    if (!open && !m_options.access.allows(req.get_header_value("Authorization"))) {
      res.status = 401;
      res.set_header("WWW-Authenticate",
                     m_options.access.user.empty() ? "Bearer realm=\"cw\"" : "Basic realm=\"cw\"");
      res.set_content("authentication required\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    m_metrics.record_request(route_of(req.method, req.path), res.status);
  });

  // A state-changing request: a small body and this process's CSRF token.
  auto guarded = [this](const httplib::Request& req, httplib::Response& res,
                        std::map<std::string, std::string>& fields) -> bool {
    if (req.body.size() > m_options.max_form_bytes) {
      send_page(res, 413, "Too large", "the request body is over the limit");
      return false;
    }
    const bool is_json = req.get_header_value("Content-Type").rfind("application/json", 0) == 0;
    if (is_json) {
      const json body = json::parse(req.body, nullptr, false);
      if (!body.is_object()) {
        send_json(res, 400, {{"error", "expected a JSON object"}});
        return false;
      }
      for (const auto& [k, v] : body.items())
        if (v.is_string()) fields[k] = v.get<std::string>();
    } else {
      fields = parse_form(req.body);
    }
    std::string token = req.get_header_value("X-CW-CSRF");
    if (token.empty() && fields.count("csrf")) token = fields["csrf"];
    if (!constant_time_equal(token, m_csrf)) {
      if (is_json)
        send_json(res, 403,
                  {{"error", "missing or wrong CSRF token (X-CW-CSRF; GET /api/status gives it)"}});
      else
        send_page(res, 403, "Forbidden",
                  "the form is stale or did not come from this server; reload the page");
      return false;
    }
    return true;
  };

  http.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    json s = status();
    if (req.has_param("msg")) s["message"] = req.get_param_value("msg");
    res.set_content(render_html(s, m_csrf), "text/html; charset=utf-8");
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    json s = status();
    s["csrf_token"] = m_csrf;
    send_json(res, 200, s);
  });
  http.Get("/api/pending", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, status()["pending"]);
  });
  http.Get("/api/runs", [this](const httplib::Request& req, httplib::Response& res) {
    int limit = 10;
    if (req.has_param("limit"))
      limit = std::clamp(std::atoi(req.get_param_value("limit").c_str()), 1, 100);
    std::string why;
    auto store = open_store(why);
    if (!store) return send_json(res, 200, json::array());
    auto reports = store->recent_reports(limit);
    if (!reports) return send_json(res, 500, {{"error", reports.error().message}});
    json out = json::array();
    for (const auto& r : *reports) out.push_back(r.report);
    send_json(res, 200, out);
  });
  http.Get(R"(/api/runs/([A-Za-z0-9TZ_.-]+))",
           [this](const httplib::Request& req, httplib::Response& res) {
             std::string why;
             auto store = open_store(why);
             if (!store) return send_json(res, 404, {{"error", why}});
             auto r = store->report(req.matches[1]);
             if (!r) return send_json(res, 500, {{"error", r.error().message}});
             if (!*r)
               return send_json(res, 404, {{"error", "no run " + std::string(req.matches[1])}});
             send_json(res, 200, (*r)->report);
           });
  http.Get("/api/scrobble", [this](const httplib::Request&, httplib::Response& res) {
    if (m_scrobble == nullptr)
      return send_json(res, 404, {{"error", "scrobbling is not set up (scrobble: in cw.yaml)"}});
    send_json(res, 200,
              {{"stats", m_scrobble->stats()},
               {"recent", m_scrobble->recent(100)},
               {"queue", m_scrobble->queue(100)}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });

  for (const bool approve : {true, false}) {
    const std::string verb = approve ? "approve" : "decline";
    http.Post("/pending/" + verb, [this, approve, guarded](const httplib::Request& req,
                                                           httplib::Response& res) {
      std::map<std::string, std::string> f;
      if (!guarded(req, res, f)) return;
      const auto [status, message] = change_pending(approve, f["pair"], f["feature"], f["key"]);
      if (status != 200) return send_page(res, status, "Not done", message);
      res.set_redirect("/?msg=" + httplib::detail::encode_query_param(message) + "#pending", 303);
    });
    http.Post("/api/pending/" + verb, [this, approve, guarded](const httplib::Request& req,
                                                               httplib::Response& res) {
      std::map<std::string, std::string> f;
      if (!guarded(req, res, f)) return;
      const auto [status, message] = change_pending(approve, f["pair"], f["feature"], f["key"]);
      send_json(res, status, {{status == 200 ? "message" : "error", message}});
    });
  }
  auto run_now = [this](const std::string& pair) -> std::pair<int, std::string> {
    if (std::find(m_options.pairs.begin(), m_options.pairs.end(), pair) == m_options.pairs.end())
      return {404, "no enabled pair named \"" + pair + "\""};
    request_run(pair);
    return {202, "run of " + pair + " requested"};
  };
  http.Post("/run", [run_now, guarded](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> f;
    if (!guarded(req, res, f)) return;
    const auto [status, message] = run_now(f["pair"]);
    if (status != 202) return send_page(res, status, "Not done", message);
    res.set_redirect("/?msg=" + httplib::detail::encode_query_param(message), 303);
  });
  http.Post("/api/run", [run_now, guarded](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> f;
    if (!guarded(req, res, f)) return;
    const auto [status, message] = run_now(f["pair"]);
    send_json(res, status, {{status == 202 ? "message" : "error", message}});
  });

  http.Post(R"(/webhook/([A-Za-z0-9_-]{1,32}))", [this](const httplib::Request& req,
                                                        httplib::Response& res) {
    const std::string source = req.matches[1];
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    if (!m_webhook_limit.allow(source, now_ms)) {
      res.set_header("Retry-After", "1");
      return send_json(res, 429, {{"error", "too many webhook requests for " + source}});
    }
    if (m_scrobble == nullptr)
      return send_json(res, 404, {{"error", "scrobbling is not set up (scrobble: in cw.yaml)"}});
    WebhookCall call;
    call.source = source;
    for (const auto& [k, v] : req.headers) call.headers[lower(k)] = v;
    for (const auto& [k, v] : req.params) call.query[k] = v;
    if (req.is_multipart_form_data()) {
      const std::string boundary = "cw-serve-" + random_token(8);
      call.content_type = "multipart/form-data; boundary=" + boundary;
      call.body = rebuild_multipart(req, boundary);
    } else {
      call.content_type = req.get_header_value("Content-Type");
      call.body = req.body;
    }
    const WebhookAnswer answer = m_scrobble->accept(call);
    if (answer.status >= 200 && answer.status < 300) {
      {
        std::lock_guard lock(m_mutex);
        m_deliver_now = true;
      }
      m_cv.notify_all();
    }
    send_json(res, answer.status, {{answer.status < 300 ? "message" : "error", answer.message}});
  });
}

}  // namespace cw::serve
