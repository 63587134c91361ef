#include "mdblist/mdblist_fake.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "trakt/tracker_util.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;
using Req = httplib::Request;
using Res = httplib::Response;
namespace tk = tracker;

constexpr const char* k_default_api_key = "cwsandboxmdblistapikey";
constexpr const char* k_default_access = "cw-sandbox-mdblist-access-token";
constexpr const char* k_default_refresh = "cw-sandbox-mdblist-refresh-token";
constexpr const char* k_default_client_id = "cw-sandbox-mdblist-client";
constexpr const char* k_initial_stamp = "2024-01-01T00:00:00Z";
constexpr const char* k_id_keys[] = {"imdb", "tmdb", "tvdb", "trakt", "mdblist", "mal", "kitsu"};

struct Options {
  int daily_limit = 1000;
  // The documented write reply (static-list add/remove in MDBList's own docs) counts not-found
  // items; false answers with the lists of the items instead, as some clients also accept.
  bool not_found_as_count = true;
  bool freeze_activities = false;
  bool accept_unknown_ids = false;
  bool html_errors = false;
};

struct Device {
  std::string user_code;
  std::int64_t expires_ms = 0;
  std::string state = "pending";
};

// Ids of a request item: an "ids" object, or flat keys (watchlist and static lists).
json item_ids(const json& item) {
  if (item.contains("ids") && item["ids"].is_object()) return item["ids"];
  json out = json::object();
  for (const char* k : k_id_keys) {
    if (item.contains(k)) out[k] = item[k];
  }
  return out;
}

class MdblistFake final : public FakeService {
 public:
  MdblistFake() { reset_locked(); }

