#include "core/generator.hpp"

#include <array>
#include <initializer_list>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "core/fake_service.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;

constexpr std::array<const char*, 24> k_words = {
    "Midnight", "River",  "Echo",   "Harbor", "Glass",    "Summer", "Iron",   "Lantern",
    "Hollow",   "Signal", "Crown",  "Velvet", "Northern", "Paper",  "Silent", "Ember",
    "Orbit",    "Garden", "Falcon", "Winter", "Copper",   "Tide",   "Shadow", "Meridian"};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_gen(seed) {}
  int range(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_gen); }
  std::int64_t range64(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(m_gen);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(m_gen) < p; }
  const char* word() { return k_words[static_cast<std::size_t>(range(0, k_words.size() - 1))]; }

 private:
  std::mt19937_64 m_gen;
};

std::string imdb_id(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "tt%07d", n);
  return buf;
}

json sandbox_flags(Rng& rng, const GenerateOptions& o) {
  return {{"plex_agent", rng.chance(o.legacy_plex_share) ? "legacy" : "new"},
          {"server_ids", !rng.chance(o.no_server_ids_share)}};
}

// The parts of an item that references to it (history, ratings …) carry.
json reference_of(const json& item) {
  json ref = {{"type", item["type"]}, {"title", item["title"]}, {"ids", item["ids"]}};
  if (item.contains("year")) ref["year"] = item["year"];
  for (const char* key : {"show", "season", "episode"}) {
    if (item.contains(key)) ref[key] = item[key];
  }
  return ref;
}

}  // namespace

GenerateOptions parse_generate_options(const std::string& spec, GenerateOptions base) {
  std::stringstream ss(spec);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string::npos) {
      throw std::invalid_argument("--generate: '" + part + "' is not key=value (e.g. movies=1000)");
    }
    const std::string key = part.substr(0, eq);
    const std::string value = part.substr(eq + 1);
    long long n = 0;
    try {
      std::size_t used = 0;
      n = std::stoll(value, &used);
      if (used != value.size() || n < 0) throw std::invalid_argument("bad");
    } catch (const std::exception&) {
      throw std::invalid_argument("--generate: " + key + "='" + value +
                                  "' is not a non-negative integer");
    }
    const int v = static_cast<int>(n);
    if (key == "movies")
      base.movies = v;
    else if (key == "shows")
      base.shows = v;
    else if (key == "seasons")
      base.seasons_per_show = v;
    else if (key == "episodes")
      base.episodes_per_season = v;
    else if (key == "plays")
      base.plays = v;
    else if (key == "ratings")
      base.ratings = v;
    else if (key == "watchlist")
      base.watchlist = v;
    else if (key == "progress")
      base.progress = v;
    else if (key == "seed")
      base.seed = static_cast<std::uint64_t>(n);
    else if (key == "anime") {
      // A percentage, so that the spec stays integers: anime=100 makes every title anime.
      if (n > 100)
        throw std::invalid_argument("--generate: anime='" + value + "' is not a percentage 0-100");
      base.anime_share = static_cast<double>(n) / 100.0;
    } else {
      throw std::invalid_argument("--generate: unknown key '" + key +
                                  "' (use movies, shows, seasons, episodes, plays, ratings, "
                                  "watchlist, progress, anime, seed)");
    }
  }
  return base;
}

