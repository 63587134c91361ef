#include "simkl/simkl_fake.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "trakt/tracker_util.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;
using Req = httplib::Request;
using Res = httplib::Response;
namespace tk = tracker;

constexpr const char* k_buckets[] = {"movies", "shows", "anime"};
constexpr const char* k_default_client_id = "cw-sandbox-simkl-client-id";
constexpr const char* k_default_client_secret = "cw-sandbox-simkl-client-secret";
constexpr const char* k_default_access = "cw-sandbox-simkl-access-token";
constexpr const char* k_initial_stamp = "2024-01-01T00:00:00Z";

json error_body(const std::string& error, int code, const std::string& message) {
  return {{"error", error}, {"code", code}, {"message", message}};
}

// How SIMKL prints ids differs per endpoint (its own examples): library reads (all-items,
// ratings) print every id but simkl as a string ("tmdb": "62417"); playback and scrobble replies
// print numeric ids as numbers ("tmdb": 1429); /search/id prints only simkl and slug.
enum class IdStyle { library, standard, lookup };

json format_ids(const json& ids, IdStyle style) {
  json out = json::object();
  if (!ids.is_object()) return out;
  static const std::vector<std::string> k_numeric{"simkl", "tmdb",    "tvdb", "mal",
                                                  "anidb", "anilist", "kitsu"};
  for (const auto& [k, v] : ids.items()) {
    const std::string text = tk::id_text(v);
    if (text.empty()) continue;
    if (style == IdStyle::lookup && k != "simkl" && k != "slug") continue;
    const bool numeric_key =
        k == "simkl" || (style == IdStyle::standard &&
                         std::find(k_numeric.begin(), k_numeric.end(), k) != k_numeric.end());
    char* end = nullptr;
    const long long n = std::strtoll(text.c_str(), &end, 10);
    if (numeric_key && end && *end == '\0') {
      out[k] = n;
    } else {
      out[k] = text;
    }
  }
  return out;
}

