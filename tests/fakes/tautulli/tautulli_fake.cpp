#include "tautulli/tautulli_fake.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/generator.hpp"
#include "plex/plex_fake.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

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
    for (const char* k : {"records_total", "records_filtered", "total_duration", "filter_duration",
                          "auth_error_status"}) {
      if (f.contains(k)) m_overrides[k] = f[k];
    }
  }

  json state() const override {
    std::lock_guard lock(m_mutex);
    json out = {{"api_key", m_api_key},         {"api_enabled", m_api_enabled},
                {"server_info", m_server_info}, {"users", m_users},
                {"history", m_history},         {"metadata", m_metadata}};
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
            {"shared_libraries", json::array()},
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
        "get_history", "get_metadata", "get_server_info",  "get_server_identity",
        "get_users",   "get_user",     "get_tautulli_info"};
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
      send_json(res, envelope("success", nullptr, m_users));
    } else if (cmd == "get_user") {
      const std::int64_t uid =
          req.has_param("user_id") ? std::atoll(req.get_param_value("user_id").c_str()) : -1;
      json found = json::object();
      for (const auto& u : m_users) {
        if (as_int(u.value("user_id", json(0))) == uid) found = u;
      }
      send_json(res, envelope("success", nullptr, found));
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
