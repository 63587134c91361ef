#include "tmdb/tmdb_fake.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "trakt/tracker_util.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;
using Req = httplib::Request;
using Res = httplib::Response;
namespace tk = tracker;

constexpr const char* k_default_api_key = "cwsandboxtmdbapikey0000000000000";
constexpr const char* k_default_read_token = "cw-sandbox-tmdb-read-access-token";
constexpr const char* k_default_session = "cw-sandbox-tmdb-session-id";
// v4: a user access token and the account's object id (24 hex digits, as TMDb prints it).
constexpr const char* k_default_v4_token = "cw-sandbox-tmdb-v4-access-token";
constexpr const char* k_default_object_id = "5a0d1b6f8c0e4d7b9f3e2a1c";

json tmdb_error(int code, const std::string& message) {
  return {{"success", false}, {"status_code", code}, {"status_message", message}};
}

void send_error(Res& res, int http, int code, const std::string& message) {
  send_json(res, tmdb_error(code, message), http);
}

json tmdb_success(int code, const std::string& message) {
  return {{"success", true}, {"status_code", code}, {"status_message", message}};
}

// A list object with every field TMDb prints, filled in where the fixture left them out.
// /3/configuration as TMDb serves it (the document's example).
json configuration() {
  return {{"images",
           {{"base_url", "http://image.tmdb.org/t/p/"},
            {"secure_base_url", "https://image.tmdb.org/t/p/"},
            {"backdrop_sizes", {"w300", "w780", "w1280", "original"}},
            {"logo_sizes", {"w45", "w92", "w154", "w185", "w300", "w500", "original"}},
            {"poster_sizes", {"w92", "w154", "w185", "w342", "w500", "w780", "original"}},
            {"profile_sizes", {"w45", "w185", "h632", "original"}},
            {"still_sizes", {"w92", "w185", "w300", "original"}}}},
          {"change_keys",
           {"adult",
            "air_date",
            "also_known_as",
            "alternative_titles",
            "biography",
            "birthday",
            "budget",
            "cast",
            "certifications",
            "character_names",
            "created_by",
            "crew",
            "deathday",
            "episode",
            "episode_number",
            "episode_run_time",
            "freebase_id",
            "freebase_mid",
            "general",
            "genres",
            "guest_stars",
            "homepage",
            "images",
            "imdb_id",
            "languages",
            "name",
            "network",
            "origin_country",
            "original_name",
            "original_title",
            "overview",
            "parts",
            "place_of_birth",
            "plot_keywords",
            "production_code",
            "production_companies",
            "production_countries",
            "releases",
            "revenue",
            "runtime",
            "season",
            "season_number",
            "season_regular",
            "spoken_languages",
            "status",
            "tagline",
            "title",
            "translations",
            "tvdb_id",
            "tvrage_id",
            "type",
            "video",
            "videos"}}};
}

json movie_defaults(std::int64_t id) {
  return {{"adult", false},
          {"backdrop_path", nullptr},
          {"genre_ids", json::array()},
          {"id", id},
          {"original_language", "en"},
          {"original_title", ""},
          {"overview", ""},
          {"popularity", 0.0},
          {"poster_path", nullptr},
          {"release_date", ""},
          {"title", ""},
          {"video", false},
          {"vote_average", 0.0},
          {"vote_count", 0}};
}

json tv_defaults(std::int64_t id) {
  return {{"adult", false},
          {"backdrop_path", nullptr},
          {"genre_ids", json::array()},
          {"id", id},
          {"origin_country", json::array()},
          {"original_language", "en"},
          {"original_name", ""},
          {"overview", ""},
          {"popularity", 0.0},
          {"poster_path", nullptr},
          {"first_air_date", ""},
          {"name", ""},
          {"vote_average", 0.0},
          {"vote_count", 0}};
}

json episode_defaults(std::int64_t id) {
  return {{"air_date", ""},
          {"episode_number", 0},
          {"id", id},
          {"name", ""},
          {"overview", ""},
          {"production_code", ""},
          {"runtime", nullptr},
          {"season_number", 0},
          {"show_id", 0},
          {"still_path", nullptr},
          {"vote_average", 0.0},
          {"vote_count", 0}};
}

struct Rated {
  json value;  // rating
  std::int64_t at = 0;
};

struct RequestToken {
  std::int64_t expires_ms = 0;
  bool approved = false;
  bool used = false;
};

class TmdbFake final : public FakeService {
 public:
  TmdbFake() { reset_locked(); }