// SIMKL's slug form of a title: lower case, words joined by '-'.
std::string slug_of(const std::string& title) {
  std::string slug;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

// A media object with its ids printed in `style`.
json with_ids(json media, IdStyle style) {
  if (media.is_object() && media.contains("ids")) media["ids"] = format_ids(media["ids"], style);
  return media;
}

// The media key of a row: SIMKL files anime under "show" in lists.
const char* media_key(const std::string& bucket) { return bucket == "movies" ? "movie" : "show"; }

struct Options {
  bool null_when_empty = true;
  bool require_app_info = false;
  int history_add_status = 201;
  bool accept_unknown_ids = false;
  bool freeze_activities = false;
  bool real_rate_limits = false;
};

struct Media {
  std::string bucket;  // movies, shows, anime
  json obj;            // title, year, ids, anime_type?, seasons? (catalog of episodes)
};

struct Entry {
  std::size_t media = 0;
  json row;                      // the all-items row without "seasons"
  json seasons = json::array();  // watched episodes
  std::int64_t updated_ms = 0;   // for date_from
  std::int64_t rated_ms = 0;
};

struct Pin {
  std::string user_code;
  std::int64_t expires_ms = 0;
  std::string state = "pending";  // pending, approved, used
};

class SimklFake final : public FakeService {
 public:
  SimklFake() { reset_locked(); }

  std::string name() const override { return "simkl"; }
  void register_routes(httplib::Server& srv, Context& ctx) override;

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    load_locked(fixture);
  }
  // Generated show rows get what SIMKL computes for them: episode counts, last_watched and
  // next_to_watch (recorded fixtures keep what they hold).
  void seed_universe(const json& u) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    load_locked(universe_fixture(u));
    for (auto& [mi, e] : m_library) {
      if (m_catalog[mi].bucket == "movies") continue;
      if (!e.row.contains("not_aired_episodes_count")) e.row["not_aired_episodes_count"] = 0;
      refresh_counts(e);
    }
  }
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
    return {{"client_id", m_client_id},
            {"client_secret", m_client_secret},
            {"access_token", m_access_token}};
  }
  std::string provider_yaml(const std::string& base_url) const override {
    std::lock_guard lock(m_mutex);
    return "  simkl:\n    plugin: simkl\n    url: " + base_url + "\n    client_id: " + m_client_id +
           "\n    client_secret: " + m_client_secret + "\n    access_token: " + m_access_token +
           "\n";
  }
  void fault_response(int status, const Req& /*req*/, Res& res) const override {
    switch (status) {
      case 401:
        tk_send(res, 401, error_body("user_token_failed", 401, "Invalid or expired token"));
        break;
      case 412:
        tk_send(res, 412,
                error_body("client_id_failed", 412,
                           "Incorrect client_id or total requests limit exceeded"));
        break;
      case 429:
        tk_send(res, 429, error_body("rate_limit", 429, "Rate limit exceeded"));
        break;
      default:
        tk_send(res, status,
                error_body(status >= 500 ? "server_error" : "request_failed", status,
                           "Sandbox fault " + std::to_string(status)));
    }
  }

 private:
  static void tk_send(Res& res, int status, const json& body) { send_json(res, body, status); }

  void reset_locked() {
    m_opt = Options{};
    m_catalog.clear();
    m_index.clear();
    m_library.clear();
    m_playback.clear();
    m_completed.clear();
    m_pins.clear();
    m_auth_codes.clear();
    m_client_id = k_default_client_id;
    m_client_secret = k_default_client_secret;
    m_access_token = k_default_access;
    m_next_id = 100001;
    m_next_simkl = 5000001;
    m_activities = default_activities();
    m_settings = default_settings();
    m_clock.reset();
    if (m_ctx) m_ctx->set_valid_tokens({m_access_token});
  }

  static json default_activities() {
    const json t = k_initial_stamp;
    json show_like = {{"all", t},         {"rated_at", t}, {"playback", t},
                      {"plantowatch", t}, {"watching", t}, {"completed", t},
                      {"hold", t},        {"dropped", t},  {"removed_from_list", t}};
    return {{"all", t},
            {"settings", {{"all", t}}},
            {"tv_shows", show_like},
            {"anime", show_like},
            {"movies",
             {{"all", t},
              {"rated_at", t},
              {"playback", t},
              {"plantowatch", t},
              {"completed", t},
              {"dropped", t},
              {"removed_from_list", t}}}};
  }

  static json default_settings() {
    return {{"user",
             {{"name", "sandbox"},
              {"joined_at", "2020-01-01T00:00:00Z"},
              {"gender", ""},
              {"avatar", ""},
              {"bio", ""},
              {"loc", ""},
              {"age", ""}}},
            {"account", {{"id", 424242}, {"timezone", "UTC"}, {"type", "free"}}},
            {"connections", {{"facebook", false}}}};
  }

  void load_locked(const json& f) {
    if (!f.is_object()) return;
    if (auto it = f.find("options"); it != f.end() && it->is_object()) {
      m_opt.null_when_empty = it->value("null_when_empty", m_opt.null_when_empty);
      m_opt.require_app_info = it->value("require_app_info", m_opt.require_app_info);
      m_opt.history_add_status = it->value("history_add_status", m_opt.history_add_status);
      m_opt.accept_unknown_ids = it->value("accept_unknown_ids", m_opt.accept_unknown_ids);
      m_opt.freeze_activities = it->value("freeze_activities", m_opt.freeze_activities);
      m_opt.real_rate_limits = it->value("real_rate_limits", m_opt.real_rate_limits);
    }
    if (auto it = f.find("auth"); it != f.end() && it->is_object()) {
      m_client_id = it->value("client_id", m_client_id);
      m_client_secret = it->value("client_secret", m_client_secret);
      m_access_token = it->value("access_token", m_access_token);
    }
    if (auto it = f.find("catalog"); it != f.end() && it->is_object()) {
      for (const char* b : k_buckets) {
        for (const auto& m : tk::array_or_empty(*it, b)) add_media(b, m);
      }
    }
    if (auto it = f.find("library"); it != f.end() && it->is_object()) {
      for (const char* b : k_buckets) {
        for (const auto& row : tk::array_or_empty(*it, b)) {
          const std::size_t mi = add_media(b, row.value(media_key(b), json::object()));
          Entry e;
          e.media = mi;
          e.row = row;
          e.row.erase("seasons");
          e.seasons = row.value("seasons", json::array());
          const std::string touched =
              std::max({tk::str(row, "added_to_watchlist_at"), tk::str(row, "last_watched_at"),
                        tk::str(row, "user_rated_at")});
          e.updated_ms = tk::parse_iso(touched).value_or(0);
          e.rated_ms = tk::parse_iso(tk::str(row, "user_rated_at")).value_or(0);
          m_library[mi] = std::move(e);
        }
      }
    }
    for (const auto& row : tk::array_or_empty(f, "playback")) {
      for (const char* key : {"movie", "show", "anime"}) {
        if (row.contains(key)) {
          add_media(std::string(key) == "movie"   ? "movies"
                    : key == std::string("anime") ? "anime"
                                                  : "shows",
                    row[key]);
        }
      }
      m_playback.push_back(row);
      const std::int64_t id = row.value("id", std::int64_t{0});
      if (id >= m_next_id) m_next_id = id + 1;
    }
    if (auto it = f.find("activities"); it != f.end() && it->is_object()) m_activities = *it;
    if (auto it = f.find("settings"); it != f.end() && it->is_object()) m_settings = *it;
    if (m_ctx) {
      m_ctx->set_valid_tokens({m_access_token});
      if (m_opt.real_rate_limits) {
        // 10 GET/s and 1 POST/s per token.
        FaultSpec get;
        get.method = "GET";
        get.rate_per_s = 10;
        get.burst = 10;
        get.retry_after_s = 1;
        m_ctx->add_fault(get);
        FaultSpec post;
        post.method = "POST";
        post.rate_per_s = 1;
        post.burst = 1;
        post.retry_after_s = 1;
        m_ctx->add_fault(post);
      }
    }
  }

  json state_locked() const {
    json catalog = {{"movies", json::array()}, {"shows", json::array()}, {"anime", json::array()}};
    for (const auto& m : m_catalog) catalog[m.bucket].push_back(m.obj);
    json library = {{"movies", json::array()}, {"shows", json::array()}, {"anime", json::array()}};
    for (const auto& [mi, e] : m_library)
      library[m_catalog[mi].bucket].push_back(row_view(e, true, true));
    return {{"catalog", catalog},
            {"library", library},
            {"playback", m_playback},
            {"activities", m_activities},
            {"settings", m_settings},
            {"auth",
             {{"client_id", m_client_id},
              {"client_secret", m_client_secret},
              {"access_token", m_access_token}}}};
  }

  static json universe_fixture(const json& u) {
    json catalog = {{"movies", json::array()}, {"shows", json::array()}, {"anime", json::array()}};
    // Every SIMKL title has a simkl id and a slug: universe items without one get the next free
    // simkl id and a slug made from the title.
    std::int64_t next_simkl = 1;
    for (const char* list : {"movies", "shows"}) {
      for (const auto& item : tk::array_or_empty(u, list)) {
        const std::string sid =
            tk::id_text(item.value("ids", json::object()).value("simkl", json()));
        next_simkl = std::max<std::int64_t>(next_simkl, std::atoll(sid.c_str()) + 1);
      }
    }
    auto ids_of = [&next_simkl](const json& item) {
      json ids = tk::pick_ids(item.value("ids", json::object()), {"simkl", "tmdb", "tvdb"},
                              {"slug", "imdb", "mal", "anilist", "kitsu", "anidb"});
      if (!ids.contains("simkl")) ids["simkl"] = next_simkl++;
      if (!ids.contains("slug")) ids["slug"] = slug_of(tk::str(item, "title"));
      return ids;
    };
    std::unordered_map<std::string, std::pair<std::string, json>> objs;
    for (const auto& m : tk::array_or_empty(u, "movies")) {
      json obj = {
          {"title", m.value("title", "")}, {"year", m.value("year", json())}, {"ids", ids_of(m)}};
      if (m.contains("duration_ms")) obj["runtime"] = m["duration_ms"].get<std::int64_t>() / 60000;
      catalog["movies"].push_back(obj);
      objs[tk::universe_key(m)] = {"movies", obj};
    }
    for (const auto& s : tk::array_or_empty(u, "shows")) {
      const bool anime = s.value("anime", false);
      json obj = {
          {"title", s.value("title", "")}, {"year", s.value("year", json())}, {"ids", ids_of(s)}};
      if (anime) obj["anime_type"] = "tv";
      json seasons = json::array();
      for (const auto& se : tk::array_or_empty(s, "seasons")) {
        json eps = json::array();
        for (const auto& e : tk::array_or_empty(se, "episodes")) {
          eps.push_back({{"number", e.value("number", 0)}, {"title", e.value("title", "")}});
        }
        seasons.push_back({{"number", se.value("number", 0)}, {"episodes", eps}});
      }
      json full = obj;
      full["seasons"] = seasons;
      catalog[anime ? "anime" : "shows"].push_back(full);
      objs[tk::universe_key(s)] = {anime ? "anime" : "shows", obj};
    }
    // Library rows: watchlist → plantowatch; plays → completed movies / watching shows;
    // ratings → user_rating on the row.
    std::map<std::string, json> rows;
    std::vector<std::string> order;
    auto row_of = [&](const json& item) -> json* {
      json ref = item;
      if (item.value("type", "") == "episode") {
        ref = item.value("show", json::object());
        ref["type"] = "show";
      }
      const std::string key = tk::universe_key(ref);
      auto it = objs.find(key);
      if (it == objs.end()) return nullptr;
      if (!rows.count(key)) {
        const std::string& bucket = it->second.first;
        json row = {{"added_to_watchlist_at", nullptr},
                    {"last_watched_at", nullptr},
                    {"user_rated_at", nullptr},
                    {"user_rating", nullptr},
                    {"status", bucket == "movies" ? "completed" : "watching"},
                    {media_key(bucket), it->second.second},
                    {"_bucket", bucket}};
        if (bucket == "anime") row["anime_type"] = "tv";
        if (bucket != "movies") row["seasons"] = json::array();
        rows[key] = row;
        order.push_back(key);
      }
      return &rows[key];
    };
    for (const auto& w : tk::array_or_empty(u, "watchlist")) {
      json* row = row_of(w);
      if (!row) continue;
      (*row)["status"] = "plantowatch";
      (*row)["added_to_watchlist_at"] = w.value("listed_at", "");
    }
    for (const auto& h : tk::array_or_empty(u, "history")) {
      json* row = row_of(h);
      if (!row) continue;
      const std::string at = h.value("watched_at", "");
      if ((*row)["status"] == "plantowatch")
        (*row)["status"] = (*row)["_bucket"] == "movies" ? "completed" : "watching";
      if (!(*row)["last_watched_at"].is_string() ||
          (*row)["last_watched_at"].get<std::string>() < at) {
        (*row)["last_watched_at"] = at;
      }
      if (h.value("type", "") != "episode") continue;
      json& seasons = (*row)["seasons"];
      const int sn = h.value("season", 0);
      json* season = nullptr;
      for (auto& s : seasons) {
        if (s.value("number", -1) == sn) season = &s;
      }
      if (!season) {
        seasons.push_back({{"number", sn}, {"episodes", json::array()}});
        season = &seasons.back();
      }
      bool seen = false;
      for (auto& e : (*season)["episodes"]) {
        if (e.value("number", -1) == h.value("episode", 0)) {
          seen = true;
          if (e.value("watched_at", "") < at) e["watched_at"] = at;
        }
      }
      if (!seen)
        (*season)["episodes"].push_back({{"number", h.value("episode", 0)}, {"watched_at", at}});
    }
    for (const auto& r : tk::array_or_empty(u, "ratings")) {
      if (r.value("type", "") == "episode") continue;  // SIMKL rates movies and shows only
      json* row = row_of(r);
      if (!row) continue;
      (*row)["user_rating"] = r.value("rating", 0);
      (*row)["user_rated_at"] = r.value("rated_at", "");
    }
    json library = {{"movies", json::array()}, {"shows", json::array()}, {"anime", json::array()}};
    for (const auto& key : order) {
      json row = rows[key];
      const std::string bucket = row["_bucket"];
      row.erase("_bucket");
      library[bucket].push_back(row);
    }
    json playback = json::array();
    std::int64_t id = 1;
    for (const auto& p : tk::array_or_empty(u, "progress")) {
      const double duration = static_cast<double>(p.value("duration_ms", std::int64_t{1}));
      const double pos = static_cast<double>(p.value("progress_ms", std::int64_t{0}));
      // Playback rows print paused_at with milliseconds and the episode with its title and
      // TVDB coordinates (SIMKL's example).
      json row = {
          {"id", id++},
          {"progress", std::round(pos / duration * 1000.0) / 10.0},
          {"paused_at", tk::iso_utc(tk::parse_iso(p.value("progress_at", "")).value_or(0), true)}};
      if (p.value("type", "") == "episode") {
        json ref = p.value("show", json::object());
        ref["type"] = "show";
        auto it = objs.find(tk::universe_key(ref));
        if (it == objs.end()) continue;
        const int season = p.value("season", 0);
        const int number = p.value("episode", 0);
        row["type"] = "episode";
        row["episode"] = {{"season", season},
                          {"episode", number},
                          {"title", p.value("title", "Episode " + std::to_string(number))},
                          {"tvdb_season", season},
                          {"tvdb_number", number}};
        json media = it->second.second;
        media.erase("anime_type");
        row[it->second.first == "anime" ? "anime" : "show"] = media;
      } else {
        auto it = objs.find(tk::universe_key(p));
        if (it == objs.end()) continue;
        row["type"] = "movie";
        row["movie"] = it->second.second;
      }
      playback.push_back(row);
    }
    return {{"catalog", catalog}, {"library", library}, {"playback", playback}};
  }

  // ---------- catalog ----------
  template <typename F>
  static void for_ids(const json& ids, F&& f) {
    if (!ids.is_object()) return;
    for (const auto& [k, v] : ids.items()) {
      const std::string text = tk::id_text(v);
      if (!text.empty() && k != "slug") f(k + ":" + text);
    }
  }

  std::optional<std::size_t> find_media(const json& ids, const std::string& bucket_hint) const {
    std::optional<std::size_t> hit;
    for_ids(ids, [&](const std::string& key) {
      if (hit) return;
      auto [b, e] = m_index.equal_range(key);
      for (auto it = b; it != e; ++it) {
        const std::string& bucket = m_catalog[it->second].bucket;
        // Movies and shows can share a number space (tmdb): keep them apart.
        const bool movie_hint = bucket_hint == "movies";
        if (movie_hint == (bucket == "movies") || bucket_hint.empty()) {
          hit = it->second;
          return;
        }
      }
    });
    return hit;
  }

  std::size_t add_media(const std::string& bucket, const json& obj) {
    const json ids = obj.value("ids", json::object());
    if (auto hit = find_media(ids, bucket)) {
      // Later fixtures may add the episode catalog of a known show.
      if (obj.contains("seasons") && !m_catalog[*hit].obj.contains("seasons")) {
        m_catalog[*hit].obj["seasons"] = obj["seasons"];
      }
      return *hit;
    }
    m_catalog.push_back(Media{bucket, obj});
    const std::size_t ix = m_catalog.size() - 1;
    for_ids(ids, [&](const std::string& key) { m_index.emplace(key, ix); });
    const std::int64_t simkl = std::atoll(tk::id_text(ids.value("simkl", json())).c_str());
    if (simkl >= m_next_simkl) m_next_simkl = simkl + 1;
    return ix;
  }

  std::optional<std::size_t> resolve(const json& item, const std::string& bucket) {
    const json ids = item.value("ids", json::object());
    if (auto hit = find_media(ids, bucket)) return hit;
    if (!item.contains("ids") && item.contains("title")) {
      for (std::size_t i = 0; i < m_catalog.size(); ++i) {
        if (m_catalog[i].obj.value("title", "") == item.value("title", "") &&
            (bucket == "movies") == (m_catalog[i].bucket == "movies")) {
          return i;
        }
      }
    }
    if (!m_opt.accept_unknown_ids || !ids.is_object() || ids.empty()) return std::nullopt;
    json obj = {{"title", item.value("title", "Unknown")},
                {"year", item.value("year", json())},
                {"ids", ids}};
    obj["ids"]["simkl"] = m_next_simkl++;
    return add_media(bucket, obj);
  }

  json media_view(std::size_t mi) const {
    json obj = m_catalog[mi].obj;
    obj.erase("seasons");
    obj.erase("anime_type");
    return obj;
  }

  // ---------- library ----------
  std::string stamp() {
    return tk::iso_utc(m_clock.next(m_ctx ? m_ctx->now_ms() : tk::now_ms()), false);
  }

  std::string activity_section(const std::string& bucket) const {
    return bucket == "shows" ? "tv_shows" : bucket;
  }

  void touch(const std::string& bucket, std::initializer_list<std::string> fields) {
    if (m_opt.freeze_activities) return;
    const std::string t = stamp();
    const std::string section = activity_section(bucket);
    for (const auto& f : fields) m_activities[section][f] = t;
    m_activities[section]["all"] = t;
    m_activities["all"] = t;
  }

  Entry& entry_for(std::size_t mi, const std::string& status) {
    auto it = m_library.find(mi);
    if (it != m_library.end()) return it->second;
    const Media& m = m_catalog[mi];
    Entry e;
    e.media = mi;
    e.row = {{"added_to_watchlist_at", nullptr},
             {"last_watched_at", nullptr},
             {"user_rated_at", nullptr},
             {"user_rating", nullptr},
             {"status", status}};
    if (m.bucket != "movies") {
      e.row["last_watched"] = nullptr;
      e.row["next_to_watch"] = nullptr;
      e.row["watched_episodes_count"] = 0;
      e.row["total_episodes_count"] = 0;
      e.row["not_aired_episodes_count"] = 0;
    }
    if (m.bucket == "anime") e.row["anime_type"] = m.obj.value("anime_type", "tv");
    e.row[media_key(m.bucket)] = media_view(mi);
    return m_library.emplace(mi, std::move(e)).first->second;
  }

  // Recomputes the episode counters of a show row from its watched episodes.
  void refresh_counts(Entry& e) {
    const Media& m = m_catalog[e.media];
    if (m.bucket == "movies") return;
    int watched = 0, total = 0;
    std::string last_at, last_code;
    std::optional<std::string> next;
    const bool anime = m.bucket == "anime";
    auto code = [anime](int s, int n) {
      char buf[24];
      if (anime) {
        std::snprintf(buf, sizeof buf, "E%02d", n);
      } else {
        std::snprintf(buf, sizeof buf, "S%02dE%02d", s, n);
      }
      return std::string(buf);
    };
    auto is_watched = [&](int s, int n) {
      for (const auto& season : e.seasons) {
        if (season.value("number", -1) != s) continue;
        for (const auto& ep : season.value("episodes", json::array())) {
          if (ep.value("number", -1) == n) return true;
        }
      }
      return false;
    };
    for (const auto& season : e.seasons) {
      for (const auto& ep : season.value("episodes", json::array())) {
        ++watched;
        const std::string at = ep.value("watched_at", "");
        if (at >= last_at) {
          last_at = at;
          last_code = code(season.value("number", 0), ep.value("number", 0));
        }
      }
    }
    for (const auto& season : m.obj.value("seasons", json::array())) {
      for (const auto& ep : season.value("episodes", json::array())) {
        ++total;
        if (!next && !is_watched(season.value("number", 0), ep.value("number", 0))) {
          next = code(season.value("number", 0), ep.value("number", 0));
        }
      }
    }
    e.row["watched_episodes_count"] = watched;
    e.row["total_episodes_count"] = std::max(total, watched);
    e.row["last_watched"] = last_code.empty() ? json() : json(last_code);
    e.row["next_to_watch"] = next ? json(*next) : json();
    if (!last_at.empty()) e.row["last_watched_at"] = last_at;
  }

  json row_view(const Entry& e, bool with_seasons, bool watched_at) const {
    json row = e.row;
    const char* key = media_key(m_catalog[e.media].bucket);
    if (row.contains(key)) row[key] = with_ids(row[key], IdStyle::library);
    if (with_seasons && m_catalog[e.media].bucket != "movies") {
      json seasons = e.seasons;
      if (!watched_at) {
        for (auto& s : seasons) {
          for (auto& ep : s["episodes"]) ep.erase("watched_at");
        }
      }
      row["seasons"] = seasons;
    }
    return row;
  }

  // ---------- auth ----------
  bool authorize(const Req& req, Res& res, bool user) {
    const std::string client = req.has_param("client_id") ? req.get_param_value("client_id")
                                                          : req.get_header_value("simkl-api-key");
    if (client != m_client_id) {
      fault_response(412, req, res);
      return false;
    }
    if (m_opt.require_app_info && (!req.has_param("app-name") || !req.has_param("app-version") ||
                                   req.get_header_value("User-Agent").empty())) {
      send_json(res,
                error_body("empty_field", 400, "app-name, app-version and User-Agent are required"),
                400);
      return false;
    }
    if (!user) return true;
    if (!m_ctx->token_valid(req, bearer_token(req))) {
      fault_response(401, req, res);
      return false;
    }
    return true;
  }

  // The /search/id row of catalog entry `mi`.
  json lookup_row(std::size_t mi) const {
    const Media& m = m_catalog[mi];
    const bool movie = m.bucket == "movies";
    json row = {{"type", movie                 ? "movie"
                         : m.bucket == "anime" ? "anime"
                                               : "tv"},
                {"title", m.obj.value("title", json())}};
    if (m.obj.contains("poster")) row["poster"] = m.obj["poster"];
    row["year"] = m.obj.value("year", json());
    row["status"] = m.obj.contains("status") && m.obj["status"].is_string()
                        ? m.obj["status"]
                        : json(movie ? "released" : "ended");
    row["ids"] = format_ids(m.obj.value("ids", json::object()), IdStyle::lookup);
    if (!movie) {
      int total = 0;
      for (const auto& season : tk::array_or_empty(m.obj, "seasons")) {
        total += static_cast<int>(tk::array_or_empty(season, "episodes").size());
      }
      row["total_episodes"] = total;
    }
    return row;
  }

  // ---------- handlers ----------
  void search_id(const Req& req, Res& res);
  void get_all_items(const Req& req, Res& res);
  void add_to_list(const Req& req, Res& res);
  void add_history(const Req& req, Res& res);
  void remove_history(const Req& req, Res& res);
  void get_ratings(const Req& req, Res& res);
  void post_ratings(const Req& req, Res& res, bool remove);
  void get_playback(const Req& req, Res& res);
  void scrobble(const Req& req, Res& res, const std::string& action);
  // Scrobbles completed (catalog index, season and episode) and when: the 409 window.
  std::map<std::string, std::int64_t> m_completed;
  void oauth_routes(httplib::Server& srv);

  // Marks watched episodes of show entry `e` from a request show item (seasons/episodes); with
  // no seasons and no episodes, every catalog episode. Returns the number of episodes marked.
  int mark_episodes(Entry& e, const json& item, const std::string& now) {
    const json& catalog_seasons = m_catalog[e.media].obj.value("seasons", json::array());
    const std::string item_at = item.value("watched_at", now);
    int marked = 0;
    auto mark = [&](int sn, int en, const std::string& at, const json& tvdb) {
      json* season = nullptr;
      for (auto& s : e.seasons) {
        if (s.value("number", -1) == sn) season = &s;
      }
      if (!season) {
        e.seasons.push_back({{"number", sn}, {"episodes", json::array()}});
        season = &e.seasons.back();
      }
      for (auto& ep : (*season)["episodes"]) {
        if (ep.value("number", -1) == en) {
          ep["watched_at"] = at;
          ++marked;
          return;
        }
      }
      json ep = {{"number", en}, {"watched_at", at}};
      if (!tvdb.is_null()) ep["tvdb"] = tvdb;
      (*season)["episodes"].push_back(ep);
      ++marked;
    };
    auto catalog_tvdb = [&](int sn, int en) -> json {
      for (const auto& s : catalog_seasons) {
        if (s.value("number", -1) != sn) continue;
        for (const auto& ep : s.value("episodes", json::array())) {
          if (ep.value("number", -1) == en) return ep.value("tvdb", json());
        }
      }
      return json();
    };
    const json seasons = tk::array_or_empty(item, "seasons");
    const json flat = tk::array_or_empty(item, "episodes");
    if (seasons.empty() && flat.empty()) {
      for (const auto& s : catalog_seasons) {
        for (const auto& ep : s.value("episodes", json::array())) {
          mark(s.value("number", 0), ep.value("number", 0), item_at, ep.value("tvdb", json()));
        }
      }
      return marked;
    }
    for (const auto& s : seasons) {
      const int sn = s.value("number", 1);
      const std::string season_at = s.value("watched_at", item_at);
      const json eps = tk::array_or_empty(s, "episodes");
      if (eps.empty()) {
        for (const auto& cs : catalog_seasons) {
          if (cs.value("number", -1) != sn) continue;
          for (const auto& ep : cs.value("episodes", json::array())) {
            mark(sn, ep.value("number", 0), season_at, ep.value("tvdb", json()));
          }
        }
        continue;
      }
      for (const auto& ep : eps) {
        const int en = ep.value("number", 0);
        mark(sn, en, ep.value("watched_at", season_at), catalog_tvdb(sn, en));
      }
    }
    // Anime: absolute numbering without seasons.
    for (const auto& ep : flat) {
      const int en = ep.value("number", 0);
      mark(1, en, ep.value("watched_at", item_at), catalog_tvdb(1, en));
    }
    return marked;
  }

  mutable std::mutex m_mutex;
  Context* m_ctx = nullptr;
  Options m_opt;
  std::vector<Media> m_catalog;
  std::unordered_multimap<std::string, std::size_t> m_index;
  std::map<std::size_t, Entry> m_library;
  std::vector<json> m_playback;
  std::map<std::string, Pin> m_pins;
  std::vector<std::string> m_auth_codes;
  json m_activities, m_settings;
  std::string m_client_id, m_client_secret, m_access_token;
  std::int64_t m_next_id = 1;
  std::int64_t m_next_simkl = 1;
  std::uint64_t m_token_serial = 0;
  tk::StampClock m_clock{1000};
};

