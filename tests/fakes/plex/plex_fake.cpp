#include "plex/plex_fake.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "core/generator.hpp"
#include "core/websocket_feed.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;

constexpr int k_owner_id = 1;
const char* const k_library_identifier = "com.plexapp.plugins.library";

// Fields that are per-user state on a real PMS; rows carry them only for the asking account.
const std::set<std::string> k_user_fields = {"viewCount", "lastViewedAt", "viewOffset",
                                             "userRating", "lastRatedAt"};

struct Account {
  int id = 0;
  std::string name, uuid, email, cloud_token, pms_token, pin;
  bool home = true, admin = false, is_protected = false, shared = false;
};

struct UserState {
  std::int64_t view_count = 0;
  std::optional<std::int64_t> last_viewed_at;
  std::int64_t view_offset = 0;
  std::optional<double> user_rating;
  std::optional<std::int64_t> last_rated_at;
  bool empty() const {
    return view_count == 0 && !last_viewed_at && view_offset == 0 && !user_rating && !last_rated_at;
  }
};

struct Item {
  std::int64_t rk = 0;
  std::string section;
  std::string type;
  std::string title;
  int year = 0;
  std::string guid;
  std::vector<std::string> guids;  // Guid[].id
  std::int64_t parent = 0, grandparent = 0;
  int index = -1, parent_index = -1;
  std::int64_t added_at = 0;
  std::int64_t duration = 0;
  json raw;  // a seeded row without user fields; null for generated items
};

struct DiscoverItem {
  std::string rk;
  std::string type, title, guid;
  int year = 0;
  std::vector<std::string> guids;
};

struct HistoryRow {
  std::int64_t id = 0;
  std::int64_t rk = 0;
  int account = k_owner_id;
  std::int64_t viewed_at = 0;
  int device = 1;
};

struct Pin {
  std::int64_t id = 0;
  std::string code, client_id;
  std::int64_t created_ms = 0;
  int expires_in = 900;
  std::string auth_token;
};

int type_code(const std::string& type) {
  if (type == "movie") return 1;
  if (type == "show") return 2;
  if (type == "season") return 3;
  if (type == "episode") return 4;
  if (type == "collection") return 18;
  return 0;
}

bool wants_json(const httplib::Request& req) {
  return req.get_header_value("Accept").find("json") != std::string::npos;
}

// A seeded key as text: fixtures write "1" and 1 alike.
std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return {};
}

std::string plex_token(const httplib::Request& req) {
  return header_or_param(req, "X-Plex-Token", "X-Plex-Token");
}

std::int64_t to_int64(const json& v, std::int64_t def = 0) {
  if (v.is_number()) return v.get<std::int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (const std::exception&) {
      return def;
    }
  }
  return def;
}

std::string hex24(const std::string& prefix, std::int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%020llx", prefix.c_str(), static_cast<unsigned long long>(n));
  return std::string(buf).substr(0, 24);
}

// XML has no null: plex.tv leaves such attributes out.
json drop_nulls(json obj) {
  for (auto it = obj.begin(); it != obj.end();) {
    if (it->is_null()) {
      it = obj.erase(it);
    } else {
      ++it;
    }
  }
  return obj;
}

void send_unauthorized_html(httplib::Response& res) {
  res.status = 401;
  res.set_content(
      "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1>"
      "</body></html>",
      "text/html");
}

void send_plextv_error(httplib::Response& res, int status, int code, const std::string& message) {
  send_json(res, {{"errors", {{{"code", code}, {"message", message}, {"status", status}}}}},
            status);
}

// A playlist or a collection: an ordered list of rating keys (collections belong to a section).
struct ItemList {
  std::int64_t rk = 0;
  std::string title;
  std::string kind;  // playlist: playlistType ("video"); collection: subtype ("movie", "show")
  std::string section;
  std::int64_t added_at = 0;
  std::vector<std::int64_t> items;
};

class PlexFake final : public FakeService {
 public:
  PlexFake() { reset_locked(); }

  std::string name() const override { return "plex"; }

