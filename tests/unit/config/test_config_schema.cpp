// cw.yaml is held to docs/cw.schema.json (compiled in) by the validator that checks plugin
// manifests and replies: each value that breaks the schema is one line with its position and
// JSON pointer, `cw config validate` and `cw run` exit 3, and nothing reaches the state.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cw/cli/exit_codes.hpp>
#include <cw/config/config.hpp>
#include <cw/config/config_schema.hpp>
#include <cw/util/json_schema.hpp>

#include "../cli/cli_test_support.hpp"
#include "config_errors.hpp"

namespace cw::config {
namespace {

using test::errors_of;
using test::only_error;

const char* const k_head =
    "providers:\n"
    "  plex: { plugin: plex }\n"
    "  trakt: { plugin: trakt }\n"
    "pairs:\n"
    "  - source: plex\n"
    "    target: trakt\n";

// The four kinds of violation, each as cw.yaml and as the line it gets.
struct Case {
  std::string yaml;
  std::string line;
};
const Case k_cases[] = {
    // a wrong type
    {std::string(k_head) + "    enabled: sometimes\n    features: { watchlist: true }\n",
     "cw.yaml:7:14: pairs[0].enabled: expected true or false, got \"sometimes\" "
     "(at /pairs/0/enabled)"},
    // an unknown key
    {std::string(k_head) + "    features: { watchlist: true }\n    shedule: 6h\n",
     "cw.yaml:8:5: pairs[0].shedule: unknown key (did you mean \"schedule\"?); expected one of "
     "name, source, target, mode, enabled, features, source_of_truth, sync, schedule "
     "(at /pairs/0/shedule)"},
    // a number out of range
    {std::string(k_head) +
         "    features: { watchlist: true }\nsync:\n  blackbox: { failures: 0 }\n",
     "cw.yaml:9:25: sync.blackbox.failures: expected a whole number from 1 to 1000, got 0 "
     "(at /sync/blackbox/failures)"},
    // a value outside an enum
    {std::string(k_head) + "    features: { ratings: { removal: delete } }\n",
     "cw.yaml:7:37: pairs[0].features.ratings.removal: expected one of source_deletes, mirror, "
     "got \"delete\" (at /pairs/0/features/ratings/removal)"},
};

nlohmann::json as_json(const std::string& yaml) {
  // The same documents as JSON, to show that the schema alone refuses them.
  static const nlohmann::json k_base = {
      {"providers", {{"plex", {{"plugin", "plex"}}}, {"trakt", {{"plugin", "trakt"}}}}},
      {"pairs", {{{"source", "plex"}, {"target", "trakt"}, {"features", {{"watchlist", true}}}}}}};
  nlohmann::json doc = k_base;
  if (yaml == "type") doc["pairs"][0]["enabled"] = "sometimes";
  if (yaml == "key") doc["pairs"][0]["shedule"] = "6h";
  if (yaml == "range") doc["sync"] = {{"blackbox", {{"failures", 0}}}};
  if (yaml == "enum") doc["pairs"][0]["features"] = {{"ratings", {{"removal", "delete"}}}};
  return doc;
}

TEST(ConfigSchema, TheBuiltInSchemaRefusesEachKindOfViolationByItself) {
  const auto check = [](const nlohmann::json& doc) {
    auto found = util::find_schema_violation(k_config_schema_json, doc.dump());
    EXPECT_TRUE(found) << (found ? "" : found.error().message);
    return found && *found ? **found : util::SchemaViolation{};
  };
  EXPECT_EQ(check(as_json("")).keyword, "");  // the base document is valid
  auto v = check(as_json("type"));
  EXPECT_EQ(v.keyword, "type");
  EXPECT_EQ(v.pointer, "/pairs/0/enabled");
  EXPECT_EQ(v.detail, "expected boolean, got a string");
  v = check(as_json("key"));
  EXPECT_EQ(v.keyword, "additionalProperties");
  EXPECT_EQ(v.pointer, "/pairs/0/shedule");
  v = check(as_json("range"));
  EXPECT_EQ(v.keyword, "minimum");
  EXPECT_EQ(v.pointer, "/sync/blackbox/failures");
  // Inside `true or a mapping` (oneOf), the mapping's own rule is named.
  v = check(as_json("enum"));
  EXPECT_EQ(v.keyword, "enum");
  EXPECT_EQ(v.pointer, "/pairs/0/features/ratings/removal");
  EXPECT_EQ(v.detail, "value \"delete\" is not one of source_deletes, mirror");
  // Draft-04 forms of what later drafts write as const and a numeric exclusiveMinimum.
  nlohmann::json doc = as_json("");
  doc["version"] = 2;
  EXPECT_EQ(check(doc).detail, "value 2 is not 1");
  doc = as_json("");
  doc["providers"]["trakt"]["http"] = {
      {"rate_limits", {{{"name", "read"}, {"requests", 0}, {"per_seconds", 1}}}}};
  v = check(doc);
  EXPECT_EQ(v.pointer, "/providers/trakt/http/rate_limits/0/requests");
  EXPECT_EQ(v.detail, "value 0 is out of range (exclusive minimum 0)");
}

TEST(ConfigSchema, EachViolationIsOneLineWithPositionAndPointer) {
  for (const auto& c : k_cases) {
    const auto errors = errors_of(c.yaml);
    ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors) << "\n" << c.yaml;
    EXPECT_EQ(errors[0], c.line);
  }
}

TEST(ConfigSchema, EveryViolationInAFileGetsItsLine) {
  // rapidjson reports one violation at a time; the others are found after it.
  const auto errors =
      errors_of(std::string(k_head) +
                "    mode: both\n"
                "    features: { history: { types: [movies, anime, shows, film] } }\n"
                "plugins: { restarts: 1000, isolation: some }\n");
  ASSERT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  static const std::regex k_line(R"(cw\.yaml:\d+:\d+: .* \(at /[^ ]*\))");
  for (const auto& e : errors) EXPECT_TRUE(std::regex_match(e, k_line)) << e;
  EXPECT_NE(errors[0].find("(at /pairs/0/mode)"), std::string::npos) << errors[0];
  // List entries keep the index they have in the file.
  EXPECT_NE(errors[1].find("(at /pairs/0/features/history/types/1)"), std::string::npos);
  EXPECT_NE(errors[2].find("(at /pairs/0/features/history/types/3)"), std::string::npos);
  EXPECT_NE(errors[3].find("(at /plugins/restarts)"), std::string::npos);
  EXPECT_NE(errors[4].find("(at /plugins/isolation)"), std::string::npos);
}

TEST(ConfigSchema, ValidateAndRunExit3AndWriteNoState) {
  cw::test::TempDir dir;
  for (const auto& c : k_cases) {
    const auto config = dir.path / "cw.yaml";
    const auto state = dir.path / "state";
    std::ofstream(config) << "state_dir: " << state.string() << "\n" << c.yaml;
    auto r = cw::test::cw_main(
        {"--log-level", "off", "--config", config.string(), "config", "validate", "--no-plugins"});
    EXPECT_EQ(r.code, cw::cli::k_exit_config) << r.err;
    const std::string where = config.string() + ":";
    // One line for the violation (one line further down: state_dir comes first), then the
    // count.
    std::string expected = c.line.substr(std::string("cw.yaml:").size());
    const auto colon = expected.find(':');
    expected =
        where + std::to_string(std::stoi(expected.substr(0, colon)) + 1) + expected.substr(colon);
    EXPECT_EQ(r.err, expected + "\n1 error in " + config.string() + "\n");
    r = cw::test::cw_main({"--log-level", "off", "--config", config.string(), "run"});
    EXPECT_EQ(r.code, cw::cli::k_exit_config) << r.err;
    EXPECT_FALSE(std::filesystem::exists(state)) << c.yaml;
  }
}

}  // namespace
}  // namespace cw::config