  std::string name() const override { return "mdblist"; }
  void register_routes(httplib::Server& srv, Context& ctx) override;

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    load_locked(fixture);
  }
  void seed_universe(const json& u) override { seed(universe_fixture(u)); }
  json state() const override {
    std::lock_guard lock(m_mutex);
    return {{"catalog", {{"movies", m_movies}, {"shows", m_shows}}},
            {"watchlist", m_watchlist},
            {"ratings", m_ratings},
            {"plays", m_plays},
            {"playback", m_playback},
            {"lists", m_lists},
            {"journal", m_journal},
            {"dropped", m_dropped},
            {"user", m_user},
            {"last_activities", m_activities},
            {"requests_today", m_requests_today},
            {"auth",
             {{"api_key", m_api_key},
              {"access_token", m_access_token},
              {"refresh_token", m_refresh_token},
              {"client_id", m_client_id}}}};
  }
  void reset() override {
    std::lock_guard lock(m_mutex);
    reset_locked();
  }
  json credentials() const override {
    std::lock_guard lock(m_mutex);
    return {{"api_key", m_api_key},
            {"access_token", m_access_token},
            {"refresh_token", m_refresh_token},
            {"client_id", m_client_id}};
  }
  std::string provider_yaml(const std::string& base_url) const override {
    std::lock_guard lock(m_mutex);
    return "  mdblist:\n    plugin: mdblist\n    url: " + base_url + "\n    api_key: " + m_api_key +
           "\n";
  }
  void fault_response(int status, const Req& /*req*/, Res& res) const override {
    const std::string message = status == 401   ? "Invalid API key or token"
                                : status == 429 ? "API request limit reached"
                                : status == 503 ? "Service temporarily unavailable"
                                                : "Request failed";
    if (m_opt.html_errors) {
      res.status = status;
      res.set_content(
          "<html><body><h1>" + std::to_string(status) + "</h1>" + message + "</body></html>",
          "text/html");
      return;
    }
    send_json(res, {{"error", message}}, status);
  }

 private:
  void reset_locked() {
    m_opt = Options{};
    m_movies = json::array();
    m_shows = json::array();
    m_watchlist = json::array();
    m_ratings = json::array();
    m_plays = json::array();
    m_playback = json::array();
    m_lists = json::array();
    m_journal = json::array();
    m_dropped = json::array();
    m_devices.clear();
    m_next_id = 7000001;
    m_requests_today = 0;
    m_day = -1;
    m_api_key = k_default_api_key;
    m_access_token = k_default_access;
    m_refresh_token = k_default_refresh;
    m_client_id = k_default_client_id;
    m_user = {{"user_id", 4242},
              {"username", "sandbox"},
              {"limits", {{"supporter", false}, {"rating_ids", 0}, {"api_requests", 1000}}}};
    const json t = k_initial_stamp;
    m_activities = {{"watchlisted_at", t},    {"rated_at", t},           {"watched_at", t},
                    {"season_watched_at", t}, {"episode_watched_at", t}, {"journal_at", t},
                    {"dropped_at", t},        {"updated_at", t}};
    m_clock.reset();
    if (m_ctx) m_ctx->set_valid_tokens({m_access_token});
  }

  void load_locked(const json& f) {
    if (!f.is_object()) return;
    if (auto it = f.find("options"); it != f.end() && it->is_object()) {
      m_opt.daily_limit = it->value("daily_limit", m_opt.daily_limit);
      m_opt.not_found_as_count = it->value("not_found_as_count", m_opt.not_found_as_count);
      m_opt.freeze_activities = it->value("freeze_activities", m_opt.freeze_activities);
      m_opt.accept_unknown_ids = it->value("accept_unknown_ids", m_opt.accept_unknown_ids);
      m_opt.html_errors = it->value("html_errors", m_opt.html_errors);
    }
    if (auto it = f.find("auth"); it != f.end() && it->is_object()) {
      m_api_key = it->value("api_key", m_api_key);
      m_access_token = it->value("access_token", m_access_token);
      m_refresh_token = it->value("refresh_token", m_refresh_token);
      m_client_id = it->value("client_id", m_client_id);
    }
    if (auto it = f.find("catalog"); it != f.end() && it->is_object()) {
      m_movies = tk::array_or_empty(*it, "movies");
      m_shows = tk::array_or_empty(*it, "shows");
    }
    m_watchlist = tk::array_or_empty(f, "watchlist");
    m_ratings = tk::array_or_empty(f, "ratings");
    m_plays = tk::array_or_empty(f, "plays");
    m_playback = tk::array_or_empty(f, "playback");
    m_lists = tk::array_or_empty(f, "lists");
    m_dropped = tk::array_or_empty(f, "dropped");
    for (const auto* rows : {&m_plays, &m_playback, &m_lists}) {
      for (const auto& r : *rows) {
        const std::int64_t id = r.value("id", std::int64_t{0});
        if (id >= m_next_id) m_next_id = id + 1;
      }
    }
    if (auto it = f.find("user"); it != f.end() && it->is_object()) m_user = *it;
    m_user["limits"]["api_requests"] = m_opt.daily_limit;
    if (m_ctx) m_ctx->set_valid_tokens({m_access_token});
  }

  static json universe_fixture(const json& u) {
    auto ids_of = [](const json& ids) {
      return tk::pick_ids(ids, {"tmdb", "tvdb", "trakt", "mal", "kitsu"}, {"imdb"});
    };
    json movies = json::array(), shows = json::array();
    for (const auto& m : tk::array_or_empty(u, "movies")) {
      movies.push_back({{"title", m.value("title", "")},
                        {"year", m.value("year", json())},
                        {"ids", ids_of(m.value("ids", json::object()))}});
    }
    for (const auto& s : tk::array_or_empty(u, "shows")) {
      json seasons = json::array();
      for (const auto& se : tk::array_or_empty(s, "seasons")) {
        json eps = json::array();
        for (const auto& e : tk::array_or_empty(se, "episodes"))
          eps.push_back({{"number", e.value("number", 0)}});
        seasons.push_back({{"number", se.value("number", 0)}, {"episodes", eps}});
      }
      shows.push_back({{"title", s.value("title", "")},
                       {"year", s.value("year", json())},
                       {"ids", ids_of(s.value("ids", json::object()))},
                       {"seasons", seasons}});
    }
    json watchlist = json::array(), ratings = json::array(), plays = json::array();
    for (const auto& w : tk::array_or_empty(u, "watchlist")) {
      watchlist.push_back({{"type", w.value("type", "movie")},
                           {"ids", ids_of(w.value("ids", json::object()))},
                           {"added_at", w.value("listed_at", "")}});
    }
    auto ref = [&](const json& item) {
      json row = {{"type", item.value("type", "movie")}};
      if (item.value("type", "") == "episode") {
        row["ids"] = ids_of(item.value("show", json::object()).value("ids", json::object()));
        row["season"] = item.value("season", 0);
        row["episode"] = item.value("episode", 0);
      } else {
        row["ids"] = ids_of(item.value("ids", json::object()));
      }
      return row;
    };
    for (const auto& r : tk::array_or_empty(u, "ratings")) {
      json row = ref(r);
      row["rating"] = r.value("rating", 0);
      row["rated_at"] = r.value("rated_at", "");
      ratings.push_back(row);
    }
    std::int64_t id = 1;
    for (const auto& h : tk::array_or_empty(u, "history")) {
      json row = ref(h);
      row["id"] = id++;
      row["watched_at"] = h.value("watched_at", "");
      plays.push_back(row);
    }
    return {{"catalog", {{"movies", movies}, {"shows", shows}}},
            {"watchlist", watchlist},
            {"ratings", ratings},
            {"plays", plays}};
  }

  // ---------- helpers ----------
  std::string stamp() {
    return tk::iso_utc(m_clock.next(m_ctx ? m_ctx->now_ms() : tk::now_ms()), false);
  }

  void touch(std::initializer_list<const char*> fields) {
    if (m_opt.freeze_activities) return;
    const std::string t = stamp();
    for (const char* f : fields) m_activities[f] = t;
    m_activities["journal_at"] = t;
    m_activities["updated_at"] = t;
  }

  void journal(const std::string& category, const json& row, const std::string& status,
               const json& rating = json()) {
    const std::string t = stamp();
    json e = {{"category", category},
              {"item_type", row.value("type", "movie")},
              {"ids", row.value("ids", json::object())},
              {"status", status},
              {"value_at", t},
              {"action_at", t}};
    if (category == "rated") e["rating"] = rating;
    if (row.contains("season")) e["season"] = row["season"];
    if (row.contains("episode")) e["episode"] = row["episode"];
    m_journal.push_back(e);
  }

  // The catalog object (title, year, ids) of a title, or nullptr.
  const json* find_title(const std::string& type, const json& ids) const {
    const json& list = type == "movie" ? m_movies : m_shows;
    for (const auto& m : list) {
      if (tk::ids_match(m.value("ids", json::object()), ids)) return &m;
    }
    return nullptr;
  }

  std::optional<json> resolve(const std::string& type, const json& item) {
    const json ids = item_ids(item);
    if (const json* m = find_title(type, ids)) return (*m)["ids"];
    if (!m_opt.accept_unknown_ids || ids.empty()) return std::nullopt;
    json obj = {{"title", item.value("title", "Unknown")},
                {"year", item.value("year", json())},
                {"ids", ids}};
    (type == "movie" ? m_movies : m_shows).push_back(obj);
    return ids;
  }

  json media_view(const std::string& type, const json& ids) const {
    const json* m = find_title(type == "movie" ? "movie" : "show", ids);
    if (!m) return {{"ids", ids}};
    json out = {{"title", m->value("title", "")},
                {"year", m->value("year", json())},
                {"ids", m->value("ids", json::object())}};
    return out;
  }

  static bool same_row(const json& row, const std::string& type, const json& ids, int season = -1,
                       int episode = -1) {
    if (row.value("type", "") != type) return false;
    if (!tk::ids_match(row.value("ids", json::object()), ids)) return false;
    if (season >= 0 && row.value("season", -1) != season) return false;
    if (episode >= 0 && row.value("episode", -1) != episode) return false;
    return true;
  }

  json not_found_value(const json& list) const {
    return m_opt.not_found_as_count ? json(list.size()) : list;
  }

  // Write replies in the documented form: "response": true next to the counters.
  static void send_write(Res& res, json body) {
    body["response"] = true;
    send_json(res, body, 200);
  }

  // ---------- auth and quota ----------
  bool authorize(const Req& req, Res& res) {
    const std::string bearer = bearer_token(req);
    // An expire_token fault revokes the API key as well: MDBList answers a revoked key with
    // the same 401 as an unknown one.
    const bool key_ok = req.has_param("apikey") && req.get_param_value("apikey") == m_api_key &&
                        !m_ctx->token_expired(req);
    const bool token_ok = !bearer.empty() && m_ctx->token_valid(req, bearer);
    if (!key_ok && !token_ok) {
      fault_response(401, req, res);
      return false;
    }
    const std::int64_t day = m_ctx->now_ms() / 86400000;
    if (day != m_day) {
      m_day = day;
      m_requests_today = 0;
    }
    // The daily quota in MDBList's headers: limit, what remains, and the reset as epoch seconds
    // (the next UTC midnight), on every answer and on the 429 that ends the day.
    const std::string reset = std::to_string((day + 1) * 86400);
    if (m_opt.daily_limit > 0 && m_requests_today >= m_opt.daily_limit) {
      const std::int64_t reset_s = (day + 1) * 86400 - m_ctx->now_s();
      res.set_header("Retry-After", std::to_string(reset_s));
      res.set_header("X-RateLimit-Limit", std::to_string(m_opt.daily_limit));
      res.set_header("X-RateLimit-Remaining", "0");
      res.set_header("X-RateLimit-Reset", reset);
      fault_response(429, req, res);
      return false;
    }
    ++m_requests_today;
    res.set_header("X-RateLimit-Limit", std::to_string(m_opt.daily_limit));
    res.set_header("X-RateLimit-Remaining",
                   std::to_string(std::max(0, m_opt.daily_limit - m_requests_today)));
    res.set_header("X-RateLimit-Reset", reset);
    return true;
  }

  std::optional<json> body_of(const Req& req, Res& res) {
    auto body = tk::parse_json_body(req);
    if (!body || !body->is_object()) {
      send_json(res, {{"error", "Invalid JSON body"}}, 400);
      return std::nullopt;
    }
    return body;
  }

  struct Paging {
    std::size_t offset = 0;
    std::size_t limit = 100;
  };
  static Paging paging(const Req& req, long long def_limit, long long max_limit) {
    Paging p;
    p.offset = static_cast<std::size_t>(std::max<long long>(0, param_int(req, "offset", 0)));
    p.limit = static_cast<std::size_t>(
        std::clamp<long long>(param_int(req, "limit", def_limit), 1, max_limit));
    return p;
  }

  // ---------- handlers ----------
  void get_watchlist(const Req& req, Res& res) {
    if (!authorize(req, res)) return;
    const Paging p = paging(req, 100, 1000);
    const Page pg = m_ctx->page(req, m_watchlist.size(), p.offset, p.limit);
    json movies = json::array(), shows = json::array();
    std::size_t total_movies = 0;
    for (const auto& w : m_watchlist) total_movies += w.value("type", "") == "movie";
    for (std::size_t i = pg.start; i < pg.end(); ++i) {
      const json& w = m_watchlist[i];
      const std::string type = w.value("type", "movie");
      const json ids = w.value("ids", json::object());
      const json media = media_view(type, ids);
      const json mids = media.value("ids", json::object());
      json row = {{"id", mids.value("tmdb", json())},
                  {"title", media.value("title", json())},
                  {"release_year", media.value("year", json())},
                  {"imdb_id", mids.value("imdb", json())},
                  {"tvdb_id", mids.value("tvdb", json())},
                  {"mediatype", type},
                  {"ids", mids}};
      (type == "movie" ? movies : shows).push_back(row);
    }
    send_json(res,
              {{"movies", movies},
               {"shows", shows},
               {"pagination",
                {{"offset", p.offset},
                 {"limit", p.limit},
                 {"total_movies", total_movies},
                 {"total_shows", m_watchlist.size() - total_movies},
                 {"has_more", p.offset + p.limit < m_watchlist.size()}}}},
              200);
  }

  void write_watchlist(const Req& req, Res& res, bool remove) {
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    json counts = {{"movies", 0}, {"shows", 0}}, existing = counts;
    json nf = {{"movies", json::array()}, {"shows", json::array()}};
    const std::string now = stamp();
    for (const char* bucket : {"movies", "shows"}) {
      const std::string type = std::string(bucket) == "movies" ? "movie" : "show";
      for (const auto& item : tk::array_or_empty(*body, bucket)) {
        auto ids = resolve(type, item);
        if (!ids) {
          nf[bucket].push_back(item);
          continue;
        }
        auto it = std::find_if(m_watchlist.begin(), m_watchlist.end(),
                               [&](const json& w) { return same_row(w, type, *ids); });
        if (remove) {
          if (it == m_watchlist.end()) continue;
          journal("watchlist", *it, "removed");
          m_watchlist.erase(it);
          counts[bucket] = counts[bucket].get<int>() + 1;
        } else if (it != m_watchlist.end()) {
          existing[bucket] = existing[bucket].get<int>() + 1;
        } else {
          json row = {{"type", type}, {"ids", *ids}, {"added_at", now}};
          journal("watchlist", row, "added");
          m_watchlist.push_back(row);
          counts[bucket] = counts[bucket].get<int>() + 1;
        }
      }
    }
    touch({"watchlisted_at"});
    json nfv = {{"movies", not_found_value(nf["movies"])}, {"shows", not_found_value(nf["shows"])}};
    if (remove) {
      send_write(res, {{"deleted", counts}, {"not_found", nfv}});
    } else {
      send_write(res, {{"added", counts}, {"existing", existing}, {"not_found", nfv}});
    }
  }

  // Flattens a Trakt-style sync body into (type, ids, season, episode, source item) targets.
  struct Target {
    std::string type;
    json ids;
    int season = -1;
    int episode = -1;
    json item;
  };
  std::vector<Target> targets(const json& body, json& nf) {
    std::vector<Target> out;
    for (const auto& item : tk::array_or_empty(body, "movies")) {
      auto ids = resolve("movie", item);
      if (!ids) {
        nf["movies"].push_back(item);
        continue;
      }
      out.push_back({"movie", *ids, -1, -1, item});
    }
    for (const auto& item : tk::array_or_empty(body, "shows")) {
      auto ids = resolve("show", item);
      if (!ids) {
        nf["shows"].push_back(item);
        continue;
      }
      const json seasons = tk::array_or_empty(item, "seasons");
      if (seasons.empty() || item.contains("rating")) out.push_back({"show", *ids, -1, -1, item});
      for (const auto& s : seasons) {
        json season_item = s;
        if (!season_item.contains("watched_at") && item.contains("watched_at"))
          season_item["watched_at"] = item["watched_at"];
        const json eps = tk::array_or_empty(s, "episodes");
        if (eps.empty()) out.push_back({"season", *ids, s.value("number", 0), -1, season_item});
        for (const auto& e : eps) {
          json ep_item = e;
          if (!ep_item.contains("watched_at") && season_item.contains("watched_at"))
            ep_item["watched_at"] = season_item["watched_at"];
          out.push_back({"episode", *ids, s.value("number", 0), e.value("number", 0), ep_item});
        }
      }
    }
    return out;
  }

  // Episodes a show/season target stands for when plays are written (from the catalog).
  std::vector<Target> expand(const Target& t) const {
    if (t.type == "movie" || t.type == "episode") return {t};
    std::vector<Target> out;
    const json* show = find_title("show", t.ids);
    if (!show) return out;
    for (const auto& s : show->value("seasons", json::array())) {
      if (t.type == "season" && s.value("number", -1) != t.season) continue;
      for (const auto& e : s.value("episodes", json::array())) {
        out.push_back({"episode", t.ids, s.value("number", 0), e.value("number", 0), t.item});
      }
    }
    return out;
  }

  json row_view(const json& row) const {
    const std::string type = row.value("type", "movie");
    json out = json::object();
    if (type == "movie") {
      out["movie"] = media_view("movie", row.value("ids", json::object()));
    } else {
      out["show"] = media_view("show", row.value("ids", json::object()));
      if (type == "season") out["season"] = {{"number", row.value("season", 0)}};
      if (type == "episode")
        out["episode"] = {{"season", row.value("season", 0)}, {"number", row.value("episode", 0)}};
    }
    return out;
  }

  void get_ratings(const Req& req, Res& res) {
    if (!authorize(req, res)) return;
    const Paging p = paging(req, 1000, 5000);
    std::optional<std::int64_t> since;
    if (req.has_param("since")) since = tk::parse_iso(req.get_param_value("since"));
    std::vector<const json*> rows;
    for (const auto& r : m_ratings) {
      if (since && tk::parse_iso(r.value("rated_at", "")).value_or(0) < *since) continue;
      rows.push_back(&r);
    }
    const Page pg = m_ctx->page(req, rows.size(), p.offset, p.limit);
    json out = {{"movies", json::array()},
                {"shows", json::array()},
                {"seasons", json::array()},
                {"episodes", json::array()}};
    for (std::size_t i = pg.start; i < pg.end(); ++i) {
      json row = row_view(*rows[i]);
      row["rating"] = (*rows[i])["rating"];
      row["rated_at"] = (*rows[i]).value("rated_at", "");
      out[rows[i]->value("type", "movie") + "s"].push_back(row);
    }
    out["pagination"] = {
        {"offset", p.offset}, {"limit", p.limit}, {"has_more", p.offset + p.limit < rows.size()}};
    send_json(res, out, 200);
  }

  void write_ratings(const Req& req, Res& res, bool remove) {
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    json nf = {{"movies", json::array()},
               {"shows", json::array()},
               {"seasons", json::array()},
               {"episodes", json::array()}};
    json counts = {{"movies", 0}, {"shows", 0}, {"seasons", 0}, {"episodes", 0}};
    json updated = counts;
    const std::string now = stamp();
    for (const auto& t : targets(*body, nf)) {
      const std::string bucket = t.type + "s";
      auto it = std::find_if(m_ratings.begin(), m_ratings.end(), [&](const json& r) {
        return same_row(r, t.type, t.ids, t.season, t.episode);
      });
      if (remove) {
        if (it == m_ratings.end()) continue;
        journal("rated", *it, "removed", json());
        m_ratings.erase(it);
        counts[bucket] = counts[bucket].get<int>() + 1;
        continue;
      }
      const json rating = t.item.value("rating", json());
      if (!rating.is_number() || rating.get<double>() < 1 || rating.get<double>() > 10) {
        if (t.type == "show" || t.type == "season") continue;  // a container without its own rating
        nf[bucket].push_back(t.item);
        continue;
      }
      json row = {{"type", t.type},
                  {"ids", t.ids},
                  {"rating", rating},
                  {"rated_at", t.item.value("rated_at", now)}};
      if (t.season >= 0) row["season"] = t.season;
      if (t.episode >= 0) row["episode"] = t.episode;
      journal("rated", row, "added", rating);
      if (it != m_ratings.end()) {
        *it = row;
        updated[bucket] = updated[bucket].get<int>() + 1;
      } else {
        m_ratings.push_back(row);
        counts[bucket] = counts[bucket].get<int>() + 1;
      }
    }
    touch({"rated_at"});
    json nfv = json::object();
    for (const auto& [k, v] : nf.items()) nfv[k] = not_found_value(v);
    if (remove) {
      send_write(res, {{"removed", counts}, {"not_found", nfv}});
    } else {
      send_write(res, {{"added", counts}, {"updated", updated}, {"not_found", nfv}});
    }
  }

  void get_watched(const Req& req, Res& res) {
    if (!authorize(req, res)) return;
    const Paging p = paging(req, 1000, 5000);
    const bool all_plays = req.has_param("plays") && req.get_param_value("plays") == "all";
    std::optional<std::int64_t> since;
    if (req.has_param("since")) since = tk::parse_iso(req.get_param_value("since"));
    const std::string mediatype =
        req.has_param("mediatype") ? req.get_param_value("mediatype") : "";
    std::vector<json> rows;
    if (all_plays) {
      for (const auto& pl : m_plays) {
        if (since && tk::parse_iso(pl.value("watched_at", "")).value_or(0) < *since) continue;
        if (!mediatype.empty() && pl.value("type", "") != mediatype) continue;
        json row = row_view(pl);
        row["id"] = pl["id"];
        row["watched_at"] = pl.value("watched_at", "");
        row["_type"] = pl.value("type", "movie");
        rows.push_back(row);
      }
    } else {
      // One row per item: last watched time and play count.
      std::vector<json> items;
      for (const auto& pl : m_plays) {
        if (!mediatype.empty() && pl.value("type", "") != mediatype) continue;
        auto it = std::find_if(items.begin(), items.end(), [&](const json& r) {
          return same_row(r, pl.value("type", ""), pl.value("ids", json::object()),
                          pl.value("season", -1), pl.value("episode", -1));
        });
        if (it == items.end()) {
          json r = pl;
          r["plays"] = 1;
          items.push_back(r);
        } else {
          (*it)["plays"] = (*it)["plays"].get<int>() + 1;
          if (pl.value("watched_at", "") > it->value("watched_at", ""))
            (*it)["watched_at"] = pl["watched_at"];
        }
      }
      for (const auto& it : items) {
        if (since && tk::parse_iso(it.value("watched_at", "")).value_or(0) < *since) continue;
        json row = row_view(it);
        row["last_watched_at"] = it.value("watched_at", "");
        row["plays"] = it["plays"];
        row["_type"] = it.value("type", "movie");
        rows.push_back(row);
      }
    }
    const Page pg = m_ctx->page(req, rows.size(), p.offset, p.limit);
    json out = {{"movies", json::array()}, {"episodes", json::array()}};
    for (std::size_t i = pg.start; i < pg.end(); ++i) {
      json row = rows[i];
      const std::string type = row["_type"];
      row.erase("_type");
      out[type + "s"].push_back(row);
    }
    out["pagination"] = {
        {"offset", p.offset}, {"limit", p.limit}, {"has_more", p.offset + p.limit < rows.size()}};
    send_json(res, out, 200);
  }

  void write_watched(const Req& req, Res& res, bool remove) {
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    json nf = {{"movies", json::array()},
               {"shows", json::array()},
               {"seasons", json::array()},
               {"episodes", json::array()}};
    json counts = {{"movies", 0}, {"episodes", 0}};
    json existing = counts;
    json plays = json::array();
    const std::string now = stamp();
    for (const auto& t : targets(*body, nf)) {
      for (const auto& e : expand(t)) {
        const std::string bucket = e.type + "s";
        if (remove) {
          const std::size_t before = m_plays.size();
          json kept = json::array();
          for (auto& pl : m_plays) {
            if (same_row(pl, e.type, e.ids, e.season, e.episode)) {
              journal("watched", pl, "removed");
            } else {
              kept.push_back(std::move(pl));
            }
          }
          m_plays = std::move(kept);
          if (m_plays.size() != before) counts[bucket] = counts[bucket].get<int>() + 1;
          continue;
        }
        const std::string at = e.item.value("watched_at", now);
        // A play at the same second as an existing one collapses into it.
        auto dup = std::find_if(m_plays.begin(), m_plays.end(), [&](const json& pl) {
          return same_row(pl, e.type, e.ids, e.season, e.episode) &&
                 pl.value("watched_at", "") == at;
        });
        if (dup != m_plays.end()) {
          existing[bucket] = existing[bucket].get<int>() + 1;
          plays.push_back({{"id", (*dup)["id"]},
                           {"type", e.type},
                           {"ids", e.ids},
                           {"watched_at", at},
                           {"added", false}});
          continue;
        }
        json row = {{"id", m_next_id++}, {"type", e.type}, {"ids", e.ids}, {"watched_at", at}};
        if (e.season >= 0) row["season"] = e.season;
        if (e.episode >= 0) row["episode"] = e.episode;
        journal("watched", row, "added");
        plays.push_back({{"id", row["id"]},
                         {"type", e.type},
                         {"ids", e.ids},
                         {"watched_at", at},
                         {"added", true}});
        m_plays.push_back(std::move(row));
        counts[bucket] = counts[bucket].get<int>() + 1;
      }
    }
    touch({"watched_at", "episode_watched_at"});
    json nfv = json::object();
    for (const auto& [k, v] : nf.items()) nfv[k] = not_found_value(v);
    if (remove) {
      send_write(res, {{"removed", counts}, {"not_found", nfv}});
      return;
    }
    json out = {{"added", counts},
                {"updated", {{"movies", 0}, {"episodes", 0}}},
                {"existing", existing},
                {"not_found", nfv}};
    if (req.has_param("report_added") && req.get_param_value("report_added") == "true")
      out["plays"] = plays;
    send_write(res, out);
  }

  void remove_plays(const Req& req, Res& res) {
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    json removed = json::array(), nf = json::array();
    for (const auto& idv : tk::array_or_empty(*body, "play_ids")) {
      auto it = std::find_if(m_plays.begin(), m_plays.end(),
                             [&](const json& pl) { return pl.value("id", json()) == idv; });
      if (it == m_plays.end()) {
        nf.push_back(idv);
        continue;
      }
      journal("watched", *it, "removed");
      m_plays.erase(it);
      removed.push_back(idv);
    }
    touch({"watched_at", "episode_watched_at"});
    send_json(res, {{"removed", removed}, {"not_found", nf}}, 200);
  }

  void get_journal(const Req& req, Res& res) {
    if (!authorize(req, res)) return;
    const long long limit = std::clamp<long long>(param_int(req, "limit", 100), 1, 1000);
    std::size_t start = 0;
    if (req.has_param("cursor")) {
      start = static_cast<std::size_t>(std::max<long long>(0, param_int(req, "cursor", 0)));
    } else if (req.has_param("since")) {
      const std::int64_t since = tk::parse_iso(req.get_param_value("since")).value_or(0);
      while (start < m_journal.size() &&
             tk::parse_iso(m_journal[start].value("action_at", "")).value_or(0) <= since)
        ++start;
    }
    json rows = json::array();
    std::size_t i = start;
    for (; i < m_journal.size() && rows.size() < static_cast<std::size_t>(limit); ++i)
      rows.push_back(m_journal[i]);
    const bool more = i < m_journal.size();
    send_json(res,
              {{"journal", rows},
               {"journal_oldest_at", m_journal.empty() ? json() : m_journal.front()["action_at"]},
               {"pagination",
                {{"has_more", more}, {"next_cursor", more ? json(std::to_string(i)) : json()}}}},
              200);
  }

  void scrobble_pause(const Req& req, Res& res) {
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    const json progress = body->value("progress", json());
    if (!progress.is_number()) {
      send_json(res, {{"error", "progress is required"}}, 400);
      return;
    }
    json row;
    if (body->contains("movie")) {
      auto ids = resolve("movie", (*body)["movie"]);
      if (!ids) {
        send_json(res, {{"error", "Item not found"}}, 404);
        return;
      }
      row = {{"type", "movie"}, {"movie", media_view("movie", *ids)}};
    } else if (body->contains("show")) {
      const json& show = (*body)["show"];
      auto ids = resolve("show", show);
      if (!ids) {
        send_json(res, {{"error", "Item not found"}}, 404);
        return;
      }
      const json season = show.value("season", json::object());
      row = {{"type", "episode"},
             {"show", media_view("show", *ids)},
             {"episode",
              {{"season", season.value("number", 0)},
               {"number", season.value("episode", json::object()).value("number", 0)}}}};
    } else {
      send_json(res, {{"error", "movie or show is required"}}, 400);
      return;
    }
    auto it = std::find_if(m_playback.begin(), m_playback.end(), [&](const json& p) {
      return p.value("type", "") == row.value("type", "") &&
             p.value("movie", json()) == row.value("movie", json()) &&
             p.value("show", json()) == row.value("show", json()) &&
             p.value("episode", json()) == row.value("episode", json());
    });
    row["progress"] = progress;
    row["paused_at"] = stamp();
    row["id"] = it != m_playback.end() ? (*it)["id"] : json(m_next_id++);
    if (it != m_playback.end()) {
      *it = row;
    } else {
      m_playback.push_back(row);
    }
    send_json(res, {{"id", row["id"]}, {"action", "pause"}, {"progress", progress}}, 200);
  }

  mutable std::mutex m_mutex;
  Context* m_ctx = nullptr;
  Options m_opt;
  json m_dropped = json::array();
  json m_movies, m_shows, m_watchlist, m_ratings, m_plays, m_playback, m_lists, m_journal, m_user,
      m_activities;
  std::map<std::string, Device> m_devices;
  std::int64_t m_next_id = 1;
  int m_requests_today = 0;
  std::int64_t m_day = -1;
  std::string m_api_key, m_access_token, m_refresh_token, m_client_id;
  std::uint64_t m_serial = 0;
  tk::StampClock m_clock{1000};
};

