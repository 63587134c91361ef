#pragma once
// Every command's entry point, one per cmd_*.cpp. The table in app.cpp lists them.

#include <cw/cli/app.hpp>

namespace cw::cli {

extern const Command k_plugins_command;  // cmd_plugins.cpp

}  // namespace cw::cli
