// Durations (`30d`, `12h`, `90s`) and the documentation files that describe the format.
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include <cw/config/config.hpp>
#include <cw/config/config_schema.hpp>

namespace cw::config {
namespace {

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration("30d"), 30 * 86400);
  EXPECT_EQ(parse_duration("12h"), 12 * 3600);
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("2w"), 14 * 86400);
  EXPECT_EQ(parse_duration("1h30m"), 5400);
  EXPECT_EQ(parse_duration("60"), 60);
  EXPECT_EQ(parse_duration(" 5s "), 5);
  EXPECT_EQ(parse_duration("0s"), 0);
}

TEST(Duration, Rejects) {
  for (const char* bad : {"", "d", "30 d", "30days", "1.5h", "-5s", "1h30", "5x", "h1"})
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(Duration, FormatsRoundTrip) {
  EXPECT_EQ(format_duration(30 * 86400), "30d");
  EXPECT_EQ(format_duration(14 * 86400), "14d");
  EXPECT_EQ(format_duration(86400), "1d");
  EXPECT_EQ(format_duration(5400), "1h30m");
  EXPECT_EQ(format_duration(0), "0s");
  for (std::int64_t s : {1LL, 59LL, 61LL, 3601LL, 86399LL, 2592000LL, 31536000LL})
    EXPECT_EQ(parse_duration(format_duration(s)), s);
}

std::string read(const char* path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every ```yaml block of docs/configuration.md that is not marked as an error example is a
// valid configuration.
TEST(ConfigDocs, ExamplesInTheReferenceAreValid) {
  const std::string doc = read(CW_CONFIG_DOC);
  ASSERT_FALSE(doc.empty()) << CW_CONFIG_DOC;
  static const std::regex k_block("```yaml\n([\\s\\S]*?)```");
  int checked = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), k_block);
       it != std::sregex_iterator(); ++it) {
    const std::string block = (*it)[1];
    if (block.find("# invalid") != std::string::npos) continue;
    ConfigParse p = parse_config(block, "configuration.md", "/tmp");
    for (const auto& e : p.errors) ADD_FAILURE() << e.to_string() << "\nin:\n" << block;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

// docs/cw.schema.json is what cw enforces: the binary carries the file as it is (every
// example above passed through it in parse_config), it names the top-level keys the parser
// knows, and it is written in the validator's dialect (draft-04: no `const`, `$defs` or
// numeric `exclusiveMinimum`, which rapidjson would silently ignore).
TEST(ConfigDocs, TheSchemaIsBuiltInAndDraft04) {
  const std::string text = read(CW_CONFIG_SCHEMA);
  ASSERT_FALSE(text.empty()) << CW_CONFIG_SCHEMA;
  EXPECT_EQ(text, k_config_schema_json) << "rebuild: docs/cw.schema.json changed";
  const auto schema = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(schema.is_discarded()) << "docs/cw.schema.json is not valid JSON";
  std::set<std::string> top;
  for (const auto& [k, v] : schema["properties"].items()) top.insert(k);
  EXPECT_EQ(top, (std::set<std::string>{"version", "state_dir", "providers", "pairs", "sync",
                                        "http", "id_resolver", "plugins", "scrobble"}));
  EXPECT_EQ(schema.value("additionalProperties", true), false);
  EXPECT_EQ(schema.value("$schema", ""), "http://json-schema.org/draft-04/schema#");
  std::function<void(const nlohmann::json&, const std::string&)> walk =
      [&](const nlohmann::json& node, const std::string& at) {
        if (node.is_array())
          for (std::size_t i = 0; i < node.size(); ++i) walk(node[i], at + "/" + std::to_string(i));
        if (!node.is_object()) return;
        EXPECT_FALSE(node.contains("const")) << at << ": use a one-value enum";
        EXPECT_FALSE(node.contains("$defs")) << at << ": use definitions";
        EXPECT_FALSE(node.contains("propertyNames")) << at;
        if (node.contains("exclusiveMinimum")) {
          EXPECT_TRUE(node["exclusiveMinimum"].is_boolean()) << at << ": draft-04 form";
        }
        if (node.contains("$ref")) {
          EXPECT_EQ(node["$ref"].get<std::string>().rfind("#/definitions/", 0), 0u) << at;
        }
        for (const auto& [k, v] : node.items()) walk(v, at + "/" + k);
      };
  walk(schema, "");
}

}  // namespace
}  // namespace cw::config
