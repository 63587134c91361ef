#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <unordered_set>

#include <cw/engine/identity.hpp>
#include <cw/engine/sdk_ids.hpp>
#include <cw/util/strings.hpp>

namespace cw::engine {
namespace {

// A numeric Plex id is a server's ratingKey; only `plex://` GUIDs are global.
bool matchable(const Ids::Entry& e) {
  if (is_server_local(e.kind)) return false;
  if (e.kind == IdKind::plex) return e.value.starts_with("plex://");
  return true;
}

bool has_matchable(const Ids& ids) {
  return std::any_of(ids.entries().begin(), ids.entries().end(), matchable);
}

// Best id for a key (R1.3 priority = the enum order of the first twelve kinds).
std::optional<Ids::Entry> best_id(const Ids& ids) {
  for (const auto e : ids.entries()) {
    if (static_cast<int>(e.kind) <= static_cast<int>(IdKind::slug) && matchable(e)) return e;
  }
  return std::nullopt;
}

void append_episode_fragment(std::string& out, int season, int episode) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "#s%02de%02d", season, episode);
  out += buf;
}

void append_season_fragment(std::string& out, int season) {
  out += "#season:";
  out += std::to_string(season);
}

// The year a title key uses: the show's for seasons and episodes when it has one.
int title_year(const Item& item) {
  const bool child = item.kind == ItemKind::season || item.kind == ItemKind::episode;
  return child && item.show_year > 0 ? item.show_year : item.year;
}

// `year_delta` moves the year (title matching with a year tolerance); a key without a year
// has none to move.
void append_title_key(std::string& out, const Item& item, int year_delta = 0) {
  const bool child = item.kind == ItemKind::season || item.kind == ItemKind::episode;
  const std::string& title = child && !item.show_title.empty() ? item.show_title : item.title;
  const int year = title_year(item);
  out += to_string(item.kind);
  out += "|title:";
  out += util::to_lower(util::trim(title));
  out += "|year:";
  if (year > 0) out += std::to_string(year + year_delta);
}

bool has_title(const Item& item) {
  return !util::trim(item.title).empty() || !util::trim(item.show_title).empty();
}

void append_id(std::string& out, ItemKind kind, const Ids::Entry& e) {
  out += to_string(kind);
  out += ':';
  out += to_string(e.kind);
  out += ':';
  out += e.value;
}

// The full title token (key, year, season/episode fragment) of an item, as an item without
// ids carries it; false when the item has no title.
bool title_token(const Item& item, int year_delta, std::string& buf) {
  if (!has_title(item)) return false;
  buf.clear();
  append_title_key(buf, item, year_delta);
  if (item.kind == ItemKind::episode && item.season >= 0 && item.episode >= 0)
    append_episode_fragment(buf, item.season, item.episode);
  if (item.kind == ItemKind::season && item.season >= 0) append_season_fragment(buf, item.season);
  return true;
}

// The one definition of alias tokens; keys, matching and the Index all derive from it.
// Returns whether the item had ids to match by (false: its one token, if any, is its title).
template <typename F>
bool tokens_impl(const Item& item, std::string& buf, F&& fn) {
  bool any = false;
  auto emit_id = [&](const Ids::Entry& e, auto&& suffix) {
    buf.clear();
    append_id(buf, item.kind, e);
    suffix(buf);
    fn(std::string_view(buf));
    any = true;
  };
  auto none = [](std::string&) {};
  switch (item.kind) {
    case ItemKind::movie:
    case ItemKind::show:
      for (const auto& e : item.ids.entries()) {
        if (matchable(e)) emit_id(e, none);
      }
      break;
    case ItemKind::season: {
      const Ids& src = has_matchable(item.show_ids) ? item.show_ids : item.ids;
      if (item.season >= 0) {
        auto frag = [&](std::string& b) { append_season_fragment(b, item.season); };
        for (const auto& e : src.entries()) {
          if (matchable(e)) emit_id(e, frag);
        }
      } else {
        for (const auto& e : item.ids.entries()) {
          if (matchable(e)) emit_id(e, none);
        }
      }
      break;
    }
    case ItemKind::episode: {
      const bool has_show = has_matchable(item.show_ids);
      auto own_level = [&](const Ids::Entry& e) {
        // Providers such as Tautulli copy the show's ids into the episode's: those say
        // nothing about the episode itself.
        if (!has_show) return true;
        const auto show_value = item.show_ids.get(e.kind);
        return !show_value || *show_value != e.value;
      };
      if (item.season >= 0 && item.episode >= 0) {
        const Ids& src = has_show ? item.show_ids : item.ids;
        auto frag = [&](std::string& b) { append_episode_fragment(b, item.season, item.episode); };
        for (const auto& e : src.entries()) {
          if (matchable(e)) emit_id(e, frag);
        }
        if (has_show) {
          for (const auto& e : item.ids.entries()) {
            if (matchable(e) && own_level(e)) emit_id(e, none);
          }
        }
      } else {
        for (const auto& e : item.ids.entries()) {
          if (matchable(e) && own_level(e)) emit_id(e, none);
        }
      }
      break;
    }
  }
  if (!any && title_token(item, 0, buf)) fn(std::string_view(buf));
  return any;
}

