#pragma once
// The engine's item model (R1.1) and its ABI JSON form (sdk/schema/item.schema.json).
//
// Invariant: every Item that leaves item_from_json has normalised ids (R1.2), so identity
// code never re-normalises. Items built by hand must go through Ids::set, which
// normalises as well.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/time.hpp>
#include <cw/util/result.hpp>

namespace cw::engine {

enum class ItemKind : std::uint8_t { movie, show, season, episode };

// The order of the first twelve is the canonical-key priority of R1.3.
enum class IdKind : std::uint8_t {
  tmdb,
  imdb,
  tvdb,
  trakt,
  mal,
  anilist,
  kitsu,
  anidb,
  simkl,
  plex,
  guid,
  slug,
  jellyfin,
  emby,
  mdblist,
};
inline constexpr std::size_t k_id_kind_count = 15;
// Ids that only mean something on one server: never used for cross-index matching or
// canonical keys, because two servers reuse the same numbers for different items.
bool is_server_local(IdKind kind);

std::string_view to_string(ItemKind kind);
std::optional<ItemKind> item_kind_from_string(std::string_view s);  // accepts plurals, series, tv
std::string_view to_string(IdKind kind);
// Case-insensitive, with the aliases servers use (`Tmdb`, `TheMovieDb`, `Imdb`, `Tvdb`, ...).
std::optional<IdKind> id_kind_from_string(std::string_view s);

// A small set of normalised ids, sorted by kind (at most one value per kind).
class Ids {
 public:
  struct Entry {
    IdKind kind;
    std::string value;
    bool operator==(const Entry&) const = default;
  };

  // Normalises `raw` for `kind` (R1.2) and stores it; returns false (and stores nothing)
  // when the value normalises to nothing. Plex GUID strings given for `plex` or `guid` are
  // parsed into the ids they carry.
  bool set(IdKind kind, std::string_view raw);
  // Stores an already-normalised value.
  void set_normalised(IdKind kind, std::string value);
  void erase(IdKind kind);
  const std::string* get(IdKind kind) const;
  bool has(IdKind kind) const { return get(kind) != nullptr; }
  bool empty() const { return m_entries.empty(); }
  std::size_t size() const { return m_entries.size(); }
  const std::vector<Entry>& entries() const { return m_entries; }
  // Union; on a kind present in both, `newer`'s value wins (R1.4, R1.5).
  void merge_from(const Ids& newer);
  // True when some matchable (not server-local) kind has the same value in both.
  bool intersects(const Ids& other) const;

  bool operator==(const Ids&) const = default;

 private:
  std::vector<Entry> m_entries;
};

struct Item {
  ItemKind kind = ItemKind::movie;
  std::string title;
  int year = 0;  // 0: unknown
  Ids ids;
  // Seasons and episodes: the show they belong to.
  std::string show_title;
  int show_year = 0;
  Ids show_ids;
  int season = -1;   // -1: unknown
  int episode = -1;  // -1: unknown
  std::optional<Instant> watched_at;
  std::optional<double> rating;  // 0..10
  std::optional<Instant> rated_at;
  std::optional<std::int64_t> progress_ms;
  std::optional<std::int64_t> duration_ms;
  std::optional<Instant> progress_at;
  nlohmann::json extra;  // provider-private; null when absent; passed back unchanged

  bool operator==(const Item&) const = default;
};

// Parses one ABI item. Unknown fields are ignored; ids are normalised; Jellyfin/Emby
// `ProviderIds` objects (in `ids` or at top level) and Plex `guid`/`Guid` lists are read.
// Fails only when the document is not an object or `type` is unknown.
Result<Item> item_from_json(const nlohmann::json& j);
// The ABI form; `key` is added when not empty (write requests).
nlohmann::json item_to_json(const Item& item, std::string_view key = {});

// Short human label: `Movie Title (2020)`, `Show (2008) S01E02`.
std::string describe(const Item& item);

}  // namespace cw::engine
