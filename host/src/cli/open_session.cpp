#include <iostream>

#include <cw/cli/exit_codes.hpp>
#include <cw/cli/open_session.hpp>

namespace cw::cli {

std::variant<std::unique_ptr<sync::Session>, int> open_session(const GlobalOptions& global,
                                                               sync::SessionOptions options,
                                                               const std::string& command) {
  options.config_path = global.config_path;
  options.plugin_dirs = global.plugin_dirs;
  options.plugin_isolation = global.plugin_isolation;
  options.in_process = global.in_process;
  options.log_level = global.log_level;
  options.log_format = global.log_format;
  auto opened = sync::Session::open(options);
  if (auto* session = std::get_if<std::unique_ptr<sync::Session>>(&opened))
    return std::move(*session);
  const auto& err = std::get<sync::SessionError>(opened);
  std::cerr << "cw " << command << ": " << err.message << "\n";
  switch (err.cause) {
    case sync::SessionError::Cause::config:
      return k_exit_config;
    case sync::SessionError::Cause::locked:
      return k_exit_locked;
    case sync::SessionError::Cause::usage:
      return k_exit_usage;
    case sync::SessionError::Cause::other:
      break;
  }
  return k_exit_failure;
}

}  // namespace cw::cli
