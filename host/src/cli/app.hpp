#pragma once
// The command-line front end. `main` parses global options, picks a command from the
// table in app.cpp and runs it; each command lives in its own cmd_*.cpp.

#include <string>
#include <vector>

namespace cw::cli {

// Global options, parsed before the command name.
struct GlobalOptions {
  std::string log_level = "info";  // trace|debug|info|warn|error|off
  std::string log_format = "text";  // text|json
  std::vector<std::string> plugin_dirs;
  std::string config_path;          // --config
  bool quiet = false;
};

// One sub-command. `run` receives the arguments after the command name.
struct Command {
  const char* name;
  const char* summary;
  const char* usage;  // full help text shown by `cw help <name>`
  int (*run)(const GlobalOptions& global, const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

int main(int argc, char** argv);

}  // namespace cw::cli