std::uint64_t hash_token(std::string_view t) {
  const std::uint64_t h = std::hash<std::string_view>{}(t);
  return h == 0 ? 1 : h;  // 0 marks an empty TokenMap slot
}

// Returns whether the item's one token is its title (no usable id).
bool token_hashes(const Item& item, std::vector<std::uint64_t>& out) {
  thread_local std::string buf;
  out.clear();
  const bool ids =
      tokens_impl(item, buf, [&](std::string_view t) { out.push_back(hash_token(t)); });
  return !ids && !out.empty();
}

// The hash of an item's title token with its year moved by `year_delta`; nullopt without a
// title, or without a year to move.
std::optional<std::uint64_t> title_hash(const Item& item, int year_delta) {
  if (year_delta != 0 && title_year(item) <= 0) return std::nullopt;
  thread_local std::string buf;
  if (!title_token(item, year_delta, buf)) return std::nullopt;
  return hash_token(buf);
}

}  // namespace

std::optional<std::string> normalize_id(IdKind kind, std::string_view raw) {
  if (kind == IdKind::other) {
    const auto v = util::trim(raw);
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  }
  return cwsdk::normalize_id(detail::to_kit(kind), raw);
}

bool parse_guid(std::string_view guid, Ids& out) {
  auto id = cwsdk::parse_plex_guid(guid);
  if (!id) return false;
  out.set_normalised(detail::from_kit(id->kind), id->value);
  return true;
}

std::string canonical_key(const Item& item) {
  std::string out;
  switch (item.kind) {
    case ItemKind::movie:
    case ItemKind::show:
      if (const auto b = best_id(item.ids)) {
        append_id(out, item.kind, *b);
        return out;
      }
      break;
    case ItemKind::season:
    case ItemKind::episode: {
      std::optional<Ids::Entry> b = best_id(item.show_ids);
      if (!b) b = best_id(item.ids);
      const bool episode = item.kind == ItemKind::episode;
      const bool has_numbers = episode ? item.season >= 0 && item.episode >= 0 : item.season >= 0;
      if (b && has_numbers) {
        append_id(out, item.kind, *b);
        if (episode)
          append_episode_fragment(out, item.season, item.episode);
        else
          append_season_fragment(out, item.season);
        return out;
      }
      if (const auto own = best_id(item.ids)) {
        append_id(out, item.kind, *own);
        return out;
      }
      if (b) {
        append_id(out, item.kind, *b);
        return out;
      }
      break;
    }
  }
  if (!has_title(item)) return std::string(to_string(item.kind)) + "|unknown";
  append_title_key(out, item);
  if (item.kind == ItemKind::episode && item.season >= 0 && item.episode >= 0)
    append_episode_fragment(out, item.season, item.episode);
  if (item.kind == ItemKind::season && item.season >= 0) append_season_fragment(out, item.season);
  return out;
}

