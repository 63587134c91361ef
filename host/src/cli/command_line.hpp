#pragma once
// The command line, declared once and parsed one way. Every command lists its verbs
// (`cw state show`, `cw state reset`, ...; a command without sub-commands has one verb with
// an empty name), each verb its options on Boost.Program_options and its operands. One
// parser reads every command line, so `--x v`, `--x=v`, option order and error messages are
// the same everywhere; `cw help`, the bash completion and the man page are generated from
// the same declarations, so they cannot drift from what the parser accepts.

#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include <cw/util/result.hpp>

namespace cw::cli {

namespace po = boost::program_options;

// The parsing style of every command line. Guessing (`--p` for `--pair`) is off: an
// abbreviation that is unique today becomes ambiguous, or silently means another option,
// when an option is added.
inline constexpr int k_option_style =
    po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

// Options that apply to every command; accepted before or after the command name.
struct GlobalOptions {
  std::string log_level = "info";   // trace|debug|info|warn|error|off
  std::string log_format = "text";  // text|json
  std::vector<std::string> plugin_dirs;
  // --plugin-isolation: none|untrusted|all (empty: the configuration's plugins.isolation).
  std::string plugin_isolation;
  std::vector<std::string> in_process;  // --in-process NAME: run that plugin in process
  std::string config_path;              // --config
  bool quiet = false;
};

// The positional arguments of a verb, e.g. `KEY...` or `INSTANCE ACTION`.
struct Operands {
  const char* synopsis = "";  // as shown in the usage line; "" when the verb takes none
  int min = 0;
  int max = 0;  // -1: any number
};

// One way to call a command.
struct Verb {
  const char* name;     // "" when the command has no sub-commands
  const char* summary;  // one line, shown in the verb list of `cw help <command>`
  Operands operands;
  void (*add_options)(po::options_description&);  // nullptr when the verb has no options
  const char* details;  // what the verb does, shown by `cw help`; may be ""
};

// A command line parsed for one verb.
struct Invocation {
  std::string verb;
  po::variables_map options;
  std::vector<std::string> operands;

  bool flag(const char* name) const;  // a switch was given
  bool has(const char* name) const;   // an option with a value was given
  std::string value(const char* name, const std::string& fallback = "") const;
  std::vector<std::string> values(const char* name) const;  // a repeatable option
};

struct Command {
  const char* name;
  const char* summary;  // one line, shown by `cw help`
  std::vector<Verb> verbs;
  const char* notes;  // shown after the verbs by `cw help <command>`: exit codes, remarks
  int (*run)(const GlobalOptions& global, const Invocation& call);
};

// The options `verb` declares (the global ones are not included).
po::options_description options_of(const Verb& verb);

// True when the command has sub-commands (`cw state show`), false for one like `cw run`.
bool has_verbs(const Command& command);

// The accepted values of a `choice` option (its value name split at `|`); empty otherwise.
std::vector<std::string> choices_of(const po::option_description& option);

// The options every command accepts, bound to `into`.
po::options_description global_options(GlobalOptions& into);

// Parses what follows the command name. Global options found there update `global`.
// The error is one line naming the command, e.g.
// `cw state show: unrecognised option '--bogus'; see `cw help state``.
Result<Invocation> parse_invocation(const Command& command, const std::vector<std::string>& args,
                                    GlobalOptions& global);

// `cw help <command>`: usage lines, what each verb does, its options, then the notes.
std::string help_text(const Command& command);

// Shared option declarations, so that the same option reads the same in every command.
// A value name with `|` lists the accepted values; parse_invocation enforces it and the
// completion offers them.
po::typed_value<std::string>* choice(const char* values);
void add_output_option(po::options_description& opts);         // --output text|json
void add_pair_feature_options(po::options_description& opts);  // --pair P, --feature F
void add_state_dir_option(po::options_description& opts);      // --state-dir DIR

}  // namespace cw::cli