void SimklFake::get_all_items(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  const std::string type = req.matches.size() > 1 ? req.matches[1].str() : "";
  const std::string status = req.matches.size() > 2 ? req.matches[2].str() : "";
  const std::string ext = req.has_param("extended") ? req.get_param_value("extended") : "";
  const bool ids_only = ext == "ids_only" || ext == "simkl_ids_only";
  const bool with_seasons = ext == "full" || ext == "full_anime_seasons";
  const bool watched_at =
      req.has_param("episode_watched_at") && req.get_param_value("episode_watched_at") == "yes";
  std::optional<std::int64_t> from;
  if (req.has_param("date_from")) {
    from = tk::parse_iso(req.get_param_value("date_from"));
    if (!from) {
      send_json(res, error_body("wrong_parameter", 400, "date_from must be an ISO-8601 date"), 400);
      return;
    }
  }
  json out = json::object();
  bool any = false;
  for (const auto& [mi, e] : m_library) {
    const std::string& bucket = m_catalog[mi].bucket;
    if (!type.empty() && type != bucket) continue;
    if (!status.empty() && e.row.value("status", "") != status) continue;
    if (from && e.updated_ms <= *from) continue;
    json row;
    if (ids_only) {
      json ids = e.row.value(media_key(bucket), json::object()).value("ids", json::object());
      if (ext == "simkl_ids_only") {
        json trimmed = json::object();
        for (const char* k : {"simkl", "slug"}) {
          if (ids.contains(k)) trimmed[k] = ids[k];
        }
        ids = trimmed;
      }
      row = {{"status", e.row.value("status", "")},
             {media_key(bucket), {{"ids", format_ids(ids, IdStyle::library)}}}};
    } else {
      row = row_view(e, with_seasons, watched_at);
    }
    out[bucket].push_back(std::move(row));
    any = true;
  }
  if (!any && m_opt.null_when_empty) {
    send_json(res, nullptr, 200);
    return;
  }
  send_json(res, out, 200);
}