std::vector<std::string> alias_tokens(const Item& item) {
  std::vector<std::string> out;
  std::string buf;
  tokens_impl(item, buf, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

void for_each_alias_token(const Item& item, const std::function<void(std::string_view)>& fn) {
  std::string buf;
  tokens_impl(item, buf, fn);
}

bool same_item(const Item& a, const Item& b) {
  if (a.kind != b.kind) return false;
  std::unordered_set<std::string> ta;
  std::string buf;
  tokens_impl(a, buf, [&](std::string_view t) { ta.emplace(t); });
  bool hit = false;
  tokens_impl(b, buf, [&](std::string_view t) {
    if (!hit && ta.count(std::string(t))) hit = true;
  });
  return hit;
}

void merge_item(Item& into, const Item& newer, bool history) {
  if (!newer.title.empty()) into.title = newer.title;
  if (newer.year > 0) into.year = newer.year;
  into.ids.merge_from(newer.ids);
  if (!newer.show_title.empty()) into.show_title = newer.show_title;
  if (newer.show_year > 0) into.show_year = newer.show_year;
  into.show_ids.merge_from(newer.show_ids);
  if (newer.season >= 0) into.season = newer.season;
  if (newer.episode >= 0) into.episode = newer.episode;
  if (newer.watched_at) {
    if (history && into.watched_at)
      into.watched_at = std::max(*into.watched_at, *newer.watched_at);
    else
      into.watched_at = newer.watched_at;
  }
  if (newer.rating) into.rating = newer.rating;
  if (newer.rated_at) into.rated_at = newer.rated_at;
  if (newer.progress_ms) into.progress_ms = newer.progress_ms;
  if (newer.duration_ms) into.duration_ms = newer.duration_ms;
  if (newer.progress_at) into.progress_at = newer.progress_at;
  if (newer.progress_bp) into.progress_bp = newer.progress_bp;
  if (newer.episode_end) into.episode_end = newer.episode_end;
  if (newer.absolute_episode) into.absolute_episode = newer.absolute_episode;
  if (!newer.extra.is_null()) into.extra = newer.extra;
}

void TokenMap::reserve(std::size_t n) {
  // Load factor up to 0.8: linear probing stays short and the table stays small.
  std::size_t cap = 16;
  while (cap * 4 < n * 5) cap <<= 1;
  if (cap > m_slots.size()) rehash(cap);
}

void TokenMap::rehash(std::size_t cap) {
  std::vector<Slot> old = std::move(m_slots);
  m_slots.assign(cap, Slot{});
  m_size = 0;
  for (const auto& s : old) {
    if (s.hash() != 0) put(s.hash(), s.pos);
  }
}

// Twice the slots. (It once asked reserve() for room for twice as many *tokens* as slots,
// which at a load factor of 0.8 rounds up to four times the slots: 12 MiB instead of 6 for
// a 100k-item index that outgrew its reservation.)
void TokenMap::grow() { rehash(m_slots.empty() ? 16 : m_slots.size() * 2); }

std::uint32_t TokenMap::find(std::uint64_t h) const {
  if (m_slots.empty()) return k_none;
  const std::size_t mask = m_slots.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = m_slots[i];
    if (s.hash() == h) return s.pos;
    if (s.hash() == 0) return k_none;
  }
}

void TokenMap::put(std::uint64_t h, std::uint32_t pos) {
  if ((m_size + 1) * 5 > m_slots.size() * 4) grow();
  const std::size_t mask = m_slots.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = m_slots[i];
    if (s.hash() == h) {
      s.pos = pos;
      return;
    }
    if (s.hash() == 0) {
      s = Slot{h, pos};
      ++m_size;
      return;
    }
  }
}

void TokenMap::erase(std::uint64_t h) {
  if (m_slots.empty()) return;
  const std::size_t mask = m_slots.size() - 1;
  std::size_t i = h & mask;
  while (m_slots[i].hash() != h) {
    if (m_slots[i].hash() == 0) return;
    i = (i + 1) & mask;
  }
  // Backward shift: pull later entries of the probe run into the hole.
  std::size_t hole = i;
  for (std::size_t j = (hole + 1) & mask; m_slots[j].hash() != 0; j = (j + 1) & mask) {
    const std::size_t home = m_slots[j].hash() & mask;
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      m_slots[hole] = m_slots[j];
      hole = j;
    }
  }
  m_slots[hole] = Slot{};
  --m_size;
}

Index Index::build(std::vector<Item> items, bool history) {
  Index idx(history);
  idx.reserve(items.size());
  for (auto& it : items) idx.add(std::move(it));
  return idx;
}

void Index::reserve(std::size_t n) {
  m_entries.reserve(n);
  m_hash_refs.reserve(n);
  m_hash_pool.reserve(n * 2);
  m_map.reserve(n * 2);
}

