// The Jellyfin (10.9+) and Emby (4.8+) providers: one implementation, header-only, shared by
// plugins/jellyfin and plugins/emby. Both servers keep the MediaBrowser data model (BaseItemDto,
// UserItemDataDto, the MediaBrowser auth header); a Flavor picks the routes and forms where they
// differ:
//
//                      Jellyfin                               Emby
//   items              GET /Items?userId=                     GET /Users/{uid}/Items
//   played             POST|DELETE /UserPlayedItems/{id}      POST|DELETE
//   /Users/{uid}/PlayedItems/{id}
//                      ?datePlayed=ISO 8601                   ?DatePlayed=yyyyMMddHHmmss (UTC);
//                                                             POST .../Delete when DELETE is
//                                                             refused
//   favourites         /UserFavoriteItems/{id}                /Users/{uid}/FavoriteItems/{id}
//   user data          POST /UserItems/{id}/UserData          POST /Users/{uid}/Items/{id}/UserData
//   token              Authorization: MediaBrowser Token=".." X-Emby-Token
//   login              AuthenticateByName, JSON body          AuthenticateByName, form body
//   users              GET /Users, GET /Users/Me              GET /Users/Query, /Users/Public
//   id lookup          a library index (no server filter)     AnyProviderIdEquals, then the index
//
// Features: watchlist (favourites, a named playlist or a named collection), history (Played +
// LastPlayedDate, one play per item), progress (PlaybackPositionTicks), ratings (UserData.Rating,
// 0-10; the servers cannot clear it, so no remove). A write the server accepted is kept in a
// write-through shadow (the instance's kv store) until a read shows it, so that a stale read does
// not make cw send it again every run.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace mediabrowser {

using cwsdk::Completeness;
using cwsdk::Failure;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Json;
using cwsdk::Result;
using cwsdk::Status;
namespace http = cwsdk::http;

enum class Flavor { jellyfin, emby };

constexpr std::int64_t k_ticks_per_ms = 10000;
constexpr const char* k_client = "cw";
constexpr const char* k_client_version = "1.0.0";

// ---- small helpers ------------------------------------------------------------------------

inline std::string lower(std::string_view s) { return cwsdk::detail::lower_copy(s); }

// "10.11.11" -> {10, 11, 11}; non-digits end a part.
inline std::vector<int> version_parts(std::string_view v) {
  std::vector<int> out;
  int cur = 0;
  bool any = false;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + (c - '0');
      any = true;
    } else if (c == '.') {
      out.push_back(cur);
      cur = 0;
      any = false;
    } else {
      break;
    }
  }
  if (any) out.push_back(cur);
  return out;
}
inline bool version_at_least(std::string_view have, std::vector<int> want) {
  std::vector<int> h = version_parts(have);
  h.resize(std::max(h.size(), want.size()), 0);
  want.resize(h.size(), 0);
  return h >= want;
}

// Emby's DatePlayed: yyyyMMddHHmmss in UTC.
inline std::string emby_date(std::int64_t ms) {
  const std::string iso = cwsdk::format_rfc3339(ms);  // 2024-03-01T20:11:42[.123]Z
  std::string out;
  for (std::size_t i = 0; i < 19 && i < iso.size(); ++i) {
    if (iso[i] >= '0' && iso[i] <= '9') out += iso[i];
  }
  return out;
}

// A date the servers write: ISO 8601 with a 7-digit fraction and usually a zone; a date
// without a zone is UTC (both servers keep UTC).
inline std::optional<std::int64_t> parse_server_date(std::string_view text) {
  if (auto t = cwsdk::parse_rfc3339(text)) return t;
  return cwsdk::parse_naive(text, 0);
}

inline std::optional<std::string> id_of(const Json& row, const char* field = "Id") {
  const Json* v = cwsdk::find(row, field);
  if (v == nullptr) return std::nullopt;
  auto text = cwsdk::id_text(*v);
  if (!text || text->empty()) return std::nullopt;
  return text;
}

inline std::optional<int> year_of(const Json& row) {
  auto y = cwsdk::get_optional<int>(row, "ProductionYear");
  if (!y || !*y || **y < 1800 || **y > 3000) return std::nullopt;
  return **y;
}

inline std::optional<int> number_of(const Json& row, const char* field) {
  auto n = cwsdk::get_optional<int>(row, field);
  if (!n || !*n || **n < 0) return std::nullopt;
  return **n;
}

// The id cw keeps for an item this server indexed (extra.id), if any.
inline std::optional<std::string> extra_id(const Item& item, const char* name = "id") {
  if (!item.extra.is_object()) return std::nullopt;
  const Json* v = cwsdk::find(item.extra, name);
  if (v == nullptr) return std::nullopt;
  auto text = cwsdk::id_text(*v);
  if (!text || text->empty()) return std::nullopt;
  return text;
}

// ---- configuration ------------------------------------------------------------------------

enum class WatchlistMode { favorites, playlist, collection };

struct Config {
  std::string server;
  bool has_access_token = false;
  std::string token_key;  // access_token or api_key
  std::string username;
  bool has_password = false;
  std::string user;  // a user name or id; empty: the token's user, else the first admin
  std::string device_id;
  WatchlistMode watchlist_mode = WatchlistMode::favorites;
  std::string watchlist_name = "Watchlist";
  int page_size = 200;
  int prefetch = 4;  // item pages in flight while one is parsed; 1: one after the other
  std::int64_t shadow_ttl_ms = 60LL * 60 * 1000;

  static Config parse(std::string_view text, Flavor flavor) {
    const Json cfg = Json::parse(text.begin(), text.end(), nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration: expected a JSON object");
    Config c;
    auto bad = [](const Failure& f) { return cwsdk::Error(CW_STATUS_INVALID_ARG, f.message); };
    auto server = cwsdk::get<std::string>(cfg, "url");
    if (!server) throw bad(server.error().context("url"));
    c.server = *server;
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    if (c.server.rfind("http://", 0) != 0 && c.server.rfind("https://", 0) != 0)
      throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                         "url: expected an http(s) URL such as http://127.0.0.1:8096");
    if (cwsdk::find(cfg, "access_token") != nullptr)
      c.token_key = "access_token";
    else if (cwsdk::find(cfg, "api_key") != nullptr)
      c.token_key = "api_key";
    c.has_access_token = !c.token_key.empty();
    c.has_password = cwsdk::find(cfg, "password") != nullptr;
    c.username = cwsdk::get_or(cfg, "username", "");
    c.user = cwsdk::get_or(cfg, "user", "");
    c.device_id = cwsdk::get_or(cfg, "device_id", "");
    if (c.device_id.empty())
      c.device_id = std::string("cw-") + (flavor == Flavor::jellyfin ? "jellyfin" : "emby");
    if (const Json* wl = cwsdk::find(cfg, "watchlist")) {
      const std::string mode = lower(cwsdk::get_or(*wl, "mode", "favorites"));
      if (mode == "favorites" || mode == "favourites")
        c.watchlist_mode = WatchlistMode::favorites;
      else if (mode == "playlist")
        c.watchlist_mode = WatchlistMode::playlist;
      else if (mode == "collection" || mode == "collections")
        c.watchlist_mode = WatchlistMode::collection;
      else
        throw cwsdk::Error(CW_STATUS_INVALID_ARG, "watchlist.mode: '" + mode +
                                                      "' is not one of favorites, playlist, "
                                                      "collection");
      c.watchlist_name = cwsdk::get_or(*wl, "name", "Watchlist");
      if (c.watchlist_name.empty())
        throw cwsdk::Error(CW_STATUS_INVALID_ARG, "watchlist.name: must not be empty");
    }
    c.page_size = std::clamp(cwsdk::get_or(cfg, "page_size", 200), 10, 2000);
    c.prefetch = std::clamp(cwsdk::get_or(cfg, "prefetch", 4), 1, 16);
    c.shadow_ttl_ms =
        std::max<std::int64_t>(0, cwsdk::get_or<std::int64_t>(cfg, "shadow_ttl_minutes", 60)) * 60 *
        1000;
    return c;
  }
};

