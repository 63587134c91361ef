// The scrobble service (host/src/scrobble) as `cw serve` sees it: serve::ScrobbleBridge over
// scrobble::Service, with its stats, recent events and queue as JSON for the page, the API
// and the metrics.
#include <algorithm>
#include <chrono>

#include <cw/cli/scrobble_bridge.hpp>

namespace cw::cli {

serve::WebhookAnswer ScrobbleBridge::accept(const serve::WebhookCall& call) {
  scrobble::WebhookRequest r;
  r.source = call.source;
  r.content_type = call.content_type;
  r.headers = call.headers;
  r.query = call.query;
  r.body = call.body;
  const scrobble::WebhookReply reply = m_service.accept(r);
  return {reply.http_status, reply.message};
}

std::int64_t ScrobbleBridge::deliver_pending(services::CancelToken& cancel) {
  const scrobble::DeliveryReport report = m_service.deliver_pending(cancel);
  if (report.next_due_ms == 0) return 0;
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  return std::max<std::int64_t>(report.next_due_ms - now_ms, 1);
}

nlohmann::json ScrobbleBridge::stats() {
  const scrobble::Stats s = m_service.stats();
  nlohmann::json out = {{"sources", nlohmann::json::object()},
                        {"sinks", nlohmann::json::object()},
                        {"queued", s.queued}};
  if (s.last_delivery_ms > 0) out["last_delivery"] = s.last_delivery_ms / 1000.0;
  for (const auto& [name, src] : s.sources)
    out["sources"][name] = {{"received", src.received},
                            {"refused", src.refused},
                            {"accepted", src.accepted},
                            {"ignored", src.ignored}};
  for (const auto& [name, sink] : s.sinks)
    out["sinks"][name] = {{"delivered", sink.delivered}, {"failed", sink.failed},
                          {"dropped", sink.dropped},     {"plays", sink.plays},
                          {"queued", sink.queued},       {"last_error", sink.last_error}};
  return out;
}

nlohmann::json ScrobbleBridge::recent(std::size_t n) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : m_service.recent(n))
    out.push_back(e.source + " " + e.action + " " + e.title + " " +
                  std::to_string(static_cast<int>(e.progress)) + "% by " + e.user + ": " +
                  e.outcome + (e.detail.empty() ? "" : " (" + e.detail + ")"));
  return out;
}

nlohmann::json ScrobbleBridge::queue(std::size_t n) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& q : m_service.queue(n))
    out.push_back({{"id", q.id},
                   {"sink", q.sink},
                   {"action", q.action},
                   {"title", q.title},
                   {"progress", q.progress},
                   {"watched", q.watched},
                   {"attempts", q.attempts},
                   {"last_error", q.last_error}});
  return out;
}

}  // namespace cw::cli