void Index::set_hashes(std::size_t pos, const std::vector<std::uint64_t>& h, bool title_only) {
  HashRef ref{static_cast<std::uint32_t>(m_hash_pool.size()), static_cast<std::uint32_t>(h.size()),
              title_only};
  m_hash_pool.insert(m_hash_pool.end(), h.begin(), h.end());
  if (m_hash_refs.size() <= pos) m_hash_refs.resize(pos + 1);
  m_hash_refs[pos] = ref;
  for (auto x : h) m_map.put(x, static_cast<std::uint32_t>(pos));
}

void Index::unregister(std::size_t pos) {
  const auto* h = hashes(pos);
  for (std::uint32_t i = 0; i < m_hash_refs[pos].count; ++i) {
    if (m_map.find(h[i]) == pos) m_map.erase(h[i]);
  }
}

void Index::erase(std::size_t pos) {
  m_by_key_valid = false;
  m_titles_valid = false;
  m_title_only_valid = false;
  unregister(pos);
  const std::size_t last = m_entries.size() - 1;
  if (pos != last) {
    m_entries[pos] = std::move(m_entries[last]);
    m_hash_refs[pos] = m_hash_refs[last];
    const auto* h = hashes(pos);
    for (std::uint32_t i = 0; i < m_hash_refs[pos].count; ++i)
      m_map.put(h[i], static_cast<std::uint32_t>(pos));
  }
  m_entries.pop_back();
  m_hash_refs.pop_back();
}

void Plays::push_back(Instant play) {
  const std::size_t n = size();
  if (n == capacity()) {
    const std::size_t cap = n == 0 ? 1 : n * 2;
    auto* grown = static_cast<Instant*>(std::realloc(m_block, sizeof(Instant) * (cap + 1)));
    if (grown == nullptr) throw std::bad_alloc();
    m_block = grown;
    set_header(n, cap);
  }
  m_block[1 + n] = play;
  set_header(n + 1, capacity());
}

void Plays::erase(Instant play) {
  if (m_block == nullptr) return;
  Instant* first = m_block + 1;
  Instant* last = std::remove(first, first + size(), play);
  const auto n = static_cast<std::size_t>(last - first);
  if (n == 0) {
    clear();
    return;
  }
  set_header(n, capacity());
}

void Plays::sort_unique() {
  if (m_block == nullptr) return;
  Instant* first = m_block + 1;
  Instant* last = first + size();
  std::sort(first, last);
  set_header(static_cast<std::size_t>(std::unique(first, last) - first), capacity());
}

const nlohmann::json* IndexEntry::extra_of_play(Instant when) const {
  const auto& x = play_extras.list();
  const auto it = std::lower_bound(x.begin(), x.end(), when,
                                   [](const auto& p, Instant t) { return p.first < t; });
  return it != x.end() && it->first == when ? &it->second : nullptr;
}