  void register_routes(httplib::Server& srv, Context& ctx) override {
    m_ctx = &ctx;
    register_plextv(srv);
    register_discover(srv);
    register_pms(srv);
    register_lists(srv);
    srv.Post("/__sandbox/plex/pins/(\\d+)/link",
             [this](const httplib::Request& req, httplib::Response& res) {
               std::lock_guard lock(m_mutex);
               const std::int64_t id = std::stoll(req.matches[1]);
               int account = k_owner_id;
               if (!req.body.empty())
                 account = json::parse(req.body).value("account_id", k_owner_id);
               auto pin = m_pins.find(id);
               const Account* acc = account_by_id(account);
               if (pin == m_pins.end() || acc == nullptr) {
                 send_json(res, {{"error", "no such pin or account"}}, 404);
                 return;
               }
               pin->second.auth_token = acc->cloud_token;
               send_json(res, {{"ok", true}});
             });
    srv.Post("/__sandbox/plex/quirks", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      try {
        m_quirks.update(json::parse(req.body));
        send_json(res, m_quirks);
      } catch (const std::exception& e) {
        send_json(res, {{"error", e.what()}}, 400);
      }
    });
  }

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    if (fixture.contains("server")) m_server = fixture["server"];
    if (fixture.contains("accounts")) {
      m_accounts.clear();
      for (const auto& a : fixture["accounts"]) {
        Account acc;
        acc.id = a.at("id").get<int>();
        acc.name = a.value("name", "user" + std::to_string(acc.id));
        acc.uuid = a.value("uuid", hex24("a", acc.id).substr(0, 16));
        acc.email = a.value("email", acc.name + "@example.invalid");
        acc.cloud_token = a.value("cloud_token", "");
        acc.pms_token = a.value("pms_token", "");
        acc.pin = a.value("pin", "");
        acc.home = a.value("home", true);
        acc.admin = a.value("admin", acc.id == k_owner_id);
        acc.is_protected = a.value("protected", false);
        acc.shared = a.value("shared", false);
        m_accounts.push_back(acc);
      }
    }
    if (fixture.contains("sections")) m_sections = fixture["sections"].get<std::vector<json>>();
    for (const auto& raw : fixture.value("items", json::array())) add_raw_item(raw);
    const json user_state_fixture = fixture.value("user_state", json::object());
    for (const auto& [acc, states] : user_state_fixture.items()) {
      for (const auto& [rk, st] : states.items()) {
        apply_user_fields(std::stoi(acc), std::stoll(rk), st);
      }
    }
    for (const auto& h : fixture.value("history", json::array())) {
      HistoryRow row;
      row.id = h.value("historyKey", static_cast<std::int64_t>(m_history.size() + 1));
      row.rk = to_int64(h.at("ratingKey"));
      row.account = h.value("accountID", k_owner_id);
      row.viewed_at = to_int64(h.at("viewedAt"));
      row.device = h.value("deviceID", 1);
      m_next_history = std::max(m_next_history, row.id + 1);
      m_history.push_back(row);
    }
    m_sessions = fixture.value("sessions", json::array());
    for (const auto& d : fixture.value("discover", json::array())) add_discover(d);
    const json watchlist_fixture = fixture.value("watchlist", json::object());
    for (const auto& [acc, list] : watchlist_fixture.items()) {
      for (const auto& w : list) {
        m_watchlist[std::stoi(acc)].push_back(
            {w.at("ratingKey").get<std::string>(), to_int64(w.value("watchlistedAt", json(0)))});
      }
    }
    for (const auto& p : fixture.value("playlists", json::array())) {
      m_playlists.push_back(list_from_fixture(p, p.value("playlistType", "video")));
    }
    for (const auto& c : fixture.value("collections", json::array())) {
      ItemList l = list_from_fixture(c, c.value("subtype", "movie"));
      l.section = section_key_text(c.value("librarySectionID", json("1")));
      m_collections.push_back(std::move(l));
    }
    if (fixture.contains("quirks")) m_quirks.update(fixture["quirks"]);
  }

  static std::string section_key_text(const json& v) {
    return v.is_string() ? v.get<std::string>() : std::to_string(to_int64(v));
  }

  static ItemList list_from_fixture(const json& f, std::string kind) {
    ItemList l;
    l.rk = to_int64(f.at("ratingKey"));
    l.title = f.value("title", "");
    l.kind = std::move(kind);
    l.added_at = to_int64(f.value("addedAt", json(0)));
    for (const auto& rk : f.value("items", json::array())) l.items.push_back(to_int64(rk));
    return l;
  }

  static json list_to_fixture(const ItemList& l, const char* kind_key) {
    json items = json::array();
    for (const auto rk : l.items) items.push_back(std::to_string(rk));
    return {{"ratingKey", std::to_string(l.rk)},
            {"title", l.title},
            {kind_key, l.kind},
            {"addedAt", l.added_at},
            {"items", items}};
  }

  json state() const override {
    std::lock_guard lock(m_mutex);
    json accounts = json::array();
    for (const auto& a : m_accounts) {
      accounts.push_back({{"id", a.id},
                          {"name", a.name},
                          {"uuid", a.uuid},
                          {"email", a.email},
                          {"cloud_token", a.cloud_token},
                          {"pms_token", a.pms_token},
                          {"pin", a.pin},
                          {"home", a.home},
                          {"admin", a.admin},
                          {"protected", a.is_protected},
                          {"shared", a.shared}});
    }
    json items = json::array();
    for (const auto& [rk, item] : m_items) {
      json row = render_row(item, nullptr, true);
      row["librarySectionID"] = section_id_value(item.section);
      items.push_back(std::move(row));
    }
    json user_state = json::object();
    for (const auto& [acc, states] : m_user) {
      json per = json::object();
      for (const auto& [rk, st] : states) {
        if (!st.empty()) per[std::to_string(rk)] = user_fields(st);
      }
      user_state[std::to_string(acc)] = per;
    }
    json history = json::array();
    for (const auto& h : m_history) {
      history.push_back({{"historyKey", h.id},
                         {"ratingKey", std::to_string(h.rk)},
                         {"accountID", h.account},
                         {"viewedAt", h.viewed_at},
                         {"deviceID", h.device}});
    }
    json discover = json::array();
    for (const auto& rk : m_discover_order)
      discover.push_back(render_discover(m_discover.at(rk), true));
    json watchlist = json::object();
    for (const auto& [acc, list] : m_watchlist) {
      json l = json::array();
      for (const auto& [rk, at] : list) l.push_back({{"ratingKey", rk}, {"watchlistedAt", at}});
      watchlist[std::to_string(acc)] = l;
    }
    json playlists = json::array();
    for (const auto& l : m_playlists) playlists.push_back(list_to_fixture(l, "playlistType"));
    json collections = json::array();
    for (const auto& l : m_collections) {
      json c = list_to_fixture(l, "subtype");
      c["librarySectionID"] = section_id_value(l.section);
      collections.push_back(std::move(c));
    }
    return {{"server", m_server},       {"accounts", accounts},       {"sections", m_sections},
            {"playlists", playlists},   {"collections", collections}, {"items", items},
            {"user_state", user_state}, {"history", history},         {"sessions", m_sessions},
            {"discover", discover},     {"watchlist", watchlist},     {"quirks", m_quirks}};
  }

  void reset() override {
    std::lock_guard lock(m_mutex);
    reset_locked();
  }

  void seed_universe(const json& u) override;

  json credentials() const override {
    std::lock_guard lock(m_mutex);
    const Account& owner = m_accounts.front();
    return {{"token", owner.pms_token},     {"account_token", owner.cloud_token},
            {"pms_token", owner.pms_token}, {"machine_id", m_server.value("machineIdentifier", "")},
            {"username", owner.name},       {"client_id", "cw-sandbox-client"}};
  }

  std::string provider_yaml(const std::string& base_url) const override {
    const json c = credentials();
    return "  plex:\n    plugin: plex\n    url: " + base_url +
           "\n    token: " + c["pms_token"].get<std::string>() +
           "\n    account_token: " + c["account_token"].get<std::string>() +
           "\n    machine_id: " + c["machine_id"].get<std::string>() +
           "\n    plextv_url: " + base_url + "\n    discover_url: " + base_url +
           "\n    metadata_url: " + base_url + "\n";
  }

  void fault_response(int status, const httplib::Request& req,
                      httplib::Response& res) const override {
    if (status == 401) {
      send_unauthorized_html(res);
      return;
    }
    res.status = status;
    if (wants_json(req)) {
      send_json(
          res,
          {{"errors", {{{"code", status * 10}, {"message", "Service error"}, {"status", status}}}}},
          status);
    } else {
      res.set_content("<html><head><title>" + std::to_string(status) + "</title></head><body><h1>" +
                          std::to_string(status) + "</h1></body></html>",
                      "text/html");
    }
  }

 private:
  // ------------------------------------------------------------------ state helpers
  void reset_locked() {
    m_playlists.clear();
    m_collections.clear();
    m_server = {{"friendlyName", "cw-sandbox"},
                {"machineIdentifier", "5a1dbc0c0ffee0000000000000000000000000a1"},
                {"version", "1.40.2.8395-c67dce28e"},
                {"platform", "Linux"},
                {"myPlex", true},
                {"mediaTagVersion", 1690992652}};
    m_accounts = {
        {k_owner_id, "sandbox-owner", "0a1b2c3d4e5f6071", "owner@example.invalid",
         "plex-cloud-owner-token", "plex-pms-owner-token", "", true, true, false, false},
        {5, "kid", "0a1b2c3d4e5f6075", "kid@example.invalid", "plex-cloud-kid-token",
         "plex-pms-kid-token", "1234", true, false, true, false},
        {7, "friend", "0a1b2c3d4e5f6077", "friend@example.invalid", "plex-cloud-friend-token",
         "plex-pms-friend-token", "", false, false, false, true}};
    m_sections = {{{"key", "1"},
                   {"type", "movie"},
                   {"title", "Movies"},
                   {"agent", "tv.plex.agents.movie"},
                   {"scanner", "Plex Movie"},
                   {"uuid", "AC000000-0000-0000-0000-000000000001"},
                   {"createdAt", 1500000000},
                   {"updatedAt", 1700000000},
                   {"scannedAt", 1700000000},
                   {"contentChangedAt", 1700000000},
                   {"allowSync", true},
                   {"hidden", false},
                   {"Location", json::array({{{"id", 1}, {"path", "/data/movies"}}})},
                   {"language", "en-US"},
                   {"art", "/:/resources/movie-fanart.jpg"},
                   {"thumb", "/:/resources/movie.png"}},
                  {{"key", "2"},
                   {"type", "show"},
                   {"title", "TV Shows"},
                   {"agent", "tv.plex.agents.series"},
                   {"scanner", "Plex TV Series"},
                   {"uuid", "AC000000-0000-0000-0000-000000000002"},
                   {"createdAt", 1500000000},
                   {"updatedAt", 1700000000},
                   {"scannedAt", 1700000000},
                   {"contentChangedAt", 1700000000},
                   {"allowSync", true},
                   {"hidden", false},
                   {"Location", json::array({{{"id", 2}, {"path", "/data/tv"}}})},
                   {"language", "en-US"},
                   {"art", "/:/resources/show-fanart.jpg"},
                   {"thumb", "/:/resources/show.png"}}};
    m_items.clear();
    changed();
    m_children.clear();
    m_primary_guid.clear();
    m_user.clear();
    m_history.clear();
    m_next_history = 1;
    m_sessions = json::array();
    m_discover.clear();
    m_discover_order.clear();
    m_watchlist.clear();
    m_pins.clear();
    m_next_pin = 1934466201;
    m_quirks = {{"scrobble_ignores_viewed_at", false},
                {"ignore_include_guids", false},
                {"watchlist_duplicate", "409"},
                {"drop_last_viewed_at", false}};
  }

  const Account* account_by_id(int id) const {
    for (const auto& a : m_accounts) {
      if (a.id == id) return &a;
    }
    return nullptr;
  }
  const Account* account_by_cloud_token(const std::string& t) const {
    for (const auto& a : m_accounts) {
      if (!t.empty() && a.cloud_token == t) return &a;
    }
    return nullptr;
  }
  // PMS accepts each account's server token, and the owner's cloud token.
  const Account* account_by_pms_token(const std::string& t) const {
    for (const auto& a : m_accounts) {
      if (!t.empty() && (a.pms_token == t || (a.id == k_owner_id && a.cloud_token == t))) {
        return &a;
      }
    }
    return nullptr;
  }

  json section_id_value(const std::string& key) const {
    try {
      return std::stoi(key);
    } catch (const std::exception&) {
      return key;
    }
  }

  const json* section(const std::string& key) const {
    for (const auto& s : m_sections) {
      if (s.value("key", "") == key) return &s;
    }
    return nullptr;
  }

  void apply_user_fields(int account, std::int64_t rk, const json& src) {
    UserState& st = user_state_mut(account, rk);
    if (src.contains("viewCount")) st.view_count = to_int64(src["viewCount"]);
    if (src.contains("lastViewedAt")) st.last_viewed_at = to_int64(src["lastViewedAt"]);
    if (src.contains("viewOffset")) st.view_offset = to_int64(src["viewOffset"]);
    if (src.contains("userRating")) st.user_rating = src["userRating"].get<double>();
    if (src.contains("lastRatedAt")) st.last_rated_at = to_int64(src["lastRatedAt"]);
  }

  static json user_fields(const UserState& st) {
    json j = json::object();
    if (st.view_count > 0) j["viewCount"] = st.view_count;
    if (st.last_viewed_at) j["lastViewedAt"] = *st.last_viewed_at;
    if (st.view_offset > 0) j["viewOffset"] = st.view_offset;
    if (st.user_rating) j["userRating"] = *st.user_rating;
    if (st.last_rated_at) j["lastRatedAt"] = *st.last_rated_at;
    return j;
  }

  void index_item(Item item) {
    const std::int64_t rk = item.rk;
    if (item.parent != 0) m_children[item.parent].push_back(rk);
    if (!item.guid.empty()) m_primary_guid[item.guid] = rk;
    m_items[rk] = std::move(item);
    changed();
  }

  void add_raw_item(const json& raw) {
    Item it;
    it.rk = to_int64(raw.at("ratingKey"));
    it.type = raw.value("type", "movie");
    it.title = raw.value("title", "");
    it.year = static_cast<int>(to_int64(raw.value("year", json(0))));
    it.guid = raw.value("guid", "");
    for (const auto& g : raw.value("Guid", json::array())) it.guids.push_back(g.value("id", ""));
    it.parent = to_int64(raw.value("parentRatingKey", json(0)));
    it.grandparent = to_int64(raw.value("grandparentRatingKey", json(0)));
    it.index = static_cast<int>(to_int64(raw.value("index", json(-1)), -1));
    it.parent_index = static_cast<int>(to_int64(raw.value("parentIndex", json(-1)), -1));
    it.added_at = to_int64(raw.value("addedAt", json(0)));
    it.duration = to_int64(raw.value("duration", json(0)));
    const json sec = raw.value("librarySectionID", json(nullptr));
    it.section = sec.is_string() ? sec.get<std::string>() : sec.is_number() ? sec.dump() : "";
    if (it.section.empty()) it.section = it.type == "movie" ? "1" : "2";
    json stripped = raw;
    stripped.erase("librarySectionID");
    json user = json::object();
    for (const auto& f : k_user_fields) {
      if (stripped.contains(f)) {
        user[f] = stripped[f];
        stripped.erase(f);
      }
    }
    it.raw = std::move(stripped);
    if (!user.empty()) apply_user_fields(k_owner_id, it.rk, user);
    index_item(std::move(it));
  }

  void add_discover(const json& d) {
    DiscoverItem it;
    it.rk = d.at("ratingKey").get<std::string>();
    it.type = d.value("type", "movie");
    it.title = d.value("title", "");
    it.year = d.value("year", 0);
    it.guid = d.value("guid", "plex://" + it.type + "/" + it.rk);
    for (const auto& g : d.value("Guid", json::array())) it.guids.push_back(g.value("id", ""));
    if (!m_discover.count(it.rk)) m_discover_order.push_back(it.rk);
    m_discover[it.rk] = std::move(it);
  }

  const Item* item(std::int64_t rk) const {
    auto it = m_items.find(rk);
    return it == m_items.end() ? nullptr : &it->second;
  }

  UserState user_state(int account, std::int64_t rk) const {
    auto a = m_user.find(account);
    if (a == m_user.end()) return {};
    auto s = a->second.find(rk);
    return s == a->second.end() ? UserState{} : s->second;
  }

  // Leaves under a show or season, and how many of them the account has watched.
  std::pair<int, int> leaf_counts(std::int64_t rk, int account) const {
    int leaves = 0, viewed = 0;
    auto c = m_children.find(rk);
    if (c == m_children.end()) return {0, 0};
    for (const auto child : c->second) {
      const Item* ch = item(child);
      if (ch == nullptr) continue;
      if (ch->type == "episode") {
        ++leaves;
        if (user_state(account, child).view_count > 0) ++viewed;
      } else {
        const auto [l, v] = leaf_counts(child, account);
        leaves += l;
        viewed += v;
      }
    }
    return {leaves, viewed};
  }

  json render_row(const Item& it, const Account* acc, bool include_guids) const {
    json row;
    if (!it.raw.is_null()) {
      row = it.raw;
    } else {
      const std::string rk = std::to_string(it.rk);
      row = {{"ratingKey", rk},   {"key", "/library/metadata/" + rk},
             {"guid", it.guid},   {"type", it.type},
             {"title", it.title}, {"addedAt", it.added_at}};
      if (it.year > 0) row["year"] = it.year;
      if (it.duration > 0) row["duration"] = it.duration;
      if (it.index >= 0) row["index"] = it.index;
      // What every PMS row has besides identity: dates, artwork, a summary, and for playable
      // items the file (Media/Part).
      row["updatedAt"] = it.added_at;
      row["summary"] = "";
      row["thumb"] = "/library/metadata/" + rk + "/thumb/" + std::to_string(it.added_at);
      if (it.year > 0 && it.type != "season") {
        row["originallyAvailableAt"] = std::to_string(it.year) + "-01-01";
      }
      if (it.type == "movie" || it.type == "episode") {
        const std::int64_t media_id = it.rk * 10;
        const std::string file = (it.type == "movie" ? "/data/movies/" : "/data/tv/") + rk + ".mkv";
        row["Media"] = json::array(
            {{{"id", media_id},
              {"duration", it.duration},
              {"container", "mkv"},
              {"videoResolution", "1080"},
              {"Part", json::array({{{"id", media_id + 1},
                                     {"key", "/library/parts/" + std::to_string(media_id + 1) +
                                                 "/" + std::to_string(it.added_at) + "/file.mkv"},
                                     {"duration", it.duration},
                                     {"file", file},
                                     {"size", 1000000 + it.rk},
                                     {"container", "mkv"}}})}}});
      }
      if (it.type == "show" || it.type == "season") {
        row["key"] = "/library/metadata/" + rk + "/children";
        auto c = m_children.find(it.rk);
        row["childCount"] = c == m_children.end() ? 0 : c->second.size();
        const auto [leaves, viewed] = leaf_counts(it.rk, acc ? acc->id : k_owner_id);
        row["leafCount"] = leaves;
        row["viewedLeafCount"] = viewed;
      }
      if (const Item* p = item(it.parent)) {
        row["parentRatingKey"] = std::to_string(p->rk);
        row["parentKey"] = "/library/metadata/" + std::to_string(p->rk);
        row["parentTitle"] = p->title;
        row["parentGuid"] = p->guid;
        if (p->index >= 0) row["parentIndex"] = p->index;
      }
      if (const Item* g = item(it.grandparent)) {
        row["grandparentRatingKey"] = std::to_string(g->rk);
        row["grandparentKey"] = "/library/metadata/" + std::to_string(g->rk);
        row["grandparentTitle"] = g->title;
        row["grandparentGuid"] = g->guid;
      }
      if (!it.guids.empty()) {
        json guids = json::array();
        for (const auto& g : it.guids) guids.push_back({{"id", g}});
        row["Guid"] = guids;
      }
    }
    if (!include_guids || m_quirks.value("ignore_include_guids", false)) row.erase("Guid");
    if (acc != nullptr) {
      const json fields = user_fields(user_state(acc->id, it.rk));
      for (const auto& [k, v] : fields.items()) row[k] = v;
      if (m_quirks.value("drop_last_viewed_at", false)) row.erase("lastViewedAt");
    }
    return row;
  }

  json render_discover(const DiscoverItem& d, bool include_guids) const {
    json row = {{"ratingKey", d.rk},
                {"key", "/library/metadata/" + d.rk},
                {"guid", d.guid},
                {"type", d.type},
                {"title", d.title}};
    if (d.year > 0) row["year"] = d.year;
    if (include_guids && !d.guids.empty()) {
      json guids = json::array();
      for (const auto& g : d.guids) guids.push_back({{"id", g}});
      row["Guid"] = guids;
    }
    return row;
  }

  // ------------------------------------------------------------------ responses
  void respond(const httplib::Request& req, httplib::Response& res, json container,
               int status = 200) const {
    res.status = status;
    res.set_header("X-Plex-Protocol", "1.0");
    if (wants_json(req)) {
      res.set_content(json{{"MediaContainer", std::move(container)}}.dump(), "application/json");
    } else {
      res.set_content(plex_json_to_xml("MediaContainer", container), "text/xml;charset=utf-8");
    }
  }

  // Paging by X-Plex-Container-Start/Size, as query parameters (CW) or headers (plexapi).
  json page_rows(const httplib::Request& req, httplib::Response& res, const std::vector<json>& rows,
                 json container, const char* child = "Metadata") const {
    return page_window(req, res, {rows, 0, rows.size()}, std::move(container), child);
  }
  // The rows of one page of a list of `total`: rows[i] is entry first + i (they cover at
  // least the page asked for), so a listing renders only its page.
  struct Window {
    const std::vector<json>& rows;
    std::size_t first = 0;
    std::size_t total = 0;
  };
  json page_window(const httplib::Request& req, httplib::Response& res, const Window& w,
                   json container, const char* child = "Metadata") const {
    const bool paged =
        req.has_param("X-Plex-Container-Size") || req.has_header("X-Plex-Container-Size") ||
        req.has_param("X-Plex-Container-Start") || req.has_header("X-Plex-Container-Start");
    const long long start = std::max(0LL, param_int(req, "X-Plex-Container-Start", 0));
    const long long size = param_int(req, "X-Plex-Container-Size", -1);
    const auto p = m_ctx->page(req, w.total, static_cast<std::size_t>(start),
                               size < 0 ? w.total : static_cast<std::size_t>(size));
    json out = json::array();
    for (std::size_t i = p.start; i < p.end(); ++i) out.push_back(w.rows.at(i - w.first));
    container["size"] = p.count;
    if (paged) {
      container["offset"] = start;
      container["totalSize"] = p.total;
      res.set_header("X-Plex-Container-Start", std::to_string(start));
      res.set_header("X-Plex-Container-Total-Size", std::to_string(p.total));
    }
    if (!out.empty()) container[child] = std::move(out);
    return container;
  }

  // ------------------------------------------------------------------ query filters
  // Plex filter keys: `field>>=v` (>), `field>=v` (≥), `field<<=v` (<), `field<=v` (≤), `field=v`.
  static bool passes_filters(const httplib::Request& req, const Item& it, const UserState& st) {
    auto value_of = [&](const std::string& f) -> std::optional<double> {
      if (f == "userRating") return st.user_rating;
      if (f == "viewOffset")
        return st.view_offset > 0 ? std::optional<double>(st.view_offset) : std::nullopt;
      if (f == "viewCount") return static_cast<double>(st.view_count);
      if (f == "lastViewedAt" || f == "viewedAt") {
        return st.last_viewed_at ? std::optional<double>(*st.last_viewed_at) : std::nullopt;
      }
      if (f == "lastRatedAt") {
        return st.last_rated_at ? std::optional<double>(*st.last_rated_at) : std::nullopt;
      }
      if (f == "addedAt") return static_cast<double>(it.added_at);
      if (f == "year") return static_cast<double>(it.year);
      return std::nullopt;
    };
    for (const auto& [key, value] : req.params) {
      std::string field = key;
      std::string op = "=";
      for (const char* suffix : {">>", "<<", ">", "<"}) {
        const std::string s(suffix);
        if (field.size() > s.size() && field.compare(field.size() - s.size(), s.size(), s) == 0) {
          op = s;
          field.resize(field.size() - s.size());
          break;
        }
      }
      if (op == "=") continue;
      double bound = 0;
      try {
        bound = std::stod(value);
      } catch (const std::exception&) {
        continue;
      }
      const auto v = value_of(field);
      if (!v) return false;
      if (op == ">>" && !(*v > bound)) return false;
      if (op == ">" && !(*v >= bound)) return false;
      if (op == "<<" && !(*v < bound)) return false;
      if (op == "<" && !(*v <= bound)) return false;
    }
    if (req.has_param("unwatched")) {
      const bool want_unwatched = req.get_param_value("unwatched") == "1";
      if ((st.view_count == 0) != want_unwatched) return false;
    }
    if (req.has_param("title")) {
      if (lower(it.title).find(lower(req.get_param_value("title"))) == std::string::npos) {
        return false;
      }
    }
    if (req.has_param("guid") && it.guid != req.get_param_value("guid")) return false;
    return true;
  }

  void sort_items(const httplib::Request& req, std::vector<const Item*>& items, int account) const {
    if (!req.has_param("sort")) return;
    std::string sort = req.get_param_value("sort");
    const auto comma = sort.find(',');
    if (comma != std::string::npos) sort.resize(comma);
    bool desc = false;
    const auto colon = sort.find(':');
    if (colon != std::string::npos) {
      desc = sort.substr(colon + 1) == "desc";
      sort.resize(colon);
    }
    auto key = [&](const Item* it) -> double {
      const UserState st = user_state(account, it->rk);
      if (sort == "lastViewedAt" || sort == "viewedAt") return st.last_viewed_at.value_or(0);
      if (sort == "lastRatedAt") return st.last_rated_at.value_or(0);
      if (sort == "userRating") return st.user_rating.value_or(0);
      if (sort == "year") return it->year;
      return static_cast<double>(it->added_at);  // addedAt, episode.addedAt, unknown fields
    };
    if (sort == "titleSort" || sort == "title") {
      std::stable_sort(items.begin(), items.end(), [&](const Item* a, const Item* b) {
        return desc ? a->title > b->title : a->title < b->title;
      });
      return;
    }
    std::stable_sort(items.begin(), items.end(), [&](const Item* a, const Item* b) {
      return desc ? key(a) > key(b) : key(a) < key(b);
    });
  }

  // The items a listing query selects, in its order (its filters and sort applied), for one
  // account. Kept per query until the next change of the items or of any user state: a
  // paged read asks the same query once per page, and filtering and sorting a 100k-row
  // section took ~50 ms per page, which made a full read quadratic.
  const std::vector<const Item*>& listing(const httplib::Request& req, const Account& acc,
                                          const std::string& section_key) const {
    std::string key = std::to_string(acc.id) + "|" + req.path + "|" + section_key + "|";
    for (const auto& [name, value] : req.params) {  // a multimap: sorted by name
      if (name == "X-Plex-Container-Start" || name == "X-Plex-Container-Size" ||
          name == "X-Plex-Token")
        continue;
      key += name + "=" + value + "&";
    }
    if (auto hit = m_listings.find(key); hit != m_listings.end()) return hit->second;
    const int type = req.has_param("type") ? std::atoi(req.get_param_value("type").c_str()) : 0;
    std::vector<const Item*> hits;
    for (const auto& [rk, it] : m_items) {
      if (!section_key.empty() && it.section != section_key) continue;
      const int code = type_code(it.type);
      if (type != 0) {
        if (code != type) continue;
      } else if (!section_key.empty() && code != 1 && code != 2) {
        continue;  // a section without `type` lists its top-level items, as PMS does
      }
      if (!passes_filters(req, it, user_state(acc.id, rk))) continue;
      hits.push_back(&it);
    }
    sort_items(req, hits, acc.id);
    if (m_listings.size() >= 64) m_listings.clear();  // bounded: a listing is 8 bytes per row
    return m_listings.emplace(std::move(key), std::move(hits)).first->second;
  }
  // Every change of m_items or m_user goes through here (or user_state_mut).
  void changed() { m_listings.clear(); }
  UserState& user_state_mut(int account, std::int64_t rk) {
    changed();
    return m_user[account][rk];
  }

  // The page of a listing the request asks for, rendered: rows [first, first + size) of total.
  struct Listed {
    std::vector<json> rows;
    std::size_t first = 0;
    std::size_t total = 0;
  };
  Listed list_items(const httplib::Request& req, const Account& acc, const std::string& section_key,
                    bool with_section_id) const {
    const std::vector<const Item*>& hits = listing(req, acc, section_key);
    const bool guids = param_int(req, "includeGuids", 0) == 1;
    const long long start = std::max(0LL, param_int(req, "X-Plex-Container-Start", 0));
    const long long size = param_int(req, "X-Plex-Container-Size", -1);
    Listed out;
    out.total = hits.size();
    out.first = std::min(static_cast<std::size_t>(start), hits.size());
    const std::size_t end =
        size < 0 ? hits.size() : std::min(hits.size(), out.first + static_cast<std::size_t>(size));
    for (std::size_t i = out.first; i < end; ++i) {
      json row = render_row(*hits[i], &acc, guids);
      if (with_section_id) row["librarySectionID"] = section_id_value(hits[i]->section);
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  // A timeline report's effect on /status/sessions, as PMS has it: playing, paused or
  // buffering opens the account's session of the item (or moves it on), stopped ends it.
  void track_session(int account_id, std::int64_t rk, const std::string& state,
                     std::int64_t offset_ms) {
    const std::string key = std::to_string(rk);
    auto same = [&](const json& s) {
      return s.value("ratingKey", json("")).dump() == json(key).dump() &&
             s.value("accountID", k_owner_id) == account_id;
    };
    auto it = std::find_if(m_sessions.begin(), m_sessions.end(), same);
    if (state != "playing" && state != "paused" && state != "buffering" && state != "stopped")
      return;
    if (state == "stopped" && it == m_sessions.end()) return;
    // A session keeps its key from its first report to its stop, as PMS's sessionKey does.
    std::string session_key;
    if (it != m_sessions.end() && it->contains("sessionKey"))
      session_key = text_of((*it)["sessionKey"]);
    if (session_key.empty()) session_key = std::to_string(m_next_session_key++);
    notify_playing(session_key, key, state, offset_ms);
    if (state == "stopped") {
      m_sessions.erase(it);
      return;
    }
    json s = {{"ratingKey", key},
              {"accountID", account_id},
              {"viewOffset", offset_ms},
              {"state", state},
              {"sessionKey", session_key}};
    if (it != m_sessions.end())
      *it = std::move(s);
    else
      m_sessions.push_back(std::move(s));
  }

  // What PMS pushes to /:/websockets/notifications subscribers on a player's report: a
  // "playing" NotificationContainer with one PlaySessionStateNotification (the session,
  // item, state and position; no duration, user or ids: clients read /status/sessions).
  void notify_playing(const std::string& session_key, const std::string& rk,
                      const std::string& state, std::int64_t offset_ms) {
    const json n = {{"sessionKey", session_key},
                    {"clientIdentifier", "sandbox-player"},
                    {"guid", ""},
                    {"ratingKey", rk},
                    {"url", ""},
                    {"key", "/library/metadata/" + rk},
                    {"viewOffset", offset_ms},
                    {"playQueueItemID", 1},
                    {"playQueueID", 1},
                    {"state", state}};
    m_feed.publish(json{{"NotificationContainer",
                         {{"type", "playing"}, {"size", 1}, {"PlaySessionStateNotification", {n}}}}}
                       .dump());
  }

  // ------------------------------------------------------------------ auth wrappers
  template <typename F>
  auto pms(F&& f) {
    return [this, f = std::forward<F>(f)](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      const std::string token = plex_token(req);
      const Account* acc = account_by_pms_token(token);
      if (acc == nullptr || m_ctx->token_expired(req)) {
        send_unauthorized_html(res);
        return;
      }
      f(req, res, *acc);
    };
  }

  template <typename F>
  auto cloud(F&& f) {
    return [this, f = std::forward<F>(f)](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      const Account* acc = account_by_cloud_token(plex_token(req));
      if (acc == nullptr) acc = account_by_pms_token(plex_token(req));  // shared scope
      if (acc == nullptr || m_ctx->token_expired(req)) {
        send_plextv_error(res, 401, 1001, "User could not be authenticated");
        return;
      }
      f(req, res, *acc);
    };
  }

  // ------------------------------------------------------------------ plex.tv
  void register_plextv(httplib::Server& srv) {
    srv.Post("/api/v2/pins", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      const std::string cid =
          header_or_param(req, "X-Plex-Client-Identifier", "X-Plex-Client-Identifier");
      if (cid.empty()) {
        send_plextv_error(res, 400, 1000, "X-Plex-Client-Identifier is missing");
        return;
      }
      Pin pin;
      pin.id = m_next_pin++;
      static const char* k_alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
      for (int i = 0; i < 4; ++i) pin.code += k_alphabet[(pin.id >> (i * 5)) % 32];
      pin.client_id = cid;
      pin.created_ms = m_ctx->now_ms();
      m_pins[pin.id] = pin;
      send_json(res, pin_json(pin), 201);
    });
    srv.Get("/api/v2/pins/(\\d+)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      auto it = m_pins.find(std::stoll(req.matches[1]));
      if (it == m_pins.end() ||
          m_ctx->now_ms() > it->second.created_ms + it->second.expires_in * 1000LL) {
        send_plextv_error(res, 404, 1020, "Code not found or expired");
        return;
      }
      send_json(res, pin_json(it->second));
    });
    srv.Get("/api/v2/user",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              // The UserPlexAccount schema's required fields and the common optional ones.
              json user = {{"id", a.id},
                           {"uuid", a.uuid},
                           {"username", a.name},
                           {"title", a.name},
                           {"friendlyName", a.name},
                           {"email", a.email},
                           {"authToken", a.cloud_token},
                           {"joinedAt", 1500000000 + a.id},
                           {"hasPassword", true},
                           {"twoFactorEnabled", false},
                           {"confirmed", true},
                           {"country", "NL"},
                           {"locale", nullptr},
                           {"guest", false},
                           {"home", a.home},
                           {"homeAdmin", a.admin},
                           {"homeSize", 2},
                           {"maxHomeSize", 15},
                           {"protected", a.is_protected},
                           {"restricted", !a.admin && a.home},
                           {"mailingListActive", false},
                           {"scrobbleTypes", ""},
                           {"thumb", "https://plex.tv/users/" + a.uuid + "/avatar"},
                           {"roles", json::array()},
                           {"entitlements", json::array()},
                           {"subscription",
                            {{"active", false},
                             {"status", "Inactive"},
                             {"plan", nullptr},
                             {"features", json::array()}}}};
              if (wants_json(req)) {
                send_json(res, user);
              } else {
                res.set_content(plex_json_to_xml("user", user), "text/xml;charset=utf-8");
              }
            }));
    srv.Get("/api/resources",
            cloud([this](const httplib::Request&, httplib::Response& res, const Account& a) {
              json device = drop_nulls(resource_json(a));
              device.erase("connections");
              json conn = connection_json();
              device["Connection"] = json::array({conn});
              res.set_content(plex_json_to_xml("MediaContainer",
                                               {{"size", 1}, {"Device", json::array({device})}}),
                              "text/xml;charset=utf-8");
            }));
    srv.Get("/api/v2/resources",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              json r = resource_json(a);
              if (wants_json(req)) {
                send_json(res, json::array({r, client_device_json(a)}));
                return;
              }
              json conns = r["connections"];
              r.erase("connections");
              r = drop_nulls(std::move(r));
              std::string xml = plex_json_to_xml("resource", r);
              // plex.tv nests <connections><connection/></connections> inside each resource.
              const std::string inner = plex_json_to_xml("connections", {{"connection", conns}});
              const auto decl_end = inner.find("?>\n");
              std::string body = inner.substr(decl_end + 3);
              const auto close = xml.rfind("/>");
              xml = xml.substr(0, close) + ">\n" + body + "</resource>\n";
              const auto decl = xml.find("?>\n");
              res.set_content(
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MediaContainer size=\"1\">\n" +
                      xml.substr(decl + 3) + "</MediaContainer>\n",
                  "text/xml;charset=utf-8");
            }));
    auto home_users = [this](bool v2) {
      return cloud([this, v2](const httplib::Request& req, httplib::Response& res, const Account&) {
        json users = json::array();
        for (const auto& u : m_accounts) {
          if (!u.home) continue;
          users.push_back({{"id", u.id},
                           {"uuid", u.uuid},
                           {"title", u.name},
                           {"username", u.id == k_owner_id ? u.name : ""},
                           {"email", u.id == k_owner_id ? u.email : ""},
                           {"admin", u.admin},
                           {"guest", false},
                           {"restricted", !u.admin},
                           {"protected", u.is_protected},
                           {"hasPassword", u.is_protected}});
        }
        if (v2 && wants_json(req)) {
          send_json(res, {{"id", 1}, {"name", "Sandbox Home"}, {"users", users}});
        } else if (v2) {
          res.set_content(
              plex_json_to_xml("home", {{"name", "Sandbox Home"}, {"users", {{"user", users}}}}),
              "text/xml;charset=utf-8");
        } else {
          res.set_content(
              plex_json_to_xml("MediaContainer", {{"friendlyName", "myPlex"},
                                                  {"identifier", "com.plexapp.plugins.myplex"},
                                                  {"size", users.size()},
                                                  {"User", users}}),
              "text/xml;charset=utf-8");
        }
      });
    };
    // plex.tv's legacy user list: every other account of the owner's home and every friend
    // the server is shared with, each with a Server child per shared server (XML only).
    srv.Get("/api/users/?",
            cloud([this](const httplib::Request&, httplib::Response& res, const Account& a) {
              json users = json::array();
              if (a.id == k_owner_id) {
                for (const auto& u : m_accounts) {
                  if (u.id == k_owner_id || (!u.home && !u.shared)) continue;
                  json server = {{"id", 1000 + u.id},
                                 {"serverId", 1},
                                 {"machineIdentifier", m_server.value("machineIdentifier", "")},
                                 {"name", m_server.value("friendlyName", "cw-sandbox")},
                                 {"lastSeenAt", m_ctx->now_s()},
                                 {"numLibraries", m_sections.size()},
                                 {"allLibraries", true},
                                 {"owned", true},
                                 {"pending", false}};
                  users.push_back({{"id", u.id},
                                   {"title", u.name},
                                   {"thumb", "https://plex.tv/users/" + u.uuid + "/avatar"},
                                   {"protected", u.is_protected},
                                   {"home", u.home},
                                   {"allowTuners", 0},
                                   {"allowSync", false},
                                   {"allowCameraUpload", false},
                                   {"allowChannels", false},
                                   {"allowSubtitleAdmin", false},
                                   {"filterAll", ""},
                                   {"filterMovies", ""},
                                   {"filterMusic", ""},
                                   {"filterPhotos", ""},
                                   {"filterTelevision", ""},
                                   {"restricted", !u.admin && u.home},
                                   {"username", u.home ? "" : u.name},
                                   {"email", u.home ? "" : u.email},
                                   {"recommendationsPlaylistId", ""},
                                   {"Server", json::array({server})}});
                }
              }
              res.set_content(
                  plex_json_to_xml("MediaContainer",
                                   {{"friendlyName", "myPlex"},
                                    {"identifier", "com.plexapp.plugins.myplex"},
                                    {"machineIdentifier", m_server.value("machineIdentifier", "")},
                                    {"totalSize", users.size()},
                                    {"size", users.size()},
                                    {"User", users}}),
                  "text/xml;charset=utf-8");
            }));
    // The account's Plex Home (XML; JSON with Accept: application/json).
    srv.Get("/api/home/?",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              int members = 0;
              for (const auto& u : m_accounts) members += u.home ? 1 : 0;
              const json home = {{"id", 1},
                                 {"name", "Sandbox Home"},
                                 {"guestUserID", nullptr},
                                 {"guestUserUUID", nullptr},
                                 {"guestEnabled", false},
                                 {"subscription", false},
                                 {"users", members},
                                 {"admin", a.admin}};
              if (wants_json(req)) {
                send_json(res, home);
              } else {
                res.set_content(plex_json_to_xml("home", drop_nulls(home)),
                                "text/xml;charset=utf-8");
              }
            }));
    srv.Get("/api/v2/home/users", home_users(true));
    srv.Get("/api/home/users", home_users(false));
    auto do_switch =
        cloud([this](const httplib::Request& req, httplib::Response& res, const Account&) {
          const Account* target = account_by_id(std::stoi(req.matches[1]));
          if (target == nullptr || !target->home) {
            send_plextv_error(res, 404, 1002, "User not found");
            return;
          }
          if (target->is_protected && req.get_param_value("pin") != target->pin) {
            send_plextv_error(res, 401, 1041, "Invalid PIN");
            return;
          }
          json user = {{"id", target->id},
                       {"uuid", target->uuid},
                       {"title", target->name},
                       {"authenticationToken", target->cloud_token},
                       {"authToken", target->cloud_token}};
          if (wants_json(req)) {
            send_json(res, user, 201);
          } else {
            res.status = 201;
            res.set_content(plex_json_to_xml("user", user), "text/xml;charset=utf-8");
          }
        });
    srv.Post("/api/home/users/(\\d+)/switch", do_switch);
    srv.Post("/api/v2/home/users/(\\d+)/switch", do_switch);
    srv.Get("/api/servers/([^/]+)/shared_servers",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              if (a.id != k_owner_id || req.matches[1] != m_server.value("machineIdentifier", "")) {
                send_plextv_error(res, 403, 1003, "Forbidden");
                return;
              }
              json shared = json::array();
              for (const auto& u : m_accounts) {
                if (!u.shared) continue;
                shared.push_back({{"id", 1000 + u.id},
                                  {"userID", u.id},
                                  {"username", u.name},
                                  {"email", u.email},
                                  {"accessToken", u.pms_token},
                                  {"owned", 0}});
              }
              res.set_content(plex_json_to_xml("MediaContainer",
                                               {{"size", shared.size()}, {"SharedServer", shared}}),
                              "text/xml;charset=utf-8");
            }));
  }

  json pin_json(const Pin& pin) const {
    const std::string created = iso_from_ms(pin.created_ms).substr(0, 19) + "Z";
    const std::string expires =
        iso_from_ms(pin.created_ms + pin.expires_in * 1000LL).substr(0, 19) + "Z";
    return {{"id", pin.id},
            {"code", pin.code},
            {"product", "cw"},
            {"trusted", false},
            {"clientIdentifier", pin.client_id},
            {"expiresIn", pin.expires_in},
            {"createdAt", created},
            {"expiresAt", expires},
            {"authToken", pin.auth_token.empty() ? json(nullptr) : json(pin.auth_token)},
            {"qr", "https://plex.tv/api/v2/pins/qr/" + pin.code},
            {"location",
             {{"code", "NL"},
              {"european_union_member", true},
              {"continent_code", "EU"},
              {"country", "The Netherlands"},
              {"city", "Breda"},
              {"time_zone", "Europe/Amsterdam"},
              {"postal_code", "4814"},
              {"in_privacy_restricted_country", true},
              {"in_privacy_restricted_region", true},
              {"subdivisions", "North Brabant"},
              {"coordinates", "51.5869, 4.7471"}}},
            // null until the PIN is claimed; then whether the account was created for it.
            {"newRegistration", pin.auth_token.empty() ? json(nullptr) : json(false)}};
  }

  // One connection of a plex.tv device. `local`, `relay` and `IPv6` are booleans in JSON (the
  // legacy XML writes them 1/0, which plex_json_to_xml does for booleans).
  json connection_json() const {
    const std::string base = m_ctx->base_url();
    const auto colon = base.rfind(':');
    return {
        {"protocol", "http"}, {"address", "127.0.0.1"}, {"port", std::stoi(base.substr(colon + 1))},
        {"uri", base},        {"local", true},          {"relay", false},
        {"IPv6", false}};
  }

  // The server as plex.tv's /api/v2/resources describes it: every required field of the
  // PlexDevice schema, booleans as booleans; ownerId is null for the owner's own token.
  json resource_json(const Account& a) const {
    const bool owned = a.id == k_owner_id;
    const std::string created = iso_from_ms(1600000000000).substr(0, 19) + "Z";
    const std::string seen = iso_from_ms(m_ctx->now_ms()).substr(0, 19) + "Z";
    return {{"name", m_server.value("friendlyName", "cw-sandbox")},
            {"product", "Plex Media Server"},
            {"productVersion", m_server.value("version", "")},
            {"platform", "Linux"},
            {"platformVersion", "6.1.0"},
            {"device", "PC"},
            {"clientIdentifier", m_server.value("machineIdentifier", "")},
            {"createdAt", created},
            {"lastSeenAt", seen},
            {"provides", "server"},
            {"ownerId", owned ? json(nullptr) : json(k_owner_id)},
            {"sourceTitle", owned ? json(nullptr) : json(m_accounts.front().name)},
            {"publicAddress", "127.0.0.1"},
            {"accessToken", a.pms_token},
            {"owned", owned},
            {"home", a.home},
            {"synced", false},
            {"relay", false},
            {"presence", true},
            {"httpsRequired", false},
            {"publicAddressMatches", true},
            {"dnsRebindingProtection", false},
            {"natLoopbackSupported", false},
            {"connections", json::array({connection_json()})}};
  }

  // A client device of the account (plex.tv lists players next to servers).
  json client_device_json(const Account& a) const {
    const std::string created = iso_from_ms(1600000000000).substr(0, 19) + "Z";
    const std::string seen = iso_from_ms(m_ctx->now_ms()).substr(0, 19) + "Z";
    return {{"name", "Plex Web (Firefox)"},
            {"product", "Plex Web"},
            {"productVersion", "4.118.0"},
            {"platform", "Firefox"},
            {"platformVersion", "120.0"},
            {"device", "Linux"},
            {"clientIdentifier", "sandbox-player-" + a.uuid},
            {"createdAt", created},
            {"lastSeenAt", seen},
            {"provides", "client,player,pubsub-player"},
            {"ownerId", nullptr},
            {"sourceTitle", nullptr},
            {"publicAddress", "127.0.0.1"},
            {"accessToken", a.cloud_token},
            {"owned", true},
            {"home", false},
            {"synced", false},
            {"relay", false},
            {"presence", false},
            {"httpsRequired", false},
            {"publicAddressMatches", true},
            {"dnsRebindingProtection", false},
            {"natLoopbackSupported", false},
            {"connections", json::array()}};
  }

  // ------------------------------------------------------------------ Discover / Metadata
  void register_discover(httplib::Server& srv) {
    srv.Get("/library/sections/watchlist/(all|available|released)",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              auto list = m_watchlist[a.id];
              std::stable_sort(list.begin(), list.end(),
                               [](const auto& x, const auto& y) { return x.second > y.second; });
              std::vector<json> rows;
              for (const auto& entry : list) {
                auto d = m_discover.find(entry.first);
                if (d == m_discover.end()) continue;
                // watchlistedAt orders the list but is not a field of the rows.
                rows.push_back(render_discover(d->second, false));
              }
              respond(req, res,
                      page_rows(req, res, rows,
                                {{"identifier", "tv.plex.provider.discover"},
                                 {"librarySectionID", "watchlist"},
                                 {"librarySectionTitle", "Watchlist"}}));
            }));
    auto watchlist_write = [this](bool add) {
      return cloud([this, add](const httplib::Request& req, httplib::Response& res,
                               const Account& a) {
        const std::string rk = req.get_param_value("ratingKey");
        if (!m_discover.count(rk)) {
          send_plextv_error(res, 404, 1004, "Metadata item not found");
          return;
        }
        auto& list = m_watchlist[a.id];
        auto it =
            std::find_if(list.begin(), list.end(), [&](const auto& e) { return e.first == rk; });
        if (add && it != list.end()) {
          const bool as_200 = m_quirks.value("watchlist_duplicate", "409") == "200_text";
          send_plextv_error(res, as_200 ? 200 : 409, 1005, "Item is already on the watchlist");
          return;
        }
        if (!add && it == list.end()) {
          send_plextv_error(res, 404, 1006, "Item is not on the watchlist");
          return;
        }
        if (add) {
          list.push_back({rk, m_ctx->now_s()});
        } else {
          list.erase(it);
        }
        res.status = 200;
      });
    };
    srv.Put("/actions/addToWatchlist", watchlist_write(true));
    srv.Put("/actions/removeFromWatchlist", watchlist_write(false));
    srv.Get("/library/metadata/matches",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              const std::string title = req.get_param_value("title");
              const std::string type = req.get_param_value("type");
              std::vector<const DiscoverItem*> hits;
              std::string id_guid;
              for (const char* scheme : {"tmdb", "imdb", "tvdb"}) {
                const std::string prefix = std::string(scheme) + "-";
                if (title.rfind(prefix, 0) == 0) {
                  id_guid = std::string(scheme) + "://" + title.substr(prefix.size());
                }
              }
              for (const auto& rk : m_discover_order) {
                const DiscoverItem& d = m_discover.at(rk);
                if (!type.empty() && d.type != type) continue;
                const bool match = id_guid.empty() ? lower(d.title) == lower(title)
                                                   : std::find(d.guids.begin(), d.guids.end(),
                                                               id_guid) != d.guids.end();
                if (match) hits.push_back(&d);
                if (hits.size() >= 10) break;
              }
              json results = json::array();
              for (const auto* d : hits) {
                results.push_back({{"score", 1.0}, {"Metadata", render_discover(*d, true)}});
              }
              respond(req, res,
                      {{"size", hits.size()},
                       {"SearchResults", json::array({{{"id", "plex"},
                                                       {"title", "Plex"},
                                                       {"size", hits.size()},
                                                       {"SearchResult", results}}})}});
            }));
    srv.Get("/library/search",
            cloud([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              const std::string query = lower(req.get_param_value("query"));
              const long long limit = param_int(req, "limit", 25);
              json results = json::array();
              for (const auto& rk : m_discover_order) {
                const DiscoverItem& d = m_discover.at(rk);
                const std::string with_year = lower(d.title) + " " + std::to_string(d.year);
                if (lower(d.title).find(query) == std::string::npos && with_year != query) {
                  continue;
                }
                results.push_back({{"score", 0.98}, {"Metadata", render_discover(d, false)}});
                if (static_cast<long long>(results.size()) >= limit) break;
              }
              respond(req, res,
                      {{"size", 1},
                       {"SearchResults", json::array({{{"id", "external"},
                                                       {"title", "More Ways To Watch"},
                                                       {"size", results.size()},
                                                       {"SearchResult", results}}})}});
            }));
  }

  // ------------------------------------------------------------------ PMS
  void register_pms(httplib::Server& srv) {
    srv.Get("/", pms([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              json root = m_server;
              root.erase("mediaTagVersion");
              respond(req, res, root);
            }));
    srv.Get("/identity", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      respond(req, res,
              {{"size", 0},
               {"claimed", true},
               {"machineIdentifier", m_server.value("machineIdentifier", "")},
               {"version", m_server.value("version", "")}});
    });
    srv.Get("/accounts",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              json accounts = json::array();
              for (const auto& a : m_accounts) {
                accounts.push_back(
                    {{"id", a.id}, {"key", "/accounts/" + std::to_string(a.id)}, {"name", a.name}});
              }
              respond(req, res, {{"size", accounts.size()}, {"Account", accounts}});
            }));
    // The sections, at /library/sections and /library/sections/all (its documented alias), with
    // or without a trailing slash as PMS answers both.
    srv.Get("/library/sections(/all)?/?",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              respond(req, res,
                      {{"allowSync", false},
                       {"size", m_sections.size()},
                       {"title1", "Plex Library"},
                       {"Directory", m_sections}});
            }));
    // The library root: clients find the sections (and recently added, on deck) through it.
    srv.Get("/library/?",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              respond(
                  req, res,
                  {{"allowSync", false},
                   {"size", 3},
                   {"identifier", k_library_identifier},
                   {"mediaTagPrefix", "/system/bundle/media/flags/"},
                   {"mediaTagVersion", m_server.value("mediaTagVersion", 1690992652)},
                   {"title1", "Plex Library"},
                   {"Directory",
                    json::array({{{"key", "sections"}, {"title", "Library Sections"}},
                                 {{"key", "recentlyAdded"}, {"title", "Recently Added Content"}},
                                 {{"key", "onDeck"}, {"title", "On Deck Content"}}})}});
            }));
    srv.Get(
        "/library/sections/(\\d+)/all/?",
        pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
          const json* sec = section(req.matches[1]);
          if (sec == nullptr) {
            res.status = 404;
            res.set_content(
                "<html><head><title>Not Found</title></head><body><h1>404 Not Found"
                "</h1></body></html>",
                "text/html");
            return;
          }
          const std::string type = sec->value("type", "movie");
          json container = {{"allowSync", true},
                            {"art", sec->value("art", "")},
                            {"identifier", k_library_identifier},
                            {"librarySectionID", section_id_value(sec->value("key", ""))},
                            {"librarySectionTitle", sec->value("title", "")},
                            {"librarySectionUUID", sec->value("uuid", "")},
                            {"mediaTagPrefix", "/system/bundle/media/flags/"},
                            {"mediaTagVersion", m_server.value("mediaTagVersion", 1690992652)},
                            {"thumb", sec->value("thumb", "")},
                            {"title1", sec->value("title", "")},
                            {"title2", type == "show" ? "All Shows" : "All Movies"},
                            {"viewGroup", type},
                            {"viewMode", 65592}};
          if (type == "show") container["nocache"] = true;
          const Listed page = list_items(req, a, sec->value("key", ""), false);
          respond(req, res, page_window(req, res, {page.rows, page.first, page.total}, container));
        }));
    srv.Get("/library/all/?",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              const Account* who = &a;
              if (req.has_param("accountID") && a.id == k_owner_id) {
                if (const Account* other =
                        account_by_id(std::atoi(req.get_param_value("accountID").c_str()))) {
                  who = other;
                }
              }
              const Listed page = list_items(req, *who, "", true);
              respond(req, res,
                      page_window(
                          req, res, {page.rows, page.first, page.total},
                          {{"allowSync", false},
                           {"identifier", k_library_identifier},
                           {"mediaTagPrefix", "/system/bundle/media/flags/"},
                           {"mediaTagVersion", m_server.value("mediaTagVersion", 1690992652)}}));
            }));
    srv.Get("/library/metadata/(\\d+)/(children|allLeaves)",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              const std::int64_t rk = std::stoll(req.matches[1]);
              const Item* parent = item(rk);
              if (parent == nullptr) {
                res.status = 404;
                return;
              }
              const bool leaves = req.matches[2] == "allLeaves";
              std::vector<const Item*> kids;
              collect_children(rk, leaves, kids);
              const bool guids = param_int(req, "includeGuids", 0) == 1;
              std::vector<json> rows;
              for (const Item* k : kids) {
                json row = render_row(*k, &a, guids);
                row["librarySectionID"] = section_id_value(k->section);
                rows.push_back(std::move(row));
              }
              respond(req, res,
                      page_rows(req, res, rows,
                                {{"key", std::to_string(rk)},
                                 {"librarySectionID", section_id_value(parent->section)},
                                 {"parentTitle", parent->title},
                                 {"identifier", k_library_identifier}}));
            }));
    // PMS rating keys are numeric; Discover/Metadata ids are 24 hex digits.
    srv.Get("/library/metadata/([^/]+)",
            [this](const httplib::Request& req, httplib::Response& res) {
              const std::string id = req.matches[1];
              const bool numeric = !id.empty() && std::all_of(id.begin(), id.end(), ::isdigit);
              if (numeric) {
                pms([this](const httplib::Request& r, httplib::Response& s, const Account& a) {
                  const Item* it = item(std::stoll(r.matches[1]));
                  if (it == nullptr) {
                    s.status = 404;
                    s.set_content(
                        "<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1>"
                        "</body></html>",
                        "text/html");
                    return;
                  }
                  json row = render_row(*it, &a, param_int(r, "includeGuids", 0) == 1);
                  row["librarySectionID"] = section_id_value(it->section);
                  respond(r, s,
                          {{"size", 1},
                           {"identifier", k_library_identifier},
                           {"librarySectionID", section_id_value(it->section)},
                           {"Metadata", json::array({row})}});
                })(req, res);
                return;
              }
              // A Discover id asked with a server token is a question to the PMS, which has
              // no such item (Discover ids live on the metadata host): 404, as PMS answers.
              {
                std::lock_guard lock(m_mutex);
                const std::string token = plex_token(req);
                for (const auto& a : m_accounts) {
                  if (!token.empty() && a.pms_token == token) {
                    send_not_found_html(res);
                    return;
                  }
                }
              }
              cloud([this](const httplib::Request& r, httplib::Response& s, const Account&) {
                auto d = m_discover.find(r.matches[1]);
                if (d == m_discover.end()) {
                  send_plextv_error(s, 404, 1004, "Metadata item not found");
                  return;
                }
                respond(r, s,
                        {{"size", 1},
                         {"identifier", "tv.plex.provider.metadata"},
                         {"Metadata", json::array({render_discover(
                                          d->second, param_int(r, "includeGuids", 0) == 1)})}});
              })(req, res);
            });
    srv.Get("/status/sessions/history/all",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              std::vector<const HistoryRow*> rows;
              const int only_account =
                  req.has_param("accountID")
                      ? std::atoi(req.get_param_value("accountID").c_str())
                      : (a.id == k_owner_id ? 0 : a.id);  // other users see their own plays
              const std::string section_filter =
                  req.has_param("librarySectionID") ? req.get_param_value("librarySectionID") : "";
              std::optional<std::int64_t> min_at;
              if (req.has_param("viewedAt>")) min_at = std::stoll(req.get_param_value("viewedAt>"));
              if (req.has_param("viewedAt>>")) {
                min_at = std::stoll(req.get_param_value("viewedAt>>")) + 1;
              }
              for (const auto& h : m_history) {
                if (only_account != 0 && h.account != only_account) continue;
                const Item* it = item(h.rk);
                if (it == nullptr) continue;
                if (!section_filter.empty() && it->section != section_filter) continue;
                if (min_at && h.viewed_at < *min_at) continue;
                rows.push_back(&h);
              }
              const bool desc = req.get_param_value("sort").find(":desc") != std::string::npos ||
                                !req.has_param("sort");
              std::stable_sort(rows.begin(), rows.end(), [&](const auto* x, const auto* y) {
                return desc ? x->viewed_at > y->viewed_at : x->viewed_at < y->viewed_at;
              });
              std::vector<json> out;
              for (const auto* h : rows) {
                const Item* it = item(h->rk);
                json row = {{"historyKey", "/status/sessions/history/" + std::to_string(h->id)},
                            {"key", "/library/metadata/" + std::to_string(it->rk)},
                            {"ratingKey", std::to_string(it->rk)},
                            {"librarySectionID", it->section},
                            {"title", it->title},
                            {"type", it->type},
                            {"viewedAt", h->viewed_at},
                            {"accountID", h->account},
                            {"deviceID", h->device}};
                if (it->index >= 0 && it->type == "episode") row["index"] = it->index;
                if (const Item* p = item(it->parent)) {
                  row["parentKey"] = "/library/metadata/" + std::to_string(p->rk);
                  row["parentRatingKey"] = std::to_string(p->rk);
                  if (p->index >= 0) row["parentIndex"] = p->index;
                }
                if (const Item* g = item(it->grandparent)) {
                  row["grandparentKey"] = "/library/metadata/" + std::to_string(g->rk);
                  row["grandparentRatingKey"] = std::to_string(g->rk);
                  row["grandparentTitle"] = g->title;
                  row["grandparentGuid"] = g->guid;
                }
                row["guid"] = it->guid;
                if (it->year > 0)
                  row["originallyAvailableAt"] = std::to_string(it->year) + "-01-01";
                out.push_back(std::move(row));
              }
              respond(req, res, page_rows(req, res, out, json::object()));
            }));
    // The notification websocket (PMS: playing, activity, timeline, … containers; the fake
    // sends "playing" ones). The token comes as X-Plex-Token, in the header or the query.
    srv.Get("/:/websockets/notifications",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account&) {
              m_feed.serve(req, res);
            }));
    srv.Get("/status/sessions",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
              json rows = json::array();
              for (const auto& s : m_sessions) {
                const Item* it = item(to_int64(s.value("ratingKey", json("0"))));
                if (it == nullptr) continue;
                // Session rows carry Guid children whatever includeGuids says, as PMS does.
                json row = render_row(*it, &a, true);
                std::string session_key = s.contains("sessionKey") ? text_of(s["sessionKey"]) : "";
                if (session_key.empty()) session_key = std::to_string(rows.size() + 1);
                row["sessionKey"] = session_key;
                row["librarySectionID"] = section_id_value(it->section);
                row["viewOffset"] = s.value("viewOffset", 0);
                const int account_id = s.value("accountID", k_owner_id);
                const Account* who = account_by_id(account_id);
                row["User"] = {{"id", std::to_string(account_id)},
                               {"thumb", "https://plex.tv/users/" +
                                             (who ? who->uuid : std::string()) + "/avatar"},
                               {"title", who ? who->name : ""}};
                row["Player"] = {{"address", "127.0.0.1"},
                                 {"device", "Linux"},
                                 {"machineIdentifier", "sandbox-player"},
                                 {"model", "hosted"},
                                 {"platform", "Firefox"},
                                 {"platformVersion", "120.0"},
                                 {"product", "Plex Web"},
                                 {"profile", "Firefox"},
                                 {"remotePublicAddress", "127.0.0.1"},
                                 {"state", s.value("state", "playing")},
                                 {"title", "Firefox"},
                                 {"vendor", ""},
                                 {"version", "4.118.0"},
                                 {"local", true},
                                 {"relayed", false},
                                 {"secure", false},
                                 {"userID", account_id}};
                row["Session"] = {{"id", "sandbox-session-" + session_key},
                                  {"bandwidth", 10000},
                                  {"location", "lan"}};
                rows.push_back(std::move(row));
              }
              json container = {{"size", rows.size()}};
              if (!rows.empty()) container["Metadata"] = rows;
              respond(req, res, container);
            }));
    auto scrobble =
        pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
          Item* it = target_item(req, res);
          if (it == nullptr) return;
          UserState& st = user_state_mut(a.id, it->rk);
          std::int64_t at = m_ctx->now_s();
          if (req.has_param("viewedAt") && !m_quirks.value("scrobble_ignores_viewed_at", false)) {
            at = std::stoll(req.get_param_value("viewedAt"));
          }
          st.view_count += 1;
          st.view_offset = 0;
          st.last_viewed_at = std::max(st.last_viewed_at.value_or(0), at);
          m_history.push_back({m_next_history++, it->rk, a.id, at, 1});
          m_ctx->note_write();
          res.status = 200;
        });
    srv.Get("/:/scrobble", scrobble);
    srv.Put("/:/scrobble", scrobble);
    auto unscrobble =
        pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
          Item* it = target_item(req, res);
          if (it == nullptr) return;
          UserState& st = user_state_mut(a.id, it->rk);
          st.view_count = 0;
          st.view_offset = 0;
          st.last_viewed_at.reset();
          m_ctx->note_write();
          res.status = 200;
        });
    srv.Get("/:/unscrobble", unscrobble);
    srv.Put("/:/unscrobble", unscrobble);
    auto rate = pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
      Item* it = target_item(req, res);
      if (it == nullptr) return;
      double rating = 0;
      try {
        rating = std::stod(req.get_param_value("rating"));
      } catch (const std::exception&) {
        res.status = 400;
        return;
      }
      if (rating != -1 && (rating < 0 || rating > 10)) {
        res.status = 400;
        return;
      }
      UserState& st = user_state_mut(a.id, it->rk);
      if (rating <= 0) {
        st.user_rating.reset();
        st.last_rated_at.reset();
      } else {
        st.user_rating = rating;
        st.last_rated_at = m_ctx->now_s();
      }
      m_ctx->note_write();
      res.status = 200;
    });
    srv.Get("/:/rate", rate);
    srv.Put("/:/rate", rate);
    // A timeline report (GET or POST /:/timeline, as clients send both) and /:/progress (the
    // older resume-point call): the offset, or past PMS's "Video played threshold" (90 %) of a
    // stopped item, a play. Both answer an empty MediaContainer, JSON or XML by Accept.
    auto timeline =
        pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
          Item* it = target_item(req, res);
          if (it == nullptr) return;
          if (!req.has_param("time")) {
            res.status = 400;
            return;
          }
          const std::int64_t time = std::max<long long>(0, param_int(req, "time", 0));
          std::int64_t duration = param_int(req, "duration", it->duration);
          if (duration <= 0) duration = it->duration;
          UserState& st = user_state_mut(a.id, it->rk);
          st.last_viewed_at = m_ctx->now_s();
          const std::string state = req.get_param_value("state");
          if (duration > 0 && static_cast<double>(time) >= 0.9 * static_cast<double>(duration) &&
              (state == "stopped" || state == "played")) {
            st.view_count += 1;
            st.view_offset = 0;
            m_history.push_back({m_next_history++, it->rk, a.id, *st.last_viewed_at, 1});
          } else {
            st.view_offset = time;
          }
          track_session(a.id, it->rk, state, time);
          m_ctx->note_write();
          respond(req, res, {{"size", 0}});
        });
    srv.Post("/:/timeline", timeline);
    srv.Get("/:/timeline", timeline);
    srv.Post("/:/progress", timeline);
    srv.Get("/:/progress", timeline);
    srv.Get(
        "/hubs/search",
        pms([this](const httplib::Request& req, httplib::Response& res, const Account& a) {
          const std::string q = lower(req.get_param_value("query"));
          json movies = json::array(), shows = json::array(), episodes = json::array();
          for (const auto& [rk, it] : m_items) {
            if (q.empty() || lower(it.title).find(q) == std::string::npos) continue;
            json row = render_row(it, &a, false);
            row["librarySectionID"] = section_id_value(it.section);
            if (it.type == "movie") movies.push_back(std::move(row));
            if (it.type == "show") shows.push_back(std::move(row));
            if (it.type == "episode") episodes.push_back(std::move(row));
          }
          json hubs = json::array();
          const std::pair<const char*, json*> k_hubs[] = {
              {"movie", &movies}, {"show", &shows}, {"episode", &episodes}};
          for (const auto& [type, rows] : k_hubs) {
            json hub = {
                {"type", type}, {"hubIdentifier", type}, {"size", rows->size()}, {"title", type}};
            if (!rows->empty()) hub["Metadata"] = *rows;
            hubs.push_back(std::move(hub));
          }
          respond(req, res, {{"size", hubs.size()}, {"Hub", hubs}});
        }));
  }

  // ------------------------------------------------------------------ playlists, collections
  // Rows of a list's items, in list order; rating keys without an item are skipped, as PMS
  // drops deleted media from playlists.
  std::vector<json> list_rows(const ItemList& l, const Account& acc, bool guids) const {
    std::vector<json> rows;
    std::int64_t n = 0;
    for (const auto rk : l.items) {
      auto it = m_items.find(rk);
      ++n;
      if (it == m_items.end()) continue;
      json row = render_row(it->second, &acc, guids);
      row["librarySectionID"] = section_id_value(it->second.section);
      rows.push_back(std::move(row));
      if (l.kind == "video" || l.kind == "audio" || l.kind == "photo") {
        rows.back()["playlistItemID"] = l.rk * 1000 + n;
      }
    }
    return rows;
  }

  std::int64_t list_duration(const ItemList& l) const {
    std::int64_t total = 0;
    for (const auto rk : l.items) {
      auto it = m_items.find(rk);
      if (it != m_items.end()) total += it->second.duration;
    }
    return total;
  }

  static void send_not_found_html(httplib::Response& res) {
    res.status = 404;
    res.set_content(
        "<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>",
        "text/html");
  }

  void register_lists(httplib::Server& srv) {
    srv.Get("/playlists",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& acc) {
              const std::string type =
                  req.has_param("playlistType") ? req.get_param_value("playlistType") : "";
              std::vector<json> rows;
              for (const auto& l : m_playlists) {
                if (!type.empty() && l.kind != type) continue;
                const auto items = list_rows(l, acc, false);
                rows.push_back({{"ratingKey", std::to_string(l.rk)},
                                {"key", "/playlists/" + std::to_string(l.rk) + "/items"},
                                {"guid", "com.plexapp.agents.none://" + hex24("p", l.rk)},
                                {"type", "playlist"},
                                {"title", l.title},
                                {"summary", ""},
                                {"smart", false},
                                {"playlistType", l.kind},
                                {"composite", "/playlists/" + std::to_string(l.rk) + "/composite/" +
                                                  std::to_string(l.added_at)},
                                {"duration", list_duration(l)},
                                {"leafCount", items.size()},
                                {"addedAt", l.added_at},
                                {"updatedAt", l.added_at}});
              }
              respond(req, res, page_rows(req, res, rows, json::object()));
            }));
    srv.Get("/playlists/(\\d+)/items",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& acc) {
              const std::int64_t id = std::stoll(req.matches[1]);
              for (const auto& l : m_playlists) {
                if (l.rk != id) continue;
                const auto rows = list_rows(l, acc, param_int(req, "includeGuids", 0) == 1);
                json container = {{"ratingKey", std::to_string(l.rk)},
                                  {"title", l.title},
                                  {"smart", false},
                                  {"playlistType", l.kind},
                                  {"duration", list_duration(l)},
                                  {"leafCount", rows.size()}};
                respond(req, res, page_rows(req, res, rows, container));
                return;
              }
              send_not_found_html(res);
            }));
    srv.Get(
        "/library/sections/(\\d+)/collections",
        pms([this](const httplib::Request& req, httplib::Response& res, const Account& acc) {
          const json* sec = section(req.matches[1]);
          if (sec == nullptr) {
            send_not_found_html(res);
            return;
          }
          const std::string key = sec->value("key", "");
          std::vector<json> rows;
          for (const auto& l : m_collections) {
            if (l.section != key) continue;
            rows.push_back({{"ratingKey", std::to_string(l.rk)},
                            {"key", "/library/collections/" + std::to_string(l.rk) + "/children"},
                            {"guid", "collection://" + hex24("c", l.rk)},
                            {"type", "collection"},
                            {"title", l.title},
                            {"subtype", l.kind},
                            {"summary", ""},
                            {"librarySectionID", section_id_value(l.section)},
                            {"librarySectionTitle", sec->value("title", "")},
                            {"childCount", std::to_string(list_rows(l, acc, false).size())},
                            {"addedAt", l.added_at},
                            {"updatedAt", l.added_at}});
          }
          json container = {{"librarySectionID", section_id_value(key)},
                            {"librarySectionTitle", sec->value("title", "")},
                            {"title1", sec->value("title", "")},
                            {"title2", "Collections"}};
          respond(req, res, page_rows(req, res, rows, container));
        }));
    srv.Get("/library/collections/(\\d+)/children",
            pms([this](const httplib::Request& req, httplib::Response& res, const Account& acc) {
              const std::int64_t id = std::stoll(req.matches[1]);
              for (const auto& l : m_collections) {
                if (l.rk != id) continue;
                const auto rows = list_rows(l, acc, param_int(req, "includeGuids", 0) == 1);
                json container = {{"key", std::to_string(l.rk)},
                                  {"title1", l.title},
                                  {"librarySectionID", section_id_value(l.section)}};
                respond(req, res, page_rows(req, res, rows, container));
                return;
              }
              send_not_found_html(res);
            }));
  }

  void collect_children(std::int64_t rk, bool leaves, std::vector<const Item*>& out) const {
    auto c = m_children.find(rk);
    if (c == m_children.end()) return;
    std::vector<std::int64_t> kids = c->second;
    std::sort(kids.begin(), kids.end(), [this](std::int64_t x, std::int64_t y) {
      const Item* a = item(x);
      const Item* b = item(y);
      return std::make_pair(a->index, a->rk) < std::make_pair(b->index, b->rk);
    });
    for (const auto k : kids) {
      const Item* it = item(k);
      if (!leaves || it->type == "episode") out.push_back(it);
      if (leaves && it->type != "episode") collect_children(k, true, out);
    }
  }

  // The item of `key=` (a rating key or /library/metadata/<rk>) or `ratingKey=`.
  Item* target_item(const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("identifier") && req.get_param_value("identifier") != k_library_identifier) {
      res.status = 400;
      return nullptr;
    }
    std::string key =
        req.has_param("ratingKey") ? req.get_param_value("ratingKey") : req.get_param_value("key");
    const auto slash = key.rfind('/');
    if (slash != std::string::npos) key = key.substr(slash + 1);
    auto it = m_items.end();
    try {
      it = m_items.find(std::stoll(key));
    } catch (const std::exception&) {
    }
    if (it == m_items.end()) {
      res.status = 404;
      return nullptr;
    }
    return &it->second;
  }

  Context* m_ctx = nullptr;
  mutable std::mutex m_mutex;
  json m_server;
  std::vector<Account> m_accounts;
  std::vector<json> m_sections;
  std::map<std::int64_t, Item> m_items;
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> m_children;
  std::unordered_map<std::string, std::int64_t> m_primary_guid;
  std::unordered_map<int, std::unordered_map<std::int64_t, UserState>> m_user;
  // listing(): query → the rows it selects, until the next change.
  mutable std::unordered_map<std::string, std::vector<const Item*>> m_listings;
  std::vector<HistoryRow> m_history;
  std::int64_t m_next_history = 1;
  json m_sessions;
  long long m_next_session_key = 1;
  NotificationFeed m_feed;  // /:/websockets/notifications
  std::unordered_map<std::string, DiscoverItem> m_discover;
  std::vector<std::string> m_discover_order;
  std::map<int, std::vector<std::pair<std::string, std::int64_t>>> m_watchlist;
  std::map<std::int64_t, Pin> m_pins;
  std::int64_t m_next_pin = 1;
  json m_quirks;
  std::vector<ItemList> m_playlists;
  std::vector<ItemList> m_collections;
};

