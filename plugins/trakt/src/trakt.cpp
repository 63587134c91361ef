#include "trakt.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace trakt {

using cwsdk::Failure;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Reason;
using cwsdk::Reply;
using cwsdk::Result;
using cwsdk::Status;
namespace http = cwsdk::http;

namespace {

constexpr const char* k_token_secret = "token";
constexpr const char* k_cache_prefix = "index-cache/";
constexpr int k_cache_version = 1;
const cwsdk::RatingScale k_scale = cwsdk::RatingScale::trakt();

// FNV-1a 64, as hex: a mark of the configured tokens that holds no secret.
std::string fingerprint(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static const char* k_hex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = k_hex[h & 0xf];
  return out;
}

std::optional<std::int64_t> digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<int> valid_year(const Json& obj) {
  auto y = cwsdk::get_optional<int>(obj, "year");
  if (!y || !*y || **y < 1800 || **y > 3000) return std::nullopt;
  return **y;
}

// The ids cw keeps from a Trakt ids object: trakt, imdb, tmdb, tvdb (slugs are Trakt's own
// spelling of a title and collide across kinds, so they are not offered for matching).
cwsdk::Ids ids_of(const Json& obj) {
  cwsdk::Ids out;
  const Json* ids = cwsdk::find(obj, "ids");
  if (ids == nullptr || !ids->is_object()) return out;
  for (const char* kind : {"trakt", "imdb", "tmdb", "tvdb"}) {
    if (const Json* v = cwsdk::find(*ids, kind)) out.set(kind, *v);
  }
  return out;
}

Result<const Json*> object_member(const Json& row, const char* name) {
  auto v = cwsdk::get_object(row, name);
  if (!v) return Failure::internal(std::string("row: /") + name + ": missing or not an object");
  return *v;
}

Failure page_failure(const std::string& what, const Failure& f) { return f.context(what); }

// Trakt's own statuses the kit's table reads as "rejected": 423 (the account is locked,
// often after a flood of writes) and 426 (a VIP-only feature) stop the instance with a
// message that says what to do, instead of failing item by item.
Failure trakt_failure(Failure f) {
  if (f.http_status == 423) {
    f.status = CW_STATUS_AUTH;
    f.message += ": Trakt has locked this account; contact Trakt support (https://trakt.tv)";
  } else if (f.http_status == 426) {
    f.status = CW_STATUS_UNSUPPORTED;
    f.message += ": this needs a Trakt VIP account";
  }
  return f;
}

template <typename T>
Result<T> trakt_result(Result<T> r) {
  if (r) return r;
  return trakt_failure(r.error());
}

std::string feature_path(const std::string& feature) {
  if (feature == "watchlist") return "/sync/watchlist";
  if (feature == "history") return "/sync/history";
  if (feature == "ratings") return "/sync/ratings";
  return "/sync/playback";
}

bool wanted_type(const std::string& feature, ItemType t) {
  if (feature == "watchlist") return t == ItemType::movie || t == ItemType::show;
  if (feature == "history" || feature == "progress")
    return t == ItemType::movie || t == ItemType::episode;
  return true;  // ratings: all four
}

}  // namespace

std::int64_t floor_minute(std::int64_t ms) {
  std::int64_t m = ms / 60000;
  if (ms < 0 && ms % 60000 != 0) --m;
  return m * 60000;
}

Json write_ids(const cwsdk::Ids& ids) {
  Json out = Json::object();
  for (const char* kind : {"trakt", "tmdb", "tvdb"}) {
    if (auto v = ids.get(kind)) {
      if (auto n = digits(*v)) out[kind] = *n;
    }
  }
  if (auto v = ids.get("imdb")) out["imdb"] = *v;
  if (auto v = ids.get("slug")) out["slug"] = *v;
  return out;
}

Result<Item> item_from_row(const Json& row, std::string_view feature) {
  if (!row.is_object()) return Failure::internal("row: not an object");
  auto type = cwsdk::get<std::string>(row, "type");
  if (!type) return Failure::internal("row: /type: " + type.error().message);
  Item it;
  if (*type == "movie" || *type == "show") {
    auto media = object_member(row, type->c_str());
    if (!media) return media.error();
    it.type = *type == "movie" ? ItemType::movie : ItemType::show;
    it.title = cwsdk::get_or(**media, "title", "");
    it.year = valid_year(**media);
    it.ids = ids_of(**media);
  } else if (*type == "season" || *type == "episode") {
    auto media = object_member(row, type->c_str());
    if (!media) return media.error();
    auto show = object_member(row, "show");
    if (!show) return show.error();
    cwsdk::ShowRef ref{cwsdk::get_or(**show, "title", ""), valid_year(**show), ids_of(**show)};
    if (*type == "season") {
      auto number = cwsdk::get<int>(**media, "number");
      if (!number || *number < 0) return Failure::internal("row: /season/number: missing");
      it = cwsdk::make_season(std::move(ref), *number);
    } else {
      auto season = cwsdk::get<int>(**media, "season");
      auto number = cwsdk::get<int>(**media, "number");
      if (!season || !number || *season < 0 || *number < 0)
        return Failure::internal("row: /episode: season or number missing");
      it = cwsdk::make_episode(std::move(ref), *season, *number);
      it.title = cwsdk::get_or(**media, "title", "");
      const int abs = cwsdk::get_or(**media, "number_abs", 0);
      if (abs >= 1) it.absolute_episode = abs;
    }
    it.ids = ids_of(**media);
  } else {
    return Failure::internal("row: /type: '" + *type + "' is not movie, show, season or episode");
  }
  if (it.ids.empty() && it.show.ids.empty())
    return Failure::internal("row: " + *type + " '" + it.title + "' has no ids");

  if (feature == "history") {
    auto id = cwsdk::get<std::int64_t>(row, "id");
    if (!id) return Failure::internal("row: /id (the history id): " + id.error().message);
    auto at = cwsdk::get<std::string>(row, "watched_at");
    if (!at) return Failure::internal("row: /watched_at: " + at.error().message);
    it.watched_at = cwsdk::parse_rfc3339(*at);
    if (!it.watched_at) return Failure::internal("row: /watched_at: '" + *at + "' is no time");
    it.extra = Json{{"history_id", *id}};
  } else if (feature == "ratings") {
    auto r = cwsdk::get<int>(row, "rating");
    if (!r || *r < 1 || *r > 10) return Failure::internal("row: /rating: not an integer 1-10");
    it.rating = cwsdk::from_scale(*r, k_scale);
    if (auto at = cwsdk::get_optional<std::string>(row, "rated_at"); at && *at)
      it.rated_at = cwsdk::parse_rfc3339(**at);
  } else if (feature == "progress") {
    auto id = cwsdk::get<std::int64_t>(row, "id");
    if (!id) return Failure::internal("row: /id (the playback id): " + id.error().message);
    auto pct = cwsdk::get<double>(row, "progress");
    if (!pct || !std::isfinite(*pct) || *pct < 0 || *pct > 100)
      return Failure::internal("row: /progress: not a percentage");
    it.progress_percent = std::round(*pct * 100.0) / 100.0;
    if (auto at = cwsdk::get_optional<std::string>(row, "paused_at"); at && *at)
      it.progress_at = cwsdk::parse_rfc3339(**at);
    const Json* media = cwsdk::find(row, *type);
    const int runtime = media != nullptr ? cwsdk::get_or(*media, "runtime", 0) : 0;
    // Trakt stores a percentage only; progress_ms is left out so that cw compares fractions
    // (a millisecond figure made from Trakt's whole-minute runtime would differ from the
    // other side's by more than cw's 30 s threshold and never settle). The runtime still
    // gives the duration, for targets that store milliseconds.
    if (runtime > 0) it.duration_ms = static_cast<std::int64_t>(runtime) * 60000;
    it.extra = Json{{"playback_id", *id}};
  }
  if (Status ok = it.check(); !ok) return ok.error();
  return it;
}

