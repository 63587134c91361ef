#pragma once
// What the status page, /api/status and `cw status` show, gathered from the state
// database: each pair's last runs with their summaries, what is held (pending deletions,
// blackboxed and unresolved items with their reasons), the providers of the last run with
// their request counts and rate budgets. One JSON document; the page and the terminal are
// renderings of it, so they cannot disagree.

#include <string>

#include <nlohmann/json.hpp>

#include <cw/state/state_store.hpp>

namespace cw::serve {

struct StatusLimits {
  int runs = 10;   // recent run reports
  int held = 200;  // blackboxed + unresolved items listed (each)
};

// {"pairs": [{pair, feature, baseline_sizes, pending, blocked, unresolved, last_run_id,
//   last_commit_at}], "runs": [{run_id, command, started_at, finished_at, status,
//   pairs: [{pair, feature, status, planned, outcomes, duration_ms, skip_reason, errors}]}],
//  "pending": [{pair, feature, side, key, title, reason, first_seen, approved, declined}],
//  "held": [{kind, pair, feature, side, key, title, reason, message, since, until}],
//  "providers": {"<instance>": {plugin, version, requests, failed_requests, budgets}}}
Result<nlohmann::json> collect_status(state::StateStore& store, const StatusLimits& limits);

// {"pair/feature": {"pending": n, "blackbox": n, "unresolved": n}} for /metrics.
Result<nlohmann::json> held_counts(state::StateStore& store);

// The page at `/`. `status` is collect_status() with the server's "server" and "schedule"
// (Scheduler::to_json) and "scrobble" blocks added; `csrf` goes into every form.
std::string render_html(const nlohmann::json& status, const std::string& csrf);

// `cw status` on a terminal.
std::string render_text(const nlohmann::json& status);

std::string html_escape(const std::string& text);

}  // namespace cw::serve
