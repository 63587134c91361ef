// The command line is declared once (command_line.hpp) and parsed one way. These tests walk
// every declared command and verb, so a command that parses its own flags, an option the
// help or completion does not know, or a syntax that works for one command and not another
// fails here.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include <cw/cli/app.hpp>
#include <cw/cli/exit_codes.hpp>

#include "cli_test_support.hpp"

namespace po = boost::program_options;
using cw::cli::Command;
using cw::cli::GlobalOptions;
using cw::cli::has_verbs;
using cw::cli::options_of;
using cw::cli::Verb;
using cw::test::cw_main;
using cw::test::TempDir;

namespace {

// The smallest argument list `v` accepts, before any option.
std::vector<std::string> base_args(const Command& c, const Verb& v) {
  std::vector<std::string> args;
  if (has_verbs(c)) args.emplace_back(v.name);
  for (int i = 0; i < v.operands.min; ++i) args.push_back("operand" + std::to_string(i));
  return args;
}

// A value the option accepts: its first choice, or any word.
std::string sample_value(const po::option_description& o) {
  const std::string name = o.semantic()->name();
  const auto bar = name.find('|');
  return bar == std::string::npos ? std::string("x1") : name.substr(0, bar);
}

std::string label(const Command& c, const Verb& v) {
  return std::string(c.name) + (has_verbs(c) ? std::string(" ") + v.name : "");
}

TEST(CommandLine, EveryValueOptionTakesBothSpellingsAlike) {
  int checked = 0;
  for (const auto& c : cw::cli::commands())
    for (const auto& v : c.verbs) {
      const auto opts = options_of(v);
      for (const auto& o : opts.options()) {
        if (o->semantic()->max_tokens() == 0) continue;
        const std::string name = "--" + o->long_name();
        const std::string value = sample_value(*o);
        auto spaced = base_args(c, v);
        spaced.insert(spaced.end(), {name, value});
        auto joined = base_args(c, v);
        joined.push_back(name + "=" + value);
        GlobalOptions g1, g2;
        const auto a = cw::cli::parse_invocation(c, spaced, g1);
        const auto b = cw::cli::parse_invocation(c, joined, g2);
        ASSERT_TRUE(a) << label(c, v) << " " << name << ": " << a.error().message;
        ASSERT_TRUE(b) << label(c, v) << " " << name << "=: " << b.error().message;
        EXPECT_TRUE(a->has(o->long_name().c_str()));
        EXPECT_EQ(a->options[o->long_name()].value().type(),
                  b->options[o->long_name()].value().type());
        ++checked;
      }
    }
  EXPECT_GT(checked, 20);  // every command declares its options: run, state, pending, auth...
}

TEST(CommandLine, EveryVerbRefusesAnUnknownOptionInOneLine) {
  for (const auto& c : cw::cli::commands())
    for (const auto& v : c.verbs) {
      auto args = base_args(c, v);
      args.push_back("--bogus-option");
      GlobalOptions g;
      const auto r = cw::cli::parse_invocation(c, args, g);
      ASSERT_FALSE(r) << label(c, v);
      EXPECT_EQ(r.error().message.rfind("cw " + label(c, v) + ": ", 0), 0u) << r.error().message;
      EXPECT_NE(r.error().message.find("--bogus-option"), std::string::npos);
      EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
      EXPECT_EQ(cw_main([&] {
                  auto full = args;
                  full.insert(full.begin(), c.name);
                  return full;
                }())
                    .code,
                cw::cli::k_exit_usage)
          << label(c, v);
    }
}

TEST(CommandLine, ChoicesAreEnforcedWherePresent) {
  int checked = 0;
  for (const auto& c : cw::cli::commands())
    for (const auto& v : c.verbs) {
      const auto opts = options_of(v);
      for (const auto& o : opts.options()) {
        if (o->semantic()->name().find('|') == std::string::npos) continue;
        auto args = base_args(c, v);
        args.push_back("--" + o->long_name() + "=not-a-choice");
        GlobalOptions g;
        const auto r = cw::cli::parse_invocation(c, args, g);
        ASSERT_FALSE(r) << label(c, v) << " --" << o->long_name();
        EXPECT_NE(r.error().message.find("got \"not-a-choice\""), std::string::npos)
            << r.error().message;
        ++checked;
      }
    }
  EXPECT_GT(checked, 8);
}

TEST(CommandLine, OperandCountsAreChecked) {
  const auto& cmds = cw::cli::commands();
  const auto find = [&](const char* n) {
    for (const auto& c : cmds)
      if (std::string(c.name) == n) return &c;
    return static_cast<const Command*>(nullptr);
  };
  GlobalOptions g;
  auto r = cw::cli::parse_invocation(*find("state"), {"unblock"}, g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("missing KEY"), std::string::npos) << r.error().message;
  r = cw::cli::parse_invocation(*find("state"), {"show", "extra"}, g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unexpected argument 'extra'"), std::string::npos);
  r = cw::cli::parse_invocation(*find("provider"), {"backup"}, g);
  ASSERT_FALSE(r);
  r = cw::cli::parse_invocation(*find("provider"), {"backup", "snapshot.list"}, g);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->operands, (std::vector<std::string>{"backup", "snapshot.list"}));
  r = cw::cli::parse_invocation(*find("pending"), {"approve", "a", "b", "--all"}, g);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->operands.size(), 2u);
  EXPECT_TRUE(r->flag("all"));
  r = cw::cli::parse_invocation(*find("state"), {}, g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("show, export, reset, unblock, check or restore"),
            std::string::npos)
      << r.error().message;
}

