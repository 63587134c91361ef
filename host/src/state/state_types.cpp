#include <set>
#include <tuple>

#include <cw/state/state_types.hpp>

namespace cw::state {

bool PairFeatureCommit::empty() const {
  return replace_baseline_sides.empty() && baseline_upserts.empty() && baseline_deletes.empty() &&
         baseline_encoded.empty() && tombstone_upserts.empty() && tombstone_deletes.empty() &&
         pending_upserts.empty() && pending_deletes.empty() && flap_upserts.empty() &&
         flap_deletes.empty() && blackbox_upserts.empty() && blackbox_deletes.empty() &&
         unresolved_upserts.empty() && unresolved_deletes.empty() && meta.is_null() &&
         journal_settle.empty() && kv_instances.empty();
}

// Ordering for SideKey as a std::map/std::set key.
bool operator<(const PairFeatureCommit::SideKey& a, const PairFeatureCommit::SideKey& b) {
  return std::tie(a.side, a.key) < std::tie(b.side, b.key);
}

namespace {
// Upserts for rows of `after` that are new or changed, deletes for rows gone from it.
template <typename T, typename Key>
void diff_rows(const std::vector<T>& before, const std::vector<T>& after, Key key_of,
               std::vector<T>& upserts, std::vector<decltype(key_of(before.front()))>& deletes) {
  std::map<decltype(key_of(before.front())), const T*> old;
  for (const auto& row : before) old[key_of(row)] = &row;
  std::set<decltype(key_of(before.front()))> kept;
  for (const auto& row : after) {
    auto k = key_of(row);
    kept.insert(k);
    auto it = old.find(k);
    if (it == old.end() || !(*it->second == row)) upserts.push_back(row);
  }
  for (const auto& [k, row] : old)
    if (!kept.count(k)) deletes.push_back(k);
}
}  // namespace

PairFeatureCommit make_commit(const std::string& pair, const std::string& feature,
                              const PairFeatureRecord& before, const PairFeatureRecord& after) {
  PairFeatureCommit c;
  c.pair = pair;
  c.feature = feature;
  c.run_id = after.last_run_id;
  c.committed_at = after.last_commit_at;
  for (const auto& [side, items] : before.baselines)
    if (!after.baselines.count(side)) c.replace_baseline_sides.push_back(side);
  for (const auto& [side, items] : after.baselines) {
    auto old = before.baselines.find(side);
    for (const auto& [key, item] : items) {
      if (old == before.baselines.end()) {
        c.baseline_upserts[side][key] = item;
        continue;
      }
      auto it = old->second.find(key);
      if (it == old->second.end() || it->second != item) c.baseline_upserts[side][key] = item;
    }
    if (old != before.baselines.end())
      for (const auto& [key, item] : old->second)
        if (!items.count(key)) c.baseline_deletes[side].push_back(key);
  }
  const auto side_key = [](const auto& row) {
    return PairFeatureCommit::SideKey{row.side, row.key};
  };
  diff_rows(
      before.tombstones, after.tombstones, [](const Tombstone& t) { return t.key; },
      c.tombstone_upserts, c.tombstone_deletes);
  diff_rows(before.pending, after.pending, side_key, c.pending_upserts, c.pending_deletes);
  diff_rows(before.flaps, after.flaps, side_key, c.flap_upserts, c.flap_deletes);
  diff_rows(before.blackbox, after.blackbox, side_key, c.blackbox_upserts, c.blackbox_deletes);
  diff_rows(before.unresolved, after.unresolved, side_key, c.unresolved_upserts,
            c.unresolved_deletes);
  if (after.meta != before.meta)
    c.meta = after.meta.is_null() ? nlohmann::json::object() : after.meta;
  return c;
}

nlohmann::json to_json(const ItemOverride& o) {
  nlohmann::json j = {{"instance", o.instance}, {"key", o.key}};
  if (o.watched_at) j["watched_at"] = *o.watched_at;
  if (o.rating) j["rating"] = *o.rating;
  if (o.ignore) j["ignore"] = true;
  j["created_at"] = o.created_at;
  return j;
}

nlohmann::json to_json(const PairFeatureRecord& r) {
  nlohmann::json j;
  nlohmann::json baselines = nlohmann::json::object();
  for (const auto& [side, items] : r.baselines) baselines[side] = items;
  j["baselines"] = std::move(baselines);
  auto& t = j["tombstones"] = nlohmann::json::array();
  for (const auto& x : r.tombstones)
    t.push_back({{"key", x.key},
                 {"created_at", x.created_at},
                 {"expires_at", x.expires_at},
                 {"data", x.data}});
  auto& p = j["pending"] = nlohmann::json::array();
  for (const auto& x : r.pending)
    p.push_back({{"side", x.side},
                 {"key", x.key},
                 {"reason", x.reason},
                 {"first_seen", x.first_seen},
                 {"approved", x.approved},
                 {"declined", x.declined},
                 {"item", x.item}});
  auto& f = j["flaps"] = nlohmann::json::array();
  for (const auto& x : r.flaps)
    f.push_back({{"side", x.side},
                 {"key", x.key},
                 {"consecutive", x.consecutive},
                 {"last_reason", x.last_reason},
                 {"last_at", x.last_at}});
  auto& b = j["blackbox"] = nlohmann::json::array();
  for (const auto& x : r.blackbox)
    b.push_back({{"side", x.side},
                 {"key", x.key},
                 {"reason", x.reason},
                 {"since", x.since},
                 {"until", x.until}});
  auto& u = j["unresolved"] = nlohmann::json::array();
  for (const auto& x : r.unresolved)
    u.push_back({{"side", x.side},
                 {"key", x.key},
                 {"reason", x.reason},
                 {"message", x.message},
                 {"first_seen", x.first_seen},
                 {"last_seen", x.last_seen},
                 {"attempts", x.attempts},
                 {"item", x.item}});
  j["meta"] = r.meta;
  j["last_run_id"] = r.last_run_id;
  j["last_commit_at"] = r.last_commit_at;
  return j;
}

PairFeatureRecord record_from_json(const nlohmann::json& j) {
  PairFeatureRecord r;
  const auto str = [](const nlohmann::json& o, const char* k) {
    return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  const auto num = [](const nlohmann::json& o, const char* k) -> std::int64_t {
    return o.contains(k) && o[k].is_number() ? o[k].get<std::int64_t>() : 0;
  };
  const auto val = [](const nlohmann::json& o, const char* k) {
    return o.contains(k) ? o[k] : nlohmann::json();
  };
  const auto list = [](const nlohmann::json& o, const char* k) {
    return o.contains(k) && o[k].is_array() ? o[k] : nlohmann::json::array();
  };
  if (j.contains("baselines") && j["baselines"].is_object())
    for (const auto& [side, items] : j["baselines"].items())
      if (items.is_object())
        for (const auto& [key, item] : items.items()) r.baselines[side][key] = item;
  for (const auto& x : list(j, "tombstones"))
    r.tombstones.push_back(
        {str(x, "key"), num(x, "created_at"), num(x, "expires_at"), val(x, "data")});
  for (const auto& x : list(j, "pending"))
    r.pending.push_back({str(x, "side"), str(x, "key"), str(x, "reason"), num(x, "first_seen"),
                         x.value("approved", false), val(x, "item"), x.value("declined", false)});
  for (const auto& x : list(j, "flaps"))
    r.flaps.push_back({str(x, "side"), str(x, "key"), static_cast<int>(num(x, "consecutive")),
                       str(x, "last_reason"), num(x, "last_at")});
  for (const auto& x : list(j, "blackbox"))
    r.blackbox.push_back(
        {str(x, "side"), str(x, "key"), str(x, "reason"), num(x, "since"), num(x, "until")});
  for (const auto& x : list(j, "unresolved"))
    r.unresolved.push_back({str(x, "side"), str(x, "key"), str(x, "reason"), str(x, "message"),
                            num(x, "first_seen"), num(x, "last_seen"),
                            static_cast<int>(x.contains("attempts") ? num(x, "attempts") : 1),
                            val(x, "item")});
  r.meta = val(j, "meta");
  r.last_run_id = str(j, "last_run_id");
  r.last_commit_at = num(j, "last_commit_at");
  return r;
}

}  // namespace cw::state