// ---------------------------------------------------------------- configuration

Config Config::parse(std::string_view text) {
  const Json cfg = Json::parse(text.begin(), text.end(), nullptr, false);
  if (!cfg.is_object())
    throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration: expected a JSON object");
  Config c;
  auto url = cwsdk::get_optional<std::string>(cfg, "url");
  if (!url) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "url: " + url.error().message);
  if (*url && !(*url)->empty()) c.url = **url;
  while (!c.url.empty() && c.url.back() == '/') c.url.pop_back();
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
    throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                       "url: '" + c.url + "' is not an http(s) URL, e.g. https://api.trakt.tv");
  auto id = cwsdk::get<std::string>(cfg, "client_id");
  if (!id || id->empty())
    throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                       "client_id: required: the Client ID of your Trakt API application "
                       "(https://trakt.tv/oauth/applications)");
  c.client_id = *id;
  c.has_client_secret = cwsdk::find(cfg, "client_secret") != nullptr;
  c.has_tokens = cwsdk::find(cfg, "access_token") != nullptr;
  if (auto n = cwsdk::get_optional<int>(cfg, "page_limit"); !n) {
    throw cwsdk::Error(CW_STATUS_INVALID_ARG, "page_limit: " + n.error().message);
  } else if (*n) {
    if (**n < 1 || **n > 250)
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "page_limit: must be 1..250 (Trakt's maximum)");
    c.page_limit = **n;
  }
  if (auto h = cwsdk::get_optional<double>(cfg, "index_cache_hours"); !h) {
    throw cwsdk::Error(CW_STATUS_INVALID_ARG, "index_cache_hours: " + h.error().message);
  } else if (*h) {
    if (!std::isfinite(**h) || **h < 0)
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "index_cache_hours: must be 0 or more");
    c.cache_hours = **h;
  }
  return c;
}

// ---------------------------------------------------------------- tokens
//
// Where the token comes from: the token store (secret "token", written by `cw auth login`
// and by every refresh) or the configuration (access_token, refresh_token). Trakt's refresh
// tokens are single use, so once a configured pair was refreshed the stored pair must win
// over the configured one, which is spent; but when the user puts a new pair into the
// configuration, that one must win. The stored token carries a mark (a hash, no secret) of
// the configured tokens it replaced: the stored token is used while the configuration still
// holds the same tokens (or none), the configured ones as soon as they differ.

TraktAuth::TraktAuth(cwsdk::Host host, std::string base_url, std::string client_id,
                     bool config_tokens)
    : m_host(host),
      m_base(std::move(base_url)),
      m_client_id(std::move(client_id)),
      m_config_tokens(config_tokens) {}

std::string TraktAuth::config_mark() const {
  if (!m_config_tokens) return {};
  const std::string access = m_host.secret("access_token").value_or("");
  const std::string refresh = m_host.secret("refresh_token").value_or("");
  if (access.empty() && refresh.empty()) return {};
  return fingerprint(access + "\n" + refresh);
}

std::string TraktAuth::client_secret() const { return m_host.secret("client_secret").value_or(""); }

Status TraktAuth::load() {
  const std::string mark = config_mark();
  std::optional<cwsdk::Token> stored;
  std::string stored_mark;
  if (auto text = m_host.secret(k_token_secret); text && !text->empty()) {
    const Json doc = Json::parse(*text, nullptr, false);
    if (doc.is_object()) {
      if (auto t = cwsdk::Token::from_reply(doc, m_host.now_ms())) {
        stored = std::move(*t);
        stored_mark = cwsdk::get_or(doc, "config_mark", "");
      }
    }
  }
  if (stored && (mark.empty() || stored_mark == mark)) {
    m_token = std::move(stored);
    return {};
  }
  if (!mark.empty()) {
    cwsdk::Token t;
    t.access_token = m_host.secret("access_token").value_or("");
    t.refresh_token = m_host.secret("refresh_token").value_or("");
    if (!t.access_token.empty() || !t.refresh_token.empty()) {
      m_token = std::move(t);
      return {};
    }
  }
  return Failure::of(CW_STATUS_AUTH,
                     "no Trakt token: run `cw auth login <instance>` or set access_token and "
                     "refresh_token in the configuration");
}

Status TraktAuth::store(const cwsdk::Token& token) {
  Json doc = token.to_json();
  doc["config_mark"] = config_mark();
  if (token.expires_at_ms) doc["expires_at"] = *token.expires_at_ms / 1000;
  const cw_status st = m_host.put_secret(k_token_secret, doc.dump());
  if (st != CW_STATUS_OK)
    return Failure::internal("the host could not store the renewed Trakt token (status " +
                             std::string(cwsdk::status_name(st)) + ")");
  return {};
}

Status TraktAuth::adopt(const cwsdk::Token& token) {
  m_token = token;
  return store(token);
}

Status TraktAuth::authorize(http::Request& request) {
  if (!m_token) {
    if (Status st = load(); !st) return st;
  }
  if (m_token->expires_within(m_host.now_ms(), 60000) && !m_token->refresh_token.empty()) {
    if (Status st = refresh(); !st) return st;
  }
  if (m_token->access_token.empty()) {
    if (Status st = refresh(); !st) return st;
  }
  request.header("Authorization", "Bearer " + m_token->access_token);
  return {};
}

