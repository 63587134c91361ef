// Plex GUIDs to cw ids, on top of the kit's parse_plex_guid (new agents, legacy imdb,
// themoviedb and thetvdb agents) plus what the kit does not read: the HAMA anime agent
// (com.plexapp.agents.hama://anidb-1234, tvdb2-81189...), the legacy anidb agent, and the
// rule that a legacy TV-agent *episode* GUID (thetvdb://81189/1/2) names the show, not the
// episode, so it never goes into an episode's own ids.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <cwsdk/support/ids.hpp>

namespace plex {

// The id a HAMA or legacy anidb GUID carries; nullopt for anything else.
inline std::optional<cwsdk::Id> parse_anime_guid(std::string_view guid) {
  const std::string g = cwsdk::detail::lower_copy(cwsdk::detail::trim_view(guid));
  const auto sep = g.find("://");
  if (sep == std::string::npos) return std::nullopt;
  const std::string scheme = g.substr(0, sep);
  std::string rest = g.substr(sep + 3);
  if (const auto q = rest.find_first_of("?#/"); q != std::string::npos) rest.resize(q);
  if (scheme == "com.plexapp.agents.anidb") {
    auto v = cwsdk::normalize_id(cwsdk::IdKind::anidb, rest);
    if (!v) return std::nullopt;
    return cwsdk::Id{cwsdk::IdKind::anidb, *v};
  }
  if (scheme != "com.plexapp.agents.hama") return std::nullopt;
  const auto dash = rest.find('-');
  if (dash == std::string::npos) return std::nullopt;
  const std::string source = rest.substr(0, dash);
  const std::string value = rest.substr(dash + 1);
  cwsdk::IdKind kind;
  if (source.rfind("anidb", 0) == 0) {
    kind = cwsdk::IdKind::anidb;
  } else if (source.rfind("tvdb", 0) == 0) {
    kind = cwsdk::IdKind::tvdb;
  } else if (source == "tmdb" || source == "themoviedb") {
    kind = cwsdk::IdKind::tmdb;
  } else if (source == "imdb") {
    kind = cwsdk::IdKind::imdb;
  } else {
    return std::nullopt;
  }
  auto v = cwsdk::normalize_id(kind, value);
  if (!v) return std::nullopt;
  return cwsdk::Id{kind, *v};
}

// True for a legacy agent GUID with a /season/episode (or /season) path: such a GUID names
// the show (the kit reads the show's id from it), so it is not an episode's own id.
inline bool is_legacy_child_guid(std::string_view guid) {
  const std::string g = cwsdk::detail::lower_copy(cwsdk::detail::trim_view(guid));
  if (g.rfind("com.plexapp.agents.", 0) != 0) return false;
  const auto sep = g.find("://");
  if (sep == std::string::npos) return false;
  std::string rest = g.substr(sep + 3);
  if (const auto q = rest.find_first_of("?#"); q != std::string::npos) rest.resize(q);
  return rest.find('/') != std::string::npos;
}

// Adds the id one GUID carries to `ids`; false when it carries none cw reads.
inline bool add_guid(cwsdk::Ids& ids, std::string_view guid) {
  if (auto anime = parse_anime_guid(guid))
    return ids.set(cwsdk::id_kind_name(anime->kind), anime->value);
  return ids.add_guid(guid);
}

// The ids of a library row: the primary `guid` and every `Guid[].id`. For episodes and
// seasons, a legacy GUID with a /season/episode path is the show's and is skipped.
inline cwsdk::Ids ids_of_row(const cwsdk::Json& row, bool child) {
  cwsdk::Ids ids;
  cwsdk::for_each_guid(row, [&](std::string_view g) {
    if (child && is_legacy_child_guid(g)) return;
    add_guid(ids, g);
  });
  return ids;
}

}  // namespace plex
