// `cw run`, `cw plan` and `cw apply`: the three faces of one sync cycle (sync/sync_runner.hpp).
// This file only parses options, shows progress and the summary, writes the report and maps
// the outcome to an exit code (exit_codes.hpp).

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <unistd.h>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/sync_cycle.hpp>
#include <cw/engine/plan.hpp>
#include <cw/engine/time.hpp>
#include <cw/sync/session.hpp>
#include <cw/sync/sync_runner.hpp>

namespace po = boost::program_options;

namespace cw::cli {
namespace {

enum class Mode { run, plan, apply };

struct RunArgs {
  std::string pair;
  std::string feature;
  bool dry_run = false;
  bool approve_deletes = false;
  std::string output = "text";
  std::string report_file;
  std::string out_file;   // plan --out
  std::string plan_file;  // apply --plan
  bool allow_drift = false;
};

// One status line on the terminal, rewritten in place: phase, counts and rate.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool enabled) : m_enabled(enabled) {}
  ~ProgressDisplay() { clear(); }

  void update(const std::string& pair, const std::string& feature, const std::string& phase,
              std::size_t done, std::size_t total) {
    if (!m_enabled) return;
    const auto now = std::chrono::steady_clock::now();
    const std::string id = pair + "/" + feature + "/" + phase;
    if (id != m_phase) {
      m_phase = id;
      m_phase_start = now;
    }
    const double secs = std::chrono::duration<double>(now - m_phase_start).count();
    std::ostringstream line;
    line << pair << " " << feature << ": " << phase << " " << done << "/" << total;
    if (phase == "apply" && secs > 0.05 && done > 0)
      line << " (" << std::fixed << std::setprecision(1) << done / secs << "/s)";
    std::string text = line.str();
    if (text.size() > 78) text.resize(78);
    std::cerr << "\r" << text << std::string(m_width > text.size() ? m_width - text.size() : 0, ' ')
              << std::flush;
    m_width = text.size();
  }

  void clear() {
    if (!m_enabled || m_width == 0) return;
    std::cerr << "\r" << std::string(m_width, ' ') << "\r" << std::flush;
    m_width = 0;
  }

 private:
  bool m_enabled;
  std::string m_phase;
  std::chrono::steady_clock::time_point m_phase_start;
  std::size_t m_width = 0;
};

// Items listed per pair and list in the text summary; the rest are counted.
constexpr std::size_t k_summary_lines = 20;

void print_summary(std::ostream& out, const nlohmann::json& report) {
  out << "\n"
      << std::left << std::setw(20) << "pair" << std::setw(10) << "feature" << std::setw(10)
      << "status" << std::right << std::setw(6) << "add" << std::setw(6) << "upd" << std::setw(6)
      << "rem" << std::setw(6) << "held" << std::setw(6) << "ok" << std::setw(7) << "unres"
      << std::setw(9) << "ms"
      << "\n";
  for (const auto& e : report.value("pairs", nlohmann::json::array())) {
    const auto& p = e["planned"];
    const auto& o = e["outcomes"];
    std::string pair = e.value("pair", "");
    if (pair.size() > 19) pair = pair.substr(0, 18) + "~";
    out << std::left << std::setw(20) << pair << std::setw(10) << e.value("feature", "")
        << std::setw(10) << e.value("status", "") << std::right << std::setw(6)
        << p.value("adds", 0) << std::setw(6) << p.value("updates", 0) << std::setw(6)
        << p.value("removes", 0) << std::setw(6) << p.value("held", 0) << std::setw(6)
        << o.value("confirmed", 0) + o.value("skipped", 0) << std::setw(7)
        << o.value("unresolved", 0) + o.value("unknown", 0) + p.value("unresolved", 0)
        << std::setw(9) << e.value("duration_ms", 0) << "\n";
    if (e.contains("skip_reason"))
      out << "  skipped: " << e["skip_reason"].get<std::string>() << "\n";
    if (e.contains("not_compared")) {
      const auto& nc = e["not_compared"];
      const bool target_down = nc.value("reason", "").rfind("target", 0) == 0;
      out << "  not compared (" << nc.value("reason", "")
          << "): " << nc.value("items", std::size_t{0}) << " item(s) of "
          << e.value(target_down ? "source" : "target", "") << "; "
          << e.value(target_down ? "target" : "source", "")
          << " is down and its inventory was not read\n";
    }
    // A summary stays readable at scale: the first few of each list, then a count (the
    // whole list is in the report, --report FILE or --output json).
    std::size_t shown = 0;
    for (const auto& h : e["held"]) {
      if (++shown > k_summary_lines) break;
      out << "  held " << h.value("kind", "") << " " << h.value("item", "") << " on "
          << h.value("side", "") << ": " << h.value("reason", "")
          << (h.value("detail", "").empty() ? "" : " (" + h.value("detail", "") + ")") << "\n";
    }
    if (e["held"].size() > k_summary_lines)
      out << "  ... and " << e["held"].size() - k_summary_lines
          << " more held (the report lists them all)\n";
    shown = 0;
    for (const auto& u : e["unresolved"]) {
      if (++shown > k_summary_lines) break;
      out << "  " << u.value("status", "") << " " << u.value("kind", "") << " "
          << u.value("item", "") << " on " << u.value("side", "") << ": " << u.value("reason", "")
          << (u.value("message", "").empty() ? "" : " (" + u.value("message", "") + ")") << "\n";
    }
    if (e["unresolved"].size() > k_summary_lines)
      out << "  ... and " << e["unresolved"].size() - k_summary_lines
          << " more unresolved or unknown (the report lists them all)\n";
    if (e.contains("filtered_counts")) {
      out << "  left out by the scope:";
      bool first = true;
      for (const auto& [filter, n] : e["filtered_counts"].items()) {
        out << (first ? " " : ", ") << filter << " " << n.get<std::size_t>();
        first = false;
      }
      out << "\n";
      shown = 0;
      for (const auto& f : e["filtered"]) {
        if (++shown > k_summary_lines) break;
        out << "  left alone: " << f.value("kind", "") << " " << f.value("item", "") << " on "
            << f.value("side", "") << " (" << f.value("filter", "") << ")\n";
      }
      if (e["filtered"].size() > k_summary_lines)
        out << "  ... and " << e["filtered"].size() - k_summary_lines
            << " more left alone (the report lists them all)\n";
    }
    for (const auto& err : e["errors"]) out << "  error: " << err.get<std::string>() << "\n";
  }
  out << "status: " << report.value("status", "") << ", " << report.value("duration_ms", 0)
      << " ms\n";
}

bool write_json_file(const std::string& path, const nlohmann::json& doc, std::string& err) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) {
    err = "cannot write " + path + ": check the folder exists and is writable";
    return false;
  }
  f << doc.dump(2) << "\n";
  return static_cast<bool>(f);
}

