#pragma once
// One provider's view of one feature (R2.1): its items (as an Index), the completeness
// record, the provider's health (R2.3) and the manifest capabilities the planner needs.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/identity.hpp>
#include <cw/engine/item.hpp>
#include <cw/engine/policy.hpp>
#include <cw/util/result.hpp>

namespace cw::engine {

enum class Semantics { present, delta };
enum class Health { ok, degraded, down, auth_failed };

std::string_view to_string(Feature f);
std::optional<Feature> feature_from_string(std::string_view s);
std::string_view to_string(Semantics s);
std::string_view to_string(Health h);
std::optional<Health> health_from_string(std::string_view s);

struct Completeness {
  bool complete = true;
  std::optional<std::int64_t> expected_total;
  std::int64_t received = 0;
  std::optional<std::string> watermark;
  Semantics semantics = Semantics::present;
};

// The manifest's `features.<feature>` block, reduced to what planning uses.
// What a provider can do for one feature. The sync layer builds it from the validated
// manifest (sync/capabilities.hpp); the defaults here describe a fully capable provider
// and exist for tests that build snapshots by hand, not as the ABI's defaults.
struct FeatureCaps {
  bool supported = true;
  bool add = true;
  bool remove = true;
  bool update = false;
  bool observes_deletes = true;
  bool writes_watch_date = true;  // history
  bool rewatches = false;         // history event mode
  bool stores_rated_at = false;   // ratings: the service keeps the rated_at it is sent
  // The item types the feature takes, one bit per ItemKind (manifest `types`).
  std::uint8_t types = 0x0F;
  // The scale the provider stores ratings on (manifest `rating_scale`, or the health
  // reply's run-time capabilities); without one, ratings are written as they are.
  bool has_rating_scale = false;
  double rating_min = 0;
  double rating_max = 10;
  double rating_step = 1;
  std::size_t chunk_size = 100;
  Semantics semantics = Semantics::present;  // the declared index_semantics

  bool takes(ItemKind kind) const { return (types >> static_cast<int>(kind)) & 1U; }
};

struct Snapshot {
  std::string provider;  // instance name
  Feature feature = Feature::watchlist;
  Index index;
  Completeness completeness;
  Health health = Health::ok;
  std::string health_message;
  FeatureCaps caps;
  // Items that could not be parsed (one line each); they are not part of the index.
  std::vector<std::string> warnings;
  // ABI 1.1, delta replies: what the service itself reports as removed since the
  // watermark (history: the plays removed). Proof of a deletion, which the planner
  // propagates under the same guards as an observed one; empty for present replies.
  Index removed;
  // `cw override` (apply_overrides): the keys of entries whose value the user corrected
  // (a correction travels as an update where the other side can store it), and the items
  // the user keeps out of sync (the planner leaves them alone, filter `ignored`): the
  // items as read, and the keys of every ignore override, so that an item the instance no
  // longer lists (a deletion) is left alone too.
  std::set<std::string> corrected;
  Index ignored;
  std::set<std::string> ignored_keys;
};

// Builds a snapshot from a build_index reply read item by item (the host streams large
// replies): item() for each element of `items` in order, then finish() with the rest of
// the reply (its `items` ignored). Equal to snapshot_from_response on the whole document.
class SnapshotReader {
 public:
  SnapshotReader(std::string provider, Feature feature, const ItemLimits& limits = {});
  void reserve(std::size_t n) { m_items.reserve(n); }
  // One element of `items`: kept as an item, or left out with a warning.
  void item(const nlohmann::json& j);
  // Once: the snapshot of the items read and the reply's other members.
  Result<Snapshot> finish(const nlohmann::json& response, FeatureCaps caps,
                          Health health = Health::ok, std::string health_message = {});
  const std::string& where() const { return m_where; }

 private:
  std::string m_provider;
  Feature m_feature;
  ItemLimits m_limits;
  std::string m_where;
  std::vector<Item> m_items;
  std::vector<std::string> m_warnings;
  std::size_t m_read = 0;
  std::size_t m_unreadable = 0;
};

// Builds a snapshot from a build_index response document. `received` defaults to the
// item count; `semantics` to the manifest's. Fails when the document has no `items` array.
// An item past `limits` is left out with a warning, like any unreadable item.
Result<Snapshot> snapshot_from_response(std::string provider, Feature feature,
                                        const nlohmann::json& response, FeatureCaps caps,
                                        Health health = Health::ok, std::string health_message = {},
                                        const ItemLimits& limits = {});
// From items already in hand (tests, the local tracker, benchmarks).
Snapshot make_snapshot(std::string provider, Feature feature, std::vector<Item> items,
                       Completeness completeness = {}, FeatureCaps caps = {},
                       Health health = Health::ok);

// Manual mappings (`cw map`): the entry whose key is a mapping's key reads with the
// mapping's ids in place of its matchable ones (server-local ids, which the plugin writes
// with, are kept); seasons and episodes get them as their show's ids. Returns how many
// mappings found their item. The index is rebuilt only when one did.
std::size_t apply_mappings(Snapshot& snapshot, const std::map<std::string, Ids>& mappings);

// A user's correction of one item of an instance (`cw override`): the watch date of a
// history entry (its plays become that one play), the rating of a ratings entry (rated
// when the user said so), or `ignore`: the item is kept out of sync for good.
struct Override {
  std::optional<Instant> watched_at;
  std::optional<double> rating;  // 0..10
  Instant rated_at = 0;          // the override's creation time, the rating's date
  bool ignore = false;
};

// Applies the overrides, by key, to the entries of the snapshot's feature they concern:
// values are replaced and the key recorded in `corrected`; ignored items are copied into
// `ignored` (they stay in the index, so that they are never taken for deleted). Returns
// how many overrides found their item. The index is rebuilt only when a value changed.
std::size_t apply_overrides(Snapshot& snapshot, const std::map<std::string, Override>& overrides);

// A stable hash (16 hex digits) of the snapshot's keys and the fields the feature plans
// with (plays, rating, progress) plus its completeness; equal inventories give equal
// fingerprints regardless of order.
std::string fingerprint(const Snapshot& snapshot);

}  // namespace cw::engine
