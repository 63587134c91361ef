#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>

#include "core/fake_service.hpp"
#include "core/generator.hpp"

namespace cw::fakes {

namespace {

constexpr std::string_view k_control_prefix = "/__sandbox/";

bool is_control(const httplib::Request& req) {
  return req.path.compare(0, k_control_prefix.size(), k_control_prefix) == 0;
}

std::string reason_of(int status) {
  switch (status) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
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
      return "Error";
  }
}

void bad_request(httplib::Response& res, const std::string& message) {
  send_json(res, {{"error", message}}, 400);
}

// One thread per connection, as many as there are connections: an idle keep-alive connection
// holds its thread until its keep-alive timeout, and a fixed pool let a client with more idle
// connections than workers wait for that timeout before a new connection was served. Finished
// threads are joined on the next enqueue and at shutdown.
class ThreadPerConnection final : public httplib::TaskQueue {
 public:
  ~ThreadPerConnection() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lock(m_mutex);
    reap_locked();
    auto done = std::make_shared<std::atomic<bool>>(false);
    m_workers.push_back(Worker{std::thread([fn = std::move(fn), done] {
                                 fn();
                                 done->store(true);
                               }),
                               done});
  }

  void shutdown() override {
    std::vector<Worker> workers;
    {
      std::lock_guard lock(m_mutex);
      workers.swap(m_workers);
    }
    for (auto& w : workers) {
      if (w.thread.joinable()) w.thread.join();
    }
  }

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void reap_locked() {
    auto it = m_workers.begin();
    while (it != m_workers.end()) {
      if (it->done->load()) {
        it->thread.join();
        it = m_workers.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::mutex m_mutex;
  std::vector<Worker> m_workers;
};

bool expects_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// Accept-Encoding without "br". The system's cpp-httplib is built with Brotli and prefers it,
// at Brotli's default quality (11): ~100 ms of CPU per 60 KB page, which made the fakes, not
// the client, the cost of every large read (libcurl offers br). gzip is what the real
// services send, and costs ~1 ms. Empty when nothing is left.
std::string without_brotli(const std::string& accept) {
  std::string out;
  std::size_t at = 0;
  while (at <= accept.size()) {
    std::size_t comma = accept.find(',', at);
    if (comma == std::string::npos) comma = accept.size();
    std::string token = accept.substr(at, comma - at);
    const auto first = token.find_first_not_of(" \t");
    token = first == std::string::npos ? "" : token.substr(first);
    std::string name = token.substr(0, token.find_first_of(" \t;"));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!token.empty() && name != "br") out += (out.empty() ? "" : ", ") + token;
    at = comma + 1;
  }
  return out;
}

}  // namespace

void FakeService::fault_response(int status, const httplib::Request& /*req*/,
                                 httplib::Response& res) const {
  send_json(res, {{"error", reason_of(status)}, {"status", status}}, status);
}

SandboxServer::SandboxServer(std::unique_ptr<FakeService> service)
    : m_service(std::move(service)), m_ctx(m_service->name()) {
  // Any number of idle keep-alive connections, none of them blocking a new one.
  m_server.new_task_queue = [] { return new ThreadPerConnection(); };
  m_server.set_keep_alive_max_count(1000);
  // Without it every answer waits ~40-55 ms for Nagle and the client's delayed ACK.
  m_server.set_tcp_nodelay(true);
  m_server.set_payload_max_length(512ull * 1024 * 1024);
  install_control_routes();
  m_service->register_routes(m_server, m_ctx);
  install_wrappers();
}

SandboxServer::~SandboxServer() { stop(); }

int SandboxServer::start(int port) {
  if (m_thread.joinable()) return m_port;
  if (port == 0) {
    m_port = m_server.bind_to_any_port("127.0.0.1");
  } else {
    m_port = m_server.bind_to_port("127.0.0.1", port) ? port : -1;
  }
  if (m_port <= 0) {
    throw std::runtime_error("sandbox " + m_service->name() + ": cannot bind 127.0.0.1:" +
                             std::to_string(port) + " (is the port in use? pass 0 for a free one)");
  }
  m_ctx.set_base_url(base_url());
  m_thread = std::thread([this] { m_server.listen_after_bind(); });
  // listen_after_bind() flips is_running() once it accepts; wait so callers can connect at once.
  while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return m_port;
}

void SandboxServer::stop() {
  if (!m_thread.joinable()) return;
  m_server.stop();
  m_thread.join();
}

bool SandboxServer::running() const { return m_server.is_running(); }

std::string SandboxServer::base_url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

void SandboxServer::install_control_routes() {
  auto& srv = m_server;
  srv.Post("/__sandbox/seed", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      m_service->seed(nlohmann::json::parse(req.body));
      send_json(res, {{"ok", true}});
    } catch (const std::exception& e) {
      bad_request(res, std::string("seed: ") + e.what());
    }
  });
  srv.Post("/__sandbox/universe", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      m_service->seed_universe(without_nulls(nlohmann::json::parse(req.body)));
      send_json(res, {{"ok", true}});
    } catch (const std::exception& e) {
      bad_request(res, std::string("universe: ") + e.what());
    }
  });
  srv.Get("/__sandbox/state", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, m_service->state());
  });
  srv.Post("/__sandbox/reset", [this](const httplib::Request&, httplib::Response& res) {
    m_service->reset();
    m_ctx.clear_faults();
    m_ctx.clear_requests();
    m_ctx.reset_clock();
    send_json(res, {{"ok", true}});
  });
  srv.Get("/__sandbox/faults", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, nlohmann::json(m_ctx.faults()));
  });
  srv.Post("/__sandbox/faults", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const auto body = nlohmann::json::parse(req.body);
      std::vector<FaultSpec> specs;
      if (body.is_array()) {
        for (const auto& f : body) specs.push_back(f.get<FaultSpec>());
      } else {
        specs.push_back(body.get<FaultSpec>());
      }
      for (auto& s : specs) m_ctx.add_fault(std::move(s));
      send_json(res, {{"ok", true}, {"faults", m_ctx.faults().size()}});
    } catch (const std::exception& e) {
      bad_request(res, std::string("faults: ") + e.what());
    }
  });
  srv.Delete("/__sandbox/faults", [this](const httplib::Request&, httplib::Response& res) {
    m_ctx.clear_faults();
    send_json(res, {{"ok", true}});
  });
  srv.Get("/__sandbox/requests", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const std::regex re(req.has_param("path") ? req.get_param_value("path") : "");
      const std::string method = req.has_param("method") ? req.get_param_value("method") : "";
      auto out = nlohmann::json::array();
      for (const auto& r : m_ctx.requests()) {
        if ((method.empty() || r.method == method) && std::regex_search(r.path, re)) {
          out.push_back(to_json_value(r));
        }
      }
      send_json(res, out);
    } catch (const std::regex_error&) {
      bad_request(res, "requests: the path parameter is not a valid regular expression");
    }
  });
  srv.Delete("/__sandbox/requests", [this](const httplib::Request&, httplib::Response& res) {
    m_ctx.clear_requests();
    send_json(res, {{"ok", true}});
  });
  srv.Get("/__sandbox/credentials", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, m_service->credentials());
  });
  srv.Post("/__sandbox/clock", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const auto body = nlohmann::json::parse(req.body);
      m_ctx.advance_clock(body.at("advance_ms").get<std::int64_t>());
      send_json(res, {{"ok", true}, {"now", m_ctx.now_iso()}});
    } catch (const std::exception& e) {
      bad_request(res, std::string("clock: expected {\"advance_ms\": N}: ") + e.what());
    }
  });
}

