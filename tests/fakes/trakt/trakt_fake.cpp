#include "trakt/trakt_fake.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "trakt/tracker_util.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;
using Req = httplib::Request;
using Res = httplib::Response;
namespace tk = tracker;

constexpr const char* k_buckets[] = {"movies", "shows", "seasons", "episodes"};
constexpr const char* k_default_client_id = "cw-sandbox-trakt-client-id";
constexpr const char* k_default_client_secret = "cw-sandbox-trakt-client-secret";
constexpr const char* k_default_access = "cw-sandbox-trakt-access-token";
constexpr const char* k_default_refresh = "cw-sandbox-trakt-refresh-token";
constexpr const char* k_initial_stamp = "2024-01-01T00:00:00.000Z";

std::string singular(const std::string& bucket) { return bucket.substr(0, bucket.size() - 1); }

json empty_buckets(bool with_lists) {
  json out = json::object();
  for (const char* b : k_buckets) out[b] = with_lists ? json::array() : json(0);
  return out;
}

// Trakt serves only the basic fields unless extended=full is asked for.
json media_view(const std::string& kind, const json& obj, bool full) {
  if (!obj.is_object()) return obj;
  json out;
  if (full) {
    out = obj;
    out.erase("seasons");
    return out;
  }
  static const std::vector<std::string> k_title_keys{"title", "year", "ids"};
  static const std::vector<std::string> k_season_keys{"number", "ids"};
  static const std::vector<std::string> k_episode_keys{"season", "number", "title", "ids"};
  const auto& keys = kind == "episode"  ? k_episode_keys
                     : kind == "season" ? k_season_keys
                                        : k_title_keys;
  out = json::object();
  for (const auto& k : keys) {
    auto it = obj.find(k);
    if (it != obj.end()) out[k] = *it;
  }
  return out;
}

json row_view(const json& row, bool full) {
  json out = row;
  for (const char* kind : {"movie", "show", "season", "episode"}) {
    auto it = out.find(kind);
    if (it != out.end()) *it = media_view(kind, *it, full);
  }
  return out;
}

// The first-aired stamp of a catalog episode without one: weekly from January of the show's year,
// so that every generated episode has aired and progress counts them. Null without a year.
json derived_first_aired(const json& show, int season, int number) {
  auto year = show.find("year");
  if (year == show.end() || !year->is_number_integer()) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-01-01T00:00:00.000Z", year->get<int>());
  const std::int64_t base = tk::parse_iso(buf).value_or(0);
  const std::int64_t week = 7LL * 24 * 3600 * 1000;
  return tk::iso_utc(base + (std::max(season - 1, 0) * 52 + std::max(number - 1, 0)) * week, true);
}

// extended=full: the fields of Trakt's full objects (the 2025 contract's summaries), with the
// stored value where the fixture has one and Trakt's neutral value otherwise. Fields that only
// hold real-world data (trailer, homepage, certification, network, airs) appear only when the
// fixture stores them: the contract types them as non-null strings, and the fake has no value.
json with_full_defaults(const std::string& kind, json obj) {
  auto put = [&obj](const char* key, json value) {
    if (!obj.contains(key)) obj[key] = std::move(value);
  };
  const json title = obj.contains("title") ? obj["title"] : json(nullptr);
  put("rating", 0);
  put("votes", 0);
  put("updated_at", k_initial_stamp);
  if (kind == "movie" || kind == "show") {
    put("tagline", "");
    put("overview", "");
    put("runtime", 0);
    put("country", "us");
    put("comment_count", 0);
    put("language", "en");
    put("languages", json::array({"en"}));
    put("available_translations", json::array({"en"}));
    put("genres", json::array());
    put("original_title", title);
  }
  if (kind == "movie") {
    const json year = obj.contains("year") ? obj["year"] : json(nullptr);
    put("released", year.is_number_integer() ? json(std::to_string(year.get<int>()) + "-01-01")
                                             : json(nullptr));
    put("status", "released");
  } else if (kind == "show") {
    put("first_aired", derived_first_aired(obj, 1, 1));
    put("status", "ended");
    put("aired_episodes", 0);
  } else if (kind == "season") {
    const int number = obj.value("number", 0);
    put("title", number == 0 ? std::string("Specials") : "Season " + std::to_string(number));
    put("overview", nullptr);
    put("first_aired", nullptr);
    put("episode_count", 0);
    put("aired_episodes", 0);
  } else if (kind == "episode") {
    put("number_abs", nullptr);
    put("overview", nullptr);
    put("first_aired", nullptr);
    put("comment_count", 0);
    put("available_translations", json::array({"en"}));
    put("runtime", 0);
    put("episode_type", "standard");
    put("original_title", title);
  }
  return obj;
}

bool wants_full(const Req& req) {
  if (!req.has_param("extended")) return false;
  return req.get_param_value("extended").find("full") != std::string::npos;
}

struct Options {
  int unpaged_limit = 100;
  int max_limit = 250;
  int history_add_status = 200;  // the 2025 contract; the Apiary reference said 201
  std::string history_duplicates = "add";
  bool legacy_history_reply = false;  // Apiary-era body: no "updated", "people" in not_found
  bool etag = true;
  bool freeze_activities = false;
  bool accept_unknown_ids = false;
  bool omit_page_count = false;
  bool empty_401_body = false;
  bool require_api_version = false;
  bool real_rate_limits = false;
  int get_limit = 500;  // AUTHED_API_GET_LIMIT per 5 minutes (the Apiary reference said 1000)
  // The user's watchlist sort preference, sent as X-Sort-By / X-Sort-How.
  std::string watchlist_sort_by = "rank";
  std::string watchlist_sort_how = "asc";
};

struct Target {
  std::string kind;  // movie, show, season, episode
  json obj;          // catalog object (all fields)
  json show;         // season/episode: the show (without seasons)
  json attrs;        // watched_at, rating, rated_at, notes, collected_at from the request
};

struct Resolved {
  std::vector<Target> targets;
  json not_found = empty_buckets(true);
};

struct HistRow {
  std::int64_t at;
  std::int64_t id;
  json row;
};

struct ListState {
  json list;
  std::vector<json> items;
};

struct RateWindow {
  std::int64_t start_ms = 0;
  int used = 0;
};

struct DeviceCode {
  std::string user_code;
  std::int64_t expires_ms = 0;
  std::int64_t last_poll_ms = 0;
  int interval_s = 5;
  std::string state = "pending";  // pending, approved, denied, used
};

json attrs_of(const json& item, const json& parent) {
  json out = parent.is_object() ? parent : json::object();
  for (const char* k : {"watched_at", "rating", "rated_at", "notes", "collected_at", "listed_at"}) {
    auto it = item.find(k);
    if (it != item.end()) out[k] = *it;
  }
  return out;
}

class TraktFake final : public FakeService {
 public:
  TraktFake() { reset_locked(); }

  std::string name() const override { return "trakt"; }

