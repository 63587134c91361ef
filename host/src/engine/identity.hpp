#pragma once
// Identity (R1.2–R1.5): id normalisation, canonical keys, alias matching and the Index
// that holds one entry per item.
//
// Invariants:
// * Id spaces are per kind (R1.3 Fix): every key and alias token starts with the item
//   kind, so a movie and a show never match even when they share a tmdb or trakt number.
// * Two items match iff they share an alias token (see alias_tokens); same_item and the
//   Index agree on that by construction.
// * An Index never holds two entries that match: adding an item that matches one or more
//   entries merges them (ids unioned, the later item's values win, R1.4/R1.5).
// * Title matching (R1.4) works between two indexes only, never inside one: an entry
//   without any usable id matches the entry with ids of the other index whose kind,
//   normalised title (trimmed, lower case) and year agree, when it is the only entry there
//   that qualifies; two or more make it ambiguous, and it matches none (never a guess).

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <cw/engine/item.hpp>

namespace cw::engine {

// R1.2. Returns the normalised value, or nullopt when it normalises to nothing.
std::optional<std::string> normalize_id(IdKind kind, std::string_view raw);
// Reference §1.3: `imdb://tt..`, `tmdb://[movie/|show/|tv/]N`, `tvdb://[series/|show/|tv/]N`,
// `com.plexapp.agents.{imdb,themoviedb,thetvdb}://..` and `plex://...` (kept whole as
// `guid`). Case-insensitive; agent suffixes such as `?lang=en` are ignored. Returns false
// when the string is not a recognised GUID.
bool parse_guid(std::string_view guid, Ids& out);

// R1.3: `<kind>:<id kind>:<value>` for the best id; seasons and episodes use the show's
// best id plus `#season:S` / `#sSSeEE`; with no usable id,
// `<kind>|title:<lower title>|year:<year>` (episodes add the fragment).
std::string canonical_key(const Item& item);

// Every alias token of an item (R1.4): one per matchable id, in the item's kind space;
// episodes use the show's ids plus the S/E fragment, plus their own episode-level ids
// that are not copies of the show's. Items without ids get a title/year token.
std::vector<std::string> alias_tokens(const Item& item);
// Calls `fn` once per alias token, reusing one buffer (no allocation per token).
void for_each_alias_token(const Item& item, const std::function<void(std::string_view)>& fn);

bool same_item(const Item& a, const Item& b);

// How one index looks another's entries up. Title matching is always on; `year_tolerance`
// (0 or 1, cw.yaml `sync.matching.year_tolerance`) lets the years of a title match differ
// by that much.
struct MatchOptions {
  int year_tolerance = 0;
};

// The answer of Index::match: where the entry is, and whether it was found by title.
struct Match {
  std::optional<std::size_t> pos;
  bool by_title = false;
  // Title matching that found no single answer (never a guess): the entries of this index
  // that qualified. Ambiguous when there are two or more, or when the one found here has
  // another candidate on the probe's own side (`candidates_elsewhere`).
  std::vector<std::size_t> candidates;
  bool candidates_elsewhere = false;
  bool ambiguous() const { return !pos && (candidates.size() > 1 || candidates_elsewhere); }
};

// Merges `newer` into `into`: ids and show ids unioned with newer values winning, and
// every field `newer` carries replaces the older one. With `history`, watched_at keeps the
// latest of the two.
void merge_item(Item& into, const Item& newer, bool history);

// History (ABI 1.1): the `extra` of each play that carried its own (the service's play id),
// ascending by watched_at; removing one play sends that play's extra back. Boxed: most
// entries, and every entry of the other features, have none, and an empty box is one
// pointer where an empty vector is three (two 100k-item indexes: 3 MiB, issue 13 §6).
class PlayExtras {
 public:
  using List = std::vector<std::pair<Instant, nlohmann::json>>;

  PlayExtras() = default;
  PlayExtras(const PlayExtras& o)
      : m_list(o.m_list ? std::make_unique<List>(*o.m_list) : nullptr) {}
  PlayExtras(PlayExtras&&) noexcept = default;
  PlayExtras& operator=(const PlayExtras& o) {
    if (this != &o) m_list = o.m_list ? std::make_unique<List>(*o.m_list) : nullptr;
    return *this;
  }
  PlayExtras& operator=(PlayExtras&&) noexcept = default;

