#pragma once
// The scrobble service (host/src/scrobble) as `cw serve` sees it: serve::ScrobbleBridge over
// scrobble::Service, its stats, recent events and queue as JSON for the page, the API and
// the metrics. The service must outlive the bridge.

#include <cw/scrobble/service.hpp>
#include <cw/serve/server.hpp>

namespace cw::cli {

class ScrobbleBridge final : public serve::ScrobbleBridge {
 public:
  explicit ScrobbleBridge(scrobble::Service& service) : m_service(service) {}
  serve::WebhookAnswer accept(const serve::WebhookCall& call) override;
  std::int64_t deliver_pending(services::CancelToken& cancel) override;
  nlohmann::json stats() override;
  nlohmann::json recent(std::size_t n) override;
  nlohmann::json queue(std::size_t n) override;

 private:
  scrobble::Service& m_service;
};

}  // namespace cw::cli
