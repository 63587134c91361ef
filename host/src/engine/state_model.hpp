#pragma once
// What the engine remembers per pair and feature between runs, as plain values that
// round-trip through JSON. The field names follow cw::state (state/state_types.hpp) so the
// orchestrator maps them one to one: `Side` becomes the provider instance name of that
// side, `Item` becomes item_to_json(item). Times are Unix seconds.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/item.hpp>
#include <cw/util/result.hpp>

namespace cw::engine {

// The two sides of a pair. In two-way pairs `source` is the pair's A, `target` its B.
enum class Side : std::uint8_t { source, target };
inline Side other(Side s) { return s == Side::source ? Side::target : Side::source; }
std::string_view to_string(Side s);
std::optional<Side> side_from_string(std::string_view s);

// R4.2: an item deleted on one side, kept so that a stale copy is not re-added.
struct Tombstone {
  std::string key;
  Item item;  // its ids are the alias tokens the tombstone matches
  Instant created_at = 0;
  Instant expires_at = 0;
  bool operator==(const Tombstone&) const = default;
};

// R5.3: a held removal. It stays until approved, no longer true, or expired.
struct PendingDeletion {
  Side side = Side::target;  // where the removal would happen
  std::string key;
  std::string reason;  // hold reason: drop_guard | mass_delete
  Instant first_seen = 0;
  bool approved = false;  // set by the user; the next plan releases it
  Item item;
  // Set by the user (`cw pending drop`): the next plan neither removes nor holds it, so
  // the baseline advances past it and the record is forgotten (R6.3).
  bool declined = false;
  bool operator==(const PendingDeletion&) const = default;
};

// R5.4: consecutive failed runs of an add/update for one key.
struct FlapCounter {
  Side side = Side::target;
  std::string key;
  int consecutive = 0;
  std::string last_reason;
  Instant last_at = 0;
  bool operator==(const FlapCounter&) const = default;
};

struct BlackboxEntry {
  Side side = Side::target;
  std::string key;
  std::string reason;
  Instant since = 0;
  Instant until = 0;
  bool operator==(const BlackboxEntry&) const = default;
};

// R5.5
struct UnresolvedEntry {
  Side side = Side::target;
  std::string key;
  std::string reason;  // not_found | rate_limited | rejected | unknown
  std::string message;
  Instant first_seen = 0;
  Instant last_seen = 0;
  int attempts = 1;
  Item item;
  bool operator==(const UnresolvedEntry&) const = default;
};

struct SideBaseline {
  // History baselines hold one item per play.
  std::vector<Item> items;
  std::optional<std::string> watermark;
  bool operator==(const SideBaseline&) const = default;
};

struct PairFeatureState {
  // nullopt: no baseline yet for that side (first run, or after a reset).
  std::optional<SideBaseline> source;
  std::optional<SideBaseline> target;
  std::vector<Tombstone> tombstones;
  std::vector<PendingDeletion> pending;
  std::vector<FlapCounter> flaps;
  std::vector<BlackboxEntry> blackbox;
  std::vector<UnresolvedEntry> unresolved;

  const std::optional<SideBaseline>& baseline(Side s) const {
    return s == Side::source ? source : target;
  }
  std::optional<SideBaseline>& baseline(Side s) { return s == Side::source ? source : target; }
  bool operator==(const PairFeatureState&) const = default;
};

// The key under which a baseline item is stored (unique per side): the canonical key,
// plus `@<epoch>` for history plays.
std::string baseline_row_key(const Item& item, bool history);

// JSON forms. Each struct converts on its own so a store can keep one row per entry:
// {"baselines":{"source":{"items":{"<row key>":item},"watermark":..},"target":..},
//  "tombstones":[..],"pending":[..],"flaps":[..],"blackbox":[..],"unresolved":[..]}
nlohmann::json to_json(const Tombstone& t);
nlohmann::json to_json(const PendingDeletion& p);
nlohmann::json to_json(const FlapCounter& f);
nlohmann::json to_json(const BlackboxEntry& b);
nlohmann::json to_json(const UnresolvedEntry& u);
nlohmann::json to_json(const PairFeatureState& s, bool history);
Result<Tombstone> tombstone_from_json(const nlohmann::json& j);
Result<PendingDeletion> pending_from_json(const nlohmann::json& j);
Result<FlapCounter> flap_from_json(const nlohmann::json& j);
Result<BlackboxEntry> blackbox_from_json(const nlohmann::json& j);
Result<UnresolvedEntry> unresolved_from_json(const nlohmann::json& j);
Result<PairFeatureState> state_from_json(const nlohmann::json& j);

}  // namespace cw::engine
