#pragma once
// Every command that talks to providers builds its context the same way: through
// sync::Session, the one composition root, with the global options filled in here.

#include <memory>
#include <string>
#include <variant>

#include <cw/cli/command_line.hpp>
#include <cw/sync/session.hpp>

namespace cw::cli {

// Opens the session for `command` ("run", "auth login", ...). `options` says the purpose and
// what the command adds; the global options (configuration, plugin folders, logging) are
// filled in from `global`. On failure prints the one-line reason and returns the exit code.
std::variant<std::unique_ptr<sync::Session>, int> open_session(const GlobalOptions& global,
                                                               sync::SessionOptions options,
                                                               const std::string& command);

}  // namespace cw::cli