  bool empty() const { return !m_list || m_list->empty(); }
  const List& list() const {
    static const List k_none;
    return m_list ? *m_list : k_none;
  }
  // The list to change; release_if_empty() after a change that may have emptied it.
  List& edit() {
    if (!m_list) m_list = std::make_unique<List>();
    return *m_list;
  }
  void release_if_empty() {
    if (m_list && m_list->empty()) m_list.reset();
  }

 private:
  std::unique_ptr<List> m_list;
};

// History: the watched_at of every play merged into an entry, ascending, unique (Index
// keeps them so). One pointer: an entry of the other features has none, and a 100k-item
// index is the planner's memory; a std::vector here cost 16 bytes more an entry.
class Plays {
 public:
  using value_type = Instant;
  using iterator = const Instant*;
  using const_iterator = const Instant*;

  Plays() = default;
  Plays(std::initializer_list<Instant> plays) {
    for (const Instant p : plays) push_back(p);
  }
  Plays(const Plays& o) { *this = o; }
  Plays(Plays&& o) noexcept : m_block(std::exchange(o.m_block, nullptr)) {}
  Plays& operator=(const Plays& o) {
    if (this != &o) {
      clear();
      for (const Instant p : o) push_back(p);
    }
    return *this;
  }
  Plays& operator=(Plays&& o) noexcept {
    if (this != &o) {
      clear();
      m_block = std::exchange(o.m_block, nullptr);
    }
    return *this;
  }
  ~Plays() { clear(); }

  const Instant* begin() const { return m_block ? m_block + 1 : nullptr; }
  const Instant* end() const { return m_block ? m_block + 1 + size() : nullptr; }
  std::size_t size() const { return m_block ? static_cast<std::uint32_t>(m_block[0]) : 0; }
  bool empty() const { return size() == 0; }
  Instant back() const { return m_block[size()]; }

  void push_back(Instant play);
  void append(const Plays& other) {
    for (const Instant p : other) push_back(p);
  }
  // Removes every play at `play`.
  void erase(Instant play);
  // Sorted, each instant once.
  void sort_unique();
  void clear() {
    std::free(m_block);
    m_block = nullptr;
  }
  std::vector<Instant> to_vector() const { return {begin(), end()}; }

  friend bool operator==(const Plays& a, const Plays& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const Plays& a, const std::vector<Instant>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::size_t capacity() const {
    return m_block ? static_cast<std::uint64_t>(m_block[0]) >> 32 : 0;
  }
  void set_header(std::size_t size, std::size_t capacity) {
    m_block[0] = static_cast<Instant>((static_cast<std::uint64_t>(capacity) << 32) | size);
  }
  // One malloc'd block: [0] the size (low 32 bits) and capacity (high 32 bits), then the
  // plays. One play fits the smallest block malloc hands out.
  Instant* m_block = nullptr;
};

struct IndexEntry {
  std::string key;
  Item item;
  Plays plays;
  PlayExtras play_extras;

  // The extra of the play at `when`, or null when that play carried none.
  const nlohmann::json* extra_of_play(Instant when) const;
};

// Open-addressing map from a 64-bit token hash to an entry position (linear probing,
// backward-shift deletion). One flat array instead of one heap node per token: the
// planner's hot path is one probe per alias token.
class TokenMap {
 public:
  static constexpr std::uint32_t k_none = 0xffffffffu;
  static constexpr std::uint32_t k_many = 0xfffffffeu;  // a value: "more than one"

  void reserve(std::size_t n);
  std::uint32_t find(std::uint64_t h) const;
  void put(std::uint64_t h, std::uint32_t pos);
  void erase(std::uint64_t h);
  std::size_t size() const { return m_size; }

 private:
  // 12 bytes, not 16: the hash is split so that the slot needs only 4-byte alignment.
  struct Slot {
    std::uint32_t lo = 0, hi = 0;  // the hash; 0: empty
    std::uint32_t pos = 0;
    std::uint64_t hash() const { return (static_cast<std::uint64_t>(hi) << 32) | lo; }
    Slot() = default;
    Slot(std::uint64_t h, std::uint32_t p)
        : lo(static_cast<std::uint32_t>(h)), hi(static_cast<std::uint32_t>(h >> 32)), pos(p) {}
  };
  void grow();
  void rehash(std::size_t cap);  // cap: a power of two
  std::vector<Slot> m_slots;
  std::size_t m_size = 0;
};

class Index {
 public:
  // `history`: entries collect plays and keep the latest watched_at.
  explicit Index(bool history = false) : m_history(history) {}
  static Index build(std::vector<Item> items, bool history = false);

