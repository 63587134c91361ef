#include <exception>
#include <iostream>

#include <cwsdk/cwsdk.h>

#include <cw/cli/app.hpp>
#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/version.hpp>

namespace cw::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> k_commands = {
      k_plugins_command,  k_run_command,      k_plan_command,    k_apply_command,
      k_config_command,   k_state_command,    k_pending_command, k_map_command,
      k_override_command, k_match_command,    k_serve_command,   k_status_command,
      k_auth_command,     k_provider_command, k_help_command,    k_completion_command,
  };
  return k_commands;
}

namespace {

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

// The command is the first token that is neither a global option nor an option's value.
std::size_t command_position(const std::vector<std::string>& tokens,
                             const po::options_description& head) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t.size() < 2 || t[0] != '-') return i;
    if (t.find('=') != std::string::npos) continue;
    const bool is_long = t.rfind("--", 0) == 0;
    const auto* o = head.find_nothrow(is_long ? t.substr(2) : t, false);
    if (o != nullptr && o->semantic()->max_tokens() > 0) ++i;  // skip its value
  }
  return tokens.size();
}

int run_main(int argc, char** argv) {
  const std::vector<std::string> tokens(argv + 1, argv + argc);
  GlobalOptions global;
  bool help = false;
  bool version = false;
  po::options_description head = global_options(global);
  head.add_options()("help,h", po::bool_switch(&help), "")("version", po::bool_switch(&version),
                                                           "");

  const std::size_t at = command_position(tokens, head);
  try {
    po::variables_map vm;
    const std::vector<std::string> before(tokens.begin(), tokens.begin() + static_cast<long>(at));
    po::store(po::command_line_parser(before).options(head).style(k_option_style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "cw: " << e.what() << "; see `cw help`\n";
    return k_exit_usage;
  }
  if (version) {
    std::cout << "cw " << k_version << " (plugin ABI " << CWSDK_VERSION_MAJOR << "."
              << CWSDK_VERSION_MINOR << ")\n";
    return k_exit_ok;
  }
  if (at == tokens.size()) {
    print_overview(help ? std::cout : std::cerr);
    return help ? k_exit_ok : k_exit_usage;
  }
  const Command* command = find_command(tokens[at]);
  if (command == nullptr) {
    std::cerr << "cw: no command '" << tokens[at] << "'; see `cw help`\n";
    return k_exit_usage;
  }
  const std::vector<std::string> rest(tokens.begin() + static_cast<long>(at) + 1, tokens.end());
  // `cw state --help` and `cw state show -h` mean help, whatever else the line says.
  for (const auto& t : rest) {
    if (t == "--") break;
    help = help || t == "--help" || t == "-h";
  }
  if (help) {
    std::cout << help_text(*command);
    return k_exit_ok;
  }
  auto call = parse_invocation(*command, rest, global);
  if (!call) {
    std::cerr << call.error().message << "\n";
    return k_exit_usage;
  }
  if (!services::parse_log_level(global.log_level)) {
    std::cerr << "cw: --log-level: unknown level '" << global.log_level
              << "': use trace, debug, info, warn, error or off\n";
    return k_exit_usage;
  }
  if (!services::parse_log_format(global.log_format)) {
    std::cerr << "cw: --log-format: unknown format '" << global.log_format
              << "': use text or json\n";
    return k_exit_usage;
  }
  // From here on SIGINT/SIGTERM ask the command to stop at the next safe point; a second
  // one terminates at once.
  services::SignalCancelToken::install_signal_handlers();
  return command->run(global, *call);
}

}  // namespace

void print_overview(std::ostream& out) {
  out << "usage: cw [global options] <command> [args]\n\ncommands:\n";
  for (const auto& c : commands()) {
    const std::string name = c.name;
    out << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << c.summary
        << "\n";
  }
  GlobalOptions unused;
  po::options_description opts = global_options(unused);
  opts.add_options()("version", "print the version of cw and of its plugin ABI")(
      "help,h", "this overview; `cw help <command>` for one command");
  out << "\n" << opts;
}

int main(int argc, char** argv) {
  // The last line of defence: whatever a command did not expect ends as one line and
  // exit 1, never as an uncaught exception (abort, exit 134) with nothing said.
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cw: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "cw: internal error: an unknown exception\n";
  }
  return k_exit_failure;
}

}  // namespace cw::cli