// ------------------------------------------------------------------ universe mapping

std::vector<std::string> guid_children(const json& ids) {
  std::vector<std::string> out;
  if (ids.contains("imdb")) out.push_back("imdb://" + ids["imdb"].get<std::string>());
  if (ids.contains("tmdb")) out.push_back("tmdb://" + ids["tmdb"].get<std::string>());
  if (ids.contains("tvdb")) out.push_back("tvdb://" + ids["tvdb"].get<std::string>());
  return out;
}

std::string id_key(const std::string& type, const json& ids) {
  return type + ":" + ids.value("tmdb", ids.value("imdb", ""));
}

void PlexFake::seed_universe(const json& u) {
  std::lock_guard lock(m_mutex);
  reset_locked();
  std::int64_t next_rk = 1000;
  std::int64_t added = 1500000000;
  std::unordered_map<std::string, std::int64_t> by_key;  // "movie:<tmdb>" → rk
  std::unordered_map<std::string, std::string> discover_by_key;
  for (const auto& m : u.value("movies", json::array())) {
    Item it;
    it.rk = next_rk++;
    it.section = "1";
    it.type = "movie";
    it.title = m.value("title", "");
    it.year = m.value("year", 0);
    it.duration = m.value("duration_ms", 0);
    it.added_at = added++;
    const json& ids = m["ids"];
    const std::string hex = hex24("5d77", it.rk);
    const bool legacy = m.value("sandbox", json::object()).value("plex_agent", "new") == "legacy";
    if (legacy) {
      it.guid = ids.contains("imdb")
                    ? "com.plexapp.agents.imdb://" + ids["imdb"].get<std::string>() + "?lang=en"
                    : "com.plexapp.agents.themoviedb://" + ids.value("tmdb", "") + "?lang=en";
    } else {
      it.guid = "plex://movie/" + hex;
      it.guids = guid_children(ids);
    }
    by_key[id_key("movie", ids)] = it.rk;
    DiscoverItem d{hex, "movie", it.title, "plex://movie/" + hex, it.year, guid_children(ids)};
    discover_by_key[id_key("movie", ids)] = hex;
    m_discover_order.push_back(hex);
    m_discover[hex] = std::move(d);
    index_item(std::move(it));
  }
  for (const auto& s : u.value("shows", json::array())) {
    Item show;
    show.rk = next_rk++;
    show.section = "2";
    show.type = "show";
    show.title = s.value("title", "");
    show.year = s.value("year", 0);
    show.added_at = added++;
    const json& ids = s["ids"];
    const bool legacy = s.value("sandbox", json::object()).value("plex_agent", "new") == "legacy";
    const std::string hex = hex24("5d9c", show.rk);
    const std::string tvdb = ids.value("tvdb", "");
    show.guid = legacy ? "com.plexapp.agents.thetvdb://" + tvdb + "?lang=en" : "plex://show/" + hex;
    if (!legacy) show.guids = guid_children(ids);
    const std::string show_key = id_key("show", ids);
    by_key[show_key] = show.rk;
    m_discover_order.push_back(hex);
    m_discover[hex] = {
        hex, "show", show.title, "plex://show/" + hex, show.year, guid_children(ids)};
    discover_by_key[show_key] = hex;
    const std::int64_t show_rk = show.rk;
    const std::string show_title = show.title;
    index_item(std::move(show));
    for (const auto& season : s.value("seasons", json::array())) {
      Item se;
      se.rk = next_rk++;
      se.section = "2";
      se.type = "season";
      se.index = season.value("number", 1);
      se.title = "Season " + std::to_string(se.index);
      se.parent = show_rk;
      se.added_at = added++;
      se.guid = legacy ? "com.plexapp.agents.thetvdb://" + tvdb + "/" + std::to_string(se.index) +
                             "?lang=en"
                       : "plex://season/" + hex24("5e00", se.rk);
      const std::int64_t season_rk = se.rk;
      const int season_no = se.index;
      index_item(std::move(se));
      for (const auto& ep : season.value("episodes", json::array())) {
        Item e;
        e.rk = next_rk++;
        e.section = "2";
        e.type = "episode";
        e.index = ep.value("number", 1);
        e.parent_index = season_no;
        e.title = ep.value("title", "");
        e.year = s.value("year", 0);
        e.duration = ep.value("duration_ms", 0);
        e.parent = season_rk;
        e.grandparent = show_rk;
        e.added_at = added++;
        e.guid = legacy ? "com.plexapp.agents.thetvdb://" + tvdb + "/" + std::to_string(season_no) +
                              "/" + std::to_string(e.index) + "?lang=en"
                        : "plex://episode/" + hex24("5e11", e.rk);
        if (!legacy) e.guids = guid_children(ep.value("ids", json::object()));
        by_key[show_key + "#" + std::to_string(season_no) + "x" + std::to_string(e.index)] = e.rk;
        index_item(std::move(e));
      }
    }
    (void)show_title;
  }
  auto rk_of = [&](const json& ref) -> std::int64_t {
    const std::string type = ref.value("type", "movie");
    std::string key;
    if (type == "episode") {
      key = id_key("show", ref["show"]["ids"]) + "#" + std::to_string(ref.value("season", 0)) +
            "x" + std::to_string(ref.value("episode", 0));
    } else {
      key = id_key(type, ref["ids"]);
    }
    auto it = by_key.find(key);
    return it == by_key.end() ? 0 : it->second;
  };
  for (const auto& h : u.value("history", json::array())) {
    const std::int64_t rk = rk_of(h);
    if (rk == 0) continue;
    const std::int64_t at = ms_from_iso(h.value("watched_at", "")).value_or(0) / 1000;
    UserState& st = user_state_mut(k_owner_id, rk);
    st.view_count += 1;
    st.last_viewed_at = std::max(st.last_viewed_at.value_or(0), at);
    m_history.push_back({m_next_history++, rk, k_owner_id, at, 1});
  }
  for (const auto& r : u.value("ratings", json::array())) {
    const std::int64_t rk = rk_of(r);
    if (rk == 0) continue;
    UserState& st = user_state_mut(k_owner_id, rk);
    st.user_rating = r.value("rating", 0);
    st.last_rated_at = ms_from_iso(r.value("rated_at", "")).value_or(0) / 1000;
  }
  for (const auto& p : u.value("progress", json::array())) {
    const std::int64_t rk = rk_of(p);
    if (rk == 0) continue;
    UserState& st = user_state_mut(k_owner_id, rk);
    st.view_offset = p.value("progress_ms", 0);
    if (!st.last_viewed_at)
      st.last_viewed_at = ms_from_iso(p.value("progress_at", "")).value_or(0) / 1000;
  }
  for (const auto& w : u.value("watchlist", json::array())) {
    auto d = discover_by_key.find(id_key(w.value("type", "movie"), w["ids"]));
    if (d == discover_by_key.end()) continue;
    m_watchlist[k_owner_id].push_back(
        {d->second, ms_from_iso(w.value("listed_at", "")).value_or(0) / 1000});
  }
}

}  // namespace

