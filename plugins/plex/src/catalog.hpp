// The library as the plugin keeps it between calls: every movie, show, season and episode it
// read, and the GUID index that lets a write find a row's rating key by any external id.
//
// A full read of a big library (195,000 rows in the benchmark of issue 15) is kept for the
// run, so its size is the plugin's memory: as a map of Row structs with an Ids map each and
// four string-keyed indexes it cost ~1.8 KiB a row (339 MiB in all). Here a row is a fixed
// record (~80 bytes) plus its text packed into shared chunks (rating key, title, section,
// show key, ids: ~130 bytes), and the indexes are one open-addressed table of row numbers
// (8 bytes a slot). A key is never stored: a slot keeps 32 bits of the key's hash and the
// row, and every hit is confirmed against the row itself, so a hash collision costs a probe,
// never a wrong row.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace plex {

// One movie, show, season or episode of the library, with the token owner's state.
struct Row {
  std::string rk;
  cwsdk::ItemType type = cwsdk::ItemType::movie;
  std::string title;
  std::optional<int> year;
  cwsdk::Ids ids;
  std::string section;
  std::string show_rk;  // episodes and seasons
  std::optional<int> season, episode;
  std::int64_t view_count = 0;
  std::optional<std::int64_t> last_viewed_at;  // epoch seconds
  std::int64_t view_offset = 0;                // ms
  std::int64_t duration = 0;                   // ms
  std::optional<double> user_rating;
  std::optional<std::int64_t> last_rated_at;  // epoch seconds
};

class Catalog {
 public:
  cwsdk::Completeness read;  // combined over every page of every section
  std::int64_t left_out = 0;
  std::string left_out_reason;

  // Keeps a row read; false (nothing kept) when its rating key was read before: a row
  // repeated across pages is read once. For the GUID index the first row read wins.
  bool add(const Row& r) {
    if (find_rk(r.rk)) return false;
    // At most this many keys (rating key, ids, episode or season) go into the index.
    const std::size_t keys = 2 + r.ids.size();
    if ((m_filled + keys) * 4 > m_slots.size() * 3) rebuild(m_filled + keys);
    const auto n = static_cast<std::uint32_t>(m_rows.size());
    m_rows.push_back(pack(r));
    index_row(r, n);
    return true;
  }

  std::size_t size() const { return m_rows.size(); }
  // The i-th row in reading order.
  Row at(std::size_t i) const { return unpack(m_rows[i]); }

  std::optional<Row> find_rk(std::string_view rk) const {
    return find(key_rk(rk), [&](const Row& r) { return r.rk == rk; });
  }
  // The first row read of `type` with that id (ids as Ids::entries() names them).
  std::optional<Row> find_id(cwsdk::ItemType type, std::string_view kind,
                             std::string_view value) const {
    return find(key_id(type, kind, value), [&](const Row& r) {
      if (r.type != type) return false;
      const auto v = r.ids.get(kind);
      return v && *v == value;
    });
  }
  std::optional<Row> find_episode(std::string_view show_rk, int season, int episode) const {
    return find(key_episode(show_rk, season, episode), [&](const Row& r) {
      return r.type == cwsdk::ItemType::episode && r.show_rk == show_rk && r.season == season &&
             r.episode == episode;
    });
  }
  std::optional<Row> find_season(std::string_view show_rk, int season) const {
    return find(key_season(show_rk, season), [&](const Row& r) {
      return r.type == cwsdk::ItemType::season && r.show_rk == show_rk && r.season == season;
    });
  }

 private:
  // The fixed part of a row. Absent numbers are kept as k_none (year, season, episode) or 0
  // (dates, the rating: Row's readers treat 0 as none, see read_row in plex.hpp).
  struct Packed {
    std::uint32_t chunk = 0, offset = 0;  // where its text starts
    std::int32_t year = k_none, season = k_none, episode = k_none;
    cwsdk::ItemType type = cwsdk::ItemType::movie;
    std::int64_t view_count = 0, last_viewed_at = 0, view_offset = 0, duration = 0;
    std::int64_t last_rated_at = 0;
    double user_rating = 0;
  };
  static constexpr std::int32_t k_none = INT32_MIN;
  static constexpr std::size_t k_chunk = 1 << 20;

