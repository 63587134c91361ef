#pragma once
// Accounting of the HTTP service: per provider instance, endpoint template (ids stripped),
// method and outcome (status code, or timeout/connect_error/cancelled/refused_*): count,
// bytes and latency. The run report embeds to_json(); a summary goes to the debug log.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include <nlohmann/json.hpp>

namespace cw::services {

// "/users/me/history/12345/tt0111161?x=1" -> "/users/me/history/:id/:id". Path segments
// that are numbers, IMDb ids, UUIDs, long hex or long mixed tokens become ":id"; the query
// and the scheme/host are dropped.
std::string endpoint_template(std::string_view url);

// Upper bounds of the latency histogram (ms), as Prometheus' default buckets: `cw serve`
// exports it as cw_http_request_duration_seconds.
inline constexpr std::array<double, 11> k_latency_bounds_ms = {5,   10,   25,   50,   100,  250,
                                                               500, 1000, 2500, 5000, 10000};

struct HttpStat {
  std::int64_t count = 0;
  // Requests at or under each bound of k_latency_bounds_ms (not cumulative).
  std::array<std::int64_t, k_latency_bounds_ms.size()> latency_buckets{};
  std::int64_t bytes_in = 0;
  std::int64_t bytes_out = 0;
  double total_ms = 0;
  double max_ms = 0;
};

class HttpAccounting {
 public:
  void record(const std::string& instance, const std::string& endpoint, const std::string& method,
              const std::string& outcome, std::int64_t bytes_in, std::int64_t bytes_out,
              double latency_ms);
  // {"<instance>":[{"endpoint","method","outcome","count","bytes_in","bytes_out",
  //  "total_ms","avg_ms","max_ms","latency_buckets":[cumulative count per bound]}...]}
  nlohmann::json to_json() const;
  HttpStat get(const std::string& instance, const std::string& endpoint, const std::string& method,
               const std::string& outcome) const;
  void clear();

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  mutable std::mutex m_mutex;
  std::map<Key, HttpStat> m_stats;
};

}  // namespace cw::services