Status TraktAuth::refresh() {
  if (!m_token) {
    if (Status st = load(); !st) return st;
  }
  if (m_token->refresh_token.empty())
    return Failure::of(CW_STATUS_AUTH,
                       "the Trakt access token was refused and there is no refresh token: run "
                       "`cw auth login <instance>`");
  const std::string secret = client_secret();
  if (secret.empty())
    return Failure::of(CW_STATUS_AUTH,
                       "the Trakt access token expired and client_secret is not configured, so "
                       "it cannot be renewed: add client_secret or run `cw auth login <instance>`");
  // A refresh changes none of the account's data, and a rotated token must not be lost in a
  // dry run either (put_secret stores it then too): it is sent as a read.
  auto reply = http::send(m_host,
                          http::Request::post("/oauth/token")
                              .json({{"refresh_token", m_token->refresh_token},
                                     {"client_id", m_client_id},
                                     {"client_secret", secret},
                                     {"redirect_uri", "urn:ietf:wg:oauth:2.0:oob"},
                                     {"grant_type", "refresh_token"}})
                              .header("trakt-api-version", "2")
                              .header("trakt-api-key", m_client_id)
                              .read(true),
                          m_base);
  if (!reply) return reply.error();
  if (reply->status == 400 || reply->status == 401 || reply->status == 403)
    return Failure::of(CW_STATUS_AUTH,
                       "Trakt refused the refresh token (HTTP " + std::to_string(reply->status) +
                           "; refresh tokens are single use): run `cw auth login <instance>`");
  if (Status st = reply->check(); !st) return st.error();
  auto doc = reply->json();
  if (!doc) return doc.error();
  auto token = cwsdk::Token::from_reply(*doc, m_host.now_ms());
  if (!token) return token.error();
  if (token->refresh_token.empty()) token->refresh_token = m_token->refresh_token;
  m_token = *token;
  return store(*token);
}

// ---------------------------------------------------------------- the provider

const char* Trakt::manifest() {
  return R"json({
    "name": "trakt",
    "version": "1.0.0",
    "display_name": "Trakt",
    "description": "Trakt (trakt.tv): watchlist, history (one item per play, removed by history id), ratings (1-10) and playback progress, with device-code sign-in, paged reads, batched writes with exact outcomes and /sync/last_activities change detection.",
    "features": {
      "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                    "remove": true, "observes_deletes": true, "provides_ids": true,
                    "id_kinds": ["trakt", "imdb", "tmdb", "tvdb"],
                    "chunk_size": 100, "page_size": 100},
      "history": {"types": ["movie", "episode"], "index_semantics": "present", "add": true,
                  "remove": true, "observes_deletes": true, "provides_ids": true,
                  "id_kinds": ["trakt", "imdb", "tmdb", "tvdb"],
                  "chunk_size": 100, "page_size": 100, "writes_watch_date": true,
                  "rewatches": true},
      "ratings": {"types": ["movie", "show", "season", "episode"], "index_semantics": "present",
                  "add": true, "remove": true, "update": true, "observes_deletes": true,
                  "provides_ids": true, "id_kinds": ["trakt", "imdb", "tmdb", "tvdb"],
                  "chunk_size": 100, "page_size": 100, "stores_rated_at": true,
                  "rating_scale": {"min": 1, "max": 10, "step": 1}},
      "progress": {"types": ["movie", "episode"], "index_semantics": "present", "add": true,
                   "remove": true, "update": true, "observes_deletes": true,
                   "provides_ids": true, "id_kinds": ["trakt", "imdb", "tmdb", "tvdb"],
                   "chunk_size": 20, "page_size": 100, "progress_unit": "percent"}
    },
    "rate_limits": [
      {"name": "AUTHED_API_GET_LIMIT", "methods": ["GET"], "requests": 500, "per_seconds": 300},
      {"name": "AUTHED_API_POST_LIMIT", "methods": ["POST", "PUT", "DELETE"], "requests": 1,
       "per_seconds": 1}
    ],
    "capabilities": {"auth": "device_code", "scrobble": true},
    "secrets": ["client_secret", "access_token", "refresh_token"],
    "config": {
      "type": "object",
      "required": ["client_id"],
      "properties": {
        "url": {"type": "string", "description": "API base URL (default https://api.trakt.tv)"},
        "client_id": {"type": "string", "minLength": 1, "description": "Client ID of your Trakt API application"},
        "client_secret": {"type": "string", "description": "Client secret of the application (needed for sign-in and token renewal); write it as ${env:TRAKT_CLIENT_SECRET}"},
        "access_token": {"type": "string", "description": "an access token, when not signing in with cw auth login"},
        "refresh_token": {"type": "string", "description": "its refresh token (single use; cw stores the renewed pair)"},
        "page_limit": {"type": "integer", "minimum": 1, "maximum": 250, "description": "entries per page (default 100)"},
        "index_cache_hours": {"type": "number", "minimum": 0, "description": "serve an index from the copy kept by cw while /sync/last_activities shows no change, at most this many hours (default 24, 0: never)"}
      },
      "additionalProperties": false
    }
  })json";
}

Trakt::Trakt(cwsdk::Host host, std::string_view config)
    : m_host(host),
      m_cfg(Config::parse(config)),
      m_plain(host, m_cfg.url),
      m_auth(host, m_cfg.url, m_cfg.client_id, m_cfg.has_tokens),
      m_api(host, m_cfg.url),
      m_login(host, k_token_secret) {
  for (http::Client* c : {&m_plain, &m_api}) {
    c->header("trakt-api-version", "2")
        .header("trakt-api-key", m_cfg.client_id)
        .header("Accept", "application/json");
  }
  m_api.authenticator(&m_auth);
}

Reply Trakt::health(std::string_view request) {
  if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
  auto me = trakt_result(m_api.json(http::Request::get("/users/settings")));
  if (!me) return cwsdk::HealthReply::from_failure(me.error()).reply();
  const std::string user = cwsdk::get_or(*me, "/user/username", "an unnamed user");
  cwsdk::HealthReply h(cwsdk::HealthStatus::ok, "signed in to Trakt as " + user);
  for (const char* f : {"watchlist", "history", "ratings", "progress"}) h.feature(f, true);
  if (auto cap = cwsdk::get_optional<std::int64_t>(*me, "/limits/watchlist/item_count");
      cap && *cap && **cap > 0)
    h.capability("watchlist", "max_items", **cap);
  return h.reply();
}

// ----- change detection