void SimklFake::add_to_list(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    send_json(res, error_body("empty_field", 400, "Request body is empty"), 400);
    return;
  }
  static const std::vector<std::string> k_statuses{"plantowatch", "watching", "completed", "hold",
                                                   "dropped"};
  json added = {{"movies", json::array()}, {"shows", json::array()}};
  json not_found = {{"movies", json::array()}, {"shows", json::array()}};
  // Every item names its own target list; a missing or unknown `to` fails the request.
  for (const char* b : {"movies", "shows", "anime"}) {
    for (const auto& item : tk::array_or_empty(*body, b)) {
      const std::string to = item.value("to", "");
      if (std::find(k_statuses.begin(), k_statuses.end(), to) == k_statuses.end()) {
        send_json(
            res,
            error_body("empty_field", 400,
                       "Each item needs \"to\": plantowatch, watching, completed, hold or dropped"),
            400);
        return;
      }
    }
  }
  const std::string now = stamp();
  for (const char* b : {"movies", "shows", "anime"}) {
    const std::string bucket_hint = b;
    for (const auto& item : tk::array_or_empty(*body, b)) {
      const std::string to = item.value("to", "");
      auto mi = resolve(item, bucket_hint);
      const char* out_bucket = bucket_hint == "movies" ? "movies" : "shows";
      if (!mi) {
        not_found[out_bucket].push_back(item);
        continue;
      }
      const std::string bucket = m_catalog[*mi].bucket;
      if (bucket == "movies" && (to == "watching" || to == "hold")) {
        not_found[out_bucket].push_back(item);
        continue;
      }
      Entry& e = entry_for(*mi, to);
      const std::string before = e.row.value("status", "");
      e.row["status"] = to;
      if (to == "plantowatch") e.row["added_to_watchlist_at"] = now;
      e.updated_ms = tk::parse_iso(now).value_or(0);
      json echo = {{"to", to},
                   {"ids", item.value("ids", json::object())},
                   {"type", bucket == "movies"  ? "movie"
                            : bucket == "anime" ? "anime"
                                                : "show"}};
      added[out_bucket].push_back(echo);
      if (before != to && !before.empty()) touch(bucket, {before});
      touch(bucket, {to});
    }
  }
  send_json(res, {{"added", added}, {"not_found", not_found}}, 201);
}