void SandboxServer::record_request(const httplib::Request& req, const httplib::Response& res) {
  RequestRecord rec;
  rec.method = req.method;
  rec.path = req.path;
  rec.query = query_string(req);
  rec.body = req.body;
  rec.status = res.status;
  rec.at_ms = m_ctx.now_ms();
  for (const auto& [k, v] : req.headers) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rec.headers[lower] = v;
  }
  m_ctx.record(std::move(rec));
  // Sees the body as the service wrote it, so stale reads repeat an intact answer.
  m_ctx.after_response(req, res);
}

void SandboxServer::install_wrappers() {
  m_server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // Real servers take a body-less POST/PUT without Content-Length as an empty body; httplib
    // would wait for a body until its read timeout and answer 400. The request is httplib's own
    // non-const object and its body is read only after this handler.
    if (expects_body(req.method) && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    }
    if (req.has_header("Accept-Encoding")) {
      auto& headers = const_cast<httplib::Request&>(req).headers;
      const std::string accept = without_brotli(req.get_header_value("Accept-Encoding"));
      headers.erase("Accept-Encoding");
      if (!accept.empty()) headers.emplace("Accept-Encoding", accept);
    }
    if (is_control(req)) return httplib::Server::HandlerResponse::Unhandled;
    const auto d = m_ctx.decide(req);
    if (d.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d.latency_ms));
    if (d.status != 0) {
      // Retry-After first, so that a service can make its own rate headers agree with it.
      if (d.retry_after_s >= 0) res.set_header("Retry-After", std::to_string(d.retry_after_s));
      m_service->fault_response(d.status, req, res);
      res.status = d.status;
      return httplib::Server::HandlerResponse::Handled;
    }
    if (d.stale) {
      res.status = 200;
      res.set_content(d.stale->first,
                      d.stale->second.empty() ? "application/json" : d.stale->second.c_str());
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Logging and the stale-read bookkeeping happen here, before httplib writes the response:
  // httplib's logger runs only after the body was sent, so a client that reads
  // /__sandbox/requests (or the next stale read) right after its answer could miss them.
  m_server.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (is_control(req)) return;
    const auto d = m_ctx.current();  // after_response() forgets this thread's decision
    if (d.late_status != 0) {
      // The service did its work; the client only sees the failure (a lost reply).
      res.headers.clear();
      if (d.retry_after_s >= 0) res.set_header("Retry-After", std::to_string(d.retry_after_s));
      m_service->fault_response(d.late_status, req, res);
      res.status = d.late_status;
      res.headers.erase("Content-Length");
      res.set_header("Content-Length", std::to_string(res.body.size()));
    }
    record_request(req, res);
    if (res.body.empty()) return;
    if (d.malformed_body) {
      // A proxy error page glued to a cut body: neither JSON nor XML parsers accept it.
      res.body = res.body.substr(0, res.body.size() / 3) + "\n<html><b>502 Bad Gateway</b>";
    } else if (d.truncate_body) {
      res.body.resize(res.body.size() / 2);
    }
    if (d.malformed_body || d.truncate_body) {
      // httplib computed Content-Length before this handler; keep it honest for the cut body.
      res.headers.erase("Content-Length");
      res.set_header("Content-Length", std::to_string(res.body.size()));
    }
    if (d.slow_body_bytes_per_s > 0) {
      auto body = std::make_shared<std::string>(std::move(res.body));
      res.body.clear();
      const std::string type = res.get_header_value("Content-Type");
      const std::size_t rate = static_cast<std::size_t>(d.slow_body_bytes_per_s);
      const std::size_t chunk = std::max<std::size_t>(1, rate / 10);
      res.set_content_provider(
          body->size(), type.c_str(),
          [body, chunk](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            const std::size_t n = std::min({chunk, length, body->size() - offset});
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return sink.write(body->data() + offset, n);
          });
    }
  });
}

}  // namespace cw::fakes
