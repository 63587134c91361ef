#include <cstdio>

#include <cw/engine/snapshot.hpp>
#include <cw/util/json.hpp>

namespace cw::engine {
namespace {

// FNV-1a, 64 bit: defined by its spec, so fingerprints stay equal across builds and
// compilers (std::hash does not promise that).
class Fnv {
 public:
  void bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      m_h ^= p[i];
      m_h *= 0x100000001b3ULL;
    }
  }
  void str(std::string_view s) {
    bytes(s.data(), s.size());
    bytes("\0", 1);
  }
  void i64(std::int64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<unsigned char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
    bytes(b, 8);
  }
  std::uint64_t value() const { return m_h; }

 private:
  std::uint64_t m_h = 0xcbf29ce484222325ULL;
};

std::optional<Semantics> semantics_from_string(std::string_view s) {
  if (s == "present") return Semantics::present;
  if (s == "delta") return Semantics::delta;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Feature f) {
  switch (f) {
    case Feature::watchlist:
      return "watchlist";
    case Feature::history:
      return "history";
    case Feature::ratings:
      return "ratings";
    case Feature::progress:
      return "progress";
  }
  return "watchlist";
}

std::optional<Feature> feature_from_string(std::string_view s) {
  if (s == "watchlist") return Feature::watchlist;
  if (s == "history") return Feature::history;
  if (s == "ratings") return Feature::ratings;
  if (s == "progress") return Feature::progress;
  return std::nullopt;
}

std::string_view to_string(Semantics s) { return s == Semantics::delta ? "delta" : "present"; }

std::string_view to_string(Health h) {
  switch (h) {
    case Health::ok:
      return "ok";
    case Health::degraded:
      return "degraded";
    case Health::down:
      return "down";
    case Health::auth_failed:
      return "auth_failed";
  }
  return "ok";
}

std::optional<Health> health_from_string(std::string_view s) {
  if (s == "ok") return Health::ok;
  if (s == "degraded") return Health::degraded;
  if (s == "down") return Health::down;
  if (s == "auth_failed") return Health::auth_failed;
  return std::nullopt;
}

SnapshotReader::SnapshotReader(std::string provider, Feature feature, const ItemLimits& limits)
    : m_provider(std::move(provider)),
      m_feature(feature),
      m_limits(limits),
      m_where("build_index(" + std::string(to_string(feature)) + ") of '" + m_provider + "'") {}

void SnapshotReader::item(const nlohmann::json& j) {
  auto item = item_from_json(j, m_limits);
  if (item.ok()) {
    m_items.push_back(std::move(item.value()));
  } else if (++m_unreadable <= 100) {
    m_warnings.push_back(m_where + ": item " + std::to_string(m_read) +
                         " left out: " + item.error().message);
  }
  ++m_read;
}

Result<Snapshot> SnapshotReader::finish(const nlohmann::json& response, FeatureCaps caps,
                                        Health health, std::string health_message) {
  const std::string& where = m_where;
  if (!response.is_object())
    return make_error(where + " did not return a JSON object", ErrorKind::invalid_arg);
  const std::size_t n = m_read;

  Snapshot snap;
  snap.provider = std::move(m_provider);
  snap.feature = m_feature;
  snap.caps = caps;
  snap.health = health;
  snap.health_message = std::move(health_message);
  snap.warnings = std::move(m_warnings);

  Completeness& c = snap.completeness;
  c.complete = util::bool_member(response, "complete", true);
  // An item left out may be one the baseline holds: its absence proves nothing, so the
  // index cannot stand for the whole inventory (no deletions are inferred from it).
  if (m_unreadable > 0) {
    c.complete = false;
    snap.warnings.push_back(where + ": " + std::to_string(m_unreadable) + " of " +
                            std::to_string(n) +
                            " items could not be read; the index counts as incomplete");
  }
  if (auto it = response.find("expected_total"); it != response.end() && it->is_number_integer())
    c.expected_total = it->get<std::int64_t>();
  c.received = static_cast<std::int64_t>(n);
  if (auto it = response.find("received"); it != response.end() && it->is_number_integer())
    c.received = it->get<std::int64_t>();
  if (auto it = response.find("watermark"); it != response.end() && !it->is_null())
    c.watermark = it->is_string() ? it->get<std::string>() : it->dump();
  c.semantics = caps.semantics;
  if (auto it = response.find("semantics"); it != response.end() && it->is_string()) {
    auto s = semantics_from_string(it->get<std::string>());
    if (!s)
      return make_error(
          where + " returned semantics '" + it->get<std::string>() + "'; expected present or delta",
          ErrorKind::invalid_arg);
    c.semantics = *s;
  }
  // A provider that says it read everything but got fewer items than the API announced
  // is not complete (R2.1).
  if (c.expected_total && c.received < *c.expected_total) c.complete = false;
  snap.index = Index::build(std::move(m_items), m_feature == Feature::history);
  snap.removed = Index(m_feature == Feature::history);
  if (auto it = response.find("removed"); it != response.end() && it->is_array()) {
    if (c.semantics != Semantics::delta) {
      snap.warnings.push_back(where + ": 'removed' is ignored in a present index");
    } else {
      std::vector<Item> gone;
      for (const auto& j : *it) {
        // An unreadable entry proves nothing: it is not propagated, and costs nothing else.
        if (auto item = item_from_json(j, m_limits))
          gone.push_back(std::move(item.value()));
        else
          snap.warnings.push_back(where + ": a removed item left out: " + item.error().message);
      }
      snap.removed = Index::build(std::move(gone), m_feature == Feature::history);
    }
  }
  return snap;
}

