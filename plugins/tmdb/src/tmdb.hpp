// The TMDb provider: the account's watchlist and ratings (API v3), and an id resolver
// (resolve_ids) over /3/find and /3/{movie|tv}/{id}/external_ids.
//
//   credentials   v3: api_key (query) + session_id (query on account and rating routes);
//                 v4: access_token (a v4 user access token, sent as a Bearer header, which
//                 TMDb accepts on v3 routes); the v3 session the account routes need is
//                 session_id when configured, else made once per run from the v4 token with
//                 POST /3/authentication/session/convert/4. Secrets are read with
//                 Host::secret at the moment of use and never logged.
//   account       account_id from the configuration, else GET /3/account once per run.
//   reads         /3/account/{id}/watchlist/{movies,tv} and /rated/{movies,tv}, 20 per page,
//                 page/total_pages/total_results: complete only when every page was read and
//                 the counts agree (the kit's Pager); TMDb serves at most 500 pages.
//   writes        one call per item; TMDb's status_code decides the outcome (1 created,
//                 12 updated, 13 deleted, 34 not found...). Items without a tmdb id are
//                 found with /3/find from their imdb or tvdb id.
//   ratings       TMDb stores 0.5..10 in halves: the manifest's rating_scale, so the host
//                 snaps to that grid and the conversion here is exact.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace tmdb {

using cwsdk::Failure;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Json;
using cwsdk::Result;
namespace http = cwsdk::http;

constexpr int k_page_size = 20;   // TMDb's fixed page size
constexpr int k_max_pages = 500;  // TMDb refuses page > 500
constexpr std::int64_t k_resolve_ttl_s = 30LL * 24 * 3600;
constexpr std::int64_t k_unknown_ttl_s = 7LL * 24 * 3600;

// TMDb's own result code from a reply body ({"status_code": N}); nullopt when absent.
inline std::optional<int> status_code(std::string_view body) {
  const Json doc = Json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto code = cwsdk::get_optional<int>(doc, "status_code");
  if (!code) return std::nullopt;
  return *code;
}

// The year of "2008-01-20" (or nullopt for "" and anything odd).
inline std::optional<int> year_of(const Json& row, const char* field) {
  const std::string date = cwsdk::get_or(row, field, "");
  if (date.size() < 4) return std::nullopt;
  int y = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = date[static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return std::nullopt;
    y = y * 10 + (c - '0');
  }
  if (y < 1800 || y > 3000) return std::nullopt;
  return y;
}

// One list row (/watchlist/movies, /rated/tv...) as an item; `rated` rows must carry a
// rating on TMDb's scale.
inline Result<Item> row_to_item(const Json& row, bool movie, bool rated) {
  if (!row.is_object()) return Failure::internal("a list row is not an object");
  auto id = cwsdk::get<std::int64_t>(row, "id");
  if (!id || *id <= 0)
    return Failure::internal(id ? "a list row has id " + std::to_string(*id)
                                : "a list row: " + id.error().message);
  Item it = movie ? cwsdk::make_movie(cwsdk::get_or(row, movie ? "title" : "name", ""))
                  : cwsdk::make_show(cwsdk::get_or(row, "name", ""));
  it.year = year_of(row, movie ? "release_date" : "first_air_date");
  it.ids.set("tmdb", *id);
  if (rated) {
    // v3 rows carry "rating"; v4 rows carry account_rating {value, created_at}.
    auto value = cwsdk::get_optional<double>(row, "rating");
    if (!value) return value.error().context("row " + std::to_string(*id));
    std::optional<double> native = *value;
    if (!native) {
      auto v4 = cwsdk::get_optional<double>(row, "/account_rating/value");
      if (v4 && *v4) native = **v4;
    }
    if (!native) return Failure::internal("row " + std::to_string(*id) + ": no rating");
    const auto rating = cwsdk::from_scale(*native, cwsdk::RatingScale::tmdb());
    if (!rating)
      return Failure::internal("row " + std::to_string(*id) + ": rating " +
                               std::to_string(*native) + " is outside 0.5..10");
    it.rating = *rating;
    const std::string at = cwsdk::get_or(row, "/account_rating/created_at", "");
    if (!at.empty()) it.rated_at = cwsdk::parse_rfc3339(at);
  }
  return it;
}

