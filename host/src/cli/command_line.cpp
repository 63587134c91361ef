#include <algorithm>
#include <sstream>

#include <cw/cli/command_line.hpp>

namespace cw::cli {
namespace {

std::string verb_label(const Command& c, const Verb& v) {
  return std::string(c.name) + (*v.name != '\0' ? std::string(" ") + v.name : "");
}

// "a, b or c"
std::string one_of(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += (i == 0 ? "" : i + 1 == parts.size() ? " or " : ", ") + parts[i];
  return out;
}

// `[--pair P] [--dry-run]` for the usage line.
std::string synopsis(const Command& c, const Verb& v) {
  std::string line = "cw " + verb_label(c, v);
  if (*v.operands.synopsis != '\0') line += std::string(" ") + v.operands.synopsis;
  const auto opts = options_of(v);
  for (const auto& o : opts.options()) {
    line += " [--" + o->long_name();
    if (o->semantic()->max_tokens() > 0) line += " " + o->semantic()->name();
    line += "]";
  }
  return line;
}

}  // namespace

po::options_description options_of(const Verb& verb) {
  po::options_description opts;
  if (verb.add_options != nullptr) verb.add_options(opts);
  return opts;
}

std::vector<std::string> choices_of(const po::option_description& o) {
  std::vector<std::string> out;
  const std::string name = o.semantic()->name();
  if (name.find('|') == std::string::npos) return out;
  std::stringstream in(name);
  for (std::string part; std::getline(in, part, '|');) out.push_back(part);
  return out;
}

bool has_verbs(const Command& command) {
  return !(command.verbs.size() == 1 && *command.verbs.front().name == '\0');
}

bool Invocation::flag(const char* name) const {
  const auto it = options.find(name);
  return it != options.end() && it->second.as<bool>();
}

bool Invocation::has(const char* name) const { return options.count(name) > 0; }

std::string Invocation::value(const char* name, const std::string& fallback) const {
  const auto it = options.find(name);
  return it == options.end() ? fallback : it->second.as<std::string>();
}

std::vector<std::string> Invocation::values(const char* name) const {
  const auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{}
                             : it->second.as<std::vector<std::string>>();
}

po::options_description global_options(GlobalOptions& into) {
  po::options_description opts("global options");
  // clang-format off
  opts.add_options()
      ("config", po::value(&into.config_path)->value_name("FILE"),
       "configuration file (default: ./cw.yaml)")
      ("plugin-dir", po::value(&into.plugin_dirs)->value_name("DIR")->composing(),
       "also look for plugins in DIR (repeatable)")
      ("plugin-isolation", po::value(&into.plugin_isolation)->value_name("none|untrusted|all"),
       "which plugins run in a child process: untrusted (default: those found outside the "
       "bundled folder), all, or none; overrides plugins.isolation")
      ("in-process", po::value(&into.in_process)->value_name("PLUGIN")->composing(),
       "run PLUGIN in cw's own process whatever the isolation (repeatable)")
      ("log-level", po::value(&into.log_level)->value_name("trace|debug|info|warn|error|off"),
       "how much to log (default info)")
      ("log-format", po::value(&into.log_format)->value_name("text|json"),
       "log line format (default text)")
      ("quiet,q", po::bool_switch(&into.quiet), "no progress display");
  // clang-format on
  return opts;
}

po::typed_value<std::string>* choice(const char* values) {
  return po::value<std::string>()->value_name(values);
}

void add_output_option(po::options_description& opts) {
  opts.add_options()("output", choice("text|json"), "text (default) or json, on stdout");
}

void add_pair_feature_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("pair", po::value<std::string>()->value_name("P"), "only the pair named P")
      ("feature", choice("watchlist|history|ratings|progress"), "only this feature");
  // clang-format on
}

void add_state_dir_option(po::options_description& opts) {
  opts.add_options()("state-dir", po::value<std::string>()->value_name("DIR"),
                     "the state directory (default: the configuration's state_dir)");
}

Result<Invocation> parse_invocation(const Command& command, const std::vector<std::string>& args,
                                    GlobalOptions& global) {
  const std::string see = "; see `cw help " + std::string(command.name) + "`";
  std::vector<std::string> rest = args;
  const Verb* verb = nullptr;
  if (!has_verbs(command)) {
    verb = &command.verbs.front();
  } else {
    std::vector<std::string> names;
    for (const auto& v : command.verbs) names.emplace_back(v.name);
    const std::string expected = "expected " + one_of(names);
    if (rest.empty() || rest.front().rfind('-', 0) == 0)
      return Error{"cw " + std::string(command.name) + ": say what to do: " + expected + see,
                   ErrorKind::invalid_arg};
    for (const auto& v : command.verbs)
      if (rest.front() == v.name) verb = &v;
    if (verb == nullptr)
      return Error{"cw " + std::string(command.name) + ": no sub-command '" + rest.front() + "'; " +
                       expected + see,
                   ErrorKind::invalid_arg};
    rest.erase(rest.begin());
  }
  const std::string where = "cw " + verb_label(command, *verb);

  po::options_description all = options_of(*verb);
  all.add(global_options(global));
  // clang-format off
  all.add_options()
      ("operands", po::value<std::vector<std::string>>(), "");
  // clang-format on
  po::positional_options_description pos;
  pos.add("operands", -1);

  Invocation call;
  call.verb = verb->name;
  try {
    po::store(
        po::command_line_parser(rest).options(all).positional(pos).style(k_option_style).run(),
        call.options);
    po::notify(call.options);
  } catch (const po::error& e) {
    return Error{where + ": " + e.what() + see, ErrorKind::invalid_arg};
  }
  const auto own = options_of(*verb);
  for (const auto& o : own.options()) {
    const auto allowed = choices_of(*o);
    if (allowed.empty() || !call.has(o->long_name().c_str())) continue;
    const std::string got = call.value(o->long_name().c_str());
    if (std::find(allowed.begin(), allowed.end(), got) == allowed.end())
      return Error{where + ": --" + o->long_name() + ": expected " + one_of(allowed) + ", got \"" +
                       got + "\"",
                   ErrorKind::invalid_arg};
  }
  call.operands = call.values("operands");
  const auto n = static_cast<int>(call.operands.size());
  if (n < verb->operands.min)
    return Error{where + ": missing " + verb->operands.synopsis + see, ErrorKind::invalid_arg};
  if (verb->operands.max >= 0 && n > verb->operands.max)
    return Error{where + ": unexpected argument '" +
                     call.operands[static_cast<std::size_t>(verb->operands.max)] + "'" + see,
                 ErrorKind::invalid_arg};
  return call;
}

std::string help_text(const Command& command) {
  std::ostringstream out;
  const char* lead = "usage: ";
  for (const auto& v : command.verbs) {
    out << lead << synopsis(command, v) << "\n";
    lead = "       ";
  }
  out << "\n" << command.summary << ".\n";
  for (const auto& v : command.verbs) {
    out << "\n";
    if (*v.name != '\0') out << "cw " << verb_label(command, v) << ": " << v.summary << "\n";
    if (*v.details != '\0') out << v.details;
    const auto opts = options_of(v);
    if (!opts.options().empty()) out << opts;
  }
  if (*command.notes != '\0') out << "\n" << command.notes;
  out << "Global options (--config, --plugin-dir, --log-level, --log-format, --quiet) are\n"
         "accepted before or after the command; see `cw help`.\n";
  return out.str();
}

}  // namespace cw::cli