std::optional<std::string> Trakt::activity_stamp(const std::string& feature, Failure& auth) {
  auto doc = trakt_result(m_api.json(http::Request::get("/sync/last_activities")));
  if (!doc) {
    if (doc.error().status == CW_STATUS_AUTH || doc.error().status == CW_STATUS_CANCELLED)
      auth = doc.error();
    else
      m_host.debug("trakt: /sync/last_activities unavailable (" + doc.error().message +
                   "); reading " + feature + " in full");
    return std::nullopt;
  }
  std::vector<const char*> fields;
  if (feature == "watchlist")
    fields = {"/watchlist/updated_at", "/movies/watchlisted_at", "/shows/watchlisted_at"};
  else if (feature == "history")
    fields = {"/movies/watched_at", "/episodes/watched_at"};
  else if (feature == "ratings")
    fields = {"/movies/rated_at", "/shows/rated_at", "/seasons/rated_at", "/episodes/rated_at"};
  else
    fields = {"/movies/paused_at", "/episodes/paused_at"};
  std::string stamp;
  for (const char* f : fields) {
    auto v = cwsdk::get<std::string>(*doc, f);
    if (!v || v->empty()) return std::nullopt;
    stamp += (stamp.empty() ? "" : "|") + *v;
  }
  return stamp;
}

std::optional<std::vector<Item>> Trakt::cached_index(const std::string& feature,
                                                     const std::string& stamp) {
  if (m_cfg.cache_hours <= 0) return std::nullopt;
  auto text = m_host.kv_get(k_cache_prefix + feature);
  if (!text || text->empty()) return std::nullopt;
  const Json doc = Json::parse(*text, nullptr, false);
  if (!doc.is_object() || cwsdk::get_or(doc, "v", 0) != k_cache_version ||
      cwsdk::get_or(doc, "stamp", "") != stamp)
    return std::nullopt;
  const auto saved = cwsdk::get_or<std::int64_t>(doc, "saved_ms", 0);
  const auto age = m_host.now_ms() - saved;
  if (saved <= 0 || age < 0 || static_cast<double>(age) > m_cfg.cache_hours * 3600000.0)
    return std::nullopt;
  const Json* items = cwsdk::find(doc, "items");
  if (items == nullptr || !items->is_array()) return std::nullopt;
  std::vector<Item> out;
  out.reserve(items->size());
  for (const Json& j : *items) {
    auto it = Item::from_json(j);
    if (!it) return std::nullopt;  // a damaged copy is never served
    out.push_back(std::move(*it));
  }
  return out;
}

void Trakt::store_cache(const std::string& feature, const std::string& stamp,
                        const std::vector<Json>& items) {
  if (m_cfg.cache_hours <= 0) return;
  Json doc{
      {"v", k_cache_version}, {"stamp", stamp}, {"saved_ms", m_host.now_ms()}, {"items", items}};
  m_host.kv_put(k_cache_prefix + feature, doc.dump());
}

void Trakt::drop_cache(const std::string& feature) { m_host.kv_put(k_cache_prefix + feature, ""); }

// ----- reading

template <typename Sink>
Trakt::Read Trakt::read_pages(const std::string& path, bool full, Sink&& sink) {
  Read read;
  read.completeness =
      cwsdk::Pager::page_numbers(m_cfg.page_limit)
          .run(m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
            http::Request req = http::Request::get(path);
            req.query("page", page.number).query("limit", page.limit);
            if (full) req.query("extended", "full");
            auto reply = trakt_result(m_api.fetch(std::move(req)));
            if (!reply) return reply.error();
            auto doc = reply->json();
            if (!doc) return doc.error();
            if (!doc->is_array())
              return Failure::internal("GET " + path + ": expected a JSON array, got " +
                                       std::string(cwsdk::detail::json_type_name(*doc)));
            for (const Json& row : *doc) {
              if (!sink(row)) ++read.left_out;
            }
            return cwsdk::pagination_headers(*reply, static_cast<std::int64_t>(doc->size()));
          });
  return read;
}

Reply Trakt::build_index(std::string_view request, cwsdk::Output& out) {
  auto req = cwsdk::read_index_request(request, {"watchlist", "history", "ratings", "progress"});
  if (!req) return req.error().reply();
  const std::string feature = req->feature;

  Failure auth;
  const std::optional<std::string> stamp = activity_stamp(feature, auth);
  if (auth.status == CW_STATUS_AUTH || auth.status == CW_STATUS_CANCELLED) return auth.reply();

  cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
  if (stamp) {
    if (auto cached = cached_index(feature, *stamp)) {
      // Trakt says nothing changed since the copy was read (complete, every page): the copy
      // is the account's state, and the index is as complete as that read was.
      for (const Item& it : *cached) (void)index.add(it);
      m_host.debug("trakt: " + feature + " unchanged since the last read (last_activities " +
                   *stamp + "): " + std::to_string(cached->size()) + " items from the stored copy");
      return index.finish_whole(std::nullopt, static_cast<std::int64_t>(cached->size()));
    }
  }

  std::vector<Json> kept;
  const bool cache = stamp.has_value() && m_cfg.cache_hours > 0;
  Read read = read_pages(feature_path(feature), feature == "progress", [&](const Json& row) {
    auto item = item_from_row(row, feature);
    if (!item) {
      m_host.warn("trakt: a " + feature + " row was left out: " + item.error().message);
      return false;
    }
    if (!wanted_type(feature, item->type)) return true;  // a kind this feature does not sync
    if (Status st = index.add(*item); !st) {
      m_host.warn("trakt: a " + feature + " row was left out: " + st.error().message);
      return true;  // counted by the writer (refused), which makes the index incomplete
    }
    if (cache) kept.push_back(item->to_json());
    return true;
  });
  cwsdk::Completeness& c = read.completeness;
  if (c.failure && index.received() == 0 && index.refused() == 0 && read.left_out == 0)
    return index.fail(page_failure(feature + " index", *c.failure));
  if (read.left_out > 0 && c.complete) {
    c.complete = false;
    c.reason = std::to_string(read.left_out) + " rows could not be read";
  }
  if (!c.complete && !c.reason.empty())
    m_host.warn("trakt: " + feature + " index incomplete: " + c.reason);
  if (c.complete && !c.failure && index.refused() == 0 && cache) store_cache(feature, *stamp, kept);
  return index.finish(c);
}