  std::string name() const override { return "tmdb"; }
  void register_routes(httplib::Server& srv, Context& ctx) override;

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    load_locked(fixture);
  }
  void seed_universe(const json& u) override { seed(universe_fixture(u)); }
  json state() const override {
    std::lock_guard lock(m_mutex);
    return state_locked();
  }
  void reset() override {
    std::lock_guard lock(m_mutex);
    reset_locked();
  }
  json credentials() const override {
    std::lock_guard lock(m_mutex);
    return {{"api_key", m_api_key},          {"read_access_token", m_read_token},
            {"session_id", m_session_id},    {"account_id", m_account.value("id", 0)},
            {"v4_access_token", m_v4_token}, {"account_object_id", m_object_id}};
  }
  std::string provider_yaml(const std::string& base_url) const override {
    std::lock_guard lock(m_mutex);
    return "  tmdb:\n    plugin: tmdb\n    url: " + base_url + "\n    api_key: " + m_api_key +
           "\n    session_id: " + m_session_id +
           "\n    account_id: " + std::to_string(m_account.value("id", 0)) + "\n";
  }
  void fault_response(int status, const Req& /*req*/, Res& res) const override {
    switch (status) {
      case 401:
        send_error(res, 401, 3,
                   "Authentication failed: You do not have permissions to access the service.");
        break;
      case 404:
        send_error(res, 404, 34, "The resource you requested could not be found.");
        break;
      case 429:
        send_error(res, 429, 25, "Your request count (#) is over the allowed limit of (40).");
        break;
      case 503:
        send_error(res, 503, 9,
                   "Service offline: This service is temporarily offline, try again later.");
        break;
      case 504:
        send_error(res, 504, 24, "Your request to the backend server timed out. Try again.");
        break;
      default:
        send_error(res, status, 11, "Internal error: Something went wrong, contact TMDb.");
    }
  }

 private:
  void reset_locked() {
    m_movies.clear();
    m_tv.clear();
    m_episodes.clear();
    m_watch_movies.clear();
    m_watch_tv.clear();
    m_rated_movies.clear();
    m_rated_tv.clear();
    m_rated_episodes.clear();
    m_tokens.clear();
    m_v4_tokens = {k_default_v4_token};
    m_v4_token = k_default_v4_token;
    m_object_id = k_default_object_id;
    m_page_size = 20;
    m_accept_unknown = false;
    m_api_key = k_default_api_key;
    m_read_token = k_default_read_token;
    m_session_id = k_default_session;
    m_account = {{"avatar", {{"gravatar", {{"hash", ""}}}, {"tmdb", {{"avatar_path", nullptr}}}}},
                 {"id", 20871234},
                 {"iso_639_1", "en"},
                 {"iso_3166_1", "US"},
                 {"name", "Sandbox User"},
                 {"include_adult", false},
                 {"username", "sandbox"}};
    m_serial = 0;
    if (m_ctx) m_ctx->set_valid_tokens({m_session_id});
  }

  static std::int64_t id_of(const json& v) {
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_object()) return id_of(v.value("id", json()));
    if (v.is_string()) return std::atoll(v.get<std::string>().c_str());
    return 0;
  }

  static std::string episode_key(std::int64_t show, int season, int episode) {
    return std::to_string(show) + "/" + std::to_string(season) + "/" + std::to_string(episode);
  }

  void add_movie(const json& obj) {
    const std::int64_t id = id_of(obj);
    if (m_movies.count(id)) return;
    json full = movie_defaults(id);
    for (const auto& [k, v] : obj.items()) {
      if (k != "rating") full[k] = v;
    }
    m_movies[id] = full;
  }
  void add_tv(const json& obj) {
    const std::int64_t id = id_of(obj);
    if (m_tv.count(id)) return;
    json full = tv_defaults(id);
    for (const auto& [k, v] : obj.items()) {
      if (k != "rating") full[k] = v;
    }
    m_tv[id] = full;
  }
  void add_episode(const json& obj) {
    const std::string key =
        episode_key(obj.value("show_id", std::int64_t{0}), obj.value("season_number", 0),
                    obj.value("episode_number", 0));
    if (m_episodes.count(key)) return;
    json full = episode_defaults(obj.value("id", std::int64_t{0}));
    for (const auto& [k, v] : obj.items()) {
      if (k != "rating") full[k] = v;
    }
    m_episodes[key] = full;
  }

  void load_locked(const json& f) {
    if (!f.is_object()) return;
    if (auto it = f.find("options"); it != f.end() && it->is_object()) {
      m_page_size = it->value("page_size", m_page_size);
      m_accept_unknown = it->value("accept_unknown_ids", m_accept_unknown);
    }
    if (auto it = f.find("auth"); it != f.end() && it->is_object()) {
      m_api_key = it->value("api_key", m_api_key);
      m_read_token = it->value("read_access_token", m_read_token);
      m_session_id = it->value("session_id", m_session_id);
      m_v4_token = it->value("v4_access_token", m_v4_token);
      m_object_id = it->value("account_object_id", m_object_id);
      m_v4_tokens = {m_v4_token};
    }
    if (auto it = f.find("account"); it != f.end() && it->is_object()) m_account = *it;
    if (auto it = f.find("catalog"); it != f.end() && it->is_object()) {
      for (const auto& m : tk::array_or_empty(*it, "movies")) add_movie(m);
      for (const auto& t : tk::array_or_empty(*it, "tv")) add_tv(t);
      for (const auto& e : tk::array_or_empty(*it, "episodes")) add_episode(e);
    }
    const std::int64_t base = m_ctx ? m_ctx->now_ms() : tk::now_ms();
    std::int64_t order = 0;
    if (auto it = f.find("watchlist"); it != f.end() && it->is_object()) {
      for (const auto& m : tk::array_or_empty(*it, "movies")) {
        if (m.is_object()) add_movie(m);
        m_watch_movies.emplace_back(id_of(m), base + order++);
      }
      for (const auto& t : tk::array_or_empty(*it, "tv")) {
        if (t.is_object()) add_tv(t);
        m_watch_tv.emplace_back(id_of(t), base + order++);
      }
    }
    if (auto it = f.find("rated"); it != f.end() && it->is_object()) {
      for (const auto& m : tk::array_or_empty(*it, "movies")) {
        add_movie(m);
        m_rated_movies.emplace_back(id_of(m), Rated{m.value("rating", json(0)), base + order++});
      }
      for (const auto& t : tk::array_or_empty(*it, "tv")) {
        add_tv(t);
        m_rated_tv.emplace_back(id_of(t), Rated{t.value("rating", json(0)), base + order++});
      }
      for (const auto& e : tk::array_or_empty(*it, "episodes")) {
        add_episode(e);
        m_rated_episodes.emplace_back(
            episode_key(e.value("show_id", std::int64_t{0}), e.value("season_number", 0),
                        e.value("episode_number", 0)),
            Rated{e.value("rating", json(0)), base + order++});
      }
    }
    if (m_ctx) m_ctx->set_valid_tokens({m_session_id});
  }

  json state_locked() const {
    json movies = json::array(), tv = json::array(), episodes = json::array();
    for (const auto& [id, m] : m_movies) movies.push_back(m);
    for (const auto& [id, t] : m_tv) tv.push_back(t);
    for (const auto& [k, e] : m_episodes) episodes.push_back(e);
    json wl_movies = json::array(), wl_tv = json::array();
    for (const auto& [id, at] : m_watch_movies) wl_movies.push_back(id);
    for (const auto& [id, at] : m_watch_tv) wl_tv.push_back(id);
    json rated = {{"movies", json::array()}, {"tv", json::array()}, {"episodes", json::array()}};
    for (const auto& [id, r] : m_rated_movies)
      rated["movies"].push_back(with_rating(m_movies.at(id), r));
    for (const auto& [id, r] : m_rated_tv) rated["tv"].push_back(with_rating(m_tv.at(id), r));
    for (const auto& [k, r] : m_rated_episodes)
      rated["episodes"].push_back(with_rating(m_episodes.at(k), r));
    return {{"catalog", {{"movies", movies}, {"tv", tv}, {"episodes", episodes}}},
            {"watchlist", {{"movies", wl_movies}, {"tv", wl_tv}}},
            {"rated", rated},
            {"account", m_account},
            {"auth",
             {{"api_key", m_api_key},
              {"read_access_token", m_read_token},
              {"session_id", m_session_id},
              {"v4_access_token", m_v4_token},
              {"account_object_id", m_object_id}}},
            {"options", {{"page_size", m_page_size}, {"accept_unknown_ids", m_accept_unknown}}}};
  }

  static json with_rating(const json& obj, const Rated& r) {
    json out = obj;
    out.erase("external_ids");
    if (!out.contains("show_id")) out.erase("runtime");  // episodes print their runtime
    out["rating"] = r.value;
    return out;
  }
  // A list row (watchlists, rated lists, find): the catalog object without the details-only
  // fields.
  static json listed(const json& obj) {
    json out = obj;
    out.erase("external_ids");
    if (!out.contains("show_id")) out.erase("runtime");  // episodes print their runtime
    return out;
  }

  static json universe_fixture(const json& u) {
    json movies = json::array(), tv = json::array(), episodes = json::array();
    std::map<std::string, json> by_key;
    for (const auto& m : tk::array_or_empty(u, "movies")) {
      const json ids = m.value("ids", json::object());
      if (!ids.contains("tmdb")) continue;
      json obj = {
          {"id", std::atoll(tk::id_text(ids["tmdb"]).c_str())},
          {"runtime", m.contains("duration_ms") ? json(m["duration_ms"].get<std::int64_t>() / 60000)
                                                : json(0)},
          {"title", m.value("title", "")},
          {"original_title", m.value("title", "")},
          {"release_date", std::to_string(m.value("year", 2000)) + "-01-01"},
          {"external_ids",
           {{"imdb_id", ids.contains("imdb") ? json(tk::id_text(ids["imdb"])) : json()}}}};
      by_key[tk::universe_key(m)] = obj;
      movies.push_back(obj);
    }
    for (const auto& s : tk::array_or_empty(u, "shows")) {
      const json ids = s.value("ids", json::object());
      if (!ids.contains("tmdb")) continue;
      const std::int64_t show_id = std::atoll(tk::id_text(ids["tmdb"]).c_str());
      json obj = {
          {"id", show_id},
          {"name", s.value("title", "")},
          {"original_name", s.value("title", "")},
          {"first_air_date", std::to_string(s.value("year", 2000)) + "-01-01"},
          {"external_ids",
           {{"imdb_id", ids.contains("imdb") ? json(tk::id_text(ids["imdb"])) : json()},
            {"tvdb_id",
             ids.contains("tvdb") ? json(std::atoll(tk::id_text(ids["tvdb"]).c_str())) : json()}}}};
      by_key[tk::universe_key(s)] = obj;
      tv.push_back(obj);
      for (const auto& se : tk::array_or_empty(s, "seasons")) {
        for (const auto& e : tk::array_or_empty(se, "episodes")) {
          const json eids = e.value("ids", json::object());
          json ep = {
              {"id", std::atoll(tk::id_text(eids.value("tmdb", json("0"))).c_str())},
              {"name", e.value("title", "")},
              {"show_id", show_id},
              {"season_number", se.value("number", 0)},
              {"episode_number", e.value("number", 0)},
              {"external_ids",
               {{"imdb_id", eids.contains("imdb") ? json(tk::id_text(eids["imdb"])) : json()},
                {"tvdb_id", eids.contains("tvdb")
                                ? json(std::atoll(tk::id_text(eids["tvdb"]).c_str()))
                                : json()}}}};
          if (e.contains("duration_ms"))
            ep["runtime"] = e["duration_ms"].get<std::int64_t>() / 60000;
          json ref = e;
          ref["type"] = "episode";
          by_key[tk::universe_key(ref)] = ep;
          episodes.push_back(ep);
        }
      }
    }
    json wl = {{"movies", json::array()}, {"tv", json::array()}};
    for (const auto& w : tk::array_or_empty(u, "watchlist")) {
      auto it = by_key.find(tk::universe_key(w));
      if (it == by_key.end()) continue;
      wl[w.value("type", "") == "movie" ? "movies" : "tv"].push_back(it->second["id"]);
    }
    json rated = {{"movies", json::array()}, {"tv", json::array()}, {"episodes", json::array()}};
    for (const auto& r : tk::array_or_empty(u, "ratings")) {
      auto it = by_key.find(tk::universe_key(r));
      if (it == by_key.end()) continue;
      json obj = it->second;
      obj["rating"] = static_cast<double>(r.value("rating", 0));
      const std::string type = r.value("type", "");
      rated[type == "movie" ? "movies" : type == "show" ? "tv" : "episodes"].push_back(obj);
    }
    return {{"catalog", {{"movies", movies}, {"tv", tv}, {"episodes", episodes}}},
            {"watchlist", wl},
            {"rated", rated}};
  }

  // ---------- auth ----------
  bool check_key(const Req& req, Res& res) {
    const std::string bearer = bearer_token(req);
    if (!bearer.empty()) {
      // The app's read access token, or a v4 user access token (it works on v3 too).
      if (bearer == m_read_token || v4_user(bearer)) return true;
      send_error(res, 401, 7, "Invalid API key: You must be granted a valid key.");
      return false;
    }
    if (!req.has_param("api_key") || req.get_param_value("api_key") != m_api_key) {
      send_error(res, 401, 7, "Invalid API key: You must be granted a valid key.");
      return false;
    }
    return true;
  }

  bool v4_user(const std::string& token) const {
    return std::find(m_v4_tokens.begin(), m_v4_tokens.end(), token) != m_v4_tokens.end();
  }

  // v4 account routes: a v4 user access token of this account (object id).
  bool check_v4_account(const Req& req, Res& res, const std::string& object_id) {
    const std::string bearer = bearer_token(req);
    if (bearer.empty() || !v4_user(bearer) || m_ctx->token_expired(req)) {
      send_error(res, 401, 3,
                 "Authentication failed: You do not have permissions to access the service.");
      return false;
    }
    if (object_id != m_object_id) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return false;
    }
    return true;
  }

  bool check_session(const Req& req, Res& res) {
    if (!check_key(req, res)) return false;
    const std::string session =
        req.has_param("session_id") ? req.get_param_value("session_id") : "";
    if (!m_ctx->token_valid(req, session)) {
      send_error(res, 401, 3,
                 "Authentication failed: You do not have permissions to access the service.");
      return false;
    }
    return true;
  }

  bool check_account(const Req& req, Res& res, const std::string& id) {
    if (!check_session(req, res)) return false;
    if (id != std::to_string(m_account.value("id", 0)) && id != m_account.value("username", "")) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return false;
    }
    return true;
  }

  // Serves a 20-per-page list with TMDb's paging envelope; page must be 1..500.
  void send_list(const Req& req, Res& res, std::vector<json> rows) {
    const long long page = param_int(req, "page", 1);
    if (page < 1 || page > 500) {
      send_error(
          res, 400, 22,
          "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.");
      return;
    }
    const std::string sort =
        req.has_param("sort_by") ? req.get_param_value("sort_by") : "created_at.asc";
    if (sort == "created_at.desc") std::reverse(rows.begin(), rows.end());
    const std::size_t size = static_cast<std::size_t>(std::max(1, m_page_size));
    const Page pg = m_ctx->page(req, rows.size(), static_cast<std::size_t>(page - 1) * size, size);
    json results = json::array();
    for (std::size_t i = pg.start; i < pg.end(); ++i) results.push_back(rows[i]);
    send_json(res,
              {{"page", page},
               {"results", results},
               {"total_pages", (rows.size() + size - 1) / size},
               {"total_results", rows.size()}},
              200);
  }

  // Validates a rating value: 0.5 to 10.0 in steps of 0.5.
  static std::optional<json> rating_error(const json& value) {
    if (!value.is_number()) return tmdb_error(18, "Value too low: Value must be greater than 0.0.");
    const double v = value.get<double>();
    if (v < 0.5) return tmdb_error(18, "Value too low: Value must be greater than 0.0.");
    if (v > 10.0)
      return tmdb_error(19, "Value too high: Value must be less than, or equal to 10.0.");
    if (std::fabs(v * 2 - std::round(v * 2)) > 1e-9)
      return tmdb_error(20, "Value doesn't seem to be valid.");
    return std::nullopt;
  }

  template <typename Key>
  void rate(const Req& req, Res& res, std::vector<std::pair<Key, Rated>>& list, const Key& key) {
    if (req.method == "DELETE") {
      auto it =
          std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.first == key; });
      if (it == list.end()) {
        send_error(res, 404, 34, "The resource you requested could not be found.");
        return;
      }
      list.erase(it);
      send_json(res, tmdb_success(13, "The item/record was deleted successfully."), 200);
      return;
    }
    auto body = tk::parse_json_body(req);
    const json value = body ? body->value("value", json()) : json();
    if (auto err = rating_error(value)) {
      send_json(res, *err, 400);
      return;
    }
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.first == key; });
    const std::int64_t now = m_ctx->now_ms();
    if (it != list.end()) {
      it->second = Rated{value, now};
      send_json(res, tmdb_success(12, "The item/record was updated successfully."), 201);
      return;
    }
    list.emplace_back(key, Rated{value, now});
    send_json(res, tmdb_success(1, "Success."), 201);
  }

  // ---------- details ----------
  // external_ids as /3/{movie|tv}/{id}/external_ids prints them (and append_to_response nests
  // them, without the id).
  static json external_ids_of(const json& obj, const std::string& kind, bool with_id) {
    const json ext = obj.contains("external_ids") && obj["external_ids"].is_object()
                         ? obj["external_ids"]
                         : json::object();
    auto get = [&](const char* k) { return ext.contains(k) ? ext[k] : json(nullptr); };
    json out = json::object();
    if (with_id) out["id"] = obj.value("id", json());
    out["imdb_id"] = get("imdb_id");
    if (kind != "movie") {
      out["freebase_mid"] = nullptr;
      out["freebase_id"] = nullptr;
      out["tvdb_id"] = get("tvdb_id");
      out["tvrage_id"] = nullptr;
    }
    out["wikidata_id"] = nullptr;
    if (kind != "episode") {
      out["facebook_id"] = nullptr;
      out["instagram_id"] = nullptr;
      out["twitter_id"] = nullptr;
    }
    return out;
  }

  // /3/movie/{id}: the list object's fields plus every details field of the OpenAPI document.
  json movie_details(const json& m) const {
    json out = listed(m);
    out.erase("genre_ids");
    const json put = {{"belongs_to_collection", nullptr},
                      {"budget", 0},
                      {"genres", json::array()},
                      {"homepage", ""},
                      {"imdb_id", external_ids_of(m, "movie", false)["imdb_id"]},
                      {"origin_country", json::array()},
                      {"production_companies", json::array()},
                      {"production_countries", json::array()},
                      {"revenue", 0},
                      {"runtime", m.value("runtime", json(0))},
                      {"spoken_languages", json::array()},
                      {"status", "Released"},
                      {"tagline", ""}};
    for (const auto& [k, v] : put.items()) {
      if (!out.contains(k)) out[k] = v;
    }
    return out;
  }

  // /3/tv/{id}: details with seasons and episode counts from the catalog's episodes.
  json tv_details(const json& t) const {
    json out = listed(t);
    out.erase("genre_ids");
    const std::int64_t id = t.value("id", std::int64_t{0});
    std::map<int, std::vector<const json*>> seasons;
    for (const auto& [key, e] : m_episodes) {
      if (e.value("show_id", std::int64_t{0}) == id) {
        seasons[e.value("season_number", 0)].push_back(&e);
      }
    }
    json season_rows = json::array();
    int episodes = 0;
    const json* last = nullptr;
    for (auto& [number, eps] : seasons) {
      std::sort(eps.begin(), eps.end(), [](const json* a, const json* b) {
        return a->value("episode_number", 0) < b->value("episode_number", 0);
      });
      if (number > 0) episodes += static_cast<int>(eps.size());
      if (number > 0) last = eps.back();
      season_rows.push_back(
          {{"air_date", eps.front()->value("air_date", json(""))},
           {"episode_count", eps.size()},
           {"id", id * 1000 + number},
           {"name", number == 0 ? std::string("Specials") : "Season " + std::to_string(number)},
           {"overview", ""},
           {"poster_path", nullptr},
           {"season_number", number},
           {"vote_average", 0.0}});
    }
    json last_episode = nullptr;
    if (last) {
      last_episode = listed(*last);
      last_episode.erase("rating");
    }
    const json put = {
        {"created_by", json::array()},
        {"episode_run_time", json::array()},
        {"genres", json::array()},
        {"homepage", ""},
        {"in_production", false},
        {"languages", json::array({"en"})},
        {"last_air_date",
         last ? last->value("air_date", json("")) : t.value("first_air_date", json(""))},
        {"last_episode_to_air", last_episode},
        {"next_episode_to_air", nullptr},
        {"networks", json::array()},
        {"number_of_episodes", episodes},
        {"number_of_seasons",
         std::count_if(seasons.begin(), seasons.end(), [](const auto& p) { return p.first > 0; })},
        {"production_companies", json::array()},
        {"production_countries", json::array()},
        {"seasons", season_rows},
        {"spoken_languages", json::array()},
        {"status", "Ended"},
        {"tagline", ""},
        {"type", "Scripted"}};
    for (const auto& [k, v] : put.items()) {
      if (!out.contains(k)) out[k] = v;
    }
    return out;
  }

  // append_to_response: the sub-requests TMDb nests under their own name; others are ignored,
  // as TMDb ignores names it does not know.
  void append(const Req& req, const json& obj, const std::string& kind, json& out) const {
    if (!req.has_param("append_to_response")) return;
    std::stringstream list(req.get_param_value("append_to_response"));
    std::string name;
    while (std::getline(list, name, ',')) {
      if (name == "external_ids") out["external_ids"] = external_ids_of(obj, kind, false);
    }
  }

  void v4_routes(httplib::Server& srv);

  bool known_movie(std::int64_t id) {
    if (m_movies.count(id)) return true;
    if (!m_accept_unknown) return false;
    add_movie({{"id", id}});
    return true;
  }
  bool known_tv(std::int64_t id) {
    if (m_tv.count(id)) return true;
    if (!m_accept_unknown) return false;
    add_tv({{"id", id}});
    return true;
  }

  mutable std::mutex m_mutex;
  Context* m_ctx = nullptr;
  std::map<std::int64_t, json> m_movies, m_tv;
  std::map<std::string, json> m_episodes;
  std::vector<std::pair<std::int64_t, std::int64_t>> m_watch_movies, m_watch_tv;  // id, added
  std::vector<std::pair<std::int64_t, Rated>> m_rated_movies, m_rated_tv;
  std::vector<std::pair<std::string, Rated>> m_rated_episodes;
  std::map<std::string, RequestToken> m_tokens;
  json m_account;
  int m_page_size = 20;
  bool m_accept_unknown = false;
  std::string m_api_key, m_read_token, m_session_id;
  std::string m_v4_token, m_object_id;
  std::vector<std::string> m_v4_tokens;  // valid v4 user access tokens
  std::uint64_t m_serial = 0;
};

