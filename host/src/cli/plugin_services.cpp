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

Result<plugin::IsolationPolicy> isolation_policy(const GlobalOptions& global,
                                                 const plugin::SearchPathOptions& sp,
                                                 const std::string& mode) {
  plugin::IsolationPolicy policy;
  const std::string chosen = global.plugin_isolation.empty() ? mode : global.plugin_isolation;
  const auto parsed = plugin::isolation_mode_from_string(chosen);
  if (!parsed)
    return make_error("--plugin-isolation: expected none, untrusted or all, got \"" + chosen + "\"",
                      ErrorKind::invalid_arg);
  policy.mode = *parsed;
  if (auto bundled = plugin::bundled_plugin_dir(sp)) policy.trusted_dirs.push_back(*bundled);
  policy.in_process.insert(global.in_process.begin(), global.in_process.end());
  return policy;
}

}  // namespace cw::cli
