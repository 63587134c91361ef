#include <cw/engine/item_codec.hpp>
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

Result<engine::Item> baseline_item(const std::string& side, const std::string& key,
                                   const nlohmann::json& item) {
  auto parsed = engine::item_from_json(item, engine::ItemLimits::unbounded());
  if (!parsed)
    return make_error(
        "state: baseline item " + key + " of " + side + " is unreadable: " + parsed.error().message,
        ErrorKind::internal);
  return parsed;
}

// A baseline row as stored: the binary form that runs write, or JSON (rows of tools, tests
// and older versions).
Result<engine::Item> stored_baseline_item(const std::string& side, const std::string& key,
                                          std::string_view stored) {
  if (engine::is_encoded_item(stored)) {
    auto item = engine::decode_item(stored);
    if (!item)
      return make_error(
          "state: baseline item " + key + " of " + side + " is unreadable: " + item.error().message,
          ErrorKind::internal);
    return item;
  }
  const auto j = nlohmann::json::parse(stored, nullptr, false);
  if (j.is_discarded())
    return make_error("state: baseline item " + key + " of " + side + " is not valid JSON",
                      ErrorKind::internal);
  return baseline_item(side, key, j);
}

// Everything but the baseline items: which sides have a baseline (from meta, or else from
// the sides the rows name), their watermarks, and the other rows.
Result<engine::PairFeatureState> state_without_items(
    const state::PairFeatureRecord& record, const SideNames& sides,
    const std::function<bool(const std::string&)>& has_rows) {
  engine::PairFeatureState out;
  const nlohmann::json meta = record.meta.is_object() ? record.meta : nlohmann::json::object();
  const auto has_side = [&](const std::string& name) {
    if (meta.contains("baseline_sides")) {
      for (const auto& s : meta["baseline_sides"])
        if (s == name) return true;
      return false;
    }
    return has_rows(name);
  };
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    const std::string& name = sides.of(s);
    if (!has_side(name)) continue;
    engine::SideBaseline b;
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

}  // namespace

Result<engine::PairFeatureState> to_engine_state(const state::PairFeatureRecord& record,
                                                 const SideNames& sides, bool history) {
  (void)history;
  auto out = state_without_items(
      record, sides, [&](const std::string& name) { return record.baselines.count(name) > 0; });
  if (!out) return out;
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    auto& b = out->baseline(s);
    const auto it = record.baselines.find(sides.of(s));
    if (!b || it == record.baselines.end()) continue;
    b->items.reserve(it->second.size());
    for (const auto& [key, item] : it->second) {
      auto parsed = baseline_item(it->first, key, item);
      if (!parsed) return parsed.error();
      b->items.push_back(std::move(parsed).value());
    }
  }
  return out;
}

Result<LoadedState> load_state(state::StateStore& store, const std::string& pair,
                               const std::string& feature, const SideNames& sides, bool history) {
  (void)history;
  LoadedState out;
  // Rows arrive in any order; the items of the pair's two sides are kept, the row keys of
  // every side (a stale side's rows are dropped by the next commit).
  std::vector<engine::Item> items[2];
  auto record =
      store.load(pair, feature,
                 [&](const std::string& side, std::string key, std::string_view stored) -> Status {
                   auto& keys = out.stored_keys[side];
                   const int s = side == sides.source ? 0 : side == sides.target ? 1 : -1;
                   if (s < 0) {
                     keys.emplace(std::move(key), 0);
                     return ok_status();
                   }
                   auto parsed = stored_baseline_item(side, key, stored);
                   if (!parsed) return parsed.error();
                   keys.emplace(std::move(key), items[s].size());
                   items[s].push_back(std::move(parsed).value());
                   return ok_status();
                 });
  if (!record) return record.error();
  auto st = state_without_items(
      *record, sides, [&](const std::string& name) { return out.stored_keys.count(name) > 0; });
  if (!st) return st.error();
  out.state = std::move(st).value();
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    auto& b = out.state.baseline(s);
    if (b) b->items = std::move(items[s == engine::Side::source ? 0 : 1]);
  }
  out.record = std::move(record).value();
  return out;
}

state::PairFeatureCommit commit_of(const std::string& pair, const std::string& feature,
                                   const LoadedState& before, const engine::PairFeatureState& after,
                                   const SideNames& sides, bool history) {
  state::PairFeatureRecord after_rec = to_record(after, sides, history, false);
  state::PairFeatureCommit c = state::make_commit(pair, feature, before.record, after_rec);
  for (const auto& [side, keys] : before.stored_keys)
    if (side != sides.source && side != sides.target) c.replace_baseline_sides.push_back(side);
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    const std::string& name = sides.of(s);
    const auto& now = after.baseline(s);
    const auto& was = before.state.baseline(s);
    const auto stored = before.stored_keys.find(name);
    const bool has_rows = stored != before.stored_keys.end() && !stored->second.empty();
    if (!now || !was) {
      // No baseline any more, or none that was read (rows without a side in meta): the
      // side's rows are replaced whole.
      if (has_rows) c.replace_baseline_sides.push_back(name);
      if (now)
        for (const auto& item : now->items)
          c.baseline_encoded[name][engine::baseline_row_key(item, history)] =
              engine::encode_item(item);
      continue;
    }
    std::vector<char> kept(was->items.size(), 0);  // by index into was->items
    for (const auto& item : now->items) {
      std::string key = engine::baseline_row_key(item, history);
      const auto it = has_rows ? stored->second.find(key) : decltype(stored->second.end()){};
      const bool found = has_rows && it != stored->second.end();
      if (found) kept[it->second] = 1;
      if (!found || !(was->items[it->second] == item))
        c.baseline_encoded[name][std::move(key)] = engine::encode_item(item);
    }
    if (has_rows)
      for (const auto& [key, index] : stored->second)
        if (!kept[index]) c.baseline_deletes[name].push_back(key);
  }
  return c;
}

state::PairFeatureRecord to_record(const engine::PairFeatureState& st, const SideNames& sides,
                                   bool history, bool with_baselines) {
  state::PairFeatureRecord r;
  nlohmann::json meta = {{"baseline_sides", nlohmann::json::array()},
                         {"watermarks", nlohmann::json::object()}};
  for (engine::Side s : {engine::Side::source, engine::Side::target}) {
    const auto& b = st.baseline(s);
    if (!b) continue;
    const std::string& name = sides.of(s);
    meta["baseline_sides"].push_back(name);
    if (b->watermark) meta["watermarks"][name] = *b->watermark;
    if (!with_baselines) continue;
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
