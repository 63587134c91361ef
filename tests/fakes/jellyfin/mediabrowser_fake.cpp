#include "jellyfin/mediabrowser_fake.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "core/generator.hpp"
#include "core/websocket_feed.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;

// JSON written straight into a string, a member at a time: item pages are written from the
// stored items without building a DOM of every row first (see write_item).
class JsonText {
 public:
  explicit JsonText(std::string& out)
      : m_out(out), m_ser(nlohmann::detail::output_adapter<char, std::string>(out), ' ') {}
  void raw(std::string_view text) { m_out += text; }
  void value(const json& v) { m_ser.dump(v, false, false, 0); }
  void string(std::string_view s) {
    // Ids and member names are plain ASCII; anything else is escaped (and checked) as dump() does.
    for (unsigned char c : s) {
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return value(json(std::string(s)));
    }
    m_out += '"';
    m_out += s;
    m_out += '"';
  }

 private:
  std::string& m_out;
  nlohmann::detail::serializer<json> m_ser;
};

// One object: key() before each member's value, close() at the end.
class ObjectText {
 public:
  explicit ObjectText(JsonText& text) : m_text(text) {}
  JsonText& key(std::string_view name) {
    m_text.raw(m_first ? "{" : ",");
    m_first = false;
    m_text.string(name);
    m_text.raw(":");
    return m_text;
  }
  void close() { m_text.raw(m_first ? "{}" : "}"); }

 private:
  JsonText& m_text;
  bool m_first = true;
};

constexpr std::int64_t k_ticks_per_ms = 10000;