void SimklFake::add_history(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    send_json(res, error_body("empty_field", 400, "Request body is empty"), 400);
    return;
  }
  json added = {{"movies", 0}, {"shows", 0}, {"episodes", 0}, {"statuses", json::array()}};
  json not_found = {
      {"movies", json::array()}, {"shows", json::array()}, {"episodes", json::array()}};
  const std::string now = stamp();
  for (const auto& item : tk::array_or_empty(*body, "movies")) {
    auto mi = resolve(item, "movies");
    if (!mi) {
      not_found["movies"].push_back(item);
      continue;
    }
    Entry& e = entry_for(*mi, "completed");
    const std::string at = item.value("watched_at", now);
    e.row["status"] = "completed";
    if (!e.row["last_watched_at"].is_string() || e.row["last_watched_at"].get<std::string>() < at) {
      e.row["last_watched_at"] = at;
    }
    e.updated_ms = tk::parse_iso(now).value_or(0);
    added["movies"] = added["movies"].get<int>() + 1;
    added["statuses"].push_back(
        {{"request", item},
         {"response",
          {{"status", "completed"}, {"simkl_type", "movie"}, {"anime_type", nullptr}}}});
    touch("movies", {"completed"});
  }
  for (const char* b : {"shows", "anime"}) {
    for (const auto& item : tk::array_or_empty(*body, b)) {
      auto mi = resolve(item, b);
      if (!mi) {
        not_found["shows"].push_back(item);
        continue;
      }
      const std::string bucket = m_catalog[*mi].bucket;
      Entry& e = entry_for(*mi, "watching");
      const std::string before = e.row.value("status", "");
      std::string status = item.value("status", "");
      const bool has_eps = item.contains("seasons") || item.contains("episodes");
      int marked = 0;
      if (status != "watching" || has_eps) marked = mark_episodes(e, item, now);
      refresh_counts(e);
      if (status.empty()) {
        status =
            e.row.value("watched_episodes_count", 0) >= e.row.value("total_episodes_count", 0) &&
                    e.row.value("total_episodes_count", 0) > 0
                ? "completed"
                : "watching";
      }
      e.row["status"] = status;
      e.updated_ms = tk::parse_iso(now).value_or(0);
      added["episodes"] = added["episodes"].get<int>() + marked;
      if (!has_eps) added["shows"] = added["shows"].get<int>() + 1;
      added["statuses"].push_back(
          {{"request", item},
           {"response",
            {{"status", status},
             {"simkl_type", bucket == "anime" ? "anime" : "tv"},
             {"anime_type",
              bucket == "anime" ? json(m_catalog[*mi].obj.value("anime_type", "tv")) : json()}}}});
      if (!before.empty() && before != status) touch(bucket, {before});
      touch(bucket, {status});
    }
  }
  for (const auto& item : tk::array_or_empty(*body, "episodes")) {
    // Episodes by their own ids are not in the fake's catalog: SIMKL would search; report them.
    not_found["episodes"].push_back(item);
  }
  send_json(res, {{"added", added}, {"not_found", not_found}}, m_opt.history_add_status);
}