class Tmdb {
 public:
  static const char* manifest() {
    return R"json({
      "name": "tmdb",
      "version": "1.0.0",
      "display_name": "TMDb",
      "description": "The Movie Database: the account's watchlist and ratings (0.5 to 10 in halves), and an id resolver (imdb/tvdb/tmdb) for id_resolver.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                      "remove": true, "update": false, "observes_deletes": true,
                      "provides_ids": true, "chunk_size": 50, "page_size": 20},
        "ratings": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                    "remove": true, "update": true, "observes_deletes": true,
                    "provides_ids": true, "chunk_size": 50, "page_size": 20,
                    "rating_scale": {"min": 0.5, "max": 10, "step": 0.5}}
      },
      "rate_limits": [{"name": "api", "requests": 50, "per_seconds": 1}],
      "capabilities": {"auth": "none", "scrobble": false, "resolve_ids": true},
      "secrets": ["api_key", "session_id", "access_token"],
      "config": {
        "type": "object",
        "properties": {
          "url": {"type": "string", "description": "API root (default https://api.themoviedb.org); paths start with /3"},
          "api_key": {"type": "string", "description": "v3 API key (write it as ${env:TMDB_API_KEY})"},
          "session_id": {"type": "string", "description": "v3 session id of the account"},
          "access_token": {"type": "string", "description": "v4 user access token (Bearer), instead of api_key + session_id"},
          "account_id": {"type": ["integer", "string"], "description": "the v3 account id; looked up with /3/account when absent"},
          "external_ids": {"type": "boolean", "description": "add imdb/tvdb ids to listed items (from /external_ids, cached); default true"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Tmdb(cwsdk::Host host, std::string_view config) : m_host(host), m_api(host, base_url(config)) {
    m_api.header("Accept", "application/json");
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    auto has = [&cfg](const char* k) {
      const Json* v = cwsdk::find(cfg, k);
      return v != nullptr && v->is_string() && !v->get<std::string>().empty();
    };
    m_v4 = has("access_token");
    m_has_session = has("session_id");
    // Checked at the first request (health says auth_failed), so that an instance without
    // credentials can still be made and listed.
    m_has_key = has("api_key");
    m_external_ids = cwsdk::get_or(cfg, "external_ids", true);
    if (const Json* a = cwsdk::find(cfg, "account_id")) {
      if (auto id = cwsdk::id_text(*a); id && !id->empty()) m_account = *id;
    }
  }

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto me = json_of(http::Request::get("/3/account"), true);
    if (!me) return cwsdk::HealthReply::from_failure(me.error()).reply();
    if (m_account.empty()) {
      if (auto id = cwsdk::get<std::int64_t>(*me, "id"); id) m_account = std::to_string(*id);
    }
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok)
        .message("signed in as " + cwsdk::get_or(*me, "username", "an unnamed account"))
        .feature("watchlist", true)
        .feature("ratings", true)
        .reply();
  }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist", "ratings"});
    if (!req) return req.error().reply();
    const bool rated = req->feature == "ratings";
    auto account = account_id();
    if (!account) return account.error().reply();
    m_ext_stop = false;
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    cwsdk::Completeness all;
    all.complete = true;
    all.expected_total = 0;
    std::int64_t left_out = 0;
    for (const bool movie : {true, false}) {
      const std::string path = std::string("/3/account/{account}/") +
                               (rated ? "rated/" : "watchlist/") + (movie ? "movies" : "tv");
      const auto c = cwsdk::Pager::page_numbers(k_page_size)
                         .max_pages(k_max_pages)
                         .run(m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
                           return read_page(path, *account, page, movie, rated, index, left_out);
                         });
      all.received += c.received;
      all.pages += c.pages;
      if (c.expected_total && all.expected_total)
        *all.expected_total += *c.expected_total;
      else
        all.expected_total.reset();
      if (!c.complete) {
        all.complete = false;
        if (all.reason.empty()) all.reason = (movie ? "movies: " : "tv: ") + c.reason;
      }
      if (c.failure && !all.failure) all.failure = c.failure;
      if (c.failure) break;
    }
    save_external_ids();
    if (all.failure && index.received() == 0) return index.fail(*all.failure);
    if (left_out > 0 && all.complete) {
      all.complete = false;
      all.reason = std::to_string(left_out) + " rows could not be read";
    }
    return index.finish(all);
  }

  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }
  cwsdk::Reply update(std::string_view request) { return write(request, "update"); }

  // resolve_ids: every id TMDb knows for each item. Known to TMDb by its tmdb id, or found
  // through /3/find from its imdb or tvdb id; then /external_ids gives the rest.
  cwsdk::Reply resolve_ids(std::string_view request) {
    auto req = cwsdk::read_resolve_request(request);
    if (!req) return req.error().reply();
    cwsdk::ResolveReply reply;
    std::size_t answered = 0;
    for (const Item& item : req->items) {
      if (m_host.cancelled()) break;
      if (item.type != ItemType::movie && item.type != ItemType::show) {
        reply.unknown(item.key, k_unknown_ttl_s);
        ++answered;
        continue;
      }
      auto ids = resolve_one(item);
      if (!ids) {
        const Failure& f = ids.error();
        // Credentials, quota and outages are the call's failure while nothing was
        // answered; later they leave the rest unanswered for now (ttl 0: asked again next
        // run, never cached as unknown).
        if (answered == 0 && f.status != CW_STATUS_NOT_FOUND) return f.reply();
        if (f.status == CW_STATUS_NOT_FOUND) {
          reply.unknown(item.key, k_unknown_ttl_s);
        } else {
          m_host.warn("tmdb: resolving " + item.key + " failed: " + f.message);
          reply.unknown(item.key, 0);
        }
        ++answered;
        continue;
      }
      if (ids->empty())
        reply.unknown(item.key, k_unknown_ttl_s);
      else
        reply.resolved(item.key, *ids, k_resolve_ttl_s);
      ++answered;
    }
    return reply.reply();
  }

 private:
  static std::string base_url(std::string_view config) {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    std::string url = cwsdk::get_or(cfg, "url", "https://api.themoviedb.org");
    while (!url.empty() && url.back() == '/') url.pop_back();
    // Accept ".../3" as well: paths carry the version themselves.
    if (url.size() >= 2 && url.compare(url.size() - 2, 2, "/3") == 0) url.resize(url.size() - 2);
    return url;
  }

  // Adds the credentials (and the session for account routes) and sends.
  Result<http::Response> send(http::Request request, bool with_session) {
    if (!m_v4 && !(m_has_key && m_has_session))
      return Failure::of(CW_STATUS_AUTH,
                         "tmdb: set api_key and session_id (v3), or access_token (v4), in the "
                         "configuration");
    if (m_v4) {
      const auto token = m_host.secret("access_token");
      if (!token || token->empty())
        return Failure::of(CW_STATUS_AUTH,
                           "tmdb access_token is not set: add it to the configuration");
      request.header("Authorization", "Bearer " + *token);
    } else {
      const auto key = m_host.secret("api_key");
      if (!key || key->empty())
        return Failure::of(CW_STATUS_AUTH, "tmdb api_key is not set: add it to the configuration");
      request.query("api_key", *key);
    }
    if (with_session) {
      auto session = session_id();
      if (!session) return session.error();
      request.query("session_id", *session);
    }
    return m_api.send(std::move(request));
  }
  Result<Json> json_of(http::Request request, bool with_session) {
    auto reply = send(std::move(request), with_session);
    if (!reply) return reply.error();
    if (auto st = reply->check(); !st) return st.error();
    return reply->json();
  }

  Result<std::string> session_id() {
    if (m_has_session) {
      const auto s = m_host.secret("session_id");
      if (!s || s->empty())
        return Failure::of(CW_STATUS_AUTH,
                           "tmdb session_id is not set: add it to the configuration");
      return *s;
    }
    if (!m_session.empty()) return m_session;
    // v4 only: a v3 session made from the v4 user access token (it changes no account data,
    // so it is sent in dry runs too).
    const auto token = m_host.secret("access_token");
    if (!token || token->empty())
      return Failure::of(CW_STATUS_AUTH,
                         "tmdb access_token is not set: add it to the configuration");
    auto reply = m_api.fetch(http::Request::post("/3/authentication/session/convert/4")
                                 .header("Authorization", "Bearer " + *token)
                                 .json(Json{{"access_token", *token}})
                                 .read(true));
    if (!reply) return reply.error().context("tmdb: making a v3 session from access_token");
    auto doc = reply->json();
    if (!doc) return doc.error();
    auto session = cwsdk::get<std::string>(*doc, "session_id");
    if (!session || session->empty())
      return Failure::of(CW_STATUS_AUTH,
                         "tmdb: POST /3/authentication/session/convert/4 gave no session_id");
    m_session = *session;
    return m_session;
  }

  Result<std::string> account_id() {
    if (!m_account.empty()) return m_account;
    auto me = json_of(http::Request::get("/3/account"), true);
    if (!me) return me.error();
    auto id = cwsdk::get<std::int64_t>(*me, "id");
    if (!id) return id.error().context("GET /3/account reply");
    m_account = std::to_string(*id);
    return m_account;
  }

  Result<cwsdk::Page> read_page(const std::string& path, const std::string& account,
                                const cwsdk::PageRequest& page, bool movie, bool rated,
                                cwsdk::IndexWriter& index, std::int64_t& left_out) {
    auto doc = json_of(http::Request::get(path)
                           .path_param("account", account)
                           .query("page", page.number)
                           .query("sort_by", "created_at.asc"),
                       true);
    if (!doc) return doc.error();
    auto results = cwsdk::get_array(*doc, "results");
    if (!results) return results.error().context("GET " + path + " reply");
    for (const Json& row : **results) {
      auto item = row_to_item(row, movie, rated);
      if (item) add_external_ids(*item, movie);
      if (!item || !index.add(*item)) {
        ++left_out;
        m_host.warn("tmdb: a " + std::string(rated ? "rated" : "watchlist") +
                    " row was left out: " +
                    (item ? std::string("it breaks the item schema") : item.error().message));
      }
    }
    cwsdk::Page p;
    p.count = static_cast<std::int64_t>((*results)->size());
    auto total = cwsdk::get<std::int64_t>(*doc, "total_results");
    auto pages = cwsdk::get<std::int64_t>(*doc, "total_pages");
    if (!total || !pages)
      return Failure::internal(
          "GET " + path + " reply: " + (!total ? total.error().message : pages.error().message));
    p.total = *total;
    p.page_count = *pages;
    return p;
  }

  // Listed rows carry only the tmdb id. To match services that know a title by its imdb or
  // tvdb id, each listed item gets them from /3/{movie|tv}/{id}/external_ids, asked once and
  // kept in the instance's store ("external_ids": {"movie:603": {"imdb": .., "at": s}}) for
  // 30 days. A lookup that fails leaves the item with its tmdb id (the index stays as
  // complete as it is); after a rate limit or an outage no more are asked this run.
  void load_external_ids() {
    if (m_ext_loaded) return;
    m_ext_loaded = true;
    if (const auto text = m_host.kv_get("external_ids")) {
      Json doc = Json::parse(*text, nullptr, false);
      if (doc.is_object()) m_ext = std::move(doc);
    }
    if (!m_ext.is_object()) m_ext = Json::object();
  }
  void add_external_ids(Item& item, bool movie) {
    if (!m_external_ids) return;
    const auto id = item.ids.get("tmdb");
    if (!id) return;
    load_external_ids();
    const std::string key = std::string(movie ? "movie:" : "tv:") + *id;
    const std::int64_t now_s = m_host.now_ms() / 1000;
    const Json* cached = cwsdk::find(m_ext, "/" + key);
    const bool fresh = cached != nullptr && cached->is_object() &&
                       now_s - cwsdk::get_or<std::int64_t>(*cached, "at", 0) < k_resolve_ttl_s;
    if (!fresh && !m_ext_stop) {
      auto doc = json_of(
          http::Request::get(movie ? "/3/movie/{id}/external_ids" : "/3/tv/{id}/external_ids")
              .path_param("id", *id),
          false);
      if (doc) {
        Json entry{{"at", now_s}};
        if (const Json* v = cwsdk::find(*doc, "imdb_id"); v && v->is_string()) entry["imdb"] = *v;
        if (const Json* v = cwsdk::find(*doc, "tvdb_id"); !movie && v && !v->is_null())
          entry["tvdb"] = *v;
        m_ext[key] = entry;
        m_ext_dirty = true;
        cached = &m_ext[key];
      } else if (doc.error().status == CW_STATUS_NOT_FOUND) {
        m_ext[key] = Json{{"at", now_s}};
        m_ext_dirty = true;
      } else {
        m_ext_stop = true;
        m_host.warn("tmdb: external ids are not added this run: " + doc.error().message);
      }
    }
    if (cached == nullptr || !cached->is_object()) return;
    if (const Json* v = cwsdk::find(*cached, "imdb")) item.ids.set("imdb", *v);
    if (const Json* v = cwsdk::find(*cached, "tvdb")) item.ids.set("tvdb", *v);
  }
  void save_external_ids() {
    if (!m_ext_dirty) return;
    m_ext_dirty = false;
    if (m_host.kv_put("external_ids", m_ext.dump()) != CW_STATUS_OK)
      m_host.warn("tmdb: the external id cache could not be stored");
  }

  // The item's tmdb id, found through /3/find when it has only imdb or tvdb ids. NOT_FOUND
  // when TMDb does not know it.
  Result<std::string> tmdb_id(const Item& item) {
    if (auto id = item.ids.get("tmdb")) return *id;
    auto found = find_by_external(item);
    if (!found) return found.error();
    if (!*found)
      return Failure::of(
          CW_STATUS_NOT_FOUND,
          "TMDb knows no " + std::string(cwsdk::item_type_name(item.type)) + " with these ids");
    return **found;
  }

  // /3/find by imdb, then tvdb: the tmdb id of the first result of the item's type.
  Result<std::optional<std::string>> find_by_external(const Item& item) {
    const bool movie = item.type == ItemType::movie;
    for (const auto& [kind, source] : {std::pair<const char*, const char*>{"imdb", "imdb_id"},
                                       std::pair<const char*, const char*>{"tvdb", "tvdb_id"}}) {
      const auto value = item.ids.get(kind);
      if (!value) continue;
      auto doc = json_of(http::Request::get("/3/find/{id}")
                             .path_param("id", *value)
                             .query("external_source", source),
                         false);
      if (!doc) {
        if (doc.error().status == CW_STATUS_NOT_FOUND) continue;
        return doc.error();
      }
      auto results = cwsdk::get_array(*doc, movie ? "movie_results" : "tv_results");
      if (!results) return results.error().context("GET /3/find reply");
      for (const Json& r : **results) {
        if (auto id = cwsdk::get<std::int64_t>(r, "id"); id && *id > 0)
          return std::optional<std::string>(std::to_string(*id));
      }
    }
    return std::optional<std::string>();
  }

  // Every id TMDb has for the item; empty when it knows the item by none of its ids.
  Result<cwsdk::Ids> resolve_one(const Item& item) {
    const bool movie = item.type == ItemType::movie;
    std::optional<std::string> id = item.ids.get("tmdb");
    if (!id) {
      auto found = find_by_external(item);
      if (!found) return found.error();
      if (!*found) return cwsdk::Ids();
      id = **found;
    }
    auto doc =
        json_of(http::Request::get(movie ? "/3/movie/{id}/external_ids" : "/3/tv/{id}/external_ids")
                    .path_param("id", *id),
                false);
    if (!doc) {
      if (doc.error().status == CW_STATUS_NOT_FOUND) return cwsdk::Ids();
      return doc.error();
    }
    cwsdk::Ids ids;
    ids.set("tmdb", *id);
    if (const Json* v = cwsdk::find(*doc, "imdb_id")) ids.set("imdb", *v);
    if (!movie) {
      if (const Json* v = cwsdk::find(*doc, "tvdb_id")) ids.set("tvdb", *v);
    }
    return ids;
  }

  // add, remove, update: one call per item; TMDb's status_code gives the outcome.
  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req = cwsdk::read_write_request(request, op, {"watchlist", "ratings"});
    if (!req) return req.error().reply();
    const bool ratings = req->feature == "ratings";
    if (!ratings && op == "update")
      return cwsdk::Failure::of(CW_STATUS_UNSUPPORTED, "tmdb: the watchlist has no update").reply();
    auto account = account_id();
    if (!account) return account.error().reply();
    cwsdk::Outcomes outcomes;
    bool any_done = false;
    for (std::size_t i = 0; i < req->items.size(); ++i) {
      const Item& item = req->items[i];
      if (m_host.cancelled()) {
        if (!any_done) return Failure::of(CW_STATUS_CANCELLED, "tmdb: cancelled").reply();
        break;  // the rest has no outcome: unknown, re-checked by the host
      }
      auto done = ratings ? write_rating(item, op, outcomes)
                          : write_watchlist(item, *account, op == "add", outcomes);
      if (done) {
        any_done = true;
        continue;
      }
      // A failure that concerns the whole account (credentials, quota, outage): nothing
      // more is sent. Before anything was written it is the call's status.
      const Failure& f = done.error();
      if (!any_done) return f.reply();
      for (std::size_t j = i; j < req->items.size(); ++j) outcomes.failed(req->items[j].key, f);
      break;
    }
    return outcomes.reply(*req);
  }

  // The per-item result of a TMDb write reply: true when an outcome was recorded; a
  // Failure when the reply concerns the whole request (auth, rate limit, outage).
  Result<bool> record(const Item& item, const Result<http::Response>& reply, bool removing,
                      bool watchlist, cwsdk::Outcomes& outcomes) {
    if (!reply) {
      const Failure& f = reply.error();
      if (f.status == CW_STATUS_NOT_FOUND || f.reason == cwsdk::Reason::rejected) {
        outcomes.failed(item.key, f);
        return true;
      }
      return f;
    }
    const auto code = status_code(reply->body);
    if (reply->ok()) {
      const Json doc = Json::parse(reply->body, nullptr, false);
      const bool success = doc.is_object() && cwsdk::get_or(doc, "success", false);
      if (!success) {
        outcomes.unresolved(item.key, cwsdk::Reason::unknown,
                            reply->what + ": HTTP " + std::to_string(reply->status) +
                                " without success:true; TMDb may or may not have applied it");
        return true;
      }
      if (watchlist && !removing && code == 12)
        outcomes.skipped(item.key, "already on the watchlist");
      else
        outcomes.confirmed(item.key);
      return true;
    }
    const Failure f = reply->check().error();
    if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED ||
        f.status == CW_STATUS_TRANSIENT)
      return f;
    if (reply->status == 404 || code == 34) {
      if (removing && !watchlist) {
        outcomes.skipped(item.key, "not rated on TMDb");
      } else {
        outcomes.unresolved(item.key, cwsdk::Reason::not_found, f.message);
      }
      return true;
    }
    // 400 (codes 5, 18, 19, 20: invalid parameters or value) and other refusals.
    outcomes.unresolved(item.key, cwsdk::Reason::rejected, f.message);
    return true;
  }

  // A failure to find the item's id: the item's outcome, or the whole request's failure.
  Result<bool> id_failure(const Item& item, const Failure& f, bool removing,
                          cwsdk::Outcomes& outcomes) {
    if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED ||
        f.status == CW_STATUS_TRANSIENT || f.status == CW_STATUS_CANCELLED ||
        f.status == CW_STATUS_UNSUPPORTED)
      return f;
    if (f.status != CW_STATUS_NOT_FOUND) {
      outcomes.failed(item.key, f);
      return true;
    }
    if (removing)
      outcomes.skipped(item.key, "not on TMDb: " + f.message);
    else
      outcomes.unresolved(item.key, cwsdk::Reason::not_found, f.message);
    return true;
  }

  Result<bool> write_watchlist(const Item& item, const std::string& account, bool adding,
                               cwsdk::Outcomes& outcomes) {
    if (item.type != ItemType::movie && item.type != ItemType::show) {
      outcomes.unresolved(item.key, cwsdk::Reason::rejected,
                          "the TMDb watchlist holds movies and shows");
      return true;
    }
    auto id = tmdb_id(item);
    if (!id) return id_failure(item, id.error(), !adding, outcomes);
    Json body{{"media_type", item.type == ItemType::movie ? "movie" : "tv"}, {"watchlist", adding}};
    try {
      body["media_id"] = std::stoll(*id);
    } catch (...) {
      outcomes.unresolved(item.key, cwsdk::Reason::rejected, "tmdb id '" + *id + "' is no number");
      return true;
    }
    auto reply = send(http::Request::post("/3/account/{account}/watchlist")
                          .path_param("account", account)
                          .json(body)
                          .retry_safe(true),
                      true);
    return record(item, reply, !adding, true, outcomes);
  }

  Result<bool> write_rating(const Item& item, std::string_view op, cwsdk::Outcomes& outcomes) {
    if (item.type != ItemType::movie && item.type != ItemType::show) {
      outcomes.unresolved(item.key, cwsdk::Reason::rejected, "tmdb rates movies and shows here");
      return true;
    }
    const bool removing = op == "remove";
    std::optional<double> value;
    if (!removing) {
      if (!item.rating) {
        outcomes.unresolved(item.key, cwsdk::Reason::rejected, "the item carries no rating");
        return true;
      }
      value = cwsdk::to_scale(*item.rating, cwsdk::RatingScale::tmdb());
      if (!value) {
        outcomes.unresolved(item.key, cwsdk::Reason::rejected, "rating outside 0..10");
        return true;
      }
    }
    auto id = tmdb_id(item);
    if (!id) return id_failure(item, id.error(), removing, outcomes);
    const std::string path =
        item.type == ItemType::movie ? "/3/movie/{id}/rating" : "/3/tv/{id}/rating";
    http::Request r = removing ? http::Request::del(path) : http::Request::post(path);
    r.path_param("id", *id);
    if (!removing) r.json(Json{{"value", *value}}).retry_safe(true);
    auto reply = send(std::move(r), true);
    return record(item, reply, removing, false, outcomes);
  }

  cwsdk::Host m_host;
  http::Client m_api;
  bool m_v4 = false;
  bool m_has_session = false;
  bool m_has_key = false;
  std::string m_session;  // v4: the session made from the access token, for this run
  std::string m_account;
  bool m_external_ids = true;
  Json m_ext = Json::object();  // "movie:603" -> {"imdb", "tvdb", "at"}
  bool m_ext_loaded = false;
  bool m_ext_dirty = false;
  bool m_ext_stop = false;  // a lookup hit a rate limit or an outage: no more this run
};

}  // namespace tmdb