// ASP.NET binds query keys without regard to case.
std::optional<std::string> qp(const httplib::Request& req, const std::string& key) {
  const std::string want = lower(key);
  for (const auto& [k, v] : req.params) {
    if (lower(k) == want) return v;
  }
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

bool qp_bool(const httplib::Request& req, const std::string& key, bool def) {
  const auto v = qp(req, key);
  if (!v) return def;
  return lower(*v) == "true" || *v == "1";
}

// Token="…" out of a MediaBrowser authorization header.
std::string mediabrowser_token(const std::string& header) {
  const auto pos = header.find("Token=\"");
  if (pos == std::string::npos) return {};
  const auto start = pos + 7;
  const auto end = header.find('"', start);
  return end == std::string::npos ? std::string() : header.substr(start, end - start);
}

struct UserData {
  std::int64_t position_ticks = 0;
  std::int64_t play_count = 0;
  bool favorite = false;
  bool played = false;
  std::optional<std::int64_t> last_played_ms;
  std::optional<double> rating;
  std::optional<bool> likes;
};

struct User {
  std::string id, name, password;
  std::vector<std::string> tokens;
  bool admin = false;
};

class MediaBrowserFake final : public FakeService {
 public:
  explicit MediaBrowserFake(MediaBrowserFlavor flavor) : m_flavor(flavor) { reset_locked(); }

  std::string name() const override { return jelly() ? "jellyfin" : "emby"; }

  void register_routes(httplib::Server& srv, Context& ctx) override;

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    if (fixture.contains("server")) m_server.update(fixture["server"]);
    if (fixture.contains("users")) {
      m_users.clear();
      for (const auto& u : fixture["users"]) {
        m_users.push_back({u.at("Id").get<std::string>(), u.value("Name", ""),
                           u.value("Password", ""), u.value("tokens", std::vector<std::string>{}),
                           u.value("IsAdministrator", m_users.empty())});
      }
    }
    if (fixture.contains("libraries")) m_libraries = fixture["libraries"].get<std::vector<json>>();
    for (const auto& it : fixture.value("items", json::array())) add_item(it);
    const json user_data_fixture = fixture.value("user_data", json::object());
    for (const auto& [uid, per] : user_data_fixture.items()) {
      for (const auto& [iid, ud] : per.items()) apply_user_data(m_user_data[uid][iid], ud);
    }
    for (const auto& p : fixture.value("playlists", json::array())) {
      json item = {{"Id", p.at("Id")},
                   {"Name", p.value("Name", "")},
                   {"Type", "Playlist"},
                   {"IsFolder", true}};
      add_item(item);
      auto& entries = m_playlists[p.at("Id").get<std::string>()];
      for (const auto& e : p.value("Entries", json::array())) {
        entries.push_back(
            {e.at("PlaylistItemId").get<std::string>(), e.at("Id").get<std::string>()});
      }
    }
    for (const auto& c : fixture.value("collections", json::array())) {
      json item = {{"Id", c.at("Id")},
                   {"Name", c.value("Name", "")},
                   {"Type", "BoxSet"},
                   {"IsFolder", true}};
      add_item(item);
      m_collections[c.at("Id").get<std::string>()] = c.value("ItemIds", std::vector<std::string>{});
    }
    m_sessions = fixture.value("sessions", json::array());
    if (fixture.contains("quirks")) m_quirks.update(fixture["quirks"]);
  }

  json state() const override {
    std::lock_guard lock(m_mutex);
    json users = json::array();
    for (const auto& u : m_users) {
      users.push_back({{"Id", u.id},
                       {"Name", u.name},
                       {"Password", u.password},
                       {"tokens", u.tokens},
                       {"IsAdministrator", u.admin}});
    }
    json items = json::array();
    for (const auto& id : m_order) {
      const json& it = m_items.at(id);
      const std::string type = it.value("Type", "");
      if (type != "Playlist" && type != "BoxSet") items.push_back(it);
    }
    json user_data = json::object();
    for (const auto& [uid, per] : m_user_data) {
      json p = json::object();
      for (const auto& [iid, ud] : per) p[iid] = user_data_json(ud, iid, false);
      user_data[uid] = p;
    }
    json playlists = json::array();
    for (const auto& [pid, entries] : m_playlists) {
      json e = json::array();
      for (const auto& [entry, iid] : entries)
        e.push_back({{"PlaylistItemId", entry}, {"Id", iid}});
      playlists.push_back(
          {{"Id", pid}, {"Name", m_items.at(pid).value("Name", "")}, {"Entries", e}});
    }
    json collections = json::array();
    for (const auto& [cid, ids] : m_collections) {
      collections.push_back(
          {{"Id", cid}, {"Name", m_items.at(cid).value("Name", "")}, {"ItemIds", ids}});
    }
    return {{"server", m_server},         {"users", users},
            {"libraries", m_libraries},   {"items", items},
            {"user_data", user_data},     {"playlists", playlists},
            {"collections", collections}, {"sessions", m_sessions},
            {"quirks", m_quirks}};
  }

  void reset() override {
    std::lock_guard lock(m_mutex);
    reset_locked();
  }

  void seed_universe(const json& u) override;

  json credentials() const override {
    std::lock_guard lock(m_mutex);
    const User& u = m_users.front();
    return {{"server", ""},
            {"user_id", u.id},
            {"access_token", u.tokens.empty() ? "" : u.tokens.front()},
            {"username", u.name},
            {"password", u.password}};
  }

  std::string provider_yaml(const std::string& base_url) const override {
    const json c = credentials();
    // The keys of the jellyfin and emby plugins (plugins/mediabrowser).
    return "  " + name() + ":\n    plugin: " + name() + "\n    url: " + base_url +
           "\n    user: " + c["user_id"].get<std::string>() +
           "\n    access_token: " + c["access_token"].get<std::string>() + "\n";
  }

  void fault_response(int status, const httplib::Request&, httplib::Response& res) const override {
    res.status = status;
    if (status == 401) {
      if (!jelly()) res.set_content("Access token is invalid or expired.", "text/plain");
      return;  // Jellyfin: 401 with an empty body
    }
    if (jelly()) {
      res.set_content("", "text/plain");
    } else {
      send_json(res, {{"ErrorMessage", "Service error " + std::to_string(status)}}, status);
    }
  }

 private:
  bool jelly() const { return m_flavor == MediaBrowserFlavor::Jellyfin; }

  std::string new_id() {
    ++m_next_id;
    if (!jelly()) return std::to_string(m_next_id);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x%024llx", 0xcafe0000u,
                  static_cast<unsigned long long>(m_next_id));
    return buf;
  }

  void reset_locked() {
    m_next_id = jelly() ? 0 : 100000;
    m_server = {{"ServerName", "cw-sandbox"},
                // The versions whose API descriptions the fakes follow (api-reference).
                {"Version", jelly() ? "10.11.11" : "4.8.11.0"},
                {"Id", jelly() ? "c0ffee00c0ffee00c0ffee00c0ffee00" : "e0b1e0b1e0b1e0b1"},
                {"ProductName", jelly() ? "Jellyfin Server" : "Emby Server"},
                {"OperatingSystem", "Linux"},
                {"LocalAddress", "http://127.0.0.1"}};
    m_users = {{jelly() ? "6f7a0b3b9c2d4e1f8a7b6c5d4e3f2a10" : "7f3c2a1b9e8d4c6a",
                "alice",
                "secret",
                {jelly() ? "jellyfin-sandbox-token" : "emby-sandbox-token"},
                true}};
    const std::string movies = jelly() ? "f137a2dd21bbc1b99aa5c0f6bf02a805" : "4";
    const std::string shows = jelly() ? "a656b907eb3a73532e40e44b968d0225" : "5";
    m_libraries = {{{"Id", movies},
                    {"Name", "Movies"},
                    {"CollectionType", "movies"},
                    {"Locations", {"/media/movies"}}},
                   {{"Id", shows},
                    {"Name", "Shows"},
                    {"CollectionType", "tvshows"},
                    {"Locations", {"/media/tv"}}}};
    m_items.clear();
    forget_listings();
    m_order.clear();
    m_children.clear();
    m_user_data.clear();
    m_playlists.clear();
    m_collections.clear();
    m_sessions = json::array();
    m_quickconnect.clear();
    m_quirks = {{"null_last_played_date", false}, {"playlist_ignores_ids", json::array()}};
  }

  void add_item(json it) {
    const std::string id = it.at("Id").get<std::string>();
    forget_listings();
    if (!m_items.count(id)) m_order.push_back(id);
    const std::string parent = it.value("ParentId", "");
    if (!parent.empty()) m_children[parent].push_back(id);
    m_items[id] = std::move(it);
  }

  static void apply_user_data(UserData& ud, const json& j) {
    if (j.contains("PlaybackPositionTicks") && !j["PlaybackPositionTicks"].is_null()) {
      ud.position_ticks = j["PlaybackPositionTicks"].get<std::int64_t>();
    }
    if (j.contains("PlayCount") && !j["PlayCount"].is_null()) {
      ud.play_count = j["PlayCount"].get<std::int64_t>();
    }
    if (j.contains("IsFavorite") && !j["IsFavorite"].is_null()) ud.favorite = j["IsFavorite"];
    if (j.contains("Played") && !j["Played"].is_null()) ud.played = j["Played"];
    if (j.contains("LastPlayedDate")) {
      ud.last_played_ms = j["LastPlayedDate"].is_string()
                              ? mediabrowser_parse_date(j["LastPlayedDate"].get<std::string>())
                              : std::nullopt;
    }
    if (j.contains("Rating")) {
      ud.rating =
          j["Rating"].is_number() ? std::optional<double>(j["Rating"].get<double>()) : std::nullopt;
    }
    if (j.contains("Likes")) {
      ud.likes =
          j["Likes"].is_boolean() ? std::optional<bool>(j["Likes"].get<bool>()) : std::nullopt;
    }
  }

  void write_user_data(JsonText& text, const UserData& ud, const std::string& item_id,
                       bool for_wire) const {
    ObjectText o(text);
    o.key("PlaybackPositionTicks").value(ud.position_ticks);
    o.key("PlayCount").value(ud.play_count);
    o.key("IsFavorite").value(ud.favorite);
    o.key("Played").value(ud.played);
    o.key("Key").string(item_id);
    o.key("ItemId").string(item_id);
    if (ud.last_played_ms && !(for_wire && m_quirks.value("null_last_played_date", false))) {
      o.key("LastPlayedDate").string(mediabrowser_date(*ud.last_played_ms));
    }
    if (ud.rating) o.key("Rating").value(*ud.rating);
    if (ud.likes && jelly()) o.key("Likes").value(*ud.likes);
    if (!jelly()) o.key("ServerId").string(m_server.value("Id", ""));
    auto it = m_items.find(item_id);
    if (for_wire && it != m_items.end()) {
      const std::int64_t runtime = it->second.value("RunTimeTicks", 0LL);
      if (runtime > 0 && ud.position_ticks > 0) {
        o.key("PlayedPercentage")
            .value(100.0 * static_cast<double>(ud.position_ticks) / static_cast<double>(runtime));
      }
    }
    o.close();
  }

  json user_data_json(const UserData& ud, const std::string& item_id, bool for_wire) const {
    std::string out;
    JsonText text(out);
    write_user_data(text, ud, item_id, for_wire);
    return json::parse(out);
  }

  UserData user_data(const std::string& uid, const std::string& iid) const {
    auto u = m_user_data.find(uid);
    if (u == m_user_data.end()) return {};
    auto d = u->second.find(iid);
    return d == u->second.end() ? UserData{} : d->second;
  }

  // The user of the request's token (nullptr: answer 401).
  const User* authenticate(const httplib::Request& req) const {
    std::string token = mediabrowser_token(req.get_header_value("Authorization"));
    if (token.empty()) token = mediabrowser_token(req.get_header_value("X-Emby-Authorization"));
    if (token.empty()) token = req.get_header_value("X-Emby-Token");
    if (token.empty()) token = req.get_header_value("X-MediaBrowser-Token");
    if (token.empty()) token = qp(req, "ApiKey").value_or(qp(req, "api_key").value_or(""));
    if (token.empty() || m_ctx->token_expired(req)) return nullptr;
    for (const auto& u : m_users) {
      if (std::find(u.tokens.begin(), u.tokens.end(), token) != u.tokens.end()) return &u;
    }
    return nullptr;
  }

  void unauthorized(httplib::Response& res) const {
    res.status = 401;
    if (!jelly()) res.set_content("Access token is invalid or expired.", "text/plain");
  }

  // Route wrapper: lock, authenticate, and resolve the user of a /Users/{uid}/ route or of
  // the userId query parameter (default: the token's user).
  template <typename F>
  auto authed(F&& f, bool uid_in_path = false) {
    return [this, uid_in_path, f = std::forward<F>(f)](const httplib::Request& req,
                                                       httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      if (req.method != "GET") forget_listings();  // every write route is a POST or DELETE
      const User* u = authenticate(req);
      if (u == nullptr) {
        unauthorized(res);
        return;
      }
      std::string uid = uid_in_path ? std::string(req.matches[1]) : qp(req, "userId").value_or("");
      if (!uid.empty() && lower(uid) != lower(u->id)) {
        res.status = 403;
        res.set_content("User is not allowed to access this user's data.", "text/plain");
        return;
      }
      f(req, res, *u);
    };
  }

  json user_json(const User& u) const {
    json policy = {{"IsAdministrator", u.admin}, {"IsHidden", false}, {"IsDisabled", false}};
    if (jelly()) {
      // Required by Jellyfin's UserPolicy schema; the values a default install reports.
      policy["AuthenticationProviderId"] =
          "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider";
      policy["PasswordResetProviderId"] =
          "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider";
    }
    return {{"Name", u.name},
            {"ServerId", m_server.value("Id", "")},
            {"ServerName", m_server.value("ServerName", "")},
            {"Id", u.id},
            {"HasPassword", !u.password.empty()},
            {"HasConfiguredPassword", !u.password.empty()},
            {"HasConfiguredEasyPassword", false},
            {"EnableAutoLogin", false},
            {"Policy", policy}};
  }

  json auth_result(const User& u, const std::string& token) const {
    return {{"User", user_json(u)},
            {"SessionInfo",
             {{"Id", "sess-" + u.id.substr(0, 8)},
              {"UserId", u.id},
              {"UserName", u.name},
              {"DeviceId", "cw-sandbox-device"},
              {"ServerId", m_server.value("Id", "")}}},
            {"AccessToken", token},
            {"ServerId", m_server.value("Id", "")}};
  }

  // ---- items
  std::string library_of(const json& it) const {
    std::string id = it.value("Id", "");
    for (int depth = 0; depth < 8; ++depth) {
      auto cur = m_items.find(id);
      if (cur == m_items.end()) return id;  // a library id
      const std::string parent = cur->second.value("ParentId", "");
      if (parent.empty()) return {};
      id = parent;
    }
    return {};
  }

  bool is_descendant(const json& it, const std::string& ancestor) const {
    std::string id = it.value("ParentId", "");
    for (int depth = 0; depth < 8 && !id.empty(); ++depth) {
      if (id == ancestor) return true;
      auto cur = m_items.find(id);
      if (cur == m_items.end()) return false;
      id = cur->second.value("ParentId", "");
    }
    return false;
  }

  // Appends one row of an item listing as JSON. Written straight from the stored item, not
  // built as a DOM first: a paged read renders every row once, and building, copying and
  // freeing each row's map nodes was most of the fake's CPU, all of it under the lock (so it
  // bounded how fast any client could page, ~6 ms per 200 rows).
  void write_item(JsonText& text, const json& it, const User& u,
                  const std::set<std::string>& fields, bool with_user_data) const {
    const std::string type = it.value("Type", "");
    const bool video = type == "Movie" || type == "Episode";
    ObjectText o(text);
    bool has_provider_ids = false;
    for (auto m = it.begin(); m != it.end(); ++m) {
      const std::string& name = m.key();
      if (name == "SortName" || name == "ServerId") continue;
      if ((name == "ProviderIds" || name == "Path" || name == "DateCreated" ||
           name == "Overview") &&
          !fields.count(lower(name)))
        continue;
      if (video && (name == "MediaType" || name == "LocationType")) continue;
      if (with_user_data && name == "UserData") continue;
      has_provider_ids = has_provider_ids || name == "ProviderIds";
      o.key(name).value(m.value());
    }
    o.key("ServerId").string(m_server.value("Id", ""));
    if (fields.count("providerids") && !has_provider_ids && type != "Playlist" &&
        type != "BoxSet") {
      o.key("ProviderIds").raw("{}");
    }
    if (video) {
      o.key("MediaType").raw("\"Video\"");
      o.key("LocationType").raw("\"FileSystem\"");
    }
    if (with_user_data) {
      const std::string id = it.value("Id", "");
      write_user_data(o.key("UserData"), user_data(u.id, id), id, true);
    }
    o.close();
  }

  json render_item(const json& it, const User& u, const std::set<std::string>& fields,
                   bool with_user_data) const {
    std::string row;
    JsonText text(row);
    write_item(text, it, u, fields, with_user_data);
    return json::parse(row);
  }

  static std::set<std::string> fields_of(const httplib::Request& req) {
    std::set<std::string> out;
    for (const auto& f : split_list(qp(req, "Fields").value_or(""))) out.insert(lower(f));
    // Emby: asking for UserDataLastPlayedDate makes sure LastPlayedDate is filled.
    return out;
  }

  json views_json(const User& u) const {
    json items = json::array();
    for (const auto& lib : m_libraries) {
      json v = lib;
      v.erase("Locations");  // a BaseItemDto has no Locations (VirtualFolderInfo does)
      v["Type"] = "CollectionFolder";
      v["IsFolder"] = true;
      v["ServerId"] = m_server.value("Id", "");
      (void)u;
      items.push_back(std::move(v));
    }
    json out = {{"Items", items}, {"TotalRecordCount", items.size()}};
    if (jelly()) out["StartIndex"] = 0;
    return out;
  }

  void query_items(const httplib::Request& req, httplib::Response& res, const User& u) const {
    const auto types = split_list(qp(req, "IncludeItemTypes").value_or(""));
    const auto excluded = split_list(qp(req, "ExcludeItemTypes").value_or(""));
    const auto ids = split_list(qp(req, "Ids").value_or(""));
    const std::string parent = qp(req, "ParentId").value_or("");
    const bool recursive = qp_bool(req, "Recursive", false);
    const std::string search = lower(qp(req, "SearchTerm").value_or(""));
    std::set<std::string> filters;
    for (const auto& f : split_list(qp(req, "Filters").value_or(""))) filters.insert(lower(f));
    if (qp(req, "IsFavorite"))
      filters.insert(qp_bool(req, "IsFavorite", false) ? "isfavorite" : "isnotfavorite");
    if (qp(req, "IsPlayed"))
      filters.insert(qp_bool(req, "IsPlayed", false) ? "isplayed" : "isunplayed");
    // Emby only: rows whose ProviderIds hold one of the provider.value pairs. Jellyfin has no
    // provider-id filter and ignores the parameter, as the real server does.
    std::vector<std::pair<std::string, std::string>> any_provider;
    if (!jelly()) {
      for (const auto& pair : split_list(qp(req, "AnyProviderIdEquals").value_or(""))) {
        const auto dot = pair.find('.');
        if (dot != std::string::npos) {
          any_provider.push_back({lower(pair.substr(0, dot)), lower(pair.substr(dot + 1))});
        }
      }
    }
    const bool want_views =
        ids.empty() && parent.empty() && !recursive && types.empty() && search.empty();
    if (want_views) {
      send_json(res, views_json(u));
      return;
    }
    // Which rows, in which order: kept per user and query until the next write (any request
    // but a GET, a seed, a reset). A paged read asks the same query once per page, and
    // filtering and sorting a 100k-item library took ~134 ms per page, which made a full read
    // quadratic.
    std::string cache_key = u.id + "|" + req.path + "|";
    for (const auto& [k, v] : req.params) {
      const std::string name = lower(k);
      if (name == "startindex" || name == "limit" || name == "api_key" || name == "apikey")
        continue;
      cache_key += name + "=" + v + "&";
    }
    auto cached = m_listings.find(cache_key);
    if (cached == m_listings.end()) {
      const std::set<std::string> lower_types = [&] {
        std::set<std::string> s;
        for (const auto& t : types) s.insert(lower(t));
        return s;
      }();
      std::vector<const json*> hits;
      auto consider = [&](const json& it) {
        const std::string type = it.value("Type", "");
        if (!lower_types.empty() && !lower_types.count(lower(type))) return;
        for (const auto& e : excluded) {
          if (lower(e) == lower(type)) return;
        }
        const std::string id = it.value("Id", "");
        if (!search.empty() && lower(it.value("Name", "")).find(search) == std::string::npos)
          return;
        const UserData ud = user_data(u.id, id);
        if (filters.count("isfavorite") && !ud.favorite) return;
        if (filters.count("isnotfavorite") && ud.favorite) return;
        if (filters.count("isplayed") && !ud.played) return;
        if (filters.count("isunplayed") && ud.played) return;
        if (filters.count("isresumable") && ud.position_ticks <= 0) return;
        if (!any_provider.empty()) {
          bool match = false;
          const json pids = it.value("ProviderIds", json::object());
          for (const auto& [k, v] : pids.items()) {
            for (const auto& [pk, pv] : any_provider) {
              if (lower(k) == pk && v.is_string() && lower(v.get<std::string>()) == pv)
                match = true;
            }
          }
          if (!match) return;
        }
        hits.push_back(&it);
      };
      if (!ids.empty()) {
        for (const auto& id : ids) {
          auto it = m_items.find(id);
          if (it != m_items.end()) consider(it->second);
        }
      } else if (!parent.empty() && !recursive) {
        auto coll = m_collections.find(parent);
        if (coll != m_collections.end()) {
          for (const auto& id : coll->second) {
            auto it = m_items.find(id);
            if (it != m_items.end()) consider(it->second);
          }
        } else if (auto kids = m_children.find(parent); kids != m_children.end()) {
          for (const auto& id : kids->second) consider(m_items.at(id));
        }
      } else {
        for (const auto& id : m_order) {
          const json& it = m_items.at(id);
          if (!parent.empty() && !is_descendant(it, parent)) continue;
          consider(it);
        }
      }
      // SortBy: unknown values (DateLastSaved …) are dropped silently, as ASP.NET's binder does.
      const auto sort_by = split_list(qp(req, "SortBy").value_or(""));
      const bool desc = lower(qp(req, "SortOrder").value_or("Ascending")).rfind("desc", 0) == 0;
      for (auto s = sort_by.rbegin(); s != sort_by.rend(); ++s) {
        const std::string key = lower(*s);
        auto sort_key = [&](const json* it) -> std::string {
          if (key == "dateplayed") {
            const auto ud = user_data(u.id, it->value("Id", ""));
            return ud.last_played_ms ? iso_from_ms(*ud.last_played_ms) : "";
          }
          if (key == "sortname" || key == "name") return lower(it->value("Name", ""));
          if (key == "datecreated") return it->value("DateCreated", "");
          if (key == "productionyear")
            return std::to_string(10000 + it->value("ProductionYear", 0));
          return "";
        };
        if (key != "dateplayed" && key != "sortname" && key != "name" && key != "datecreated" &&
            key != "productionyear") {
          continue;
        }
        // Each row's key once, not twice per comparison.
        std::vector<std::pair<std::string, const json*>> keyed;
        keyed.reserve(hits.size());
        for (const json* h : hits) keyed.emplace_back(sort_key(h), h);
        std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
          return desc ? a.first > b.first : a.first < b.first;
        });
        for (std::size_t i = 0; i < keyed.size(); ++i) hits[i] = keyed[i].second;
      }
      if (m_listings.size() >= 64) forget_listings();  // bounded: 8 bytes per row
      cached = m_listings.emplace(std::move(cache_key), std::move(hits)).first;
    }
    const std::vector<const json*>& hits = cached->second;
    const long long start = std::max(0LL, std::atoll(qp(req, "StartIndex").value_or("0").c_str()));
    const auto limit_str = qp(req, "Limit");
    const std::size_t limit =
        limit_str ? static_cast<std::size_t>(std::max(0LL, std::atoll(limit_str->c_str())))
                  : hits.size();
    const auto p = m_ctx->page(req, hits.size(), static_cast<std::size_t>(start), limit);
    // The page as sent, kept with its listing (and forgotten with it): rendering copies each
    // row, adds its user data and dumps the page, ~7 ms per 200 rows, CPU the sandbox took
    // from cw on a 2-core machine during a paged read. Everything a page depends on is in
    // the key (the query but the window, the window the pager chose, the start echoed) or
    // changes only with a write, a seed, a reset or a quirk, which forget every page.
    std::string page_key = cached->first + "#" + std::to_string(p.start) + "-" +
                           std::to_string(p.end()) + "/" + std::to_string(p.total) + "@" +
                           std::to_string(start);
    auto page = m_pages.find(page_key);
    if (page == m_pages.end()) {
      const auto fields = fields_of(req);
      const bool with_user_data = qp_bool(req, "EnableUserData", true);
      std::string body = "{\"Items\":[";
      JsonText text(body);
      for (std::size_t i = p.start; i < p.end(); ++i) {
        if (i != p.start) body += ',';
        write_item(text, *hits[i], u, fields, with_user_data);
      }
      body += "],\"TotalRecordCount\":";
      body += std::to_string(qp_bool(req, "EnableTotalRecordCount", true) ? p.total : 0);
      if (jelly()) body += ",\"StartIndex\":" + std::to_string(start);
      body += '}';
      if (m_page_bytes + body.size() > k_max_page_bytes) {
        m_pages.clear();
        m_page_bytes = 0;
      }
      m_page_bytes += body.size();
      page = m_pages.emplace(std::move(page_key), std::move(body)).first;
    }
    res.status = 200;
    res.set_content(page->second, "application/json; charset=utf-8");  // as send_json()
  }

  // Listings and rendered pages answer GETs until anything changes.
  void forget_listings() const {
    m_listings.clear();
    m_pages.clear();
    m_page_bytes = 0;
  }

  void get_item(const std::string& id, const httplib::Request& req, httplib::Response& res,
                const User& u) const {
    auto it = m_items.find(id);
    if (it == m_items.end()) {
      res.status = 404;
      if (!jelly()) res.set_content("Item not found.", "text/plain");
      return;
    }
    std::set<std::string> fields = fields_of(req);
    fields.insert("providerids");  // single-item answers carry the full DTO
    fields.insert("path");
    fields.insert("datecreated");
    send_json(res, render_item(it->second, u, fields, true));
  }

  // ---- writes
  UserData* writable(const std::string& uid, const std::string& iid, httplib::Response& res) {
    if (!m_items.count(iid)) {
      res.status = 404;
      if (!jelly()) res.set_content("Item not found.", "text/plain");
      return nullptr;
    }
    m_ctx->note_write();  // opens the stale_reads window of the fault catalogue
    return &m_user_data[uid][iid];
  }

  void set_favorite(const std::string& iid, bool on, httplib::Response& res, const User& u) {
    UserData* ud = writable(u.id, iid, res);
    if (ud == nullptr) return;
    ud->favorite = on;
    send_json(res, user_data_json(*ud, iid, true));
  }

  void set_played(const std::string& iid, bool on, const httplib::Request& req,
                  httplib::Response& res, const User& u) {
    UserData* ud = writable(u.id, iid, res);
    if (ud == nullptr) return;
    if (on) {
      std::optional<std::int64_t> when;
      if (const auto d = qp(req, "DatePlayed")) {
        const auto parsed = mediabrowser_parse_date(*d);
        if (!parsed) {
          res.status = 400;
          res.set_content("The value '" + *d + "' is not valid for DatePlayed.", "text/plain");
          return;
        }
        when = *parsed;
      } else if (!req.body.empty() && json::accept(req.body)) {
        const json body = json::parse(req.body);
        if (body.contains("DatePlayed") && body["DatePlayed"].is_string()) {
          when = mediabrowser_parse_date(body["DatePlayed"].get<std::string>());
        }
      }
      // BaseItem.MarkPlayed: a date counts a play and becomes the last played date; without
      // one the count is at least 1 and an existing date stays.
      ud->played = true;
      if (when) ud->play_count += 1;
      ud->play_count = std::max<std::int64_t>(ud->play_count, 1);
      ud->position_ticks = 0;
      ud->last_played_ms = when ? when : ud->last_played_ms ? ud->last_played_ms : m_ctx->now_ms();
    } else {
      // BaseItem.MarkUnplayed clears the date too.
      ud->played = false;
      ud->play_count = 0;
      ud->position_ticks = 0;
      ud->last_played_ms.reset();
    }
    send_json(res, user_data_json(*ud, iid, true));
  }

  void update_user_data(const std::string& iid, const httplib::Request& req, httplib::Response& res,
                        const User& u) {
    if (!json::accept(req.body)) {
      res.status = 400;
      res.set_content("The request body is not valid JSON.", "text/plain");
      return;
    }
    UserData* ud = writable(u.id, iid, res);
    if (ud == nullptr) return;
    // Only the fields sent change (UpdateUserItemDataDto: every field nullable).
    apply_user_data(*ud, json::parse(req.body));
    send_json(res, user_data_json(*ud, iid, true));
  }

  void set_likes(const std::string& iid, std::optional<bool> likes, httplib::Response& res,
                 const User& u) {
    UserData* ud = writable(u.id, iid, res);
    if (ud == nullptr) return;
    ud->likes = likes;
    send_json(res, user_data_json(*ud, iid, true));
  }

  Context* m_ctx = nullptr;
  MediaBrowserFlavor m_flavor;
  mutable std::mutex m_mutex;
  std::int64_t m_next_id = 0;
  json m_server;
  std::vector<User> m_users;
  std::vector<json> m_libraries;
  std::unordered_map<std::string, json> m_items;
  std::vector<std::string> m_order;
  std::unordered_map<std::string, std::vector<std::string>> m_children;
  std::unordered_map<std::string, std::unordered_map<std::string, UserData>> m_user_data;
  // query_items(): user and query → the rows it selects, in order, until the next write.
  mutable std::unordered_map<std::string, std::vector<const json*>> m_listings;
  // Rendered item pages (see query_items), bounded in bytes: a full 100k-item read is ~40 MB.
  static constexpr std::size_t k_max_page_bytes = 96u << 20;
  mutable std::unordered_map<std::string, std::string> m_pages;
  mutable std::size_t m_page_bytes = 0;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> m_playlists;
  std::map<std::string, std::vector<std::string>> m_collections;
  json m_sessions;
  long long m_next_session = 1;  // sessions keep their Id while they play, as the servers' do
  std::map<std::string, json> m_quickconnect;  // secret → {Code, Authenticated, UserId}
  json m_quirks;
  NotificationFeed m_feed;  // Jellyfin's /socket, Emby's /embywebsocket

  // GET /Sessions: every session with its user, device and what it plays.
  json sessions_json() const {
    json out = json::array();
    int n = 0;
    for (const auto& s : m_sessions) {
      ++n;
      const std::string uid = s.value("UserId", "");
      std::string user_name;
      for (const auto& u : m_users)
        if (u.id == uid) user_name = u.name;
      const std::string id = s.value("Id", "session-" + std::to_string(n));
      json sess = {{"Id", id},
                   {"UserId", uid},
                   {"UserName", user_name},
                   {"DeviceId", "device-" + id.substr(id.find('-') + 1)},
                   {"DeviceName", "Sandbox TV"},
                   {"Client", "Sandbox Player"}};
      auto it = m_items.find(s.value("NowPlayingItemId", ""));
      if (it != m_items.end()) {
        // NowPlayingItem is a BaseItemDto: the fields a watcher identifies it by.
        json now = {{"Id", it->first},
                    {"Name", it->second.value("Name", "")},
                    {"Type", it->second.value("Type", "")}};
        for (const char* k : {"RunTimeTicks", "ProductionYear", "ProviderIds", "SeriesName",
                              "SeriesId", "ParentIndexNumber", "IndexNumber"})
          if (it->second.contains(k)) now[k] = it->second[k];
        sess["NowPlayingItem"] = std::move(now);
        sess["PlayState"] = {{"PositionTicks", s.value("PositionTicks", std::int64_t{0})},
                             {"IsPaused", s.value("IsPaused", false)},
                             {"CanSeek", true},
                             {"PlayMethod", "DirectPlay"}};
      }
      out.push_back(std::move(sess));
    }
    return out;
  }

  // A message of the servers' websocket: {"MessageType", "MessageId" (a uuid), "Data"}, as
  // Jellyfin's OutboundWebSocketMessage schemas have it (KeepAlive carries no Data).
  std::string socket_message(const std::string& type, const json& data) {
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012llx", m_next_message++);
    json msg = {{"MessageType", type}, {"MessageId", id}};
    if (!data.is_null()) msg["Data"] = data;
    return msg.dump();
  }
  long long m_next_message = 1;

  // The sessions changed (a player reported): subscribers of "Sessions" (a client that sent
  // SessionsStart) get the whole list, as the servers' SessionInfoWebSocketListener sends it.
  void sessions_changed() {
    m_feed.publish(socket_message("Sessions", sessions_json()), "Sessions");
  }
};

