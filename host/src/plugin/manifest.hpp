#pragma once
// The plugin manifest: parsed from the JSON a plugin's manifest() returns, validated
// against sdk/schema/manifest.schema.json (cw/util/json_schema.hpp) and then read into
// plain structs the rest of the host uses.

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/util/json_schema.hpp>
#include <cw/util/result.hpp>

namespace cw::plugin {

struct RatingScale {
  double min = 0;
  double max = 10;
  double step = 1;
};

struct FeatureCaps {
  std::vector<std::string> types;  // movie, show, season, episode
  std::string index_semantics;     // present | delta
  bool add = false;
  bool remove = false;
  bool update = false;
  bool observes_deletes = false;
  bool provides_ids = false;
  int chunk_size = 100;
  int page_size = 0;  // 0: not stated
  bool writes_watch_date = false;
  bool rewatches = false;
  bool stores_rated_at = false;  // ratings, ABI 1.1: rated_at is kept as sent
  std::optional<RatingScale> rating_scale;
};

struct ActionInfo {
  std::string name;
  std::string description;
};

struct Manifest {
  std::string name;
  std::string version;
  std::string display_name;
  std::string description;
  std::map<std::string, FeatureCaps> features;  // by feature name
  std::string auth = "none";
  bool scrobble = false;
  bool lookup = false;       // ABI 1.1: the lookup operation (cheap re-checks)
  bool resolve_ids = false;  // ABI 1.1: the resolve_ids operation (an id resolver)
  std::vector<std::string> secrets;
  std::vector<ActionInfo> actions;
  nlohmann::json rate_limits = nlohmann::json::array();
  nlohmann::json auth_prompts = nlohmann::json::array();
  nlohmann::json config_schema = nlohmann::json::object();
  nlohmann::json raw;  // the whole document

  bool declares_update() const;
  bool has_action(std::string_view name) const;
  const FeatureCaps* feature(std::string_view name) const;
};

// Parses and validates a manifest. Errors are one line without a "skipped plugin" prefix:
// "manifest is not valid JSON: ...", "manifest field /features/watchlist/index_semantics:
// value "both" is not one of present, delta".
Result<Manifest> parse_manifest(std::string_view text);

// The one schema validator (cw/util/json_schema.hpp), under the names the plugin layer uses.
using util::validate_against_schema;
using util::validate_document;

}  // namespace cw::plugin