  void register_routes(httplib::Server& srv, Context& ctx) override;

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    load_locked(fixture);
  }

  void seed_universe(const json& u) override { seed(universe_fixture(u)); }

  // Maps a generated universe (core/generator.hpp) onto Trakt's own rows.
  static json universe_fixture(const json& u) {
    std::unordered_map<std::string, json> objs;
    json movies = json::array();
    for (const auto& m : tk::array_or_empty(u, "movies")) {
      json obj = {{"title", m.value("title", "")},
                  {"year", m.value("year", json())},
                  {"ids", tk::pick_ids(m.value("ids", json::object()), {"trakt", "tmdb"},
                                       {"slug", "imdb"})}};
      if (m.contains("duration_ms")) obj["runtime"] = m["duration_ms"].get<std::int64_t>() / 60000;
      objs[tk::universe_key(m)] = obj;
      movies.push_back(obj);
    }
    json shows = json::array();
    for (const auto& s : tk::array_or_empty(u, "shows")) {
      json show = {{"title", s.value("title", "")},
                   {"year", s.value("year", json())},
                   {"ids", tk::pick_ids(s.value("ids", json::object()), {"trakt", "tmdb", "tvdb"},
                                        {"slug", "imdb"})}};
      objs[tk::universe_key(s)] = show;
      json seasons = json::array();
      for (const auto& se : tk::array_or_empty(s, "seasons")) {
        json eps = json::array();
        for (const auto& e : tk::array_or_empty(se, "episodes")) {
          json ep = {{"season", se.value("number", 0)},
                     {"number", e.value("number", 0)},
                     {"title", e.value("title", "")},
                     {"ids", tk::pick_ids(e.value("ids", json::object()), {"trakt", "tmdb", "tvdb"},
                                          {"imdb"})}};
          if (e.contains("duration_ms"))
            ep["runtime"] = e["duration_ms"].get<std::int64_t>() / 60000;
          json ref = e;
          ref["type"] = "episode";
          objs[tk::universe_key(ref)] = ep;
          eps.push_back(ep);
        }
        json season_ids =
            tk::pick_ids(se.value("ids", json::object()), {"trakt", "tmdb", "tvdb"}, {});
        // Trakt numbers every season; generated universes only carry tvdb/tmdb season ids.
        if (!season_ids.contains("trakt")) {
          season_ids["trakt"] =
              show["ids"].value("trakt", std::int64_t{0}) * 100 + se.value("number", 0);
        }
        seasons.push_back(
            {{"number", se.value("number", 0)}, {"ids", season_ids}, {"episodes", eps}});
      }
      json full = show;
      full["seasons"] = seasons;
      shows.push_back(full);
    }
    // A row for a universe reference item: the media object plus, for episodes, the show.
    auto row_for = [&](const json& item) -> std::optional<json> {
      const std::string type = item.value("type", "");
      auto it = objs.find(tk::universe_key(item));
      if (it == objs.end()) return std::nullopt;
      json row = {{"type", type}, {type, it->second}};
      if (type == "episode") {
        json show_ref = item.value("show", json::object());
        show_ref["type"] = "show";
        auto sit = objs.find(tk::universe_key(show_ref));
        if (sit == objs.end()) return std::nullopt;
        row["show"] = sit->second;
      }
      return row;
    };
    auto minute_iso = [](const std::string& iso) {
      return tk::iso_utc(tk::parse_iso(iso).value_or(0) / 60000 * 60000, true);
    };
    auto second_iso = [](const std::string& iso) {
      return tk::iso_utc(tk::parse_iso(iso).value_or(0) / 1000 * 1000, true);
    };
    json history = json::array();
    std::int64_t id = 1;
    for (const auto& h : tk::array_or_empty(u, "history")) {
      auto row = row_for(h);
      if (!row) continue;
      (*row)["id"] = id++;
      (*row)["watched_at"] = minute_iso(h.value("watched_at", ""));
      (*row)["action"] = "watch";
      history.push_back(std::move(*row));
    }
    json ratings = json::array();
    for (const auto& r : tk::array_or_empty(u, "ratings")) {
      auto row = row_for(r);
      if (!row) continue;
      (*row)["rating"] = r.value("rating", 0);
      (*row)["rated_at"] = second_iso(r.value("rated_at", ""));
      ratings.push_back(std::move(*row));
    }
    json watchlist = json::array();
    for (const auto& w : tk::array_or_empty(u, "watchlist")) {
      auto row = row_for(w);
      if (!row) continue;
      (*row)["rank"] = watchlist.size() + 1;
      (*row)["id"] = id++;
      (*row)["listed_at"] = second_iso(w.value("listed_at", ""));
      (*row)["notes"] = nullptr;
      watchlist.push_back(std::move(*row));
    }
    json playback = json::array();
    for (const auto& p : tk::array_or_empty(u, "progress")) {
      auto row = row_for(p);
      if (!row) continue;
      const double duration = static_cast<double>(p.value("duration_ms", std::int64_t{1}));
      const double pos = static_cast<double>(p.value("progress_ms", std::int64_t{0}));
      (*row)["progress"] = std::round(pos / duration * 1000.0) / 10.0;
      (*row)["paused_at"] = second_iso(p.value("progress_at", ""));
      (*row)["id"] = id++;
      playback.push_back(std::move(*row));
    }
    return {{"catalog", {{"movies", movies}, {"shows", shows}}},
            {"history", history},
            {"ratings", ratings},
            {"watchlist", watchlist},
            {"playback", playback}};
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
            {"access_token", m_access_token},
            {"refresh_token", m_refresh_token}};
  }

  std::string provider_yaml(const std::string& base_url) const override {
    std::lock_guard lock(m_mutex);
    return "  trakt:\n    plugin: trakt\n    url: " + base_url + "\n    client_id: " + m_client_id +
           "\n    client_secret: " + m_client_secret + "\n    access_token: " + m_access_token +
           "\n    refresh_token: " + m_refresh_token + "\n";
  }

  void fault_response(int status, const Req& req, Res& res) const override {
    res.status = status;
    if (status == 401) {
      res.set_header("WWW-Authenticate",
                     "Bearer realm=\"trakt\", error=\"invalid_token\", "
                     "error_description=\"The access token expired\"");
      if (!m_opt.empty_401_body) {
        res.set_content(
            json{{"error", "invalid_token"}, {"error_description", "The access token expired"}}
                .dump(),
            "application/json");
      }
      return;
    }
    if (status == 429) {
      const bool read = req.method == "GET";
      const std::int64_t now = m_ctx ? m_ctx->now_ms() : tk::now_ms();
      // Trakt's Retry-After and the limit's `until` name the same moment: the fault's
      // Retry-After when it set one, else the end of the window.
      std::int64_t wait_ms = read ? 300000 : 1000;
      if (res.has_header("Retry-After"))
        wait_ms = std::atoll(res.get_header_value("Retry-After").c_str()) * 1000;
      else
        res.set_header("Retry-After", std::to_string(wait_ms / 1000));
      json limit = {{"name", read ? "AUTHED_API_GET_LIMIT" : "AUTHED_API_POST_LIMIT"},
                    {"period", read ? 300 : 1},
                    {"limit", read ? 500 : 1},
                    {"remaining", 0},
                    {"until", tk::iso_utc(now + wait_ms, true)}};
      res.set_header("X-Ratelimit", limit.dump());
      return;
    }
    if (status >= 500) {
      res.set_content("<html><head><title>" + std::to_string(status) +
                          "</title></head><body>cloudflare</body></html>",
                      "text/html");
    }
    // 420 (account limit), 423 (locked), 426 (VIP only) and the rest come with an empty body.
  }

 private:
  // ---------- state ----------
  void reset_locked() {
    m_opt = Options{};
    m_movies = json::array();
    m_shows = json::array();
    m_movie_ix.clear();
    m_show_ix.clear();
    m_season_ix.clear();
    m_episode_ix.clear();
    m_watchlist.clear();
    m_history.clear();
    m_ratings.clear();
    m_playback.clear();
    m_collection.clear();
    m_dropped.clear();
    m_lists.clear();
    m_devices.clear();
    m_auth_codes.clear();
    m_token_expiry.clear();
    m_next_id = 1000001;
    m_next_trakt_id = 9000001;
    m_watchlist_version = 1;
    m_client_id = k_default_client_id;
    m_client_secret = k_default_client_secret;
    m_access_token = k_default_access;
    m_refresh_token = k_default_refresh;
    m_token_ttl_s = 7 * 24 * 3600;
    m_settings = default_settings();
    m_activities = default_activities();
    m_clock.reset();
    m_get_window = RateWindow{};
    m_post_window = RateWindow{};
    sync_tokens_locked();
  }

  void sync_tokens_locked() {
    if (!m_ctx) return;
    m_ctx->set_valid_tokens({m_access_token});
    m_token_expiry.clear();
    m_token_expiry[m_access_token] = m_ctx->now_ms() + m_token_ttl_s * 1000;
  }

  static json default_settings() {
    return {
        {"user",
         {{"username", "sandbox"},
          {"private", false},
          {"name", "Sandbox User"},
          {"vip", false},
          {"vip_ep", false},
          {"director", false},
          {"ids",
           {{"slug", "sandbox"},
            {"trakt", 424242},
            {"uuid", "5a0d1b6f8c0e4d7b9f3e2a1c0b9d8e7f6a5b4c3d"}}},
          {"joined_at", "2020-01-01T00:00:00.000Z"},
          {"location", ""},
          {"about", ""},
          {"gender", ""},
          {"age", 0},
          {"images", {{"avatar", {{"full", ""}}}}},
          {"vip_og", false},
          {"vip_years", 0}}},
        {"permissions", {{"commenting", true}, {"liking", true}, {"following", true}}},
        {"account",
         {{"timezone", "UTC"}, {"date_format", "ymd"}, {"time_24hr", true}, {"cover_image", ""}}},
        {"connections",
         {{"facebook", false},
          {"twitter", false},
          {"mastodon", false},
          {"google", false},
          {"tumblr", false},
          {"medium", false},
          {"slack", false},
          {"apple", false},
          {"dropbox", false},
          {"microsoft", false}}},
        {"sharing_text",
         {{"watching", "I'm watching [item]"},
          {"watched", "I just watched [item]"},
          {"rated", "[item] [stars]"}}},
        {"limits",
         {{"list", {{"count", 5}, {"item_count", 250}}},
          {"watchlist", {{"item_count", 250}}},
          {"favorites", {{"item_count", 50}}},
          {"search", {{"recent_count", 5}}},
          {"collection", {{"item_count", 100}}},
          {"notes", {{"item_count", 100}}}}}};
  }

  static json default_activities() {
    const json t = k_initial_stamp;
    return {{"all", t},
            {"movies",
             {{"watched_at", t},
              {"collected_at", t},
              {"rated_at", t},
              {"watchlisted_at", t},
              {"favorited_at", t},
              {"commented_at", t},
              {"paused_at", t},
              {"hidden_at", t}}},
            {"episodes",
             {{"watched_at", t},
              {"collected_at", t},
              {"rated_at", t},
              {"watchlisted_at", t},
              {"commented_at", t},
              {"paused_at", t}}},
            {"shows",
             {{"rated_at", t},
              {"watchlisted_at", t},
              {"favorited_at", t},
              {"commented_at", t},
              {"hidden_at", t},
              {"dropped_at", t}}},
            {"seasons",
             {{"rated_at", t}, {"watchlisted_at", t}, {"commented_at", t}, {"hidden_at", t}}},
            {"comments", {{"liked_at", t}, {"blocked_at", t}}},
            {"lists", {{"liked_at", t}, {"updated_at", t}, {"commented_at", t}}},
            {"watchlist", {{"updated_at", t}}},
            {"favorites", {{"updated_at", t}}},
            {"account",
             {{"settings_at", t},
              {"followed_at", t},
              {"following_at", t},
              {"pending_at", t},
              {"requested_at", t}}},
            {"saved_filters", {{"updated_at", t}}},
            {"notes", {{"updated_at", t}}}};
  }

  void load_locked(const json& f) {
    if (!f.is_object()) return;
    if (auto it = f.find("options"); it != f.end() && it->is_object()) {
      const json& o = *it;
      m_opt.unpaged_limit = o.value("unpaged_limit", m_opt.unpaged_limit);
      m_opt.max_limit = o.value("max_limit", m_opt.max_limit);
      m_opt.history_add_status = o.value("history_add_status", m_opt.history_add_status);
      m_opt.history_duplicates = o.value("history_duplicates", m_opt.history_duplicates);
      m_opt.legacy_history_reply = o.value("legacy_history_reply", m_opt.legacy_history_reply);
      m_opt.etag = o.value("etag", m_opt.etag);
      m_opt.freeze_activities = o.value("freeze_activities", m_opt.freeze_activities);
      m_opt.accept_unknown_ids = o.value("accept_unknown_ids", m_opt.accept_unknown_ids);
      m_opt.omit_page_count = o.value("omit_page_count", m_opt.omit_page_count);
      m_opt.empty_401_body = o.value("empty_401_body", m_opt.empty_401_body);
      m_opt.require_api_version = o.value("require_api_version", m_opt.require_api_version);
      m_opt.real_rate_limits = o.value("real_rate_limits", m_opt.real_rate_limits);
      m_opt.get_limit = o.value("get_limit", m_opt.get_limit);
      m_opt.watchlist_sort_by = o.value("watchlist_sort_by", m_opt.watchlist_sort_by);
      m_opt.watchlist_sort_how = o.value("watchlist_sort_how", m_opt.watchlist_sort_how);
    }
    if (auto it = f.find("auth"); it != f.end() && it->is_object()) {
      m_client_id = it->value("client_id", m_client_id);
      m_client_secret = it->value("client_secret", m_client_secret);
      m_access_token = it->value("access_token", m_access_token);
      m_refresh_token = it->value("refresh_token", m_refresh_token);
      m_token_ttl_s = it->value("token_ttl_s", m_token_ttl_s);
    }
    if (auto it = f.find("catalog"); it != f.end() && it->is_object()) {
      for (const auto& m : tk::array_or_empty(*it, "movies")) add_movie(m);
      for (const auto& s : tk::array_or_empty(*it, "shows")) add_show(s);
    }
    for (const auto& row : tk::array_or_empty(f, "watchlist")) {
      catalog_row(row);
      m_watchlist.push_back(row);
      bump_id(row.value("id", std::int64_t{0}));
    }
    for (const auto& row : tk::array_or_empty(f, "history")) {
      catalog_row(row);
      const std::int64_t id = row.value("id", std::int64_t{0});
      bump_id(id);
      m_history.push_back(HistRow{tk::parse_iso(tk::str(row, "watched_at")).value_or(0), id, row});
    }
    std::stable_sort(m_history.begin(), m_history.end(), history_order);
    for (const auto& row : tk::array_or_empty(f, "ratings")) {
      catalog_row(row);
      m_ratings.push_back(row);
    }
    for (const auto& row : tk::array_or_empty(f, "playback")) {
      catalog_row(row);
      m_playback.push_back(row);
      bump_id(row.value("id", std::int64_t{0}));
    }
    for (const auto& row : tk::array_or_empty(f, "collection")) {
      catalog_row(row);
      m_collection.push_back(row);
    }
    for (const auto& row : tk::array_or_empty(f, "dropped")) {
      catalog_row(row);
      m_dropped.push_back(row);
    }
    for (const auto& l : tk::array_or_empty(f, "lists")) {
      ListState ls;
      ls.list = l.value("list", json::object());
      for (const auto& row : tk::array_or_empty(l, "items")) {
        catalog_row(row);
        ls.items.push_back(row);
        bump_id(row.value("id", std::int64_t{0}));
      }
      if (ls.list.contains("ids")) bump_trakt(ls.list["ids"].value("trakt", std::int64_t{0}));
      m_lists.push_back(std::move(ls));
    }
    if (auto it = f.find("settings"); it != f.end() && it->is_object()) m_settings = *it;
    if (auto it = f.find("last_activities"); it != f.end() && it->is_object()) {
      m_activities = *it;
    }
    sync_tokens_locked();
    install_rate_limits_locked();
  }

  void install_rate_limits_locked() {
    if (!m_ctx || !m_opt.real_rate_limits) return;
    // AUTHED_API_GET_LIMIT: 500 per 5 minutes (2026 portal; Apiary said 1000);
    // AUTHED_API_POST_LIMIT: 1 per second (all verbs that write share it, each verb gets its own
    // bucket here).
    FaultSpec get;
    get.method = "GET";
    get.rate_per_s = m_opt.get_limit / 300.0;
    get.burst = std::max(1, m_opt.get_limit);
    get.retry_after_s = 1;
    m_ctx->add_fault(get);
    for (const char* m : {"POST", "PUT", "DELETE"}) {
      FaultSpec w;
      w.method = m;
      w.rate_per_s = 1;
      w.burst = 1;
      w.retry_after_s = 1;
      m_ctx->add_fault(w);
    }
  }

  json state_locked() const {
    json history = json::array();
    for (const auto& h : m_history) history.push_back(h.row);
    json lists = json::array();
    for (const auto& l : m_lists) lists.push_back({{"list", list_view(l)}, {"items", l.items}});
    return {{"catalog", {{"movies", m_movies}, {"shows", m_shows}}},
            {"watchlist", m_watchlist},
            {"history", history},
            {"ratings", m_ratings},
            {"playback", m_playback},
            {"collection", m_collection},
            {"dropped", m_dropped},
            {"lists", lists},
            {"settings", m_settings},
            {"last_activities", m_activities},
            {"auth",
             {{"client_id", m_client_id},
              {"client_secret", m_client_secret},
              {"access_token", m_access_token},
              {"refresh_token", m_refresh_token},
              {"token_ttl_s", m_token_ttl_s}}}};
  }

  void bump_id(std::int64_t id) {
    if (id >= m_next_id) m_next_id = id + 1;
  }
  void bump_trakt(std::int64_t id) {
    if (id >= m_next_trakt_id) m_next_trakt_id = id + 1;
  }

  // ---------- catalog ----------
  template <typename F>
  static void for_ids(const json& ids, F&& f) {
    if (!ids.is_object()) return;
    for (const auto& [k, v] : ids.items()) {
      const std::string text = tk::id_text(v);
      if (!text.empty()) f(k + ":" + text);
    }
  }

  std::optional<std::size_t> find_in(const std::unordered_map<std::string, std::size_t>& ix,
                                     const json& ids) const {
    std::optional<std::size_t> hit;
    for_ids(ids, [&](const std::string& key) {
      if (hit) return;
      auto it = ix.find(key);
      if (it != ix.end()) hit = it->second;
    });
    return hit;
  }

  std::optional<std::size_t> find_by_title(const json& list, const json& item) const {
    if (!item.contains("title")) return std::nullopt;
    const std::string title = item.value("title", "");
    const std::string year = tk::id_text(item.value("year", json()));
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i].value("title", "") == title &&
          (year.empty() || tk::id_text(list[i].value("year", json())) == year)) {
        return i;
      }
    }
    return std::nullopt;
  }

  std::size_t add_movie(const json& obj) {
    const json ids = obj.value("ids", json::object());
    if (auto hit = find_in(m_movie_ix, ids)) return *hit;
    m_movies.push_back(obj);
    const std::size_t ix = m_movies.size() - 1;
    for_ids(ids, [&](const std::string& key) { m_movie_ix.emplace(key, ix); });
    bump_trakt(ids.value("trakt", std::int64_t{0}));
    return ix;
  }

  std::size_t add_show(const json& obj) {
    const json ids = obj.value("ids", json::object());
    std::size_t ix = 0;
    if (auto hit = find_in(m_show_ix, ids)) {
      ix = *hit;
    } else {
      json copy = obj;
      copy.erase("seasons");
      copy["seasons"] = json::array();
      m_shows.push_back(copy);
      ix = m_shows.size() - 1;
      for_ids(ids, [&](const std::string& key) { m_show_ix.emplace(key, ix); });
      bump_trakt(ids.value("trakt", std::int64_t{0}));
    }
    for (const auto& season : tk::array_or_empty(obj, "seasons")) {
      const std::size_t s = add_season(ix, season);
      for (const auto& ep : tk::array_or_empty(season, "episodes")) {
        json e = ep;
        if (!e.contains("season")) e["season"] = m_shows[ix]["seasons"][s].value("number", 0);
        add_episode(ix, e);
      }
    }
    return ix;
  }

  std::size_t add_season(std::size_t show, const json& season) {
    json& seasons = m_shows[show]["seasons"];
    const int number = season.value("number", 0);
    for (std::size_t i = 0; i < seasons.size(); ++i) {
      if (seasons[i].value("number", -1) == number) return i;
    }
    json copy = season;
    copy.erase("episodes");
    if (!copy.contains("ids")) copy["ids"] = json::object();
    copy["episodes"] = json::array();
    seasons.push_back(copy);
    const std::size_t ix = seasons.size() - 1;
    for_ids(copy["ids"], [&](const std::string& key) {
      m_season_ix.emplace(key, std::pair{show, ix});
    });
    return ix;
  }

  void add_episode(std::size_t show, const json& ep) {
    json season_stub = {{"number", ep.value("season", 0)}};
    const std::size_t s = add_season(show, season_stub);
    json& episodes = m_shows[show]["seasons"][s]["episodes"];
    const int number = ep.value("number", 0);
    for (const auto& e : episodes) {
      if (e.value("number", -1) == number) return;
    }
    episodes.push_back(ep);
    const std::size_t ix = episodes.size() - 1;
    for_ids(ep.value("ids", json::object()), [&](const std::string& key) {
      m_episode_ix.emplace(key, std::tuple{show, s, ix});
    });
    bump_trakt(ep.value("ids", json::object()).value("trakt", std::int64_t{0}));
  }

  void catalog_row(const json& row) {
    const std::string type = row.value("type", "");
    if (type == "movie" && row.contains("movie")) add_movie(row["movie"]);
    if (!row.contains("show")) return;
    const std::size_t show = add_show(row["show"]);
    if (type == "season" && row.contains("season")) add_season(show, row["season"]);
    if (type == "episode" && row.contains("episode")) add_episode(show, row["episode"]);
  }

  json show_view(std::size_t show) const {
    json s = m_shows[show];
    s.erase("seasons");
    return s;
  }

  json season_view(std::size_t show, std::size_t season) const {
    json s = m_shows[show]["seasons"][season];
    s.erase("episodes");
    return s;
  }

  std::optional<std::size_t> resolve_movie(const json& item) {
    const json ids = item.value("ids", json::object());
    if (auto hit = find_in(m_movie_ix, ids)) return hit;
    if (ids.empty() || !ids.is_object()) return find_by_title(m_movies, item);
    if (!m_opt.accept_unknown_ids) return std::nullopt;
    json obj = {{"title", item.value("title", "Unknown")},
                {"year", item.value("year", json())},
                {"ids", ids}};
    obj["ids"]["trakt"] = m_next_trakt_id++;
    return add_movie(obj);
  }

  std::optional<std::size_t> resolve_show(const json& item) {
    const json ids = item.value("ids", json::object());
    if (auto hit = find_in(m_show_ix, ids)) return hit;
    if (ids.empty() || !ids.is_object()) return find_by_title(m_shows, item);
    if (!m_opt.accept_unknown_ids) return std::nullopt;
    json obj = {{"title", item.value("title", "Unknown")},
                {"year", item.value("year", json())},
                {"ids", ids}};
    obj["ids"]["trakt"] = m_next_trakt_id++;
    return add_show(obj);
  }

  Target episode_target(std::size_t show, std::size_t season, std::size_t ep,
                        const json& attrs) const {
    return Target{"episode", m_shows[show]["seasons"][season]["episodes"][ep], show_view(show),
                  attrs};
  }

  // Resolves a Trakt write body. With `expand`, shows and seasons become their episodes
  // (history, collection); otherwise they stay shows and seasons (watchlist, ratings, lists).
  Resolved resolve(const json& body, bool expand) {
    Resolved r;
    for (const auto& item : tk::array_or_empty(body, "movies")) {
      auto ix = resolve_movie(item);
      if (!ix) {
        r.not_found["movies"].push_back(item);
        continue;
      }
      r.targets.push_back(Target{"movie", m_movies[*ix], json(), attrs_of(item, json())});
    }
    for (const auto& item : tk::array_or_empty(body, "shows")) {
      auto sx = resolve_show(item);
      if (!sx) {
        r.not_found["shows"].push_back(item);
        continue;
      }
      const std::size_t show = *sx;
      const json show_attrs = attrs_of(item, json());
      const json seasons_req = tk::array_or_empty(item, "seasons");
      if (seasons_req.empty()) {
        if (expand) {
          const json& seasons = m_shows[show]["seasons"];
          for (std::size_t s = 0; s < seasons.size(); ++s) {
            for (std::size_t e = 0; e < seasons[s]["episodes"].size(); ++e) {
              r.targets.push_back(episode_target(show, s, e, show_attrs));
            }
          }
        } else {
          r.targets.push_back(Target{"show", m_shows[show], json(), show_attrs});
        }
        continue;
      }
      json missing = json::array();
      for (const auto& season_req : seasons_req) {
        const int number = season_req.value("number", -1);
        const json& seasons = m_shows[show]["seasons"];
        std::optional<std::size_t> sidx;
        for (std::size_t s = 0; s < seasons.size(); ++s) {
          if (seasons[s].value("number", -2) == number) sidx = s;
        }
        if (!sidx) {
          missing.push_back(season_req);
          continue;
        }
        const json season_attrs = attrs_of(season_req, show_attrs);
        const json eps_req = tk::array_or_empty(season_req, "episodes");
        const json& episodes = seasons[*sidx]["episodes"];
        if (eps_req.empty()) {
          if (expand) {
            for (std::size_t e = 0; e < episodes.size(); ++e) {
              r.targets.push_back(episode_target(show, *sidx, e, season_attrs));
            }
          } else {
            r.targets.push_back(
                Target{"season", season_view(show, *sidx), show_view(show), season_attrs});
          }
          continue;
        }
        json missing_eps = json::array();
        for (const auto& ep_req : eps_req) {
          const int en = ep_req.value("number", -1);
          bool found = false;
          for (std::size_t e = 0; e < episodes.size(); ++e) {
            if (episodes[e].value("number", -2) == en) {
              r.targets.push_back(episode_target(show, *sidx, e, attrs_of(ep_req, season_attrs)));
              found = true;
              break;
            }
          }
          if (!found) missing_eps.push_back(ep_req);
        }
        if (!missing_eps.empty()) {
          json s = season_req;
          s["episodes"] = missing_eps;
          missing.push_back(s);
        }
      }
      if (!missing.empty()) {
        json s = item;
        s["seasons"] = missing;
        r.not_found["shows"].push_back(s);
      }
    }
    for (const auto& item : tk::array_or_empty(body, "seasons")) {
      std::optional<std::pair<std::size_t, std::size_t>> hit;
      for_ids(item.value("ids", json::object()), [&](const std::string& key) {
        if (hit) return;
        auto it = m_season_ix.find(key);
        if (it != m_season_ix.end()) hit = it->second;
      });
      if (!hit) {
        r.not_found["seasons"].push_back(item);
        continue;
      }
      const json attrs = attrs_of(item, json());
      if (expand) {
        const json& episodes = m_shows[hit->first]["seasons"][hit->second]["episodes"];
        for (std::size_t e = 0; e < episodes.size(); ++e) {
          r.targets.push_back(episode_target(hit->first, hit->second, e, attrs));
        }
      } else {
        r.targets.push_back(
            Target{"season", season_view(hit->first, hit->second), show_view(hit->first), attrs});
      }
    }
    for (const auto& item : tk::array_or_empty(body, "episodes")) {
      std::optional<std::tuple<std::size_t, std::size_t, std::size_t>> hit;
      for_ids(item.value("ids", json::object()), [&](const std::string& key) {
        if (hit) return;
        auto it = m_episode_ix.find(key);
        if (it != m_episode_ix.end()) hit = it->second;
      });
      if (!hit) {
        r.not_found["episodes"].push_back(item);
        continue;
      }
      const auto [show, season, ep] = *hit;
      r.targets.push_back(episode_target(show, season, ep, attrs_of(item, json())));
    }
    return r;
  }

  static bool row_is(const json& row, const Target& t) {
    if (row.value("type", "") != t.kind) return false;
    auto it = row.find(t.kind);
    if (it == row.end()) return false;
    if (tk::ids_match(it->value("ids", json::object()), t.obj.value("ids", json::object()))) {
      return true;
    }
    if (t.kind == "episode" || t.kind == "season") {
      auto show = row.find("show");
      if (show == row.end()) return false;
      if (!tk::ids_match(show->value("ids", json::object()), t.show.value("ids", json::object()))) {
        return false;
      }
      if (t.kind == "season") return it->value("number", -1) == t.obj.value("number", -2);
      return it->value("season", -1) == t.obj.value("season", -2) &&
             it->value("number", -1) == t.obj.value("number", -2);
    }
    return false;
  }

  json make_row(const Target& t) const {
    json row = {{"type", t.kind}, {t.kind, t.obj}};
    if (t.kind == "season" || t.kind == "episode") row["show"] = t.show;
    return row;
  }

  // ---------- activities ----------
  std::string stamp() {
    return tk::iso_utc(m_clock.next(m_ctx ? m_ctx->now_ms() : tk::now_ms()), true);
  }

  void touch(std::initializer_list<std::pair<const char*, const char*>> fields) {
    if (m_opt.freeze_activities) return;
    const std::string t = stamp();
    for (const auto& [section, field] : fields) m_activities[section][field] = t;
    m_activities["all"] = t;
  }

  void touch_kind(const std::string& kind, const char* field) {
    const std::string section = kind + "s";
    if (m_opt.freeze_activities) return;
    const std::string t = stamp();
    m_activities[section][field] = t;
    m_activities["all"] = t;
  }

  // ---------- auth ----------
  enum class Level { key, user };

  bool authorize(const Req& req, Res& res, Level level) {
    if (m_opt.require_api_version && req.get_header_value("trakt-api-version") != "2") {
      res.status = 400;
      return false;
    }
    if (req.get_header_value("trakt-api-key") != m_client_id) {
      res.status = 403;
      return false;
    }
    if ((req.method == "POST" || req.method == "PUT") && !req.body.empty() &&
        req.get_header_value("Content-Type").find("json") == std::string::npos) {
      res.status = 412;
      return false;
    }
    if (level == Level::key) {
      note_rate(req, res);
      return true;
    }
    const std::string token = bearer_token(req);
    bool ok = m_ctx->token_valid(req, token);
    if (ok) {
      auto it = m_token_expiry.find(token);
      if (it != m_token_expiry.end() && m_ctx->now_ms() >= it->second) ok = false;
    }
    if (!ok) {
      fault_response(401, req, res);
      return false;
    }
    note_rate(req, res);
    return true;
  }

  // ---------- paging ----------
  struct PageArgs {
    std::size_t page = 1;
    std::size_t limit = 10;
  };

  PageArgs page_args(const Req& req) const {
    PageArgs p;
    const bool has_page = req.has_param("page");
    const bool has_limit = req.has_param("limit");
    long long page = param_int(req, "page", 1);
    long long limit =
        has_limit ? param_int(req, "limit", 10) : (has_page ? 10 : m_opt.unpaged_limit);
    if (page < 1) page = 1;
    if (limit < 1) limit = 1;
    if (limit > m_opt.max_limit) limit = m_opt.max_limit;
    p.page = static_cast<std::size_t>(page);
    p.limit = static_cast<std::size_t>(limit);
    return p;
  }

  // Serves one page of `rows` with Trakt's X-Pagination-* headers.
  template <typename Rows, typename View>
  void send_page(const Req& req, Res& res, const Rows& rows, View&& view) const {
    const PageArgs p = page_args(req);
    const std::size_t total = rows.size();
    const Page pg = m_ctx->page(req, total, (p.page - 1) * p.limit, p.limit);
    json out = json::array();
    for (std::size_t i = pg.start; i < pg.end(); ++i) out.push_back(view(rows[i]));
    res.set_header("X-Pagination-Page", std::to_string(p.page));
    res.set_header("X-Pagination-Limit", std::to_string(p.limit));
    if (!m_opt.omit_page_count) {
      res.set_header("X-Pagination-Page-Count", std::to_string((total + p.limit - 1) / p.limit));
    }
    res.set_header("X-Pagination-Item-Count", std::to_string(total));
    send_json(res, out, 200);
  }

  // ---------- history ----------
  // Newest play first, as Trakt lists history.
  static bool history_order(const HistRow& a, const HistRow& b) {
    return a.at != b.at ? a.at > b.at : a.id > b.id;
  }

  void insert_history(HistRow h) {
    auto pos = std::upper_bound(m_history.begin(), m_history.end(), h, history_order);
    m_history.insert(pos, std::move(h));
  }

  std::int64_t watched_ms(const Target& t, std::int64_t now) const {
    const json w = t.attrs.value("watched_at", json());
    if (w.is_string()) {
      const std::string s = w.get<std::string>();
      if (s == "released") {
        const std::string rel = tk::str(t.obj, "released").empty() ? tk::str(t.obj, "first_aired")
                                                                   : tk::str(t.obj, "released");
        if (auto ms = tk::parse_iso(rel)) return *ms;
        return now;
      }
      if (auto ms = tk::parse_iso(s)) return *ms;
    }
    return now;
  }

  // ---------- lists ----------
  json list_view(const ListState& l) const {
    json out = l.list;
    out["item_count"] = l.items.size();
    return out;
  }

  ListState* find_list(const std::string& id) {
    for (auto& l : m_lists) {
      const json ids = l.list.value("ids", json::object());
      if (tk::id_text(ids.value("trakt", json())) == id ||
          tk::id_text(ids.value("slug", json())) == id) {
        return &l;
      }
    }
    return nullptr;
  }

  bool is_me(const std::string& user) const {
    if (user == "me") return true;
    const json u = m_settings.value("user", json::object());
    return user == u.value("username", "") ||
           user == u.value("ids", json::object()).value("slug", "");
  }

  // Adds/removes the resolved items of `body` to/from `rows` (watchlist or a personal list).
  json list_write(const json& body, std::vector<json>& rows, bool remove) {
    Resolved r = resolve(body, false);
    json counts = empty_buckets(false);
    json existing = empty_buckets(false);
    const std::string now = stamp();
    for (const auto& t : r.targets) {
      const std::string bucket = t.kind + "s";
      auto it =
          std::find_if(rows.begin(), rows.end(), [&](const json& row) { return row_is(row, t); });
      if (remove) {
        if (it != rows.end()) {
          rows.erase(it);
          counts[bucket] = counts[bucket].get<int>() + 1;
        }
        continue;
      }
      if (it != rows.end()) {
        existing[bucket] = existing[bucket].get<int>() + 1;
        continue;
      }
      json row = make_row(t);
      row["rank"] = rows.size() + 1;
      row["id"] = m_next_id++;
      row["listed_at"] = t.attrs.value("listed_at", now);
      row["notes"] = t.attrs.value("notes", json());
      rows.push_back(std::move(row));
      counts[bucket] = counts[bucket].get<int>() + 1;
    }
    if (remove) {
      for (std::size_t i = 0; i < rows.size(); ++i) rows[i]["rank"] = i + 1;
      return {{"deleted", counts}, {"not_found", r.not_found}};
    }
    return {{"added", counts}, {"existing", existing}, {"not_found", r.not_found}};
  }

  // True when adding the new items of `body` would take `rows` past `cap` (Trakt then refuses the
  // whole request with 420 and adds nothing).
  bool would_exceed(const json& body, const std::vector<json>& rows, int cap) {
    const Resolved r = resolve(body, false);
    std::size_t fresh = 0;
    for (const auto& t : r.targets) {
      if (std::none_of(rows.begin(), rows.end(), [&](const json& row) { return row_is(row, t); })) {
        ++fresh;
      }
    }
    return fresh > 0 && rows.size() + fresh > static_cast<std::size_t>(std::max(cap, 0));
  }

  // Issues a fresh access/refresh pair. The previous access token stays valid until it expires
  // (clients that built their headers at start-up keep working); the refresh token is single use.
  json issue_tokens() {
    const std::int64_t now = m_ctx->now_ms();
    m_access_token = tk::make_token("", ++m_token_serial);
    m_refresh_token = tk::make_token("", ++m_token_serial);
    m_ctx->add_valid_token(m_access_token);
    m_token_expiry[m_access_token] = now + m_token_ttl_s * 1000;
    return {
        {"access_token", m_access_token},   {"token_type", "bearer"}, {"expires_in", m_token_ttl_s},
        {"refresh_token", m_refresh_token}, {"scope", "public"},      {"created_at", now / 1000}};
  }

  // ---------- full views ----------
  // First-aired stamp of catalog episode (show, season, ep): stored, else derived from the year.
  json first_aired(std::size_t show, std::size_t season, std::size_t ep) const {
    const json& e = m_shows[show]["seasons"][season]["episodes"][ep];
    if (auto it = e.find("first_aired"); it != e.end() && it->is_string()) return *it;
    return derived_first_aired(m_shows[show], m_shows[show]["seasons"][season].value("number", 0),
                               e.value("number", 0));
  }

  // Aired on the sandbox clock; an episode without any date counts as aired.
  bool has_aired(std::size_t show, std::size_t season, std::size_t ep) const {
    const json at = first_aired(show, season, ep);
    if (!at.is_string()) return true;
    return tk::parse_iso(at.get<std::string>()).value_or(0) <= m_ctx->now_ms();
  }

  int aired_in_season(std::size_t show, std::size_t season) const {
    int n = 0;
    const json& eps = m_shows[show]["seasons"][season]["episodes"];
    for (std::size_t e = 0; e < eps.size(); ++e) n += has_aired(show, season, e) ? 1 : 0;
    return n;
  }

  // Specials (season 0) do not count towards a show's aired episodes.
  int aired_in_show(std::size_t show) const {
    int n = 0;
    const json& seasons = m_shows[show]["seasons"];
    for (std::size_t s = 0; s < seasons.size(); ++s) {
      if (seasons[s].value("number", 0) != 0) n += aired_in_season(show, s);
    }
    return n;
  }

  std::optional<std::size_t> season_index(std::size_t show, int number) const {
    const json& seasons = m_shows[show]["seasons"];
    for (std::size_t s = 0; s < seasons.size(); ++s) {
      if (seasons[s].value("number", -1) == number) return s;
    }
    return std::nullopt;
  }

  using EpisodeRef = std::tuple<std::size_t, std::size_t, std::size_t>;

  // The catalog episode a row's episode object names: by its ids, else by the show and numbers.
  std::optional<EpisodeRef> locate_episode(const json& ep, const json& show) const {
    std::optional<EpisodeRef> hit;
    for_ids(ep.is_object() ? ep.value("ids", json::object()) : json::object(),
            [&](const std::string& key) {
              if (hit) return;
              auto it = m_episode_ix.find(key);
              if (it != m_episode_ix.end()) hit = it->second;
            });
    if (hit || !show.is_object() || !ep.is_object()) return hit;
    auto sx = find_in(m_show_ix, show.value("ids", json::object()));
    if (!sx) return std::nullopt;
    auto season = season_index(*sx, ep.value("season", -1));
    if (!season) return std::nullopt;
    const json& eps = m_shows[*sx]["seasons"][*season]["episodes"];
    for (std::size_t e = 0; e < eps.size(); ++e) {
      if (eps[e].value("number", -1) == ep.value("number", -2)) return EpisodeRef{*sx, *season, e};
    }
    return std::nullopt;
  }

  // A media object as reads print it: minimal, or with extended=full the catalog's current object
  // (rows keep a copy from the time of the write) with every full field.
  json view(const std::string& kind, const json& obj, bool full, const json& show = json()) const {
    if (!full || !obj.is_object()) return media_view(kind, obj, false);
    const json ids = obj.contains("ids") && obj["ids"].is_object() ? obj["ids"] : json::object();
    json out = obj;
    if (kind == "movie") {
      if (auto ix = find_in(m_movie_ix, ids)) out = m_movies[*ix];
    } else if (kind == "show") {
      if (auto ix = find_in(m_show_ix, ids)) {
        out = show_view(*ix);
        out["aired_episodes"] = aired_in_show(*ix);
      }
    } else if (kind == "season") {
      std::optional<std::pair<std::size_t, std::size_t>> hit;
      for_ids(ids, [&](const std::string& key) {
        auto it = m_season_ix.find(key);
        if (!hit && it != m_season_ix.end()) hit = it->second;
      });
      if (!hit && show.is_object()) {
        if (auto sx = find_in(m_show_ix, show.value("ids", json::object()))) {
          if (auto season = season_index(*sx, obj.value("number", -1))) hit = {*sx, *season};
        }
      }
      if (hit) {
        out = season_view(hit->first, hit->second);
        out["episode_count"] = m_shows[hit->first]["seasons"][hit->second]["episodes"].size();
        out["aired_episodes"] = aired_in_season(hit->first, hit->second);
        if (!m_shows[hit->first]["seasons"][hit->second]["episodes"].empty()) {
          out["first_aired"] = first_aired(hit->first, hit->second, 0);
        }
      }
    } else if (kind == "episode") {
      if (auto ref = locate_episode(obj, show)) {
        const auto [sx, season, e] = *ref;
        out = m_shows[sx]["seasons"][season]["episodes"][e];
        out["first_aired"] = first_aired(sx, season, e);
      }
    }
    out.erase("seasons");
    out.erase("episodes");
    return with_full_defaults(kind, std::move(out));
  }

  json row_out(const json& row, bool full) const {
    if (!full) return row_view(row, false);
    json out = row;
    const json show = row.contains("show") ? row["show"] : json();
    for (const char* kind : {"movie", "show", "season", "episode"}) {
      auto it = out.find(kind);
      if (it != out.end()) *it = view(kind, *it, true, show);
    }
    return out;
  }

  // ---------- rate-limit telemetry ----------
  // X-Ratelimit on every authenticated answer: the limit this request counts against, with
  // what remains of the current window (writes share one window, as Trakt's POST limit does).
  void note_rate(const Req& req, Res& res) {
    const bool read = req.method == "GET";
    const std::int64_t now = m_ctx->now_ms();
    const std::int64_t period_ms = read ? 300000 : 1000;
    const int limit = read ? m_opt.get_limit : 1;
    RateWindow& w = read ? m_get_window : m_post_window;
    if (now >= w.start_ms + period_ms) {
      w.start_ms = now;
      w.used = 0;
    }
    ++w.used;
    const json header = {{"name", read ? "AUTHED_API_GET_LIMIT" : "AUTHED_API_POST_LIMIT"},
                         {"period", period_ms / 1000},
                         {"limit", limit},
                         {"remaining", std::max(0, limit - w.used)},
                         {"until", tk::iso_utc(w.start_ms + period_ms, false)}};
    res.set_header("X-Ratelimit", header.dump());
  }

  // 420 with the headers Trakt documents for account limits (the body is empty).
  void account_limit(Res& res, int limit) const {
    const json user = m_settings.value("user", json::object());
    const bool vip = user.is_object() && user.contains("vip") && user["vip"].is_boolean() &&
                     user["vip"].get<bool>();
    res.status = 420;
    res.set_header("X-Upgrade-URL", "https://trakt.tv/vip");
    res.set_header("X-VIP-User", vip ? "true" : "false");
    res.set_header("X-Account-Limit", std::to_string(limit));
  }

  // The item cap of `section` in /users/settings limits (none when absent).
  std::optional<int> settings_limit(const char* section) const {
    const json limits = m_settings.value("limits", json::object());
    if (!limits.is_object() || !limits.contains(section) || !limits[section].is_object()) {
      return std::nullopt;
    }
    const json& cap = limits[section];
    if (!cap.contains("item_count") || !cap["item_count"].is_number_integer()) return std::nullopt;
    return cap["item_count"].get<int>();
  }

  // ---------- handlers ----------
  void get_watchlist(const Req& req, Res& res, std::string type, std::string sort_by,
                     std::string sort_how);
  void post_watchlist(const Req& req, Res& res, bool remove);
  void get_history(const Req& req, Res& res, const std::string& type, const std::string& id);
  void post_history(const Req& req, Res& res);
  void post_history_remove(const Req& req, Res& res);
  void get_ratings(const Req& req, Res& res, std::string type, const std::string& filter);
  void post_ratings(const Req& req, Res& res, bool remove);
  void get_playback(const Req& req, Res& res);
  void delete_playback(const Req& req, Res& res);
  void post_scrobble(const Req& req, Res& res, const std::string& action);
  void get_collection(const Req& req, Res& res);
  void post_collection(const Req& req, Res& res, bool remove);
  void get_watched(const Req& req, Res& res, const std::string& type);
  void get_progress(const Req& req, Res& res, const std::string& id);
  void search_by_id(const Req& req, Res& res);
  void search_text(const Req& req, Res& res, const std::string& types);
  std::optional<std::size_t> find_show_any(const std::string& id) const;
  std::optional<std::size_t> find_movie_any(const std::string& id) const;
  void user_routes(httplib::Server& srv);
  void lists_routes(httplib::Server& srv);
  void oauth_routes(httplib::Server& srv);
  void lookup_routes(httplib::Server& srv);

  mutable std::mutex m_mutex;
  Context* m_ctx = nullptr;
  Options m_opt;
  json m_movies, m_shows;
  std::unordered_map<std::string, std::size_t> m_movie_ix, m_show_ix;
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> m_season_ix;
  std::unordered_map<std::string, std::tuple<std::size_t, std::size_t, std::size_t>> m_episode_ix;
  std::vector<json> m_watchlist, m_ratings, m_playback, m_collection, m_dropped;
  std::vector<HistRow> m_history;
  std::vector<ListState> m_lists;
  std::map<std::string, DeviceCode> m_devices;
  std::vector<std::string> m_auth_codes;
  std::unordered_map<std::string, std::int64_t> m_token_expiry;
  json m_settings, m_activities;
  std::int64_t m_next_id = 1;
  std::int64_t m_next_trakt_id = 1;
  std::int64_t m_watchlist_version = 1;
  std::string m_client_id, m_client_secret, m_access_token, m_refresh_token;
  std::int64_t m_token_ttl_s = 0;
  std::uint64_t m_token_serial = 0;
  RateWindow m_get_window, m_post_window;
  tk::StampClock m_clock{1000};
};