void MediaBrowserFake::register_routes(httplib::Server& srv, Context& ctx) {
  m_ctx = &ctx;
  // ---- auth and system
  srv.Post("/Users/AuthenticateByName", [this](const httplib::Request& req,
                                               httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    std::string username, password;
    const bool form =
        req.get_header_value("Content-Type").find("x-www-form-urlencoded") != std::string::npos;
    if (form) {
      // Emby logs in with a form body; httplib parses it into params.
      username = qp(req, "Username").value_or("");
      password = qp(req, "Pw").value_or(qp(req, "Password").value_or(""));
    } else if (json::accept(req.body)) {
      const json body = json::parse(req.body);
      username = body.value("Username", "");
      password = body.value("Pw", "");
    } else {
      res.status = 400;
      res.set_content("Username and Pw are required.", "text/plain");
      return;
    }
    if (jelly() && form) {
      res.status = 415;
      return;
    }
    for (auto& u : m_users) {
      if (lower(u.name) == lower(username) && u.password == password) {
        const std::string token = (jelly() ? "jf-" : "emby-") + new_id();
        u.tokens.push_back(token);
        send_json(res, auth_result(u, token));
        return;
      }
    }
    res.status = 401;
    res.set_content(jelly() ? "Error processing request." : "Invalid username or password entered.",
                    "text/plain");
  });
  srv.Get("/System/Info/Public", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    json info = {{"ServerName", m_server["ServerName"]},
                 {"Version", m_server["Version"]},
                 {"Id", m_server["Id"]},
                 {"LocalAddress", m_ctx->base_url()}};
    if (jelly()) {
      info["ProductName"] = m_server["ProductName"];
      info["OperatingSystem"] = m_server["OperatingSystem"];
      info["StartupWizardCompleted"] = true;
    }
    send_json(res, info);
  });
  srv.Get("/System/Info",
          authed([this](const httplib::Request&, httplib::Response& res, const User&) {
            json info = {{"ServerName", m_server["ServerName"]},
                         {"Version", m_server["Version"]},
                         {"Id", m_server["Id"]},
                         {"OperatingSystem", m_server["OperatingSystem"]},
                         {"LocalAddress", m_ctx->base_url()},
                         {"HasPendingRestart", false},
                         {"IsShuttingDown", false},
                         {"SupportsLibraryMonitor", true},
                         {"WebSocketPortNumber", 8096},
                         {"CanSelfRestart", true},
                         {"HasUpdateAvailable", false}};
            if (jelly()) {
              info["ProductName"] = m_server["ProductName"];
              info["StartupWizardCompleted"] = true;
            }
            send_json(res, info);
          }));
  if (jelly()) {  // Emby has no /Users/Me
    srv.Get("/Users/Me", authed([this](const httplib::Request&, httplib::Response& res,
                                       const User& u) { send_json(res, user_json(u)); }));
  }
  if (jelly()) {
    srv.Get("/QuickConnect/Enabled", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("true", "application/json; charset=utf-8");
    });
    srv.Post("/QuickConnect/Initiate", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      const std::string secret = "qc-secret-" + new_id();
      const std::string code = std::to_string(100000 + (m_next_id * 7919) % 900000);
      m_quickconnect[secret] = {{"Code", code}, {"Authenticated", false}};
      send_json(res, {{"Authenticated", false},
                      {"Secret", secret},
                      {"Code", code},
                      {"DeviceId", "cw-sandbox-device"},
                      {"DeviceName", "cw"},
                      {"AppName", "cw"},
                      {"AppVersion", "0.1.0"},
                      {"DateAdded", mediabrowser_date(m_ctx->now_ms())}});
    });
    srv.Get("/QuickConnect/Connect", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      auto it = m_quickconnect.find(qp(req, "secret").value_or(""));
      if (it == m_quickconnect.end()) {
        res.status = 404;
        return;
      }
      send_json(res, {{"Authenticated", it->second["Authenticated"]},
                      {"Secret", it->first},
                      {"Code", it->second["Code"]}});
    });
    srv.Post("/Users/AuthenticateWithQuickConnect",
             [this](const httplib::Request& req, httplib::Response& res) {
               std::lock_guard lock(m_mutex);
               const std::string secret =
                   json::accept(req.body) ? json::parse(req.body).value("Secret", "") : "";
               auto it = m_quickconnect.find(secret);
               if (it == m_quickconnect.end() || !it->second["Authenticated"].get<bool>()) {
                 res.status = 401;
                 return;
               }
               User& u = m_users.front();
               const std::string token = "jf-" + new_id();
               u.tokens.push_back(token);
               m_quickconnect.erase(it);
               send_json(res, auth_result(u, token));
             });
    // Test hook: the user approves the code in the Jellyfin UI.
    srv.Post("/__sandbox/jellyfin/quickconnect/([0-9]+)/authorize",
             [this](const httplib::Request& req, httplib::Response& res) {
               std::lock_guard lock(m_mutex);
               for (auto& [secret, qc] : m_quickconnect) {
                 if (qc["Code"] == std::string(req.matches[1])) {
                   qc["Authenticated"] = true;
                   send_json(res, {{"ok", true}});
                   return;
                 }
               }
               send_json(res, {{"error", "no such code"}}, 404);
             });
  }
  // ---- users. Registered before /Users/{id} so that Public and Query are not taken for ids.
  // An administrator sees every user, anyone else only themselves.
  auto visible_users = [this](const User& me) {
    json out = json::array();
    for (const auto& u : m_users) {
      if (me.admin || u.id == me.id) out.push_back(user_json(u));
    }
    return out;
  };
  srv.Get("/Users/Public", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    json out = json::array();
    for (const auto& u : m_users) out.push_back(user_json(u));
    send_json(res, out);
  });
  if (jelly()) {
    srv.Get("/Users", authed([visible_users](const httplib::Request&, httplib::Response& res,
                                             const User& u) { send_json(res, visible_users(u)); }));
  } else {
    srv.Get("/Users/Query",
            authed([visible_users](const httplib::Request&, httplib::Response& res, const User& u) {
              const json users = visible_users(u);
              send_json(res, {{"Items", users}, {"TotalRecordCount", users.size()}});
            }));
  }
  srv.Get("/Users/([^/]+)", authed([this](const httplib::Request&, httplib::Response& res,
                                          const User& u) { send_json(res, user_json(u)); },
                                   true));

  // ---- playback reporting (a player's start, progress and stop), as the servers' session
  // manager applies it to the user data.
  auto playback = [this](const User& u, const std::string& iid, std::optional<std::int64_t> ticks,
                         int event, httplib::Response& res) {
    auto it = m_items.find(iid);
    if (it == m_items.end()) {
      res.status = 404;
      return;
    }
    json* session = nullptr;
    for (auto& sess : m_sessions) {
      if (sess.value("UserId", "") == u.id && sess.value("NowPlayingItemId", "") == iid)
        session = &sess;
    }
    if (event == 0 && session == nullptr) {
      m_sessions.push_back({{"Id", "session-" + std::to_string(m_next_session++)},
                            {"UserId", u.id},
                            {"NowPlayingItemId", iid},
                            {"PositionTicks", 0}});
      session = &m_sessions.back();
    }
    if (session != nullptr && ticks) (*session)["PositionTicks"] = *ticks;
    UserData& ud = m_user_data[u.id][iid];
    m_ctx->note_write();
    if (event == 1 && ticks) ud.position_ticks = *ticks;
    if (event == 2) {
      // UpdatePlayState: past 90 % is played (the position resets), under 5 % keeps none.
      const std::int64_t runtime = it->second.value("RunTimeTicks", 0LL);
      const std::int64_t pos = ticks.value_or(ud.position_ticks);
      const double pct =
          runtime > 0 ? 100.0 * static_cast<double>(pos) / static_cast<double>(runtime) : 0;
      if (runtime > 0 && pct >= 90) {
        ud.position_ticks = 0;
        ud.played = true;
        ud.play_count += 1;
      } else if (runtime > 0 && pct < 5) {
        ud.position_ticks = 0;
      } else {
        ud.position_ticks = pos;
      }
      ud.last_played_ms = m_ctx->now_ms();
      json left = json::array();
      for (const auto& sess : m_sessions) {
        if (sess.value("UserId", "") != u.id || sess.value("NowPlayingItemId", "") != iid)
          left.push_back(sess);
      }
      m_sessions = std::move(left);
    }
    res.status = 204;
  };
  auto info_route = [this, playback](int event) {
    return [this, playback, event](const httplib::Request& req, httplib::Response& res,
                                   const User& u) {
      const json body = json::accept(req.body) ? json::parse(req.body) : json::object();
      std::string iid;
      if (body.is_object() && body.contains("ItemId") && body["ItemId"].is_string())
        iid = body["ItemId"].get<std::string>();
      std::optional<std::int64_t> ticks;
      if (body.is_object() && body.contains("PositionTicks") && body["PositionTicks"].is_number())
        ticks = body["PositionTicks"].get<std::int64_t>();
      if (iid.empty()) {
        res.status = 400;
        res.set_content("ItemId is required.", "text/plain");
        return;
      }
      playback(u, iid, ticks, event, res);
      // A player's pause and unpause show in the session's PlayState.
      if (event == 1 && body.contains("IsPaused") && body["IsPaused"].is_boolean())
        for (auto& sess : m_sessions)
          if (sess.value("UserId", "") == u.id && sess.value("NowPlayingItemId", "") == iid)
            sess["IsPaused"] = body["IsPaused"];
      if (res.status == 204) sessions_changed();
    };
  };
  srv.Post("/Sessions/Playing", authed(info_route(0)));
  srv.Post("/Sessions/Playing/Progress", authed(info_route(1)));
  srv.Post("/Sessions/Playing/Stopped", authed(info_route(2)));
  if (!jelly()) {
    // Emby's per-user forms: /Users/{uid}/PlayingItems/{id}[?PositionTicks=].
    auto playing_item = [this, playback](int event) {
      return [this, playback, event](const httplib::Request& req, httplib::Response& res,
                                     const User& u) {
        std::optional<std::int64_t> ticks;
        if (const auto t = qp(req, "PositionTicks")) ticks = std::atoll(t->c_str());
        playback(u, req.matches[2], ticks, event, res);
        if (res.status == 204) sessions_changed();
      };
    };
    srv.Post("/Users/([^/]+)/PlayingItems/([^/]+)", authed(playing_item(0), true));
    srv.Post("/Users/([^/]+)/PlayingItems/([^/]+)/Progress", authed(playing_item(1), true));
    srv.Delete("/Users/([^/]+)/PlayingItems/([^/]+)", authed(playing_item(2), true));
    srv.Post("/Users/([^/]+)/PlayingItems/([^/]+)/Delete", authed(playing_item(2), true));
  }

  // ---- reads
  auto items_route = [this](const httplib::Request& req, httplib::Response& res, const User& u) {
    query_items(req, res, u);
  };
  auto item_route = [this](const httplib::Request& req, httplib::Response& res, const User& u) {
    get_item(req.matches[req.matches.size() - 1], req, res, u);
  };
  srv.Get("/Users/([^/]+)/Items", authed(items_route, true));
  srv.Get("/Users/([^/]+)/Items/([^/]+)", authed(item_route, true));
  srv.Get("/Users/([^/]+)/Views", authed([this](const httplib::Request&, httplib::Response& res,
                                                const User& u) { send_json(res, views_json(u)); },
                                         true));
  srv.Get("/Library/MediaFolders",
          authed([this](const httplib::Request&, httplib::Response& res, const User& u) {
            send_json(res, views_json(u));
          }));
  srv.Get("/Items", authed(items_route));
  if (jelly()) srv.Get("/Items/([^/]+)", authed(item_route));  // Emby: GET /Users/{uid}/Items/{id}
  if (jelly()) {
    srv.Get("/UserViews", authed([this](const httplib::Request&, httplib::Response& res,
                                        const User& u) { send_json(res, views_json(u)); }));
  }
  srv.Get("/Shows/([^/]+)/Episodes",
          authed([this](const httplib::Request& req, httplib::Response& res, const User& u) {
            const std::string sid = req.matches[1];
            if (!m_items.count(sid)) {
              res.status = 404;
              return;
            }
            std::vector<const json*> eps;
            for (const auto& id : m_order) {
              const json& it = m_items.at(id);
              if (it.value("Type", "") == "Episode" && it.value("SeriesId", "") == sid)
                eps.push_back(&it);
            }
            std::stable_sort(eps.begin(), eps.end(), [](const json* a, const json* b) {
              return std::make_pair(a->value("ParentIndexNumber", 0), a->value("IndexNumber", 0)) <
                     std::make_pair(b->value("ParentIndexNumber", 0), b->value("IndexNumber", 0));
            });
            const long long start =
                std::max(0LL, std::atoll(qp(req, "StartIndex").value_or("0").c_str()));
            const auto limit_str = qp(req, "Limit");
            const auto p = m_ctx->page(
                req, eps.size(), static_cast<std::size_t>(start),
                limit_str ? static_cast<std::size_t>(std::atoll(limit_str->c_str())) : eps.size());
            json items = json::array();
            const auto fields = fields_of(req);
            const bool with_ud = qp_bool(req, "EnableUserData", true);
            for (std::size_t i = p.start; i < p.end(); ++i)
              items.push_back(render_item(*eps[i], u, fields, with_ud));
            json out = {{"Items", items}, {"TotalRecordCount", p.total}};
            if (jelly()) out["StartIndex"] = start;
            send_json(res, out);
          }));
  srv.Get("/Shows/([^/]+)/Seasons",
          authed([this](const httplib::Request& req, httplib::Response& res, const User& u) {
            const std::string sid = req.matches[1];
            if (!m_items.count(sid)) {
              res.status = 404;
              return;
            }
            std::vector<const json*> seasons;
            for (const auto& id : m_order) {
              const json& it = m_items.at(id);
              if (it.value("Type", "") == "Season" && it.value("SeriesId", "") == sid)
                seasons.push_back(&it);
            }
            std::stable_sort(seasons.begin(), seasons.end(), [](const json* a, const json* b) {
              return a->value("IndexNumber", 0) < b->value("IndexNumber", 0);
            });
            json items = json::array();
            const auto fields = fields_of(req);
            const bool with_ud = qp_bool(req, "EnableUserData", true);
            for (const json* it : seasons) items.push_back(render_item(*it, u, fields, with_ud));
            json out = {{"Items", items}, {"TotalRecordCount", items.size()}};
            if (jelly()) out["StartIndex"] = 0;
            send_json(res, out);
          }));
  srv.Get("/Sessions", authed([this](const httplib::Request&, httplib::Response& res, const User&) {
            send_json(res, sessions_json());
          }));
  // The session websocket (Jellyfin /socket, Emby /embywebsocket; api_key in the query or the
  // usual headers): ForceKeepAlive on connect, KeepAlive answered, and after SessionsStart
  // the session list, then again whenever a player reports.
  srv.Get(jelly() ? "/socket" : "/embywebsocket",
          authed([this](const httplib::Request& req, httplib::Response& res, const User&) {
            auto on_message = [this](const std::string& text, std::set<std::string>& topics) {
              std::vector<std::string> replies;
              const json msg = json::parse(text, nullptr, false);
              const std::string type =
                  msg.is_object() && msg.contains("MessageType") && msg["MessageType"].is_string()
                      ? msg["MessageType"].get<std::string>()
                      : "";
              std::lock_guard lock(m_mutex);
              if (type == "SessionsStart") {
                topics.insert("Sessions");
                replies.push_back(socket_message("Sessions", sessions_json()));
              } else if (type == "SessionsStop") {
                topics.erase("Sessions");
              } else if (type == "KeepAlive") {
                replies.push_back(socket_message("KeepAlive", nullptr));
              }
              return replies;
            };
            m_feed.serve(req, res, on_message, {socket_message("ForceKeepAlive", 60)});
          }));

  // ---- writes: favourites, played, user data, likes
  auto fav = [this](bool on) {
    return [this, on](const httplib::Request& req, httplib::Response& res, const User& u) {
      set_favorite(req.matches[req.matches.size() - 1], on, res, u);
    };
  };
  auto played = [this](bool on) {
    return [this, on](const httplib::Request& req, httplib::Response& res, const User& u) {
      set_played(req.matches[req.matches.size() - 1], on, req, res, u);
    };
  };
  auto userdata = [this](const httplib::Request& req, httplib::Response& res, const User& u) {
    update_user_data(req.matches[req.matches.size() - 1], req, res, u);
  };
  srv.Post("/Users/([^/]+)/FavoriteItems/([^/]+)", authed(fav(true), true));
  srv.Delete("/Users/([^/]+)/FavoriteItems/([^/]+)", authed(fav(false), true));
  srv.Post("/Users/([^/]+)/PlayedItems/([^/]+)", authed(played(true), true));
  srv.Delete("/Users/([^/]+)/PlayedItems/([^/]+)", authed(played(false), true));
  srv.Post("/Users/([^/]+)/Items/([^/]+)/UserData", authed(userdata, true));
  if (!jelly()) {
    // Emby's POST fallbacks for clients that cannot send DELETE.
    srv.Post("/Users/([^/]+)/FavoriteItems/([^/]+)/Delete", authed(fav(false), true));
    srv.Post("/Users/([^/]+)/PlayedItems/([^/]+)/Delete", authed(played(false), true));
  }
  auto likes = [this](bool clear) {
    return [this, clear](const httplib::Request& req, httplib::Response& res, const User& u) {
      std::optional<bool> v;
      if (!clear) v = lower(qp(req, "Likes").value_or("true")) == "true";
      set_likes(req.matches[req.matches.size() - 1], v, res, u);
    };
  };
  srv.Post("/Users/([^/]+)/Items/([^/]+)/Rating", authed(likes(false), true));
  srv.Delete("/Users/([^/]+)/Items/([^/]+)/Rating", authed(likes(true), true));
  if (jelly()) {
    srv.Post("/UserFavoriteItems/([^/]+)", authed(fav(true)));
    srv.Delete("/UserFavoriteItems/([^/]+)", authed(fav(false)));
    srv.Post("/UserPlayedItems/([^/]+)", authed(played(true)));
    srv.Delete("/UserPlayedItems/([^/]+)", authed(played(false)));
    srv.Post("/UserItems/([^/]+)/UserData", authed(userdata));
    srv.Get("/UserItems/([^/]+)/UserData",
            authed([this](const httplib::Request& req, httplib::Response& res, const User& u) {
              const std::string iid = req.matches[1];
              if (!m_items.count(iid)) {
                res.status = 404;
                return;
              }
              send_json(res, user_data_json(user_data(u.id, iid), iid, true));
            }));
    srv.Post("/UserItems/([^/]+)/Rating", authed(likes(false)));
    srv.Delete("/UserItems/([^/]+)/Rating", authed(likes(true)));
  }

  // ---- playlists
  srv.Post("/Playlists",
           authed([this](const httplib::Request& req, httplib::Response& res, const User& u) {
             std::string name = qp(req, "Name").value_or("");
             std::vector<std::string> ids = split_list(qp(req, "Ids").value_or(""));
             if (name.empty() && json::accept(req.body)) {
               const json body = json::parse(req.body);
               name = body.value("Name", "");
               for (const auto& id : body.value("Ids", json::array()))
                 ids.push_back(id.get<std::string>());
             }
             if (name.empty()) {
               res.status = 400;
               res.set_content("Name is required.", "text/plain");
               return;
             }
             const std::string pid = new_id();
             add_item({{"Id", pid},
                       {"Name", name},
                       {"Type", "Playlist"},
                       {"IsFolder", true},
                       {"MediaType", "Video"}});
             auto& entries = m_playlists[pid];
             for (const auto& id : ids) entries.push_back({new_id(), id});
             (void)u;
             json out = {{"Id", pid}};
             if (!jelly()) {
               out["Name"] = name;
               out["ItemAddedCount"] = ids.size();
             }
             send_json(res, out);
           }));
  srv.Get("/Playlists/([^/]+)/Items",
          authed([this](const httplib::Request& req, httplib::Response& res, const User& u) {
            auto pl = m_playlists.find(req.matches[1]);
            if (pl == m_playlists.end()) {
              res.status = 404;
              return;
            }
            const long long start =
                std::max(0LL, std::atoll(qp(req, "StartIndex").value_or("0").c_str()));
            const auto limit_str = qp(req, "Limit");
            const auto p =
                m_ctx->page(req, pl->second.size(), static_cast<std::size_t>(start),
                            limit_str ? static_cast<std::size_t>(std::atoll(limit_str->c_str()))
                                      : pl->second.size());
            const auto fields = fields_of(req);
            json items = json::array();
            for (std::size_t i = p.start; i < p.end(); ++i) {
              const auto& [entry, iid] = pl->second[i];
              auto it = m_items.find(iid);
              if (it == m_items.end()) continue;
              json row = render_item(it->second, u, fields, qp_bool(req, "EnableUserData", false));
              row["PlaylistItemId"] = entry;
              items.push_back(std::move(row));
            }
            json out = {{"Items", items}, {"TotalRecordCount", p.total}};
            if (jelly()) out["StartIndex"] = start;
            send_json(res, out);
          }));
  srv.Post("/Playlists/([^/]+)/Items",
           authed([this](const httplib::Request& req, httplib::Response& res, const User&) {
             auto pl = m_playlists.find(req.matches[1]);
             if (pl == m_playlists.end()) {
               res.status = 404;
               return;
             }
             const auto ignored = m_quirks.value("playlist_ignores_ids", json::array());
             for (const auto& id : split_list(qp(req, "Ids").value_or(""))) {
               if (!m_items.count(id)) continue;
               if (std::find(ignored.begin(), ignored.end(), json(id)) != ignored.end()) continue;
               pl->second.push_back({new_id(), id});
             }
             m_ctx->note_write();
             res.status = 204;
           }));
  auto remove_entries = [this](const httplib::Request& req, httplib::Response& res, const User&) {
    auto pl = m_playlists.find(req.matches[1]);
    if (pl == m_playlists.end()) {
      res.status = 404;
      return;
    }
    const auto entries = split_list(qp(req, "EntryIds").value_or(""));
    std::erase_if(pl->second, [&](const auto& e) {
      return std::find(entries.begin(), entries.end(), e.first) != entries.end();
    });
    m_ctx->note_write();
    res.status = 204;
  };
  srv.Delete("/Playlists/([^/]+)/Items", authed(remove_entries));
  if (!jelly()) srv.Post("/Playlists/([^/]+)/Items/Delete", authed(remove_entries));
  srv.Post("/Playlists/([^/]+)/Items/([^/]+)/Move/(\\d+)",
           authed([this](const httplib::Request& req, httplib::Response& res, const User&) {
             auto pl = m_playlists.find(req.matches[1]);
             if (pl == m_playlists.end()) {
               res.status = 404;
               return;
             }
             auto& v = pl->second;
             auto it = std::find_if(v.begin(), v.end(),
                                    [&](const auto& e) { return e.first == req.matches[2]; });
             if (it == v.end()) {
               res.status = 404;
               return;
             }
             const auto entry = *it;
             v.erase(it);
             const std::size_t idx = std::min<std::size_t>(std::stoul(req.matches[3]), v.size());
             v.insert(v.begin() + static_cast<std::ptrdiff_t>(idx), entry);
             m_ctx->note_write();
             res.status = 204;
           }));

  // ---- collections
  srv.Post("/Collections",
           authed([this](const httplib::Request& req, httplib::Response& res, const User&) {
             const std::string name = qp(req, "Name").value_or("");
             const auto ids = split_list(qp(req, "Ids").value_or(""));
             if (name.empty() || (!jelly() && ids.empty())) {
               // Emby cannot create an empty collection.
               res.status = 400;
               res.set_content(name.empty() ? "Name is required." : "Ids is required.",
                               "text/plain");
               return;
             }
             const std::string cid = new_id();
             add_item({{"Id", cid}, {"Name", name}, {"Type", "BoxSet"}, {"IsFolder", true}});
             for (const auto& id : ids) {
               if (m_items.count(id)) m_collections[cid].push_back(id);
             }
             m_collections[cid];
             json out = {{"Id", cid}};
             if (!jelly()) out["Name"] = name;
             send_json(res, out);
           }));
  auto coll_edit = [this](bool add) {
    return [this, add](const httplib::Request& req, httplib::Response& res, const User&) {
      auto c = m_collections.find(req.matches[1]);
      if (c == m_collections.end()) {
        res.status = 404;
        return;
      }
      auto ids = split_list(qp(req, "Ids").value_or(""));
      if (ids.empty() && json::accept(req.body)) {
        for (const auto& id : json::parse(req.body).value("Ids", json::array())) {
          ids.push_back(id.get<std::string>());
        }
      }
      for (const auto& id : ids) {
        auto pos = std::find(c->second.begin(), c->second.end(), id);
        if (add && pos == c->second.end() && m_items.count(id)) c->second.push_back(id);
        if (!add && pos != c->second.end()) c->second.erase(pos);
      }
      m_ctx->note_write();
      res.status = 204;
    };
  };
  srv.Post("/Collections/([^/]+)/Items", authed(coll_edit(true)));
  srv.Delete("/Collections/([^/]+)/Items", authed(coll_edit(false)));
  if (!jelly()) srv.Post("/Collections/([^/]+)/Items/Delete", authed(coll_edit(false)));

  srv.Post("/__sandbox/" + name() + "/quirks",
           [this](const httplib::Request& req, httplib::Response& res) {
             std::lock_guard lock(m_mutex);
             forget_listings();  // rendered pages show a quirk (null_last_played_date)
             try {
               m_quirks.update(json::parse(req.body));
               send_json(res, m_quirks);
             } catch (const std::exception& e) {
               send_json(res, {{"error", e.what()}}, 400);
             }
           });
}