inline std::string manifest_json(Flavor flavor) {
  const bool jf = flavor == Flavor::jellyfin;
  Json m;
  m["name"] = jf ? "jellyfin" : "emby";
  m["version"] = "1.0.0";
  m["display_name"] = jf ? "Jellyfin" : "Emby";
  m["description"] =
      std::string(jf ? "Jellyfin 10.9 or newer" : "Emby Server 4.8 or newer") +
      ": watchlist (favourites, a playlist or a collection), history (played state and last "
      "played date), progress (resume positions) and ratings (the user's rating).";
  const Json ids_and_deletes = {
      {"index_semantics", "present"}, {"observes_deletes", true}, {"provides_ids", true}};
  Json wl = ids_and_deletes;
  wl["types"] = {"movie", "show"};
  wl["add"] = true;
  wl["remove"] = true;
  wl["chunk_size"] = 50;
  Json hist = ids_and_deletes;
  hist["types"] = {"movie", "episode"};
  hist["add"] = true;
  hist["remove"] = true;
  hist["writes_watch_date"] = true;
  hist["rewatches"] = false;
  hist["chunk_size"] = 50;
  Json prog = ids_and_deletes;
  prog["types"] = {"movie", "episode"};
  prog["add"] = true;
  prog["remove"] = true;
  prog["update"] = true;
  prog["chunk_size"] = 50;
  Json rat = ids_and_deletes;
  rat["types"] = {"movie", "show", "episode"};
  rat["add"] = true;
  rat["remove"] = false;
  rat["update"] = true;
  rat["observes_deletes"] = false;
  rat["rating_scale"] = {{"min", 0}, {"max", 10}, {"step", 0.5}};
  rat["chunk_size"] = 50;
  m["features"] = {{"watchlist", wl}, {"history", hist}, {"progress", prog}, {"ratings", rat}};
  m["capabilities"] = {{"auth", "none"}, {"scrobble", false}};
  m["secrets"] = {"access_token", "api_key", "password"};
  Json props = {
      {"url",
       {{"type", "string"},
        {"description", std::string("the server's base URL, e.g. http://127.0.0.1:8096")}}},
      {"api_key", {{"type", "string"}, {"description", "the same as access_token"}}},
      {"access_token",
       {{"type", "string"},
        {"description", "an API key or a user's access token (write it as ${env:NAME})"}}},
      {"username", {{"type", "string"}, {"description", "log in with AuthenticateByName"}}},
      {"password", {{"type", "string"}, {"description", "the password for username"}}},
      {"user",
       {{"type", "string"},
        {"description",
         "the user whose data is synced (name or id); default: the token's "
         "user, else the first administrator"}}},
      {"device_id", {{"type", "string"}}},
      {"page_size", {{"type", "integer"}, {"minimum", 10}, {"maximum", 2000}}},
      {"prefetch",
       {{"type", "integer"},
        {"minimum", 1},
        {"maximum", 16},
        {"description", "item pages requested ahead while one is read; 1: one at a time"}}},
      {"shadow_ttl_minutes", {{"type", "integer"}, {"minimum", 0}}},
      {"watchlist",
       {{"type", "object"},
        {"properties",
         {{"mode",
           {{"type", "string"},
            {"enum", {"favorites", "favourites", "playlist", "collection", "collections"}}}},
          {"name", {{"type", "string"}}}}},
        {"additionalProperties", false}}}};
  m["config"] = {{"type", "object"},
                 {"required", {"url"}},
                 {"properties", props},
                 {"additionalProperties", false}};
  return m.dump();
}

// ---- one row of an items reply ----------------------------------------------------------------

struct LibraryEntry {
  std::string id;
  ItemType type = ItemType::movie;
  std::string title;
  std::optional<int> year;
  cwsdk::Ids ids;
  std::string series_id;
  std::optional<int> season, episode;
};

inline std::optional<ItemType> type_of(const Json& row) {
  const std::string t = lower(cwsdk::get_or(row, "Type", ""));
  if (t == "movie") return ItemType::movie;
  if (t == "series") return ItemType::show;
  if (t == "episode") return ItemType::episode;
  return std::nullopt;
}

// ---- the provider -------------------------------------------------------------------------------

template <Flavor F>
class Impl {
 public:
  static constexpr bool jellyfin = F == Flavor::jellyfin;

  static const char* manifest() {
    static const std::string text = manifest_json(F);
    return text.c_str();
  }