  void reserve(std::size_t n);
  // Adds `item`, merging it with every entry it matches. Returns the entry's position.
  // Positions of other entries may change when entries merge.
  std::size_t add(Item item);
  // Removes the entry at `pos` (the last entry takes its place).
  void erase(std::size_t pos);
  // History: removes one play of the entry at `pos`; the entry goes when none is left.
  void erase_play(std::size_t pos, Instant play);

  std::optional<std::size_t> find(const Item& probe) const;
  const IndexEntry* find_entry(const Item& probe) const;
  // The entry matching entry `pos` of `other`: by alias tokens (reusing its token hashes:
  // no string work), else by title (R1.4, see the header comment), which builds title
  // strings only when one side has entries without ids.
  Match match(const Index& other, std::size_t pos, MatchOptions opt = {}) const;
  std::optional<std::size_t> find(const Index& other, std::size_t pos, MatchOptions opt = {}) const;
  const IndexEntry* find_entry(const Index& other, std::size_t pos, MatchOptions opt = {}) const;
  std::optional<std::size_t> find_key(std::string_view key) const;

  const std::vector<IndexEntry>& entries() const { return m_entries; }
  std::size_t size() const { return m_entries.size(); }
  bool empty() const { return m_entries.empty(); }
  bool history() const { return m_history; }
  // Items as stored; with `expand_plays` one item per play (history baselines).
  std::vector<Item> to_items(bool expand_plays) const;
  // The same, moving the items out; the index is left empty.
  std::vector<Item> release_items(bool expand_plays);

 private:
  struct HashRef {
    std::uint32_t offset = 0;
    std::uint32_t count = 0;
    bool title_only = false;  // the entry has no usable id: its one token is its title
  };
  const std::uint64_t* hashes(std::size_t pos) const {
    return m_hash_pool.data() + m_hash_refs[pos].offset;
  }
  std::optional<std::size_t> find_hashes(const std::uint64_t* h, std::size_t n) const;
  void set_hashes(std::size_t pos, const std::vector<std::uint64_t>& h, bool title_only);
  void unregister(std::size_t pos);
  // Title matching: entries with ids by title hash (built on demand), and how many
  // title-only entries there are.
  void build_title_view() const;
  void with_ids_by_title(std::uint64_t h, std::vector<std::uint32_t>& out) const;
  std::size_t title_only_entries() const;

  bool m_history;
  std::vector<IndexEntry> m_entries;
  std::vector<HashRef> m_hash_refs;  // per entry: its token hashes in m_hash_pool
  std::vector<std::uint64_t> m_hash_pool;
  TokenMap m_map;
  // Key hash -> position, built on demand (settlement looks keys up; planning does not).
  // Keys are unique in an index (equal keys share an alias token, so they merge); a find
  // compares the key itself, so a hash collision can only miss, never return another entry.
  mutable TokenMap m_by_key;
  mutable bool m_by_key_valid = false;
  // Title hash of every entry with ids -> its position, or k_many when several share it.
  // Built when a title match first needs it; planning does not change an index.
  mutable TokenMap m_titles;
  mutable std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> m_title_dups;
  mutable bool m_titles_valid = false;
  mutable std::size_t m_title_only = 0;
  mutable bool m_title_only_valid = false;
};

// Why entry `pos` of `mine` did or did not match an entry of `other` (`cw match`): its
// tokens, what it matched and by which rule, or why nothing qualified.
struct MatchExplanation {
  std::string key;
  std::string label;                // describe(item)
  std::vector<std::string> tokens;  // its alias tokens (R1.4)
  bool has_ids = false;             // false: it can match only by title and year
  std::string rule;                 // "ids", "title", "ambiguous" or "none"
  std::string match_key;            // the entry it matched (rule ids or title)
  std::string match_label;
  std::vector<std::string> shared;      // rule ids: the tokens both carry
  std::vector<std::string> candidates;  // ambiguous: the keys that qualified
  bool candidates_elsewhere = false;    // ambiguous: its one candidate has another match
  // Entries of `other` with the same normalised title that did not match, each with why.
  std::vector<std::pair<std::string, std::string>> near;
  std::string summary;  // one sentence
};
MatchExplanation explain_match(const Index& mine, std::size_t pos, const Index& other,
                               MatchOptions opt = {});

}  // namespace cw::engine