// The plan `cw apply --plan FILE` was given, or nothing after saying on stderr why not.
std::optional<engine::Plan> read_plan_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    std::cerr << "cw apply: cannot read plan " << path << "\n";
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(f, nullptr, false);
  if (doc.is_discarded()) {
    std::cerr << "cw apply: " << path << " is not JSON; make it with `cw plan --out`\n";
    return std::nullopt;
  }
  auto p = engine::plan_from_json(doc);
  if (!p) {
    std::cerr << "cw apply: " << path << ": " << p.error().message << "\n";
    return std::nullopt;
  }
  return std::move(p).value();
}

// The exit status of a run, plan or apply: a plan with held or
// unresolved items is still a plan, so it exits 0.
int exit_code_of_run(sync::RunStatus status, Mode mode) {
  switch (status) {
    case sync::RunStatus::cancelled:
      return k_exit_cancelled;
    case sync::RunStatus::drifted:
      return k_exit_plan_drifted;
    case sync::RunStatus::failed:
      return k_exit_failure;
    case sync::RunStatus::partial:
      return mode == Mode::plan ? k_exit_ok : k_exit_partial;
    case sync::RunStatus::ok:
      return k_exit_ok;
  }
  return k_exit_failure;
}

int run_cycle(Mode mode, const GlobalOptions& global, const Invocation& call) {
  const char* name = mode == Mode::run ? "run" : mode == Mode::plan ? "plan" : "apply";
  RunArgs a;
  a.pair = call.value("pair");
  a.feature = call.value("feature");
  a.output = call.value("output", "text");
  a.report_file = call.value("report");
  a.dry_run = call.flag("dry-run");
  a.approve_deletes = call.flag("approve-deletes");
  a.out_file = call.value("out");
  a.plan_file = call.value("plan");
  a.allow_drift = call.flag("allow-drift");
  if (mode == Mode::apply && a.plan_file.empty()) {
    std::cerr << "cw apply: --plan FILE is required (make one with `cw plan --out FILE`)\n";
    return k_exit_usage;
  }

  std::optional<engine::Plan> plan;
  if (mode == Mode::apply) {
    plan = read_plan_file(a.plan_file);
    if (!plan) return k_exit_failure;
  }

  sync::SessionOptions so;
  so.dry_run = mode == Mode::plan || a.dry_run;
  so.pair_filter = a.pair;
  CycleRequest req;
  req.command = name;
  req.pair = a.pair;
  req.feature = a.feature;
  req.dry_run = so.dry_run;
  req.approve_deletes = a.approve_deletes;
  req.plan = std::move(plan);
  req.allow_drift = a.allow_drift;

  ProgressDisplay progress(!global.quiet && ::isatty(STDERR_FILENO) == 1);
  sync::RunObserver obs;
  obs.on_phase = [&progress](const std::string& pair, const std::string& feature,
                             const std::string& phase, std::size_t done, std::size_t total) {
    progress.update(pair, feature, phase, done, total);
  };
  CycleOutcome cycle = run_sync_cycle(with_globals(global, so), std::move(req), obs);
  progress.clear();
  if (cycle.session_error) {
    std::cerr << "cw " << name << ": " << cycle.session_error->message << "\n";
    return exit_code_for(*cycle.session_error);
  }
  const bool dry = cycle.dry;
  sync::SyncResult& result = cycle.result;
  nlohmann::json& report = result.report;
  std::string err;
  if (!a.report_file.empty() && !write_json_file(a.report_file, report, err)) {
    std::cerr << "cw " << name << ": --report: " << err << "\n";
  }
  if (!a.out_file.empty() && !write_json_file(a.out_file, engine::to_json(result.plan), err)) {
    std::cerr << "cw plan: --out: " << err << "\n";
    return k_exit_failure;
  }

  if (a.output == "json") {
    if (mode == Mode::plan)
      std::cout << engine::to_json(result.plan).dump(2) << "\n";
    else
      std::cout << nlohmann::json{{"plan", engine::to_json(result.plan)}, {"report", report}}.dump(
                       2)
                << "\n";
  } else {
    if (dry && !result.plan.features.empty()) std::cout << engine::render_text(result.plan);
    print_summary(std::cout, report);
  }
  for (const auto& e : result.errors) std::cerr << "cw " << name << ": " << e << "\n";

  return exit_code_of_run(result.status, mode);
}