TEST(CommandLine, GlobalOptionsWorkAfterTheCommandAndAbbreviationsDoNot) {
  const Command* run = nullptr;
  for (const auto& c : cw::cli::commands())
    if (std::string(c.name) == "run") run = &c;
  ASSERT_NE(run, nullptr);
  GlobalOptions g;
  auto r = cw::cli::parse_invocation(*run, {"--dry-run", "--config=x.yaml", "-q"}, g);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(g.config_path, "x.yaml");
  EXPECT_TRUE(g.quiet);
  EXPECT_TRUE(r->flag("dry-run"));
  // `--dry` would silently mean `--dry-run` with guessing on; a later `--dry-...` option
  // would change what old scripts do.
  EXPECT_FALSE(cw::cli::parse_invocation(*run, {"--dry"}, g));
}

TEST(CommandLine, StateDirSpellingsAgreeThroughMain) {
  TempDir dir;
  const auto a = cw_main({"state", "show", "--state-dir", dir.path.string(), "--output", "json"});
  const auto b = cw_main({"state", "show", "--state-dir=" + dir.path.string(), "--output=json"});
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.err, b.err);
  // Before this parser, `--state-dir=DIR` was an unknown option for `state`.
  EXPECT_NE(b.code, cw::cli::k_exit_usage) << b.err;
}

TEST(CommandLine, HelpNamesEveryOptionAndIsTheSameEverywhere) {
  for (const auto& c : cw::cli::commands()) {
    const std::string text = cw::cli::help_text(c);
    for (const auto& v : c.verbs) {
      const auto opts = options_of(v);
      for (const auto& o : opts.options())
        EXPECT_NE(text.find("--" + o->long_name()), std::string::npos)
            << c.name << " help lacks --" << o->long_name();
      if (has_verbs(c)) {
        EXPECT_NE(text.find("cw " + label(c, v)), std::string::npos) << text;
      }
    }
    const auto by_help = cw_main({"help", c.name});
    EXPECT_EQ(by_help.code, cw::cli::k_exit_ok);
    EXPECT_EQ(by_help.out, text);
    EXPECT_EQ(cw_main({c.name, "--help"}).out, text) << c.name;
  }
}

