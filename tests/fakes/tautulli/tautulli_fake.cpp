#include "tautulli/tautulli_fake.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/generator.hpp"
#include "plex/plex_fake.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;

std::string day_of(std::int64_t epoch_s) { return iso_from_ms(epoch_s * 1000).substr(0, 10); }

std::int64_t as_int(const json& v) {
  if (v.is_number()) return v.get<std::int64_t>();
  if (v.is_string() && !v.get<std::string>().empty()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return 0;
}

const char* const k_api_key = "0123456789abcdef0123456789abcdef";

class TautulliFake final : public FakeService {
 public:
  TautulliFake() { reset_locked(); }

  std::string name() const override { return "tautulli"; }

  void register_routes(httplib::Server& srv, Context& ctx) override {
    m_ctx = &ctx;
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      handle(req, res);
    };
    srv.Get("/api/v2", handler);
    srv.Post("/api/v2", handler);
  }

  void seed(const json& f) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    if (f.contains("api_key")) m_api_key = f["api_key"];
    if (f.contains("api_enabled")) m_api_enabled = f["api_enabled"];
    if (f.contains("server_info")) m_server_info = f["server_info"];
    if (f.contains("users")) m_users = f["users"];
    if (f.contains("history")) m_history = f["history"].get<std::vector<json>>();
    if (f.contains("metadata")) m_metadata = f["metadata"];
    if (f.contains("sessions")) m_sessions = f["sessions"];
    for (const char* k : {"records_total", "records_filtered", "total_duration", "filter_duration",
                          "auth_error_status", "shared_libraries_form"}) {
      if (f.contains(k)) m_overrides[k] = f[k];
    }
  }

  json state() const override {
    std::lock_guard lock(m_mutex);
    json out = {{"api_key", m_api_key},         {"api_enabled", m_api_enabled},
                {"server_info", m_server_info}, {"users", m_users},
                {"history", m_history},         {"metadata", m_metadata},
                {"sessions", m_sessions}};
    for (const auto& [k, v] : m_overrides.items()) out[k] = v;
    return out;
  }

  void reset() override {
    std::lock_guard lock(m_mutex);
    reset_locked();
  }

  void seed_universe(const json& u) override;

  json credentials() const override {
    std::lock_guard lock(m_mutex);
    return {{"api_key", m_api_key}};
  }

  std::string provider_yaml(const std::string& base_url) const override {
    return "  tautulli:\n    plugin: tautulli\n    server_url: " + base_url +
           "\n    api_key: " + credentials()["api_key"].get<std::string>() + "\n";
  }

  void fault_response(int status, const httplib::Request&, httplib::Response& res) const override {
    send_json(
        res,
        envelope("error", status >= 500 ? "Check the logs for errors" : "Error", json::object()),
        status);
  }

 private:
  static json envelope(const std::string& result, const json& message, const json& data) {
    return {{"response", {{"result", result}, {"message", message}, {"data", data}}}};
  }

  void reset_locked() {
    m_api_key = k_api_key;
    m_api_enabled = true;
    m_server_info = {{"pms_name", "cw-sandbox"},
                     {"pms_version", "1.40.2.8395-c67dce28e"},
                     {"pms_platform", "Linux"},
                     {"pms_ip", "127.0.0.1"},
                     {"pms_port", 32400},
                     {"pms_ssl", 0},
                     {"pms_url", "http://127.0.0.1:32400"},
                     {"pms_url_manual", 0},
                     {"pms_identifier", "5a1dbc0c0ffee0000000000000000000000000a1"},
                     {"pms_plexpass", 1}};
    m_users = json::array({user_row(1, 0, "Local"), user_row(2, 1, "sandbox-owner")});
    m_history.clear();
    m_metadata = json::object();
    m_sessions = json::array();
    m_overrides = json::object();
  }

  static json user_row(int row_id, std::int64_t user_id, const std::string& name) {
    const bool local = user_id == 0;
    return {{"row_id", row_id},
            {"user_id", user_id},
            {"username", name},
            {"friendly_name", name},
            {"thumb", local ? json(nullptr) : json("https://plex.tv/users/0000/avatar")},
            {"email", local ? json(nullptr) : json(name + "@example.com")},
            {"is_active", 1},
            {"is_admin", local ? 0 : 1},
            {"is_home_user", local ? json(nullptr) : json(1)},
            {"is_allow_sync", local ? json(nullptr) : json(1)},
            {"is_restricted", local ? json(nullptr) : json(0)},
            {"do_notify", 1},
            {"keep_history", 1},
            {"allow_guest", 0},
            {"shared_libraries", local ? json::array() : json::array({"1", "2"})},
            {"filter_all", local ? json(nullptr) : json("")},
            {"filter_movies", local ? json(nullptr) : json("")},
            {"filter_tv", local ? json(nullptr) : json("")},
            {"filter_music", local ? json(nullptr) : json("")},
            {"filter_photos", local ? json(nullptr) : json("")}};
  }

  void error(httplib::Response& res, int status, const std::string& message) const {
    send_json(res, envelope("error", message, json::object()), status);
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    // Tautulli stores 401 for key problems but a later branch turns every non-500 error into
    // 400 (see api-reference/tautulli/NOTES.md); `auth_error_status` picks either.
    const int auth_status = m_overrides.value("auth_error_status", 400);
    if (!m_api_enabled) {
      error(res, 400, "API not enabled");
      return;
    }
    if (!req.has_param("apikey")) {
      error(res, auth_status, "Parameter apikey is required");
      return;
    }
    if (req.get_param_value("apikey") != m_api_key || m_ctx->token_expired(req)) {
      error(res, auth_status, "Invalid apikey");
      return;
    }
    const std::string cmd = req.has_param("cmd") ? req.get_param_value("cmd") : "";
    static const std::vector<std::string> k_commands = {
        "get_history", "get_metadata",      "get_server_info", "get_server_identity", "get_users",
        "get_user",    "get_tautulli_info", "get_activity",    "get_home_stats"};
    if (std::find(k_commands.begin(), k_commands.end(), cmd) == k_commands.end()) {
      std::string list;
      for (const auto& c : k_commands) list += (list.empty() ? "" : ", ") + c;
      error(res, 400, "Unknown command: " + cmd + ". Possible commands are: " + list);
      return;
    }
    if (cmd == "get_history") {
      get_history(req, res);
    } else if (cmd == "get_metadata") {
      const std::string rk = req.has_param("rating_key") ? req.get_param_value("rating_key") : "";
      send_json(res, envelope("success", nullptr, m_metadata.value(rk, json::object())));
    } else if (cmd == "get_server_info") {
      send_json(res, envelope("success", nullptr, m_server_info));
    } else if (cmd == "get_server_identity") {
      send_json(res, envelope("success", nullptr,
                              {{"machine_identifier", m_server_info.value("pms_identifier", "")},
                               {"version", m_server_info.value("pms_version", "")}}));
    } else if (cmd == "get_users") {
      json users = json::array();
      for (const auto& u : m_users) users.push_back(user_out(u));
      send_json(res, envelope("success", nullptr, users));
    } else if (cmd == "get_user") {
      const std::int64_t uid =
          req.has_param("user_id") ? std::atoll(req.get_param_value("user_id").c_str()) : -1;
      json found = json::object();
      for (const auto& u : m_users) {
        if (as_int(u.value("user_id", json(0))) == uid) found = user_out(u);
      }
      send_json(res, envelope("success", nullptr, found));
    } else if (cmd == "get_activity") {
      get_activity(req, res);
    } else if (cmd == "get_home_stats") {
      get_home_stats(req, res);
    } else {
      send_json(res, envelope("success", nullptr,
                              {{"tautulli_version", "v2.17.2"}, {"tautulli_branch", "master"}}));
    }
  }

  void get_history(const httplib::Request& req, httplib::Response& res) const {
    auto param = [&](const char* k) { return req.has_param(k) ? req.get_param_value(k) : ""; };
    const std::string user_id = param("user_id");
    const std::string rating_key = param("rating_key");
    const std::string media_type = param("media_type");
    const std::string after = param("after");
    const std::string before = param("before");
    const std::string search = lower(param("search"));
    std::vector<const json*> rows;
    for (const auto& r : m_history) {
      if (!user_id.empty() && std::to_string(as_int(r.value("user_id", json(0)))) != user_id)
        continue;
      if (!rating_key.empty() &&
          std::to_string(as_int(r.value("rating_key", json(0)))) != rating_key) {
        continue;
      }
      if (!media_type.empty() && r.value("media_type", "") != media_type) continue;
      const std::int64_t date = as_int(r.value("date", json(0)));
      if (!after.empty() && day_of(date) < after) continue;
      if (!before.empty() && day_of(date) > before) continue;
      if (!search.empty() && lower(r.value("full_title", "")).find(search) == std::string::npos) {
        continue;
      }
      rows.push_back(&r);
    }
    const std::string column = param("order_column").empty() ? "date" : param("order_column");
    const bool desc = param("order_dir") != "asc";
    std::stable_sort(rows.begin(), rows.end(), [&](const json* a, const json* b) {
      const json& x = a->contains(column) ? (*a)[column] : json(0);
      const json& y = b->contains(column) ? (*b)[column] : json(0);
      if (x.is_string() || y.is_string()) {
        return desc ? x.dump() > y.dump() : x.dump() < y.dump();
      }
      return desc ? as_int(x) > as_int(y) : as_int(x) < as_int(y);
    });
    const long long start = std::max(0LL, param_int(req, "start", 0));
    const long long length = param_int(req, "length", 25);
    const auto p = m_ctx->page(req, rows.size(), static_cast<std::size_t>(start),
                               length < 0 ? rows.size() : static_cast<std::size_t>(length));
    json data = json::array();
    std::int64_t filter_seconds = 0;
    for (const json* r : rows) filter_seconds += as_int(r->value("play_duration", json(0)));
    for (std::size_t i = p.start; i < p.end(); ++i) data.push_back(*rows[i]);
    const bool filtered = !user_id.empty() || !rating_key.empty() || !media_type.empty() ||
                          !after.empty() || !before.empty() || !search.empty();
    std::int64_t total_seconds = 0;
    for (const auto& r : m_history) total_seconds += as_int(r.value("play_duration", json(0)));
    json out = {
        {"draw", param_int(req, "draw", 1)},
        {"recordsTotal", m_overrides.value("records_total", json(m_history.size()))},
        {"recordsFiltered",
         m_overrides.value("records_filtered", json(filtered ? rows.size() : m_history.size()))},
        {"total_duration", m_overrides.value("total_duration", json(duration_text(total_seconds)))},
        {"filter_duration",
         m_overrides.value("filter_duration", json(duration_text(filter_seconds)))},
        {"data", data}};
    send_json(res, envelope("success", nullptr, out));
  }

  // `shared_libraries` is a list of section-id strings in v2.17.2 and a ';'-joined string in
  // older releases; seeds may use either, and `shared_libraries_form` ("list", the default, or
  // "string") picks what get_users and get_user answer.
  json user_out(const json& u) const {
    if (!u.is_object() || !u.contains("shared_libraries")) return u;
    std::vector<std::string> ids;
    const json& v = u["shared_libraries"];
    if (v.is_array()) {
      for (const auto& e : v) ids.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    } else if (v.is_string()) {
      std::string text = v.get<std::string>();
      std::size_t pos = 0;
      while (!text.empty() && pos <= text.size()) {
        const auto semi = text.find(';', pos);
        const std::string part = text.substr(pos, semi == std::string::npos ? semi : semi - pos);
        if (!part.empty()) ids.push_back(part);
        if (semi == std::string::npos) break;
        pos = semi + 1;
      }
    } else {
      return u;
    }
    json out = u;
    if (m_overrides.value("shared_libraries_form", "list") == "string") {
      std::string joined;
      for (const auto& id : ids) joined += (joined.empty() ? "" : ";") + id;
      out["shared_libraries"] = joined;
    } else {
      out["shared_libraries"] = ids;
    }
    return out;
  }

  // Sessions as seeded (`sessions`); the counters are computed from them and `stream_count`
  // is a string, as Tautulli sends it.
  void get_activity(const httplib::Request& req, httplib::Response& res) const {
    const std::string key = req.has_param("session_key") ? req.get_param_value("session_key") : "";
    const std::string id = req.has_param("session_id") ? req.get_param_value("session_id") : "";
    auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (!key.empty() || !id.empty()) {
      json found = json::object();
      for (const auto& s : m_sessions) {
        if (!s.is_object()) continue;
        if ((!key.empty() && s.contains("session_key") && text(s["session_key"]) == key) ||
            (!id.empty() && s.contains("session_id") && text(s["session_id"]) == id)) {
          found = s;
        }
      }
      send_json(res, envelope("success", nullptr, found));
      return;
    }
    std::int64_t direct_play = 0, direct_stream = 0, transcode = 0, total = 0, lan = 0;
    for (const auto& s : m_sessions) {
      if (!s.is_object()) continue;
      const std::string decision = s.value("transcode_decision", "");
      if (decision == "transcode") {
        ++transcode;
      } else if (decision == "copy") {
        ++direct_stream;
      } else {
        ++direct_play;
      }
      const std::int64_t bw = as_int(s.value("bandwidth", json(0)));
      total += bw;
      if (s.value("location", "lan") == "lan") lan += bw;
    }
    send_json(res, envelope("success", nullptr,
                            {{"stream_count", std::to_string(m_sessions.size())},
                             {"sessions", m_sessions},
                             {"stream_count_direct_play", direct_play},
                             {"stream_count_direct_stream", direct_stream},
                             {"stream_count_transcode", transcode},
                             {"total_bandwidth", total},
                             {"lan_bandwidth", lan},
                             {"wan_bandwidth", total - lan}}));
  }

  // Home statistics from the history: `data` is an array of stat cards, each with `rows`.
  void get_home_stats(const httplib::Request& req, httplib::Response& res) const {
    auto param = [&](const char* k) { return req.has_param(k) ? req.get_param_value(k) : ""; };
    auto valid_day = [](const std::string& d) {
      return d.empty() || (d.size() == 10 && d[4] == '-' && d[7] == '-' &&
                           std::all_of(d.begin(), d.end(),
                                       [](char c) { return c == '-' || (c >= '0' && c <= '9'); }));
    };
    const std::string before = param("before"), after = param("after");
    if (!valid_day(before) || !valid_day(after)) {
      // Tautulli fails the query and answers an error without a message.
      send_json(res, envelope("error", nullptr, json::object()), 400);
      return;
    }
    const long long time_range = param_int(req, "time_range", 30);
    const long long stats_start = std::max(0LL, param_int(req, "stats_start", 0));
    const long long stats_count = std::max(0LL, param_int(req, "stats_count", 10));
    const bool by_duration = param("stats_type") == "duration";
    const std::string only = param("stat_id"), user_id = param("user_id"),
                      section_id = param("section_id");
    const std::int64_t since = m_ctx->now_s() - time_range * 86400;
    std::vector<const json*> rows;
    for (const auto& r : m_history) {
      const std::int64_t date = as_int(r.value("date", json(0)));
      if (before.empty() && after.empty() && date < since) continue;
      if (!before.empty() && day_of(date) > before) continue;
      if (!after.empty() && day_of(date) < after) continue;
      if (!user_id.empty() && std::to_string(as_int(r.value("user_id", json(0)))) != user_id)
        continue;
      if (!section_id.empty() && section_of(r) != as_int(json(section_id))) continue;
      rows.push_back(&r);
    }
    struct Group {
      const json* latest = nullptr;
      std::int64_t plays = 0, duration = 0, last = 0;
      std::vector<std::int64_t> users;
    };
    auto group_by = [&](auto key_of, auto keep) {
      std::map<std::string, Group> groups;
      std::vector<std::string> order;
      for (const json* r : rows) {
        if (!keep(*r)) continue;
        const std::string k = key_of(*r);
        auto [it, fresh] = groups.try_emplace(k);
        if (fresh) order.push_back(k);
        Group& g = it->second;
        const std::int64_t date = as_int(r->value("date", json(0)));
        ++g.plays;
        g.duration += as_int(r->value("play_duration", json(0)));
        if (g.latest == nullptr || date > g.last) {
          g.latest = r;
          g.last = date;
        }
        const std::int64_t uid = as_int(r->value("user_id", json(0)));
        if (std::find(g.users.begin(), g.users.end(), uid) == g.users.end()) g.users.push_back(uid);
      }
      std::vector<Group> out;
      for (const auto& k : order) out.push_back(groups[k]);
      return out;
    };
    auto sort_top = [&](std::vector<Group>& g) {
      std::stable_sort(g.begin(), g.end(), [&](const Group& a, const Group& b) {
        if (by_duration && a.duration != b.duration) return a.duration > b.duration;
        if (a.plays != b.plays) return a.plays > b.plays;
        return a.last > b.last;
      });
    };
    auto sort_popular = [](std::vector<Group>& g) {
      std::stable_sort(g.begin(), g.end(), [](const Group& a, const Group& b) {
        if (a.users.size() != b.users.size()) return a.users.size() > b.users.size();
        if (a.plays != b.plays) return a.plays > b.plays;
        return a.last > b.last;
      });
    };
    auto page = [&](std::vector<json> all) {
      json out = json::array();
      for (long long i = stats_start;
           i < stats_start + stats_count && i < static_cast<long long>(all.size()); ++i) {
        out.push_back(std::move(all[static_cast<std::size_t>(i)]));
      }
      return out;
    };
    auto media_row = [&](const Group& g, bool show, bool popular) {
      const json& r = *g.latest;
      const bool episode = r.value("media_type", "") == "episode";
      json row = {
          {"title", show ? r.value("grandparent_title", json("")) : r.value("title", json(""))},
          {"year", r.value("year", json(""))}};
      if (!popular) row["total_plays"] = g.plays;
      if (!popular) row["total_duration"] = g.duration;
      row["users_watched"] = popular ? json(g.users.size()) : json("");
      row["rating_key"] =
          show ? r.value("grandparent_rating_key", json("")) : r.value("rating_key", json(""));
      row["grandparent_rating_key"] =
          episode ? r.value("grandparent_rating_key", json("")) : json("");
      row["last_play"] = g.last;
      if (popular) row["total_plays"] = g.plays;
      row["grandparent_thumb"] = "";
      row["thumb"] = r.value("thumb", json(""));
      row["art"] = "";
      row["section_id"] = section_of(r);
      row["media_type"] = r.value("media_type", json(""));
      row["content_rating"] = "";
      row["rating"] = "";
      row["labels"] = json::array();
      row["user"] = "";
      row["friendly_name"] = "";
      row["platform"] = "";
      row["live"] = r.value("live", json(0));
      row["guid"] = r.value("guid", json(""));
      row["row_id"] = r.value("row_id", json(""));
      return row;
    };
    auto is_type = [](const char* t) {
      return [t](const json& r) { return r.value("media_type", "") == t; };
    };
    auto by_rk = [](const char* field) {
      return [field](const json& r) { return std::to_string(as_int(r.value(field, json(0)))); };
    };
    auto cards_for = [&](const std::string& id) -> std::optional<json> {
      json card = {{"stat_id", id}};
      std::vector<json> out;
      const bool top = id.rfind("top_", 0) == 0;
      if (id == "top_movies" || id == "popular_movies" || id == "top_tv" || id == "popular_tv") {
        const bool tv = id.find("_tv") != std::string::npos;
        auto g = group_by(by_rk(tv ? "grandparent_rating_key" : "rating_key"),
                          is_type(tv ? "episode" : "movie"));
        top ? sort_top(g) : sort_popular(g);
        for (const auto& x : g) out.push_back(media_row(x, tv, !top));
        card["stat_title"] =
            std::string(top ? "Most Watched " : "Most Popular ") + (tv ? "TV Shows" : "Movies");
      } else if (id == "top_music" || id == "popular_music") {
        card["stat_title"] = top ? "Most Played Artists" : "Most Popular Artists";
      } else if (id == "last_watched") {
        auto g = group_by(by_rk("rating_key"), [](const json& r) {
          const std::string t = r.value("media_type", "");
          return t == "movie" || t == "episode";
        });
        std::stable_sort(g.begin(), g.end(),
                         [](const Group& a, const Group& b) { return a.last > b.last; });
        for (const auto& x : g) {
          const json& r = *x.latest;
          out.push_back({{"row_id", r.value("row_id", json(""))},
                         {"user", r.value("user", json(""))},
                         {"friendly_name", r.value("friendly_name", json(""))},
                         {"user_id", r.value("user_id", json(0))},
                         {"title", r.value("full_title", json(""))},
                         {"grandparent_title", r.value("grandparent_title", json(""))},
                         {"grandchild_title", r.value("title", json(""))},
                         {"year", r.value("year", json(""))},
                         {"media_index", r.value("media_index", json(""))},
                         {"parent_media_index", r.value("parent_media_index", json(""))},
                         {"rating_key", r.value("rating_key", json(""))},
                         {"grandparent_rating_key", r.value("grandparent_rating_key", json(""))},
                         {"thumb", r.value("thumb", json(""))},
                         {"section_id", section_of(r)},
                         {"media_type", r.value("media_type", json(""))},
                         {"last_watch", x.last},
                         {"live", r.value("live", json(0))},
                         {"guid", r.value("guid", json(""))},
                         {"player", r.value("player", json(""))}});
        }
        card["stat_title"] = "Recently Watched";
      } else if (id == "top_users" || id == "top_platforms" || id == "top_libraries") {
        const bool users = id == "top_users", platforms = id == "top_platforms";
        auto g = group_by(
            [&](const json& r) {
              if (users) return std::to_string(as_int(r.value("user_id", json(0))));
              if (platforms) return r.value("platform", std::string());
              return std::to_string(section_of(r));
            },
            [](const json&) { return true; });
        sort_top(g);
        for (const auto& x : g) {
          const json& r = *x.latest;
          json row = {
              {"total_plays", x.plays}, {"total_duration", x.duration}, {"last_play", x.last}};
          if (users) {
            row["user"] = r.value("user", json(""));
            row["user_id"] = r.value("user_id", json(0));
            row["friendly_name"] = r.value("friendly_name", json(""));
          } else if (platforms) {
            row["platform"] = r.value("platform", json(""));
            row["platform_name"] = lower(r.value("platform", std::string()));
          } else {
            const bool movies = section_of(r) == 1;
            row["section_type"] = movies ? "movie" : "show";
            row["section_name"] = movies ? "Movies" : "TV Shows";
            row["section_id"] = section_of(r);
          }
          row["title"] = r.value("full_title", json(""));
          row["rating_key"] = r.value("rating_key", json(""));
          row["row_id"] = r.value("row_id", json(""));
          out.push_back(std::move(row));
        }
        card["stat_title"] = users       ? "Most Active Users"
                             : platforms ? "Most Active Platforms"
                                         : "Most Active Libraries";
      } else if (id == "most_concurrent") {
        card["stat_title"] = "Most Concurrent Streams";
      } else {
        return std::nullopt;
      }
      if (top) card["stat_type"] = by_duration ? "total_duration" : "total_plays";
      card["rows"] = page(std::move(out));
      return card;
    };
    static const std::vector<std::string> k_cards = {
        "top_movies", "popular_movies", "top_tv",         "popular_tv",
        "top_music",  "popular_music",  "last_watched",   "top_libraries",
        "top_users",  "top_platforms",  "most_concurrent"};
    json data = json::array();
    for (const auto& id : k_cards) {
      if (!only.empty() && id != only) continue;
      if (auto card = cards_for(id)) data.push_back(std::move(*card));
    }
    send_json(res, envelope("success", nullptr, data));
  }

  // Library sections as seed_universe() assigns them: 1 movies, 2 TV shows.
  static std::int64_t section_of(const json& r) {
    if (r.contains("section_id")) return as_int(r["section_id"]);
    return r.value("media_type", "") == "episode" ? 2 : 1;
  }

  static std::string duration_text(std::int64_t s) {
    const std::int64_t days = s / 86400, hrs = (s % 86400) / 3600, mins = (s % 3600) / 60,
                       secs = s % 60;
    std::string out;
    if (days) out += std::to_string(days) + " days ";
    if (hrs) out += std::to_string(hrs) + " hrs ";
    if (mins) out += std::to_string(mins) + " mins ";
    out += std::to_string(secs) + " secs";
    return out;
  }

  Context* m_ctx = nullptr;
  mutable std::mutex m_mutex;
  std::string m_api_key;
  bool m_api_enabled = true;
  json m_server_info;
  json m_users;
  std::vector<json> m_history;
  json m_metadata;
  json m_sessions = json::array();
  json m_overrides;
};