void MdblistFake::register_routes(httplib::Server& srv, Context& ctx) {
  {
    std::lock_guard lock(m_mutex);
    m_ctx = &ctx;
    m_ctx->set_valid_tokens({m_access_token});
  }
  auto locked = [this](void (MdblistFake::*fn)(const Req&, Res&)) {
    return [this, fn](const Req& req, Res& res) {
      std::lock_guard lock(m_mutex);
      (this->*fn)(req, res);
    };
  };
  srv.Get("/user", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    send_json(res, m_user, 200);
  });
  srv.Get("/sync/last_activities", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    send_json(res, m_activities, 200);
  });
  srv.Get("/watchlist/items", locked(&MdblistFake::get_watchlist));
  srv.Post("/watchlist/items/add", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    write_watchlist(req, res, false);
  });
  srv.Post("/watchlist/items/remove", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    write_watchlist(req, res, true);
  });
  srv.Get("/sync/ratings", locked(&MdblistFake::get_ratings));
  srv.Post("/sync/ratings", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    write_ratings(req, res, false);
  });
  srv.Post("/sync/ratings/remove", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    write_ratings(req, res, true);
  });
  srv.Get("/sync/watched", locked(&MdblistFake::get_watched));
  srv.Post("/sync/watched", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    write_watched(req, res, false);
  });
  srv.Post("/sync/watched/remove", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    write_watched(req, res, true);
  });
  srv.Post("/sync/watched/plays/remove", locked(&MdblistFake::remove_plays));
  srv.Get("/sync/journal", locked(&MdblistFake::get_journal));
  srv.Get("/sync/playback", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    send_json(res, m_playback, 200);
  });
  srv.Post("/scrobble/pause", locked(&MdblistFake::scrobble_pause));
  srv.Post("/scrobble/clear", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    const json id = body->value("id", json());
    auto it = std::find_if(m_playback.begin(), m_playback.end(),
                           [&](const json& p) { return p.value("id", json()) == id; });
    if (it == m_playback.end()) {
      send_json(res, {{"error", "Playback not found"}}, 404);
      return;
    }
    m_playback.erase(it);
    send_json(res, {{"success", true}}, 200);
  });
  srv.Get("/sync/dropped", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    const Paging p = paging(req, 1000, 1000);
    const Page pg = m_ctx->page(req, m_dropped.size(), p.offset, p.limit);
    json shows = json::array();
    for (std::size_t i = pg.start; i < pg.end(); ++i) {
      json row = row_view(m_dropped[i]);
      row["dropped_at"] = tk::str(m_dropped[i], "dropped_at");
      shows.push_back(row);
    }
    send_json(res,
              {{"shows", shows},
               {"pagination",
                {{"offset", p.offset},
                 {"limit", p.limit},
                 {"has_more", p.offset + p.limit < m_dropped.size()}}}},
              200);
  });
  srv.Get("/lists/user", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    json out = json::array();
    for (const auto& l : m_lists) {
      out.push_back({{"id", l["id"]},
                     {"name", l.value("name", "")},
                     {"slug", l.value("slug", "")},
                     {"private", l.value("private", false)},
                     {"dynamic", false},
                     {"items", l.value("items", json::array()).size()}});
    }
    send_json(res, out, 200);
  });
  srv.Post("/lists/user/add", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    auto body = body_of(req, res);
    if (!body) return;
    json l = {{"id", m_next_id++},
              {"name", body->value("name", "")},
              {"private", body->value("private", false)},
              {"items", json::array()}};
    m_lists.push_back(l);
    send_json(res, {{"id", l["id"]}, {"name", l["name"]}}, 200);
  });
  auto find_list = [this](const std::string& id) -> json* {
    for (auto& l : m_lists) {
      if (tk::id_text(l.value("id", json())) == id) return &l;
    }
    return nullptr;
  };
  srv.Get(R"(/lists/(\d+)/items)", [this, find_list](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    json* l = find_list(req.matches[1].str());
    if (!l) {
      send_json(res, {{"error", "List not found"}}, 404);
      return;
    }
    json movies = json::array(), shows = json::array();
    int rank = 1;
    for (const auto& item : (*l)["items"]) {
      const std::string type = item.value("type", "movie");
      const json media = media_view(type, item.value("ids", json::object()));
      const json ids = media.value("ids", json::object());
      json row = {{"id", ids.value("tmdb", json())},
                  {"rank", rank++},
                  {"title", media.value("title", json())},
                  {"imdb_id", ids.value("imdb", json())},
                  {"tvdb_id", ids.value("tvdb", json())},
                  {"mediatype", type},
                  {"release_year", media.value("year", json())}};
      (type == "movie" ? movies : shows).push_back(row);
    }
    send_json(res, {{"movies", movies}, {"shows", shows}}, 200);
  });
  auto list_write = [this, find_list](const Req& req, Res& res, bool remove) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res)) return;
    json* l = find_list(req.matches[1].str());
    if (!l) {
      send_json(res, {{"error", "List not found"}}, 404);
      return;
    }
    auto body = body_of(req, res);
    if (!body) return;
    json counts = {{"movies", 0}, {"shows", 0}}, existing = counts;
    json nf = {{"movies", json::array()}, {"shows", json::array()}};
    json& items = (*l)["items"];
    for (const char* bucket : {"movies", "shows"}) {
      const std::string type = std::string(bucket) == "movies" ? "movie" : "show";
      for (const auto& item : tk::array_or_empty(*body, bucket)) {
        auto ids = resolve(type, item);
        if (!ids) {
          nf[bucket].push_back(item);
          continue;
        }
        std::size_t hit = items.size();
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (same_row(items[i], type, *ids)) hit = i;
        }
        if (remove) {
          if (hit == items.size()) continue;
          items.erase(hit);
          counts[bucket] = counts[bucket].get<int>() + 1;
        } else if (hit != items.size()) {
          existing[bucket] = existing[bucket].get<int>() + 1;
        } else {
          items.push_back({{"type", type}, {"ids", *ids}});
          counts[bucket] = counts[bucket].get<int>() + 1;
        }
      }
    }
    json nfv = {{"movies", not_found_value(nf["movies"])}, {"shows", not_found_value(nf["shows"])}};
    if (remove) {
      send_write(res, {{"deleted", counts}, {"not_found", nfv}});
    } else {
      send_write(res, {{"added", counts}, {"existing", existing}, {"not_found", nfv}});
    }
  };
  srv.Post(R"(/lists/(\d+)/items/add)",
           [list_write](const Req& req, Res& res) { list_write(req, res, false); });
  srv.Post(R"(/lists/(\d+)/items/remove)",
           [list_write](const Req& req, Res& res) { list_write(req, res, true); });
  // OAuth device flow (form-encoded, as CW sends it).
  srv.Post("/oauth/device-authorization/", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (req.get_param_value("client_id") != m_client_id) {
      send_json(res, {{"error", "invalid_client"}}, 401);
      return;
    }
    const std::string device = tk::make_token("dc", ++m_serial);
    Device d;
    d.user_code = "MDB-" + std::to_string(1000 + m_serial);
    d.expires_ms = m_ctx->now_ms() + 600 * 1000;
    m_devices[device] = d;
    send_json(res,
              {{"device_code", device},
               {"user_code", d.user_code},
               {"verification_uri", "https://mdblist.com/oauth/device/"},
               {"interval", 5},
               {"expires_in", 600}},
              200);
  });
  srv.Post("/oauth/token/", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    const std::string grant = req.get_param_value("grant_type");
    auto issue = [&]() {
      m_access_token = tk::make_token("mdb", ++m_serial);
      m_refresh_token = tk::make_token("mdbr", ++m_serial);
      m_ctx->add_valid_token(m_access_token);
      send_json(res,
                {{"access_token", m_access_token},
                 {"refresh_token", m_refresh_token},
                 {"token_type", "Bearer"},
                 {"scope", "write"},
                 {"expires_in", 3600}},
                200);
    };
    if (grant == "refresh_token") {
      if (req.get_param_value("refresh_token") != m_refresh_token) {
        send_json(res, {{"error", "invalid_grant"}}, 400);
        return;
      }
      issue();
      return;
    }
    if (grant == "urn:ietf:params:oauth:grant-type:device_code") {
      auto it = m_devices.find(req.get_param_value("device_code"));
      if (it == m_devices.end()) {
        send_json(res, {{"error", "invalid_grant"}}, 400);
        return;
      }
      if (m_ctx->now_ms() >= it->second.expires_ms) {
        send_json(res, {{"error", "expired_token"}}, 400);
        return;
      }
      if (it->second.state == "pending") {
        send_json(res, {{"error", "authorization_pending"}}, 400);
        return;
      }
      if (it->second.state == "denied") {
        send_json(res, {{"error", "access_denied"}}, 400);
        return;
      }
      m_devices.erase(it);
      issue();
      return;
    }
    send_json(res, {{"error", "unsupported_grant_type"}}, 400);
  });
  srv.Post("/__sandbox/oauth/approve", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    const std::string code = body ? body->value("user_code", "") : "";
    for (auto& [dc, d] : m_devices) {
      if (d.user_code == code) {
        d.state = body->value("deny", false) ? "denied" : "approved";
        send_json(res, {{"ok", true}}, 200);
        return;
      }
    }
    send_json(res, {{"error", "no pending device code " + code}}, 404);
  });
  srv.Post("/__sandbox/quota/reset", [this](const Req&, Res& res) {
    std::lock_guard lock(m_mutex);
    m_requests_today = 0;
    send_json(res, {{"ok", true}}, 200);
  });
  // api.mdblist.com is a Django application: a path its router does not know gets Django's
  // plain 404 page, not a JSON body.
  tk::serve_unrouted(srv, [](const Req&, Res& res) {
    res.status = 404;
    res.set_content(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n"
        "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
        "</body>\n</html>\n",
        "text/html");
  });
}

}  // namespace

std::unique_ptr<FakeService> make_mdblist_fake() { return std::make_unique<MdblistFake>(); }

}  // namespace cw::fakes