json plex_universe_index(const json& u) {
  // Walks the universe exactly as PlexFake::seed_universe does (same rating-key order).
  json by_key = json::object();
  std::int64_t rk = 1000;
  for (const auto& m : u.value("movies", json::array())) {
    const json& ids = m["ids"];
    const std::int64_t movie_rk = rk++;
    const bool legacy = m.value("sandbox", json::object()).value("plex_agent", "new") == "legacy";
    std::string guid =
        legacy ? (ids.contains("imdb")
                      ? "com.plexapp.agents.imdb://" + ids["imdb"].get<std::string>() + "?lang=en"
                      : "com.plexapp.agents.themoviedb://" + ids.value("tmdb", "") + "?lang=en")
               : "plex://movie/" + hex24("5d77", movie_rk);
    by_key[id_key("movie", ids)] = {
        {"rk", movie_rk},
        {"guid", guid},
        {"guids", legacy ? std::vector<std::string>{} : guid_children(ids)},
        {"year", m.value("year", 0)},
        {"duration_s", m.value("duration_ms", 0) / 1000}};
  }
  for (const auto& s : u.value("shows", json::array())) {
    const json& ids = s["ids"];
    const bool legacy = s.value("sandbox", json::object()).value("plex_agent", "new") == "legacy";
    const std::int64_t show_rk = rk++;
    const std::string tvdb = ids.value("tvdb", "");
    const std::string show_guid = legacy ? "com.plexapp.agents.thetvdb://" + tvdb + "?lang=en"
                                         : "plex://show/" + hex24("5d9c", show_rk);
    const auto show_guids = legacy ? std::vector<std::string>{} : guid_children(ids);
    const std::string show_key = id_key("show", ids);
    by_key[show_key] = {
        {"rk", show_rk}, {"guid", show_guid}, {"guids", show_guids}, {"year", s.value("year", 0)}};
    for (const auto& season : s.value("seasons", json::array())) {
      const std::int64_t season_rk = rk++;
      const int sn = season.value("number", 1);
      for (const auto& ep : season.value("episodes", json::array())) {
        const std::int64_t ep_rk = rk++;
        const int en = ep.value("number", 1);
        const std::string guid = legacy ? "com.plexapp.agents.thetvdb://" + tvdb + "/" +
                                              std::to_string(sn) + "/" + std::to_string(en) +
                                              "?lang=en"
                                        : "plex://episode/" + hex24("5e11", ep_rk);
        by_key[show_key + "#" + std::to_string(sn) + "x" + std::to_string(en)] = {
            {"rk", ep_rk},
            {"parent_rk", season_rk},
            {"grandparent_rk", show_rk},
            {"guid", guid},
            {"guids",
             legacy ? std::vector<std::string>{} : guid_children(ep.value("ids", json::object()))},
            {"year", s.value("year", 0)},
            {"duration_s", ep.value("duration_ms", 0) / 1000},
            {"show_title", s.value("title", "")},
            {"show_guid", show_guid},
            {"show_guids", show_guids}};
      }
    }
  }
  return {{"by_key", by_key}};
}

std::unique_ptr<FakeService> make_plex_fake() { return std::make_unique<PlexFake>(); }

}  // namespace cw::fakes
