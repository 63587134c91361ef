#pragma once
// The command-line front end. `main` parses the global options, picks a command from the
// table in app.cpp, parses its command line (command_line.hpp) and runs it; each command
// lives in its own cmd_*.cpp.

#include <ostream>
#include <string>
#include <vector>

#include <cw/cli/command_line.hpp>

namespace cw::cli {

const std::vector<Command>& commands();

// `cw help`: every command with its summary, and the global options.
void print_overview(std::ostream& out);

// Generated from `commands()`: what `cw completion bash` prints, and the cw(1) man page.
std::string bash_completion(const std::vector<Command>& commands);
std::string man_page(const std::vector<Command>& commands);

int main(int argc, char** argv);

}  // namespace cw::cli
