// cwsdk/support/ids.hpp: external ids, normalised the one way cw reads them.
//
// The cw engine normalises every id it reads with these functions, so a plugin that uses
// them writes ids exactly as the host will compare them. The rules:
// * Every value is trimmed; "", "0", "null", "none", "nan", "undefined" and "unknown"
//   (any case) are no id at all.
// * Numeric kinds (tmdb tvdb trakt simkl mal anilist kitsu anidb plex emby) keep their
//   digits only, without leading zeros ("tvdb-42" -> "42", "0550" -> "550"); no digit
//   left, no id.
// * imdb is "tt" + digits, lower case ("TT0111161", "imdb:tt0111161/" and "0111161" are
//   all "tt0111161"); all-zero digits are no id.
// * jellyfin ids are GUIDs: lower-case hex digits, dashes dropped.
// * mdblist, slug and guid are lower-cased. Kinds cw does not know are trimmed and kept.
// * Kind names match case-insensitively with the aliases servers use: Jellyfin/Emby
//   `ProviderIds` ("Tmdb", "Imdb", "Tvdb", "TheMovieDb", "TheTVDB", "MyAnimeList", ...).
// * Plex GUIDs of every agent are parsed (case-insensitive; `?lang=en` and legacy
//   `/season/episode` suffixes ignored):
//     imdb://tt0111161, imdb://title/tt0111161, com.plexapp.agents.imdb://tt0111161   -> imdb
//     tmdb://603, tmdb://movie/603, tmdb://tv/1396, com.plexapp.agents.themoviedb://603 -> tmdb
//     tvdb://81189, tvdb://series/81189, com.plexapp.agents.thetvdb://81189/1/2        -> tvdb
//     plex://movie/5d776b59ad5437001f79c6f8                    -> guid (the whole string)
//
//   cwsdk::Ids ids = cwsdk::Ids::from_json(entry["ProviderIds"]);   // Jellyfin/Emby
//   ids.set("tmdb", 603);                                           // numbers or strings
//   ids.add_guid("com.plexapp.agents.imdb://tt0133093?lang=en");    // Plex
//   item.ids = ids;                                                 // cwsdk::Item
//
// Lower level, for code that keeps ids its own way (the engine does): normalize_id,
// read_id, parse_plex_guid, for_each_id, for_each_guid, id_text.
#ifndef CWSDK_SUPPORT_IDS_HPP
#define CWSDK_SUPPORT_IDS_HPP

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace cwsdk {

// The id kinds cw knows. The order of the first twelve is the canonical-key priority (the
// engine keys an item by the first of these it has); do not reorder.
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

namespace detail {

inline constexpr std::array<std::string_view, k_id_kind_count> k_id_kind_names = {
    "tmdb",  "imdb", "tvdb", "trakt", "mal",      "anilist", "kitsu",  "anidb",
    "simkl", "plex", "guid", "slug",  "jellyfin", "emby",    "mdblist"};

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

inline std::string_view trim_view(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

inline std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

inline bool is_placeholder_id(std::string_view lowered) {
  return lowered.empty() || lowered == "0" || lowered == "null" || lowered == "none" ||
         lowered == "nan" || lowered == "undefined" || lowered == "unknown";
}

inline std::string digits_without_leading_zeros(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_digit(c)) out.push_back(c);
  }
  const auto nz = out.find_first_not_of('0');
  if (nz == std::string::npos) return {};
  return out.substr(nz);
}

}  // namespace detail

inline std::string_view id_kind_name(IdKind kind) {
  return detail::k_id_kind_names[static_cast<std::size_t>(kind)];
}