// The feature's current items in memory (the stored copy when nothing changed): for
// removals that arrive without the id the index gave (history id, playback id).
Trakt::Snapshot Trakt::snapshot(const std::string& feature) {
  Snapshot snap;
  Failure auth;
  const std::optional<std::string> stamp = activity_stamp(feature, auth);
  if (auth.status == CW_STATUS_AUTH || auth.status == CW_STATUS_CANCELLED) {
    snap.failure = auth;
    return snap;
  }
  if (stamp) {
    if (auto cached = cached_index(feature, *stamp)) {
      snap.items = std::move(*cached);
      snap.complete = true;
      return snap;
    }
  }
  Read read = read_pages(feature_path(feature), feature == "progress", [&](const Json& row) {
    auto item = item_from_row(row, feature);
    if (!item) return false;
    if (wanted_type(feature, item->type)) snap.items.push_back(std::move(*item));
    return true;
  });
  snap.complete = read.completeness.complete && read.left_out == 0;
  if (read.completeness.failure) snap.failure = read.completeness.failure;
  return snap;
}

namespace {

// Whether an index item is the item a write request names (same type; a shared id, or for
// an episode the show's ids and the numbers, which Trakt gets right more often).
bool same_item(const Item& want, const Item& have) {
  if (want.type != have.type) return false;
  if (want.type == ItemType::episode && !want.show.ids.empty() && !have.show.ids.empty() &&
      want.season && want.episode) {
    return want.show.ids.shares_id_with(have.show.ids) && want.season == have.season &&
           want.episode == have.episode;
  }
  return want.ids.shares_id_with(have.ids);
}

// The id `name` in an item's extra, as digits; nullopt when there is none.
std::optional<std::string> extra_id(const Item& it, const char* name) {
  const Json* id = it.extra.is_object() ? cwsdk::find(it.extra, name) : nullptr;
  auto text = id != nullptr ? cwsdk::id_text(*id) : std::nullopt;
  if (!text || !digits(*text)) return std::nullopt;
  return text;
}

}  // namespace

// Finds the Trakt id (`extra_name` in the index items' extra) of each item of `req` that
// arrived without one: the play of that minute (history) or the entry (progress). An item
// it cannot find is answered here: skipped when the read was complete (Trakt has no such
// entry), unknown otherwise.
std::map<std::string, std::string> Trakt::find_ids(const cwsdk::WriteRequest& req,
                                                   const char* extra_name,
                                                   cwsdk::Outcomes& outcomes) {
  std::map<std::string, std::string> found;  // key -> id
  std::set<std::string> taken;
  std::vector<const Item*> missing;
  for (const Item& it : req.items) {
    if (auto id = extra_id(it, extra_name)) {
      taken.insert(*id);
      found[it.key] = *id;
    } else {
      missing.push_back(&it);
    }
  }
  if (missing.empty()) return found;
  const Snapshot snap = snapshot(req.feature);
  for (const Item* want : missing) {
    std::optional<std::string> hit;
    for (const Item& have : snap.items) {
      if (!same_item(*want, have)) continue;
      if (req.feature == "history") {
        if (!want->watched_at || !have.watched_at ||
            std::llabs(floor_minute(*want->watched_at) - *have.watched_at) >= 60000)
          continue;
      }
      auto id = extra_id(have, extra_name);
      if (!id || taken.count(*id)) continue;
      hit = id;
      break;
    }
    if (hit) {
      taken.insert(*hit);
      found[want->key] = *hit;
    } else if (snap.complete && !snap.failure) {
      outcomes.skipped(want->key, "Trakt has no such entry (already removed)");
    } else {
      outcomes.unresolved(want->key, Reason::unknown,
                          "its Trakt id is unknown and the " + req.feature +
                              " could not be read in full to find it" +
                              (snap.failure ? ": " + snap.failure->message : std::string()));
    }
  }
  return found;
}

// ----- writing

namespace {

// Where one item goes in a Trakt sync body, and how the reply will name it.
struct Placed {
  std::string bucket;  // the reply's count bucket: movies, shows, seasons, episodes
  cwsdk::Ids match;    // what BatchMapper matches not_found entries with
};

// The key a show-scoped season or episode is matched by: the show's ids as sent, and the
// numbers. Trakt echoes a show-scoped entry it could not find inside not_found.shows.
std::string scope_key(const Json& show_ids, int season, std::optional<int> episode) {
  std::string k = cwsdk::Ids::from_json(show_ids).to_json().dump() + "#" + std::to_string(season);
  if (episode) k += "#" + std::to_string(*episode);
  return k;
}

bool has_strong_own_id(const Item& it) {
  return it.ids.has("trakt") || (it.type == ItemType::season && it.ids.has("tvdb"));
}

// The per-item fields of a write: watched_at (history), rating (ratings).
Result<Json> attributes(const Item& it, const std::string& feature) {
  Json a = Json::object();
  if (feature == "history") {
    if (!it.watched_at) return Failure::invalid_arg("a play without watched_at");
    a["watched_at"] = cwsdk::format_rfc3339(floor_minute(*it.watched_at));
  } else if (feature == "ratings") {
    if (!it.rating) return Failure::invalid_arg("no rating to write");
    auto steps = cwsdk::to_scale(*it.rating, k_scale);
    if (!steps) return Failure::invalid_arg("rating outside 0-10");
    a["rating"] = static_cast<int>(std::lround(*steps));
    if (it.rated_at) a["rated_at"] = cwsdk::format_rfc3339(*it.rated_at);
  }
  return a;
}

// Adds `it` to `body`; nullopt (with `why`) when Trakt could not be told which item it is.
std::optional<Placed> place(const Item& it, const std::string& feature, Json& body,
                            std::string& why, Reason& reason) {
  reason = Reason::not_found;
  auto attrs = attributes(it, feature);
  if (!attrs) {
    why = attrs.error().message;
    reason = Reason::rejected;
    return std::nullopt;
  }
  auto with = [&](Json entry) {
    for (auto kv = attrs->begin(); kv != attrs->end(); ++kv) entry[kv.key()] = kv.value();
    return entry;
  };
  const Json own = write_ids(it.ids);
  const Json show = write_ids(it.show.ids);
  switch (it.type) {
    case ItemType::movie:
    case ItemType::show: {
      const char* bucket = it.type == ItemType::movie ? "movies" : "shows";
      if (own.empty()) {
        why = "no trakt, imdb, tmdb or tvdb id";
        return std::nullopt;
      }
      body[bucket].push_back(with(Json{{"ids", own}}));
      return Placed{bucket, cwsdk::Ids::from_json(own)};
    }
    case ItemType::season:
    case ItemType::episode: {
      const bool episode = it.type == ItemType::episode;
      const char* bucket = episode ? "episodes" : "seasons";
      const bool numbered = it.season.has_value() && (!episode || it.episode.has_value());
      // Show-scoped unless the item has a strong id of its own: Trakt episode tmdb/imdb ids
      // are often the show's or wrong, while show ids and numbers are reliable.
      if (!own.empty() && (has_strong_own_id(it) || show.empty() || !numbered)) {
        body[bucket].push_back(with(Json{{"ids", own}}));
        return Placed{bucket, cwsdk::Ids::from_json(own)};
      }
      if (show.empty() || !numbered) {
        why = "neither ids of its own nor the show's ids with season and episode numbers";
        return std::nullopt;
      }
      Json inner = episode ? Json{{"number", *it.season},
                                  {"episodes", Json::array({with(Json{{"number", *it.episode}})})}}
                           : with(Json{{"number", *it.season}});
      body["shows"].push_back(Json{{"ids", show}, {"seasons", Json::array({inner})}});
      cwsdk::Ids match;
      match.set("cw-scope",
                scope_key(show, *it.season, episode ? it.episode : std::optional<int>()));
      return Placed{bucket, match};
    }
  }
  why = "unknown type";
  return std::nullopt;
}

// Moves the show-scoped entries of not_found.shows (a show with "seasons") to
// not_found.seasons / not_found.episodes under their scope keys, so that BatchMapper matches
// them with the seasons and episodes sent that way, never with a show sent on its own.
Json normalise_not_found(Json reply) {
  Json* nf = reply.is_object() && reply.contains("not_found") ? &reply["not_found"] : nullptr;
  if (nf == nullptr || !nf->is_object()) return reply;
  const Json* shows = cwsdk::find(*nf, "shows");
  if (shows == nullptr || !shows->is_array()) return reply;
  Json keep = Json::array();
  Json seasons = Json::array(), episodes = Json::array();
  for (const Json& s : *shows) {
    const Json* nested = s.is_object() ? cwsdk::find(s, "seasons") : nullptr;
    if (nested == nullptr || !nested->is_array()) {
      keep.push_back(s);
      continue;
    }
    const Json ids = s.contains("ids") ? s["ids"] : Json::object();
    for (const Json& se : *nested) {
      const int number = cwsdk::get_or(se, "number", -1);
      const Json* eps = cwsdk::find(se, "episodes");
      if (eps != nullptr && eps->is_array() && !eps->empty()) {
        for (const Json& e : *eps) {
          episodes.push_back(Json{
              {"ids", {{"cw-scope", scope_key(ids, number, cwsdk::get_or(e, "number", -1))}}}});
        }
      } else {
        seasons.push_back(Json{{"ids", {{"cw-scope", scope_key(ids, number, std::nullopt)}}}});
      }
    }
  }
  (*nf)["shows"] = keep;
  for (auto* pair : {&seasons, &episodes}) {
    const char* name = pair == &seasons ? "seasons" : "episodes";
    if (pair->empty()) continue;
    Json& dst = (*nf)[name];
    if (!dst.is_array()) dst = Json::array();
    for (const Json& e : *pair) dst.push_back(e);
  }
  return reply;
}

}  // namespace