// ---------- watchlist ----------
// Sorts watchlist or list rows by one of Trakt's sort keys; keys the fake has no data for
// (popularity, percentage, votes) leave the rank order.
void sort_rows(std::vector<const json*>& rows, const std::string& by, const std::string& how) {
  auto media = [](const json* r) -> const json& {
    const std::string k = r->value("type", "");
    if (k != "movie" && r->contains("show")) return (*r)["show"];
    static const json k_empty = json::object();
    return r->contains(k) ? (*r)[k] : k_empty;
  };
  auto by_key = [&](auto key) {
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const json* a, const json* b) { return key(a) < key(b); });
  };
  if (by == "added") {
    by_key([](const json* r) { return tk::str(*r, "listed_at"); });
  } else if (by == "title") {
    by_key([&](const json* r) { return tk::str(media(r), "title"); });
  } else if (by == "released") {
    by_key([&](const json* r) {
      const json& m = media(r);
      return m.contains("year") && m["year"].is_number_integer() ? m["year"].get<int>() : 0;
    });
  } else if (by == "runtime") {
    by_key([&](const json* r) {
      const json& m = media(r);
      return m.contains("runtime") && m["runtime"].is_number_integer() ? m["runtime"].get<int>()
                                                                       : 0;
    });
  }
  if (how == "desc") std::reverse(rows.begin(), rows.end());
}