namespace {

void note_play_extra(IndexEntry& e, const Item& item) {
  if (item.watched_at && !item.extra.is_null())
    e.play_extras.edit().emplace_back(*item.watched_at, item.extra);
}

// Sorted by watched_at, one per play (the later one of two at the same instant wins).
void normalise_play_extras(IndexEntry& e) {
  if (e.play_extras.empty()) return;
  auto& x = e.play_extras.edit();
  std::stable_sort(x.begin(), x.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<Instant, nlohmann::json>> out;
  for (auto& p : x) {
    if (!out.empty() && out.back().first == p.first)
      out.back() = std::move(p);
    else
      out.push_back(std::move(p));
  }
  x = std::move(out);
}

// One item per play, each with its own extra when it had one.
template <typename Entry, typename Out>
void expand_plays_into(Entry& e, Out& out) {
  for (auto p : e.plays) {
    out.push_back(e.item);
    out.back().watched_at = p;
    if (const auto* x = e.extra_of_play(p)) out.back().extra = *x;
  }
}

}  // namespace

void Index::erase_play(std::size_t pos, Instant play) {
  auto& e = m_entries[pos];
  e.plays.erase(play);
  if (!e.play_extras.empty()) {
    std::erase_if(e.play_extras.edit(), [play](const auto& p) { return p.first == play; });
    e.play_extras.release_if_empty();
  }
  if (e.plays.empty()) {
    erase(pos);
    return;
  }
  e.item.watched_at = e.plays.back();
}

std::size_t Index::add(Item item) {
  m_by_key_valid = false;
  m_titles_valid = false;
  m_title_only_valid = false;
  thread_local std::vector<std::uint64_t> h;
  const bool title_only = token_hashes(item, h);
  std::vector<std::size_t> hits;
  for (auto x : h) {
    const auto pos = m_map.find(x);
    if (pos != TokenMap::k_none && std::find(hits.begin(), hits.end(), pos) == hits.end())
      hits.push_back(pos);
  }
  if (hits.empty()) {
    IndexEntry e;
    e.key = canonical_key(item);
    if (m_history && item.watched_at) {
      e.plays.push_back(*item.watched_at);
      note_play_extra(e, item);
    }
    e.item = std::move(item);
    m_entries.push_back(std::move(e));
    set_hashes(m_entries.size() - 1, h, title_only);
    return m_entries.size() - 1;
  }
  std::sort(hits.begin(), hits.end());
  const std::size_t target = hits[0];
  for (auto pos : hits) unregister(pos);
  // Older entries merge first so that the newest values win (R1.4).
  for (std::size_t i = 1; i < hits.size(); ++i) {
    IndexEntry& other = m_entries[hits[i]];
    merge_item(m_entries[target].item, other.item, m_history);
    m_entries[target].plays.append(other.plays);
    if (!other.play_extras.empty()) {
      auto& from = other.play_extras.edit();
      auto& extras = m_entries[target].play_extras.edit();
      extras.insert(extras.end(), std::make_move_iterator(from.begin()),
                    std::make_move_iterator(from.end()));
    }
  }
  IndexEntry& t = m_entries[target];
  if (m_history && item.watched_at) {
    t.plays.push_back(*item.watched_at);
    note_play_extra(t, item);
  }
  merge_item(t.item, item, m_history);
  if (m_history) {
    t.plays.sort_unique();
    normalise_play_extras(t);
  }
  t.key = canonical_key(t.item);
  // Merged-away entries leave through erase(), which expects their tokens registered;
  // they were unregistered above, so give them none.
  for (std::size_t i = 1; i < hits.size(); ++i) m_hash_refs[hits[i]].count = 0;
  const bool merged_title_only = token_hashes(t.item, h);
  set_hashes(target, h, merged_title_only);
  for (std::size_t i = hits.size(); i-- > 1;) erase(hits[i]);
  return target;
}

std::optional<std::size_t> Index::find_hashes(const std::uint64_t* h, std::size_t n) const {
  for (std::size_t i = 0; i < n; ++i) {
    const auto pos = m_map.find(h[i]);
    if (pos != TokenMap::k_none) return pos;
  }
  return std::nullopt;
}

std::optional<std::size_t> Index::find(const Item& probe) const {
  thread_local std::vector<std::uint64_t> h;
  token_hashes(probe, h);
  return find_hashes(h.data(), h.size());
}

const IndexEntry* Index::find_entry(const Item& probe) const {
  auto pos = find(probe);
  return pos ? &m_entries[*pos] : nullptr;
}

void Index::build_title_view() const {
  if (m_titles_valid) return;
  m_titles = TokenMap();
  m_title_dups.clear();
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    if (m_hash_refs[i].title_only) continue;
    const auto h = title_hash(m_entries[i].item, 0);
    if (!h) continue;
    const auto seen = m_titles.find(*h);
    const auto at = static_cast<std::uint32_t>(i);
    if (seen == TokenMap::k_none) {
      m_titles.put(*h, at);
      continue;
    }
    auto& dups = m_title_dups[*h];
    if (seen != TokenMap::k_many) dups.push_back(seen);
    dups.push_back(at);
    m_titles.put(*h, TokenMap::k_many);
  }
  m_titles_valid = true;
}

// The entries with ids that have this title hash, appended to `out`.
void Index::with_ids_by_title(std::uint64_t h, std::vector<std::uint32_t>& out) const {
  build_title_view();
  const auto found = m_titles.find(h);
  if (found == TokenMap::k_none) return;
  if (found != TokenMap::k_many) {
    out.push_back(found);
    return;
  }
  const auto& dups = m_title_dups.at(h);
  out.insert(out.end(), dups.begin(), dups.end());
}