// The kind a name stands for: case-insensitive, with the aliases servers use.
inline std::optional<IdKind> id_kind_from_name(std::string_view name) {
  name = detail::trim_view(name);
  for (std::size_t i = 0; i < k_id_kind_count; ++i) {
    if (detail::iequals(name, detail::k_id_kind_names[i])) return static_cast<IdKind>(i);
  }
  if (detail::iequals(name, "themoviedb") || detail::iequals(name, "moviedb")) return IdKind::tmdb;
  if (detail::iequals(name, "thetvdb")) return IdKind::tvdb;
  if (detail::iequals(name, "myanimelist")) return IdKind::mal;
  return std::nullopt;
}

// Kinds whose values are numbers (digits only after normalisation).
inline bool id_kind_is_numeric(IdKind kind) {
  switch (kind) {
    case IdKind::tmdb:
    case IdKind::tvdb:
    case IdKind::trakt:
    case IdKind::simkl:
    case IdKind::mal:
    case IdKind::anilist:
    case IdKind::kitsu:
    case IdKind::anidb:
    case IdKind::plex:
    case IdKind::emby:
      return true;
    default:
      return false;
  }
}

// The normalised value of `raw` as an id of `kind`, or nullopt when it is no id.
inline std::optional<std::string> normalize_id(IdKind kind, std::string_view raw) {
  const std::string_view trimmed = detail::trim_view(raw);
  const std::string lowered = detail::lower_copy(trimmed);
  if (detail::is_placeholder_id(lowered)) return std::nullopt;
  if (id_kind_is_numeric(kind)) {
    std::string d = detail::digits_without_leading_zeros(trimmed);
    if (d.empty()) return std::nullopt;
    return d;
  }
  switch (kind) {
    case IdKind::imdb: {
      const auto tt = lowered.find("tt");
      if (tt != std::string::npos && tt + 2 < lowered.size() && detail::is_digit(lowered[tt + 2])) {
        std::size_t end = tt + 2;
        while (end < lowered.size() && detail::is_digit(lowered[end])) ++end;
        const std::string digits = lowered.substr(tt + 2, end - tt - 2);
        if (digits.find_first_not_of('0') == std::string::npos) return std::nullopt;  // "tt000"
        return lowered.substr(tt, end - tt);
      }
      std::string d;
      for (char c : lowered) {
        if (detail::is_digit(c)) d.push_back(c);
      }
      if (d.empty() || d.find_first_not_of('0') == std::string::npos) return std::nullopt;
      return "tt" + d;
    }
    case IdKind::jellyfin: {
      std::string h;
      for (char c : lowered) {
        if (detail::is_hex(c)) h.push_back(c);
      }
      if (h.empty() || h.find_first_not_of('0') == std::string::npos) return std::nullopt;
      return h;
    }
    default:
      return lowered;  // mdblist, slug, guid
  }
}

// The value of an id of a kind cw does not know: trimmed, placeholders dropped, else kept.
inline std::optional<std::string> normalize_unknown_id(std::string_view raw) {
  const std::string_view trimmed = detail::trim_view(raw);
  if (detail::is_placeholder_id(detail::lower_copy(trimmed))) return std::nullopt;
  return std::string(trimmed);
}

struct Id {
  IdKind kind;
  std::string value;  // normalised
  bool operator==(const Id& o) const { return kind == o.kind && value == o.value; }
};

// A Plex GUID (table at the top) as the id it carries, or nullopt when it is not one.
inline std::optional<Id> parse_plex_guid(std::string_view guid) {
  const std::string g = detail::lower_copy(detail::trim_view(guid));
  const auto sep = g.find("://");
  if (sep == std::string::npos) return std::nullopt;
  const std::string scheme = g.substr(0, sep);
  std::string rest = g.substr(sep + 3);
  if (const auto q = rest.find_first_of("?#"); q != std::string::npos) rest.resize(q);
  auto strip_prefixes = [&rest](std::initializer_list<std::string_view> prefixes) {
    for (auto p : prefixes) {
      if (detail::starts_with(rest, p)) {
        rest.erase(0, p.size());
        return;
      }
    }
  };
  IdKind kind;
  if (scheme == "plex") {
    return Id{IdKind::guid, g};
  } else if (scheme == "imdb" || scheme == "com.plexapp.agents.imdb") {
    strip_prefixes({"title/"});
    kind = IdKind::imdb;
  } else if (scheme == "tmdb" || scheme == "com.plexapp.agents.themoviedb") {
    strip_prefixes({"movie/", "show/", "tv/"});
    kind = IdKind::tmdb;
  } else if (scheme == "tvdb" || scheme == "com.plexapp.agents.thetvdb") {
    strip_prefixes({"series/", "show/", "tv/"});
    kind = IdKind::tvdb;
  } else {
    return std::nullopt;
  }
  // Legacy TV agents append `/season/episode`; the first segment is the show's id.
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  auto v = normalize_id(kind, rest);
  if (!v) return std::nullopt;
  return Id{kind, std::move(*v)};
}

