#pragma once
// `cw serve`: one long-running process that runs the pairs on their schedules and serves the
// status page (/), its JSON (/api/...), Prometheus metrics (/metrics) and webhooks
// (/webhook/<source>). A thin layer: runs go through the function the CLI hands in (a
// sync::Session per run, so the run lock is taken and released per run and a `cw run` from
// cron can share the state directory), the status comes from the state database, webhooks
// go to the scrobble service. docs/serve.md describes it for users.

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include <cw/config/config.hpp>
#include <cw/serve/metrics.hpp>
#include <cw/serve/scheduler.hpp>
#include <cw/serve/security.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/state/state_store.hpp>

namespace httplib {
class Server;
}

namespace cw::serve {

// What one run reports back to the server.
struct RunOutcome {
  RunResult result = RunResult::failed;
  std::string message;    // why it did not start or failed (one line), empty when it ran
  nlohmann::json report;  // the run report (null when the run did not start)
  nlohmann::json http;    // the HTTP service's report of the run
};

// A webhook as received, for the scrobble service (host/src/scrobble/service.hpp).
struct WebhookCall {
  std::string source;  // the <source> of /webhook/<source>
  std::string content_type;
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> query;
  std::string body;  // raw; a multipart body is rebuilt with its parts
};
struct WebhookAnswer {
  int status = 202;  // 2xx accepted, 4xx refused (nothing stored)
  std::string message;
};

// The scrobble pipeline as the server sees it; the CLI adapts scrobble::Service to it.
class ScrobbleBridge {
 public:
  virtual ~ScrobbleBridge() = default;
  virtual WebhookAnswer accept(const WebhookCall& call) = 0;
  // Delivers what is queued (in order; backs off while a tracker is down). Called by the
  // server's delivery worker after each accepted event and periodically. Returns how long
  // (ms) until a row still queued may be tried again, 0 when none is waiting.
  virtual std::int64_t deliver_pending(services::CancelToken& cancel) = 0;
  // {"sources": {src: {received, refused}}, "sinks": {sink: {delivered, failed}},
  //  "queued": n, "last_delivery": t}
  virtual nlohmann::json stats() = 0;
  virtual nlohmann::json recent(std::size_t n) = 0;  // newest first
  virtual nlohmann::json queue(std::size_t n) = 0;
};

struct ServerOptions {
  ListenAddress listen;
  Access access;
  std::filesystem::path state_dir;
  std::string config_path;                                  // shown on the page
  std::map<std::string, config::ScheduleConfig> schedules;  // pair -> schedule
  std::vector<std::string> pairs;                           // every enabled pair, in order
  std::size_t max_body_bytes = 4 * 1024 * 1024;             // webhooks (Plex sends a thumbnail)
  std::size_t max_form_bytes = 64 * 1024;                   // forms and the JSON API
  double webhook_rate = 300;                                // per source, requests per second
  double webhook_burst = 600;
  std::int64_t deliver_every_s = 30;  // the scrobble queue is retried at least this often
  std::uint64_t seed = 0;             // jitter
};

class Server {
 public:
  using RunFn = std::function<RunOutcome(const std::string& pair)>;
  using NowFn = std::function<std::int64_t()>;  // Unix seconds

  Server(ServerOptions options, RunFn run, NowFn now, services::Logger& log,
         services::CancelToken& cancel, ScrobbleBridge* scrobble = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address (port 0: any free port) and starts serving and scheduling; returns the
  // port, or the reason it could not bind.
  Result<int> start();
  // Stops accepting, lets the run in flight finish (it sees the cancel token and commits
  // what is settled), joins the workers. Idempotent.
  void stop();

  // Runs `pair` as soon as the worker is free ("run now").
  void request_run(const std::string& pair);
  // Blocks until no run is due or running (tests: after request_run).
  void wait_idle();
  const std::string& csrf_token() const { return m_csrf; }

  // The document behind / and /api/status.
  nlohmann::json status();

 private:
  void routes();
  void worker();
  void deliverer();
  std::string render_metrics();
  // Approve or decline one pending deletion: "" when done, else why not (a run holds the
  // lock, no such key, ...), with the HTTP status.
  std::pair<int, std::string> change_pending(bool approve, const std::string& pair,
                                             const std::string& feature, const std::string& key);
  // Opens the state read-only for one request. Never kept open: a read-only store holds a
  // shared lock on the state directory, which would keep every run out.
  std::unique_ptr<state::StateStore> open_store(std::string& why);

  ServerOptions m_options;
  RunFn m_run;
  NowFn m_now;
  services::Logger& m_log;
  services::CancelToken& m_cancel;
  ScrobbleBridge* m_scrobble;
  std::string m_csrf;
  Metrics m_metrics;
  RateLimiter m_webhook_limit;
  std::unique_ptr<httplib::Server> m_http;

  std::mutex m_mutex;  // scheduler, running, stopping
  std::condition_variable m_cv;
  Scheduler m_scheduler;
  std::optional<std::string> m_running;
  bool m_stopping = false;
  bool m_deliver_now = false;

  std::thread m_listener;
  std::thread m_worker;
  std::thread m_deliverer;
};

}  // namespace cw::serve