void TraktFake::get_watchlist(const Req& req, Res& res, std::string type, std::string sort_by,
                              std::string sort_how) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  if (type == "all") type.clear();
  if (sort_by.empty()) sort_by = "rank";
  if (sort_how.empty()) sort_how = "asc";
  if (m_opt.etag) {
    const std::string etag = "W/\"wl-" + std::to_string(m_watchlist_version) + "\"";
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
  }
  std::vector<const json*> rows;
  for (const auto& row : m_watchlist) {
    if (type.empty() || row.value("type", "") + "s" == type) rows.push_back(&row);
  }
  sort_rows(rows, sort_by, sort_how);
  // X-Sort-* carry the user's own preference, X-Applied-Sort-* the order of this answer.
  res.set_header("X-Sort-By", m_opt.watchlist_sort_by);
  res.set_header("X-Sort-How", m_opt.watchlist_sort_how);
  res.set_header("X-Applied-Sort-By", sort_by);
  res.set_header("X-Applied-Sort-How", sort_how);
  const bool full = wants_full(req);
  send_page(req, res, rows, [&](const json* r) { return row_out(*r, full); });
}

void TraktFake::post_watchlist(const Req& req, Res& res, bool remove) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    res.status = 400;
    return;
  }
  if (!remove) {
    if (auto cap = settings_limit("watchlist"); cap && would_exceed(*body, m_watchlist, *cap)) {
      account_limit(res, *cap);
      return;
    }
  }
  json out = list_write(*body, m_watchlist, remove);
  ++m_watchlist_version;
  const std::string t = stamp();
  if (!m_opt.freeze_activities) {
    for (const char* b : k_buckets) {
      const json& counts = out[remove ? "deleted" : "added"];
      if (counts.value(b, 0) > 0) m_activities[b]["watchlisted_at"] = t;
    }
    m_activities["watchlist"]["updated_at"] = t;
    m_activities["all"] = t;
  }
  out["list"] = {{"updated_at", t}, {"item_count", m_watchlist.size()}};
  send_json(res, out, remove ? 200 : 201);
}