std::size_t Index::title_only_entries() const {
  if (!m_title_only_valid) {
    m_title_only = static_cast<std::size_t>(std::count_if(
        m_hash_refs.begin(), m_hash_refs.end(), [](const HashRef& r) { return r.title_only; }));
    m_title_only_valid = true;
  }
  return m_title_only;
}

Match Index::match(const Index& other, std::size_t pos, MatchOptions opt) const {
  Match m;
  m.pos = find_hashes(other.hashes(pos), other.m_hash_refs[pos].count);
  if (m.pos || m_entries.empty()) return m;
  const int tol = std::max(0, opt.year_tolerance);
  const Item& probe = other.m_entries[pos].item;
  // Entries of `index` with ids within the year window of `item`'s title: their count (2:
  // two or more) and, when there is one, where.
  const auto with_ids_near = [tol](const Index& index, const Item& item) {
    std::vector<std::uint32_t> out;
    for (int d = -tol; d <= tol; ++d) {
      if (const auto h = title_hash(item, d)) index.with_ids_by_title(*h, out);
    }
    return out;
  };
  // Title-only entries of `index` within the year window of `item`'s title (the same).
  const auto title_only_near = [tol](const Index& index, const Item& item) {
    std::vector<std::uint32_t> out;
    for (int d = -tol; d <= tol; ++d) {
      const auto h = title_hash(item, d);
      if (!h) continue;
      const auto found = index.m_map.find(*h);
      // Only title-only entries carry title tokens; the check guards a hash collision.
      if (found != TokenMap::k_none && index.m_hash_refs[found].title_only) out.push_back(found);
    }
    return out;
  };
  if (other.m_hash_refs[pos].title_only) {
    // The probe has no id: the one entry here with ids and its title, if there is one.
    auto here = with_ids_near(*this, probe);
    if (here.size() != 1) {
      if (here.size() > 1) m.candidates.assign(here.begin(), here.end());
      return m;
    }
    // And the probe must be the only title-only entry of its side in that entry's window
    // (with a year tolerance two could be; with exact years they are one entry).
    if (tol > 0 && title_only_near(other, m_entries[here[0]].item).size() != 1) {
      m.candidates.assign(here.begin(), here.end());
      m.candidates_elsewhere = true;
      return m;
    }
    m.pos = here[0];
  } else {
    // The probe has ids: a title-only entry here with its title, if it is the only one and
    // the probe is the only entry with ids on its side that it could be.
    if (title_only_entries() == 0) return m;
    auto here = title_only_near(*this, probe);
    if (here.empty()) return m;
    if (here.size() > 1) {
      m.candidates.assign(here.begin(), here.end());
      return m;
    }
    if (with_ids_near(other, m_entries[here[0]].item).size() != 1) {
      m.candidates.assign(here.begin(), here.end());
      m.candidates_elsewhere = true;
      return m;
    }
    m.pos = here[0];
  }
  m.by_title = true;
  return m;
}

std::optional<std::size_t> Index::find(const Index& other, std::size_t pos,
                                       MatchOptions opt) const {
  return match(other, pos, opt).pos;
}

const IndexEntry* Index::find_entry(const Index& other, std::size_t pos, MatchOptions opt) const {
  auto p = find(other, pos, opt);
  return p ? &m_entries[*p] : nullptr;
}

std::optional<std::size_t> Index::find_key(std::string_view key) const {
  if (!m_by_key_valid) {
    m_by_key = TokenMap();
    m_by_key.reserve(m_entries.size());
    for (std::size_t i = 0; i < m_entries.size(); ++i)
      m_by_key.put(hash_token(m_entries[i].key), static_cast<std::uint32_t>(i));
    m_by_key_valid = true;
  }
  const auto pos = m_by_key.find(hash_token(key));
  if (pos == TokenMap::k_none || m_entries[pos].key != key) return std::nullopt;
  return pos;
}

std::vector<Item> Index::to_items(bool expand_plays) const {
  std::vector<Item> out;
  out.reserve(m_entries.size());
  for (const auto& e : m_entries) {
    if (expand_plays && m_history && e.plays.size() > 1)
      expand_plays_into(e, out);
    else
      out.push_back(e.item);
  }
  return out;
}

std::vector<Item> Index::release_items(bool expand_plays) {
  std::vector<Item> out;
  out.reserve(m_entries.size());
  for (auto& e : m_entries) {
    if (expand_plays && m_history && e.plays.size() > 1)
      expand_plays_into(e, out);
    else
      out.push_back(std::move(e.item));
  }
  *this = Index(m_history);
  return out;
}

