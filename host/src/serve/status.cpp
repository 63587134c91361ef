#include <sstream>

#include <cw/engine/time.hpp>
#include <cw/serve/status.hpp>
#include <cw/util/json.hpp>

namespace cw::serve {
namespace {

using json = nlohmann::json;

std::string title_of(const json& item) {
  if (!item.is_object()) return "";
  std::string t = item.value("title", "");
  if (item.contains("show") && item["show"].is_object()) {
    const std::string show = item["show"].value("title", "");
    if (!show.empty() && item.contains("season"))
      t = show + " S" + std::to_string(item.value("season", 0)) +
          (item.contains("episode") ? "E" + std::to_string(item.value("episode", 0)) : "") +
          (t.empty() ? "" : " " + t);
  }
  if (item.contains("year") && item["year"].is_number_integer())
    t += " (" + std::to_string(item["year"].get<int>()) + ")";
  return t;
}

std::string when(const json& t) {
  if (!t.is_number_integer() || t.get<std::int64_t>() <= 0) return "-";
  return engine::format_time(t.get<std::int64_t>());
}

json run_summary(const state::RunReport& r) {
  json pairs = json::array();
  for (const auto& e : r.report.value("pairs", json::array())) {
    json p = {{"pair", e.value("pair", "")},
              {"feature", e.value("feature", "")},
              {"status", e.value("status", "")},
              {"planned", e.value("planned", json::object())},
              {"outcomes", e.value("outcomes", json::object())},
              {"duration_ms", e.value("duration_ms", 0)},
              {"errors", e.value("errors", json::array())}};
    if (e.contains("skip_reason")) p["skip_reason"] = e["skip_reason"];
    pairs.push_back(std::move(p));
  }
  return {{"run_id", r.run_id},         {"command", r.report.value("command", "run")},
          {"started_at", r.started_at}, {"finished_at", r.finished_at},
          {"status", r.status},         {"pairs", pairs}};
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<nlohmann::json> collect_status(state::StateStore& store, const StatusLimits& limits) {
  json out = json::object();
  auto summaries = store.summaries();
  if (!summaries) return summaries.error();
  out["pairs"] = json::array();
  for (const auto& s : *summaries)
    out["pairs"].push_back({{"pair", s.pair},
                            {"feature", s.feature},
                            {"baseline_sizes", s.baseline_sizes},
                            {"pending", s.pending},
                            {"blocked", s.blocked},
                            {"unresolved", s.unresolved},
                            {"last_run_id", s.last_run_id},
                            {"last_commit_at", s.last_commit_at}});
  auto reports = store.recent_reports(limits.runs);
  if (!reports) return reports.error();
  out["runs"] = json::array();
  for (const auto& r : *reports) out["runs"].push_back(run_summary(r));
  // The providers as the most recent run saw them: what they were asked and what is left
  // of their rate budgets.
  out["providers"] = json::object();
  if (!reports->empty()) {
    const json& last = reports->front().report;
    for (const auto& [inst, info] : util::object_member(last, "providers").items()) {
      std::int64_t requests = 0, failed = 0;
      for (const auto& row : info.value("http", json::array())) {
        const auto n = row.value("count", std::int64_t{0});
        requests += n;
        const std::string outcome = row.value("outcome", "");
        if (outcome.empty() || outcome[0] != '2') failed += n;
      }
      json p = {{"plugin", info.value("plugin", "")},
                {"version", info.value("version", "")},
                {"requests", requests},
                {"failed_requests", failed},
                {"run_id", reports->front().run_id}};
      if (last.contains("http_budgets") && last["http_budgets"].contains(inst))
        p["budgets"] = last["http_budgets"][inst];
      out["providers"][inst] = std::move(p);
    }
  }
  auto pending = store.pending("", "");
  if (!pending) return pending.error();
  out["pending"] = json::array();
  for (const auto& [scope, p] : *pending) {
    const auto slash = scope.find('/');
    out["pending"].push_back({{"pair", scope.substr(0, slash)},
                              {"feature", scope.substr(slash + 1)},
                              {"side", p.side},
                              {"key", p.key},
                              {"title", title_of(p.item)},
                              {"reason", p.reason},
                              {"first_seen", p.first_seen},
                              {"approved", p.approved},
                              {"declined", p.declined}});
  }
  auto held = store.held_items(limits.held);
  if (!held) return held.error();
  out["held"] = json::array();
  for (const auto& h : *held)
    out["held"].push_back({{"kind", h.kind},
                           {"pair", h.pair},
                           {"feature", h.feature},
                           {"side", h.side},
                           {"key", h.key},
                           {"title", title_of(h.item)},
                           {"reason", h.reason},
                           {"message", h.message},
                           {"since", h.since},
                           {"until", h.until}});
  return out;
}

Result<nlohmann::json> held_counts(state::StateStore& store) {
  auto summaries = store.summaries();
  if (!summaries) return summaries.error();
  json out = json::object();
  for (const auto& s : *summaries)
    out[s.pair + "/" + s.feature] = {
        {"pending", s.pending}, {"blackbox", s.blocked}, {"unresolved", s.unresolved}};
  return out;
}

namespace {

const char* k_style = R"css(
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header span{color:#aab}
main{padding:8px 24px 32px;max-width:1200px}
section{background:#fff;border:1px solid #dde;border-radius:6px;margin:16px 0;padding:8px 16px}
h2{font-size:15px;margin:8px 0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef;vertical-align:top}
th{font-weight:600;color:#556}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17692b}.partial{color:#9a6700}.failed,.cancelled,.locked{color:#b42318}
.muted{color:#778}
form{display:inline}
button{font:inherit;padding:2px 10px;border-radius:4px;border:1px solid #99a;background:#fff;cursor:pointer}
button.approve{border-color:#17692b;color:#17692b}button.decline{border-color:#b42318;color:#b42318}
.note{background:#fff8e1;border:1px solid #f0d890;padding:6px 10px;border-radius:4px}
)css";

std::string status_class(const std::string& s) {
  return "<span class=\"" + html_escape(s) + "\">" + html_escape(s) + "</span>";
}

std::string num(const json& j, const char* key) {
  return std::to_string(j.value(key, std::int64_t{0}));
}

std::string hidden(const std::string& name, const std::string& value) {
  return "<input type=\"hidden\" name=\"" + name + "\" value=\"" + html_escape(value) + "\">";
}

}  // namespace

std::string render_html(const nlohmann::json& status, const std::string& csrf) {
  std::ostringstream o;
  const json server = status.value("server", json::object());
  o << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    << "<title>cw status</title><style>" << k_style << "</style></head><body>"
    << "<header><h1>cw</h1><span>" << html_escape(server.value("config", "")) << "</span><span>"
    << html_escape(server.value("version", "")) << "</span><span>now "
    << when(server.value("now", json())) << "</span></header><main>";
  if (status.contains("message"))
    o << "<p class=\"note\" id=\"message\">" << html_escape(status["message"].get<std::string>())
      << "</p>";
  if (status.contains("state_error"))
    o << "<p class=\"note\">" << html_escape(status["state_error"].get<std::string>()) << "</p>";

  // Pairs: schedule, last commit, what is held.
  o << "<section id=\"pairs\"><h2>Pairs</h2><table><tr><th>pair</th><th>schedule</th>"
       "<th>next run</th><th>last result</th><th></th></tr>";
  const json schedule = status.value("schedule", json::object());
  for (const auto& [pair, s] : schedule.items()) {
    o << "<tr><td>" << html_escape(pair) << "</td><td>"
      << (s["schedule"].is_string() ? html_escape(s["schedule"].get<std::string>())
                                    : std::string("<span class=\"muted\">on request</span>"))
      << "</td><td>" << when(s.value("next_run", json())) << "</td><td>"
      << (s.contains("last_result") ? status_class(s["last_result"].get<std::string>()) : "-");
    if (s.value("consecutive_failures", 0) > 0)
      o << " <span class=\"muted\">(" << s.value("consecutive_failures", 0)
        << " failed in a row, backing off)</span>";
    o << "</td><td><form method=\"post\" action=\"/run\">" << hidden("csrf", csrf)
      << hidden("pair", pair) << "<button type=\"submit\">run now</button></form></td></tr>";
  }
  o << "</table>";
  o << "<table><tr><th>pair / feature</th><th>last commit</th><th class=\"n\">items</th>"
       "<th class=\"n\">pending</th><th class=\"n\">blackbox</th><th class=\"n\">unresolved"
       "</th></tr>";
  for (const auto& p : status.value("pairs", json::array())) {
    std::string sizes;
    for (const auto& [side, n] : util::object_member(p, "baseline_sizes").items())
      sizes += (sizes.empty() ? "" : ", ") + html_escape(side) + " " +
               std::to_string(n.get<std::int64_t>());
    o << "<tr><td>" << html_escape(p.value("pair", "")) << " / "
      << html_escape(p.value("feature", "")) << "</td><td>"
      << when(p.value("last_commit_at", json())) << "</td><td class=\"n\">" << sizes
      << "</td><td class=\"n\">" << num(p, "pending") << "</td><td class=\"n\">"
      << num(p, "blocked") << "</td><td class=\"n\">" << num(p, "unresolved") << "</td></tr>";
  }
  o << "</table></section>";

  // Pending deletions with their buttons.
  const json pending = status.value("pending", json::array());
  o << "<section id=\"pending\"><h2>Pending deletions (" << pending.size() << ")</h2>";
  if (pending.empty()) {
    o << "<p class=\"muted\">Nothing held.</p>";
  } else {
    o << "<table><tr><th>pair / feature</th><th>remove from</th><th>item</th><th>reason</th>"
         "<th>first seen</th><th>status</th><th></th></tr>";
    for (const auto& p : pending) {
      const std::string state = p.value("declined", false)   ? "declined"
                                : p.value("approved", false) ? "approved"
                                                             : "held";
      o << "<tr data-key=\"" << html_escape(p.value("key", "")) << "\"><td>"
        << html_escape(p.value("pair", "")) << " / " << html_escape(p.value("feature", ""))
        << "</td><td>" << html_escape(p.value("side", "")) << "</td><td>"
        << html_escape(p.value("title", "").empty() ? p.value("key", "") : p.value("title", ""))
        << "</td><td>" << html_escape(p.value("reason", "")) << "</td><td>"
        << when(p.value("first_seen", json())) << "</td><td class=\"pending-state\">" << state
        << "</td><td>";
      if (state == "held") {
        for (const char* action : {"approve", "decline"}) {
          o << "<form method=\"post\" action=\"/pending/" << action << "\">" << hidden("csrf", csrf)
            << hidden("pair", p.value("pair", "")) << hidden("feature", p.value("feature", ""))
            << hidden("key", p.value("key", "")) << "<button type=\"submit\" class=\"" << action
            << "\">" << action << "</button></form> ";
        }
      }
      o << "</td></tr>";
    }
    o << "</table><p class=\"muted\">Approved deletions are applied by the next run if they "
         "are still true; declined ones keep the item and are not proposed again.</p>";
  }
  o << "</section>";

  // Blackboxed and unresolved items.
  const json held = status.value("held", json::array());
  o << "<section id=\"held\"><h2>Blackboxed and unresolved (" << held.size() << ")</h2>";
  if (held.empty()) {
    o << "<p class=\"muted\">Nothing held.</p>";
  } else {
    o << "<table><tr><th>kind</th><th>pair / feature</th><th>side</th><th>item</th>"
         "<th>reason</th><th>since</th></tr>";
    for (const auto& h : held) {
      std::string reason = h.value("reason", "");
      if (!h.value("message", "").empty()) reason += ": " + h.value("message", "");
      o << "<tr><td>" << html_escape(h.value("kind", "")) << "</td><td>"
        << html_escape(h.value("pair", "")) << " / " << html_escape(h.value("feature", ""))
        << "</td><td>" << html_escape(h.value("side", "")) << "</td><td>"
        << html_escape(h.value("title", "").empty() ? h.value("key", "") : h.value("title", ""))
        << "</td><td>" << html_escape(reason) << "</td><td>" << when(h.value("since", json()))
        << "</td></tr>";
    }
    o << "</table>";
  }
  o << "</section>";

  // Providers as the last run saw them.
  o << "<section id=\"providers\"><h2>Providers</h2><table><tr><th>instance</th><th>plugin</th>"
       "<th class=\"n\">requests</th><th class=\"n\">failed</th><th>rate budget left</th></tr>";
  for (const auto& [inst, p] : util::object_member(status, "providers").items()) {
    std::string budget;
    if (p.contains("budgets")) {
      for (const auto& b : p["budgets"].value("buckets", json::array()))
        budget += (budget.empty() ? "" : ", ") + html_escape(b.value("name", "")) + " " +
                  std::to_string(static_cast<long long>(b.value("available", 0.0))) + "/" +
                  std::to_string(b.value("requests", 0));
      if (p["budgets"].contains("max_requests_per_run"))
        budget += (budget.empty() ? "" : ", ") + std::string("run quota ") +
                  std::to_string(p["budgets"].value("max_requests_per_run", 0));
    }
    o << "<tr><td>" << html_escape(inst) << "</td><td>" << html_escape(p.value("plugin", "")) << " "
      << html_escape(p.value("version", "")) << "</td><td class=\"n\">" << num(p, "requests")
      << "</td><td class=\"n\">" << num(p, "failed_requests") << "</td><td>"
      << (budget.empty() ? "-" : budget) << "</td></tr>";
  }
  o << "</table></section>";

  // Scrobbling.
  if (status.contains("scrobble") && status["scrobble"].is_object()) {
    const json& sc = status["scrobble"];
    const json stats = sc.value("stats", json::object());
    o << "<section id=\"scrobble\"><h2>Scrobbling</h2><p>queued: "
      << std::to_string(stats.value("queued", std::int64_t{0})) << "</p><table><tr><th>source"
      << "</th><th class=\"n\">received</th><th class=\"n\">refused</th></tr>";
    for (const auto& [src, s] : util::object_member(stats, "sources").items())
      o << "<tr><td>" << html_escape(src) << "</td><td class=\"n\">" << num(s, "received")
        << "</td><td class=\"n\">" << num(s, "refused") << "</td></tr>";
    o << "</table><table><tr><th>tracker</th><th class=\"n\">delivered</th><th class=\"n\">"
         "failed</th></tr>";
    for (const auto& [sink, s] : util::object_member(stats, "sinks").items())
      o << "<tr><td>" << html_escape(sink) << "</td><td class=\"n\">" << num(s, "delivered")
        << "</td><td class=\"n\">" << num(s, "failed") << "</td></tr>";
    o << "</table><h2>Recent events</h2><table><tr><th>event</th></tr>";
    for (const auto& e : sc.value("recent", json::array()))
      o << "<tr><td>" << html_escape(e.is_string() ? e.get<std::string>() : e.dump())
        << "</td></tr>";
    o << "</table></section>";
  }

  // Recent runs.
  o << "<section id=\"runs\"><h2>Recent runs</h2><table><tr><th>run</th><th>finished</th>"
       "<th>pair / feature</th><th>status</th><th class=\"n\">add</th><th class=\"n\">upd</th>"
       "<th class=\"n\">rem</th><th class=\"n\">held</th><th class=\"n\">ok</th><th class=\"n\">"
       "ms</th></tr>";
  for (const auto& r : status.value("runs", json::array())) {
    const json pairs = r.value("pairs", json::array());
    if (pairs.empty())
      o << "<tr><td>" << html_escape(r.value("run_id", "")) << "</td><td>"
        << when(r.value("finished_at", json())) << "</td><td></td><td>"
        << status_class(r.value("status", "")) << "</td><td colspan=\"6\"></td></tr>";
    for (const auto& e : pairs) {
      const json planned = e.value("planned", json::object());
      const json outcomes = e.value("outcomes", json::object());
      o << "<tr><td>" << html_escape(r.value("run_id", "")) << "</td><td>"
        << when(r.value("finished_at", json())) << "</td><td>" << html_escape(e.value("pair", ""))
        << " / " << html_escape(e.value("feature", "")) << "</td><td>"
        << status_class(e.value("status", ""));
      if (e.contains("skip_reason"))
        o << " <span class=\"muted\">" << html_escape(e["skip_reason"].get<std::string>())
          << "</span>";
      for (const auto& err : e.value("errors", json::array()))
        o << "<br><span class=\"failed\">"
          << html_escape(err.is_string() ? err.get<std::string>() : err.dump()) << "</span>";
      o << "</td><td class=\"n\">" << num(planned, "adds") << "</td><td class=\"n\">"
        << num(planned, "updates") << "</td><td class=\"n\">" << num(planned, "removes")
        << "</td><td class=\"n\">" << num(planned, "held") << "</td><td class=\"n\">"
        << outcomes.value("confirmed", 0) + outcomes.value("skipped", 0) << "</td><td class=\"n\">"
        << num(e, "duration_ms") << "</td></tr>";
    }
  }
  o << "</table></section>";
  o << "<p class=\"muted\">JSON: <a href=\"/api/status\">/api/status</a> · metrics: "
       "<a href=\"/metrics\">/metrics</a></p></main></body></html>\n";
  return o.str();
}

std::string render_text(const nlohmann::json& status) {
  std::ostringstream o;
  if (status.contains("schedule")) {
    o << "schedule:\n";
    for (const auto& [pair, s] : status["schedule"].items()) {
      o << "  " << pair << ": "
        << (s["schedule"].is_string() ? s["schedule"].get<std::string>() : "on request");
      if (s.contains("next_run") && !s["next_run"].is_null()) o << ", next " << when(s["next_run"]);
      o << "\n";
    }
  }
  o << "pairs:\n";
  const json pairs = status.value("pairs", json::array());
  if (pairs.empty()) o << "  (no pair has run yet)\n";
  for (const auto& p : pairs) {
    o << "  " << p.value("pair", "") << "/" << p.value("feature", "") << ": last commit "
      << when(p.value("last_commit_at", json()));
    for (const auto& [side, n] : util::object_member(p, "baseline_sizes").items())
      o << ", " << side << " " << n.get<std::int64_t>();
    o << "; pending " << num(p, "pending") << ", blackbox " << num(p, "blocked") << ", unresolved "
      << num(p, "unresolved") << "\n";
  }
  o << "recent runs:\n";
  const json runs = status.value("runs", json::array());
  if (runs.empty()) o << "  (none)\n";
  for (const auto& r : runs) {
    o << "  " << r.value("run_id", "") << " " << r.value("command", "") << " "
      << r.value("status", "") << ", finished " << when(r.value("finished_at", json())) << "\n";
    for (const auto& e : r.value("pairs", json::array())) {
      const json pl = e.value("planned", json::object());
      o << "    " << e.value("pair", "") << "/" << e.value("feature", "") << " "
        << e.value("status", "") << ": add " << num(pl, "adds") << ", update " << num(pl, "updates")
        << ", remove " << num(pl, "removes") << ", held " << num(pl, "held") << "\n";
    }
  }
  const json pending = status.value("pending", json::array());
  o << "pending deletions: " << pending.size() << "\n";
  for (const auto& p : pending)
    o << "  " << p.value("pair", "") << "/" << p.value("feature", "") << " remove "
      << (p.value("title", "").empty() ? p.value("key", "") : p.value("title", "")) << " from "
      << p.value("side", "") << " (" << p.value("reason", "") << ", "
      << (p.value("declined", false)   ? "declined"
          : p.value("approved", false) ? "approved"
                                       : "held")
      << ") key " << p.value("key", "") << "\n";
  const json held = status.value("held", json::array());
  o << "blackboxed and unresolved: " << held.size() << "\n";
  for (const auto& h : held)
    o << "  " << h.value("kind", "") << " " << h.value("pair", "") << "/" << h.value("feature", "")
      << " " << (h.value("title", "").empty() ? h.value("key", "") : h.value("title", "")) << " on "
      << h.value("side", "") << ": " << h.value("reason", "")
      << (h.value("message", "").empty() ? "" : " (" + h.value("message", "") + ")") << "\n";
  const json providers = status.value("providers", json::object());
  if (!providers.empty()) {
    o << "providers (last run):\n";
    for (const auto& [inst, p] : providers.items())
      o << "  " << inst << ": " << p.value("plugin", "") << " " << p.value("version", "") << ", "
        << num(p, "requests") << " requests, " << num(p, "failed_requests") << " failed\n";
  }
  return o.str();
}

}  // namespace cw::serve
