#include <iostream>

#include <cw/cli/exit_codes.hpp>
#include <cw/cli/open_session.hpp>
#include <cw/cli/sync_cycle.hpp>

namespace cw::cli {

std::variant<std::unique_ptr<sync::Session>, int> open_session(const GlobalOptions& global,
                                                               sync::SessionOptions options,
                                                               const std::string& command) {
  options = with_globals(global, std::move(options));
  auto opened = sync::Session::open(options);
  if (auto* session = std::get_if<std::unique_ptr<sync::Session>>(&opened))
    return std::move(*session);
  const auto& err = std::get<sync::SessionError>(opened);
  std::cerr << "cw " << command << ": " << err.message << "\n";
  return exit_code_for(err);
}

}  // namespace cw::cli