void SimklFake::remove_history(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    send_json(res, error_body("empty_field", 400, "Request body is empty"), 400);
    return;
  }
  json deleted = {{"movies", 0}, {"shows", 0}, {"episodes", 0}};
  json not_found = {{"movies", json::array()}, {"shows", json::array()}};
  const std::string now = stamp();
  for (const char* b : {"movies", "shows", "anime"}) {
    for (const auto& item : tk::array_or_empty(*body, b)) {
      const char* out_bucket = std::string(b) == "movies" ? "movies" : "shows";
      auto mi = resolve(item, b);
      auto it = mi ? m_library.find(*mi) : m_library.end();
      if (it == m_library.end()) {
        not_found[out_bucket].push_back(item);
        continue;
      }
      const std::string bucket = m_catalog[*mi].bucket;
      const json seasons = tk::array_or_empty(item, "seasons");
      if (bucket == "movies" || seasons.empty()) {
        // The whole title leaves the library, ratings and history included.
        m_library.erase(it);
        deleted[out_bucket] = deleted[out_bucket].get<int>() + 1;
        touch(bucket, {"removed_from_list"});
        continue;
      }
      Entry& e = it->second;
      int removed = 0;
      for (const auto& s : seasons) {
        const int sn = s.value("number", -1);
        const json eps = tk::array_or_empty(s, "episodes");
        for (auto& season : e.seasons) {
          if (season.value("number", -2) != sn) continue;
          json& list = season["episodes"];
          const std::size_t before = list.size();
          if (eps.empty()) {
            list = json::array();
          } else {
            json keep = json::array();
            for (const auto& ep : list) {
              const bool drop = std::any_of(eps.begin(), eps.end(), [&](const json& r) {
                return r.value("number", -1) == ep.value("number", -2);
              });
              if (!drop) keep.push_back(ep);
            }
            list = keep;
          }
          removed += static_cast<int>(before - list.size());
        }
      }
      json kept = json::array();
      for (auto& season : e.seasons) {
        if (!season["episodes"].empty()) kept.push_back(std::move(season));
      }
      e.seasons = std::move(kept);
      refresh_counts(e);
      e.updated_ms = tk::parse_iso(now).value_or(0);
      deleted["episodes"] = deleted["episodes"].get<int>() + removed;
      touch(bucket, {e.row.value("status", "watching")});
    }
  }
  send_json(res, {{"deleted", deleted}, {"not_found", not_found}}, 200);
}

void SimklFake::get_ratings(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  const std::string type = req.matches.size() > 1 ? req.matches[1].str() : "";
  const std::string filter = req.matches.size() > 2 ? req.matches[2].str() : "";
  std::vector<int> wanted;
  for (std::size_t pos = 0; pos < filter.size();) {
    const std::size_t comma = filter.find(',', pos);
    wanted.push_back(std::atoi(filter.substr(pos, comma - pos).c_str()));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::optional<std::int64_t> from;
  if (req.has_param("date_from")) from = tk::parse_iso(req.get_param_value("date_from"));
  json out = json::object();
  for (const auto& [mi, e] : m_library) {
    const std::string& bucket = m_catalog[mi].bucket;
    if (!type.empty() && type != bucket) continue;
    if (!e.row.contains("user_rating") || !e.row["user_rating"].is_number()) continue;
    const int rating = e.row["user_rating"].get<int>();
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), rating) == wanted.end())
      continue;
    if (from && e.rated_ms <= *from) continue;
    json row = e.row;
    row.erase("added_to_watchlist_at");
    row.erase("watched_episodes_count");
    row.erase("total_episodes_count");
    row.erase("not_aired_episodes_count");
    row.erase("anime_type");
    if (row.contains(media_key(bucket))) {
      row[media_key(bucket)] = with_ids(row[media_key(bucket)], IdStyle::library);
    }
    out[bucket].push_back(row);
  }
  send_json(res, out, 200);
}

void SimklFake::post_ratings(const Req& req, Res& res, bool remove) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    send_json(res, error_body("empty_field", 400, "Request body is empty"), 400);
    return;
  }
  json counts = {{"movies", 0}, {"shows", 0}};
  json statuses = json::array();
  json not_found = {{"movies", json::array()}, {"shows", json::array()}};
  const std::string now = stamp();
  for (const char* b : {"movies", "shows", "anime"}) {
    const char* out_bucket = std::string(b) == "movies" ? "movies" : "shows";
    for (const auto& item : tk::array_or_empty(*body, b)) {
      auto mi = resolve(item, b);
      if (!mi) {
        not_found[out_bucket].push_back(item);
        continue;
      }
      const std::string bucket = m_catalog[*mi].bucket;
      if (remove) {
        auto it = m_library.find(*mi);
        if (it == m_library.end() || !it->second.row["user_rating"].is_number()) continue;
        it->second.row["user_rating"] = nullptr;
        it->second.row["user_rated_at"] = nullptr;
        it->second.rated_ms = tk::parse_iso(now).value_or(0);
        counts[out_bucket] = counts[out_bucket].get<int>() + 1;
        touch(bucket, {"rated_at"});
        continue;
      }
      const json rating = item.value("rating", json());
      // Out-of-range ratings are ignored without an error, as SIMKL does.
      if (!rating.is_number() || rating.get<double>() < 1 || rating.get<double>() > 10) continue;
      const bool is_new = !m_library.count(*mi);
      const std::string auto_status = bucket == "movies" ? "completed" : "watching";
      Entry& e = entry_for(*mi, auto_status);
      e.row["user_rating"] = static_cast<int>(std::lround(rating.get<double>()));
      const std::string at = item.value("rated_at", now);
      e.row["user_rated_at"] = at;
      e.rated_ms = tk::parse_iso(now).value_or(0);
      e.updated_ms = e.rated_ms;
      counts[out_bucket] = counts[out_bucket].get<int>() + 1;
      statuses.push_back({{"request", item},
                          {"response",
                           {{"status", e.row.value("status", auto_status)},
                            {"simkl_type", bucket == "movies"  ? "movie"
                                           : bucket == "anime" ? "anime"
                                                               : "tv"}}}});
      if (is_new || (bucket == "movies" && e.row.value("status", "") != "completed")) {
        if (bucket == "movies") e.row["status"] = "completed";
        touch(bucket, {e.row.value("status", auto_status)});
      }
      touch(bucket, {"rated_at"});
    }
  }
  if (remove) {
    send_json(res, {{"deleted", counts}, {"not_found", not_found}}, 200);
  } else {
    json added = counts;
    added["statuses"] = statuses;
    send_json(res, {{"added", added}, {"not_found", not_found}}, 201);
  }
}