json generate_universe(const GenerateOptions& o) {
  Rng rng(o.seed);
  json movies = json::array();
  for (int i = 0; i < o.movies; ++i) {
    const bool anime = rng.chance(o.anime_share);
    json ids = {{"tmdb", std::to_string(10000 + i)},
                {"trakt", std::to_string(500000 + i)},
                {"slug", "movie-" + std::to_string(i)}};
    if (!rng.chance(o.missing_imdb_share)) ids["imdb"] = imdb_id(1000000 + i);
    if (i % 3 == 0) ids["tvdb"] = std::to_string(300000 + i);
    if (i % 2 == 0) ids["simkl"] = std::to_string(700000 + i);
    if (anime) {
      ids["mal"] = std::to_string(20000 + i);
      ids["anilist"] = std::to_string(90000 + i);
    }
    movies.push_back(
        {{"type", "movie"},
         {"title", std::string(rng.word()) + " " + rng.word() + " " + std::to_string(i)},
         {"year", rng.range(1950, 2024)},
         {"ids", ids},
         {"duration_ms", rng.range(80, 170) * 60000},
         {"anime", anime},
         {"sandbox", sandbox_flags(rng, o)}});
  }
  json shows = json::array();
  // Episode imdb ids are numbered in order: unique, as real ones are. (They were derived from
  // the show's number modulo 10, so shows 4, 14, 24... shared them and cw rightly took the
  // plays of one for the other's.)
  int episode_imdb = 0;
  for (int s = 0; s < o.shows; ++s) {
    const bool anime = rng.chance(o.anime_share);
    const int show_year = rng.range(1990, 2022);
    json ids = {{"tmdb", std::to_string(60000 + s)},
                {"tvdb", std::to_string(70000 + s)},
                {"trakt", std::to_string(80000 + s)},
                {"slug", "show-" + std::to_string(s)}};
    if (!rng.chance(o.missing_imdb_share)) ids["imdb"] = imdb_id(5000000 + s);
    if (s % 2 == 0) ids["simkl"] = std::to_string(800000 + s);
    if (anime) {
      ids["mal"] = std::to_string(40000 + s);
      ids["anilist"] = std::to_string(140000 + s);
      ids["kitsu"] = std::to_string(11000 + s);
      ids["anidb"] = std::to_string(12000 + s);
    }
    const std::string title =
        std::string("The ") + rng.word() + " " + rng.word() + " " + std::to_string(s);
    json seasons = json::array();
    for (int sn = 1; sn <= o.seasons_per_show; ++sn) {
      json eps = json::array();
      for (int e = 1; e <= o.episodes_per_season; ++e) {
        const int serial = (s * 100 + sn) * 1000 + e;
        json eids = {{"tmdb", std::to_string(1000000 + serial)},
                     {"tvdb", std::to_string(2000000 + serial)},
                     {"trakt", std::to_string(3000000 + serial)}};
        if (e % 4 == 1) eids["imdb"] = imdb_id(7000000 + episode_imdb++);
        eps.push_back({{"number", e},
                       {"title", std::string(rng.word()) + " " + std::to_string(e)},
                       {"ids", eids},
                       {"duration_ms", rng.range(20, 60) * 60000}});
      }
      seasons.push_back({{"number", sn},
                         {"ids",
                          {{"tmdb", std::to_string(900000 + s * 100 + sn)},
                           {"tvdb", std::to_string(910000 + s * 100 + sn)}}},
                         {"episodes", eps}});
    }
    shows.push_back({{"type", "show"},
                     {"title", title},
                     {"year", show_year},
                     {"ids", ids},
                     {"anime", anime},
                     {"sandbox", sandbox_flags(rng, o)},
                     {"seasons", seasons}});
  }
  json universe = {{"movies", movies}, {"shows", shows}};
  const json episodes = universe_episode_items(universe);
  const std::size_t n_movies = movies.size();
  const std::size_t n_eps = episodes.size();
  const std::size_t n_all = n_movies + n_eps;
  auto pick = [&](std::size_t idx) -> const json& {
    return idx < n_movies ? movies[idx] : episodes[idx - n_movies];
  };
  constexpr std::int64_t k_five_years_ms = 5LL * 365 * 24 * 3600 * 1000;

  json history = json::array();
  if (n_all > 0) {
    // Spread plays backwards from end_ms so that history is in time order, newest last.
    std::vector<std::int64_t> times;
    times.reserve(static_cast<std::size_t>(o.plays));
    for (int p = 0; p < o.plays; ++p) {
      times.push_back(rng.range64(o.end_ms - k_five_years_ms, o.end_ms - 1000) / 1000 * 1000);
    }
    std::sort(times.begin(), times.end());
    for (int p = 0; p < o.plays; ++p) {
      json h = reference_of(pick(static_cast<std::size_t>(rng.range64(0, n_all - 1))));
      h["watched_at"] = iso_from_ms(times[static_cast<std::size_t>(p)]).substr(0, 19) + "Z";
      history.push_back(std::move(h));
    }
  }
  json ratings = json::array();
  {
    std::unordered_set<std::size_t> used;
    const std::size_t n_rateable = n_all + shows.size();
    for (int r = 0; r < o.ratings && used.size() < n_rateable; ++r) {
      std::size_t idx = 0;
      do {
        idx = static_cast<std::size_t>(rng.range64(0, static_cast<std::int64_t>(n_rateable) - 1));
      } while (!used.insert(idx).second);
      json item = idx < n_all ? reference_of(pick(idx)) : reference_of(shows[idx - n_all]);
      item["rating"] = rng.range(1, 10);
      item["rated_at"] =
          iso_from_ms(rng.range64(o.end_ms - k_five_years_ms, o.end_ms - 1000) / 1000 * 1000)
              .substr(0, 19) +
          "Z";
      ratings.push_back(std::move(item));
    }
  }
  json watchlist = json::array();
  {
    std::unordered_set<std::size_t> used;
    const std::size_t n_listable = n_movies + shows.size();
    for (int w = 0; w < o.watchlist && used.size() < n_listable; ++w) {
      std::size_t idx = 0;
      do {
        idx = static_cast<std::size_t>(rng.range64(0, static_cast<std::int64_t>(n_listable) - 1));
      } while (!used.insert(idx).second);
      json item = idx < n_movies ? reference_of(movies[idx]) : reference_of(shows[idx - n_movies]);
      item["listed_at"] =
          iso_from_ms(rng.range64(o.end_ms - k_five_years_ms, o.end_ms - 1000) / 1000 * 1000)
              .substr(0, 19) +
          "Z";
      watchlist.push_back(std::move(item));
    }
  }
  json progress = json::array();
  {
    std::unordered_set<std::size_t> used;
    for (int g = 0; g < o.progress && used.size() < n_all; ++g) {
      std::size_t idx = 0;
      do {
        idx = static_cast<std::size_t>(rng.range64(0, static_cast<std::int64_t>(n_all) - 1));
      } while (!used.insert(idx).second);
      const json& src = pick(idx);
      json item = reference_of(src);
      const std::int64_t duration = src.value("duration_ms", 3600000);
      item["duration_ms"] = duration;
      item["progress_ms"] = duration * rng.range(5, 90) / 100 / 1000 * 1000;
      item["progress_at"] =
          iso_from_ms(rng.range64(o.end_ms - k_five_years_ms, o.end_ms - 1000) / 1000 * 1000)
              .substr(0, 19) +
          "Z";
      progress.push_back(std::move(item));
    }
  }
  universe["history"] = std::move(history);
  universe["ratings"] = std::move(ratings);
  universe["watchlist"] = std::move(watchlist);
  universe["progress"] = std::move(progress);
  return universe;
}