// The id a value given under `kind` stands for. Like normalize_id, except that a GUID
// given as `plex` or `guid` is parsed: `plex://...` under `plex` stays a plex id (the
// item's global Plex GUID); other agents' GUIDs become the id they carry (imdb, tmdb,
// tvdb); an unparsable GUID under `plex` is no id, under `guid` it is kept lower-cased.
inline std::optional<Id> read_id(IdKind kind, std::string_view raw) {
  if ((kind == IdKind::guid || kind == IdKind::plex) && raw.find("://") != std::string_view::npos) {
    const std::string lowered = detail::lower_copy(detail::trim_view(raw));
    if (kind == IdKind::plex && detail::starts_with(lowered, "plex://"))
      return Id{IdKind::plex, lowered};
    if (auto g = parse_plex_guid(raw)) return g;
    if (kind == IdKind::plex) return std::nullopt;
  }
  auto v = normalize_id(kind, raw);
  if (!v) return std::nullopt;
  return Id{kind, std::move(*v)};
}

// An id value as text: strings as they are, integers in decimal, floats only when they
// are whole positive numbers (7.0 -> "7"); anything else (null, bool, objects) is no id.
inline std::optional<std::string> id_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d > 0 && d < 1e18)
      return std::to_string(static_cast<std::int64_t>(d));
  }
  return std::nullopt;
}

// Calls fn(std::string_view key, const std::string& text) for every member of an ids
// object whose value reads as id text, descending into a nested `ProviderIds` /
// `provider_ids` object (any case), so that `{"ids": {"ProviderIds": {...}}}` works too.
// The keys are passed as written; id_kind_from_name maps them.
template <typename Fn>
void for_each_id(const nlohmann::json& ids, Fn&& fn) {
  if (!ids.is_object()) return;
  for (auto it = ids.begin(); it != ids.end(); ++it) {
    if (detail::iequals(it.key(), "providerids") || detail::iequals(it.key(), "provider_ids")) {
      for_each_id(it.value(), fn);
      continue;
    }
    if (auto text = id_text(it.value())) fn(std::string_view(it.key()), *text);
  }
}

// Calls fn(std::string_view guid) for every GUID string of a Plex item: `guid` or `Guid`
// or `guids` given as a string, an array of strings, or an array of {"id": "..."}.
template <typename Fn>
void for_each_guid(const nlohmann::json& item, Fn&& fn) {
  if (!item.is_object()) return;
  for (const char* name : {"guid", "Guid", "guids"}) {
    const auto it = item.find(name);
    if (it == item.end()) continue;
    if (it->is_string()) {
      fn(std::string_view(it->get_ref<const std::string&>()));
    } else if (it->is_array()) {
      for (const auto& e : *it) {
        if (e.is_string()) {
          fn(std::string_view(e.get_ref<const std::string&>()));
        } else if (e.is_object()) {
          const auto id = e.find("id");
          if (id != e.end() && id->is_string())
            fn(std::string_view(id->get_ref<const std::string&>()));
        }
      }
    }
  }
}

// A set of normalised ids, at most one value per kind, for documents a plugin writes.
// Known kinds are stored under their cw name; other kinds under their lower-cased name.
class Ids {
 public:
  Ids() = default;