void SimklFake::get_playback(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  const std::string type = req.matches.size() > 1 ? req.matches[1].str() : "";
  std::optional<std::int64_t> from, to;
  if (req.has_param("date_from")) from = tk::parse_iso(req.get_param_value("date_from"));
  if (req.has_param("date_to")) to = tk::parse_iso(req.get_param_value("date_to"));
  const long long limit = param_int(req, "limit", 10000);
  std::vector<const json*> rows;
  for (const auto& row : m_playback) {
    const std::string t = row.value("type", "");
    if (!type.empty() && t + "s" != type && t != type) continue;
    const auto at = tk::parse_iso(tk::str(row, "paused_at")).value_or(0);
    if ((from && at < *from) || (to && at > *to)) continue;
    rows.push_back(&row);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json* a, const json* b) {
    return tk::parse_iso(tk::str(*a, "paused_at")).value_or(0) >
           tk::parse_iso(tk::str(*b, "paused_at")).value_or(0);
  });
  json out = json::array();
  for (const json* r : rows) {
    if (static_cast<long long>(out.size()) >= limit) break;
    json row = *r;
    for (const char* k : {"movie", "show", "anime"}) {
      if (row.contains(k)) row[k] = with_ids(row[k], IdStyle::standard);
    }
    out.push_back(std::move(row));
  }
  send_json(res, out, 200);
}

void SimklFake::scrobble(const Req& req, Res& res, const std::string& action) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, true)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object() || !(*body)["progress"].is_number()) {
    send_json(res, error_body("empty_field", 400, "progress is required"), 400);
    return;
  }
  const double progress = (*body)["progress"].get<double>();
  std::string key;
  std::optional<std::size_t> mi;
  for (const char* k : {"movie", "show", "anime"}) {
    if (body->contains(k)) {
      key = k;
      mi = resolve((*body)[k], key == "movie" ? "movies" : key == "anime" ? "anime" : "shows");
      break;
    }
  }
  if (!mi) {
    send_json(res, error_body("id_err", 404, "Item not found"), 404);
    return;
  }
  const json episode = body->value("episode", json());
  if (key != "movie" && !episode.is_object()) {
    send_json(res, error_body("empty_field", 400, "episode is required for shows"), 400);
    return;
  }
  auto same = [&](const json& row) {
    if (!row.contains(key)) return false;
    if (!tk::ids_match(row[key].value("ids", json::object()),
                       m_catalog[*mi].obj.value("ids", json::object()))) {
      return false;
    }
    if (key == "movie") return true;
    const json& ep = row.value("episode", json::object());
    return ep.value("season", -1) == episode.value("season", -2) &&
           ep.value("episode", ep.value("number", -1)) ==
               episode.value("number", episode.value("episode", -2));
  };
  auto existing = std::find_if(m_playback.begin(), m_playback.end(), same);
  const std::string bucket = m_catalog[*mi].bucket;
  // Playback rows and scrobble replies carry the brief media object: title, year, ids.
  const json& full = m_catalog[*mi].obj;
  json media = {{"title", full.value("title", json())},
                {"year", full.value("year", json())},
                {"ids", full.value("ids", json::object())}};
  json ep_view = json::object();
  if (key != "movie") {
    const int sn = episode.value("season", 1);
    const int en = episode.value("number", episode.value("episode", 1));
    ep_view = {{"season", sn}, {"episode", en}, {"tvdb_season", sn}, {"tvdb_number", en}};
    for (const auto& s : full.value("seasons", json::array())) {
      if (s.value("number", -1) != sn) continue;
      for (const auto& e : s.value("episodes", json::array())) {
        if (e.value("number", -1) != en) continue;
        if (e.contains("title")) ep_view["title"] = e["title"];
        if (e.contains("tvdb") && e["tvdb"].is_object()) {
          ep_view["tvdb_season"] = e["tvdb"].value("season", sn);
          ep_view["tvdb_number"] = e["tvdb"].value("episode", en);
        }
      }
    }
  }
  json out = {{"action", action}, {"progress", progress}};
  // Duplicate protection: another stop or pause at 80 % or more of an item completed
  // within the hour is refused with 409, saying when it was watched and when that ends.
  const std::string done_key =
      std::to_string(*mi) +
      (key == "movie" ? std::string()
                      : ":" + std::to_string(episode.value("season", 1)) + ":" +
                            std::to_string(episode.value("number", episode.value("episode", 1))));
  const std::int64_t now_ms = m_ctx->now_ms();
  if ((action == "stop" || action == "pause") && progress >= 80) {
    auto done = m_completed.find(done_key);
    if (done != m_completed.end() && now_ms - done->second < 3600000) {
      send_json(res,
                {{"watched_at", tk::iso_utc(done->second, true)},
                 {"expires_at", tk::iso_utc(done->second + 3600000, true)}},
                409);
      return;
    }
  }
  // After the 409 check: a refused scrobble uses no id.
  const std::int64_t id =
      existing != m_playback.end() ? existing->value("id", std::int64_t{0}) : m_next_id++;
  if (action == "stop" && progress >= 80) {
    m_completed[done_key] = now_ms;
    // At 80 % or more SIMKL records a watch instead of a paused session.
    if (existing != m_playback.end()) m_playback.erase(existing);
    const std::string now = stamp();
    Entry& e = entry_for(*mi, bucket == "movies" ? "completed" : "watching");
    if (key == "movie") {
      e.row["status"] = "completed";
      e.row["last_watched_at"] = now;
    } else {
      json item = {
          {"seasons",
           json::array({{{"number", episode.value("season", 1)},
                         {"episodes", json::array({{{"number", episode.value("number", 1)}}})}}})}};
      mark_episodes(e, item, now);
      refresh_counts(e);
    }
    e.updated_ms = tk::parse_iso(now).value_or(0);
    touch(bucket, {e.row.value("status", "completed")});
    out["action"] = "scrobble";
  } else if (action == "pause" || action == "stop") {
    json row = {{"id", id},
                {"progress", progress},
                {"paused_at", tk::iso_utc(m_ctx->now_ms(), true)},
                {"type", key == "movie" ? "movie" : "episode"},
                {key, media}};
    if (key != "movie") row["episode"] = ep_view;
    if (existing != m_playback.end()) {
      *existing = row;
    } else {
      m_playback.push_back(row);
    }
    touch(bucket, {"playback"});
    out["action"] = "pause";
  }
  out["id"] = id;
  out[key] = with_ids(media, IdStyle::standard);
  if (key != "movie") {
    // The reply numbers the episode with "number" (the playback list uses "episode").
    json ep = {{"season", ep_view["season"]}, {"number", ep_view["episode"]}};
    if (ep_view.contains("title")) ep["title"] = ep_view["title"];
    out["episode"] = ep;
  }
  send_json(res, out, 201);
}

// GET /search/id: the documented lookup reply, one row per match: type (movie, tv, anime), title,
// poster, year, status and ids with simkl and slug only; shows and anime add total_episodes.
// tmdb ids name a movie unless type=show asks for a show.
void SimklFake::search_id(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, false)) return;
  json out = json::array();
  for (const char* k : {"simkl", "imdb", "tmdb", "tvdb", "mal", "anidb", "anilist", "kitsu"}) {
    if (!req.has_param(k)) continue;
    std::string value = req.get_param_value(k);
    if (std::string(k) == "imdb") {
      // "can be IMDB ID or full IMDB URL"
      static const std::regex k_imdb(R"(tt\d+)");
      std::smatch m;
      if (std::regex_search(value, m, k_imdb)) value = m.str();
    }
    const bool want_show = req.has_param("type") && req.get_param_value("type") == "show";
    auto [b, e] = m_index.equal_range(std::string(k) + ":" + value);
    for (auto it = b; it != e; ++it) {
      const Media& m = m_catalog[it->second];
      if (std::string(k) == "tmdb" && (m.bucket != "movies") != want_show) continue;
      out.push_back(lookup_row(it->second));
    }
    break;
  }
  send_json(res, out, 200);
}

