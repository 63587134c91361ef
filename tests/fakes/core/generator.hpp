// Synthetic fixtures: a "universe" of movies and shows with episodes, and a user's history,
// ratings, watchlist and progress over it. Each fake turns the universe into its own state
// (FakeService::seed_universe), so one generated universe seeds every fake consistently.
//
// Shape (items use the cw ABI item format of sdk/schema/item.schema.json):
//   {"movies":[{"type":"movie","title","year","ids":{imdb,tmdb,tvdb?,trakt,simkl?,...},
//               "duration_ms","anime":bool,"sandbox":{"plex_agent":"new|legacy",
//               "server_ids":bool}}],
//    "shows":[{"type":"show","title","year","ids",...,"anime":bool,"sandbox":{...},
//              "seasons":[{"number":1,"ids":{tvdb,tmdb},"episodes":[{"number":1,"title",
//                          "ids":{imdb?,tmdb,tvdb},"duration_ms"}]}]}],
//    "history":[movie item | episode item, + "watched_at"],        (one entry per play)
//    "ratings":[movie | show | episode item, + "rating" (1..10), "rated_at"],
//    "watchlist":[movie | show item, + "listed_at"],
//    "progress":[movie | episode item, + "progress_ms","duration_ms","progress_at"]}
// Episode items: {"type":"episode","title","season":S,"episode":E,"ids":{...},
//                 "show":{"title","year","ids":{...}}}.
// "sandbox.server_ids": false means media servers (Jellyfin/Emby) hold the item without any
// ProviderIds, as real libraries with unmatched files do. "plex_agent": which Plex agent's
// GUIDs the item has (new: plex://movie/… + Guid array; legacy: com.plexapp.agents.imdb://…).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace cw::fakes {

struct GenerateOptions {
  int movies = 100;
  int shows = 10;
  int seasons_per_show = 2;
  int episodes_per_season = 8;
  int plays = 200;  // history entries over movies and episodes
  int ratings = 50;
  int watchlist = 30;
  int progress = 10;
  double anime_share = 0.1;           // share of shows (and movies) that are anime
  double no_server_ids_share = 0.05;  // items without ProviderIds on Jellyfin/Emby
  double legacy_plex_share = 0.2;     // items with legacy Plex agent GUIDs
  double missing_imdb_share = 0.05;   // items whose only external ids are tmdb/tvdb
  std::uint64_t seed = 42;
  std::int64_t end_ms = 1735689600000;  // 2025-01-01T00:00:00Z: plays are before it
};

// Parses "movies=N,shows=M,plays=P,ratings=R,watchlist=W,progress=G,seasons=S,episodes=E,
// anime=PERCENT,seed=X" (any subset, any order) onto `base`. Throws std::invalid_argument with a
// one-line message naming the bad key or value.
GenerateOptions parse_generate_options(const std::string& spec, GenerateOptions base = {});

// Deterministic for the same options.
nlohmann::json generate_universe(const GenerateOptions& opts);

// The universe with every null member and null array element removed, recursively. Hand-written
// or exported universes mark unknown fields (year, listed_at, an imdb id…) with null; the
// services read optional fields with value(key, default), which throws on a present null.
// Every path that seeds a universe (POST /__sandbox/universe, cw-sandbox) applies it.
nlohmann::json without_nulls(const nlohmann::json& universe);

// The universe's titles without its user's lists (watchlist, history, ratings, progress
// emptied): a service seeded with it knows every title and holds nothing for the user.
nlohmann::json without_user_state(const nlohmann::json& universe);

// Small helpers the services share when they map a universe.
// All episode items of the universe's shows, in order, each with its show attached.
nlohmann::json universe_episode_items(const nlohmann::json& universe);

}  // namespace cw::fakes