Reply Trakt::add(std::string_view request) { return write(request, "add"); }
Reply Trakt::remove(std::string_view request) { return write(request, "remove"); }
Reply Trakt::update(std::string_view request) { return write(request, "update"); }

Reply Trakt::write(std::string_view request, std::string_view op) {
  auto req = op == "update" ? cwsdk::read_write_request(request, op, {"ratings", "progress"})
                            : cwsdk::read_write_request(
                                  request, op, {"watchlist", "history", "ratings", "progress"});
  if (!req) return req.error().reply();
  if (req->items.empty()) return cwsdk::Outcomes().reply(*req);
  if (req->feature == "progress")
    return op == "remove" ? remove_progress(*req) : write_progress(*req);
  if (req->feature == "history" && op == "remove") return remove_history(*req);
  return write_batch(*req, op);
}

Reply Trakt::write_batch(const cwsdk::WriteRequest& req, std::string_view op) {
  const std::string& feature = req.feature;
  const bool removing = op == "remove";
  Json body = Json::object();
  cwsdk::BatchMapper batch;
  cwsdk::Outcomes outcomes;
  std::size_t placed = 0;
  for (const Item& it : req.items) {
    if (!wanted_type(feature, it.type)) {
      outcomes.unresolved(it.key, Reason::rejected,
                          "Trakt " + feature + " does not take " +
                              std::string(cwsdk::item_type_name(it.type)) + " items");
      continue;
    }
    std::string why;
    // A removal names the item only: no watched_at or rating needed.
    Reason reason = Reason::not_found;
    auto where = place(it, removing ? std::string("watchlist") : feature, body, why, reason);
    if (!where) {
      outcomes.unresolved(it.key, reason,
                          (reason == Reason::not_found ? "cannot name it to Trakt: " : "") + why);
      continue;
    }
    batch.sent(it.key, where->bucket, where->match);
    ++placed;
  }
  if (placed == 0) return outcomes.reply(req);

  std::string path = "/sync/" + feature;
  if (removing) path += "/remove";
  auto reply = m_api.send(http::Request::post(path).json(body));
  if (!reply) return reply.error().reply();  // nothing was confirmed
  if (reply->status == 420) {
    // An account limit (a full watchlist, too many ratings): reported, never retried.
    const auto limit = reply->header("x-account-limit");
    for (const Item& it : req.items) {
      if (!outcomes.has(it.key))
        outcomes.unresolved(it.key, Reason::quota,
                            "Trakt account limit reached (HTTP 420" +
                                (limit ? ", limit " + *limit + " items" : std::string()) +
                                "): make room on Trakt or upgrade to VIP");
    }
    return outcomes.reply(req);
  }
  if (Status st = reply->check(); !st)
    return trakt_failure(st.error()).reply();  // nothing was confirmed
  drop_cache(feature);
  auto doc = reply->json();
  if (!doc) {
    for (const Item& it : req.items) {
      if (!outcomes.has(it.key))
        outcomes.unresolved(it.key, Reason::unknown, "unreadable reply: " + doc.error().message);
    }
    return outcomes.reply(req);
  }
  cwsdk::BatchShape shape = removing ? cwsdk::BatchShape::deleted() : cwsdk::BatchShape::added();
  if (!removing && feature == "history") shape.already = "updated";  // merged duplicates
  if (Status st = batch.map(normalise_not_found(*doc), shape, outcomes); !st)
    m_host.warn("trakt: " + std::string(op) + " " + feature + ": " + st.error().message);
  return outcomes.reply(req);
}

