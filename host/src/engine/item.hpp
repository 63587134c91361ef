#pragma once
// The engine's item model (R1.1) and its ABI JSON form (sdk/schema/item.schema.json).
//
// Invariant: every Item that leaves item_from_json has normalised ids (R1.2), so identity
// code never re-normalises. Items built by hand must go through Ids::set, which
// normalises as well.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/packed_optional.hpp>
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
  // Any other kind a provider sends ("anidb2", "letterboxd"...): kept and matched like the
  // others (ABI.md promises it), never used for canonical keys. Unlike the named kinds an
  // Ids may hold several, each stored as "<lower-case name>:<value>".
  other = 0xFE,
};
// The named kinds (`other` excluded); equal to the kit's list.
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
//
// Stored packed in one small buffer (per id: kind byte, length byte, value bytes) that
// lives inline for the usual two or three ids and on the heap beyond that: an Item in a
// 100k-entry Index would otherwise pay a vector plus one string per id. Values are at
// most k_max_value bytes (longer ones are not ids and are not stored). Aligned to 8 so
// that the heap pointer in the buffer is an aligned word (leak checkers scan only those);
// inside Item that costs no padding.
class alignas(8) Ids {
 public:
  static constexpr std::size_t k_max_value = 255;
  // At most this many ids of kinds cw has no name for, and this many bytes in all; more
  // are dropped (an item with more ids than that is not one a service sent honestly).
  static constexpr std::size_t k_max_other = 16;
  static constexpr std::size_t k_max_bytes = 4096;

  struct Entry {
    IdKind kind;
    std::string_view value;  // points into the Ids; valid until it is modified
    bool operator==(const Entry& o) const { return kind == o.kind && value == o.value; }
  };
  class Iterator {
   public:
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    using pointer = void;
    using reference = Entry;
    Iterator() = default;
    explicit Iterator(const unsigned char* p) : m_p(p) {}
    Entry operator*() const {
      return Entry{static_cast<IdKind>(m_p[0]),
                   std::string_view(reinterpret_cast<const char*>(m_p + 2), m_p[1])};
    }
    Iterator& operator++() {
      m_p += 2 + m_p[1];
      return *this;
    }
    Iterator operator++(int) {
      Iterator t = *this;
      ++*this;
      return t;
    }
    bool operator==(const Iterator& o) const { return m_p == o.m_p; }

   private:
    const unsigned char* m_p = nullptr;
  };
  struct Range {
    Iterator first, last;
    Iterator begin() const { return first; }
    Iterator end() const { return last; }
  };

  Ids() noexcept = default;
  Ids(const Ids& o);
  Ids(Ids&& o) noexcept;
  Ids& operator=(const Ids& o);
  Ids& operator=(Ids&& o) noexcept;
  ~Ids();

  // Normalises `raw` for `kind` (R1.2) and stores it; returns false (and stores nothing)
  // when the value normalises to nothing. Plex GUID strings given for `plex` or `guid` are
  // parsed into the ids they carry.
  bool set(IdKind kind, std::string_view raw);
  // Stores an already-normalised value (ignored when longer than k_max_value). For
  // IdKind::other the value is "<name>:<value>" and replaces the entry of that name.
  void set_normalised(IdKind kind, std::string_view value);
  // Stores an id of a kind cw has no name for; `name` is lower-cased. False (nothing
  // stored) when the name is not [a-z0-9_.-]{1,40} or the value is empty or too long.
  bool set_other(std::string_view name, std::string_view value);
  void erase(IdKind kind);
  // The value for `kind`, viewing into this Ids (valid until it is modified). For
  // IdKind::other, the first such entry; iterate entries() to see them all.
  std::optional<std::string_view> get(IdKind kind) const;
  bool has(IdKind kind) const { return get(kind).has_value(); }
  bool empty() const { return m_size == 0; }
  std::size_t size() const;
  // Iterable view of the entries, in kind order.
  Range entries() const {
    const auto* d = reinterpret_cast<const unsigned char*>(data());
    return Range{Iterator(d), Iterator(d + m_size)};
  }
  Iterator begin() const { return entries().first; }
  Iterator end() const { return entries().last; }
  // Union; on a kind present in both, `newer`'s value wins (R1.4, R1.5).
  void merge_from(const Ids& newer);
  // True when some matchable (not server-local) kind has the same value in both.
  bool intersects(const Ids& other) const;

