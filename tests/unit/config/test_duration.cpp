// Durations (`30d`, `12h`, `90s`) and the documentation files that describe the format.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include <cw/config/config.hpp>

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

// docs/cw.schema.json describes the same keys the parser accepts: every key of the full
// example is in the schema (additionalProperties: false), and the schema parses.
void check_against_schema(const nlohmann::json& value, const nlohmann::json& schema,
                          const nlohmann::json& root, const std::string& path) {
  const nlohmann::json* s = &schema;
  if (s->contains("$ref")) {
    const std::string ref = (*s)["$ref"];
    ASSERT_EQ(ref.rfind("#/$defs/", 0), 0u) << ref;
    s = &root["$defs"][ref.substr(8)];
  }
  if (s->contains("oneOf") || s->contains("anyOf")) {
    const auto& alts = s->contains("oneOf") ? (*s)["oneOf"] : (*s)["anyOf"];
    for (const auto& alt : alts) {
      const nlohmann::json* a = &alt;
      if (a->contains("$ref")) a = &root["$defs"][(*a)["$ref"].get<std::string>().substr(8)];
      if (a->value("type", "") == "object" && value.is_object()) {
        check_against_schema(value, *a, root, path);
        return;
      }
    }
    return;
  }
  if (!value.is_object() || s->value("type", "") != "object") return;
  const auto props = s->value("properties", nlohmann::json::object());
  for (const auto& [k, v] : value.items()) {
    if (props.contains(k)) {
      check_against_schema(v, props[k], root, path + "." + k);
    } else if (s->contains("additionalProperties") && (*s)["additionalProperties"].is_object()) {
      check_against_schema(v, (*s)["additionalProperties"], root, path + "." + k);
    } else {
      EXPECT_NE(s->value("additionalProperties", true), false)
          << path << "." << k << " is not in docs/cw.schema.json";
    }
  }
  for (const auto& [k, v] : value.items())
    if (v.is_array() && props.contains(k) && props[k].contains("items"))
      for (const auto& el : v)
        check_against_schema(el, props[k]["items"], root, path + "." + k + "[]");
}

nlohmann::json yaml_block_as_json(const std::string& block);

TEST(ConfigDocs, SchemaKnowsEveryDocumentedKey) {
  const std::string text = read(CW_CONFIG_SCHEMA);
  ASSERT_FALSE(text.empty()) << CW_CONFIG_SCHEMA;
  const auto schema = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(schema.is_discarded()) << "docs/cw.schema.json is not valid JSON";
  std::set<std::string> top;
  for (const auto& [k, v] : schema["properties"].items()) top.insert(k);
  EXPECT_EQ(top, (std::set<std::string>{"version", "state_dir", "providers", "pairs", "sync",
                                        "http", "id_resolver", "plugins", "scrobble"}));
  EXPECT_EQ(schema.value("additionalProperties", true), false);

  const std::string doc = read(CW_CONFIG_DOC);
  static const std::regex k_block("```yaml\n([\\s\\S]*?)```");
  int checked = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), k_block);
       it != std::sregex_iterator(); ++it) {
    const std::string block = (*it)[1];
    if (block.find("# invalid") != std::string::npos) continue;
    check_against_schema(yaml_block_as_json(block), schema, schema, "");
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

// The structure of a YAML block as JSON (keys only matter here), through the parser's own
// view of provider settings: wrap it as the settings of a dummy provider.
nlohmann::json yaml_block_as_json(const std::string& block) {
  std::string indented = "providers:\n  doc:\n    plugin: doc\n    root:\n";
  std::istringstream lines(block);
  for (std::string line; std::getline(lines, line);) indented += "      " + line + "\n";
  ConfigParse p = parse_config(indented, "doc", "/tmp");
  for (const auto& e : p.errors) ADD_FAILURE() << e.to_string();
  if (!p.config) return nlohmann::json::object();
  return p.config->providers.at(0).settings["root"];
}

}  // namespace
}  // namespace cw::config