  // Ids from an object such as {"imdb": "tt..", "tmdb": 603} or Jellyfin's ProviderIds
  // ({"Tmdb": "603", "Imdb": "tt.."}); values that are no id are dropped, nothing throws.
  static Ids from_json(const nlohmann::json& ids) {
    Ids out;
    for_each_id(ids, [&out](std::string_view key, const std::string& text) { out.set(key, text); });
    return out;
  }

  // Stores `raw` under the kind `name` (see read_id for GUIDs given as plex or guid);
  // returns false, storing nothing, when it is no id.
  bool set(std::string_view name, std::string_view raw) {
    if (const auto kind = id_kind_from_name(name)) {
      auto id = read_id(*kind, raw);
      if (!id) return false;
      m_ids[std::string(id_kind_name(id->kind))] = std::move(id->value);
      return true;
    }
    const std::string key = detail::lower_copy(detail::trim_view(name));
    auto v = normalize_unknown_id(raw);
    if (key.empty() || !v) return false;
    m_ids[key] = std::move(*v);
    return true;
  }
  bool set(std::string_view name, const nlohmann::json& value) {
    auto text = id_text(value);
    return text && set(name, std::string_view(*text));
  }
  bool set(std::string_view name, const char* raw) { return set(name, std::string_view(raw)); }
  bool set(std::string_view name, const std::string& raw) {
    return set(name, std::string_view(raw));
  }
  bool set(std::string_view name, std::int64_t number) {
    return set(name, std::string_view(std::to_string(number)));
  }
  bool set(std::string_view name, int number) {
    return set(name, static_cast<std::int64_t>(number));
  }
  bool set(IdKind kind, std::string_view raw) { return set(id_kind_name(kind), raw); }

  // A Plex GUID (see the table at the top); false when it is not one cw reads.
  bool add_guid(std::string_view guid) {
    auto id = parse_plex_guid(guid);
    if (!id) return false;
    m_ids[std::string(id_kind_name(id->kind))] = std::move(id->value);
    return true;
  }

  std::optional<std::string> get(std::string_view name) const {
    const auto kind = id_kind_from_name(name);
    const auto it = m_ids.find(kind ? std::string(id_kind_name(*kind))
                                    : detail::lower_copy(detail::trim_view(name)));
    if (it == m_ids.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> get(IdKind kind) const { return get(id_kind_name(kind)); }
  bool has(std::string_view name) const { return get(name).has_value(); }
  void erase(std::string_view name) {
    const auto kind = id_kind_from_name(name);
    m_ids.erase(kind ? std::string(id_kind_name(*kind)) : detail::lower_copy(name));
  }

  bool empty() const { return m_ids.empty(); }
  std::size_t size() const { return m_ids.size(); }
  // name -> value, sorted by name.
  const std::map<std::string, std::string>& entries() const { return m_ids; }

  // Union; where both have a kind, `other`'s value wins.
  void merge(const Ids& other) {
    for (const auto& kv : other.m_ids) m_ids[kv.first] = kv.second;
  }
  // True when some kind has the same value in both. Jellyfin and Emby ids are local to one
  // server; they count only when `include_server_local` says so (the same server's reply).
  bool shares_id_with(const Ids& other, bool include_server_local = true) const {
    for (const auto& kv : m_ids) {
      if (!include_server_local && (kv.first == "jellyfin" || kv.first == "emby")) continue;
      const auto it = other.m_ids.find(kv.first);
      if (it != other.m_ids.end() && it->second == kv.second) return true;
    }
    return false;
  }

  nlohmann::json to_json() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : m_ids) out[kv.first] = kv.second;
    return out;
  }

  bool operator==(const Ids& o) const { return m_ids == o.m_ids; }
  bool operator!=(const Ids& o) const { return !(*this == o); }

 private:
  std::map<std::string, std::string> m_ids;
};

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_IDS_HPP