  // ---------------------------------------------------------------- text
  // A row's text: rating key, title, section, show key, the number of ids, then each id's
  // kind and value; every string a varint length and its bytes.
  static void put_varint(std::string& out, std::size_t n) {
    while (n >= 0x80) {
      out.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
  }
  static void put_text(std::string& out, std::string_view s) {
    put_varint(out, s.size());
    out.append(s);
  }
  // Reading back what put_* wrote in this process: no bounds to check beyond its own.
  static std::size_t get_varint(const char*& p) {
    std::size_t n = 0;
    for (int shift = 0;; shift += 7) {
      const auto b = static_cast<unsigned char>(*p++);
      n |= static_cast<std::size_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return n;
    }
  }
  static std::string_view get_text(const char*& p) {
    const std::size_t n = get_varint(p);
    std::string_view s(p, n);
    p += n;
    return s;
  }

  Packed pack(const Row& r) {
    std::string text;
    put_text(text, r.rk);
    put_text(text, r.title);
    put_text(text, r.section);
    put_text(text, r.show_rk);
    put_varint(text, r.ids.size());
    for (const auto& [kind, value] : r.ids.entries()) {
      put_text(text, kind);
      put_text(text, value);
    }
    Packed p;
    // A row's text never spans two chunks; a row longer than a chunk gets one of its own.
    if (m_chunks.empty() || m_used + text.size() > m_chunk_size) {
      m_chunk_size = std::max(k_chunk, text.size());
      m_chunks.push_back(std::make_unique<char[]>(m_chunk_size));
      m_used = 0;
    }
    std::memcpy(m_chunks.back().get() + m_used, text.data(), text.size());
    p.chunk = static_cast<std::uint32_t>(m_chunks.size() - 1);
    p.offset = static_cast<std::uint32_t>(m_used);
    m_used += text.size();
    p.type = r.type;
    p.year = r.year.value_or(k_none);
    p.season = r.season.value_or(k_none);
    p.episode = r.episode.value_or(k_none);
    p.view_count = r.view_count;
    p.last_viewed_at = r.last_viewed_at.value_or(0);
    p.view_offset = r.view_offset;
    p.duration = r.duration;
    p.last_rated_at = r.last_rated_at.value_or(0);
    p.user_rating = r.user_rating.value_or(0);
    return p;
  }

  Row unpack(const Packed& p) const {
    Row r;
    const char* c = m_chunks[p.chunk].get() + p.offset;
    r.rk = get_text(c);
    r.title = get_text(c);
    r.section = get_text(c);
    r.show_rk = get_text(c);
    for (std::size_t n = get_varint(c); n > 0; --n) {
      const auto kind = get_text(c);
      const auto value = get_text(c);
      r.ids.set(kind, value);  // stored normalised: set keeps it as it is
    }
    r.type = p.type;
    if (p.year != k_none) r.year = p.year;
    if (p.season != k_none) r.season = p.season;
    if (p.episode != k_none) r.episode = p.episode;
    r.view_count = p.view_count;
    if (p.last_viewed_at != 0) r.last_viewed_at = p.last_viewed_at;
    r.view_offset = p.view_offset;
    r.duration = p.duration;
    if (p.last_rated_at != 0) r.last_rated_at = p.last_rated_at;
    if (p.user_rating != 0) r.user_rating = p.user_rating;
    return r;
  }

  // ---------------------------------------------------------------- index
  // Keys are only hashed; their first byte keeps the four kinds apart.
  static std::uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  static std::uint64_t key_rk(std::string_view rk) { return hash(std::string("r") += rk); }
  static std::uint64_t key_id(cwsdk::ItemType type, std::string_view kind, std::string_view value) {
    std::string k = "i";
    k += cwsdk::item_type_name(type);
    k += '|';
    k += kind;
    k += ':';
    k += value;
    return hash(k);
  }
  static std::uint64_t key_episode(std::string_view show, int season, int episode) {
    return hash("e" + std::string(show) + "#" + std::to_string(season) + "x" +
                std::to_string(episode));
  }
  static std::uint64_t key_season(std::string_view show, int season) {
    return hash("s" + std::string(show) + "#" + std::to_string(season));
  }

  // A slot: the hash's high 32 bits and the row number + 1 (0: empty), probed linearly from
  // the hash's low bits.
  void index_row(const Row& r, std::uint32_t n) {
    index(key_rk(r.rk), n);
    for (const auto& [kind, value] : r.ids.entries()) {
      if (!find_id(r.type, kind, value)) index(key_id(r.type, kind, value), n);
    }
    if (r.type == cwsdk::ItemType::episode && r.season && r.episode &&
        !find_episode(r.show_rk, *r.season, *r.episode))
      index(key_episode(r.show_rk, *r.season, *r.episode), n);
    if (r.type == cwsdk::ItemType::season && r.season && !find_season(r.show_rk, *r.season))
      index(key_season(r.show_rk, *r.season), n);
  }
  void index(std::uint64_t h, std::uint32_t row) {
    const std::size_t mask = m_slots.size() - 1;
    std::size_t i = h & mask;
    while (m_slots[i] != 0) i = (i + 1) & mask;
    m_slots[i] = (h >> 32) << 32 | (static_cast<std::uint64_t>(row) + 1);
    ++m_filled;
  }
  // A bigger table (kept at most 3/4 full), filled again from the rows in reading order: a
  // slot no longer has the low bits of its hash, and the same order gives the same first
  // rows.
  void rebuild(std::size_t entries) {
    std::size_t size = m_slots.empty() ? 1024 : m_slots.size() * 2;
    while (entries * 4 > size * 3) size *= 2;
    m_slots.assign(size, 0);
    m_filled = 0;
    for (std::size_t i = 0; i < m_rows.size(); ++i)
      index_row(unpack(m_rows[i]), static_cast<std::uint32_t>(i));
  }

  template <class Match>
  std::optional<Row> find(std::uint64_t h, Match match) const {
    if (m_slots.empty()) return std::nullopt;
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t i = h & mask; m_slots[i] != 0; i = (i + 1) & mask) {
      if ((m_slots[i] >> 32) != (h >> 32)) continue;
      Row r = unpack(m_rows[(m_slots[i] & 0xffffffffu) - 1]);
      if (match(r)) return r;
    }
    return std::nullopt;
  }

  std::vector<Packed> m_rows;  // reading order
  std::vector<std::unique_ptr<char[]>> m_chunks;
  std::size_t m_chunk_size = 0, m_used = 0;
  std::vector<std::uint64_t> m_slots;
  std::size_t m_filled = 0;
};

}  // namespace plex