void MediaBrowserFake::seed_universe(const json& u) {
  std::lock_guard lock(m_mutex);
  reset_locked();
  const std::string movies_lib = m_libraries[0]["Id"];
  const std::string shows_lib = m_libraries[1]["Id"];
  const std::string uid = m_users.front().id;
  std::unordered_map<std::string, std::string> by_key;
  auto provider_ids = [](const json& ids, bool present) {
    json p = json::object();
    if (!present) return p;
    if (ids.contains("imdb")) p["Imdb"] = ids["imdb"];
    if (ids.contains("tmdb")) p["Tmdb"] = ids["tmdb"];
    if (ids.contains("tvdb")) p["Tvdb"] = ids["tvdb"];
    return p;
  };
  auto key_of = [](const std::string& type, const json& ids) {
    return type + ":" + ids.value("tmdb", ids.value("imdb", ""));
  };
  std::int64_t created = 1500000000000;
  for (const auto& m : u.value("movies", json::array())) {
    const bool has_ids = m.value("sandbox", json::object()).value("server_ids", true);
    const std::string id = new_id();
    const std::string title = m.value("title", "");
    const int year = m.value("year", 0);
    add_item({{"Id", id},
              {"Name", title},
              {"Type", "Movie"},
              {"IsFolder", false},
              {"ParentId", movies_lib},
              {"ProductionYear", year},
              {"ProviderIds", provider_ids(m["ids"], has_ids)},
              {"RunTimeTicks", m.value("duration_ms", 0LL) * k_ticks_per_ms},
              {"Path", "/media/movies/" + title + " (" + std::to_string(year) + ").mkv"},
              {"DateCreated", mediabrowser_date(created += 60000)}});
    by_key[key_of("movie", m["ids"])] = id;
  }
  for (const auto& s : u.value("shows", json::array())) {
    const bool has_ids = s.value("sandbox", json::object()).value("server_ids", true);
    const std::string sid = new_id();
    const std::string title = s.value("title", "");
    add_item({{"Id", sid},
              {"Name", title},
              {"Type", "Series"},
              {"IsFolder", true},
              {"ParentId", shows_lib},
              {"ProductionYear", s.value("year", 0)},
              {"ProviderIds", provider_ids(s["ids"], has_ids)},
              {"Path", "/media/tv/" + title},
              {"DateCreated", mediabrowser_date(created += 60000)}});
    const std::string show_key = key_of("show", s["ids"]);
    by_key[show_key] = sid;
    for (const auto& season : s.value("seasons", json::array())) {
      const std::string season_id = new_id();
      const int sn = season.value("number", 1);
      add_item({{"Id", season_id},
                {"Name", "Season " + std::to_string(sn)},
                {"Type", "Season"},
                {"IsFolder", true},
                {"ParentId", sid},
                {"SeriesId", sid},
                {"SeriesName", title},
                {"IndexNumber", sn}});
      for (const auto& ep : season.value("episodes", json::array())) {
        const std::string eid = new_id();
        const int en = ep.value("number", 1);
        // Episode provider ids are often missing on real servers; keep only tvdb, and only
        // when the show has ids at all.
        json pids = json::object();
        if (has_ids && ep["ids"].contains("tvdb") && en % 3 != 0) pids["Tvdb"] = ep["ids"]["tvdb"];
        char sxe[16];
        std::snprintf(sxe, sizeof sxe, "S%02dE%02d", sn, en);
        add_item({{"Id", eid},
                  {"Name", ep.value("title", "")},
                  {"Type", "Episode"},
                  {"IsFolder", false},
                  {"ParentId", season_id},
                  {"SeasonId", season_id},
                  {"SeriesId", sid},
                  {"SeriesName", title},
                  {"IndexNumber", en},
                  {"ParentIndexNumber", sn},
                  {"ProductionYear", s.value("year", 0)},
                  {"ProviderIds", pids},
                  {"RunTimeTicks", ep.value("duration_ms", 0LL) * k_ticks_per_ms},
                  {"Path", "/media/tv/" + title + "/" + sxe + ".mkv"},
                  {"DateCreated", mediabrowser_date(created += 60000)}});
        by_key[show_key + "#" + std::to_string(sn) + "x" + std::to_string(en)] = eid;
      }
    }
  }
  auto id_of = [&](const json& ref) -> std::string {
    const std::string type = ref.value("type", "movie");
    std::string key = type == "episode" ? key_of("show", ref["show"]["ids"]) + "#" +
                                              std::to_string(ref.value("season", 0)) + "x" +
                                              std::to_string(ref.value("episode", 0))
                                        : key_of(type, ref["ids"]);
    auto it = by_key.find(key);
    return it == by_key.end() ? "" : it->second;
  };
  for (const auto& h : u.value("history", json::array())) {
    const std::string id = id_of(h);
    if (id.empty()) continue;
    UserData& ud = m_user_data[uid][id];
    ud.played = true;
    ud.play_count += 1;
    const auto at = ms_from_iso(h.value("watched_at", ""));
    if (at) ud.last_played_ms = std::max(ud.last_played_ms.value_or(0), *at);
  }
  for (const auto& w : u.value("watchlist", json::array())) {
    const std::string id = id_of(w);
    if (!id.empty()) m_user_data[uid][id].favorite = true;
  }
  for (const auto& r : u.value("ratings", json::array())) {
    const std::string id = id_of(r);
    if (!id.empty()) m_user_data[uid][id].rating = r.value("rating", 0);
  }
  for (const auto& p : u.value("progress", json::array())) {
    const std::string id = id_of(p);
    if (id.empty()) continue;
    UserData& ud = m_user_data[uid][id];
    ud.position_ticks = p.value("progress_ms", 0LL) * k_ticks_per_ms;
    if (!ud.last_played_ms) ud.last_played_ms = ms_from_iso(p.value("progress_at", ""));
  }
}

}  // namespace

std::string mediabrowser_date(std::int64_t ms) {
  std::string iso = iso_from_ms(ms);  // 2024-03-01T20:11:42.123Z
  const std::string frac = iso.substr(20, 3);
  return iso.substr(0, 19) + "." + frac + "0000Z";
}

std::optional<std::int64_t> mediabrowser_parse_date(const std::string& s) {
  if (s.size() == 14 && std::all_of(s.begin(), s.end(), ::isdigit)) {
    const std::string iso = s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" +
                            s.substr(8, 2) + ":" + s.substr(10, 2) + ":" + s.substr(12, 2) + "Z";
    return ms_from_iso(iso);
  }
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  return ms_from_iso(s);
}

std::unique_ptr<FakeService> make_mediabrowser_fake(MediaBrowserFlavor flavor) {
  return std::make_unique<MediaBrowserFake>(flavor);
}

}  // namespace cw::fakes