// Runs the generated completion in bash for the words typed so far (the last is the one
// being completed) and returns what bash would offer.
std::set<std::string> complete(const std::string& script, std::vector<std::string> words) {
  TempDir dir;
  const auto file = dir.path / "cw-completion.bash";
  std::ofstream(file) << script;
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  const std::string cmd = "bash --norc --noprofile -c 'source \"" + file.string() +
                          "\"; COMP_WORDS=(" + array +
                          "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                          "; _cw; printf \"%s\\n\" \"${COMPREPLY[@]}\"'";
  // The words contain no single quotes, so the nesting above is safe.
  std::set<std::string> out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (!line.empty()) out.insert(line);
  }
  ::pclose(p);
  return out;
}

TEST(CommandLine, BashCompletionOffersCommandsVerbsOptionsAndValues) {
  const auto r = cw_main({"completion", "bash"});
  ASSERT_EQ(r.code, cw::cli::k_exit_ok) << r.err;
  const std::string& s = r.out;
  using Set = std::set<std::string>;
  EXPECT_EQ(complete(s, {"cw", "sta"}), (Set{"state", "status"}));
  EXPECT_EQ(complete(s, {"cw", "state", ""}),
            (Set{"check", "export", "reset", "restore", "show", "unblock"}));
  EXPECT_EQ(complete(s, {"cw", "state", "show", "--out"}), (Set{"--output"}));
  EXPECT_EQ(complete(s, {"cw", "state", "show", "--output", ""}), (Set{"json", "text"}));
  EXPECT_EQ(complete(s, {"cw", "run", "--feature", "w"}), (Set{"watchlist"}));
  EXPECT_EQ(complete(s, {"cw", "run", "--dry"}), (Set{"--dry-run"}));
  EXPECT_EQ(complete(s, {"cw", "help", "pen"}), (Set{"pending"}));
  // A global option's value is skipped when finding the command and verb.
  EXPECT_EQ(complete(s, {"cw", "--config", "x.yaml", "pending", "ap"}), (Set{"approve"}));
  EXPECT_EQ(complete(s, {"cw", "--log-level", "de"}), (Set{"debug"}));
  EXPECT_EQ(complete(s, {"cw", "auth", "login", "--non"}), (Set{"--non-interactive"}));
}

TEST(CommandLine, ManPageCoversEveryCommandAndOption) {
  const auto r = cw_main({"help", "--man"});
  ASSERT_EQ(r.code, cw::cli::k_exit_ok);
  const std::string& man = r.out;
  EXPECT_EQ(man.rfind(".TH CW 1", 0), 0u);
  for (const auto& c : cw::cli::commands()) {
    EXPECT_NE(man.find(".SS " + std::string(c.name) + "\n"), std::string::npos) << c.name;
    for (const auto& v : c.verbs) {
      const auto opts = options_of(v);
      for (const auto& o : opts.options()) {
        std::string escaped;
        for (char ch : o->long_name())
          escaped += ch == '-' ? std::string("\\-") : std::string(1, ch);
        EXPECT_NE(man.find(".B \\-\\-" + escaped), std::string::npos) << "--" << o->long_name();
      }
    }
  }
  for (const auto& e : cw::cli::k_exit_code_docs)
    EXPECT_NE(man.find(".B " + std::to_string(e.code) + "\n"), std::string::npos);
  // Where groff is installed, the page must render without a single warning.
  if (std::system("command -v groff >/dev/null 2>&1") == 0) {
    TempDir dir;
    const auto file = dir.path / "cw.1";
    std::ofstream(file) << man;
    const std::string cmd = "groff -man -Tutf8 -ww -z \"" + file.string() + "\" 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string warnings;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p) != nullptr) warnings += buf;
    EXPECT_EQ(::pclose(p), 0);
    EXPECT_EQ(warnings, "");
  }
}

}  // namespace