Reply Trakt::remove_history(const cwsdk::WriteRequest& req) {
  // Only a play's history id removes that play: removing the item by its ids would delete
  // every play of it on Trakt. A play that arrives without one is looked up first.
  cwsdk::Outcomes outcomes;
  const std::map<std::string, std::string> found = find_ids(req, "history_id", outcomes);
  Json ids = Json::array();
  std::map<std::string, std::string> key_of;  // history id -> key
  for (const Item& it : req.items) {
    const auto f = found.find(it.key);
    if (f == found.end()) continue;
    if (key_of.count(f->second)) {
      outcomes.skipped(it.key, "the same play is removed by another item of this request");
      continue;
    }
    key_of[f->second] = it.key;
    ids.push_back(*digits(f->second));
  }
  if (ids.empty()) return outcomes.reply(req);
  auto reply =
      trakt_result(m_api.fetch(http::Request::post("/sync/history/remove").json({{"ids", ids}})));
  if (!reply) return reply.error().reply();
  drop_cache("history");
  auto doc = reply->json();
  if (!doc || !doc->is_object()) {
    for (const auto& [id, key] : key_of)
      outcomes.unresolved(key, Reason::unknown, "unreadable reply to the removal");
    return outcomes.reply(req);
  }
  std::set<std::string> missing;
  if (const Json* nf = cwsdk::find(*doc, "/not_found/ids"); nf != nullptr && nf->is_array()) {
    for (const Json& v : *nf) {
      if (auto t = cwsdk::id_text(v)) missing.insert(*t);
    }
  }
  std::int64_t deleted = 0;
  bool counted = true;
  if (const Json* d = cwsdk::find(*doc, "deleted"); d != nullptr && d->is_object()) {
    for (auto it = d->begin(); it != d->end(); ++it) {
      if (it->is_number_integer() && it->get<std::int64_t>() >= 0)
        deleted += it->get<std::int64_t>();
      else if (!it->is_null())
        counted = false;
    }
  } else {
    counted = false;
  }
  std::int64_t expected = 0;
  for (const auto& [id, key] : key_of) {
    if (missing.count(id))
      outcomes.skipped(key, "Trakt has no play with this history id (already removed)");
    else
      ++expected;
  }
  const bool agree = counted && deleted == expected;
  for (const auto& [id, key] : key_of) {
    if (missing.count(id)) continue;
    if (agree)
      outcomes.confirmed(key);
    else
      outcomes.unresolved(key, Reason::unknown,
                          "Trakt counted " + std::to_string(deleted) + " deleted plays for " +
                              std::to_string(expected) + " history ids sent");
  }
  return outcomes.reply(req);
}

const char* put_media(Json& body, const Item& it) {
  const Json own = write_ids(it.ids);
  const Json show = write_ids(it.show.ids);
  if (it.type == ItemType::movie) {
    if (own.empty()) return "no trakt, imdb, tmdb or tvdb id";
    body["movie"] = Json{{"ids", own}};
  } else if (!own.empty() && (it.ids.has("trakt") || show.empty() || !it.season || !it.episode)) {
    body["episode"] = Json{{"ids", own}};
  } else if (!show.empty() && it.season && it.episode) {
    body["show"] = Json{{"ids", show}};
    body["episode"] = Json{{"season", *it.season}, {"number", *it.episode}};
  } else {
    return "no ids Trakt can use";
  }
  return nullptr;
}

Reply Trakt::scrobble(std::string_view request) {
  auto req = cwsdk::read_scrobble_request(request);
  if (!req) return req.error().reply();
  cwsdk::ScrobbleReply out;
  if (req->item.type != ItemType::movie && req->item.type != ItemType::episode) {
    out.status = cwsdk::OutcomeStatus::unresolved;
    out.reason = Reason::rejected;
    out.message = "Trakt scrobbles movies and episodes";
    return out.reply();
  }
  // Trakt turns a stop at 80 % or more into a play and anything less into a paused point;
  // the host's decision (`watched`, its own threshold) is what Trakt must record.
  constexpr double k_trakt_watched = 80.0;
  double progress = req->progress;
  std::string action = "start";
  if (req->event == cwsdk::ScrobbleEvent::pause) {
    action = "pause";
  } else if (req->event == cwsdk::ScrobbleEvent::stop) {
    const bool watched = req->watched.value_or(progress >= k_trakt_watched);
    if (watched) {
      action = "stop";
      progress = std::max(progress, k_trakt_watched);
    } else {
      action = "pause";
      progress = std::min(progress, k_trakt_watched - 0.01);
    }
  }
  Json body{{"progress", std::round(progress * 100.0) / 100.0}};
  if (const char* missing = put_media(body, req->item)) {
    out.status = cwsdk::OutcomeStatus::unresolved;
    out.reason = Reason::not_found;
    out.message = missing;
    return out.reply();
  }
  // Not retry_safe: a stop sent twice may make two plays; the host retries it from its
  // queue, where a 409 then says the first one arrived.
  auto reply = m_api.send(
      http::Request::post("/scrobble/" + action).json(body).endpoint("/scrobble/" + action));
  if (!reply) return trakt_failure(reply.error()).reply();
  if (reply->status == 409) {
    // Trakt refuses a second scrobble of an item within its runtime: the play is there.
    out.status = cwsdk::OutcomeStatus::skipped;
    out.recorded = cwsdk::ScrobbleRecorded::play;
    out.message = "Trakt already has this play (409)";
    return out.reply();
  }
  if (reply->status == 404) {
    out.status = cwsdk::OutcomeStatus::unresolved;
    out.reason = Reason::not_found;
    out.message = "Trakt does not know this item";
    return out.reply();
  }
  if (reply->status != 201 && reply->status != 200) {
    Status st = reply->check();
    const Failure f = st ? Failure::internal("unexpected HTTP " + std::to_string(reply->status))
                         : trakt_failure(st.error());
    return f.reply();
  }
  const Json doc = Json::parse(reply->body, nullptr, false);
  const std::string done = doc.is_object() ? doc.value("action", action) : action;
  if (done == "scrobble") {
    out.recorded = cwsdk::ScrobbleRecorded::play;
    drop_cache("history");
    drop_cache("progress");
  } else if (done == "pause") {
    out.recorded = cwsdk::ScrobbleRecorded::progress;
    drop_cache("progress");
  }
  return out.reply();
}

