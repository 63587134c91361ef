#pragma once
// The Prometheus metrics of `cw serve` (docs/serve.md lists them). Counters accumulate the
// reports of the runs this process made; gauges that describe the state (held items) are
// passed in at scrape time, so /metrics and the status page never disagree. Names follow the
// Prometheus conventions: cw_ prefix, _total counters, base units (seconds).
//
// Only pair, feature, provider instance, endpoint templates (ids stripped by the HTTP
// accounting), methods and statuses become labels: no secret, title or id ever does.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/services/http/accounting.hpp>

namespace cw::serve {

class Metrics {
 public:
  explicit Metrics(std::int64_t start_s) : m_start_s(start_s) {}

  // A finished run: its report (sync_runner's, with "pairs" entries) and the HTTP service's
  // report ({"requests": .., "budgets": ..}). `finished_s`: when it ended.
  void record_run(const nlohmann::json& report, const nlohmann::json& http,
                  std::int64_t finished_s);
  // A run that did not start (the lock held, the configuration broken).
  void record_run_refused(const std::string& pair, const std::string& reason);
  // One request the server answered; `route` is the pattern ("/api/status", "/webhook/:source").
  void record_request(const std::string& route, int status);

  // The text exposition format. `held`: {"pair/feature": {"pending": n, "blackbox": n,
  // "unresolved": n}}; `scrobble`: the scrobble service's stats, or null.
  std::string render(const nlohmann::json& held, const nlohmann::json& scrobble) const;

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  struct Histogram {
    std::array<std::int64_t, services::k_latency_bounds_ms.size()> cumulative{};
    std::int64_t count = 0;
    double sum_ms = 0;
  };
  mutable std::mutex m_mutex;
  std::int64_t m_start_s;
  std::map<Labels, double> m_runs;              // pair, feature, status
  std::map<Labels, double> m_refused;           // pair, reason
  std::map<Labels, double> m_planned;           // pair, feature, action
  std::map<Labels, double> m_applied;           // pair, feature, outcome
  std::map<Labels, double> m_held;              // pair, feature
  std::map<Labels, double> m_last_success;      // pair, feature
  std::map<Labels, double> m_last_run;          // pair, feature
  std::map<Labels, double> m_run_seconds;       // pair, feature: the last run's duration
  std::map<Labels, double> m_http;              // provider, endpoint, method, status
  std::map<Labels, Histogram> m_latency;        // provider, endpoint, method
  std::map<Labels, double> m_budget_available;  // provider, bucket
  std::map<Labels, double> m_budget_refused;    // provider
  std::map<Labels, double> m_requests;          // route, code
};

// Prometheus label value escaping: backslash, double quote and newline.
std::string escape_label(const std::string& value);

}  // namespace cw::serve
