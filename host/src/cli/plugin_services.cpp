#include <cw/cli/plugin_services.hpp>
#include <cw/services/cancel/cancel_token.hpp>

namespace cw::cli {

Result<std::unique_ptr<PluginServices>> make_plugin_services(const GlobalOptions& global) {
  auto logger = services::Logger::from_options(global.log_level, global.log_format);
  if (!logger) return logger.error();
  auto s = std::make_unique<PluginServices>();
  s->logger = std::move(*logger);
  s->host = std::make_unique<plugin::HostServices>(
      plugin::HostServices{*s->logger, s->clock, services::SignalCancelToken::instance(), &s->kv,
                           nullptr, nullptr, false});
  return s;
}

}  // namespace cw::cli