  Impl(cwsdk::Host host, std::string_view config)
      : m_host(host), m_cfg(Config::parse(config, F)), m_api(host, m_cfg.server), m_auth(*this) {
    m_api.header("Accept", "application/json");
    m_api.authenticator(&m_auth);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // ---- operations

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto uid = user_id();
    if (!uid) return cwsdk::HealthReply::from_failure(uid.error()).reply();
    auto info = m_api.json(http::Request::get("/System/Info"));
    if (!info) return cwsdk::HealthReply::from_failure(info.error()).reply();
    const std::string version = cwsdk::get_or(*info, "Version", "");
    const std::vector<int> minimum = jellyfin ? std::vector<int>{10, 9} : std::vector<int>{4, 8};
    const std::string product = jellyfin ? "Jellyfin" : "Emby";
    if (!version_at_least(version, minimum))
      return cwsdk::HealthReply(cwsdk::HealthStatus::down,
                                product + " " + (version.empty() ? "(no version)" : version) +
                                    " is too old: cw needs " + (jellyfin ? "10.9" : "4.8") +
                                    " or newer")
          .reply();
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok,
                              "signed in as " + m_user_name + " on " + product + " " + version)
        .feature("watchlist", true)
        .feature("history", true)
        .feature("progress", true)
        .feature("ratings", true)
        .reply();
  }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist", "history", "progress", "ratings"});
    if (!req) return req.error().reply();
    auto uid = user_id();
    if (!uid) return uid.error().reply();
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    Shadow shadow = load_shadow(req->feature);
    std::set<std::string> seen;
    std::int64_t left_out = 0;
    auto emit = [&](Item item, const std::string& id) {
      seen.insert(id);
      if (auto e = shadow.find(id)) {
        if (e->is_null()) return;  // removed by cw, the server still shows it: stale
        auto mine = Item::from_json(*e);
        if (mine && differs(req->feature, item, *mine)) {
          item = std::move(*mine);
        } else {
          shadow.drop(id);  // the server shows what cw wrote
        }
      }
      if (Status st = index.add(item); !st) {
        ++left_out;
        m_host.warn(name() + ": " + req->feature + ": item " + id +
                    " left out: " + st.error().message);
      }
    };
    Completeness c;
    const std::string& feature = req->feature;
    if (feature == "watchlist" && m_cfg.watchlist_mode == WatchlistMode::playlist) {
      c = read_playlist(emit, left_out);
    } else if (feature == "watchlist" && m_cfg.watchlist_mode == WatchlistMode::collection) {
      c = read_collection(emit, left_out);
    } else {
      Query q;
      if (feature == "watchlist") {
        q.types = "Movie,Series";
        q.filters = "IsFavorite";
      } else if (feature == "history") {
        q.types = "Movie,Episode";
        q.filters = "IsPlayed";
      } else if (feature == "progress") {
        q.types = "Movie,Episode";
        q.filters = "IsResumable";
      } else {
        q.types = "Movie,Episode";
      }
      auto row = [&](const Json& r) -> Status {
        auto item = to_item(r, feature);
        if (!item) return item.error();
        if (!item->has_value()) return {};  // nothing to index for this row (no rating)
        emit(std::move(**item), *id_of(r));
        return {};
      };
      if (feature == "ratings") {
        // Ratings read the whole library: the series first, so that every episode finds its
        // show among the series already read and no page looks its shows up (the read costs
        // the paging minimum, not one more request per page of episodes).
        Query series;
        series.types = "Series";
        c = scan(series, row, left_out);
        if (!c.failure) c = combined(c, scan(q, row, left_out));
      } else {
        c = scan(q, row, left_out);
      }
    }
    if (c.failure && index.received() == 0) return index.fail(*c.failure);
    if (left_out > 0 && c.complete) {
      c.complete = false;
      c.reason = std::to_string(left_out) + " rows could not be read";
    }
    if (c.complete) {
      // Writes cw made that the server does not show yet.
      for (const auto& [id, entry] : shadow.pending(m_host.now_ms(), m_cfg.shadow_ttl_ms)) {
        if (seen.count(id)) continue;
        if (entry.is_null()) {
          shadow.drop(id);  // the removal shows
          continue;
        }
        auto mine = Item::from_json(entry);
        if (mine) {
          mine->key.clear();
          if (index.add(*mine)) continue;
        }
        shadow.drop(id);
      }
      save_shadow(feature, shadow);
    }
    return index.finish(c);
  }

  cwsdk::Reply add(std::string_view request) { return write(request, Op::add); }
  cwsdk::Reply remove(std::string_view request) { return write(request, Op::remove); }
  cwsdk::Reply update(std::string_view request) { return write(request, Op::update); }

  // ---- credentials (used by the Authenticator)

  Status authorize(http::Request& r) {
    auto tok = token();
    if (!tok) return tok.error();
    if (jellyfin) {
      r.header("Authorization", auth_header(*tok));
    } else {
      r.header("X-Emby-Token", *tok);
      r.header("X-Emby-Authorization", auth_header(""));
    }
    return {};
  }
  Status refresh() {
    if (m_cfg.has_access_token)
      return Failure::of(CW_STATUS_AUTH, name() +
                                             ": the access_token was refused: create a new "
                                             "API key or access token and configure it");
    m_session.clear();
    m_host.put_secret("session", "");
    auto tok = login();
    if (!tok) return tok.error();
    return {};
  }

 private:
  enum class Op { add, remove, update };

  class Auth final : public http::Authenticator {
   public:
    explicit Auth(Impl& s) : m_s(s) {}
    Status authorize(http::Request& r) override { return m_s.authorize(r); }
    Status refresh() override { return m_s.refresh(); }

   private:
    Impl& m_s;
  };

  // A write-through shadow: item id -> the item cw wrote (add, update) or null (remove), with
  // when it was written. Kept in the instance's kv store until a read shows the write.
  class Shadow {
   public:
    Json doc = Json::object();
    bool changed = false;
    const Json* find(const std::string& id) const {
      const auto it = doc.find(id);
      if (it == doc.end() || !it->is_object()) return nullptr;
      const auto item = it->find("item");
      return item == it->end() ? nullptr : &*item;
    }
    void drop(const std::string& id) { changed = doc.erase(id) > 0 || changed; }
    void put(const std::string& id, Json item, std::int64_t at) {
      doc[id] = {{"item", std::move(item)}, {"at", at}};
      changed = true;
    }
    // Entries younger than ttl; older ones are dropped.
    std::vector<std::pair<std::string, Json>> pending(std::int64_t now, std::int64_t ttl) {
      std::vector<std::pair<std::string, Json>> out;
      std::vector<std::string> old;
      for (auto it = doc.begin(); it != doc.end(); ++it) {
        const std::int64_t at = cwsdk::get_or<std::int64_t>(*it, "at", 0);
        const Json* item = cwsdk::find(*it, "item");
        if (!it->is_object() || now - at > ttl) {
          old.push_back(it.key());
          continue;
        }
        out.emplace_back(it.key(), item == nullptr ? Json() : *item);
      }
      for (const auto& id : old) drop(id);
      return out;
    }
  };

  Shadow load_shadow(const std::string& feature) {
    Shadow s;
    if (m_cfg.shadow_ttl_ms <= 0) return s;
    if (auto text = m_host.kv_get("shadow/" + feature)) {
      Json doc = Json::parse(*text, nullptr, false);
      if (doc.is_object()) s.doc = std::move(doc);
    }
    // Expired entries never mask what the server shows.
    (void)s.pending(m_host.now_ms(), m_cfg.shadow_ttl_ms);
    return s;
  }
  void save_shadow(const std::string& feature, const Shadow& s) {
    if (!s.changed || m_cfg.shadow_ttl_ms <= 0) return;
    m_host.kv_put("shadow/" + feature, s.doc.empty() ? std::string() : s.doc.dump());
  }
  void shadow_write(const std::string& feature, const std::string& id, Json item) {
    if (m_cfg.shadow_ttl_ms <= 0) return;
    Shadow s;
    if (auto text = m_host.kv_get("shadow/" + feature)) {
      Json doc = Json::parse(*text, nullptr, false);
      if (doc.is_object()) s.doc = std::move(doc);
    }
    if (item.is_object()) {
      item.erase("key");
      if (!item.contains("extra") || !item["extra"].is_object()) item["extra"] = Json::object();
      item["extra"]["id"] = id;
    }
    s.put(id, std::move(item), m_host.now_ms());
    save_shadow(feature, s);
  }

  // Whether the server's row and the item cw wrote disagree on the feature's value.
  static bool differs(const std::string& feature, const Item& server, const Item& mine) {
    if (feature == "progress") {
      return std::llabs(server.progress_ms.value_or(0) - mine.progress_ms.value_or(0)) > 1000;
    }
    if (feature == "ratings") {
      return std::fabs(server.rating.value_or(-1) - mine.rating.value_or(-1)) > 0.01;
    }
    return false;  // presence features: the row shows the write
  }

  std::string name() const { return jellyfin ? "jellyfin" : "emby"; }

  std::string auth_header(const std::string& token) const {
    std::string h = std::string("MediaBrowser Client=\"") + k_client + "\", Device=\"" + k_client +
                    "\", DeviceId=\"" + m_cfg.device_id + "\", Version=\"" + k_client_version +
                    "\"";
    if (!token.empty()) h += ", Token=\"" + token + "\"";
    return h;
  }

  // The token for this request: the configured one, else the session from a login.
  Result<std::string> token() {
    if (m_cfg.has_access_token) {
      auto t = m_host.secret(m_cfg.token_key);
      if (!t || t->empty())
        return Failure::of(CW_STATUS_AUTH, m_cfg.token_key + " is not set: configure it");
      return *t;
    }
    if (m_session.empty()) {
      if (auto stored = m_host.secret("session"); stored && !stored->empty()) {
        Json s = Json::parse(*stored, nullptr, false);
        if (s.is_object()) {
          m_session = cwsdk::get_or(s, "token", "");
          m_login_uid = cwsdk::get_or(s, "user_id", "");
        }
      }
    }
    if (!m_session.empty()) return m_session;
    if (m_cfg.username.empty() || !m_cfg.has_password)
      return Failure::of(CW_STATUS_AUTH,
                         "no credentials: set access_token (an API key or a user's access token), "
                         "or username and password");
    return login();
  }

  // POST /Users/AuthenticateByName (Jellyfin: JSON; Emby: a form body).
  Result<std::string> login() {
    auto password = m_host.secret("password");
    if (!password)
      return Failure::of(CW_STATUS_AUTH, "password is not set: configure it with username");
    // A login changes no user data: a dry run may read with it.
    http::Request r = http::Request::post("/Users/AuthenticateByName").read(true);
    r.header("Accept", "application/json");
    r.header(jellyfin ? "Authorization" : "X-Emby-Authorization", auth_header(""));
    if (jellyfin) {
      r.json(Json{{"Username", m_cfg.username}, {"Pw", *password}});
    } else {
      r.body(
          "Username=" + cwsdk::url_encode(m_cfg.username) + "&Pw=" + cwsdk::url_encode(*password),
          "application/x-www-form-urlencoded");
    }
    auto reply = http::send(m_host, r, m_cfg.server);
    if (!reply) return reply.error();
    if (reply->status == 401 || reply->status == 403)
      return Failure::of(CW_STATUS_AUTH,
                         "POST /Users/AuthenticateByName: the server refused "
                         "username and password for '" +
                             m_cfg.username + "'");
    if (Status st = reply->check(); !st) return st.error();
    auto doc = reply->json();
    if (!doc) return doc.error();
    auto tok = cwsdk::get<std::string>(*doc, "/AccessToken");
    if (!tok || tok->empty())
      return Failure::internal("POST /Users/AuthenticateByName: the reply has no AccessToken");
    m_session = *tok;
    m_login_uid = id_of(*doc, "/User/Id").value_or("");
    m_host.put_secret("session", Json{{"token", m_session}, {"user_id", m_login_uid}}.dump());
    return m_session;
  }

  // ---- the user

  static bool user_matches(const Json& u, const std::string& want) {
    const auto id = id_of(u);
    auto strip = [](std::string s) {
      s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
      return lower(s);
    };
    if (id && strip(*id) == strip(want)) return true;
    return lower(cwsdk::get_or(u, "Name", "")) == lower(want);
  }
  static bool is_admin(const Json& u) { return cwsdk::get_or(u, "/Policy/IsAdministrator", false); }

  // Every user the token may see: Jellyfin GET /Users; Emby GET /Users/Query (administrators),
  // else /Users/Public.
  Result<Json> list_users() {
    if (jellyfin) {
      auto doc = m_api.json(http::Request::get("/Users"));
      if (!doc) return doc.error();
      if (!doc->is_array()) return Failure::internal("GET /Users: expected a JSON array");
      return doc;
    }
    auto doc = m_api.json(http::Request::get("/Users/Query"));
    if (doc) {
      auto items = cwsdk::get_array(*doc, "Items");
      if (!items) return items.error().context("GET /Users/Query");
      return **items;
    }
    if (doc.error().status != CW_STATUS_AUTH && doc.error().status != CW_STATUS_NOT_FOUND)
      return doc.error();
    auto pub = m_api.json(http::Request::get("/Users/Public"));
    if (!pub) return pub.error();
    if (!pub->is_array()) return Failure::internal("GET /Users/Public: expected a JSON array");
    return pub;
  }

  Result<std::string> user_id() {
    if (!m_uid.empty()) return m_uid;
    auto tok = token();  // logs in when needed (sets m_login_uid)
    if (!tok) return tok.error();
    const std::string& want = m_cfg.user;
    auto take = [this](const Json& u) -> Result<std::string> {
      auto id = id_of(u);
      if (!id) return Failure::internal(name() + ": a user without an Id");
      m_uid = *id;
      m_user_name = cwsdk::get_or(u, "Name", *id);
      return m_uid;
    };
    if (!want.empty()) {
      // An id first (GET /Users/{id}), then a name among the users the token sees.
      auto one = m_api.json(http::Request::get("/Users/{id}").path_param("id", want));
      if (one && one->is_object() && id_of(*one)) return take(*one);
      if (!one &&
          (one.error().status == CW_STATUS_RATE_LIMITED ||
           one.error().status == CW_STATUS_TRANSIENT || one.error().status == CW_STATUS_CANCELLED))
        return one.error();
      auto users = list_users();
      if (!users) return users.error().context("finding user '" + want + "'");
      for (const Json& u : *users) {
        if (u.is_object() && user_matches(u, want)) return take(u);
      }
      return Failure::of(CW_STATUS_INVALID_ARG, "user '" + want +
                                                    "' is not a user of this server: set user to a "
                                                    "user name or id");
    }
    if (!m_login_uid.empty()) {
      auto one = m_api.json(http::Request::get("/Users/{id}").path_param("id", m_login_uid));
      if (!one) return one.error();
      return take(*one);
    }
    if (jellyfin) {
      auto me = m_api.json(http::Request::get("/Users/Me"));
      if (me && me->is_object() && id_of(*me)) return take(*me);
      // An API key has no user: fall back to the first administrator.
      if (!me &&
          (me.error().status == CW_STATUS_AUTH || me.error().status == CW_STATUS_RATE_LIMITED ||
           me.error().status == CW_STATUS_TRANSIENT || me.error().status == CW_STATUS_CANCELLED))
        return me.error();
    }
    auto users = list_users();
    if (!users) return users.error().context("finding the user (set user to skip this)");
    const Json* first = nullptr;
    for (const Json& u : *users) {
      if (!u.is_object() || !id_of(u)) continue;
      if (is_admin(u)) return take(u);
      if (first == nullptr) first = &u;
    }
    if (first != nullptr) return take(*first);
    return Failure::of(CW_STATUS_INVALID_ARG, name() + ": the server lists no user: set user");
  }

  // ---- routes

  http::Request items_request() const {
    if (jellyfin) return http::Request::get("/Items").query("userId", m_uid);
    return http::Request::get("/Users/{uid}/Items").path_param("uid", m_uid);
  }
  http::Request played_request(bool on, const std::string& id,
                               std::optional<std::int64_t> date) const {
    http::Request r = jellyfin
                          ? http::Request(on ? "POST" : "DELETE", "/UserPlayedItems/{id}")
                                .path_param("id", id)
                                .query("userId", m_uid)
                          : http::Request(on ? "POST" : "DELETE", "/Users/{uid}/PlayedItems/{id}")
                                .path_param("uid", m_uid)
                                .path_param("id", id);
    if (on && date) {
      if (jellyfin)
        r.query("datePlayed", cwsdk::format_rfc3339(*date));
      else
        r.query("DatePlayed", emby_date(*date));
    }
    return r;
  }
  http::Request favorite_request(bool on, const std::string& id) const {
    if (jellyfin)
      return http::Request(on ? "POST" : "DELETE", "/UserFavoriteItems/{id}")
          .path_param("id", id)
          .query("userId", m_uid)
          .retry_safe(true);
    return http::Request(on ? "POST" : "DELETE", "/Users/{uid}/FavoriteItems/{id}")
        .path_param("uid", m_uid)
        .path_param("id", id)
        .retry_safe(true);
  }
  http::Request user_data_request(const std::string& id, const Json& body) const {
    if (jellyfin)
      return http::Request::post("/UserItems/{id}/UserData")
          .path_param("id", id)
          .query("userId", m_uid)
          .json(body)
          .retry_safe(true);
    return http::Request::post("/Users/{uid}/Items/{id}/UserData")
        .path_param("uid", m_uid)
        .path_param("id", id)
        .json(body)
        .retry_safe(true);
  }

  // DELETE, and on Emby the POST .../Delete form when the DELETE is refused (405: a proxy or
  // a client stack without DELETE). `fallback` is that POST.
  Result<http::Response> send_delete(http::Request del, std::optional<http::Request> fallback) {
    auto reply = m_api.send(std::move(del));
    if (!reply) return reply;
    if (!jellyfin && reply->status == 405 && fallback) {
      reply = m_api.send(std::move(*fallback));
      if (!reply) return reply;
    }
    if (Status st = reply->check(); !st) return st.error();
    return reply;
  }
  // Emby's POST form of a DELETE route: the same path with /Delete appended.
  std::optional<http::Request> emby_delete(const std::string& path) const {
    if (jellyfin) return std::nullopt;
    return http::Request::post(path + "/Delete");
  }
  std::optional<http::Request> emby_delete_with(const std::string& path, std::string name,
                                                std::string value) const {
    auto r = emby_delete(path);
    if (r) r->query(std::move(name), std::move(value));
    return r;
  }

  // ---- reading

  struct Query {
    std::string types;
    std::string filters;
    std::string parent;
    bool recursive = true;
    std::string ids;
    std::string any_provider;
    bool user_data = true;
  };

  // Two reads as one: complete when both are, counts added, the first reason and failure.
  static Completeness combined(Completeness a, const Completeness& b) {
    a.complete = a.complete && b.complete;
    a.received += b.received;
    a.pages += b.pages;
    if (a.expected_total && b.expected_total) {
      *a.expected_total += *b.expected_total;
    } else {
      a.expected_total.reset();
    }
    if (a.reason.empty()) a.reason = b.reason;
    if (!a.failure) a.failure = b.failure;
    return a;
  }

  // Reads every page of an items query; `row` is called for each entry (a failure leaves the
  // entry out, counted in left_out). Episodes' series are looked up first, a page at a time.
  // Up to `prefetch` pages are fetched ahead while one is parsed (a 100k-item library is
  // 500 pages, each a round trip plus parsing); the parsing, series look-ups included, stays
  // on this thread and in page order, so m_series needs no lock.
  Completeness scan(const Query& q, const std::function<Status(const Json&)>& row,
                    std::int64_t& left_out) {
    return cwsdk::Pager::offsets(m_cfg.page_size)
        .run_pipelined(
            m_api,
            [&](const cwsdk::PageRequest& page) {
              http::Request r = items_request();
              if (!q.types.empty()) r.query("IncludeItemTypes", q.types);
              if (!q.filters.empty()) r.query("Filters", q.filters);
              if (!q.parent.empty()) r.query("ParentId", q.parent);
              if (!q.ids.empty()) r.query("Ids", q.ids);
              if (!q.any_provider.empty()) r.query("AnyProviderIdEquals", q.any_provider);
              r.query("Recursive", q.recursive ? "true" : "false");
              r.query("Fields", "ProviderIds,ProductionYear");
              r.query("EnableUserData", q.user_data ? "true" : "false");
              r.query("EnableImages", "false");
              r.query("EnableTotalRecordCount", "true");
              r.query("SortBy", "SortName");
              cwsdk::jellyfin_paging(r, page);
              return r;
            },
            [&](const cwsdk::PageRequest&, http::Response reply) -> Result<cwsdk::Page> {
              return read_rows(reply.what, reply.json(), row, left_out);
            },
            m_cfg.prefetch);
  }

  Result<cwsdk::Page> read_page(http::Request r, const std::function<Status(const Json&)>& row,
                                std::int64_t& left_out) {
    const std::string what = r.describe();
    return read_rows(what, m_api.json(std::move(r)), row, left_out);
  }

  // One page of items (`doc`, the reply to `what`): series first, then each row.
  Result<cwsdk::Page> read_rows(const std::string& what, Result<Json> doc,
                                const std::function<Status(const Json&)>& row,
                                std::int64_t& left_out) {
    if (!doc) return doc.error();
    auto items = cwsdk::get_array(*doc, "Items");
    if (!items) return items.error().context(what);
    // Series rows of this page are shows the page's episodes need not look up.
    for (const Json& e : **items) {
      if (!e.is_object() || cwsdk::get_or(e, "Type", "") != "Series") continue;
      if (auto id = id_of(e)) m_series[*id] = show_ref(e);
    }
    std::vector<std::string> series;
    for (const Json& e : **items) {
      if (!e.is_object()) continue;
      if (auto sid = id_of(e, "SeriesId"); sid && !m_series.count(*sid)) series.push_back(*sid);
    }
    if (Status st = load_series(series); !st) return st.error();
    for (const Json& e : **items) {
      Status st =
          e.is_object() && id_of(e) ? row(e) : Status(Failure::internal("a row without an Id"));
      if (!st) {
        ++left_out;
        m_host.warn(name() + ": " + what + ": a row was left out: " + st.error().message);
      }
    }
    return cwsdk::jellyfin_page(*doc, static_cast<std::int64_t>((*items)->size()));
  }

  // A series row as the show its episodes carry: title, year and ProviderIds.
  static cwsdk::ShowRef show_ref(const Json& series) {
    cwsdk::ShowRef ref;
    ref.title = cwsdk::get_or(series, "Name", "");
    ref.year = year_of(series);
    if (const Json* p = cwsdk::find(series, "ProviderIds"); p != nullptr && p->is_object())
      ref.ids = cwsdk::Ids::from_json(*p);
    return ref;
  }

  // The show of each episode: title, year and ProviderIds of its series, cached.
  Status load_series(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (std::size_t i = 0; i < ids.size(); i += 50) {
      std::string list;
      for (std::size_t j = i; j < ids.size() && j < i + 50; ++j)
        list += (list.empty() ? "" : ",") + ids[j];
      auto doc = m_api.json(items_request()
                                .query("Ids", list)
                                .query("Fields", "ProviderIds,ProductionYear")
                                .query("EnableUserData", "false")
                                .query("EnableImages", "false"));
      if (!doc) return doc.error().context("reading the series of episodes");
      auto items = cwsdk::get_array(*doc, "Items");
      if (!items) return items.error().context("reading the series of episodes");
      for (const Json& s : **items) {
        auto id = s.is_object() ? id_of(s) : std::nullopt;
        if (!id) continue;
        m_series[*id] = show_ref(s);
      }
      for (std::size_t j = i; j < ids.size() && j < i + 50; ++j)
        m_series.emplace(ids[j], cwsdk::ShowRef{});  // gone: the episode keeps SeriesName
    }
    return {};
  }

  // The cw item of a movie, series or episode row (no feature fields).
  Result<Item> base_item(const Json& row) {
    const auto type = type_of(row);
    const auto id = id_of(row);
    if (!type || !id)
      return Failure::internal("a row of type '" + cwsdk::get_or(row, "Type", "") +
                               "' (expected Movie, Series or Episode)");
    Item item;
    item.type = *type;
    item.title = cwsdk::get_or(row, "Name", "");
    item.year = year_of(row);
    if (const Json* p = cwsdk::find(row, "ProviderIds"); p != nullptr && p->is_object())
      item.ids = cwsdk::Ids::from_json(*p);
    if (*type == ItemType::episode) {
      item.season = number_of(row, "ParentIndexNumber");
      item.episode = number_of(row, "IndexNumber");
      if (auto end = number_of(row, "IndexNumberEnd"); end && item.episode && *end > *item.episode)
        item.episode_end = end;
      if (auto sid = id_of(row, "SeriesId"); sid && m_series.count(*sid))
        item.show = m_series[*sid];
      if (item.show.title.empty()) item.show.title = cwsdk::get_or(row, "SeriesName", "");
    }
    item.extra = Json{{"id", *id}};
    return item;
  }

  // The row as an item of `feature`; nullopt when the row holds nothing for it.
  Result<std::optional<Item>> to_item(const Json& row, const std::string& feature) {
    auto item = base_item(row);
    if (!item) return item.error();
    const Json* ud = cwsdk::find(row, "UserData");
    if (feature == "watchlist") return std::optional<Item>(std::move(*item));
    if (ud == nullptr || !ud->is_object())
      return Failure::internal("row " + *id_of(row) + " has no UserData");
    if (feature == "history") {
      auto date = cwsdk::get_optional<std::string>(*ud, "LastPlayedDate");
      if (!date) return date.error().context("UserData");
      if (*date) {
        item->watched_at = parse_server_date(**date);
        if (!item->watched_at)
          return Failure::internal("UserData/LastPlayedDate: '" + **date + "' is not a date");
      }
      return std::optional<Item>(std::move(*item));
    }
    if (feature == "progress") {
      auto pos = cwsdk::get_optional<std::int64_t>(*ud, "PlaybackPositionTicks");
      if (!pos) return pos.error().context("UserData");
      if (!*pos || **pos <= 0) return std::optional<Item>();
      item->progress_ms = cwsdk::ticks_to_ms(**pos);
      if (auto run = cwsdk::get_optional<std::int64_t>(row, "RunTimeTicks");
          run && *run && **run > 0)
        item->duration_ms = cwsdk::ticks_to_ms(**run);
      if (auto date = cwsdk::get_optional<std::string>(*ud, "LastPlayedDate"); date && *date)
        item->progress_at = parse_server_date(**date);
      return std::optional<Item>(std::move(*item));
    }
    // ratings
    auto rating = cwsdk::get_optional<double>(*ud, "Rating");
    if (!rating) return rating.error().context("UserData");
    if (!*rating) return std::optional<Item>();
    if (!std::isfinite(**rating) || **rating < 0 || **rating > 10)
      return Failure::internal("UserData/Rating " + std::to_string(**rating) + " is outside 0..10");
    item->rating = **rating;
    return std::optional<Item>(std::move(*item));
  }

  // ---- the watchlist as a playlist or a collection

  // The playlist or collection named watchlist.name, if it exists.
  Result<std::optional<std::string>> find_container(bool playlist) {
    if (auto it = m_container.find(playlist); it != m_container.end()) return it->second;
    std::optional<std::string> found;
    std::int64_t left_out = 0;
    Query q;
    q.types = playlist ? "Playlist" : "BoxSet";
    q.user_data = false;
    Completeness c = scan(
        q,
        [&](const Json& row) -> Status {
          if (!found && lower(cwsdk::get_or(row, "Name", "")) == lower(m_cfg.watchlist_name))
            found = id_of(row);
          return {};
        },
        left_out);
    if (c.failure) return *c.failure;
    if (!found && !c.complete)
      return Failure::of(CW_STATUS_TRANSIENT,
                         "could not read every " +
                             std::string(playlist ? "playlist" : "collection") + ": " + c.reason);
    m_container[playlist] = found;
    return found;
  }

  template <typename Emit>
  Completeness read_playlist(Emit& emit, std::int64_t& left_out) {
    auto pid = find_container(true);
    if (!pid) {
      Completeness c;
      c.failure = pid.error();
      c.reason = pid.error().message;
      return c;
    }
    if (!*pid) return Completeness::whole(0);  // no playlist yet: an empty watchlist
    return cwsdk::Pager::offsets(m_cfg.page_size)
        .run(m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
          http::Request r = http::Request::get("/Playlists/{id}/Items")
                                .path_param("id", **pid)
                                .query(jellyfin ? "userId" : "UserId", m_uid)
                                .query("Fields", "ProviderIds,ProductionYear")
                                .query("EnableUserData", "false")
                                .query("EnableImages", "false");
          cwsdk::jellyfin_paging(r, page);
          return read_page(
              std::move(r),
              [&](const Json& row) -> Status {
                const auto type = type_of(row);
                if (type == ItemType::episode || !type) return {};  // not a watchlist entry
                auto item = base_item(row);
                if (!item) return item.error();
                if (auto entry = id_of(row, "PlaylistItemId")) item->extra["entry"] = *entry;
                emit(std::move(*item), *id_of(row));
                return {};
              },
              left_out);
        });
  }

  template <typename Emit>
  Completeness read_collection(Emit& emit, std::int64_t& left_out) {
    auto cid = find_container(false);
    if (!cid) {
      Completeness c;
      c.failure = cid.error();
      c.reason = cid.error().message;
      return c;
    }
    if (!*cid) return Completeness::whole(0);
    Query q;
    q.parent = **cid;
    q.recursive = false;
    q.user_data = false;
    return scan(
        q,
        [&](const Json& row) -> Status {
          const auto type = type_of(row);
          if (type == ItemType::episode || !type) return {};
          auto item = base_item(row);
          if (!item) return item.error();
          emit(std::move(*item), *id_of(row));
          return {};
        },
        left_out);
  }

  // ---- finding the server's item for an item of another provider

  struct Library {
    bool loaded = false;
    std::optional<Failure> failure;
    std::vector<LibraryEntry> rows;
    std::multimap<std::string, std::size_t> by_id;  // "tmdb:603" -> row
  };

  Status load_library() {
    if (m_library.loaded) return m_library.failure ? Status(*m_library.failure) : Status();
    m_library.loaded = true;
    std::int64_t left_out = 0;
    Query q;
    q.types = "Movie,Series,Episode";
    q.user_data = false;
    Completeness c = scan(
        q,
        [&](const Json& row) -> Status {
          LibraryEntry e;
          const auto type = type_of(row);
          if (!type) return {};
          e.id = *id_of(row);
          e.type = *type;
          e.title = lower(cwsdk::get_or(row, "Name", ""));
          e.year = year_of(row);
          if (const Json* p = cwsdk::find(row, "ProviderIds"); p != nullptr && p->is_object())
            e.ids = cwsdk::Ids::from_json(*p);
          e.series_id = id_of(row, "SeriesId").value_or("");
          e.season = number_of(row, "ParentIndexNumber");
          e.episode = number_of(row, "IndexNumber");
          const std::size_t at = m_library.rows.size();
          for (const auto& [kind, value] : e.ids.entries())
            m_library.by_id.emplace(kind + ":" + value, at);
          m_library.rows.push_back(std::move(e));
          return {};
        },
        left_out);
    if (c.failure) m_library.failure = c.failure->context("reading the library to find items");
    return m_library.failure ? Status(*m_library.failure) : Status();
  }

  static bool year_near(const std::optional<int>& a, const std::optional<int>& b) {
    return !a || !b || std::abs(*a - *b) <= 1;
  }

  // Rows of `type` that share an id with `ids`, best (same year) first.
  std::vector<std::size_t> by_ids(const cwsdk::Ids& ids, ItemType type,
                                  const std::optional<int>& year) const {
    std::vector<std::size_t> out;
    for (const auto& [kind, value] : ids.entries()) {
      const auto range = m_library.by_id.equal_range(kind + ":" + value);
      for (auto it = range.first; it != range.second; ++it) {
        if (m_library.rows[it->second].type == type &&
            std::find(out.begin(), out.end(), it->second) == out.end())
          out.push_back(it->second);
      }
    }
    std::stable_sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) {
      return (m_library.rows[a].year == year) > (m_library.rows[b].year == year);
    });
    return out;
  }

  std::optional<std::string> match_title(ItemType type, const std::string& title,
                                         const std::optional<int>& year) const {
    if (title.empty()) return std::nullopt;
    const std::string t = lower(title);
    for (const auto& r : m_library.rows) {
      if (r.type == type && r.title == t && year_near(r.year, year) && (year || !r.year))
        return r.id;
    }
    return std::nullopt;
  }

  // Emby only: GET /Users/{uid}/Items?AnyProviderIdEquals=imdb.tt..,tmdb.603.
  Result<std::optional<std::string>> any_provider(const cwsdk::Ids& ids, ItemType type,
                                                  const std::optional<int>& year) {
    std::string pairs;
    for (const char* kind : {"imdb", "tmdb", "tvdb"}) {
      if (auto v = ids.get(kind))
        pairs += (pairs.empty() ? "" : ",") + std::string(kind) + "." + *v;
    }
    if (pairs.empty()) return std::optional<std::string>();
    Query q;
    q.types = type == ItemType::movie ? "Movie" : type == ItemType::show ? "Series" : "Episode";
    q.any_provider = pairs;
    q.user_data = false;
    std::vector<std::pair<std::string, std::optional<int>>> hits;
    std::int64_t left_out = 0;
    http::Request r = items_request()
                          .query("IncludeItemTypes", q.types)
                          .query("AnyProviderIdEquals", pairs)
                          .query("Recursive", "true")
                          .query("Fields", "ProviderIds,ProductionYear")
                          .query("EnableUserData", "false")
                          .query("Limit", 50);
    auto page = read_page(
        std::move(r),
        [&](const Json& row) -> Status {
          cwsdk::Ids got;
          if (const Json* p = cwsdk::find(row, "ProviderIds"); p != nullptr && p->is_object())
            got = cwsdk::Ids::from_json(*p);
          // The server filter, checked: a row must really share an id.
          if (type_of(row) == type && got.shares_id_with(ids, false))
            hits.emplace_back(*id_of(row), year_of(row));
          return {};
        },
        left_out);
    if (!page) return page.error();
    for (const auto& [id, y] : hits) {
      if (y == year) return std::optional<std::string>(id);
    }
    if (!hits.empty()) return std::optional<std::string>(hits.front().first);
    return std::optional<std::string>();
  }

  // The server's id for `item`, nullopt when the server has no such item.
  Result<std::optional<std::string>> resolve(const Item& item) {
    if (auto id = extra_id(item)) return id;
    if (auto id = item.ids.get(jellyfin ? "jellyfin" : "emby")) return id;
    if (!jellyfin && item.type != ItemType::episode && item.type != ItemType::season) {
      auto hit = any_provider(item.ids, item.type, item.year);
      if (!hit) return hit.error();
      if (*hit) return hit;
    }
    if (Status st = load_library(); !st) return st.error();
    if (item.type == ItemType::movie || item.type == ItemType::show) {
      const auto rows = by_ids(item.ids, item.type, item.year);
      if (!rows.empty()) return std::optional<std::string>(m_library.rows[rows.front()].id);
      return match_title(item.type, item.title, item.year);
    }
    if (item.type != ItemType::episode) return std::optional<std::string>();
    // An episode: by its own ids (checked against season and episode when given), else by
    // its show and numbers.
    for (std::size_t i : by_ids(item.ids, ItemType::episode, std::nullopt)) {
      const auto& r = m_library.rows[i];
      if ((!item.season || r.season == item.season) && (!item.episode || r.episode == item.episode))
        return std::optional<std::string>(r.id);
    }
    if (!item.season || !item.episode) return std::optional<std::string>();
    std::vector<std::string> series;
    for (std::size_t i : by_ids(item.show.ids, ItemType::show, item.show.year))
      series.push_back(m_library.rows[i].id);
    if (series.empty()) {
      if (auto s = match_title(ItemType::show, item.show.title, item.show.year))
        series.push_back(*s);
    }
    for (const auto& sid : series) {
      for (const auto& r : m_library.rows) {
        if (r.type == ItemType::episode && r.series_id == sid && r.season == item.season &&
            r.episode == item.episode)
          return std::optional<std::string>(r.id);
      }
    }
    return std::optional<std::string>();
  }

  // ---- writing

  static std::string describe(const Item& item) {
    std::string s = std::string(cwsdk::item_type_name(item.type)) + " ";
    if (item.type == ItemType::episode) {
      s += "'" + item.show.title + "' S" + std::to_string(item.season.value_or(0)) + "E" +
           std::to_string(item.episode.value_or(0));
    } else {
      s += "'" + item.title + "'";
      if (item.year) s += " (" + std::to_string(*item.year) + ")";
    }
    return s;
  }

  // Played state of `ids`, one request per 50: id -> Played.
  Result<std::map<std::string, bool>> played_states(const std::vector<std::string>& ids) {
    std::map<std::string, bool> out;
    for (std::size_t i = 0; i < ids.size(); i += 50) {
      std::string list;
      for (std::size_t j = i; j < ids.size() && j < i + 50; ++j)
        list += (list.empty() ? "" : ",") + ids[j];
      auto doc = m_api.json(items_request()
                                .query("Ids", list)
                                .query("EnableUserData", "true")
                                .query("EnableImages", "false"));
      if (!doc) return doc.error();
      auto items = cwsdk::get_array(*doc, "Items");
      if (!items) return items.error().context("reading played states");
      for (const Json& row : **items) {
        auto id = row.is_object() ? id_of(row) : std::nullopt;
        if (id) out[*id] = cwsdk::get_or(row, "/UserData/Played", false);
      }
    }
    return out;
  }

  cwsdk::Reply write(std::string_view request, Op op) {
    const char* opname = op == Op::add ? "add" : op == Op::remove ? "remove" : "update";
    auto req =
        op == Op::update ? cwsdk::read_write_request(request, opname, {"progress", "ratings"})
        : op == Op::remove
            ? cwsdk::read_write_request(request, opname, {"watchlist", "history", "progress"})
            : cwsdk::read_write_request(request, opname,
                                        {"watchlist", "history", "progress", "ratings"});
    if (!req) return req.error().reply();
    auto uid = user_id();
    if (!uid) return uid.error().reply();
    const std::string& feature = req->feature;
    cwsdk::Outcomes outcomes;
    // Resolve every item first: a whole-request failure (auth, the library read) confirms
    // nothing.
    std::vector<std::pair<const Item*, std::string>> todo;
    for (const Item& item : req->items) {
      auto id = resolve(item);
      if (!id) {
        if (id.error().status == CW_STATUS_AUTH || id.error().status == CW_STATUS_CANCELLED)
          return id.error().reply();
        outcomes.failed(item.key, id.error());
        continue;
      }
      if (!*id) {
        if (op == Op::remove)
          outcomes.skipped(item.key, "not on the server");
        else
          outcomes.unresolved(item.key, cwsdk::Reason::not_found,
                              "no " + name() + " item for " + describe(item));
        continue;
      }
      todo.emplace_back(&item, **id);
    }
    if (feature == "watchlist" && m_cfg.watchlist_mode != WatchlistMode::favorites) {
      write_container(op, todo, outcomes);
      return outcomes.reply(*req);
    }
    std::map<std::string, bool> played;
    if (feature == "history" && op == Op::add && !todo.empty()) {
      std::vector<std::string> ids;
      for (const auto& t : todo) ids.push_back(t.second);
      auto states = played_states(ids);
      if (!states) {
        if (states.error().status == CW_STATUS_AUTH) return states.error().reply();
        for (const auto& t : todo) outcomes.failed(t.first->key, states.error());
        return outcomes.reply(*req);
      }
      played = std::move(*states);
    }
    for (const auto& [item, id] : todo) {
      if (m_host.cancelled()) break;  // the rest: no outcome, re-checked by the host
      Result<http::Response> reply = Failure::internal("no request");
      Json shadow_item = item->to_json();
      if (feature == "watchlist") {
        reply = op == Op::add ? m_api.fetch(favorite_request(true, id))
                              : send_delete(favorite_request(false, id),
                                            emby_delete("/Users/" + cwsdk::url_encode(m_uid) +
                                                        "/FavoriteItems/" + cwsdk::url_encode(id)));
      } else if (feature == "history") {
        if (op == Op::add && played.count(id) && played[id]) {
          outcomes.skipped(item->key, "already played");
          continue;
        }
        if (op == Op::add) {
          reply = m_api.fetch(played_request(true, id, item->watched_at));
        } else {
          reply = send_delete(played_request(false, id, std::nullopt),
                              emby_delete("/Users/" + cwsdk::url_encode(m_uid) + "/PlayedItems/" +
                                          cwsdk::url_encode(id)));
          if (!reply && reply.error().status == CW_STATUS_NOT_FOUND) {
            outcomes.skipped(item->key, "not on the server");
            continue;
          }
        }
      } else if (feature == "progress") {
        Json body = Json::object();
        if (op == Op::remove) {
          body["PlaybackPositionTicks"] = 0;
        } else {
          if (!item->progress_ms) {
            outcomes.unresolved(item->key, cwsdk::Reason::rejected,
                                "no position in milliseconds to write");
            continue;
          }
          body["PlaybackPositionTicks"] = *item->progress_ms * k_ticks_per_ms;
          if (item->progress_at) body["LastPlayedDate"] = cwsdk::format_rfc3339(*item->progress_at);
        }
        reply = m_api.fetch(user_data_request(id, body));
      } else {  // ratings
        if (!item->rating) {
          outcomes.unresolved(item->key, cwsdk::Reason::rejected, "no rating to write");
          continue;
        }
        reply = m_api.fetch(user_data_request(id, Json{{"Rating", *item->rating}}));
      }
      if (!reply) {
        if (reply.error().status == CW_STATUS_AUTH) {
          // Nothing more will work; what was done is confirmed, the rest is unknown.
          outcomes.failed(item->key, reply.error());
          break;
        }
        outcomes.failed(item->key, reply.error());
        continue;
      }
      outcomes.confirmed(item->key);
      shadow_write(feature, id, op == Op::remove ? Json() : std::move(shadow_item));
    }
    return outcomes.reply(*req);
  }

  Result<std::string> create_container(bool playlist, const std::vector<std::string>& ids) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
    http::Request r = http::Request::post(playlist ? "/Playlists" : "/Collections");
    if (playlist && jellyfin) {
      r.json(Json{{"Name", m_cfg.watchlist_name},
                  {"UserId", m_uid},
                  {"Ids", ids},
                  {"MediaType", "Video"},
                  {"IsPublic", false}});
    } else {
      r.query("Name", m_cfg.watchlist_name);
      if (!list.empty()) r.query("Ids", list);
      if (playlist) r.query("UserId", m_uid);
    }
    auto doc = m_api.json(std::move(r));
    if (!doc) return doc.error();
    auto id = id_of(*doc);
    if (!id)
      return Failure::internal(std::string("POST ") + (playlist ? "/Playlists" : "/Collections") +
                               ": the reply has no Id");
    m_container[playlist] = *id;
    return *id;
  }

  void write_container(Op op, const std::vector<std::pair<const Item*, std::string>>& todo,
                       cwsdk::Outcomes& outcomes) {
    const bool playlist = m_cfg.watchlist_mode == WatchlistMode::playlist;
    std::vector<std::pair<const Item*, std::string>> work;
    for (const auto& t : todo) {
      if (playlist && t.first->type != ItemType::movie && !jellyfin) {
        outcomes.unresolved(t.first->key, cwsdk::Reason::rejected,
                            "an Emby playlist holds movies and episodes, not shows: use "
                            "watchlist mode favorites or collection for shows");
        continue;
      }
      work.push_back(t);
    }
    if (work.empty()) return;
    auto fail_all = [&](const Failure& f) {
      for (const auto& t : work) outcomes.failed(t.first->key, f);
    };
    auto container = find_container(playlist);
    if (!container) return fail_all(container.error());
    std::vector<std::string> ids;
    for (const auto& t : work) ids.push_back(t.second);
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
    auto confirm_all = [&](bool add) {
      for (const auto& [item, id] : work) {
        outcomes.confirmed(item->key);
        shadow_write("watchlist", id, add ? item->to_json() : Json());
      }
    };
    if (op == Op::add) {
      if (!*container) {
        auto made = create_container(playlist, ids);
        if (!made) return fail_all(made.error());
        return confirm_all(true);
      }
      http::Request r =
          http::Request::post(playlist ? "/Playlists/{id}/Items" : "/Collections/{id}/Items")
              .path_param("id", **container)
              .query("Ids", list);
      if (playlist) r.query(jellyfin ? "userId" : "UserId", m_uid);
      auto reply = m_api.fetch(std::move(r));
      if (!reply) return fail_all(reply.error());
      return confirm_all(true);
    }
    if (!*container) {
      for (const auto& t : work)
        outcomes.skipped(t.first->key,
                         "no watchlist " + std::string(playlist ? "playlist" : "collection"));
      return;
    }
    if (!playlist) {
      auto reply =
          send_delete(http::Request::del("/Collections/{id}/Items")
                          .path_param("id", **container)
                          .query("Ids", list),
                      emby_delete_with("/Collections/" + cwsdk::url_encode(**container) + "/Items",
                                       "Ids", list));
      if (!reply) return fail_all(reply.error());
      return confirm_all(false);
    }
    // Playlist entries are removed by their PlaylistItemId: from extra, else a fresh read.
    std::map<std::string, std::string> entries;  // item id -> entry id
    bool need_read = false;
    for (const auto& [item, id] : work) {
      if (auto e = extra_id(*item, "entry"))
        entries[id] = *e;
      else
        need_read = true;
    }
    if (need_read) {
      std::int64_t left_out = 0;
      auto record = [&](Item it, const std::string& id) {
        if (auto e = extra_id(it, "entry"); e && !entries.count(id)) entries[id] = *e;
      };
      Completeness c = read_playlist(record, left_out);
      if (c.failure) return fail_all(*c.failure);
    }
    std::string entry_list;
    std::vector<std::pair<const Item*, std::string>> sent;
    for (const auto& [item, id] : work) {
      auto it = entries.find(id);
      if (it == entries.end()) {
        outcomes.skipped(item->key, "not in the watchlist playlist");
        continue;
      }
      entry_list += (entry_list.empty() ? "" : ",") + it->second;
      sent.emplace_back(item, id);
    }
    if (sent.empty()) return;
    auto reply =
        send_delete(http::Request::del("/Playlists/{id}/Items")
                        .path_param("id", **container)
                        .query("EntryIds", entry_list),
                    emby_delete_with("/Playlists/" + cwsdk::url_encode(**container) + "/Items",
                                     "EntryIds", entry_list));
    for (const auto& [item, id] : sent) {
      if (!reply) {
        outcomes.failed(item->key, reply.error());
      } else {
        outcomes.confirmed(item->key);
        shadow_write("watchlist", id, Json());
      }
    }
  }

  cwsdk::Host m_host;
  Config m_cfg;
  http::Client m_api;
  Auth m_auth;
  std::string m_session;    // a token from AuthenticateByName
  std::string m_login_uid;  // the user of that login
  std::string m_uid;
  std::string m_user_name;
  std::map<std::string, cwsdk::ShowRef> m_series;
  std::map<bool, std::optional<std::string>> m_container;  // playlist? -> id
  Library m_library;
};

// The provider class CWSDK_PROVIDER takes: movable, the state behind a pointer (the HTTP
// client refers to the authenticator, which refers to the state).
template <Flavor F>
class Server {
 public:
  static const char* manifest() { return Impl<F>::manifest(); }
  Server(cwsdk::Host host, std::string_view config)
      : m_impl(std::make_unique<Impl<F>>(host, config)) {}
  cwsdk::Reply health(std::string_view request) { return m_impl->health(request); }
  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    return m_impl->build_index(request, out);
  }
  cwsdk::Reply add(std::string_view request) { return m_impl->add(request); }
  cwsdk::Reply remove(std::string_view request) { return m_impl->remove(request); }
  cwsdk::Reply update(std::string_view request) { return m_impl->update(request); }

 private:
  std::unique_ptr<Impl<F>> m_impl;
};

using Jellyfin = Server<Flavor::jellyfin>;
using Emby = Server<Flavor::emby>;

}  // namespace mediabrowser
