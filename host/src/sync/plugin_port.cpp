#include <cw/sync/plugin_port.hpp>

namespace cw::sync {

Result<nlohmann::json> PluginPort::build_index(const std::string& feature,
                                               const nlohmann::json& watermark) {
  std::optional<std::string> wm;
  if (watermark.is_string()) wm = watermark.get<std::string>();
  return m_instance->build_index(feature, wm);
}

Result<nlohmann::json> PluginPort::stream_index(const std::string& feature,
                                                const nlohmann::json& watermark,
                                                const ItemSink& each) {
  std::optional<std::string> wm;
  if (watermark.is_string()) wm = watermark.get<std::string>();
  return m_instance->build_index(feature, wm, each);
}

Result<nlohmann::json> PluginPort::write(WriteOp op, const std::string& feature,
                                         const nlohmann::json& items) {
  switch (op) {
    case WriteOp::add:
      return m_instance->add(feature, items);
    case WriteOp::remove:
      return m_instance->remove(feature, items);
    case WriteOp::update:
      return m_instance->update(feature, items);
  }
  return make_error("unknown write operation", ErrorKind::internal);
}

}  // namespace cw::sync