void TautulliFake::seed_universe(const json& u) {
  std::lock_guard lock(m_mutex);
  reset_locked();
  // Rating keys and GUIDs as the Plex fake assigns them to the same universe, so that a
  // Tautulli history points at the Plex fake's library.
  const json plex = plex_universe_index(u);
  const auto& by_key = plex["by_key"];
  std::int64_t row_id = 0;
  const json& owner = m_users[1];
  for (const auto& h : u.value("history", json::array())) {
    const std::string type = h.value("type", "movie");
    std::string key;
    if (type == "episode") {
      key = "show:" + h["show"]["ids"].value("tmdb", h["show"]["ids"].value("imdb", "")) + "#" +
            std::to_string(h.value("season", 0)) + "x" + std::to_string(h.value("episode", 0));
    } else {
      key = type + ":" + h["ids"].value("tmdb", h["ids"].value("imdb", ""));
    }
    if (!by_key.contains(key)) continue;
    const json& info = by_key[key];
    const std::int64_t date = ms_from_iso(h.value("watched_at", "")).value_or(0) / 1000;
    const std::int64_t duration = info.value("duration_s", 1800);
    ++row_id;
    const bool episode = type == "episode";
    json row = {{"reference_id", row_id},
                {"row_id", row_id},
                {"id", row_id},
                {"date", date},
                {"started", date},
                {"stopped", date + duration},
                {"duration", duration},
                {"play_duration", duration},
                {"paused_counter", 0},
                {"user_id", owner["user_id"]},
                {"user", owner["username"]},
                {"friendly_name", owner["friendly_name"]},
                {"user_thumb", owner["thumb"]},
                {"platform", "Chrome"},
                {"product", "Plex Web"},
                {"player", "Chrome"},
                {"ip_address", "127.0.0.1"},
                {"live", 0},
                {"machine_id", "sandboxplayer0000000000000001"},
                {"location", "lan"},
                {"secure", 1},
                {"relayed", 0},
                {"media_type", type},
                {"rating_key", info["rk"]},
                {"parent_rating_key", episode ? info["parent_rk"] : json("")},
                {"grandparent_rating_key", episode ? info["grandparent_rk"] : json("")},
                {"full_title",
                 episode ? info["show_title"].get<std::string>() + " - " + h.value("title", "")
                         : h.value("title", "")},
                {"title", h.value("title", "")},
                {"parent_title", episode ? "Season " + std::to_string(h.value("season", 0)) : ""},
                {"grandparent_title", episode ? info["show_title"] : json("")},
                {"original_title", ""},
                {"year", h.value("year", info.value("year", 0))},
                {"media_index", episode ? json(h.value("episode", 0)) : json("")},
                {"parent_media_index", episode ? json(h.value("season", 0)) : json("")},
                {"thumb", "/library/metadata/" + std::to_string(info["rk"].get<std::int64_t>()) +
                              "/thumb/1700000000"},
                {"originally_available_at", std::to_string(info.value("year", 2000)) + "-01-01"},
                {"guid", info["guid"]},
                {"transcode_decision", "direct play"},
                {"percent_complete", 100},
                {"watched_status", 1},
                {"group_count", 1},
                {"group_ids", std::to_string(row_id)},
                {"state", nullptr},
                {"session_key", nullptr}};
    m_history.push_back(std::move(row));
    const std::string rk = std::to_string(info["rk"].get<std::int64_t>());
    json meta = {{"media_type", type},
                 {"section_id", episode ? "2" : "1"},
                 {"library_name", episode ? "TV Shows" : "Movies"},
                 {"rating_key", rk},
                 {"title", h.value("title", "")},
                 {"year", std::to_string(info.value("year", 0))},
                 {"guid", info["guid"]},
                 {"guids", info["guids"]}};
    if (episode) {
      meta["parent_rating_key"] = std::to_string(info["parent_rk"].get<std::int64_t>());
      meta["grandparent_rating_key"] = std::to_string(info["grandparent_rk"].get<std::int64_t>());
      meta["media_index"] = std::to_string(h.value("episode", 0));
      meta["parent_media_index"] = std::to_string(h.value("season", 0));
      meta["grandparent_title"] = info["show_title"];
      meta["grandparent_guid"] = info["show_guid"];
      meta["grandparent_guids"] = info["show_guids"];
    }
    m_metadata[rk] = std::move(meta);
  }
  // Tautulli lists newest plays first by row id as well as by date.
  std::reverse(m_history.begin(), m_history.end());
}

}  // namespace

std::unique_ptr<FakeService> make_tautulli_fake() { return std::make_unique<TautulliFake>(); }

}  // namespace cw::fakes