// ---------- history ----------
void TraktFake::get_history(const Req& req, Res& res, const std::string& type,
                            const std::string& id) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  std::optional<std::int64_t> start, end;
  if (req.has_param("start_at")) start = tk::parse_iso(req.get_param_value("start_at"));
  if (req.has_param("end_at")) end = tk::parse_iso(req.get_param_value("end_at"));
  std::vector<const HistRow*> rows;
  rows.reserve(m_history.size());
  for (const auto& h : m_history) {
    if (start && h.at < *start) continue;
    if (end && h.at > *end) continue;
    if (!type.empty()) {
      const std::string kind = h.row.value("type", "");
      if (type == "movies" && kind != "movie") continue;
      if (type != "movies" && kind != "episode") continue;
      if (!id.empty()) {
        const char* key = type == "movies" ? "movie" : type == "shows" ? "show" : "episode";
        if (type == "seasons") continue;  // season ids are not kept on history rows
        if (tk::id_text(h.row[key]["ids"].value("trakt", json())) != id) continue;
      }
    }
    rows.push_back(&h);
  }
  const bool full = wants_full(req);
  send_page(req, res, rows, [&](const HistRow* h) { return row_out(h->row, full); });
}

void TraktFake::post_history(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    res.status = 400;
    return;
  }
  Resolved r = resolve(*body, true);
  const std::int64_t now = m_ctx->now_ms();
  struct Play {
    const Target* t;
    std::int64_t at;
    bool duplicate;
  };
  std::vector<Play> plays;
  for (const auto& t : r.targets) {
    // Trakt keeps minute precision: seconds and milliseconds are dropped.
    const std::int64_t at = watched_ms(t, now) / 60000 * 60000;
    bool dup = false;
    if (m_opt.history_duplicates != "add") {
      for (const auto& h : m_history) {
        if (h.at == at && row_is(h.row, t)) {
          dup = true;
          break;
        }
      }
    }
    plays.push_back(Play{&t, at, dup});
  }
  if (m_opt.history_duplicates == "conflict" &&
      std::any_of(plays.begin(), plays.end(), [](const Play& p) { return p.duplicate; })) {
    res.status = 409;
    return;
  }
  json added = {{"movies", 0}, {"episodes", 0}};
  json updated = {{"movies", 0}, {"episodes", 0}};
  for (const auto& p : plays) {
    const std::string bucket = p.t->kind + "s";
    if (p.duplicate) {
      updated[bucket] = updated[bucket].get<int>() + 1;
      continue;
    }
    json row = make_row(*p.t);
    row["id"] = m_next_id;
    row["watched_at"] = tk::iso_utc(p.at, true);
    row["action"] = "watch";
    insert_history(HistRow{p.at, m_next_id, std::move(row)});
    ++m_next_id;
    added[bucket] = added[bucket].get<int>() + 1;
  }
  if (added["movies"].get<int>() > 0) touch({{"movies", "watched_at"}});
  if (added["episodes"].get<int>() > 0) touch({{"episodes", "watched_at"}});
  // The live reply (2025) names every bucket Trakt resolves, people and users included; the
  // Apiary-era reply had neither "updated" nor "users".
  json nf = r.not_found;
  nf["people"] = json::array();
  if (!m_opt.legacy_history_reply) nf["users"] = json::array();
  json out = {{"added", added}, {"not_found", nf}};
  if (!m_opt.legacy_history_reply) out["updated"] = updated;
  send_json(res, out, m_opt.history_add_status);
}

void TraktFake::post_history_remove(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    res.status = 400;
    return;
  }
  json deleted = {{"movies", 0}, {"episodes", 0}};
  auto count = [&](const HistRow& h) {
    const std::string bucket = h.row.value("type", "") + "s";
    if (deleted.contains(bucket)) deleted[bucket] = deleted[bucket].get<int>() + 1;
  };
  json missing_ids = json::array();
  for (const auto& idv : tk::array_or_empty(*body, "ids")) {
    const std::string id = tk::id_text(idv);
    auto it = std::find_if(m_history.begin(), m_history.end(),
                           [&](const HistRow& h) { return std::to_string(h.id) == id; });
    if (it == m_history.end()) {
      missing_ids.push_back(idv);
      continue;
    }
    count(*it);
    m_history.erase(it);
  }
  Resolved r = resolve(*body, true);
  for (const auto& t : r.targets) {
    // Coordinates name an item, not a play: every play of it goes.
    std::erase_if(m_history, [&](const HistRow& h) {
      if (!row_is(h.row, t)) return false;
      count(h);
      return true;
    });
  }
  json nf = r.not_found;
  nf["ids"] = missing_ids;
  if (deleted["movies"].get<int>() > 0) touch({{"movies", "watched_at"}});
  if (deleted["episodes"].get<int>() > 0) touch({{"episodes", "watched_at"}});
  send_json(res, {{"deleted", deleted}, {"not_found", nf}}, 200);
}

// ---------- ratings ----------
void TraktFake::get_ratings(const Req& req, Res& res, std::string type, const std::string& filter) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  if (type == "all") type.clear();
  std::vector<int> wanted;
  for (std::size_t pos = 0; pos < filter.size();) {
    const std::size_t comma = filter.find(',', pos);
    wanted.push_back(std::atoi(filter.substr(pos, comma - pos).c_str()));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::vector<const json*> rows;
  for (const auto& row : m_ratings) {
    if (!type.empty() && row.value("type", "") + "s" != type) continue;
    if (!wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), row.value("rating", 0)) == wanted.end()) {
      continue;
    }
    rows.push_back(&row);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json* a, const json* b) {
    return tk::str(*a, "rated_at") > tk::str(*b, "rated_at");
  });
  const bool full = wants_full(req);
  send_page(req, res, rows, [&](const json* r) { return row_out(*r, full); });
}

void TraktFake::post_ratings(const Req& req, Res& res, bool remove) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    res.status = 400;
    return;
  }
  Resolved r = resolve(*body, false);
  json counts = empty_buckets(false);
  const std::string now = stamp();
  for (const auto& t : r.targets) {
    const std::string bucket = t.kind + "s";
    auto it = std::find_if(m_ratings.begin(), m_ratings.end(),
                           [&](const json& row) { return row_is(row, t); });
    if (remove) {
      if (it != m_ratings.end()) {
        m_ratings.erase(it);
        counts[bucket] = counts[bucket].get<int>() + 1;
      }
      continue;
    }
    const json rating = t.attrs.value("rating", json());
    if (!rating.is_number_integer() || rating.get<int>() < 1 || rating.get<int>() > 10) {
      json nf = {{"ids", t.obj.value("ids", json::object())}, {"rating", rating}};
      r.not_found[bucket].push_back(nf);
      continue;
    }
    json row = make_row(t);
    row["rating"] = rating;
    row["rated_at"] = t.attrs.value("rated_at", now);
    if (it != m_ratings.end()) {
      *it = std::move(row);
    } else {
      m_ratings.push_back(std::move(row));
    }
    counts[bucket] = counts[bucket].get<int>() + 1;
  }
  if (!m_opt.freeze_activities) {
    for (const char* b : k_buckets) {
      if (counts.value(b, 0) > 0) touch_kind(singular(b), "rated_at");
    }
  }
  send_json(res, {{remove ? "deleted" : "added", counts}, {"not_found", r.not_found}},
            remove ? 200 : 201);
}

