// `cw help [COMMAND]`, `cw help --man` and `cw completion bash`: everything here is
// generated from the command declarations (command_line.hpp), so help, the man page and
// the completion say exactly what the parser accepts.
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <cw/cli/app.hpp>
#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/version.hpp>

namespace cw::cli {
namespace {

po::options_description global_options_for_docs() {
  static GlobalOptions unused;
  return global_options(unused);
}

std::string join(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// What the value of an option can be completed with.
struct ValueKind {
  std::set<std::string> choices;  // from a `a|b|c` value name
  bool directory = false;         // DIR
  bool file = false;              // FILE or PATH
};

void note_value(std::map<std::string, ValueKind>& kinds, const po::option_description& o) {
  if (o.semantic()->max_tokens() == 0) return;
  ValueKind& k = kinds["--" + o.long_name()];
  const std::string name = o.semantic()->name();
  const auto choices = choices_of(o);
  if (!choices.empty()) {
    k.choices.insert(choices.begin(), choices.end());
  } else if (name == "DIR") {
    k.directory = true;
  } else if (name == "FILE" || name == "PATH") {
    k.file = true;
  }
}

std::set<std::string> option_words(const po::options_description& opts) {
  std::set<std::string> out;
  for (const auto& o : opts.options()) {
    out.insert("--" + o->long_name());
    const std::string shortcut =
        o->canonical_display_name(po::command_line_style::allow_dash_for_short);
    if (shortcut.size() == 2 && shortcut[0] == '-') out.insert(shortcut);
  }
  return out;
}

// Escapes text for a troff line: backslashes, and a leading dot or quote.
std::string troff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

void man_options(std::ostringstream& out, const po::options_description& opts) {
  for (const auto& o : opts.options()) {
    out << ".TP\n.B \\-\\-" << troff(o->long_name());
    if (o->semantic()->max_tokens() > 0) out << " \" " << troff(o->semantic()->name()) << "\"";
    out << "\n" << troff(o->description()) << "\n";
  }
}

int run_help(const GlobalOptions&, const Invocation& call) {
  if (call.flag("man")) {
    std::cout << man_page(commands());
    return k_exit_ok;
  }
  if (call.operands.empty()) {
    print_overview(std::cout);
    return k_exit_ok;
  }
  for (const auto& c : commands())
    if (call.operands.front() == c.name) {
      std::cout << help_text(c);
      return k_exit_ok;
    }
  std::cerr << "cw help: no command '" << call.operands.front() << "'; see `cw help`\n";
  return k_exit_usage;
}

int run_completion(const GlobalOptions&, const Invocation&) {
  std::cout << bash_completion(commands());
  return k_exit_ok;
}

void help_options(po::options_description& opts) {
  opts.add_options()("man", po::bool_switch(), "print the cw(1) manual page (troff) instead");
}

}  // namespace

std::string bash_completion(const std::vector<Command>& commands) {
  std::map<std::string, ValueKind> kinds;
  const auto globals = global_options_for_docs();
  for (const auto& o : globals.options()) note_value(kinds, *o);
  std::set<std::string> global_words = option_words(globals);
  global_words.insert("--help");

  std::set<std::string> command_names;
  for (const auto& c : commands) command_names.insert(c.name);

  std::ostringstream cases;
  for (const auto& c : commands) {
    cases << "    " << c.name << ")\n      case \"$verb\" in\n";
    const bool verbs_named = has_verbs(c);
    if (verbs_named) {
      std::set<std::string> verbs;
      for (const auto& v : c.verbs) verbs.insert(v.name);
      cases << "        \"\") words=\"" << join(verbs) << "\" ;;\n";
    }
    for (const auto& v : c.verbs) {
      const auto opts = options_of(v);
      for (const auto& o : opts.options()) note_value(kinds, *o);
      std::set<std::string> words = option_words(opts);
      words.insert(global_words.begin(), global_words.end());
      // `cw help COMMAND` completes the command's name.
      if (std::string(c.name) == "help") words.insert(command_names.begin(), command_names.end());
      cases << "        " << (verbs_named ? std::string(v.name) : std::string("*")) << ") words=\""
            << join(words) << "\" ;;\n";
    }
    cases << "      esac ;;\n";
  }

  std::set<std::string> takes_value;
  std::ostringstream values;
  for (const auto& [name, k] : kinds) {
    takes_value.insert(name);
    values << "    " << name << ") ";
    if (!k.choices.empty())
      values << "COMPREPLY=($(compgen -W \"" << join(k.choices) << "\" -- \"$cur\"))";
    else if (k.directory)
      values << "COMPREPLY=($(compgen -d -- \"$cur\"))";
    else if (k.file)
      values << "COMPREPLY=($(compgen -f -- \"$cur\"))";
    else
      values << "COMPREPLY=()";
    values << "; return ;;\n";
  }

  std::set<std::string> top = command_names;
  top.insert(global_words.begin(), global_words.end());
  top.insert("--version");

  std::ostringstream out;
  out << "# bash completion for cw " << k_version << ", generated by `cw completion bash`.\n"
      << "# Install: cw completion bash > ~/.local/share/bash-completion/completions/cw\n"
      << "_cw() {\n"
      << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
      << "  local cmd=\"\" verb=\"\" words=\"\" w i\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=\"${COMP_WORDS[i]}\"\n"
      << "    case \"$w\" in\n"
      << "      --*=*) ;;\n"
      << "      -*) case \" " << join(takes_value) << " \" in *\" $w \"*) ((i++)) ;; esac ;;\n"
      << "      *) if [[ -z $cmd ]]; then cmd=\"$w\"; elif [[ -z $verb ]]; then verb=\"$w\"; fi "
         ";;\n"
      << "    esac\n"
      << "  done\n"
      << "  case \"$prev\" in\n"
      << values.str() << "  esac\n"
      << "  case \"$cmd\" in\n"
      << "    \"\") words=\"" << join(top) << "\" ;;\n"
      << cases.str() << "  esac\n"
      << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      << "}\n"
      << "complete -F _cw cw\n";
  return out.str();
}

std::string man_page(const std::vector<Command>& commands) {
  std::ostringstream out;
  out << ".TH CW 1 \"\" \"cw " << k_version << "\" \"User Commands\"\n"
      << ".SH NAME\ncw \\- keep watch state in step between media servers and trackers\n"
      << ".SH SYNOPSIS\n.B cw\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIargs\\fR]\n"
      << ".SH DESCRIPTION\n"
      << "cw reads the pairs that its configuration (cw.yaml) defines and runs a snapshot, plan,\n"
         "apply cycle for each: it never deletes what it cannot prove is gone, never posts a\n"
         "play twice, and a second run plans nothing.\n"
      << ".SH GLOBAL OPTIONS\nAccepted before or after the command.\n";
  man_options(out, global_options_for_docs());
  out << ".TP\n.B \\-\\-version\nprint the version of cw and of its plugin ABI\n"
      << ".SH COMMANDS\n";
  for (const auto& c : commands) {
    out << ".SS " << c.name << "\n" << troff(c.summary) << ".\n";
    for (const auto& v : c.verbs) {
      const auto opts = options_of(v);
      out << ".PP\n.B cw " << troff(c.name) << (*v.name != '\0' ? " " : "") << troff(v.name);
      if (*v.operands.synopsis != '\0') out << " \\fI" << troff(v.operands.synopsis) << "\\fR";
      out << "\n";
      if (*v.name != '\0') out << ".br\n" << troff(v.summary) << "\n";
      if (*v.details != '\0') out << ".nf\n" << troff(v.details) << ".fi\n";
      man_options(out, opts);
    }
    if (*c.notes != '\0') out << ".PP\n.nf\n" << troff(c.notes) << ".fi\n";
  }
  out << ".SH EXIT STATUS\n";
  for (const auto& e : k_exit_code_docs)
    out << ".TP\n.B " << e.code << "\n" << troff(e.meaning) << "\n";
  out << ".SH ENVIRONMENT\n"
      << ".TP\n.B CW_PLUGIN_PATH\ncolon-separated folders searched for plugins\n"
      << ".TP\n.B CW_CONFIG_DIR\nwhere the token store lives (default: the configuration's "
         "folder)\n"
      << ".SH SEE ALSO\nREADME.md and docs/ of the cw sources: configuration, plugins, "
         "reliability.\n";
  return out.str();
}

const Command k_help_command = {
    "help",
    "show help for a command",
    {{"",
      "",
      {"COMMAND", 0, 1},
      &help_options,
      "Without COMMAND: every command and the global options. With COMMAND: its usage,\n"
      "sub-commands and options.\n"}},
    "",
    &run_help};

const Command k_completion_command = {
    "completion",
    "print a shell completion script",
    {{"bash",
      "completion of commands, sub-commands, options and their values for bash",
      {},
      nullptr,
      "Load it now with `source <(cw completion bash)`, or install it with\n"
      "`cw completion bash > ~/.local/share/bash-completion/completions/cw`.\n"}},
    "",
    &run_completion};

}  // namespace cw::cli
