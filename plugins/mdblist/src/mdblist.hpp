// MDBList provider (api.mdblist.com), on the provider kit.
//
//   watchlist  GET /watchlist/items (offset paging, has_more, total_movies + total_shows),
//              POST /watchlist/items/add and /remove with flat id objects.
//   ratings    GET /sync/ratings (movies, shows, seasons, episodes; 1-10),
//              POST /sync/ratings and /sync/ratings/remove with {"ids": ...} objects.
//   history    GET /sync/watched?plays=all (one row per play, with its play id),
//              POST /sync/watched, POST /sync/watched/plays/remove {"play_ids": [...]}.
//   scrobble   (cw serve) a start, a pause or an unwatched stop keeps the resume point
//              (POST /scrobble/pause, imdb ids); a watched stop is a play (POST /sync/watched
//              at the event's time). MDBList has no now-playing and no scrobble start/stop.
//
// The API key goes in the `apikey` query parameter of every request (the host masks it).
// MDBList counts requests per day; the 429 that ends the day (X-RateLimit-Remaining: 0) is
// reported with the `quota` reason: a failed read says so, and a write marks its items
// unresolved/quota. Write replies carry counts ("response": true, added/existing/updated,
// not_found as a count or a list); a count never vouches for an item it cannot name, so a
// bucket whose counts do not add up leaves its items unknown (BatchMapper).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace mdblist {

using cwsdk::Failure;
using cwsdk::Ids;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Json;
using cwsdk::Reason;
using cwsdk::Result;
using Status = cwsdk::Status;

inline constexpr const char* k_default_url = "https://api.mdblist.com";
inline constexpr int k_page_size = 500;
inline constexpr cwsdk::RatingScale k_scale{1, 10, 1};

