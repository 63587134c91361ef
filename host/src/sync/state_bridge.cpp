#include <cw/sync/state_bridge.hpp>

namespace cw::sync {

namespace {

Result<engine::Side> side_of(const std::string& name, const SideNames& sides) {
  if (name == sides.source) return engine::Side::source;
  if (name == sides.target) return engine::Side::target;
  return make_error("state names side '" + name + "', which is neither " + sides.source + " nor " +
                        sides.target +
                        "; the pair's providers changed: reset it with `cw state reset --pair`",
                    ErrorKind::invalid_arg);
}

engine::Item item_or_empty(const nlohmann::json& j) {
  if (j.is_null()) return {};
  auto r = engine::item_from_json(j, engine::ItemLimits::unbounded());
  return r ? std::move(r).value() : engine::Item{};
}

}  // namespace

Result<engine::PairFeatureState> to_engine_state(const state::PairFeatureRecord& record,
                                                 const SideNames& sides, bool history) {
  (void)history;
  engine::PairFeatureState out;
  const nlohmann::json meta = record.meta.is_object() ? record.meta : nlohmann::json::object();
  const auto has_side = [&](const std::string& name) {
    if (meta.contains("baseline_sides")) {
      for (const auto& s : meta["baseline_sides"])
        if (s == name) return true;
      return false;
    }
    return record.baselines.count(name) > 0;
  };
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    const std::string& name = sides.of(s);
    if (!has_side(name)) continue;
    engine::SideBaseline b;
    if (auto it = record.baselines.find(name); it != record.baselines.end()) {
      b.items.reserve(it->second.size());
      for (const auto& [key, item] : it->second) {
        auto parsed = engine::item_from_json(item, engine::ItemLimits::unbounded());
        if (!parsed)
          return make_error("state: baseline item " + key + " of " + name +
                                " is unreadable: " + parsed.error().message,
                            ErrorKind::internal);
        b.items.push_back(std::move(parsed).value());
      }
    }
    if (meta.contains("watermarks") && meta["watermarks"].contains(name) &&
        meta["watermarks"][name].is_string())
      b.watermark = meta["watermarks"][name].get<std::string>();
    out.baseline(s) = std::move(b);
  }
  for (const auto& t : record.tombstones)
    out.tombstones.push_back({t.key, item_or_empty(t.data), t.created_at, t.expires_at});
  for (const auto& p : record.pending) {
    auto side = side_of(p.side, sides);
    if (!side) return side.error();
    out.pending.push_back(
        {*side, p.key, p.reason, p.first_seen, p.approved, item_or_empty(p.item), p.declined});
  }
  for (const auto& f : record.flaps) {
    auto side = side_of(f.side, sides);
    if (!side) return side.error();
    out.flaps.push_back({*side, f.key, f.consecutive, f.last_reason, f.last_at});
  }
  for (const auto& b : record.blackbox) {
    auto side = side_of(b.side, sides);
    if (!side) return side.error();
    out.blackbox.push_back({*side, b.key, b.reason, b.since, b.until});
  }
  for (const auto& u : record.unresolved) {
    auto side = side_of(u.side, sides);
    if (!side) return side.error();
    out.unresolved.push_back({*side, u.key, u.reason, u.message, u.first_seen, u.last_seen,
                              u.attempts, item_or_empty(u.item)});
  }
  return out;
}

state::PairFeatureRecord to_record(const engine::PairFeatureState& st, const SideNames& sides,
                                   bool history) {
  state::PairFeatureRecord r;
  nlohmann::json meta = {{"baseline_sides", nlohmann::json::array()},
                         {"watermarks", nlohmann::json::object()}};
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    const auto& b = st.baseline(s);
    if (!b) continue;
    const std::string& name = sides.of(s);
    meta["baseline_sides"].push_back(name);
    if (b->watermark) meta["watermarks"][name] = *b->watermark;
    auto& rows = r.baselines[name];
    for (const auto& item : b->items)
      rows[engine::baseline_row_key(item, history)] = engine::item_to_json(item);
  }
  r.meta = std::move(meta);
  for (const auto& t : st.tombstones)
    r.tombstones.push_back({t.key, t.created_at, t.expires_at, engine::item_to_json(t.item)});
  for (const auto& p : st.pending)
    r.pending.push_back({sides.of(p.side), p.key, p.reason, p.first_seen, p.approved,
                         engine::item_to_json(p.item), p.declined});
  for (const auto& f : st.flaps)
    r.flaps.push_back({sides.of(f.side), f.key, f.consecutive, f.last_reason, f.last_at});
  for (const auto& b : st.blackbox)
    r.blackbox.push_back({sides.of(b.side), b.key, b.reason, b.since, b.until});
  for (const auto& u : st.unresolved)
    r.unresolved.push_back({sides.of(u.side), u.key, u.reason, u.message, u.first_seen, u.last_seen,
                            u.attempts, engine::item_to_json(u.item)});
  return r;
}

}  // namespace cw::sync