int run_run(const GlobalOptions& g, const Invocation& c) { return run_cycle(Mode::run, g, c); }
int run_plan(const GlobalOptions& g, const Invocation& c) { return run_cycle(Mode::plan, g, c); }
int run_apply(const GlobalOptions& g, const Invocation& c) { return run_cycle(Mode::apply, g, c); }

void common_options(po::options_description& opts) {
  add_pair_feature_options(opts);
  add_output_option(opts);
  opts.add_options()("report", po::value<std::string>()->value_name("FILE"),
                     "also write the run report (JSON) to FILE");
}

void run_options(po::options_description& opts) {
  common_options(opts);
  // clang-format off
  opts.add_options()
      ("dry-run", po::bool_switch(), "plan and print; no provider write, state left byte-identical")
      ("approve-deletes", po::bool_switch(), "apply the removals that guards hold in this run's plan");
  // clang-format on
}

void plan_options(po::options_description& opts) {
  common_options(opts);
  opts.add_options()("out", po::value<std::string>()->value_name("FILE"),
                     "save the plan as JSON for `cw apply --plan FILE`");
}

void apply_options(po::options_description& opts) {
  common_options(opts);
  // clang-format off
  opts.add_options()
      ("plan", po::value<std::string>()->value_name("FILE"), "the plan to apply (required)")
      ("approve-deletes", po::bool_switch(), "also apply the removals the plan holds (mass delete, drop guard)")
      ("allow-drift", po::bool_switch(), "when planning again now differs from the saved plan, apply what both contain instead of refusing");
  // clang-format on
}

}  // namespace

const Command k_run_command = {
    "run",
    "sync every enabled pair: snapshot, plan, apply, commit",
    {{"",
      "",
      {},
      &run_options,
      "Runs snapshot -> plan -> apply -> commit for each enabled pair and feature.\n"
      "--output json prints {\"plan\":..,\"report\":..} instead of the summary table.\n"}},
    "Exit: 0 settled, 1 failed, 3 bad config, 4 held/unresolved, 5 locked, 130 cancelled.\n",
    &run_run};

const Command k_plan_command = {
    "plan",
    "show what a run would do (a dry run), optionally save the plan",
    {{"",
      "",
      {},
      &plan_options,
      "Plans every enabled pair and feature and prints the adds, updates, removes and held\n"
      "actions with their reasons. Writes nothing to providers or state.\n"
      "--output json prints the plan document (the same JSON as --out).\n"}},
    "Exit: 0 planned, 1 failed, 3 bad config, 5 locked, 130 cancelled.\n",
    &run_plan};

const Command k_apply_command = {
    "apply",
    "apply a saved plan exactly, refusing if the snapshots changed",
    {{"",
      "",
      {},
      &apply_options,
      "Re-reads every snapshot the plan was made from and plans again with the current\n"
      "configuration, state and guards: the saved plan is what you approved, not an\n"
      "instruction. If a snapshot changed, or the fresh plan differs from the saved one (the\n"
      "configuration changed, a guard holds something now, the file was edited), nothing is\n"
      "applied, every difference is listed and the exit code is 6; with --allow-drift the\n"
      "actions both plans contain are applied and the differences are reported.\n"}},
    "Exit: 0 settled, 1 failed, 2 no --plan, 3 bad config, 4 held/unresolved, 5 locked,\n"
    "6 the snapshots changed or the plan differs from a fresh one, 130 cancelled.\n",
    &run_apply};

}  // namespace cw::cli
