// SIMKL provider (api.simkl.com), on the provider kit.
//
//   watchlist  Plan to Watch: read from /sync/all-items (status plantowatch), added with
//              /sync/add-to-list {"to": "plantowatch"}, removed with /sync/history/remove
//              (SIMKL has no other removal: the title leaves the whole library), only for
//              titles that are still in Plan to Watch.
//   history    movies (last_watched_at) and episodes (seasons[].episodes[].watched_at) from
//              /sync/all-items?extended=full&episode_watched_at=yes; /sync/history and
//              /sync/history/remove.
//   ratings    /sync/ratings (1-10), /sync/ratings and /sync/ratings/remove.
//
// Reads are deltas gated on /sync/activities. The manifest says `delta`; each instance
// keeps, per feature, the last full index and the activities it was read at in the kv
// store, and the watermark names that state. A read:
//   * without a watermark, or with one that is not the stored state's: a full read,
//     answered as a `present` index (the whole inventory);
//   * when the activities say nothing changed: an empty delta;
//   * when removed_from_list moved (a title left the library: the delta cannot show it)
//     or, for ratings, rated_at moved (a removed rating leaves no row): a full read;
//   * otherwise /sync/all-items?date_from=<last activities stamp>: the changed titles
//     replace theirs in the stored index, and the difference is the delta, with what left
//     in `removed` (an episode that is no longer watched, a title that left Plan to Watch).
// Write replies are mapped to exact per-key outcomes (BatchMapper): the echoed `added`
// lists of add-to-list, the counts of history and ratings, the `not_found` lists.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace simkl {

using cwsdk::Failure;
using cwsdk::Ids;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Json;
using cwsdk::Reason;
using cwsdk::Result;

inline constexpr const char* k_default_url = "https://api.simkl.com";
inline constexpr const char* k_app_name = "cw";
inline constexpr const char* k_app_version = "1.0";
inline constexpr const char* k_sections[] = {"movies", "tv_shows", "anime"};

// The ids SIMKL's writes accept (its search runs on any of them).
inline Json write_ids(const Item& item, bool movie) {
  static const char* const k_common[] = {"simkl", "imdb", "tmdb", "tvdb", "trakt"};
  static const char* const k_anime[] = {"mal", "anilist", "kitsu", "anidb"};
  const Ids& ids = item.ids.empty() ? item.show.ids : item.ids;
  Json out = Json::object();
  auto put = [&](const char* kind) {
    if (auto v = ids.get(kind)) {
      const bool numeric =
          std::string_view(kind) != "imdb" && !v->empty() &&
          std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
      if (numeric && v->size() < 18)
        out[kind] = std::stoll(*v);
      else
        out[kind] = *v;
    }
  };
  for (const char* k : k_common) put(k);
  if (!movie)
    for (const char* k : k_anime) put(k);
  return out;
}

// One title of the stored index: its key and the items it contributes (a watchlist or
// ratings entry, or the plays of a title).
using TitleMap = std::map<std::string, std::vector<Json>>;

struct Stored {
  std::string watermark;
  Json activities;  // the activities the index was read at
  TitleMap titles;
};

class Simkl {
  using Status = cwsdk::Status;