// An id object as MDBList's writes take it: numbers for tmdb/tvdb/trakt, text otherwise.
inline Json id_object(const Ids& ids, bool show) {
  Json out = Json::object();
  for (const char* kind : {"imdb", "tmdb", "tvdb", "trakt", "mdblist"}) {
    if (show && std::string_view(kind) == "tvdb" && ids.has("tmdb")) continue;
    auto v = ids.get(kind);
    if (!v) continue;
    const bool numeric = std::string_view(kind) == "tmdb" || std::string_view(kind) == "tvdb" ||
                         std::string_view(kind) == "trakt";
    if (numeric && !v->empty() && v->size() < 18 &&
        std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
      out[kind] = std::stoll(*v);
    else
      out[kind] = *v;
  }
  return out;
}

class Mdblist {
 public:
  static const char* manifest() {
    return R"json({
      "name": "mdblist",
      "version": "1.0.0",
      "display_name": "MDBList",
      "description": "MDBList: watchlist, ratings (1-10) and watch history over api.mdblist.com with an API key; the daily request quota is reported as such.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                      "remove": true, "observes_deletes": true, "provides_ids": true,
                      "chunk_size": 100, "page_size": 500},
        "ratings": {"types": ["movie", "show", "season", "episode"], "index_semantics": "present",
                    "add": true, "remove": true, "update": true, "observes_deletes": true,
                    "provides_ids": true, "chunk_size": 100, "page_size": 500,
                    "rating_scale": {"min": 1, "max": 10, "step": 1}},
        "history": {"types": ["movie", "episode"], "index_semantics": "present", "add": true,
                    "remove": true, "observes_deletes": true, "provides_ids": true,
                    "chunk_size": 100, "page_size": 500, "writes_watch_date": true,
                    "rewatches": true}
      },
      "rate_limits": [
        {"name": "read", "methods": ["GET"], "requests": 10, "per_seconds": 1},
        {"name": "write", "methods": ["POST", "PUT", "DELETE"], "requests": 1, "per_seconds": 1}
      ],
      "capabilities": {"auth": "none", "scrobble": true},
      "secrets": ["api_key"],
      "config": {
        "type": "object",
        "required": ["api_key"],
        "properties": {
          "url": {"type": "string", "description": "API base URL (default https://api.mdblist.com)"},
          "api_key": {"type": "string", "description": "your API key from the MDBList preferences page (write it as ${env:MDBLIST_API_KEY})"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Mdblist(cwsdk::Host host, std::string_view config) : m_host(host), m_api(host, read_url(config)) {
    m_api.header("Accept", "application/json");
    m_api.header("User-Agent", "cw-mdblist/1.0");
  }

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto user = call(cwsdk::http::Request::get("/user"));
    if (!user) return cwsdk::HealthReply::from_failure(user.error()).reply();
    const std::string name = cwsdk::get_or<std::string>(*user, "/username", "an unnamed user");
    std::string msg = "signed in to MDBList as " + name;
    if (m_remaining) msg += " (" + std::to_string(*m_remaining) + " API requests left today)";
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok)
        .message(msg)
        .feature("watchlist", true)
        .feature("ratings", true)
        .feature("history", true)
        .reply();
  }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist", "ratings", "history"});
    if (!req) return req.error().reply();
    const std::string feature = req->feature;
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    std::int64_t left_out = 0;
    cwsdk::Completeness read =
        cwsdk::Pager::offsets(k_page_size)
            .run(m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
              auto r = feature == "watchlist"
                           ? cwsdk::http::Request::get("/watchlist/items")
                           : cwsdk::http::Request::get(feature == "ratings" ? "/sync/ratings"
                                                                            : "/sync/watched");
              r.query("limit", page.limit).query("offset", page.offset);
              if (feature == "history") r.query("plays", "all");
              auto doc = call(std::move(r));
              if (!doc) return doc.error();
              if (!doc->is_object())
                return Failure::internal("MDBList's " + feature + " page is not a JSON object");
              cwsdk::Page p;
              const std::vector<std::string> buckets =
                  feature == "watchlist" ? std::vector<std::string>{"movies", "shows"}
                  : feature == "ratings"
                      ? std::vector<std::string>{"movies", "shows", "seasons", "episodes"}
                      : std::vector<std::string>{"movies", "episodes"};
              for (const std::string& bucket : buckets) {
                const Json* rows = cwsdk::find(*doc, "/" + bucket);
                if (rows == nullptr) continue;
                if (!rows->is_array())
                  return Failure::internal("MDBList's " + feature + " page: " + bucket +
                                           " is not an array");
                p.count += static_cast<std::int64_t>(rows->size());
                for (const Json& row : *rows) {
                  auto item = feature == "watchlist" ? watchlist_item(row, bucket)
                                                     : sync_item(feature, row, bucket);
                  Status added = item ? index.add(*item) : Status(item.error());
                  if (!added) {
                    ++left_out;
                    m_host.warn("mdblist " + feature + ": a " + bucket +
                                " row was left out: " + added.error().message);
                  }
                }
              }
              if (const Json* more = cwsdk::find(*doc, "/pagination/has_more");
                  more != nullptr && more->is_boolean())
                p.has_more = more->get<bool>();
              if (feature == "watchlist") {
                auto tm = cwsdk::get_optional<std::int64_t>(*doc, "/pagination/total_movies");
                auto ts = cwsdk::get_optional<std::int64_t>(*doc, "/pagination/total_shows");
                if (tm && ts && *tm && *ts) p.total = **tm + **ts;
              }
              return p;
            });
    if (read.failure && index.received() == 0 && left_out == 0) return index.fail(*read.failure);
    if (left_out > 0 && read.complete) {
      read.complete = false;
      read.reason = std::to_string(left_out) + " rows could not be read";
    }
    return index.finish(read);
  }

  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }

  // The host decides what a stop is (`watched`, its threshold); MDBList stores what it says.
  // A watched stop goes to /sync/watched with the event's time: a resend after a lost reply
  // (the host's queue retries stops) finds that play "existing", so it never makes a second.
  cwsdk::Reply scrobble(std::string_view request) {
    auto req = cwsdk::read_scrobble_request(request);
    if (!req) return req.error().reply();
    cwsdk::ScrobbleReply out;
    Item item = req->item;
    if (item.type != ItemType::movie && item.type != ItemType::episode) {
      out.status = cwsdk::OutcomeStatus::unresolved;
      out.reason = Reason::rejected;
      out.message = "MDBList scrobbles movies and episodes";
      return out.reply();
    }
    const bool watched =
        req->event == cwsdk::ScrobbleEvent::stop && req->watched.value_or(req->progress >= 80.0);
    if (watched) {
      if (id_object(sent_ids(item), item.type != ItemType::movie).empty() ||
          (item.type == ItemType::episode && (!item.season || !item.episode))) {
        out.status = cwsdk::OutcomeStatus::unresolved;
        out.reason = Reason::not_found;
        out.message = "no id MDBList can match (imdb, tmdb, tvdb, trakt)";
        return out.reply();
      }
      item.key = "scrobble";
      item.watched_at = req->at.value_or(m_host.now_ms());
      cwsdk::Outcomes outcomes;
      if (Status st = history_add({&item}, outcomes); !st) return st.error().reply();
      const cwsdk::Outcome* o = outcomes.find(item.key);
      if (o == nullptr || o->status == cwsdk::OutcomeStatus::unresolved) {
        out.status = cwsdk::OutcomeStatus::unresolved;
        out.reason = o ? o->reason : Reason::unknown;
        out.message = o ? o->message : "MDBList's reply does not say whether the play was stored";
        return out.reply();
      }
      out.status = o->status;  // skipped: a play at that very time was already there
      out.recorded = cwsdk::ScrobbleRecorded::play;
      return out.reply();
    }
    // /scrobble/pause takes imdb ids (the movie's, or the show's with season and episode).
    const auto imdb = sent_ids(item).get("imdb");
    if (!imdb || (item.type == ItemType::episode && (!item.season || !item.episode))) {
      out.status = cwsdk::OutcomeStatus::unresolved;
      out.reason = Reason::not_found;
      out.message = "MDBList keeps a resume point by imdb id, and the item has none";
      return out.reply();
    }
    Json body = {{"progress", std::round(req->progress * 100.0) / 100.0}};
    if (item.type == ItemType::movie)
      body["movie"] = {{"ids", {{"imdb", *imdb}}}};
    else
      body["show"] = {
          {"ids", {{"imdb", *imdb}}},
          {"season", {{"number", *item.season}, {"episode", {{"number", *item.episode}}}}}};
    auto reply = send(cwsdk::http::Request::post("/scrobble/pause").json(body));
    if (!reply && reply.error().status == CW_STATUS_NOT_FOUND) {
      out.status = cwsdk::OutcomeStatus::unresolved;
      out.reason = Reason::not_found;
      out.message = "MDBList does not know this item";
      return out.reply();
    }
    if (!reply) return reply.error().reply();
    if (Status st = reply->check(); !st) return st.error().reply();
    out.recorded = cwsdk::ScrobbleRecorded::progress;
    return out.reply();
  }
  cwsdk::Reply update(std::string_view request) { return write(request, "update"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }

 private:
  static std::string read_url(std::string_view config) {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    if (!cfg.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration is not an object");
    std::string url = cwsdk::get_or<std::string>(cfg, "/url", k_default_url);
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                         "url: expected an http(s) URL such as " + std::string(k_default_url));
    return url;
  }

  // One request with the key; the daily quota's end is a `quota` failure.
  Result<cwsdk::http::Response> send(cwsdk::http::Request r) {
    const auto key = m_host.secret("api_key");
    if (!key || key->empty())
      return Failure::of(CW_STATUS_AUTH,
                         "api_key is not set: add your MDBList API key to the configuration");
    r.query("apikey", *key);
    auto reply = m_api.send(std::move(r));
    if (!reply) {
      // After the 429 that ends the day the host's budget refuses further requests itself
      // (X-RateLimit-Remaining: 0 blocks until the reset).
      Failure f = reply.error();
      if (f.status == CW_STATUS_RATE_LIMITED &&
          ((m_remaining && *m_remaining <= 0) || f.retry_after_ms >= 3600000)) {
        f.reason = Reason::quota;
        f.message += " (MDBList's daily API quota is spent; it resets at midnight UTC)";
      }
      return f;
    }
    if (auto left = reply->header_int("x-ratelimit-remaining")) m_remaining = *left;
    if (reply->status == 429 && m_remaining && *m_remaining <= 0) {
      Failure f =
          cwsdk::http::failure_for_status(429, reply->what, reply->retry_after_ms().value_or(-1));
      f.reason = Reason::quota;
      std::string limit = reply->header("x-ratelimit-limit").value_or("?");
      f.message = reply->what + ": MDBList's daily API quota is spent (" + limit +
                  " requests a day); it resets at midnight UTC";
      return f;
    }
    Status st = reply->check();
    if (!st) return st.error();
    return reply;
  }
  Result<Json> call(cwsdk::http::Request r) {
    auto reply = send(std::move(r));
    if (!reply) return reply.error();
    if (reply->body.empty() || reply->status == 204) return Json::object();
    return reply->json();
  }

  static std::optional<int> year_of(const Json& v) {
    if (v.is_number_integer()) {
      const auto y = v.get<std::int64_t>();
      if (y >= 1800 && y <= 3000) return static_cast<int>(y);
    }
    if (v.is_string()) {
      auto y = cwsdk::detail::parse_int_text(v.get<std::string>());
      if (y && *y >= 1800 && *y <= 3000) return static_cast<int>(*y);
    }
    return std::nullopt;
  }

  // A watchlist row: an `ids` object and/or flat fields (id = TMDb id, imdb_id, tvdb_id).
  static Result<Item> watchlist_item(const Json& row, const std::string& bucket) {
    if (!row.is_object()) return Failure::internal("a row is not an object");
    Item it;
    it.type = bucket == "movies" ? ItemType::movie : ItemType::show;
    it.title = cwsdk::get_or<std::string>(row, "/title", "");
    if (const Json* y = cwsdk::find(row, "/release_year"); y != nullptr) it.year = year_of(*y);
    if (const Json* ids = cwsdk::find(row, "/ids"); ids != nullptr && ids->is_object())
      it.ids = Ids::from_json(*ids);
    for (const auto& [field, kind] : std::vector<std::pair<const char*, const char*>>{
             {"/id", "tmdb"}, {"/imdb_id", "imdb"}, {"/tvdb_id", "tvdb"}, {"/tmdb_id", "tmdb"}}) {
      if (it.ids.has(kind)) continue;
      if (const Json* v = cwsdk::find(row, field); v != nullptr) (void)it.ids.set(kind, *v);
    }
    if (it.ids.empty()) return Failure::internal("'" + it.title + "' has no ids");
    return it;
  }

  static Result<cwsdk::ShowRef> media_of(const Json& row, const char* key) {
    const Json* m = cwsdk::find(row, std::string("/") + key);
    if (m == nullptr || !m->is_object())
      return Failure::internal(std::string("a row has no '") + key + "' object");
    cwsdk::ShowRef ref;
    ref.title = cwsdk::get_or<std::string>(*m, "/title", "");
    if (const Json* y = cwsdk::find(*m, "/year"); y != nullptr) ref.year = year_of(*y);
    if (const Json* ids = cwsdk::find(*m, "/ids"); ids != nullptr && ids->is_object())
      ref.ids = Ids::from_json(*ids);
    if (ref.ids.empty()) return Failure::internal("'" + ref.title + "' has no ids");
    return ref;
  }

  // A /sync/ratings or /sync/watched row.
  static Result<Item> sync_item(const std::string& feature, const Json& row,
                                const std::string& bucket) {
    if (!row.is_object()) return Failure::internal("a row is not an object");
    Item it;
    if (bucket == "movies") {
      auto m = media_of(row, "movie");
      if (!m) return m.error();
      it = cwsdk::make_movie(m->title, m->year);
      it.ids = m->ids;
    } else {
      auto s = media_of(row, "show");
      if (!s) return s.error();
      if (bucket == "shows") {
        it = cwsdk::make_show(s->title, s->year);
        it.ids = s->ids;
      } else if (bucket == "seasons") {
        auto n = cwsdk::get<std::int64_t>(row, "/season/number");
        if (!n || *n < 0) return Failure::internal("a season row has no season number");
        it = cwsdk::make_season(*s, static_cast<int>(*n));
      } else {
        auto sn = cwsdk::get<std::int64_t>(row, "/episode/season");
        auto en = cwsdk::get<std::int64_t>(row, "/episode/number");
        if (!sn || !en || *sn < 0 || *en < 0)
          return Failure::internal("an episode row of '" + s->title + "' has no season/number");
        it = cwsdk::make_episode(*s, static_cast<int>(*sn), static_cast<int>(*en));
      }
    }
    if (feature == "ratings") {
      auto native = cwsdk::get<double>(row, "/rating");
      if (!native) return Failure::internal("a rating row: " + native.error().message);
      auto r = cwsdk::from_scale(*native, k_scale);
      if (!r) return Failure::internal("rating " + std::to_string(*native) + " is outside 1..10");
      it.rating = *r;
      if (auto at = cwsdk::parse_rfc3339(cwsdk::get_or<std::string>(row, "/rated_at", "")))
        it.rated_at = *at;
      return it;
    }
    const std::string when = cwsdk::get_or<std::string>(
        row, "/watched_at", cwsdk::get_or<std::string>(row, "/last_watched_at", ""));
    auto at = cwsdk::parse_rfc3339(when);
    if (!at) return Failure::internal("a play without a readable watched_at");
    it.watched_at = *at;
    if (const Json* id = cwsdk::find(row, "/id"); id != nullptr && id->is_number_integer())
      it.extra = Json{{"play_id", id->get<std::int64_t>()}};
    return it;
  }

  // ---------------------------------------------------------------- writes
  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req = cwsdk::read_write_request(request, op, {"watchlist", "ratings", "history"});
    if (!req) return req.error().reply();
    const std::string& feature = req->feature;
    if (op == "update" && feature != "ratings")
      return Failure::of(CW_STATUS_UNSUPPORTED, "mdblist updates only ratings").reply();
    cwsdk::Outcomes outcomes;
    std::vector<const Item*> items;
    for (const Item& it : req->items) {
      const Ids& ids =
          (it.type == ItemType::movie || it.type == ItemType::show) ? it.ids : it.show.ids;
      const bool show_like = it.type != ItemType::movie;
      if (id_object(ids, show_like).empty() && !(feature == "history" && op == "remove")) {
        outcomes.unresolved(it.key, Reason::not_found,
                            "no id MDBList can match (imdb, tmdb, tvdb, trakt)");
        continue;
      }
      if ((it.type == ItemType::season && !it.season) ||
          (it.type == ItemType::episode && (!it.season || !it.episode))) {
        outcomes.unresolved(it.key, Reason::rejected, "a season or episode without its number");
        continue;
      }
      if (feature == "ratings" && op != "remove" &&
          (!it.rating || !cwsdk::to_scale(*it.rating, k_scale))) {
        outcomes.unresolved(it.key, Reason::rejected, "no rating on 0..10");
        continue;
      }
      if (feature == "history" && op == "add" && !it.watched_at) {
        outcomes.unresolved(it.key, Reason::rejected, "a play without watched_at");
        continue;
      }
      items.push_back(&it);
    }
    if (!items.empty()) {
      Status st = feature == "watchlist" ? watchlist_write(items, op == "add", outcomes)
                  : feature == "ratings" ? ratings_write(items, op != "remove", outcomes)
                  : op == "add"          ? history_add(items, outcomes)
                                         : history_remove(items, outcomes);
      if (!st) {
        // The day's quota is an account limit: every item of the request is unresolved
        // with that reason (the host reports them each run); anything else fails the call.
        if (st.error().reason != Reason::quota) return st.error().reply();
        for (const Item* it : items) outcomes.failed(it->key, st.error());
      }
    }
    return outcomes.reply(*req);
  }

  static const char* bucket_of(ItemType t) {
    switch (t) {
      case ItemType::movie:
        return "movies";
      case ItemType::show:
        return "shows";
      case ItemType::season:
        return "seasons";
      case ItemType::episode:
        return "episodes";
    }
    return "movies";
  }

  void map_reply(const cwsdk::BatchMapper& batch, const Json& reply, const cwsdk::BatchShape& shape,
                 cwsdk::Outcomes& outcomes, const char* what) const {
    if (auto m = batch.map(reply, shape, outcomes); !m)
      m_host.warn(std::string("mdblist ") + what + ": " + m.error().message);
  }

  Status watchlist_write(const std::vector<const Item*>& items, bool adding,
                         cwsdk::Outcomes& outcomes) {
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    for (const Item* it : items) {
      const char* bucket = bucket_of(it->type);
      body[bucket].push_back(id_object(it->ids, it->type != ItemType::movie));
      batch.sent(it->key, bucket, it->ids);
    }
    auto reply =
        call(cwsdk::http::Request::post(adding ? "/watchlist/items/add" : "/watchlist/items/remove")
                 .json(body));
    if (!reply) return reply.error();
    cwsdk::BatchShape shape = adding ? cwsdk::BatchShape::added() : cwsdk::BatchShape::deleted();
    if (!adding && cwsdk::find(*reply, "/deleted") == nullptr &&
        cwsdk::find(*reply, "/removed") != nullptr)
      shape.done = "removed";
    map_reply(batch, *reply, shape, outcomes, "watchlist");
    return {};
  }

  // {"ids": show ids, "seasons": [{"number": s, ["rating"], "episodes": [...]}]}
  static Json sync_entry(const Item& it, const Json& leaf) {
    if (it.type == ItemType::movie || it.type == ItemType::show) {
      Json e = {{"ids", id_object(it.ids, it.type == ItemType::show)}};
      e.update(leaf);
      return e;
    }
    Json season = {{"number", *it.season}};
    if (it.type == ItemType::season) {
      season.update(leaf);
    } else {
      Json ep = {{"number", *it.episode}};
      ep.update(leaf);
      season["episodes"] = Json::array({ep});
    }
    return {{"ids", id_object(it.show.ids, true)}, {"seasons", Json::array({season})}};
  }

  static Ids sent_ids(const Item& it) {
    return it.type == ItemType::movie || it.type == ItemType::show ? it.ids : it.show.ids;
  }

  Status ratings_write(const std::vector<const Item*>& items, bool rating,
                       cwsdk::Outcomes& outcomes) {
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    for (const Item* it : items) {
      Json leaf = Json::object();
      if (rating) {
        leaf["rating"] = static_cast<int>(std::lround(*cwsdk::to_scale(*it->rating, k_scale)));
        if (it->rated_at) leaf["rated_at"] = cwsdk::format_rfc3339(*it->rated_at);
      }
      body[it->type == ItemType::movie ? "movies" : "shows"].push_back(sync_entry(*it, leaf));
      batch.sent(it->key, bucket_of(it->type), sent_ids(*it));
    }
    auto reply = call(
        cwsdk::http::Request::post(rating ? "/sync/ratings" : "/sync/ratings/remove").json(body));
    if (!reply) return reply.error();
    if (!rating) {
      map_reply(batch, *reply, cwsdk::BatchShape{"removed", "", "not_found", true}, outcomes,
                "ratings");
      return {};
    }
    // "added" and "updated" both mean the rating is now as sent.
    Json mapped = *reply;
    if (reply->is_object() && cwsdk::find(*reply, "/added") != nullptr) {
      mapped = {{"done", Json::object()}, {"not_found", reply->value("not_found", Json())}};
      for (const char* b : {"movies", "shows", "seasons", "episodes"}) {
        const Json* a = cwsdk::find(*reply, std::string("/added/") + b);
        const Json* u = cwsdk::find(*reply, std::string("/updated/") + b);
        if (a == nullptr && u == nullptr) continue;
        if ((a != nullptr && !a->is_number_integer()) || (u != nullptr && !u->is_number_integer()))
          mapped["done"][b] = "no count";
        else
          mapped["done"][b] = (a ? a->get<std::int64_t>() : 0) + (u ? u->get<std::int64_t>() : 0);
      }
    }
    map_reply(batch, mapped, cwsdk::BatchShape{"done", "", "not_found", false}, outcomes,
              "ratings");
    return {};
  }

  Status history_add(const std::vector<const Item*>& items, cwsdk::Outcomes& outcomes) {
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    for (const Item* it : items) {
      const Json leaf = {{"watched_at", cwsdk::format_rfc3339(*it->watched_at)}};
      body[it->type == ItemType::movie ? "movies" : "shows"].push_back(sync_entry(*it, leaf));
      batch.sent(it->key, bucket_of(it->type), sent_ids(*it));
    }
    auto reply = call(cwsdk::http::Request::post("/sync/watched").json(body));
    if (!reply) return reply.error();
    // added: new plays; existing: a play at that very time was already there.
    map_reply(batch, *reply, cwsdk::BatchShape::added(), outcomes, "history");
    return {};
  }

  // Every play (GET /sync/watched?plays=all, all pages); a failed or incomplete read fails.
  Status read_plays(std::vector<Item>& out) {
    cwsdk::Completeness c =
        cwsdk::Pager::offsets(k_page_size)
            .run(m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
              auto doc = call(cwsdk::http::Request::get("/sync/watched")
                                  .query("limit", page.limit)
                                  .query("offset", page.offset)
                                  .query("plays", "all"));
              if (!doc) return doc.error();
              cwsdk::Page p;
              for (const char* bucket : {"movies", "episodes"}) {
                const Json* rows = cwsdk::find(*doc, std::string("/") + bucket);
                if (rows == nullptr || !rows->is_array()) continue;
                p.count += static_cast<std::int64_t>(rows->size());
                for (const Json& row : *rows) {
                  if (auto it = sync_item("history", row, bucket)) out.push_back(std::move(*it));
                }
              }
              if (const Json* more = cwsdk::find(*doc, "/pagination/has_more");
                  more != nullptr && more->is_boolean())
                p.has_more = more->get<bool>();
              return p;
            });
    if (c.failure) return *c.failure;
    if (!c.complete)
      return Failure::of(CW_STATUS_TRANSIENT,
                         "MDBList's plays could not be read whole: " + c.reason);
    return {};
  }

  // Plays are removed by their MDBList play id (read with the index, kept in `extra`):
  // exactly that play, never every play of the title.
  Status history_remove(const std::vector<const Item*>& items, cwsdk::Outcomes& outcomes) {
    Json ids = Json::array();
    std::map<std::int64_t, std::vector<std::string>> keys;
    std::vector<const Item*> unnamed;
    for (const Item* it : items) {
      const Json* id = it->extra.is_object() ? cwsdk::find(it->extra, "/play_id") : nullptr;
      if (id == nullptr || !id->is_number_integer()) {
        unnamed.push_back(it);
        continue;
      }
      const auto n = id->get<std::int64_t>();
      if (!keys.count(n)) ids.push_back(n);
      keys[n].push_back(it->key);
    }
    if (!unnamed.empty()) {
      // Plays sent without their id (another provider's item, a host that dropped
      // `extra`): found in MDBList's plays by title ids, season/episode and a watch time
      // within 60 s (every play of it when no time is given).
      std::vector<Item> plays;
      Status read = read_plays(plays);
      if (!read) return read;
      for (const Item* it : unnamed) {
        bool any = false;
        for (const Item& pl : plays) {
          if (pl.type != it->type || !sent_ids(pl).shares_id_with(sent_ids(*it))) continue;
          if (it->type == ItemType::episode &&
              (pl.season != it->season || pl.episode != it->episode))
            continue;
          if (it->watched_at && pl.watched_at &&
              std::llabs(*pl.watched_at - *it->watched_at) > 60000)
            continue;
          const Json* id = pl.extra.is_object() ? cwsdk::find(pl.extra, "/play_id") : nullptr;
          if (id == nullptr || !id->is_number_integer()) continue;
          const auto n = id->get<std::int64_t>();
          if (!keys.count(n)) ids.push_back(n);
          keys[n].push_back(it->key);
          any = true;
        }
        if (!any) outcomes.skipped(it->key, "MDBList has no such play (already gone)");
      }
    }
    if (ids.empty()) return {};
    auto reply =
        call(cwsdk::http::Request::post("/sync/watched/plays/remove").json({{"play_ids", ids}}));
    if (!reply) return reply.error();
    auto list = [&](const char* name) {
      std::vector<std::int64_t> out;
      if (const Json* l = cwsdk::find(*reply, std::string("/") + name);
          l != nullptr && l->is_array())
        for (const Json& v : *l) {
          if (auto n = cwsdk::detail::to_int64(v)) out.push_back(*n);
        }
      return out;
    };
    // A key is settled when every play it stands for is removed or not found.
    std::map<std::int64_t, int> fate;  // 1 removed, 2 not found
    for (auto n : list("removed")) fate[n] = 1;
    for (auto n : list("not_found")) fate.emplace(n, 2);
    std::map<std::string, std::vector<int>> per_key;
    for (const auto& [n, ks] : keys)
      for (const auto& k : ks) per_key[k].push_back(fate.count(n) ? fate[n] : 0);
    for (const auto& [k, fates] : per_key) {
      if (std::find(fates.begin(), fates.end(), 0) != fates.end())
        outcomes.unresolved(k, Reason::unknown, "not in MDBList's reply");
      else if (std::find(fates.begin(), fates.end(), 1) != fates.end())
        outcomes.confirmed(k);
      else
        outcomes.skipped(k, "MDBList has no such play (already gone)");
    }
    return {};
  }

  cwsdk::Host m_host;
  cwsdk::http::Client m_api;
  std::optional<std::int64_t> m_remaining;
};

}  // namespace mdblist