Reply Trakt::write_progress(const cwsdk::WriteRequest& req) {
  cwsdk::Outcomes outcomes;
  bool wrote = false;
  for (std::size_t i = 0; i < req.items.size(); ++i) {
    const Item& it = req.items[i];
    if (!wanted_type("progress", it.type)) {
      outcomes.unresolved(it.key, Reason::rejected, "Trakt keeps progress of movies and episodes");
      continue;
    }
    std::optional<double> pct = it.progress_percent;
    if (!pct && it.progress_ms && it.duration_ms && *it.duration_ms > 0)
      pct = 100.0 * static_cast<double>(*it.progress_ms) / static_cast<double>(*it.duration_ms);
    if (!pct || *pct <= 0 || *pct >= 100) {
      outcomes.unresolved(it.key, Reason::rejected,
                          "Trakt stores progress as a percentage strictly between 0 and 100; "
                          "this item has none");
      continue;
    }
    Json body{{"progress", std::round(*pct * 100.0) / 100.0}};
    if (const char* missing = put_media(body, it)) {
      outcomes.unresolved(it.key, Reason::not_found, missing);
      continue;
    }
    // Pausing again at the same point replaces the paused entry: safe to repeat.
    auto reply = m_api.send(http::Request::post("/scrobble/pause").json(body).retry_safe(true));
    if (!reply) {
      outcomes.failed(it.key, reply.error());
      if (reply.error().status == CW_STATUS_RATE_LIMITED ||
          reply.error().status == CW_STATUS_CANCELLED ||
          reply.error().status == CW_STATUS_UNSUPPORTED || reply.error().status == CW_STATUS_AUTH) {
        for (std::size_t j = i + 1; j < req.items.size(); ++j)
          outcomes.failed(req.items[j].key, reply.error());
        if (!wrote) return reply.error().reply();
        break;
      }
      continue;
    }
    if (reply->status == 201 || reply->status == 200) {
      wrote = true;
      outcomes.confirmed(it.key);
      continue;
    }
    Status st = reply->check();
    const Failure f = st ? Failure::internal("unexpected HTTP " + std::to_string(reply->status))
                         : trakt_failure(st.error());
    if (f.status == CW_STATUS_AUTH && !wrote) return f.reply();
    outcomes.failed(it.key, f);
  }
  if (wrote) drop_cache("progress");
  return outcomes.reply(req);
}

Reply Trakt::remove_progress(const cwsdk::WriteRequest& req) {
  cwsdk::Outcomes outcomes;
  const std::map<std::string, std::string> found = find_ids(req, "playback_id", outcomes);
  bool wrote = false;
  for (std::size_t i = 0; i < req.items.size(); ++i) {
    const Item& it = req.items[i];
    const auto id = found.find(it.key);
    if (id == found.end()) continue;
    auto reply = m_api.send(http::Request::del("/sync/playback/{id}")
                                .path_param("id", id->second)
                                .endpoint("/sync/playback/:id"));
    if (!reply) {
      outcomes.failed(it.key, reply.error());
      const cw_status s = reply.error().status;
      if (s == CW_STATUS_RATE_LIMITED || s == CW_STATUS_CANCELLED || s == CW_STATUS_UNSUPPORTED) {
        for (std::size_t j = i + 1; j < req.items.size(); ++j)
          outcomes.failed(req.items[j].key, reply.error());
        if (!wrote) return reply.error().reply();
        break;
      }
      continue;
    }
    if (reply->status == 204 || reply->status == 200) {
      wrote = true;
      outcomes.confirmed(it.key);
    } else if (reply->status == 404) {
      outcomes.skipped(it.key, "Trakt has no such playback entry (already removed)");
    } else {
      Status st = reply->check();
      const Failure f = st ? Failure::internal("unexpected HTTP " + std::to_string(reply->status))
                           : trakt_failure(st.error());
      if (f.status == CW_STATUS_AUTH && !wrote) return f.reply();
      outcomes.failed(it.key, f);
    }
  }
  if (wrote) drop_cache("progress");
  return outcomes.reply(req);
}

// ----- sign-in

Reply Trakt::auth_start(std::string_view request) {
  if (auto r = cwsdk::read_auth_start_request(request); !r) return r.error().reply();
  if (!m_cfg.has_client_secret || m_auth.client_secret().empty())
    return Failure::invalid_arg(
               "client_secret is not configured: the device-code sign-in needs the Client ID "
               "and Client secret of your Trakt API application")
        .reply();
  auto doc = m_plain.json(
      http::Request::post("/oauth/device/code").json({{"client_id", m_cfg.client_id}}).read(true));
  if (!doc) return doc.error().context("Trakt sign-in").reply();
  cwsdk::DeviceCode code;
  code.device_code = cwsdk::get_or(*doc, "device_code", "");
  code.user_code = cwsdk::get_or(*doc, "user_code", "");
  code.verification_url = cwsdk::get_or(*doc, "verification_url", "https://trakt.tv/activate");
  code.interval_ms = cwsdk::get_or<std::int64_t>(*doc, "interval", 5) * 1000;
  code.expires_in_ms = cwsdk::get_or<std::int64_t>(*doc, "expires_in", 600) * 1000;
  return m_login.started(code);
}

Reply Trakt::auth_poll(std::string_view request) {
  if (auto r = cwsdk::read_health_request(request); !r) return r.error().reply();
  std::optional<cwsdk::Token> obtained;
  Reply reply = m_login.poll([&](const cwsdk::DeviceCode& code) -> Result<cwsdk::PollResult> {
    auto r = m_plain.send(http::Request::post("/oauth/device/token")
                              .json({{"code", code.device_code},
                                     {"client_id", m_cfg.client_id},
                                     {"client_secret", m_auth.client_secret()}})
                              .read(true));
    if (!r) return r.error();
    switch (r->status) {
      case 200: {
        auto doc = r->json();
        if (!doc) return doc.error();
        auto token = cwsdk::Token::from_reply(*doc, m_host.now_ms());
        if (!token) return token.error();
        obtained = *token;
        return cwsdk::PollResult::done(*token);
      }
      case 400:
        return cwsdk::PollResult::pending();
      case 429:
        return cwsdk::PollResult::slow_down();
      case 418:
        return cwsdk::PollResult::denied("the code was denied on trakt.tv");
      case 410:
        return cwsdk::PollResult::expired();
      case 404:
        return Failure::of(CW_STATUS_AUTH, "Trakt does not know this device code; start again");
      case 409:
        return Failure::of(CW_STATUS_AUTH, "this device code was already used; start again");
      default:
        if (Status st = r->check(); !st) return st.error();
        return Failure::internal("Trakt answered the device-code poll with HTTP " +
                                 std::to_string(r->status));
    }
  });
  if (reply.status == CW_STATUS_OK && obtained) {
    // DeviceFlow stored the token; store it again with the mark of this configuration.
    const Json doc = Json::parse(reply.body, nullptr, false);
    if (doc.is_object() && cwsdk::get_or(doc, "state", "") == "done") {
      if (Status st = m_auth.adopt(*obtained); !st) return st.error().reply();
    }
  }
  return reply;
}

}  // namespace trakt