 public:
  static const char* manifest() {
    return R"json({
      "name": "simkl",
      "version": "1.0.0",
      "display_name": "SIMKL",
      "description": "SIMKL tracker: Plan to Watch, watch history and ratings, delta reads gated on /sync/activities, PIN login.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "delta", "add": true,
                      "remove": true, "observes_deletes": true, "provides_ids": true,
                      "chunk_size": 100},
        "history": {"types": ["movie", "episode"], "index_semantics": "delta", "add": true,
                    "remove": true, "observes_deletes": true, "provides_ids": true,
                    "chunk_size": 100, "writes_watch_date": true, "rewatches": false},
        "ratings": {"types": ["movie", "show"], "index_semantics": "delta", "add": true,
                    "remove": true, "update": true, "observes_deletes": true,
                    "provides_ids": true, "chunk_size": 100, "stores_rated_at": true,
                    "rating_scale": {"min": 1, "max": 10, "step": 1}}
      },
      "rate_limits": [
        {"name": "get", "methods": ["GET"], "requests": 10, "per_seconds": 1},
        {"name": "post", "methods": ["POST", "DELETE"], "requests": 1, "per_seconds": 1}
      ],
      "capabilities": {"auth": "pin", "scrobble": true},
      "secrets": ["client_secret", "access_token"],
      "config": {
        "type": "object",
        "required": ["client_id"],
        "properties": {
          "url": {"type": "string", "description": "API base URL (default https://api.simkl.com)"},
          "client_id": {"type": "string", "description": "your SIMKL app's client id (sent as simkl-api-key)"},
          "client_secret": {"type": "string", "description": "the app's secret (not needed for PIN login)"},
          "access_token": {"type": "string", "description": "a user token; without it, run cw auth login (PIN)"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Simkl(cwsdk::Host host, std::string_view config)
      : m_host(host), m_api(host, read_url(config)), m_client_id(read_client_id(config)) {
    m_api.header("Accept", "application/json");
    m_api.header("User-Agent", std::string("cw-simkl/") + k_app_version);
    m_api.header("simkl-api-key", m_client_id);
  }

  // ---------------------------------------------------------------- health
  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto me = call(cwsdk::http::Request::get("/users/settings"), true);
    if (!me) return cwsdk::HealthReply::from_failure(me.error()).reply();
    const std::string user = cwsdk::get_or<std::string>(*me, "/user/name", "an unnamed user");
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok)
        .message("signed in to SIMKL as " + user)
        .feature("watchlist", true)
        .feature("history", true)
        .feature("ratings", true)
        .reply();
  }

  // ---------------------------------------------------------------- build_index
  cwsdk::Reply build_index(std::string_view request) {
    auto req = cwsdk::read_index_request(request, {"watchlist", "history", "ratings"});
    if (!req) return req.error().reply();
    const std::string& feature = req->feature;
    auto acts = call(cwsdk::http::Request::get("/sync/activities"), true);
    if (!acts) return acts.error().reply();
    if (!acts->is_object())
      return Failure::internal("GET /sync/activities: expected a JSON object").reply();

    std::optional<Stored> stored = load(feature);
    const bool usable = stored && req->watermark && *req->watermark == stored->watermark;
    if (!usable) return full_read(feature, *acts);
    const Json& old = stored->activities;
    bool removed_moved = false;
    bool changed = false;
    for (const char* s : k_sections) {
      if (stamp(old, s, "removed_from_list") != stamp(*acts, s, "removed_from_list"))
        removed_moved = true;
      if (feature == "ratings") {
        if (stamp(old, s, "rated_at") != stamp(*acts, s, "rated_at")) changed = true;
      } else if (stamp(old, s, "all") != stamp(*acts, s, "all")) {
        changed = true;
      }
    }
    if (removed_moved || (feature == "ratings" && changed)) return full_read(feature, *acts);
    if (!changed) {
      // Nothing moved: SIMKL's library is not read; the delta carries the stored inventory
      // (see emit_stored) and nothing removed.
      cwsdk::IndexWriter index(cwsdk::IndexSemantics::delta);
      if (auto st = emit_stored(index, stored->titles); !st) return st.error().reply();
      return index.finish_whole(stored->watermark);
    }
    return delta_read(feature, *acts, std::move(*stored));
  }

  // ---------------------------------------------------------------- writes
  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }
  cwsdk::Reply update(std::string_view request) { return write(request, "update"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }

  // ---------------------------------------------------------------- scrobble
  // /scrobble/start|pause|stop (sdk/ABI.md "scrobble"). SIMKL, like Trakt, turns a stop at
  // 80 % or more into a watch and anything less into a paused session; the host's
  // `watched` decides which one SIMKL records. Episodes go by their show's ids with the
  // season and number (SIMKL's scrobble body has no episode ids).
  cwsdk::Reply scrobble(std::string_view request) {
    auto req = cwsdk::read_scrobble_request(request);
    if (!req) return req.error().reply();
    const Item& it = req->item;
    cwsdk::ScrobbleReply out;
    auto unresolved = [&](Reason reason, std::string message) {
      out.status = cwsdk::OutcomeStatus::unresolved;
      out.reason = reason;
      out.message = std::move(message);
      return out.reply();
    };
    constexpr double k_simkl_watched = 80.0;
    double progress = req->progress;
    std::string action = "start";
    if (req->event == cwsdk::ScrobbleEvent::pause) {
      action = "pause";
    } else if (req->event == cwsdk::ScrobbleEvent::stop) {
      if (req->watched.value_or(progress >= k_simkl_watched)) {
        action = "stop";
        progress = std::max(progress, k_simkl_watched);
      } else {
        action = "pause";
        progress = std::min(progress, k_simkl_watched - 0.01);
      }
    }
    Json body = {{"progress", std::round(progress * 100.0) / 100.0}};
    if (it.type == ItemType::movie) {
      Json ids = write_ids(it, true);
      if (ids.empty()) return unresolved(Reason::not_found, "no id SIMKL can match");
      body["movie"] = {{"ids", ids}};
      if (!it.title.empty()) body["movie"]["title"] = it.title;
      if (it.year) body["movie"]["year"] = *it.year;
    } else if (it.type == ItemType::episode) {
      Item show_only;
      show_only.ids = it.show.ids;
      Json show_ids = write_ids(show_only, false);
      if (show_ids.empty() || !it.season || !it.episode)
        return unresolved(Reason::not_found,
                          "SIMKL scrobbles an episode by its show's ids, season and number; "
                          "this one has no show id");
      body["show"] = {{"ids", show_ids}};
      if (!it.show.title.empty()) body["show"]["title"] = it.show.title;
      body["episode"] = {{"season", *it.season}, {"number", *it.episode}};
    } else {
      return unresolved(Reason::rejected, "SIMKL scrobbles movies and episodes");
    }
    auto reply = send(cwsdk::http::Request::post("/scrobble/" + action)
                          .json(body)
                          .endpoint("/scrobble/" + action),
                      true);
    if (!reply) {
      if (reply.error().http_status == 409) {
        // Duplicate protection: the item was completed within the hour.
        out.status = cwsdk::OutcomeStatus::skipped;
        out.recorded = cwsdk::ScrobbleRecorded::play;
        out.message = "SIMKL already has this play (409)";
        return out.reply();
      }
      if (reply.error().http_status == 404)
        return unresolved(Reason::not_found, "SIMKL does not know this item");
      return reply.error().reply();
    }
    const Json doc = Json::parse(reply->body, nullptr, false);
    const std::string done = doc.is_object() ? doc.value("action", action) : action;
    if (done == "scrobble")
      out.recorded = cwsdk::ScrobbleRecorded::play;
    else if (done == "pause")
      out.recorded = cwsdk::ScrobbleRecorded::progress;
    return out.reply();
  }

  // ---------------------------------------------------------------- PIN login
  cwsdk::Reply auth_start(std::string_view request) {
    if (auto ok = cwsdk::read_auth_start_request(request); !ok) return ok.error().reply();
    auto reply =
        call(cwsdk::http::Request::get("/oauth/pin").query("client_id", m_client_id), false);
    if (!reply) return reply.error().reply();
    auto code = cwsdk::get<std::string>(*reply, "/user_code");
    if (!code) return Failure::internal("GET /oauth/pin: " + code.error().message).reply();
    m_pin = *code;
    m_pin_interval_ms = cwsdk::get_or<std::int64_t>(*reply, "/interval", 5) * 1000;
    m_pin_expires_at =
        m_host.now_ms() + cwsdk::get_or<std::int64_t>(*reply, "/expires_in", 900) * 1000;
    const std::string url =
        cwsdk::get_or<std::string>(*reply, "/verification_url", "https://simkl.com/pin");
    Json doc = {{"kind", "pin"},
                {"user_code", m_pin},
                {"verification_url", url},
                {"interval_ms", m_pin_interval_ms},
                {"expires_in_ms", m_pin_expires_at - m_host.now_ms()},
                {"message", "open " + url + " and enter the code " + m_pin}};
    return cwsdk::Reply::ok(doc.dump());
  }

  cwsdk::Reply auth_poll(std::string_view) {
    auto state = [](const char* s, std::string message) {
      return cwsdk::Reply::ok(Json{{"state", s}, {"message", std::move(message)}}.dump());
    };
    if (m_pin.empty()) return state("expired", "no login in progress: run cw auth login again");
    if (m_host.now_ms() >= m_pin_expires_at) {
      m_pin.clear();
      return state("expired", "the code expired: run cw auth login again");
    }
    auto reply = call(cwsdk::http::Request::get("/oauth/pin/{code}")
                          .path_param("code", m_pin)
                          .query("client_id", m_client_id)
                          .endpoint("/oauth/pin/:code"),
                      false);
    if (!reply) {
      if (reply.error().status == CW_STATUS_RATE_LIMITED ||
          reply.error().status == CW_STATUS_TRANSIENT)
        return state("pending", reply.error().message);
      return reply.error().reply();
    }
    // An unknown, expired or used code comes back as a new code: the old one is gone.
    if (cwsdk::find(*reply, "/device_code") != nullptr) {
      m_pin.clear();
      return state("expired", "SIMKL no longer knows the code: run cw auth login again");
    }
    const std::string result = cwsdk::get_or<std::string>(*reply, "/result", "");
    const std::string token = cwsdk::get_or<std::string>(*reply, "/access_token", "");
    if (result == "OK" && !token.empty()) {
      if (m_host.put_secret("token", token) != CW_STATUS_OK)
        return Failure::internal("could not store the SIMKL token").reply();
      m_pin.clear();
      return state("done", "signed in to SIMKL");
    }
    return state("pending", "waiting for the code to be entered");
  }

 private:
  // ---------------------------------------------------------------- config, HTTP
  static Json parse_config(std::string_view config) {
    Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    if (!cfg.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration is not an object");
    return cfg;
  }
  static std::string read_url(std::string_view config) {
    std::string url = cwsdk::get_or<std::string>(parse_config(config), "/url", k_default_url);
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                         "url: expected an http(s) URL such as " + std::string(k_default_url));
    return url;
  }
  static std::string read_client_id(std::string_view config) {
    const Json cfg = parse_config(config);
    auto id = cwsdk::get<std::string>(cfg, "/client_id");
    if (!id || id->empty())
      throw cwsdk::Error(
          CW_STATUS_INVALID_ARG,
          "client_id: required (your SIMKL app's client id, simkl.com/settings/developer)");
    if (*id == "${secret}") {
      // A client id written as ${env:...}: not a declared secret, but resolved the same way.
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "client_id: write it as plain text");
    }
    return *id;
  }

  // The user's token: the configured access_token, else the one PIN login stored.
  cwsdk::Status authorize(cwsdk::http::Request& r) const {
    auto token = m_host.secret("access_token");
    if (!token || token->empty() || *token == "${secret}") token = m_host.secret("token");
    if (!token || token->empty())
      return Failure::of(CW_STATUS_AUTH,
                         "no SIMKL token: set access_token or run cw auth login <instance>");
    r.header("Authorization", "Bearer " + *token);
    return {};
  }

  // App identification on every request; the user's token on user routes.
  Result<cwsdk::http::Response> send(cwsdk::http::Request r, bool user) const {
    r.query("client_id", m_client_id)
        .query("app-name", k_app_name)
        .query("app-version", k_app_version);
    if (user) {
      auto st = authorize(r);
      if (!st) return st.error();
    }
    return m_api.fetch(std::move(r));
  }
  // A JSON reply; `null` (SIMKL's empty answer for older apps) reads as null.
  Result<Json> call(cwsdk::http::Request r, bool user) const {
    auto reply = send(std::move(r), user);
    if (!reply) return reply.error();
    if (reply->body.empty()) return Json();
    return reply->json();
  }

  static std::string stamp(const Json& acts, const char* section, const char* field) {
    const Json* s = cwsdk::find(acts, std::string("/") + section);
    if ((s == nullptr || !s->is_object()) && std::string_view(section) == "tv_shows")
      s = cwsdk::find(acts, "/shows");
    if (s == nullptr || !s->is_object()) return {};
    return cwsdk::get_or<std::string>(*s, std::string("/") + field, "");
  }

  // ---------------------------------------------------------------- stored state
  static std::string kv_key(const std::string& feature) { return "index:" + feature; }

  std::optional<Stored> load(const std::string& feature) const {
    auto text = m_host.kv_get(kv_key(feature));
    if (!text) return std::nullopt;
    Json doc = Json::parse(*text, nullptr, false);
    if (!doc.is_object() || !doc["watermark"].is_string() || !doc["titles"].is_object())
      return std::nullopt;
    Stored s;
    s.watermark = doc["watermark"].get<std::string>();
    s.activities = doc.value("activities", Json::object());
    for (auto it = doc["titles"].begin(); it != doc["titles"].end(); ++it) {
      if (!it->is_array()) return std::nullopt;
      s.titles[it.key()] = it->get<std::vector<Json>>();
    }
    return s;
  }

  std::string save(const std::string& feature, const Json& acts, const TitleMap& titles) const {
    const std::string wm = "simkl1:" + stamp(acts, "movies", "all") + "|" +
                           stamp(acts, "tv_shows", "all") + "|" + stamp(acts, "anime", "all");
    Json doc = {{"watermark", wm}, {"activities", acts}, {"titles", Json::object()}};
    for (const auto& [k, v] : titles) doc["titles"][k] = v;
    m_host.kv_put(kv_key(feature), doc.dump());
    return wm;
  }

  // ---------------------------------------------------------------- rows -> items
  struct Title {
    std::string key;
    std::vector<Item> items;
    bool ok = true;
  };

  static std::string title_key(const std::string& bucket, const Ids& ids) {
    if (auto s = ids.get("simkl")) return bucket + ":simkl:" + *s;
    if (ids.empty()) return {};
    const auto& first = *ids.entries().begin();
    return bucket + ":" + first.first + ":" + first.second;
  }

  struct Media {
    std::string bucket;  // movies, shows, anime
    ItemType type = ItemType::movie;
    std::string title;
    std::optional<int> year;
    Ids ids;
  };

  static Result<Media> media_of(const Json& row, const std::string& bucket) {
    if (!row.is_object()) return Failure::internal("a row is not an object");
    const char* key = bucket == "movies" ? "movie" : "show";
    const Json* m = cwsdk::find(row, std::string("/") + key);
    if (m == nullptr || !m->is_object()) m = cwsdk::find(row, "/anime");
    if (m == nullptr || !m->is_object())
      return Failure::internal(std::string("a ") + bucket + " row has no '" + key + "' object");
    Media out;
    out.bucket = bucket;
    out.type = bucket == "movies" ? ItemType::movie : ItemType::show;
    if (bucket == "anime" && cwsdk::get_or<std::string>(row, "/anime_type", "") == "movie")
      out.type = ItemType::movie;
    out.title = cwsdk::get_or<std::string>(*m, "/title", "");
    auto year = cwsdk::get_optional<std::int64_t>(*m, "/year");
    if (year && *year && **year >= 1800 && **year <= 3000) out.year = static_cast<int>(**year);
    if (const Json* ids = cwsdk::find(*m, "/ids"); ids != nullptr && ids->is_object())
      out.ids = Ids::from_json(*ids);
    if (out.ids.empty()) return Failure::internal("a " + bucket + " row has no ids");
    return out;
  }

  static Item title_item(const Media& m) {
    Item it;
    it.type = m.type;
    it.title = m.title;
    it.year = m.year;
    it.ids = m.ids;
    if (m.bucket == "anime") it.extra = Json{{"simkl_bucket", "anime"}};
    return it;
  }

  // The items one row contributes to `feature`.
  static Result<Title> title_of(const std::string& feature, const Json& row,
                                const std::string& bucket) {
    auto m = media_of(row, bucket);
    if (!m) return m.error();
    Title t;
    t.key = title_key(bucket, m->ids);
    const std::string status = cwsdk::get_or<std::string>(row, "/status", "");
    if (feature == "watchlist") {
      if (status == "plantowatch") t.items.push_back(title_item(*m));
      return t;
    }
    if (feature == "ratings") {
      const Json* r = cwsdk::find(row, "/user_rating");
      if (r == nullptr || r->is_null()) return t;
      auto native = cwsdk::detail::to_double(*r);
      if (!native || !r->is_number())
        return Failure::internal("user_rating of '" + m->title + "' is not a number");
      auto rating = cwsdk::from_scale(*native, cwsdk::RatingScale::simkl());
      if (!rating)
        return Failure::internal("user_rating " + r->dump() + " of '" + m->title +
                                 "' is outside 1..10");
      Item it = title_item(*m);
      it.rating = *rating;
      if (auto at = cwsdk::parse_rfc3339(cwsdk::get_or<std::string>(row, "/user_rated_at", "")))
        it.rated_at = *at;
      t.items.push_back(std::move(it));
      return t;
    }
    // history
    const auto last = cwsdk::parse_rfc3339(cwsdk::get_or<std::string>(row, "/last_watched_at", ""));
    if (m->type == ItemType::movie) {
      if (last && status != "plantowatch") {
        Item it = title_item(*m);
        it.watched_at = *last;
        t.items.push_back(std::move(it));
      }
      return t;
    }
    const Json* seasons = cwsdk::find(row, "/seasons");
    if (seasons == nullptr || seasons->is_null()) return t;
    if (!seasons->is_array())
      return Failure::internal("seasons of '" + m->title + "' is not an array");
    cwsdk::ShowRef show{m->title, m->year, m->ids};
    for (const Json& s : *seasons) {
      auto sn = cwsdk::get<std::int64_t>(s, "/number");
      const Json* eps = cwsdk::find(s, "/episodes");
      if (!sn || *sn < 0 || eps == nullptr || !eps->is_array())
        return Failure::internal("a season of '" + m->title + "' has no number or episodes");
      for (const Json& e : *eps) {
        auto en = cwsdk::get<std::int64_t>(e, "/number");
        if (!en || *en < 0)
          return Failure::internal("an episode of '" + m->title + "' has no number");
        auto at = cwsdk::parse_rfc3339(cwsdk::get_or<std::string>(e, "/watched_at", ""));
        if (!at) at = last;
        if (!at)
          return Failure::internal("episode " + std::to_string(*en) + " of '" + m->title +
                                   "' has no watched_at");
        Item it = cwsdk::make_episode(show, static_cast<int>(*sn), static_cast<int>(*en));
        it.watched_at = *at;
        if (m->bucket == "anime") it.extra = Json{{"simkl_bucket", "anime"}};
        t.items.push_back(std::move(it));
      }
    }
    return t;
  }

  // Reads the rows of one reply into titles; rows that cannot be read are counted.
  Result<std::vector<Title>> read_rows(const std::string& feature, const Json& doc,
                                       std::int64_t& left_out) const {
    std::vector<Title> out;
    if (doc.is_null()) return out;  // SIMKL's empty answer
    if (!doc.is_object())
      return Failure::internal("SIMKL's " + feature + " reply is not a JSON object");
    for (const char* bucket : {"movies", "shows", "anime"}) {
      const Json* rows = cwsdk::find(doc, std::string("/") + bucket);
      if (rows == nullptr || rows->is_null()) continue;
      if (!rows->is_array())
        return Failure::internal("SIMKL's " + feature + " reply: " + bucket + " is not an array");
      for (const Json& row : *rows) {
        auto t = title_of(feature, row, bucket);
        if (!t || t->key.empty()) {
          ++left_out;
          m_host.warn("simkl " + feature + ": a " + bucket + " row was left out: " +
                      (t ? std::string("it has no ids") : t.error().message));
          continue;
        }
        out.push_back(std::move(*t));
      }
    }
    return out;
  }

  Result<Json> fetch_feature(const std::string& feature,
                             const std::optional<std::string>& from) const {
    if (feature == "ratings") {
      // One read per type, every score (SIMKL files anime apart).
      Json merged = Json::object();
      for (const char* type : {"movies", "shows", "anime"}) {
        auto r = call(cwsdk::http::Request::get("/sync/ratings/{type}/1,2,3,4,5,6,7,8,9,10")
                          .path_param("type", type)
                          .endpoint("/sync/ratings/:type/:ratings"),
                      true);
        if (!r) return r.error();
        if (r->is_null()) continue;
        if (!r->is_object())
          return Failure::internal(std::string("GET /sync/ratings/") + type +
                                   ": expected a JSON object");
        if (const Json* rows = cwsdk::find(*r, std::string("/") + type); rows != nullptr)
          merged[type] = *rows;
      }
      return merged;
    }
    auto r = cwsdk::http::Request::get("/sync/all-items");
    if (feature == "history") r.query("extended", "full").query("episode_watched_at", "yes");
    if (from) r.query("date_from", *from);
    return call(std::move(r), true);
  }

  static std::string item_id(const Json& item) {
    // A play or entry within a title: episode coordinates (watch time aside).
    return std::to_string(item.value("season", -1)) + "x" +
           std::to_string(item.value("episode", -1));
  }

  cwsdk::Reply full_read(const std::string& feature, const Json& acts) {
    auto doc = fetch_feature(feature, std::nullopt);
    if (!doc) return doc.error().reply();
    std::int64_t left_out = 0;
    auto titles = read_rows(feature, *doc, left_out);
    if (!titles) return titles.error().reply();
    cwsdk::IndexWriter index(cwsdk::IndexSemantics::present);
    TitleMap stored;
    for (const Title& t : *titles) {
      for (const Item& it : t.items) {
        if (auto st = index.add(it); !st) {
          ++left_out;
          m_host.warn("simkl " + feature + ": an item was left out: " + st.error().message);
          continue;
        }
        stored[t.key].push_back(it.to_json());
      }
    }
    if (left_out > 0) {
      // Incomplete: no state is kept and no watermark given, so the next read is full.
      cwsdk::Completeness c;
      c.received = index.received();
      c.reason = std::to_string(left_out) + " rows could not be read";
      return index.finish(c);
    }
    const std::string wm = save(feature, acts, stored);
    return index.finish_whole(wm);
  }

  cwsdk::Reply delta_read(const std::string& feature, const Json& acts, Stored stored) {
    const std::string date_from = cwsdk::get_or<std::string>(stored.activities, "/all", "");
    if (date_from.empty()) return full_read(feature, acts);
    auto doc = fetch_feature(feature, date_from);
    if (!doc) return doc.error().reply();
    std::int64_t left_out = 0;
    auto titles = read_rows(feature, *doc, left_out);
    if (!titles) return titles.error().reply();
    cwsdk::IndexWriter index(cwsdk::IndexSemantics::delta);
    if (left_out > 0) {
      // A changed row could not be read: nothing is learnt from this delta; the same
      // watermark asks for it again next time.
      if (auto st = emit_stored(index, stored.titles); !st) return st.error().reply();
      cwsdk::Completeness c;
      c.received = index.received();
      c.reason = std::to_string(left_out) + " rows could not be read";
      return index.finish(c, stored.watermark);
    }
    for (const Title& t : *titles) {
      std::vector<Json> now;
      for (const Item& it : t.items) now.push_back(it.to_json());
      auto old_it = stored.titles.find(t.key);
      const std::vector<Json> old =
          old_it == stored.titles.end() ? std::vector<Json>() : old_it->second;
      std::set<std::string> seen;
      for (const Json& n : now) seen.insert(item_id(n));
      for (const Json& o : old) {
        if (seen.count(item_id(o))) continue;
        auto item = Item::from_json(o);
        if (item) (void)index.add_removed(*item);
      }
      if (now.empty())
        stored.titles.erase(t.key);
      else
        stored.titles[t.key] = std::move(now);
    }
    if (auto st = emit_stored(index, stored.titles); !st) return st.error().reply();
    const std::string wm = save(feature, acts, stored.titles);
    return index.finish_whole(wm);
  }

  // A delta's items: the whole current inventory (the stored index with the changes
  // applied), not only what changed. The service is not read for it, the host treats items
  // it already has as no change, and a pair that removes an item on SIMKL finds it in this
  // snapshot (the host looks for a removal's target in the snapshot itself).
  static Status emit_stored(cwsdk::IndexWriter& index, const TitleMap& titles) {
    for (const auto& [key, items] : titles) {
      for (const Json& j : items) {
        auto it = Item::from_json(j);
        if (!it)
          return Failure::internal("simkl: the stored index is damaged: " + it.error().message);
        if (auto st = index.add(*it); !st) return st;
      }
    }
    return {};
  }

  // ---------------------------------------------------------------- writes
  static const char* bucket_of(const Item& it) {
    return it.type == ItemType::movie ? "movies" : "shows";
  }

  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req = cwsdk::read_write_request(request, op, {"watchlist", "history", "ratings"});
    if (!req) return req.error().reply();
    const std::string& feature = req->feature;
    if (op == "update" && feature != "ratings")
      return Failure::of(CW_STATUS_UNSUPPORTED, "simkl updates only ratings").reply();
    cwsdk::Outcomes outcomes;
    std::vector<const Item*> items;
    for (const Item& it : req->items) {
      const bool movie = it.type == ItemType::movie;
      const bool ok_type = feature == "history" ? (movie || it.type == ItemType::episode)
                                                : (movie || it.type == ItemType::show);
      if (!ok_type) {
        outcomes.unresolved(it.key, Reason::rejected,
                            "SIMKL " + feature + " does not take " +
                                std::string(cwsdk::item_type_name(it.type)) + " items");
        continue;
      }
      if (write_ids(it, movie).empty()) {
        outcomes.unresolved(it.key, Reason::not_found,
                            "no id SIMKL can match (imdb, tmdb, tvdb, simkl...)");
        continue;
      }
      if (it.type == ItemType::episode && (!it.season || !it.episode)) {
        outcomes.unresolved(it.key, Reason::rejected, "an episode without season and number");
        continue;
      }
      if (feature == "history" && op == "add" && !it.watched_at) {
        outcomes.unresolved(it.key, Reason::rejected, "a play without watched_at");
        continue;
      }
      if (feature == "ratings" && op != "remove") {
        if (!it.rating || !cwsdk::to_scale(*it.rating, cwsdk::RatingScale::simkl())) {
          outcomes.unresolved(it.key, Reason::rejected, "no rating on 0..10");
          continue;
        }
      }
      items.push_back(&it);
    }
    if (!items.empty()) {
      Status st = feature == "watchlist" ? (op == "add" ? watchlist_add(items, outcomes)
                                                        : watchlist_remove(items, outcomes))
                  : feature == "history" ? history_write(items, op == "add", outcomes)
                                         : ratings_write(items, op != "remove", outcomes);
      if (!st) return st.error().reply();
    }
    return outcomes.reply(*req);
  }
  Status watchlist_add(const std::vector<const Item*>& items, cwsdk::Outcomes& outcomes) {
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    for (const Item* it : items) {
      const bool movie = it->type == ItemType::movie;
      Json entry = {{"to", "plantowatch"}, {"ids", write_ids(*it, movie)}};
      if (!it->title.empty()) entry["title"] = it->title;
      if (it->year) entry["year"] = *it->year;
      body[bucket_of(*it)].push_back(std::move(entry));
      batch.sent(it->key, bucket_of(*it), Ids::from_json(write_ids(*it, movie)));
    }
    auto reply = call(cwsdk::http::Request::post("/sync/add-to-list").json(body), true);
    if (!reply) return reply.error();
    if (auto m = batch.map(*reply, cwsdk::BatchShape::added(), outcomes); !m)
      m_host.warn("simkl watchlist add: " + m.error().message);
    return {};
  }

  // SIMKL removes a title only from the whole library (/sync/history/remove). A title
  // that is no longer in Plan to Watch is left alone (its history and rating stay).
  Status watchlist_remove(const std::vector<const Item*>& items, cwsdk::Outcomes& outcomes) {
    auto doc =
        call(cwsdk::http::Request::get("/sync/all-items").query("extended", "ids_only"), true);
    if (!doc) return doc.error();
    std::vector<std::pair<Ids, std::string>> library;  // ids, status
    if (doc->is_object()) {
      for (const char* bucket : {"movies", "shows", "anime"}) {
        const Json* rows = cwsdk::find(*doc, std::string("/") + bucket);
        if (rows == nullptr || !rows->is_array()) continue;
        for (const Json& row : *rows) {
          auto m = media_of(row, bucket);
          if (!m) continue;
          library.emplace_back(m->ids, cwsdk::get_or<std::string>(row, "/status", ""));
        }
      }
    } else if (!doc->is_null()) {
      return Failure::internal("GET /sync/all-items: expected a JSON object");
    }
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    bool any = false;
    for (const Item* it : items) {
      const bool movie = it->type == ItemType::movie;
      const Ids ids = Ids::from_json(write_ids(*it, movie));
      std::optional<std::string> status;
      for (const auto& [lib_ids, st] : library) {
        if (lib_ids.shares_id_with(ids)) status = st;
      }
      if (!status) {
        outcomes.skipped(it->key, "not in the SIMKL library");
        continue;
      }
      if (*status != "plantowatch") {
        outcomes.skipped(it->key, "not in Plan to Watch (SIMKL lists it as " + *status +
                                      "); left in the library with its history");
        continue;
      }
      body[bucket_of(*it)].push_back({{"ids", write_ids(*it, movie)}});
      batch.sent(it->key, bucket_of(*it), ids);
      any = true;
    }
    if (!any) return {};
    auto reply = call(cwsdk::http::Request::post("/sync/history/remove").json(body), true);
    if (!reply) return reply.error();
    if (auto m = batch.map(*reply, cwsdk::BatchShape::deleted(), outcomes); !m)
      m_host.warn("simkl watchlist remove: " + m.error().message);
    return {};
  }

  Status history_write(const std::vector<const Item*>& items, bool adding,
                       cwsdk::Outcomes& outcomes) {
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    // Episodes go under their show: shows[].seasons[].episodes[].
    std::map<std::string, std::size_t> show_index;
    for (const Item* it : items) {
      if (it->type == ItemType::movie) {
        Json entry = {{"ids", write_ids(*it, true)}};
        if (!it->title.empty()) entry["title"] = it->title;
        if (it->year) entry["year"] = *it->year;
        if (adding) entry["watched_at"] = cwsdk::format_rfc3339(*it->watched_at);
        body["movies"].push_back(std::move(entry));
        batch.sent(it->key, "movies", Ids::from_json(write_ids(*it, true)));
        continue;
      }
      Item show_only;
      show_only.ids = it->show.ids;
      Json show_ids = write_ids(show_only, false);
      if (show_ids.empty()) {
        outcomes.unresolved(it->key, Reason::not_found,
                            "the episode's show has no id SIMKL can match");
        continue;
      }
      const std::string sk = show_ids.dump();
      auto [pos, fresh] = show_index.emplace(sk, body["shows"].size());
      if (fresh) {
        Json entry = {{"ids", show_ids}, {"seasons", Json::array()}};
        if (!it->show.title.empty()) entry["title"] = it->show.title;
        if (it->show.year) entry["year"] = *it->show.year;
        body["shows"].push_back(std::move(entry));
      }
      Json& seasons = body["shows"][pos->second]["seasons"];
      Json* season = nullptr;
      for (Json& s : seasons) {
        if (s["number"] == *it->season) season = &s;
      }
      if (season == nullptr) {
        seasons.push_back({{"number", *it->season}, {"episodes", Json::array()}});
        season = &seasons.back();
      }
      Json ep = {{"number", *it->episode}};
      if (adding) ep["watched_at"] = cwsdk::format_rfc3339(*it->watched_at);
      (*season)["episodes"].push_back(std::move(ep));
      batch.sent(it->key, "episodes", Ids::from_json(show_ids));
    }
    if (body["movies"].empty() && body["shows"].empty()) return {};
    auto reply = call(
        cwsdk::http::Request::post(adding ? "/sync/history" : "/sync/history/remove").json(body),
        true);
    if (!reply) return reply.error();
    // Episodes are counted under "episodes"; a show SIMKL cannot find comes back under
    // not_found.shows (with the show's ids), an episode under not_found.episodes.
    const char* done = adding ? "added" : "deleted";
    Json mapped = *reply;  // a reply without the counts proves nothing (unknown)
    if (const Json* d = cwsdk::find(*reply, std::string("/") + done);
        d != nullptr && d->is_object()) {
      mapped = {{done, Json::object()}, {"not_found", {{"episodes", Json::array()}}}};
      for (const char* k : {"movies", "episodes"}) {
        if (d->contains(k)) mapped[done][k] = (*d)[k];
      }
      if (const Json* nf = cwsdk::find(*reply, "/not_found"); nf != nullptr && nf->is_object()) {
        if (const Json* l = cwsdk::find(*nf, "/movies"); l != nullptr)
          mapped["not_found"]["movies"] = *l;
        for (const char* k : {"shows", "anime", "episodes"}) {
          if (const Json* l = cwsdk::find(*nf, std::string("/") + k); l != nullptr && l->is_array())
            for (const Json& e : *l) mapped["not_found"]["episodes"].push_back(e);
        }
      }
    }
    if (auto m = batch.map(
            mapped, adding ? cwsdk::BatchShape::added() : cwsdk::BatchShape::deleted(), outcomes);
        !m)
      m_host.warn("simkl history: " + m.error().message);
    return {};
  }

  Status ratings_write(const std::vector<const Item*>& items, bool rating,
                       cwsdk::Outcomes& outcomes) {
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    for (const Item* it : items) {
      const bool movie = it->type == ItemType::movie;
      Json entry = {{"ids", write_ids(*it, movie)}};
      if (rating) {
        entry["rating"] = static_cast<int>(
            std::lround(*cwsdk::to_scale(*it->rating, cwsdk::RatingScale::simkl())));
        if (it->rated_at) entry["rated_at"] = cwsdk::format_rfc3339(*it->rated_at);
      }
      body[bucket_of(*it)].push_back(std::move(entry));
      batch.sent(it->key, bucket_of(*it), Ids::from_json(write_ids(*it, movie)));
    }
    auto reply = call(
        cwsdk::http::Request::post(rating ? "/sync/ratings" : "/sync/ratings/remove").json(body),
        true);
    if (!reply) return reply.error();
    if (auto m = batch.map(
            *reply, rating ? cwsdk::BatchShape::added() : cwsdk::BatchShape::deleted(), outcomes);
        !m)
      m_host.warn("simkl ratings: " + m.error().message);
    return {};
  }

  cwsdk::Host m_host;
  cwsdk::http::Client m_api;
  std::string m_client_id;
  std::string m_pin;
  std::int64_t m_pin_interval_ms = 5000;
  std::int64_t m_pin_expires_at = 0;
};

}  // namespace simkl
