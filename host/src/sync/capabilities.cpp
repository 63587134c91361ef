#include <cmath>

#include <cw/sync/capabilities.hpp>

namespace cw::sync {
namespace {

bool usable_scale(double min, double max, double step) {
  return std::isfinite(min) && std::isfinite(max) && std::isfinite(step) && min >= 0 && max > min &&
         step > 0 && (max - min) / step <= 100000.0;
}

// The health reply's scale for this feature, when it states a usable one (the schema has
// already checked the types).
void apply_health_scale(engine::FeatureCaps& caps, const nlohmann::json& health_capabilities,
                        engine::Feature feature) {
  if (!health_capabilities.is_object()) return;
  const auto f = health_capabilities.find(std::string(engine::to_string(feature)));
  if (f == health_capabilities.end() || !f->is_object()) return;
  const auto rs = f->find("rating_scale");
  if (rs == f->end() || !rs->is_object()) return;
  const auto number = [&](const char* key, double fallback) {
    const auto it = rs->find(key);
    return it != rs->end() && it->is_number() ? it->get<double>() : fallback;
  };
  const double min = number("min", NAN), max = number("max", NAN), step = number("step", 1.0);
  if (!usable_scale(min, max, step)) return;
  caps.has_rating_scale = true;
  caps.rating_min = min;
  caps.rating_max = max;
  caps.rating_step = step;
}

}  // namespace

engine::FeatureCaps feature_caps(const plugin::Manifest& manifest, engine::Feature feature,
                                 const nlohmann::json& health_capabilities) {
  engine::FeatureCaps caps;
  const plugin::FeatureCaps* declared = manifest.feature(engine::to_string(feature));
  if (declared == nullptr) {
    caps.supported = false;
    caps.add = caps.remove = caps.update = false;
    caps.types = 0;
    return caps;
  }
  caps.add = declared->add;
  caps.remove = declared->remove;
  caps.update = declared->update;
  caps.observes_deletes = declared->observes_deletes;
  caps.writes_watch_date = declared->writes_watch_date;
  caps.rewatches = declared->rewatches;
  caps.stores_rated_at = declared->stores_rated_at;
  caps.types = 0;
  for (const auto& t : declared->types) {
    if (const auto kind = engine::item_kind_from_string(t))
      caps.types |= static_cast<std::uint8_t>(1U << static_cast<int>(*kind));
  }
  caps.semantics =
      declared->index_semantics == "delta" ? engine::Semantics::delta : engine::Semantics::present;
  if (declared->chunk_size >= 1) caps.chunk_size = static_cast<std::size_t>(declared->chunk_size);
  if (const auto& rs = declared->rating_scale; rs && usable_scale(rs->min, rs->max, rs->step)) {
    caps.has_rating_scale = true;
    caps.rating_min = rs->min;
    caps.rating_max = rs->max;
    caps.rating_step = rs->step;
  }
  apply_health_scale(caps, health_capabilities, feature);
  return caps;
}

}  // namespace cw::sync