// ---------- playback and scrobble ----------
void TraktFake::get_playback(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  const std::string type = req.matches.size() > 1 ? req.matches[1].str() : "";
  std::optional<std::int64_t> start, end;
  if (req.has_param("start_at")) start = tk::parse_iso(req.get_param_value("start_at"));
  if (req.has_param("end_at")) end = tk::parse_iso(req.get_param_value("end_at"));
  std::vector<const json*> rows;
  for (const auto& row : m_playback) {
    if (!type.empty() && row.value("type", "") + "s" != type) continue;
    const auto at = tk::parse_iso(tk::str(row, "paused_at")).value_or(0);
    if ((start && at < *start) || (end && at > *end)) continue;
    rows.push_back(&row);
  }
  const bool full = wants_full(req);
  send_page(req, res, rows, [&](const json* r) { return row_out(*r, full); });
}

void TraktFake::delete_playback(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  const std::string id = req.matches[1].str();
  auto it = std::find_if(m_playback.begin(), m_playback.end(), [&](const json& row) {
    return tk::id_text(row.value("id", json())) == id;
  });
  if (it == m_playback.end()) {
    res.status = 404;
    return;
  }
  const std::string kind = it->value("type", "movie");
  m_playback.erase(it);
  touch_kind(kind, "paused_at");
  res.status = 204;
}

void TraktFake::post_scrobble(const Req& req, Res& res, const std::string& action) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object() || !(*body)["progress"].is_number()) {
    res.status = 400;
    return;
  }
  const double progress = (*body)["progress"].get<double>();
  if (progress < 0 || progress > 100) {
    res.status = 422;
    return;
  }
  json query;
  if (body->contains("movie")) {
    query["movies"] = json::array({(*body)["movie"]});
  } else if (body->contains("episode")) {
    const json& ep = (*body)["episode"];
    if (body->contains("show") && ep.contains("season") && ep.contains("number")) {
      json show = (*body)["show"];
      show["seasons"] = json::array(
          {{{"number", ep["season"]}, {"episodes", json::array({{{"number", ep["number"]}}})}}});
      query["shows"] = json::array({show});
    } else {
      query["episodes"] = json::array({ep});
    }
  }
  Resolved r = resolve(query, false);
  if (r.targets.size() != 1) {
    res.status = 404;
    return;
  }
  const Target& t = r.targets.front();
  auto existing = std::find_if(m_playback.begin(), m_playback.end(),
                               [&](const json& row) { return row_is(row, t); });
  std::string done = action;
  std::int64_t id = 0;
  if (action == "stop" && progress >= 80) {
    // Trakt refuses a second scrobble of an item within its runtime (409, with when the
    // play was made and when the refusal expires); a runtime it does not know counts as
    // an hour.
    const std::int64_t now = m_ctx->now_ms();
    const std::int64_t runtime_min = t.obj.value("runtime", std::int64_t{0});
    const std::int64_t window_ms = runtime_min > 0 ? runtime_min * 60000 : 3600000;
    for (const auto& h : m_history) {
      if (h.at <= now && now - h.at < window_ms && h.row.value("action", "") == "scrobble" &&
          row_is(h.row, t)) {
        send_json(res,
                  {{"watched_at", tk::iso_utc(h.at, true)},
                   {"expires_at", tk::iso_utc(h.at + window_ms, true)}},
                  409);
        return;
      }
    }
    // Trakt turns a stop at 80 % or more into a play and drops the paused entry.
    done = "scrobble";
    if (existing != m_playback.end()) m_playback.erase(existing);
    const std::int64_t at = m_ctx->now_ms() / 60000 * 60000;
    json row = make_row(t);
    id = m_next_id++;
    row["id"] = id;
    row["watched_at"] = tk::iso_utc(at, true);
    row["action"] = "scrobble";
    insert_history(HistRow{at, id, std::move(row)});
    touch_kind(t.kind, "watched_at");
  } else if (action == "pause" || action == "stop") {
    done = "pause";
    json row = make_row(t);
    row["progress"] = progress;
    row["paused_at"] = stamp();
    if (existing != m_playback.end()) {
      id = existing->value("id", std::int64_t{0});
      row["id"] = id;
      *existing = std::move(row);
    } else {
      id = m_next_id++;
      row["id"] = id;
      m_playback.push_back(std::move(row));
    }
    touch_kind(t.kind, "paused_at");
  } else {
    id = m_next_id++;
  }
  json out = {{"id", id},
              {"action", done},
              {"progress", progress},
              {"sharing", {{"twitter", false}, {"facebook", false}, {"tumblr", false}}}};
  out[t.kind] = media_view(t.kind, t.obj, false);
  if (t.kind == "episode") out["show"] = media_view("show", t.show, false);
  send_json(res, out, 201);
}

// ---------- collection ----------
void TraktFake::get_collection(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  const std::string type = req.matches[1].str();
  json out = json::array();
  if (type == "movies") {
    for (const auto& row : m_collection) {
      if (row.value("type", "") != "movie") continue;
      out.push_back({{"collected_at", tk::str(row, "collected_at")},
                     {"updated_at", tk::str(row, "collected_at")},
                     {"movie", media_view("movie", row["movie"], false)}});
    }
  } else {
    std::map<std::string, json> shows;
    std::vector<std::string> order;
    for (const auto& row : m_collection) {
      if (row.value("type", "") != "episode") continue;
      const std::string key = row["show"].value("ids", json::object()).dump();
      if (!shows.count(key)) {
        order.push_back(key);
        shows[key] = {{"last_collected_at", tk::str(row, "collected_at")},
                      {"last_updated_at", tk::str(row, "collected_at")},
                      {"show", media_view("show", row["show"], false)},
                      {"seasons", json::array()}};
      }
      json& show = shows[key];
      const int sn = row["episode"].value("season", 0);
      json* season = nullptr;
      for (auto& s : show["seasons"]) {
        if (s.value("number", -1) == sn) season = &s;
      }
      if (!season) {
        show["seasons"].push_back({{"number", sn}, {"episodes", json::array()}});
        season = &show["seasons"].back();
      }
      (*season)["episodes"].push_back({{"number", row["episode"].value("number", 0)},
                                       {"collected_at", tk::str(row, "collected_at")}});
      if (tk::str(row, "collected_at") > tk::str(show, "last_collected_at")) {
        show["last_collected_at"] = tk::str(row, "collected_at");
        show["last_updated_at"] = tk::str(row, "collected_at");
      }
    }
    for (const auto& k : order) out.push_back(shows[k]);
  }
  send_json(res, out, 200);
}

void TraktFake::post_collection(const Req& req, Res& res, bool remove) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto body = tk::parse_json_body(req);
  if (!body || !body->is_object()) {
    res.status = 400;
    return;
  }
  Resolved r = resolve(*body, true);
  if (auto cap = settings_limit("collection"); cap && !remove) {
    std::size_t fresh = 0;
    for (const auto& t : r.targets) {
      fresh += std::none_of(m_collection.begin(), m_collection.end(),
                            [&](const json& row) { return row_is(row, t); })
                   ? 1
                   : 0;
    }
    if (fresh > 0 && m_collection.size() + fresh > static_cast<std::size_t>(std::max(*cap, 0))) {
      account_limit(res, *cap);
      return;
    }
  }
  json counts = {{"movies", 0}, {"episodes", 0}};
  json existing = counts;
  const std::string now = stamp();
  for (const auto& t : r.targets) {
    const std::string bucket = t.kind + "s";
    auto it = std::find_if(m_collection.begin(), m_collection.end(),
                           [&](const json& row) { return row_is(row, t); });
    if (remove) {
      if (it != m_collection.end()) {
        m_collection.erase(it);
        counts[bucket] = counts[bucket].get<int>() + 1;
      }
      continue;
    }
    if (it != m_collection.end()) {
      existing[bucket] = existing[bucket].get<int>() + 1;
      continue;
    }
    json row = make_row(t);
    row["collected_at"] = t.attrs.value("collected_at", now);
    m_collection.push_back(std::move(row));
    counts[bucket] = counts[bucket].get<int>() + 1;
  }
  touch({{"movies", "collected_at"}, {"episodes", "collected_at"}});
  if (remove) {
    send_json(res, {{"deleted", counts}, {"not_found", r.not_found}}, 200);
  } else {
    send_json(res,
              {{"added", counts},
               {"updated", {{"movies", 0}, {"episodes", 0}}},
               {"existing", existing},
               {"not_found", r.not_found}},
              201);
  }
}

// ---------- personal lists ----------
void TraktFake::lists_routes(httplib::Server& srv) {
  srv.Get(R"(/users/([^/]+)/lists)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    if (!is_me(req.matches[1].str())) {
      res.status = 404;
      return;
    }
    json out = json::array();
    for (const auto& l : m_lists) out.push_back(list_view(l));
    send_json(res, out, 200);
  });
  srv.Post(R"(/users/([^/]+)/lists)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    auto body = tk::parse_json_body(req);
    if (!body || !body->is_object() || !(*body)["name"].is_string()) {
      res.status = 422;
      return;
    }
    const int cap = m_settings.value("limits", json::object())
                        .value("list", json::object())
                        .value("count", 1 << 30);
    if (static_cast<int>(m_lists.size()) >= cap) {
      account_limit(res, cap);
      return;
    }
    const std::string name = (*body)["name"].get<std::string>();
    std::string slug;
    for (char c : name) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!slug.empty() && slug.back() != '-') {
        slug += '-';
      }
    }
    const std::string now = stamp();
    ListState ls;
    ls.list = {{"name", name},
               {"description", body->value("description", "")},
               {"privacy", body->value("privacy", "private")},
               {"display_numbers", body->value("display_numbers", false)},
               {"allow_comments", body->value("allow_comments", true)},
               {"sort_by", body->value("sort_by", "rank")},
               {"sort_how", body->value("sort_how", "asc")},
               {"created_at", now},
               {"updated_at", now},
               {"item_count", 0},
               {"comment_count", 0},
               {"likes", 0},
               {"ids", {{"trakt", m_next_trakt_id++}, {"slug", slug}}}};
    m_lists.push_back(ls);
    touch({{"lists", "updated_at"}});
    send_json(res, list_view(m_lists.back()), 201);
  });
  srv.Get(R"(/users/([^/]+)/lists/([^/]+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    ListState* l = is_me(req.matches[1].str()) ? find_list(req.matches[2].str()) : nullptr;
    if (!l) {
      res.status = 404;
      return;
    }
    send_json(res, list_view(*l), 200);
  });
  srv.Delete(R"(/users/([^/]+)/lists/([^/]+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    ListState* l = is_me(req.matches[1].str()) ? find_list(req.matches[2].str()) : nullptr;
    if (!l) {
      res.status = 404;
      return;
    }
    m_lists.erase(m_lists.begin() + (l - m_lists.data()));
    touch({{"lists", "updated_at"}});
    res.status = 204;
  });
  srv.Get(R"(/users/([^/]+)/lists/([^/]+)/items(?:/([a-z,]+))?)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    ListState* l = is_me(req.matches[1].str()) ? find_list(req.matches[2].str()) : nullptr;
    if (!l) {
      res.status = 404;
      return;
    }
    const std::string type = req.matches[3].str();
    std::vector<const json*> rows;
    for (const auto& row : l->items) {
      if (type.empty() || type.find(row.value("type", "") + "s") != std::string::npos ||
          type.find(row.value("type", "")) != std::string::npos) {
        rows.push_back(&row);
      }
    }
    res.set_header("X-Sort-By", tk::str(l->list, "sort_by").empty() ? std::string("rank")
                                                                    : tk::str(l->list, "sort_by"));
    res.set_header("X-Sort-How", tk::str(l->list, "sort_how").empty()
                                     ? std::string("asc")
                                     : tk::str(l->list, "sort_how"));
    res.set_header("X-Applied-Sort-By", "rank");
    res.set_header("X-Applied-Sort-How", "asc");
    const bool full = wants_full(req);
    send_page(req, res, rows, [&](const json* r) { return row_out(*r, full); });
  });
  auto write = [this](const Req& req, Res& res, bool remove) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    ListState* l = is_me(req.matches[1].str()) ? find_list(req.matches[2].str()) : nullptr;
    auto body = tk::parse_json_body(req);
    if (!l) {
      res.status = 404;
      return;
    }
    if (!body || !body->is_object()) {
      res.status = 400;
      return;
    }
    const int cap = m_settings.value("limits", json::object())
                        .value("list", json::object())
                        .value("item_count", 1 << 30);
    if (!remove && would_exceed(*body, l->items, cap)) {
      account_limit(res, cap);
      return;
    }
    json out = list_write(*body, l->items, remove);
    l->list["updated_at"] = stamp();
    touch({{"lists", "updated_at"}});
    send_json(res, out, remove ? 200 : 201);
  };
  srv.Post(R"(/users/([^/]+)/lists/([^/]+)/items)",
           [write](const Req& req, Res& res) { write(req, res, false); });
  srv.Post(R"(/users/([^/]+)/lists/([^/]+)/items/remove)",
           [write](const Req& req, Res& res) { write(req, res, true); });
  srv.Post(R"(/users/([^/]+)/lists/([^/]+)/items/reorder)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    ListState* l = is_me(req.matches[1].str()) ? find_list(req.matches[2].str()) : nullptr;
    auto body = tk::parse_json_body(req);
    if (!l) {
      res.status = 404;
      return;
    }
    if (!body || !(*body)["rank"].is_array()) {
      res.status = 400;
      return;
    }
    std::vector<json> ordered;
    json skipped = json::array();
    for (const auto& idv : (*body)["rank"]) {
      const std::string id = tk::id_text(idv);
      auto it = std::find_if(l->items.begin(), l->items.end(), [&](const json& row) {
        return tk::id_text(row.value("id", json())) == id;
      });
      if (it == l->items.end()) {
        skipped.push_back(idv);
        continue;
      }
      ordered.push_back(std::move(*it));
      l->items.erase(it);
    }
    const std::size_t updated = ordered.size();
    for (auto& rest : l->items) ordered.push_back(std::move(rest));
    l->items = std::move(ordered);
    for (std::size_t i = 0; i < l->items.size(); ++i) l->items[i]["rank"] = i + 1;
    const std::string now = stamp();
    l->list["updated_at"] = now;
    touch({{"lists", "updated_at"}});
    send_json(res,
              {{"updated", updated},
               {"skipped_ids", skipped},
               {"list", {{"updated_at", now}, {"item_count", l->items.size()}}}},
              200);
  });
}

