#pragma once
// Process exit codes of `cw`. Documented in README.md ("Exit codes"); scripts rely on them,
// so values never change meaning.

namespace cw::cli {

enum ExitCode : int {
  k_exit_ok = 0,            // success; for `run`, everything planned was settled
  k_exit_failure = 1,       // the command failed (a provider error, a failed check)
  k_exit_usage = 2,         // bad command line
  k_exit_config = 3,        // configuration file invalid
  k_exit_partial = 4,       // run finished, but some actions were held or unresolved
  k_exit_locked = 5,        // another run holds the state directory
  k_exit_plan_drifted = 6,  // `apply --plan`: snapshots changed, or a fresh plan differs
  k_exit_cancelled = 130,   // stopped by SIGINT/SIGTERM after committing what was settled
};

// What each code means, for `cw help` and the man page.
struct ExitCodeDoc {
  int code;
  const char* meaning;
};
inline constexpr ExitCodeDoc k_exit_code_docs[] = {
    {k_exit_ok, "success; for run, everything planned was settled"},
    {k_exit_failure, "the command failed (a provider error, a failed check)"},
    {k_exit_usage, "bad command line"},
    {k_exit_config, "configuration file invalid"},
    {k_exit_partial, "run finished, but some actions were held or unresolved"},
    {k_exit_locked, "another run holds the state directory"},
    {k_exit_plan_drifted,
     "apply --plan: the snapshots changed, or planning again now differs from the saved plan; "
     "nothing was applied"},
    {k_exit_cancelled, "stopped by SIGINT or SIGTERM after committing what was settled"},
};

}  // namespace cw::cli
