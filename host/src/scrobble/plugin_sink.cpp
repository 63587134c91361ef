// The Sink over a loaded plugin instance: scrobble is the ABI operation as it is, watchlist
// removal the ABI `remove` on the watchlist feature when the manifest allows it.

#include <cw/plugin/provider_instance.hpp>
#include <cw/scrobble/service.hpp>

namespace cw::scrobble {
namespace {

class PluginSink final : public Sink {
 public:
  explicit PluginSink(plugin::ProviderInstance& instance) : m_instance(instance) {}
  const std::string& name() const override { return m_instance.name(); }
  Result<nlohmann::json> scrobble(const nlohmann::json& request) override {
    if (!m_instance.manifest().scrobble)
      return make_error("provider " + name() + " (plugin " + m_instance.manifest().name +
                            ") does not declare the scrobble capability; remove it from "
                            "scrobble.sinks",
                        ErrorKind::unsupported);
    return m_instance.scrobble(request);
  }
  Result<nlohmann::json> remove_from_watchlist(const nlohmann::json& items) override {
    const auto* watchlist = m_instance.manifest().feature("watchlist");
    if (watchlist == nullptr || !watchlist->remove)
      return make_error("provider " + name() + " cannot remove from its watchlist",
                        ErrorKind::unsupported);
    return m_instance.remove("watchlist", items);
  }

 private:
  plugin::ProviderInstance& m_instance;
};

}  // namespace

std::unique_ptr<Sink> plugin_sink(plugin::ProviderInstance& instance) {
  return std::make_unique<PluginSink>(instance);
}

}  // namespace cw::scrobble
