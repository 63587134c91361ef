#include <cw/plugin/manifest.hpp>
#include <cw/plugin/schemas.hpp>
#include <cw/util/json.hpp>

namespace cw::plugin {

bool Manifest::declares_update() const {
  for (const auto& [feature_name, caps] : features)
    if (caps.update) return true;
  return false;
}

bool Manifest::has_action(std::string_view action_name) const {
  for (const auto& a : actions)
    if (a.name == action_name) return true;
  return false;
}

const FeatureCaps* Manifest::feature(std::string_view feature_name) const {
  const auto it = features.find(std::string(feature_name));
  return it == features.end() ? nullptr : &it->second;
}

Result<Manifest> parse_manifest(std::string_view text) {
  if (Status st = validate_against_schema(k_manifest_schema_json, text, "manifest"); !st)
    return st.error();
  Manifest m;
  try {
    m.raw = nlohmann::json::parse(text);
    const auto& j = m.raw;
    m.name = j.at("name").get<std::string>();
    m.version = j.at("version").get<std::string>();
    m.display_name = j.value("display_name", m.name);
    m.description = j.value("description", "");
    for (const auto& [fname, f] : j.at("features").items()) {
      FeatureCaps caps;
      caps.types = f.at("types").get<std::vector<std::string>>();
      caps.index_semantics = f.at("index_semantics").get<std::string>();
      caps.add = util::bool_member(f, "add", false);
      caps.remove = util::bool_member(f, "remove", false);
      caps.update = util::bool_member(f, "update", false);
      caps.observes_deletes = util::bool_member(f, "observes_deletes", false);
      caps.provides_ids = util::bool_member(f, "provides_ids", false);
      caps.chunk_size = f.value("chunk_size", 100);
      caps.page_size = f.value("page_size", 0);
      caps.writes_watch_date = util::bool_member(f, "writes_watch_date", false);
      caps.rewatches = util::bool_member(f, "rewatches", false);
      caps.stores_rated_at = util::bool_member(f, "stores_rated_at", false);
      if (f.contains("rating_scale")) {
        const auto& rs = f["rating_scale"];
        caps.rating_scale = RatingScale{rs.at("min").get<double>(), rs.at("max").get<double>(),
                                        rs.value("step", 1.0)};
      }
      m.features.emplace(fname, std::move(caps));
    }
    const auto& caps = j.at("capabilities");
    m.auth = caps.value("auth", "none");
    m.scrobble = util::bool_member(caps, "scrobble", false);
    m.lookup = util::bool_member(caps, "lookup", false);
    m.resolve_ids = util::bool_member(caps, "resolve_ids", false);
    if (j.contains("secrets")) m.secrets = j["secrets"].get<std::vector<std::string>>();
    if (j.contains("actions"))
      for (const auto& a : j["actions"])
        m.actions.push_back({a.at("name").get<std::string>(), a.value("description", "")});
    if (j.contains("rate_limits")) m.rate_limits = j["rate_limits"];
    if (j.contains("auth_prompts")) m.auth_prompts = j["auth_prompts"];
    m.config_schema = j.at("config");
  } catch (const nlohmann::json::exception& e) {
    // The schema should have caught it; say so rather than crash.
    return make_error(std::string("manifest could not be read: ") + e.what(),
                      ErrorKind::invalid_arg);
  }
  if (m.features.count("ratings") != 0 && m.features["ratings"].rating_scale) {
    const auto& rs = *m.features["ratings"].rating_scale;
    if (!(rs.min < rs.max))
      return make_error("manifest field /features/ratings/rating_scale: min must be below max",
                        ErrorKind::invalid_arg);
  }
  return m;
}

}  // namespace cw::plugin