void SimklFake::oauth_routes(httplib::Server& srv) {
  auto new_pin = [this]() {
    const std::string device = tk::make_token("DEVICE", ++m_token_serial);
    static const char* k_alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::string code;
    std::uint64_t x = std::hash<std::string>{}(device);
    for (int i = 0; i < 5; ++i, x /= 32) code += k_alphabet[x % 32];
    Pin p;
    p.user_code = code;
    p.expires_ms = m_ctx->now_ms() + 900 * 1000;
    m_pins[code] = p;
    return json{{"result", "OK"},    {"device_code", "DEVICE_CODE"},
                {"user_code", code}, {"verification_url", "https://simkl.com/pin"},
                {"expires_in", 900}, {"interval", 5}};
  };
  srv.Get("/oauth/pin", [this, new_pin](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, false)) return;
    send_json(res, new_pin(), 200);
  });
  srv.Get(R"(/oauth/pin/([A-Za-z0-9]+))", [this, new_pin](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, false)) return;
    auto it = m_pins.find(req.matches[1].str());
    // An unknown, expired or used code silently becomes a new one (never a 404).
    if (it == m_pins.end() || it->second.state == "used" ||
        m_ctx->now_ms() >= it->second.expires_ms) {
      send_json(res, new_pin(), 200);
      return;
    }
    if (it->second.state == "pending") {
      send_json(res, {{"result", "KO"}, {"message", "Authorization pending"}}, 200);
      return;
    }
    it->second.state = "used";
    send_json(res, {{"result", "OK"}, {"access_token", m_access_token}}, 200);
  });
  srv.Post("/oauth/token", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body || body->value("client_id", "") != m_client_id ||
        body->value("client_secret", "") != m_client_secret) {
      send_json(res, error_body("client_id_failed", 412, "Incorrect client_id or client_secret"),
                412);
      return;
    }
    auto it = std::find(m_auth_codes.begin(), m_auth_codes.end(), body->value("code", ""));
    if (body->value("grant_type", "") != "authorization_code" || it == m_auth_codes.end()) {
      send_json(res, error_body("code_failed", 400, "Invalid authorization code"), 400);
      return;
    }
    m_auth_codes.erase(it);
    send_json(res,
              {{"access_token", m_access_token}, {"token_type", "bearer"}, {"scope", "public"}},
              200);
  });
  srv.Post("/__sandbox/oauth/approve", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body) {
      send_json(res, {{"error", "expected {\"user_code\": \"...\"} or {\"code\": \"...\"}"}}, 400);
      return;
    }
    if (body->contains("code")) {
      m_auth_codes.push_back(body->value("code", ""));
      send_json(res, {{"ok", true}}, 200);
      return;
    }
    auto it = m_pins.find(body->value("user_code", ""));
    if (it == m_pins.end() || it->second.state != "pending") {
      send_json(res, {{"error", "no pending PIN " + body->value("user_code", "")}}, 404);
      return;
    }
    it->second.state = "approved";
    send_json(res, {{"ok", true}}, 200);
  });
}

void SimklFake::register_routes(httplib::Server& srv, Context& ctx) {
  {
    std::lock_guard lock(m_mutex);
    m_ctx = &ctx;
    m_ctx->set_valid_tokens({m_access_token});
  }
  auto activities = [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, true)) return;
    send_json(res, m_activities, 200);
  };
  srv.Get("/sync/activities", activities);
  srv.Post("/sync/activities", activities);
  srv.Get(
      R"(/sync/all-items(?:/(movies|shows|anime)(?:/(watching|plantowatch|hold|completed|dropped))?)?/?)",
      [this](const Req& req, Res& res) { get_all_items(req, res); });
  srv.Post("/sync/add-to-list", [this](const Req& req, Res& res) { add_to_list(req, res); });
  srv.Post("/sync/history", [this](const Req& req, Res& res) { add_history(req, res); });
  srv.Post("/sync/history/remove", [this](const Req& req, Res& res) { remove_history(req, res); });
  auto ratings = [this](const Req& req, Res& res) { get_ratings(req, res); };
  srv.Get(R"(/sync/ratings(?:/(movies|shows|anime)(?:/([0-9,]+))?)?)", ratings);
  srv.Post(R"(/sync/ratings/(movies|shows|anime)(?:/([0-9,]+))?)", ratings);
  srv.Post("/sync/ratings", [this](const Req& req, Res& res) { post_ratings(req, res, false); });
  srv.Post("/sync/ratings/remove",
           [this](const Req& req, Res& res) { post_ratings(req, res, true); });
  srv.Get(R"(/sync/playback(?:/(movies|episodes|movie|episode))?)",
          [this](const Req& req, Res& res) { get_playback(req, res); });
  srv.Delete(R"(/sync/playback/(\d+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, true)) return;
    const std::string id = req.matches[1].str();
    auto it = std::find_if(m_playback.begin(), m_playback.end(),
                           [&](const json& r) { return tk::id_text(r.value("id", json())) == id; });
    if (it == m_playback.end()) {
      send_json(res, error_body("url_failed", 404, "Playback session not found"), 404);
      return;
    }
    m_playback.erase(it);
    res.status = 204;
  });
  for (const char* action : {"start", "pause", "stop"}) {
    srv.Post(std::string("/scrobble/") + action,
             [this, a = std::string(action)](const Req& req, Res& res) { scrobble(req, res, a); });
  }
  auto settings = [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, true)) return;
    send_json(res, m_settings, 200);
  };
  srv.Get("/users/settings", settings);
  srv.Post("/users/settings", settings);
  srv.Get("/search/id", [this](const Req& req, Res& res) { search_id(req, res); });
  srv.Get("/redirect", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    for (const char* k : {"simkl", "imdb", "tmdb", "tvdb", "mal", "anidb", "anilist", "kitsu"}) {
      if (!req.has_param(k)) continue;
      auto it = m_index.find(std::string(k) + ":" + req.get_param_value(k));
      if (it == m_index.end()) break;
      const Media& m = m_catalog[it->second];
      const json ids = m.obj.value("ids", json::object());
      const std::string path = m.bucket == "movies"  ? "movies"
                               : m.bucket == "anime" ? "anime"
                                                     : "tv";
      res.status = 302;
      res.set_header("Location", "https://simkl.com/" + path + "/" +
                                     tk::id_text(ids.value("simkl", json())) + "/" +
                                     tk::id_text(ids.value("slug", json())));
      return;
    }
    res.status = 302;
    res.set_header("Location", "https://simkl.com/");
  });
  oauth_routes(srv);
  tk::serve_unrouted(srv, [](const Req&, Res& res) {
    send_json(res, error_body("url_failed", 404, "Wrong URL"), 404);
  });
}

}  // namespace

std::unique_ptr<FakeService> make_simkl_fake() { return std::make_unique<SimklFake>(); }

}  // namespace cw::fakes
