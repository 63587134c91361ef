#pragma once
// What a pair asks of the engine: the validated form of one `pairs[]` entry of cw.yaml
// merged with the global `sync` guards. The config layer produces it; the planner and the
// applier read it. Defaults here are the defaults of SYNC-RULES.md.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cw::engine {

enum class Feature { watchlist, history, ratings, progress };
enum class PairMode { one_way, two_way };
enum class RemovalMode { source_deletes, mirror };  // R3.2

inline constexpr std::int64_t k_day_s = 24 * 60 * 60;

// What a pair's feature covers (cw.yaml `features.<feature>`: types, from_date, min_rating,
// exclude). Whatever falls outside is left alone: nothing is added, updated or removed for
// it on either side, and the plan says what each filter left out.
struct Scope {
  std::uint8_t types = 0x0F;                // one bit per ItemKind: movie, show, season, episode
  std::optional<std::int64_t> from_date;    // plays / ratings dated before it (Unix seconds)
  std::optional<double> min_rating;         // ratings below it (0-10)
  std::vector<std::string> exclude_ids;     // "<id kind>:<normalised value>", e.g. imdb:tt0111161
  std::vector<std::string> exclude_titles;  // trimmed, lower case; a show's excludes its episodes
  bool operator==(const Scope&) const = default;
};

struct FeaturePolicy {
  bool enabled = false;
  bool add = true;
  bool remove = false;
  bool update = false;
  RemovalMode removal = RemovalMode::source_deletes;
  bool include_observed_deletes = true;  // R4.3: two-way deletion inference
  // History (R3.4): presence mode by default; event mode when `rewatches` and both
  // providers support it. Plays match within ±tolerance.
  bool rewatches = false;
  std::int64_t event_tolerance_s = 60;
  Scope scope;
};

struct GuardPolicy {
  bool drop_guard = true;                    // R5.1
  double drop_guard_ratio = 0.10;            // suspect when shrunk to <= 10 % ...
  std::size_t drop_guard_min_baseline = 20;  // ... of a baseline of >= 20 items
  double mass_delete_max_ratio = 0.10;       // R5.2
  std::size_t mass_delete_max_count = 5;
  int blackbox_failures = 3;  // R5.4: consecutive failed runs
  std::int64_t blackbox_ttl_s = 30 * k_day_s;
  std::int64_t tombstone_ttl_s = 30 * k_day_s;  // R4.2
  std::int64_t pending_ttl_s = 30 * k_day_s;    // R5.3
};

struct PairPolicy {
  std::string name;
  std::string source;  // provider instance names
  std::string target;
  PairMode mode = PairMode::one_way;
  std::map<Feature, FeaturePolicy> features;
  GuardPolicy guards;
  // Two-way rating conflicts without dates (R4.4); empty means `source`.
  std::string source_of_truth;
  // Title matching (R1.4): how far the years of an item without ids and its match may
  // differ (0 or 1; cw.yaml `sync.matching.year_tolerance`).
  int year_tolerance = 0;
  // Ratings: an equal rating whose rated_at is newer than the other side's is sent as an
  // update to a side that stores rated_at (cw.yaml `sync.propagate_rated_at`, off).
  bool propagate_rated_at = false;
};

}  // namespace cw::engine
