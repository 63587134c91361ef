#include <cw/cli/app.hpp>
#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/version.hpp>

#include <boost/program_options.hpp>
#include <cwsdk/cwsdk.h>
#include <iostream>

namespace po = boost::program_options;

namespace cw::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> k_commands = {
      k_plugins_command,
      k_run_command,
      k_plan_command,
      k_apply_command,
      k_config_command,
      k_state_command,
      k_pending_command,
      k_auth_command,
      k_provider_command,
  };
  return k_commands;
}

namespace {

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

void print_overview(std::ostream& out) {
  out << "usage: cw [global options] <command> [args]\n\ncommands:\n";
  for (const auto& c : commands()) out << "  " << c.name << std::string(12 - std::min<size_t>(11, std::string(c.name).size()), ' ') << c.summary << "\n";
  out << "  help        show help for a command: cw help <command>\n"
         "\nglobal options:\n"
         "  --version                 print the version of cw and of its plugin ABI\n"
         "  --config FILE             configuration file (default: ./cw.yaml)\n"
         "  --plugin-dir DIR          also look for plugins in DIR (repeatable)\n"
         "  --log-level LEVEL         trace|debug|info|warn|error|off (default info)\n"
         "  --log-format FORMAT       text|json (default text)\n"
         "  -q, --quiet               no progress display\n";
}

}  // namespace

int main(int argc, char** argv) {
  GlobalOptions global;
  po::options_description opts("global options");
  // clang-format off
  opts.add_options()
      ("help,h", "")
      ("version", "")
      ("config", po::value(&global.config_path))
      ("plugin-dir", po::value(&global.plugin_dirs)->composing())
      ("log-level", po::value(&global.log_level))
      ("log-format", po::value(&global.log_format))
      ("quiet,q", po::bool_switch(&global.quiet))
      ("command", po::value<std::string>())
      ("command-args", po::value<std::vector<std::string>>());
  // clang-format on
  po::positional_options_description pos;
  pos.add("command", 1).add("command-args", -1);

  po::variables_map vm;
  std::vector<std::string> rest;
  try {
    auto parsed = po::command_line_parser(argc, argv)
                      .options(opts)
                      .positional(pos)
                      .allow_unregistered()
                      .run();
    po::store(parsed, vm);
    po::notify(vm);
    // Everything after the command name belongs to the command, options included.
    rest = po::collect_unrecognized(parsed.options, po::include_positional);
  } catch (const po::error& e) {
    std::cerr << "cw: " << e.what() << "\n";
    return k_exit_usage;
  }

  if (vm.count("version")) {
    std::cout << "cw " << k_version << " (plugin ABI " << CWSDK_VERSION_MAJOR << "."
              << CWSDK_VERSION_MINOR << ")\n";
    return k_exit_ok;
  }
  if (!vm.count("command")) {
    print_overview(vm.count("help") ? std::cout : std::cerr);
    return vm.count("help") ? k_exit_ok : k_exit_usage;
  }
  const std::string name = vm["command"].as<std::string>();
  // `rest` starts with the command name itself.
  if (!rest.empty() && rest.front() == name) rest.erase(rest.begin());

  if (name == "help") {
    if (rest.empty()) {
      print_overview(std::cout);
      return k_exit_ok;
    }
    const Command* c = find_command(rest.front());
    if (c == nullptr) {
      std::cerr << "cw: no command '" << rest.front() << "'; see `cw help`\n";
      return k_exit_usage;
    }
    std::cout << c->usage;
    return k_exit_ok;
  }
  const Command* c = find_command(name);
  if (c == nullptr) {
    std::cerr << "cw: no command '" << name << "'; see `cw help`\n";
    return k_exit_usage;
  }
  if (vm.count("help")) {
    std::cout << c->usage;
    return k_exit_ok;
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
  return c->run(global, rest);
}

}  // namespace cw::cli