// ---------- OAuth ----------
void TraktFake::oauth_routes(httplib::Server& srv) {
  srv.Post("/oauth/device/code", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body || body->value("client_id", "") != m_client_id) {
      res.status = 403;
      return;
    }
    const std::uint64_t n = m_devices.size() + 1;
    const std::string device_code = tk::make_token("dev", n);
    static const char* k_alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::string user_code;
    std::uint64_t x = std::hash<std::string>{}(device_code);
    for (int i = 0; i < 8; ++i, x /= 32) user_code += k_alphabet[x % 32];
    DeviceCode d;
    d.user_code = user_code;
    d.expires_ms = m_ctx->now_ms() + 600 * 1000;
    m_devices[device_code] = d;
    send_json(res,
              {{"device_code", device_code},
               {"user_code", user_code},
               {"verification_url", "https://trakt.tv/activate"},
               {"expires_in", 600},
               {"interval", d.interval_s}},
              200);
  });
  srv.Post("/oauth/device/token", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body || body->value("client_id", "") != m_client_id ||
        body->value("client_secret", "") != m_client_secret) {
      send_json(
          res, {{"error", "invalid_client"}, {"error_description", "Client authentication failed"}},
          401);
      return;
    }
    auto it = m_devices.find(body->value("code", ""));
    if (it == m_devices.end()) {
      res.status = 404;
      return;
    }
    DeviceCode& d = it->second;
    const std::int64_t now = m_ctx->now_ms();
    if (d.state == "used") {
      res.status = 409;
      return;
    }
    if (now >= d.expires_ms) {
      res.status = 410;
      return;
    }
    if (d.state == "denied") {
      res.status = 418;
      return;
    }
    if (d.last_poll_ms != 0 && now - d.last_poll_ms < d.interval_s * 1000 && d.state == "pending") {
      d.last_poll_ms = now;
      res.status = 429;
      res.set_header("Retry-After", std::to_string(d.interval_s));
      return;
    }
    d.last_poll_ms = now;
    if (d.state == "pending") {
      res.status = 400;
      return;
    }
    d.state = "used";
    send_json(res, issue_tokens(), 200);
  });
  srv.Post("/oauth/token", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body || body->value("client_id", "") != m_client_id ||
        body->value("client_secret", "") != m_client_secret) {
      send_json(
          res, {{"error", "invalid_client"}, {"error_description", "Client authentication failed"}},
          401);
      return;
    }
    const std::string grant = body->value("grant_type", "");
    const json invalid = {
        {"error", "invalid_grant"},
        {"error_description",
         "The provided authorization grant is invalid, expired, revoked, does not "
         "match the redirection URI used in the authorization request, or was "
         "issued to another client."}};
    if (grant == "refresh_token") {
      // Refresh tokens are single use: the old one stops working once exchanged.
      if (body->value("refresh_token", "") != m_refresh_token || m_refresh_token.empty()) {
        send_json(res, invalid, 400);
        return;
      }
      send_json(res, issue_tokens(), 200);
      return;
    }
    if (grant == "authorization_code") {
      auto it = std::find(m_auth_codes.begin(), m_auth_codes.end(), body->value("code", ""));
      if (it == m_auth_codes.end()) {
        send_json(res, invalid, 400);
        return;
      }
      m_auth_codes.erase(it);
      send_json(res, issue_tokens(), 200);
      return;
    }
    send_json(res,
              {{"error", "unsupported_grant_type"},
               {"error_description",
                "The authorization grant type is not supported by the authorization server."}},
              400);
  });
  srv.Post("/oauth/revoke", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (body && body->value("token", "") == m_access_token) {
      m_ctx->revoke_token(m_access_token);
      m_access_token.clear();
    }
    send_json(res, json::object(), 200);
  });
  // Test hook standing in for the user at https://trakt.tv/activate.
  srv.Post("/__sandbox/oauth/approve", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body) {
      send_json(res, {{"error", "expected {\"user_code\": \"...\", \"deny\": false}"}}, 400);
      return;
    }
    if (body->contains("code")) {
      m_auth_codes.push_back(body->value("code", ""));
      send_json(res, {{"ok", true}}, 200);
      return;
    }
    const std::string user_code = body->value("user_code", "");
    for (auto& [code, d] : m_devices) {
      if (d.user_code == user_code && d.state == "pending") {
        d.state = body->value("deny", false) ? "denied" : "approved";
        send_json(res, {{"ok", true}, {"state", d.state}}, 200);
        return;
      }
    }
    send_json(res, {{"error", "no pending device code with user_code " + user_code}}, 404);
  });
}

// ---------- watched and progress ----------
namespace {
struct EpisodePlays {
  int plays = 0;
  std::int64_t last = 0;
};
struct WatchedShow {
  int plays = 0;
  std::int64_t last = 0;
  json show;
  std::map<std::pair<int, int>, EpisodePlays> episodes;  // (season, number)
};
}  // namespace

void TraktFake::get_watched(const Req& req, Res& res, const std::string& type) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  const bool full = wants_full(req);
  const std::string ext = req.has_param("extended") ? req.get_param_value("extended") : "";
  const bool noseasons = ext.find("noseasons") != std::string::npos;
  const char* kind = type == "movies" ? "movie" : "episode";
  // History is newest first, so the first play of a title is its last_watched_at and the order
  // of first sight is Trakt's order (most recently watched first).
  std::vector<std::string> order;
  std::unordered_map<std::string, WatchedShow> by_key;
  for (const auto& h : m_history) {
    if (h.row.value("type", "") != kind) continue;
    const json& media = type == "movies" ? h.row["movie"] : h.row["show"];
    const std::string key = media.value("ids", json::object()).dump();
    auto [it, fresh] = by_key.try_emplace(key);
    WatchedShow& w = it->second;
    if (fresh) {
      order.push_back(key);
      w.last = h.at;
      w.show = media;
    }
    ++w.plays;
    if (type == "shows") {
      const json& ep = h.row["episode"];
      EpisodePlays& e = w.episodes[{ep.value("season", 0), ep.value("number", 0)}];
      ++e.plays;
      e.last = std::max(e.last, h.at);
    }
  }
  json out = json::array();
  for (const auto& key : order) {
    const WatchedShow& w = by_key[key];
    json row = {{"plays", w.plays},
                {"last_watched_at", tk::iso_utc(w.last, true)},
                {"last_updated_at", tk::iso_utc(w.last, true)}};
    if (type == "movies") {
      row["movie"] = view("movie", w.show, full);
      out.push_back(std::move(row));
      continue;
    }
    row["reset_at"] = nullptr;
    row["show"] = view("show", w.show, full);
    // The watched view's show carries aired_episodes even when minimal (2025 contract).
    if (!full) {
      auto sx = find_in(m_show_ix, w.show.value("ids", json::object()));
      row["show"]["aired_episodes"] = sx ? aired_in_show(*sx) : 0;
    }
    if (!noseasons) {
      json seasons = json::array();
      for (const auto& [sn, e] : w.episodes) {
        if (seasons.empty() || seasons.back()["number"] != sn.first) {
          seasons.push_back({{"number", sn.first}, {"episodes", json::array()}});
        }
        seasons.back()["episodes"].push_back({{"number", sn.second},
                                              {"plays", e.plays},
                                              {"last_watched_at", tk::iso_utc(e.last, true)}});
      }
      row["seasons"] = std::move(seasons);
    }
    out.push_back(std::move(row));
  }
  send_json(res, out, 200);
}

std::optional<std::size_t> TraktFake::find_show_any(const std::string& id) const {
  for (const char* k : {"trakt:", "slug:", "imdb:", "tmdb:", "tvdb:"}) {
    auto it = m_show_ix.find(std::string(k) + id);
    if (it != m_show_ix.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<std::size_t> TraktFake::find_movie_any(const std::string& id) const {
  for (const char* k : {"trakt:", "slug:", "imdb:", "tmdb:"}) {
    auto it = m_movie_ix.find(std::string(k) + id);
    if (it != m_movie_ix.end()) return it->second;
  }
  return std::nullopt;
}

bool param_true(const Req& req, const char* name, bool def) {
  if (!req.has_param(name)) return def;
  return req.get_param_value(name) == "true";
}

// GET /shows/{id}/progress/watched: aired and completed episodes per season from the history,
// with the next episode to watch and the last one watched (full episode objects).
void TraktFake::get_progress(const Req& req, Res& res, const std::string& id) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::user)) return;
  auto show = find_show_any(id);
  if (!show) {
    res.status = 404;
    return;
  }
  const bool specials = param_true(req, "specials", false);
  const bool count_specials = param_true(req, "count_specials", true);
  const json show_ids = m_shows[*show].value("ids", json::object());
  std::map<std::pair<int, int>, std::int64_t> watched;  // (season, number) → last play
  std::optional<std::pair<std::int64_t, json>> last;
  for (const auto& h : m_history) {
    if (h.row.value("type", "") != "episode") continue;
    if (!tk::ids_match(h.row["show"].value("ids", json::object()), show_ids)) continue;
    const json& ep = h.row["episode"];
    auto& at = watched[{ep.value("season", 0), ep.value("number", 0)}];
    at = std::max(at, h.at);
    if (!last || h.at > last->first) last = {h.at, ep};
  }
  json seasons = json::array();
  int aired = 0, completed = 0;
  json next = nullptr;
  const json& catalog = m_shows[*show]["seasons"];
  std::vector<std::size_t> order(catalog.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return catalog[a].value("number", 0) < catalog[b].value("number", 0);
  });
  for (std::size_t s : order) {
    const int sn = catalog[s].value("number", 0);
    if (sn == 0 && !specials) continue;
    json season = {{"number", sn},
                   {"title", with_full_defaults("season", season_view(*show, s))["title"]},
                   {"aired", 0},
                   {"completed", 0},
                   {"episodes", json::array()}};
    const json& eps = catalog[s]["episodes"];
    for (std::size_t e = 0; e < eps.size(); ++e) {
      if (!has_aired(*show, s, e)) continue;
      const int en = eps[e].value("number", 0);
      auto w = watched.find({sn, en});
      const bool done = w != watched.end();
      season["aired"] = season["aired"].get<int>() + 1;
      season["completed"] = season["completed"].get<int>() + (done ? 1 : 0);
      season["episodes"].push_back(
          {{"number", en},
           {"completed", done},
           {"last_watched_at", done ? json(tk::iso_utc(w->second, true)) : json(nullptr)}});
      if (!done && next.is_null()) next = view("episode", eps[e], true, m_shows[*show]);
    }
    if (sn != 0 || count_specials) {
      aired += season["aired"].get<int>();
      completed += season["completed"].get<int>();
    }
    seasons.push_back(std::move(season));
  }
  send_json(res,
            {{"aired", aired},
             {"completed", completed},
             {"last_watched_at", last ? json(tk::iso_utc(last->first, true)) : json(nullptr)},
             {"reset_at", nullptr},
             {"seasons", seasons},
             {"hidden_seasons", json::array()},
             {"next_episode", next},
             {"last_episode",
              last ? view("episode", last->second, true, m_shows[*show]) : json(nullptr)}},
            200);
}