json without_user_state(const json& universe) {
  json out = universe;
  for (const char* list : {"watchlist", "history", "ratings", "progress"})
    if (out.contains(list)) out[list] = json::array();
  return out;
}

json without_nulls(const json& universe) {
  if (universe.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : universe.items()) {
      if (!v.is_null()) out[k] = without_nulls(v);
    }
    return out;
  }
  if (universe.is_array()) {
    json out = json::array();
    for (const auto& v : universe) {
      if (!v.is_null()) out.push_back(without_nulls(v));
    }
    return out;
  }
  return universe;
}

json universe_episode_items(const json& universe) {
  json out = json::array();
  if (!universe.is_object() || !universe.contains("shows")) return out;
  // Copies only the keys an entry has: a const operator[] on a missing key is undefined, and a
  // null where a service expects a value breaks its value(key, default).
  auto copy_keys = [](const json& from, json& to, std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      if (from.contains(k) && !from[k].is_null()) to[k] = from[k];
    }
  };
  for (const auto& show : universe["shows"]) {
    json show_ref = json::object();
    copy_keys(show, show_ref, {"title", "year", "ids"});
    for (const auto& season : show.value("seasons", json::array())) {
      for (const auto& ep : season.value("episodes", json::array())) {
        json item = {{"type", "episode"}, {"show", show_ref}};
        copy_keys(ep, item, {"title", "ids", "duration_ms"});
        if (season.contains("number")) item["season"] = season["number"];
        if (ep.contains("number")) item["episode"] = ep["number"];
        out.push_back(std::move(item));
      }
    }
  }
  return out;
}

}  // namespace cw::fakes