namespace {

// The title and year title matching compares: the show's for seasons and episodes.
std::string match_title(const Item& item) {
  const bool child = item.kind == ItemKind::season || item.kind == ItemKind::episode;
  return util::to_lower(
      util::trim(child && !item.show_title.empty() ? item.show_title : item.title));
}

bool has_id_tokens(const Item& item) {
  std::string buf;
  return tokens_impl(item, buf, [](std::string_view) {});
}

// Why `near` (same normalised title as `probe`) is not `probe`'s match.
std::string why_not(const Item& probe, bool probe_ids, const Item& near, MatchOptions opt) {
  if (probe.kind != near.kind)
    return "kind differs (" + std::string(to_string(near.kind)) + ", not " +
           std::string(to_string(probe.kind)) + ")";
  const int py = title_year(probe), ny = title_year(near);
  const bool near_ids = has_id_tokens(near);
  if (probe_ids && near_ids) return "both have ids and they share none";
  if (py > 0 && ny > 0 && std::abs(py - ny) > std::max(0, opt.year_tolerance))
    return "year " + std::to_string(ny) + " is not " + std::to_string(py) +
           (opt.year_tolerance > 0 ? " (±" + std::to_string(opt.year_tolerance) + ")"
                                   : " (sync.matching.year_tolerance 1 allows one off)");
  if ((py > 0) != (ny > 0)) return "one of the two has no year";
  if (probe.kind == ItemKind::episode &&
      (probe.season != near.season || probe.episode != near.episode))
    return "season or episode differs";
  if (probe.kind == ItemKind::season && probe.season != near.season) return "season differs";
  return "title matching needs exactly one candidate on each side";
}

}  // namespace

MatchExplanation explain_match(const Index& mine, std::size_t pos, const Index& other,
                               MatchOptions opt) {
  const IndexEntry& e = mine.entries()[pos];
  MatchExplanation x;
  x.key = e.key;
  x.label = describe(e.item);
  x.tokens = alias_tokens(e.item);
  x.has_ids = has_id_tokens(e.item);
  const Match m = other.match(mine, pos, opt);
  if (m.pos) {
    const IndexEntry& t = other.entries()[*m.pos];
    x.match_key = t.key;
    x.match_label = describe(t.item);
    if (m.by_title) {
      x.rule = "title";
      x.summary = "matched " + x.match_label + " by title and year: " +
                  std::string(x.has_ids ? "that item has no ids" : "this item has no ids") +
                  ", and kind, normalised title and year agree with exactly one item";
    } else {
      x.rule = "ids";
      const auto theirs = alias_tokens(t.item);
      for (const auto& tok : x.tokens)
        if (std::find(theirs.begin(), theirs.end(), tok) != theirs.end()) x.shared.push_back(tok);
      x.summary = "matched " + x.match_label + " by a shared token (" +
                  (x.shared.empty() ? std::string("merged ids") : x.shared.front()) + ")";
    }
    return x;
  }
  if (m.ambiguous()) {
    x.rule = "ambiguous";
    for (const auto c : m.candidates) x.candidates.push_back(other.entries()[c].key);
    x.candidates_elsewhere = m.candidates_elsewhere;
    x.summary = m.candidates_elsewhere
                    ? "ambiguous: its title and year match an item that another item matches as "
                      "well; cw does not guess (cw map add gives it ids)"
                    : "ambiguous: its title and year match " + std::to_string(m.candidates.size()) +
                          " items; cw does not guess (cw map add gives it ids)";
  } else {
    x.rule = "none";
  }
  const std::string title = match_title(e.item);
  if (!title.empty()) {
    for (const auto& t : other.entries()) {
      if (match_title(t.item) != title ||
          std::find(x.candidates.begin(), x.candidates.end(), t.key) != x.candidates.end())
        continue;
      x.near.emplace_back(t.key, why_not(e.item, x.has_ids, t.item, opt));
      if (x.near.size() >= 10) break;
    }
  }
  if (x.rule == "none")
    x.summary = x.near.empty() ? "no item shares a token with it, and none has its title"
                               : "no item shares a token with it; the items with its title do "
                                 "not qualify";
  return x;
}

}  // namespace cw::engine
