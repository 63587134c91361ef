#pragma once
// PluginPort: ProviderPort over a loaded plugin instance (plugin::ProviderInstance).

#include <memory>

#include <cw/plugin/provider_instance.hpp>
#include <cw/sync/provider_port.hpp>

namespace cw::sync {

class PluginPort final : public ProviderPort {
 public:
  explicit PluginPort(std::unique_ptr<plugin::ProviderInstance> instance)
      : m_instance(std::move(instance)) {}

  const std::string& instance() const override { return m_instance->name(); }
  const plugin::Manifest& manifest() const override { return m_instance->manifest(); }
  // The loaded instance, for the operations a sync does not use (auth, actions).
  plugin::ProviderInstance& provider() { return *m_instance; }
  Result<nlohmann::json> health() override { return m_instance->health(); }
  Result<nlohmann::json> build_index(const std::string& feature,
                                     const nlohmann::json& watermark) override;
  Result<nlohmann::json> stream_index(const std::string& feature, const nlohmann::json& watermark,
                                      const ItemSink& each) override;
  Result<nlohmann::json> write(WriteOp op, const std::string& feature,
                               const nlohmann::json& items) override;
  Result<nlohmann::json> lookup(const std::string& feature, const nlohmann::json& items) override {
    return m_instance->lookup(feature, items);
  }
  Result<nlohmann::json> resolve_ids(const nlohmann::json& items) override {
    return m_instance->resolve_ids(items);
  }
  std::optional<std::string> lost() const override { return m_instance->library().lost(); }
  Result<int> restart() override { return m_instance->library().restart(); }

 private:
  std::unique_ptr<plugin::ProviderInstance> m_instance;
};

}  // namespace cw::sync
