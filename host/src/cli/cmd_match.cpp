// `cw match INSTANCE KEY`: why an item of an instance did or did not match the other side
// of each pair and feature it is in. The snapshots are read as a dry run reads them (manual
// mappings, overrides and the id resolver applied; nothing written, the state opened
// read-only), then the engine's matching is explained instead of planned (docs/usage.md).
#include <iostream>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/open_session.hpp>
#include <cw/sync/sync_runner.hpp>

namespace cw::cli {
namespace {

std::string joined(const nlohmann::json& list) {
  std::string out;
  for (const auto& v : list) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  return out;
}

void print_text(const nlohmann::json& entry, std::ostream& out) {
  out << "pair " << entry.value("pair", "") << ", " << entry.value("feature", "") << " ("
      << entry.value("source", "") << " -> " << entry.value("target", "") << ")\n";
  if (!entry.contains("match")) {
    for (const auto& e : entry["errors"]) out << "  error: " << e.get<std::string>() << "\n";
    if (entry.contains("skip_reason"))
      out << "  not read: " << entry["skip_reason"].get<std::string>() << "\n";
    return;
  }
  const auto& m = entry["match"];
  if (!m.value("found", false)) {
    out << "  " << m.value("summary", "") << "\n";
    return;
  }
  out << "  " << m.value("item", "") << " on " << m.value("instance", "") << ", key "
      << m.value("key", "") << "\n";
  out << "  tokens: " << joined(m["tokens"])
      << (m.value("has_ids", false) ? "" : " (no ids: it matches by title and year only)") << "\n";
  if (m.contains("mapping"))
    out << "  mapping (cw map): " << m["mapping"].value("key", "") << " -> "
        << m["mapping"]["ids"].dump() << "\n";
  if (m.contains("override")) out << "  override (cw override): " << m["override"].dump() << "\n";
  if (m.contains("resolver"))
    out << "  id_resolver " << m["resolver"].value("instance", "") << ": "
        << (m["resolver"]["added_tokens"].empty()
                ? std::string("added no token")
                : "added " + joined(m["resolver"]["added_tokens"]))
        << "\n";
  out << "  on " << m.value("other", "") << ": " << m.value("summary", "") << "\n";
  if (m.contains("matched"))
    out << "    matched: " << m["matched"].value("item", "") << ", key "
        << m["matched"].value("key", "") << "\n";
  if (m.contains("shared")) out << "    shared tokens: " << joined(m["shared"]) << "\n";
  if (m.contains("candidates")) out << "    candidates: " << joined(m["candidates"]) << "\n";
  if (m.contains("near"))
    for (const auto& n : m["near"])
      out << "    not " << n.value("key", "") << ": " << n.value("why", "") << "\n";
}

int run_match(const GlobalOptions& global, const Invocation& call) {
  const std::string& instance = call.operands.at(0);
  const std::string& key = call.operands.at(1);
  sync::SessionOptions so;
  so.dry_run = true;
  so.pair_filter = call.value("pair");
  auto opened = open_session(global, so, "match");
  if (const int* exit = std::get_if<int>(&opened)) return *exit;
  auto& session = *std::get<std::unique_ptr<sync::Session>>(opened);

  std::vector<config::PairConfig> pairs;
  for (const auto& pc : session.config().pairs)
    if (pc.policy.source == instance || pc.policy.target == instance) pairs.push_back(pc);
  if (pairs.empty()) {
    std::cerr << "cw match: no pair has the provider instance " << instance
              << "; `cw config validate` lists the pairs\n";
    return k_exit_usage;
  }
  sync::SyncRunner runner = session.runner();
  sync::SyncOptions opt = session.run_options();
  opt.run_id = "match";
  opt.pair_filter = call.value("pair");
  opt.feature_filter = call.value("feature");
  opt.dry_run = true;
  opt.explain = std::make_pair(instance, key);
  const sync::SyncResult result = runner.run(pairs, opt);

  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : result.report["pairs"]) entries.push_back(e);
  if (call.value("output", "text") == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : entries)
      out.push_back({{"pair", e["pair"]},
                     {"feature", e["feature"]},
                     {"match", e.value("match", nlohmann::json())},
                     {"errors", e["errors"]}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& e : entries) print_text(e, std::cout);
  }
  for (const auto& err : result.errors) std::cerr << "cw match: " << err << "\n";
  if (result.status == sync::RunStatus::cancelled) return k_exit_cancelled;
  return result.errors.empty() ? k_exit_ok : k_exit_failure;
}

void match_options(po::options_description& opts) {
  add_pair_feature_options(opts);
  add_output_option(opts);
}

}  // namespace

const Command k_match_command = {
    "match",
    "explain why an item did or did not match the other side of its pairs",
    {{"",
      "",
      {"INSTANCE KEY", 2, 2},
      &match_options,
      "KEY is the item's key on INSTANCE as plans show it, or its label as plans print it\n"
      "(`Solaris (2002)`). Both sides are read as `cw plan` reads them: manual mappings,\n"
      "overrides and the id resolver applied, nothing written. For every pair and feature\n"
      "with INSTANCE it prints the item's alias tokens, its mapping and override, the tokens\n"
      "the resolver added, and the rule that matched it (a shared id token, or title and\n"
      "year), the candidates that made it ambiguous, or the items with its title that did\n"
      "not qualify and why.\n"}},
    "Exit: 0 explained, 1 a read failed, 2 bad command line or no pair has INSTANCE,\n"
    "3 bad config, 130 cancelled.\n",
    &run_match};

}  // namespace cw::cli
