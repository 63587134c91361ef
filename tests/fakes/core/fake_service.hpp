// The sandbox framework: one fake HTTP server per real service, on loopback, with faults on
// demand, a control API under /__sandbox/ and a log of every request it received.
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace cw::fakes {

// ASCII lower case, as the services compare names, ids and enum values.
inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One request as the fake received it (control routes under /__sandbox/ are not logged).
struct RequestRecord {
  std::string method, path, query, body;
  int status = 0;
  std::int64_t at_ms = 0;
  std::unordered_map<std::string, std::string> headers;  // lower-case names
};

// A fault, per endpoint pattern (ECMAScript regex searched in the path; "" = every path).
// Every field that is set applies; `count` is how many matching requests it still affects
// (-1: forever). Token-bucket faults (rate_per_s > 0) only spend `count` when they reject.
struct FaultSpec {
  std::string endpoint;
  std::string method;  // "" = any method, else e.g. "GET"
  int status = 0;      // answer with this status instead of the service (500, 429…)
  int count = -1;
  int retry_after_s = -1;         // Retry-After header on status/rate-limit answers
  int latency_ms = 0;             // sleep before answering
  int slow_body_bytes_per_s = 0;  // stream the body at this rate
  bool truncate_body = false;     // cut the body in half (Content-Length matches the cut)
  bool malformed_body = false;    // corrupt the body so that it no longer parses
  int stale_reads = 0;            // after a write, N reads return what they returned before it
  int page_cap = 0;               // pages silently hold at most this many items
  bool expire_token = false;      // every token check fails as if the token had expired
  double rate_per_s = 0;          // token bucket: refill rate; 0 = off
  int burst = 0;                  // token bucket: capacity (>= 1 when rate_per_s is set)
  int every = 1;                  // act on every Nth matching request only (10: 10 % of them)
  // With `status`: the service handles the request first (a write lands), then the answer
  // is replaced by `status`, as when a proxy or the network loses a reply. The hard case
  // for a client that must not post a play twice.
  bool after_handling = false;
};

void to_json(nlohmann::json& j, const FaultSpec& f);
void from_json(const nlohmann::json& j, FaultSpec& f);  // unknown keys are an error
nlohmann::json to_json_value(const RequestRecord& r);

// Items [start, start+count) of a list of `total`, after a silent page cap was applied.
struct Page {
  std::size_t start = 0;
  std::size_t count = 0;
  std::size_t total = 0;
  std::size_t end() const { return start + count; }
};

// Per-service state of the framework: request log, faults, valid tokens and a clock.
// Thread-safe: httplib serves each connection on its own worker thread.
class Context {
 public:
  explicit Context(std::string service_name);

  const std::string& service_name() const { return m_service; }
  std::string base_url() const;
  void set_base_url(std::string url);

  // ---- authentication ----
  void set_valid_tokens(std::vector<std::string> tokens);  // replaces the set
  void add_valid_token(const std::string& token);
  void revoke_token(const std::string& token);
  bool is_known_token(const std::string& token) const;
  // True when `token` is valid for this request: known and not expired by a fault.
  bool token_valid(const httplib::Request& req, std::string_view token) const;
  // True when an expire_token fault is active for this request.
  bool token_expired(const httplib::Request& req) const;

  // ---- paging ----
  // The silent page cap active for this request (0 = none).
  int page_cap(const httplib::Request& req) const;
  // Clamps [start, start+size) to `total` and then to the active page cap; the service keeps
  // reporting `total` so that the cap is silent.
  Page page(const httplib::Request& req, std::size_t total, std::size_t start,
            std::size_t size) const;

  // ---- clock (wall clock plus an offset that tests can move forward) ----
  std::int64_t now_ms() const;
  std::int64_t now_s() const { return now_ms() / 1000; }
  std::string now_iso() const;  // 2024-01-02T03:04:05.000Z
  void advance_clock(std::int64_t ms);
  void reset_clock();

  // ---- faults ----
  // Services call this after a state change made by a GET (Plex's /:/scrobble, /:/rate):
  // stale-read faults start from writes, and the framework sees only non-GET ones by itself.
  void note_write();
  void add_fault(FaultSpec fault);
  void clear_faults();
  std::vector<FaultSpec> faults() const;

  // ---- request log ----
  std::vector<RequestRecord> requests() const;
  std::size_t request_count(const std::string& path_regex = "",
                            const std::string& method = "") const;
  void clear_requests();
  void record(RequestRecord rec);

  // ---- used by SandboxServer (per request, on the worker thread) ----
  struct Decision {
    int status = 0;       // answer with this instead of routing (0 = route)
    int late_status = 0;  // route, then answer with this instead (after_handling)
    int retry_after_s = -1;
    int latency_ms = 0;
    int slow_body_bytes_per_s = 0;
    bool truncate_body = false;
    bool malformed_body = false;
    bool expire_token = false;
    int page_cap = 0;
    std::optional<std::pair<std::string, std::string>> stale;  // body, content type
  };
  Decision decide(const httplib::Request& req);
  Decision current() const;  // the decision of the request on this thread (empty if none)
  void after_response(const httplib::Request& req, const httplib::Response& res);

 private:
  struct FaultState {
    FaultSpec spec;
    std::regex pattern;
    double tokens = 0;
    std::int64_t last_refill_ms = 0;
    int stale_remaining = 0;
    long long seen = 0;  // matching requests so far (for `every`)
    std::unordered_map<std::string, std::pair<std::string, std::string>> cache;
  };
  bool matches(const FaultState& f, const httplib::Request& req) const;

  std::string m_service;
  mutable std::mutex m_mutex;
  std::string m_base_url;
  std::vector<std::string> m_tokens;
  std::vector<FaultState> m_faults;
  std::vector<RequestRecord> m_log;
  std::int64_t m_clock_offset_ms = 0;
};

class FakeService {
 public:
  virtual ~FakeService() = default;
  virtual std::string name() const = 0;  // "trakt"
  virtual void register_routes(httplib::Server& srv, Context& ctx) = 0;
  virtual void seed(const nlohmann::json& fixture) = 0;  // replace state with the fixture
  virtual nlohmann::json state() const = 0;              // current state, same shape as seed
  virtual void reset() = 0;
  virtual nlohmann::json credentials() const = 0;  // valid test credentials
  virtual std::string provider_yaml(const std::string& base_url) const = 0;  // providers: entry

  // Replaces state with a generated universe (see generator.hpp for its shape). The default
  // passes it to seed() unchanged; services whose fixture shape differs override it.
  virtual void seed_universe(const nlohmann::json& universe) { seed(universe); }
  // The body of an injected fault answer (429, 5xx, 401 from an expired token): services
  // override it to answer in their own error format.
  virtual void fault_response(int status, const httplib::Request& req,
                              httplib::Response& res) const;
};

// Runs one FakeService on 127.0.0.1:<port or free>, adds the /__sandbox/ control routes and
// wraps every service route with request logging and fault injection.
//   POST   /__sandbox/seed       body: fixture JSON           → service.seed()
//   POST   /__sandbox/universe   body: generated universe     → service.seed_universe()
//   GET    /__sandbox/state                                   → service.state()
//   POST   /__sandbox/reset      state, faults, log and clock back to the start
//   GET    /__sandbox/faults  POST /__sandbox/faults (one spec or an array)  DELETE (clear)
//   GET    /__sandbox/requests[?path=REGEX&method=M]  DELETE /__sandbox/requests
//   GET    /__sandbox/credentials                             → service.credentials()
//   POST   /__sandbox/clock      {"advance_ms": N}
class SandboxServer {
 public:
  explicit SandboxServer(std::unique_ptr<FakeService> service);
  ~SandboxServer();
  SandboxServer(const SandboxServer&) = delete;
  SandboxServer& operator=(const SandboxServer&) = delete;

  // Binds 127.0.0.1 (port 0 = a free port), starts serving on a background thread and returns
  // the port. Throws std::runtime_error when the port cannot be bound.
  int start(int port = 0);
  void stop();
  bool running() const;
  int port() const { return m_port; }
  std::string base_url() const;
  Context& context() { return m_ctx; }
  FakeService& service() { return *m_service; }
  const FakeService& service() const { return *m_service; }

 private:
  void install_control_routes();
  void install_wrappers();
  void record_request(const httplib::Request& req, const httplib::Response& res);

  std::unique_ptr<FakeService> m_service;
  Context m_ctx;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
};

// Small helpers shared by the services.
std::string query_string(const httplib::Request& req);  // the raw query, without '?'
// Integer query/header parameter with a default; non-numbers give the default.
long long param_int(const httplib::Request& req, const std::string& key, long long def);
std::string header_or_param(const httplib::Request& req, const std::string& header,
                            const std::string& param);
// Bearer token from "Authorization: Bearer X" (empty when absent).
std::string bearer_token(const httplib::Request& req);
void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
std::string iso_from_ms(std::int64_t ms);                       // 2024-01-02T03:04:05.000Z
std::optional<std::int64_t> ms_from_iso(std::string_view iso);  // accepts ...Z, fractions

}  // namespace cw::fakes