// ---------- lookups ----------
// GET /search/{id_type}/{id}: exact id lookups, movie/show/episode (?type=… narrows).
void TraktFake::search_by_id(const Req& req, Res& res) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::key)) return;
  const std::string key = req.matches[1].str() + ":" + req.matches[2].str();
  const std::string types =
      req.has_param("type") ? req.get_param_value("type") : "movie,show,episode";
  auto allowed = [&](const char* t) { return types.find(t) != std::string::npos; };
  const bool full = wants_full(req);
  json out = json::array();
  if (allowed("movie")) {
    if (auto it = m_movie_ix.find(key); it != m_movie_ix.end()) {
      out.push_back({{"type", "movie"},
                     {"score", nullptr},
                     {"movie", view("movie", m_movies[it->second], full)}});
    }
  }
  if (allowed("show")) {
    if (auto it = m_show_ix.find(key); it != m_show_ix.end()) {
      out.push_back({{"type", "show"},
                     {"score", nullptr},
                     {"show", view("show", show_view(it->second), full)}});
    }
  }
  if (allowed("episode")) {
    auto [b, e] = m_episode_ix.equal_range(key);
    for (auto it = b; it != e; ++it) {
      const auto [show, season, ep] = it->second;
      const json& episode = m_shows[show]["seasons"][season]["episodes"][ep];
      out.push_back({{"type", "episode"},
                     {"score", nullptr},
                     {"episode", view("episode", episode, full, show_view(show))},
                     {"show", view("show", show_view(show), full)}});
    }
  }
  send_json(res, out, 200);
}

// GET /search/{type}?query=: titles that contain the query (case-insensitive), paged; score
// 1000 for an exact title, 100 for a partial one.
void TraktFake::search_text(const Req& req, Res& res, const std::string& types) {
  std::lock_guard lock(m_mutex);
  if (!authorize(req, res, Level::key)) return;
  const std::string query = lower(req.has_param("query") ? req.get_param_value("query") : "");
  const bool full = wants_full(req);
  std::vector<json> hits;
  auto consider = [&](const char* kind, const json& obj) {
    const std::string title = lower(tk::str(obj, "title"));
    if (query.empty() || title.find(query) == std::string::npos) return;
    hits.push_back({{"type", kind},
                    {"score", title == query ? 1000 : 100},
                    {kind, view(kind, kind == std::string("show") ? json(obj) : obj, full)}});
    hits.back()[kind].erase("seasons");
  };
  if (types.find("movie") != std::string::npos) {
    for (const auto& m : m_movies) consider("movie", m);
  }
  if (types.find("show") != std::string::npos) {
    for (std::size_t i = 0; i < m_shows.size(); ++i) consider("show", show_view(i));
  }
  std::stable_sort(hits.begin(), hits.end(), [](const json& a, const json& b) {
    return a.value("score", 0) > b.value("score", 0);
  });
  PageArgs p = page_args(req);
  if (!req.has_param("limit") && !req.has_param("page")) p.limit = 10;
  const Page pg = m_ctx->page(req, hits.size(), (p.page - 1) * p.limit, p.limit);
  json out = json::array();
  for (std::size_t i = pg.start; i < pg.end(); ++i) out.push_back(hits[i]);
  res.set_header("X-Pagination-Page", std::to_string(p.page));
  res.set_header("X-Pagination-Limit", std::to_string(p.limit));
  res.set_header("X-Pagination-Page-Count", std::to_string((hits.size() + p.limit - 1) / p.limit));
  res.set_header("X-Pagination-Item-Count", std::to_string(hits.size()));
  send_json(res, out, 200);
}

void TraktFake::lookup_routes(httplib::Server& srv) {
  srv.Get(R"(/search/(trakt|imdb|tmdb|tvdb)/([^/]+))",
          [this](const Req& req, Res& res) { search_by_id(req, res); });
  srv.Get(R"(/search/((?:movie|show|episode|person|list)(?:,(?:movie|show|episode|person|list))*))",
          [this](const Req& req, Res& res) { search_text(req, res, req.matches[1].str()); });
  srv.Get(R"(/movies/([^/]+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::key)) return;
    auto movie = find_movie_any(req.matches[1].str());
    if (!movie) {
      res.status = 404;
      return;
    }
    send_json(res, view("movie", m_movies[*movie], wants_full(req)), 200);
  });
  srv.Get(R"(/shows/([^/]+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::key)) return;
    auto show = find_show_any(req.matches[1].str());
    if (!show) {
      res.status = 404;
      return;
    }
    send_json(res, view("show", show_view(*show), wants_full(req)), 200);
  });
  srv.Get(R"(/shows/([^/]+)/progress/watched)",
          [this](const Req& req, Res& res) { get_progress(req, res, req.matches[1].str()); });
  srv.Get(R"(/shows/([^/]+)/seasons)", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::key)) return;
    auto show = find_show_any(req.matches[1].str());
    if (!show) {
      res.status = 404;
      return;
    }
    const std::string ext = req.has_param("extended") ? req.get_param_value("extended") : "";
    const bool full = ext.find("full") != std::string::npos;
    const bool with_eps = ext.find("episodes") != std::string::npos;
    const json show_obj = show_view(*show);
    json out = json::array();
    for (const auto& s : m_shows[*show]["seasons"]) {
      json season = view("season", s, full, show_obj);
      if (with_eps) {
        season["episodes"] = json::array();
        for (const auto& e : s["episodes"])
          season["episodes"].push_back(view("episode", e, full, show_obj));
      }
      out.push_back(season);
    }
    send_json(res, out, 200);
  });
  srv.Get(R"(/shows/([^/]+)/seasons/(\d+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::key)) return;
    auto show = find_show_any(req.matches[1].str());
    const int number = std::atoi(req.matches[2].str().c_str());
    if (show) {
      if (auto s = season_index(*show, number)) {
        json out = json::array();
        for (const auto& e : m_shows[*show]["seasons"][*s]["episodes"])
          out.push_back(view("episode", e, wants_full(req), show_view(*show)));
        send_json(res, out, 200);
        return;
      }
    }
    res.status = 404;
  });
  srv.Get(R"(/shows/([^/]+)/seasons/(\d+)/episodes/(\d+))", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::key)) return;
    auto show = find_show_any(req.matches[1].str());
    const int sn = std::atoi(req.matches[2].str().c_str());
    const int en = std::atoi(req.matches[3].str().c_str());
    if (show) {
      if (auto s = season_index(*show, sn)) {
        for (const auto& e : m_shows[*show]["seasons"][*s]["episodes"]) {
          if (e.value("number", -1) == en) {
            send_json(res, view("episode", e, wants_full(req), show_view(*show)), 200);
            return;
          }
        }
      }
    }
    res.status = 404;
  });
}

// ---------- /users/{id}/… ----------
// The signed-in user's reads under their slug or "me" (other users: 404, as for a private or
// unknown profile).
void TraktFake::user_routes(httplib::Server& srv) {
  auto known = [this](const std::string& user) {
    std::lock_guard lock(m_mutex);
    return is_me(user);
  };
  srv.Get(R"(/users/([^/]+)/history(?:/(movies|shows|seasons|episodes)(?:/(\d+))?)?)",
          [this, known](const Req& req, Res& res) {
            if (!known(req.matches[1].str())) {
              res.status = 404;
              return;
            }
            get_history(req, res, req.matches[2].str(), req.matches[3].str());
          });
  srv.Get(R"(/users/([^/]+)/ratings(?:/(movies|shows|seasons|episodes|all)(?:/([0-9,]+))?)?)",
          [this, known](const Req& req, Res& res) {
            if (!known(req.matches[1].str())) {
              res.status = 404;
              return;
            }
            get_ratings(req, res, req.matches[2].str(), req.matches[3].str());
          });
  srv.Get(
      R"(/users/([^/]+)/watchlist(?:/(movies|shows|seasons|episodes|all)(?:/([a-z]+)(?:/(asc|desc))?)?)?)",
      [this, known](const Req& req, Res& res) {
        if (!known(req.matches[1].str())) {
          res.status = 404;
          return;
        }
        get_watchlist(req, res, req.matches[2].str(), req.matches[3].str(), req.matches[4].str());
      });
  srv.Get(R"(/users/([^/]+)/watched/(movies|shows))", [this, known](const Req& req, Res& res) {
    if (!known(req.matches[1].str())) {
      res.status = 404;
      return;
    }
    get_watched(req, res, req.matches[2].str());
  });
}

void TraktFake::register_routes(httplib::Server& srv, Context& ctx) {
  {
    std::lock_guard lock(m_mutex);
    m_ctx = &ctx;
    sync_tokens_locked();
  }
  srv.Get("/sync/last_activities", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    send_json(res, m_activities, 200);
  });
  srv.Get(
      R"(/sync/watchlist(?:/(movies|shows|seasons|episodes|all)(?:/([a-z]+)(?:/(asc|desc))?)?)?)",
      [this](const Req& req, Res& res) {
        get_watchlist(req, res, req.matches[1].str(), req.matches[2].str(), req.matches[3].str());
      });
  srv.Post("/sync/watchlist",
           [this](const Req& req, Res& res) { post_watchlist(req, res, false); });
  srv.Post("/sync/watchlist/remove",
           [this](const Req& req, Res& res) { post_watchlist(req, res, true); });
  srv.Get(R"(/sync/history(?:/(movies|shows|seasons|episodes)(?:/(\d+))?)?)",
          [this](const Req& req, Res& res) {
            get_history(req, res, req.matches[1].str(), req.matches[2].str());
          });
  srv.Post("/sync/history", [this](const Req& req, Res& res) { post_history(req, res); });
  srv.Post("/sync/history/remove",
           [this](const Req& req, Res& res) { post_history_remove(req, res); });
  srv.Get(R"(/sync/ratings(?:/(movies|shows|seasons|episodes|all)(?:/([0-9,]+))?)?)",
          [this](const Req& req, Res& res) {
            get_ratings(req, res, req.matches[1].str(), req.matches[2].str());
          });
  srv.Post("/sync/ratings", [this](const Req& req, Res& res) { post_ratings(req, res, false); });
  srv.Post("/sync/ratings/remove",
           [this](const Req& req, Res& res) { post_ratings(req, res, true); });
  srv.Get(R"(/sync/playback(?:/(movies|episodes))?)",
          [this](const Req& req, Res& res) { get_playback(req, res); });
  srv.Delete(R"(/sync/playback/(\d+))",
             [this](const Req& req, Res& res) { delete_playback(req, res); });
  for (const char* action : {"start", "pause", "stop"}) {
    srv.Post(
        std::string("/scrobble/") + action,
        [this, a = std::string(action)](const Req& req, Res& res) { post_scrobble(req, res, a); });
  }
  srv.Get(R"(/sync/watched/(movies|shows))",
          [this](const Req& req, Res& res) { get_watched(req, res, req.matches[1].str()); });
  srv.Get(R"(/sync/collection/(movies|shows))",
          [this](const Req& req, Res& res) { get_collection(req, res); });
  srv.Post("/sync/collection",
           [this](const Req& req, Res& res) { post_collection(req, res, false); });
  srv.Post("/sync/collection/remove",
           [this](const Req& req, Res& res) { post_collection(req, res, true); });
  srv.Get("/users/settings", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    send_json(res, m_settings, 200);
  });
  srv.Get("/users/hidden/dropped", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!authorize(req, res, Level::user)) return;
    std::vector<const json*> rows;
    const std::string type = req.has_param("type") ? req.get_param_value("type") : "";
    for (const auto& row : m_dropped) {
      if (type.empty() || row.value("type", "") == type) rows.push_back(&row);
    }
    send_page(req, res, rows, [](const json* r) { return row_view(*r, false); });
  });
  lists_routes(srv);
  user_routes(srv);
  oauth_routes(srv);
  lookup_routes(srv);
  // Trakt's status table: 405 "Method Not Found - method doesn't exist", with no body.
  tk::serve_unrouted(srv, [](const Req&, Res& res) { res.status = 405; });
}

}  // namespace

std::unique_ptr<FakeService> make_trakt_fake() { return std::make_unique<TraktFake>(); }

}  // namespace cw::fakes
