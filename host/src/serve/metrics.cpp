#include <cmath>
#include <sstream>

#include <cw/serve/metrics.hpp>
#include <cw/util/json.hpp>

namespace cw::serve {
namespace {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

template <typename Labels>
std::string label_text(const Labels& labels, const std::string& extra_name = "",
                       const std::string& extra_value = "") {
  std::string out;
  for (const auto& [k, v] : labels)
    out += (out.empty() ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
  if (!extra_name.empty())
    out += (out.empty() ? "" : ",") + extra_name + "=\"" + escape_label(extra_value) + "\"";
  return out.empty() ? "" : "{" + out + "}";
}

template <typename Map>
void family(std::ostream& o, const std::string& name, const char* type, const char* help,
            const Map& values) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  for (const auto& [labels, v] : values)
    o << name << label_text(labels) << " " << format_number(v) << "\n";
}

}  // namespace

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Metrics::record_run(const nlohmann::json& report, const nlohmann::json& http,
                         std::int64_t finished_s) {
  std::lock_guard lock(m_mutex);
  for (const auto& e : report.value("pairs", nlohmann::json::array())) {
    const std::string pair = e.value("pair", "");
    const std::string feature = e.value("feature", "");
    const std::string status = e.value("status", "");
    m_runs[{{"pair", pair}, {"feature", feature}, {"status", status}}] += 1;
    const auto& planned = e.value("planned", nlohmann::json::object());
    const std::pair<const char*, const char*> actions[] = {
        {"adds", "add"}, {"updates", "update"}, {"removes", "remove"}};
    for (const auto& [field, action] : actions)
      m_planned[{{"pair", pair}, {"feature", feature}, {"action", action}}] +=
          planned.value(field, 0.0);
    m_held[{{"pair", pair}, {"feature", feature}}] += planned.value("held", 0.0);
    for (const auto& [outcome, n] : util::object_member(e, "outcomes").items())
      if (n.is_number())
        m_applied[{{"pair", pair}, {"feature", feature}, {"outcome", outcome}}] += n.get<double>();
    const Labels pf = {{"pair", pair}, {"feature", feature}};
    m_last_run[pf] = static_cast<double>(finished_s);
    m_run_seconds[pf] = e.value("duration_ms", 0.0) / 1000.0;
    if (status == "ok") m_last_success[pf] = static_cast<double>(finished_s);
  }
  for (const auto& [provider, rows] : util::object_member(http, "requests").items()) {
    for (const auto& r : rows) {
      const std::string endpoint = r.value("endpoint", "");
      const std::string method = r.value("method", "");
      m_http[{{"provider", provider},
              {"endpoint", endpoint},
              {"method", method},
              {"status", r.value("outcome", "")}}] += r.value("count", 0.0);
      auto& h = m_latency[{{"provider", provider}, {"endpoint", endpoint}, {"method", method}}];
      h.count += r.value("count", std::int64_t{0});
      h.sum_ms += r.value("total_ms", 0.0);
      const auto& b = r.value("latency_buckets", nlohmann::json::array());
      for (std::size_t i = 0; i < h.cumulative.size() && i < b.size(); ++i)
        h.cumulative[i] += b[i].get<std::int64_t>();
    }
  }
  for (const auto& [provider, budget] : util::object_member(http, "budgets").items()) {
    m_budget_refused[{{"provider", provider}}] += budget.value("refused", 0.0);
    for (const auto& bucket : budget.value("buckets", nlohmann::json::array()))
      m_budget_available[{{"provider", provider}, {"bucket", bucket.value("name", "")}}] =
          bucket.value("available", 0.0);
  }
}

void Metrics::record_run_refused(const std::string& pair, const std::string& reason) {
  std::lock_guard lock(m_mutex);
  m_refused[{{"pair", pair}, {"reason", reason}}] += 1;
}

void Metrics::record_request(const std::string& route, int status) {
  std::lock_guard lock(m_mutex);
  m_requests[{{"route", route}, {"code", std::to_string(status)}}] += 1;
}

std::string Metrics::render(const nlohmann::json& held, const nlohmann::json& scrobble) const {
  std::lock_guard lock(m_mutex);
  std::ostringstream o;
  o << "# HELP cw_serve_start_time_seconds When this cw serve started (Unix time).\n"
    << "# TYPE cw_serve_start_time_seconds gauge\ncw_serve_start_time_seconds " << m_start_s
    << "\n";
  family(o, "cw_runs_total", "counter", "Sync runs per pair, feature and outcome.", m_runs);
  family(o, "cw_runs_refused_total", "counter",
         "Scheduled runs that could not start (state directory locked, configuration error).",
         m_refused);
  family(o, "cw_actions_planned_total", "counter", "Actions planned per pair, feature and kind.",
         m_planned);
  family(o, "cw_actions_applied_total", "counter",
         "Planned actions per outcome reported by the target (confirmed, skipped, unresolved, "
         "unknown).",
         m_applied);
  family(o, "cw_actions_held_total", "counter",
         "Actions held back by the guards (pending deletions, blackbox).", m_held);
  family(o, "cw_last_run_timestamp_seconds", "gauge", "When the pair and feature last ran.",
         m_last_run);
  family(o, "cw_last_success_timestamp_seconds", "gauge",
         "When the pair and feature last ran with status ok.", m_last_success);
  family(o, "cw_run_duration_seconds", "gauge",
         "How long the last run of the pair and feature took.", m_run_seconds);
  family(o, "cw_http_requests_total", "counter",
         "Requests to providers per instance, endpoint template, method and status (or "
         "timeout, connect_error, refused_budget, ...).",
         m_http);
  o << "# HELP cw_http_request_duration_seconds Latency of requests to providers.\n"
    << "# TYPE cw_http_request_duration_seconds histogram\n";
  for (const auto& [labels, h] : m_latency) {
    for (std::size_t i = 0; i < h.cumulative.size(); ++i)
      o << "cw_http_request_duration_seconds_bucket"
        << label_text(labels, "le", format_number(services::k_latency_bounds_ms[i] / 1000.0)) << " "
        << h.cumulative[i] << "\n";
    o << "cw_http_request_duration_seconds_bucket" << label_text(labels, "le", "+Inf") << " "
      << h.count << "\n"
      << "cw_http_request_duration_seconds_sum" << label_text(labels) << " "
      << format_number(h.sum_ms / 1000.0) << "\n"
      << "cw_http_request_duration_seconds_count" << label_text(labels) << " " << h.count << "\n";
  }
  family(o, "cw_rate_budget_available", "gauge",
         "Requests left in each rate-limit bucket at the end of the last run.", m_budget_available);
  family(o, "cw_rate_budget_refused_total", "counter",
         "Requests the rate budget refused (quota or limit exhausted).", m_budget_refused);
  std::map<Labels, double> held_gauges;
  for (const auto& [scope, counts] : held.items()) {
    const auto slash = scope.find('/');
    for (const auto& [kind, n] : counts.items())
      held_gauges[{{"pair", scope.substr(0, slash)},
                   {"feature", slash == std::string::npos ? "" : scope.substr(slash + 1)},
                   {"kind", kind}}] = n.get<double>();
  }
  family(o, "cw_held_items", "gauge",
         "Items held in the state now: pending deletions, blackboxed and unresolved items.",
         held_gauges);
  if (scrobble.is_object()) {
    std::map<Labels, double> received, refused, delivered, failed;
    for (const auto& [source, s] : util::object_member(scrobble, "sources").items()) {
      received[{{"source", source}}] = s.value("received", 0.0);
      refused[{{"source", source}}] = s.value("refused", 0.0);
    }
    for (const auto& [sink, s] : util::object_member(scrobble, "sinks").items()) {
      delivered[{{"sink", sink}}] = s.value("delivered", 0.0);
      failed[{{"sink", sink}}] = s.value("failed", 0.0);
    }
    family(o, "cw_scrobble_events_received_total", "counter", "Webhook events accepted per source.",
           received);
    family(o, "cw_scrobble_events_refused_total", "counter",
           "Webhook events refused per source (bad secret, malformed, filtered).", refused);
    family(o, "cw_scrobble_deliveries_total", "counter", "Scrobbles delivered per tracker.",
           delivered);
    family(o, "cw_scrobble_delivery_failures_total", "counter",
           "Scrobble deliveries that failed and stay queued.", failed);
    o << "# HELP cw_scrobble_queued Scrobbles waiting in the durable queue.\n"
      << "# TYPE cw_scrobble_queued gauge\ncw_scrobble_queued "
      << format_number(scrobble.value("queued", 0.0)) << "\n";
    if (scrobble.contains("last_delivery") && scrobble["last_delivery"].is_number())
      o << "# HELP cw_scrobble_last_delivery_timestamp_seconds When a scrobble was last "
           "delivered.\n# TYPE cw_scrobble_last_delivery_timestamp_seconds gauge\n"
        << "cw_scrobble_last_delivery_timestamp_seconds "
        << format_number(scrobble["last_delivery"].get<double>()) << "\n";
  }
  family(o, "cw_serve_requests_total", "counter",
         "Requests this server answered per route and status code.", m_requests);
  return o.str();
}

}  // namespace cw::serve