// TMDb v4: user access tokens from an approved request token, the account lists under the
// account's object id (rated rows carry account_rating instead of rating), and the conversion of
// a v4 token into a v3 session for the v3 writes.
void TmdbFake::v4_routes(httplib::Server& srv) {
  auto app = [this](const Req& req, Res& res) {
    if (bearer_token(req) == m_read_token) return true;
    send_error(res, 401, 7, "Invalid API key: You must be granted a valid key.");
    return false;
  };
  srv.Post("/4/auth/request_token", [this, app](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!app(req, res)) return;
    const std::string token = tk::make_token("v4req", ++m_serial);
    m_tokens[token] = RequestToken{m_ctx->now_ms() + 15 * 60 * 1000, false, false};
    send_json(res,
              {{"success", true},
               {"status_code", 1},
               {"status_message", "Success."},
               {"request_token", token}},
              200);
  });
  srv.Post("/4/auth/access_token", [this, app](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!app(req, res)) return;
    auto body = tk::parse_json_body(req);
    auto it = m_tokens.find(body ? tk::str(*body, "request_token") : "");
    if (it == m_tokens.end() || it->second.used || m_ctx->now_ms() >= it->second.expires_ms) {
      send_error(res, 401, 33,
                 "Invalid request token: The request token is either expired or invalid.");
      return;
    }
    if (!it->second.approved) {
      send_error(res, 422, 41, "The request token has not been approved.");
      return;
    }
    it->second.used = true;
    const std::string access = tk::make_token("v4acc", ++m_serial);
    m_v4_tokens.push_back(access);
    send_json(res,
              {{"success", true},
               {"status_code", 1},
               {"status_message", "Success."},
               {"account_id", m_object_id},
               {"access_token", access}},
              200);
  });
  srv.Delete("/4/auth/access_token", [this, app](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!app(req, res)) return;
    auto body = tk::parse_json_body(req);
    const std::string token = body ? tk::str(*body, "access_token") : "";
    auto it = std::find(m_v4_tokens.begin(), m_v4_tokens.end(), token);
    if (it == m_v4_tokens.end()) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    m_v4_tokens.erase(it);
    send_json(res, tmdb_success(13, "The item/record was deleted successfully."), 200);
  });
  srv.Post("/3/authentication/session/convert/4", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    auto body = tk::parse_json_body(req);
    if (!body || !v4_user(tk::str(*body, "access_token"))) {
      send_error(res, 401, 35, "Invalid token.");
      return;
    }
    m_ctx->add_valid_token(m_session_id);
    send_json(res, {{"success", true}, {"session_id", m_session_id}}, 200);
  });
  srv.Get(R"(/4/account/([^/]+)/(movie|tv)/(watchlist|rated))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_v4_account(req, res, req.matches[1].str())) return;
    const bool movie = req.matches[2].str() == "movie";
    std::vector<json> rows;
    if (req.matches[3].str() == "watchlist") {
      for (const auto& [id, at] : movie ? m_watch_movies : m_watch_tv) {
        rows.push_back(listed(movie ? m_movies.at(id) : m_tv.at(id)));
      }
    } else {
      for (const auto& [id, r] : movie ? m_rated_movies : m_rated_tv) {
        json row = listed(movie ? m_movies.at(id) : m_tv.at(id));
        row["account_rating"] = {{"created_at", tk::iso_utc(r.at, false)}, {"value", r.value}};
        rows.push_back(std::move(row));
      }
    }
    send_list(req, res, std::move(rows));
  });
}