  bool operator==(const Ids& o) const {
    return m_size == o.m_size && std::memcmp(data(), o.data(), m_size) == 0;
  }

 private:
  static constexpr std::uint16_t k_inline = 28;
  bool on_heap() const { return m_cap > k_inline; }
  std::size_t others() const;
  char* heap_ptr() const {
    char* p;
    std::memcpy(&p, m_buf, sizeof p);
    return p;
  }
  const char* data() const { return on_heap() ? heap_ptr() : m_buf; }
  char* data() { return on_heap() ? heap_ptr() : m_buf; }
  // Replaces `old_len` bytes at `pos` with `bytes`.
  void splice(std::size_t pos, std::size_t old_len, std::string_view bytes);

  // Inline bytes, or (when m_cap > k_inline) the heap pointer in the first 8 bytes.
  char m_buf[k_inline] = {};
  std::uint16_t m_size = 0;
  std::uint16_t m_cap = k_inline;
};

// Member order (no padding holes) and PackedOptional keep an Item at 216 bytes (was 256):
// an Index holds one per entry, and plans copy them. Nothing relies on the order (no
// aggregate initialisation by position).
struct Item {
  std::string title;
  // Seasons and episodes: the show they belong to.
  std::string show_title;
  int year = 0;  // 0: unknown
  int show_year = 0;
  int season = -1;   // -1: unknown
  int episode = -1;  // -1: unknown
  ItemKind kind = ItemKind::movie;
  // ABI 1.1, in the padding before `ids` (the Item stays 216 bytes): a multi-episode
  // file's last episode, an anime episode's absolute number, and the progress of a
  // service that stores only a percentage, in hundredths of a percent (0..10000).
  PackedOptional<std::int16_t> episode_end;
  PackedOptional<std::int16_t> absolute_episode;
  PackedOptional<std::int16_t> progress_bp;
  Ids ids;
  Ids show_ids;
  PackedOptional<Instant> watched_at;
  PackedOptional<double> rating;  // 0..10
  PackedOptional<Instant> rated_at;
  PackedOptional<std::int64_t> progress_ms;
  PackedOptional<std::int64_t> duration_ms;
  PackedOptional<Instant> progress_at;
  nlohmann::json extra;  // provider-private; null when absent; passed back unchanged

  bool operator==(const Item&) const = default;
};

// How much one item of a plugin reply may carry (cw.yaml `plugins.max_field` and
// `plugins.max_extra`). An item past them is refused with a line saying which field: a
// megabyte title is a plugin bug, and stored it would be copied into every plan and baseline.
struct ItemLimits {
  std::size_t max_text = 4096;        // title, show title: bytes
  std::size_t max_extra = 64 * 1024;  // the provider-private `extra` document, bytes as JSON
  // For cw's own documents (state, plans): what was accepted once is read back whatever the
  // limits are now, so lowering them never makes a stored baseline unreadable.
  static constexpr ItemLimits unbounded() {
    return {std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max()};
  }
};

// Parses one ABI item. Unknown fields are ignored; ids are normalised; Jellyfin/Emby
// `ProviderIds` objects (in `ids` or at top level) and Plex `guid`/`Guid` lists are read.
// Fails when the document is not an object, `type` is unknown, a value is out of its range
// or a field is past `limits`.
Result<Item> item_from_json(const nlohmann::json& j, const ItemLimits& limits = {});
// The ABI form; `key` is added when not empty (write requests).
nlohmann::json item_to_json(const Item& item, std::string_view key = {});

// Short human label: `Movie Title (2020)`, `Show (2008) S01E02`.
std::string describe(const Item& item);

}  // namespace cw::engine
