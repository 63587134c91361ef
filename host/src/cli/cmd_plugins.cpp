#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>

#include <iostream>

namespace cw::cli {
namespace {
int run_plugins(const GlobalOptions&, const std::vector<std::string>&) {
  std::cerr << "cw plugins: not built yet\n";
  return k_exit_failure;
}
}  // namespace

const Command k_plugins_command = {"plugins", "list and check provider plugins",
                                   "usage: cw plugins list|check\n", &run_plugins};
}  // namespace cw::cli