void TmdbFake::register_routes(httplib::Server& srv, Context& ctx) {
  {
    std::lock_guard lock(m_mutex);
    m_ctx = &ctx;
    m_ctx->set_valid_tokens({m_session_id});
  }
  v4_routes(srv);
  srv.Get("/3/authentication", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    send_json(res, tmdb_success(1, "Success."), 200);
  });
  srv.Get("/3/authentication/token/new", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    const std::string token = tk::make_token("", ++m_serial);
    const std::int64_t expires = m_ctx->now_ms() + 60 * 60 * 1000;
    m_tokens[token] = RequestToken{expires, false, false};
    std::string iso = tk::iso_utc(expires, false);  // 2026-04-02T19:00:00Z
    const std::string printed = iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
    send_json(res, {{"success", true}, {"expires_at", printed}, {"request_token", token}}, 200);
  });
  srv.Post("/3/authentication/token/validate_with_login", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    auto body = tk::parse_json_body(req);
    const std::string token = body ? body->value("request_token", "") : "";
    auto it = m_tokens.find(token);
    if (it == m_tokens.end() || m_ctx->now_ms() >= it->second.expires_ms) {
      send_error(res, 401, 33,
                 "Invalid request token: The request token is either expired or invalid.");
      return;
    }
    if (!body || body->value("username", "") != m_account.value("username", "")) {
      send_error(res, 401, 30,
                 "Invalid username and/or password: You did not provide a valid login.");
      return;
    }
    it->second.approved = true;
    send_json(res, {{"success", true}, {"expires_at", ""}, {"request_token", token}}, 200);
  });
  srv.Post("/3/authentication/session/new", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    auto body = tk::parse_json_body(req);
    auto it = m_tokens.find(body ? body->value("request_token", "") : "");
    if (it == m_tokens.end() || it->second.used || m_ctx->now_ms() >= it->second.expires_ms) {
      send_error(res, 401, 33,
                 "Invalid request token: The request token is either expired or invalid.");
      return;
    }
    if (!it->second.approved) {
      send_error(res, 422, 41, "The request token has not been approved.");
      return;
    }
    it->second.used = true;
    m_ctx->add_valid_token(m_session_id);
    send_json(res, {{"success", true}, {"session_id", m_session_id}}, 200);
  });
  srv.Delete("/3/authentication/session", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    auto body = tk::parse_json_body(req);
    const std::string session = body ? body->value("session_id", "") : "";
    if (!m_ctx->is_known_token(session)) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    m_ctx->revoke_token(session);
    send_json(res, {{"success", true}}, 200);
  });
  // Test hook standing in for the user at themoviedb.org/authenticate/<request_token>.
  srv.Post("/__sandbox/oauth/approve", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    auto it = m_tokens.find(body ? body->value("request_token", "") : "");
    if (it == m_tokens.end()) {
      send_json(res, {{"error", "unknown request_token"}}, 404);
      return;
    }
    it->second.approved = true;
    send_json(res, {{"ok", true}}, 200);
  });
  auto account = [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (req.matches.size() > 1 && req.matches[1].matched) {
      if (!check_account(req, res, req.matches[1].str())) return;
    } else if (!check_session(req, res)) {
      return;
    }
    send_json(res, m_account, 200);
  };
  srv.Get(R"(/3/account(?:/([^/]+))?)", account);
  srv.Get(R"(/3/account/([^/]+)/watchlist/(movies|tv))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_account(req, res, req.matches[1].str())) return;
    std::vector<json> rows;
    if (req.matches[2].str() == "movies") {
      for (const auto& [id, at] : m_watch_movies) rows.push_back(listed(m_movies.at(id)));
    } else {
      for (const auto& [id, at] : m_watch_tv) rows.push_back(listed(m_tv.at(id)));
    }
    send_list(req, res, std::move(rows));
  });
  srv.Get(R"(/3/account/([^/]+)/rated/(movies|tv|tv/episodes))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_account(req, res, req.matches[1].str())) return;
    std::vector<json> rows;
    const std::string what = req.matches[2].str();
    if (what == "movies") {
      for (const auto& [id, r] : m_rated_movies) rows.push_back(with_rating(m_movies.at(id), r));
    } else if (what == "tv") {
      for (const auto& [id, r] : m_rated_tv) rows.push_back(with_rating(m_tv.at(id), r));
    } else {
      for (const auto& [k, r] : m_rated_episodes) rows.push_back(with_rating(m_episodes.at(k), r));
    }
    send_list(req, res, std::move(rows));
  });
  srv.Post(R"(/3/account/([^/]+)/watchlist)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_account(req, res, req.matches[1].str())) return;
    auto body = tk::parse_json_body(req);
    if (!body || !body->is_object() || !(*body)["media_id"].is_number_integer() ||
        !(*body)["watchlist"].is_boolean()) {
      send_error(res, 400, 5, "Invalid parameters: Your request parameters are incorrect.");
      return;
    }
    const std::string type = body->value("media_type", "");
    const std::int64_t id = (*body)["media_id"].get<std::int64_t>();
    if (type != "movie" && type != "tv") {
      send_error(res, 400, 5, "Invalid parameters: Your request parameters are incorrect.");
      return;
    }
    if (!(type == "movie" ? known_movie(id) : known_tv(id))) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    auto& list = type == "movie" ? m_watch_movies : m_watch_tv;
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.first == id; });
    if (!(*body)["watchlist"].get<bool>()) {
      if (it != list.end()) list.erase(it);
      send_json(res, tmdb_success(13, "The item/record was deleted successfully."), 200);
      return;
    }
    if (it != list.end()) {
      send_json(res, tmdb_success(12, "The item/record was updated successfully."), 201);
      return;
    }
    list.emplace_back(id, m_ctx->now_ms());
    send_json(res, tmdb_success(1, "Success."), 201);
  });
  auto movie_rating = [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_session(req, res)) return;
    const std::int64_t id = std::atoll(req.matches[1].str().c_str());
    if (!known_movie(id)) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    rate(req, res, m_rated_movies, id);
  };
  srv.Post(R"(/3/movie/(\d+)/rating)", movie_rating);
  srv.Delete(R"(/3/movie/(\d+)/rating)", movie_rating);
  auto tv_rating = [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_session(req, res)) return;
    const std::int64_t id = std::atoll(req.matches[1].str().c_str());
    if (!known_tv(id)) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    rate(req, res, m_rated_tv, id);
  };
  srv.Post(R"(/3/tv/(\d+)/rating)", tv_rating);
  srv.Delete(R"(/3/tv/(\d+)/rating)", tv_rating);
  auto episode_rating = [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_session(req, res)) return;
    const std::int64_t show = std::atoll(req.matches[1].str().c_str());
    const int season = std::atoi(req.matches[2].str().c_str());
    const int episode = std::atoi(req.matches[3].str().c_str());
    const std::string key = episode_key(show, season, episode);
    if (!m_episodes.count(key)) {
      if (!m_accept_unknown || !m_tv.count(show)) {
        send_error(res, 404, 34, "The resource you requested could not be found.");
        return;
      }
      add_episode({{"show_id", show}, {"season_number", season}, {"episode_number", episode}});
    }
    rate(req, res, m_rated_episodes, key);
  };
  srv.Post(R"(/3/tv/(\d+)/season/(\d+)/episode/(\d+)/rating)", episode_rating);
  srv.Delete(R"(/3/tv/(\d+)/season/(\d+)/episode/(\d+)/rating)", episode_rating);
  srv.Get(R"(/3/(movie|tv)/(\d+)/external_ids)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    const bool movie = req.matches[1].str() == "movie";
    const std::int64_t id = std::atoll(req.matches[2].str().c_str());
    const auto& table = movie ? m_movies : m_tv;
    auto it = table.find(id);
    if (it == table.end()) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    json out = external_ids_of(it->second, movie ? "movie" : "tv", true);
    send_json(res, out, 200);
  });
  srv.Get(R"(/3/movie/(\d+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    auto it = m_movies.find(std::atoll(req.matches[1].str().c_str()));
    if (it == m_movies.end()) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    json out = movie_details(it->second);
    append(req, it->second, "movie", out);
    send_json(res, out, 200);
  });
  srv.Get(R"(/3/tv/(\d+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    auto it = m_tv.find(std::atoll(req.matches[1].str().c_str()));
    if (it == m_tv.end()) {
      send_error(res, 404, 34, "The resource you requested could not be found.");
      return;
    }
    json out = tv_details(it->second);
    append(req, it->second, "tv", out);
    send_json(res, out, 200);
  });
  srv.Get(R"(/3/tv/(\d+)/season/(\d+)/episode/(\d+)/external_ids)",
          [this](const Req& req, Res& res) {
            std::lock_guard lock(m_mutex);
            if (!check_key(req, res)) return;
            auto it = m_episodes.find(episode_key(std::atoll(req.matches[1].str().c_str()),
                                                  std::atoi(req.matches[2].str().c_str()),
                                                  std::atoi(req.matches[3].str().c_str())));
            if (it == m_episodes.end()) {
              send_error(res, 404, 34, "The resource you requested could not be found.");
              return;
            }
            send_json(res, external_ids_of(it->second, "episode", true), 200);
          });
  srv.Get("/3/configuration", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    send_json(res, configuration(), 200);
  });
  srv.Get(R"(/3/find/([^/]+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!check_key(req, res)) return;
    const std::string source =
        req.has_param("external_source") ? req.get_param_value("external_source") : "";
    if (source.empty()) {
      send_error(res, 400, 5, "Invalid parameters: Your request parameters are incorrect.");
      return;
    }
    const std::string wanted = req.matches[1].str();
    json out = {{"movie_results", json::array()},
                {"person_results", json::array()},
                {"tv_results", json::array()},
                {"tv_episode_results", json::array()},
                {"tv_season_results", json::array()}};
    auto hit = [&](const json& obj) {
      const json ext = obj.value("external_ids", json::object());
      return ext.contains(source) && tk::id_text(ext[source]) == wanted;
    };
    for (const auto& [id, m] : m_movies) {
      if (!hit(m)) continue;
      json r = listed(m);
      r["media_type"] = "movie";
      out["movie_results"].push_back(r);
    }
    for (const auto& [id, t] : m_tv) {
      if (!hit(t)) continue;
      json r = listed(t);
      r["media_type"] = "tv";
      out["tv_results"].push_back(r);
    }
    for (const auto& [key, e] : m_episodes) {
      if (!hit(e)) continue;
      json r = listed(e);
      r["media_type"] = "tv_episode";
      out["tv_episode_results"].push_back(r);
    }
    send_json(res, out, 200);
  });
  // Unknown routes answer like every other TMDb error (its documented error object).
  tk::serve_unrouted(srv, [](const Req&, Res& res) {
    send_error(res, 404, 34, "The resource you requested could not be found.");
  });
}

}  // namespace

std::unique_ptr<FakeService> make_tmdb_fake() { return std::make_unique<TmdbFake>(); }

}  // namespace cw::fakes
