#pragma once
// Every command's entry point, one per cmd_*.cpp. The table in app.cpp lists them.

#include <cw/cli/app.hpp>

namespace cw::cli {

extern const Command k_plugins_command;     // cmd_plugins.cpp
extern const Command k_run_command;         // cmd_run.cpp
extern const Command k_plan_command;        // cmd_run.cpp
extern const Command k_apply_command;       // cmd_run.cpp
extern const Command k_config_command;      // cmd_config.cpp
extern const Command k_state_command;       // cmd_state.cpp
extern const Command k_pending_command;     // cmd_pending.cpp
extern const Command k_map_command;         // cmd_map.cpp
extern const Command k_override_command;    // cmd_override.cpp
extern const Command k_match_command;       // cmd_match.cpp
extern const Command k_serve_command;       // cmd_serve.cpp
extern const Command k_status_command;      // cmd_status.cpp
extern const Command k_auth_command;        // cmd_auth.cpp
extern const Command k_provider_command;    // cmd_provider.cpp
extern const Command k_help_command;        // cmd_help.cpp
extern const Command k_completion_command;  // cmd_help.cpp

}  // namespace cw::cli