Result<Snapshot> snapshot_from_response(std::string provider, Feature feature,
                                        const nlohmann::json& response, FeatureCaps caps,
                                        Health health, std::string health_message,
                                        const ItemLimits& limits) {
  SnapshotReader reader(std::move(provider), feature, limits);
  if (response.is_object()) {
    const auto items = response.find("items");
    if (items == response.end() || !items->is_array())
      return make_error(reader.where() + " returned no 'items' array", ErrorKind::invalid_arg);
    reader.reserve(items->size());
    for (const auto& j : *items) reader.item(j);
  }
  return reader.finish(response, caps, health, std::move(health_message));
}

Snapshot make_snapshot(std::string provider, Feature feature, std::vector<Item> items,
                       Completeness completeness, FeatureCaps caps, Health health) {
  Snapshot snap;
  snap.provider = std::move(provider);
  snap.feature = feature;
  if (completeness.received == 0) completeness.received = static_cast<std::int64_t>(items.size());
  snap.completeness = std::move(completeness);
  snap.caps = caps;
  snap.health = health;
  snap.index = Index::build(std::move(items), feature == Feature::history);
  return snap;
}

std::size_t apply_mappings(Snapshot& snapshot, const std::map<std::string, Ids>& mappings) {
  std::size_t found = 0;
  for (const auto& [key, ids] : mappings) found += snapshot.index.find_key(key) ? 1 : 0;
  if (found == 0) return 0;
  const bool history = snapshot.index.history();
  std::vector<Item> items = snapshot.index.release_items(true);
  for (auto& item : items) {
    // Every play of an entry carries the entry's identity, so its key is the entry's.
    const auto it = mappings.find(canonical_key(item));
    if (it == mappings.end()) continue;
    const bool child = item.kind == ItemKind::season || item.kind == ItemKind::episode;
    Ids& target = child ? item.show_ids : item.ids;
    Ids next = it->second;
    for (const auto e : target.entries()) {
      if (is_server_local(e.kind) || (e.kind == IdKind::plex && !e.value.starts_with("plex://")))
        next.set_normalised(e.kind, std::string(e.value));
    }
    target = std::move(next);
  }
  snapshot.index = Index::build(std::move(items), history);
  return found;
}

std::size_t apply_overrides(Snapshot& snapshot, const std::map<std::string, Override>& overrides) {
  const bool history = snapshot.index.history();
  const auto changes = [&](const Override& o) {
    return (snapshot.feature == Feature::history && o.watched_at) ||
           (snapshot.feature == Feature::ratings && o.rating);
  };
  std::size_t found = 0;
  bool rebuild = false;
  for (const auto& [key, o] : overrides) {
    if (o.ignore) snapshot.ignored_keys.insert(key);
    const auto pos = snapshot.index.find_key(key);
    if (!pos) continue;
    ++found;
    if (o.ignore) snapshot.ignored.add(snapshot.index.entries()[*pos].item);
    if (changes(o)) {
      snapshot.corrected.insert(key);
      rebuild = true;
    }
  }
  if (!rebuild) return found;
  std::vector<Item> items = snapshot.index.release_items(true);
  std::set<std::string> dated;  // history: the one play an overridden entry keeps
  std::erase_if(items, [&](Item& item) {
    const std::string key = canonical_key(item);
    const auto it = overrides.find(key);
    if (it == overrides.end() || !changes(it->second)) return false;
    if (snapshot.feature == Feature::ratings) {
      item.rating = *it->second.rating;
      item.rated_at = it->second.rated_at;
      return false;
    }
    if (!dated.insert(key).second) return true;
    item.watched_at = *it->second.watched_at;
    return false;
  });
  snapshot.index = Index::build(std::move(items), history);
  return found;
}

std::string fingerprint(const Snapshot& snapshot) {
  std::vector<std::uint64_t> hashes;
  hashes.reserve(snapshot.index.size());
  for (const auto& e : snapshot.index.entries()) {
    Fnv f;
    f.str(e.key);
    switch (snapshot.feature) {
      case Feature::history:
        for (auto p : e.plays) f.i64(p);
        break;
      case Feature::ratings:
        f.i64(e.item.rating ? static_cast<std::int64_t>(*e.item.rating * 1000) : -1);
        break;
      case Feature::progress:
        f.i64(e.item.progress_ms.value_or(-1));
        f.i64(e.item.duration_ms.value_or(-1));
        if (e.item.progress_bp) f.i64(*e.item.progress_bp);  // unchanged hash without one
        break;
      case Feature::watchlist:
        break;
    }
    hashes.push_back(f.value());
  }
  // An order-independent combination (a sum of mixed entry hashes) needs no sort.
  std::uint64_t sum = 0;
  for (auto h : hashes) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    sum += h;
  }
  Fnv all;
  all.str(to_string(snapshot.feature));
  all.i64(static_cast<std::int64_t>(sum));
  all.i64(static_cast<std::int64_t>(hashes.size()));
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(all.value()));
  return buf;
}

}  // namespace cw::engine
