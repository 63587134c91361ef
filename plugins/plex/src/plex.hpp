// The Plex provider: a Plex Media Server's libraries (history as watched state, ratings,
// resume points) and the plex.tv Discover watchlist, on the provider kit.
//
//   history    one item per watched library movie or episode (viewCount > 0), watched_at
//              = lastViewedAt (the latest play). Presence, not plays: Plex's watched state
//              is a flag with a count, and /:/scrobble (the write) creates no session
//              history entry on a real server. add = PUT /:/scrobble (with viewedAt, which
//              only some servers honour), remove = PUT /:/unscrobble (also clears the
//              resume point).
//   ratings    userRating (0-10) of movies, shows and episodes; PUT /:/rate, -1 clears.
//   progress   viewOffset with duration and lastViewedAt; POST /:/timeline state=stopped,
//              time=0 clears.
//   watchlist  Discover's /library/sections/watchlist/all (account token), ids hydrated
//              from the metadata host (cached in kv); writes resolve a Discover ratingKey
//              with /library/metadata/matches by tmdb, imdb or tvdb id.
//
// The library is read section by section (allow-list `libraries`, default every movie and
// show section), type 1 for movie sections, types 2 and 4 for show sections, includeGuids=1,
// paged with X-Plex-Container-Start/Size; an index is complete only when every page of every
// section was read, the counts agree and no row was left out.
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

#include "catalog.hpp"
#include "guids.hpp"

namespace plex {

using cwsdk::Failure;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Json;
using cwsdk::Result;

inline constexpr const char* k_identifier = "com.plexapp.plugins.library";
// Where `cw auth login` keeps what it obtained (the configured keys win over these).
inline constexpr const char* k_stored_account_token = "plex_account_token";
inline constexpr const char* k_stored_server_token = "plex_server_token";
inline constexpr cwsdk::RatingScale k_scale{1, 10, 1};

// A PUT with no body. Plex's writes take their arguments in the query; the explicit
// Content-Length: 0 is what every common client sends, and some servers (httplib-based
// ones among them) answer 400 to a PUT without it.
inline cwsdk::http::Request empty_put(std::string target) {
  auto r = cwsdk::http::Request::put(std::move(target));
  r.header("Content-Length", "0");
  return r;
}

inline std::optional<std::int64_t> epoch_ms(std::optional<std::int64_t> seconds) {
  if (!seconds || *seconds <= 0) return std::nullopt;
  return cwsdk::from_epoch_seconds(*seconds);
}

class Plex {
 public:
  static const char* manifest() {
    return R"json({
      "name": "plex",
      "version": "1.0.0",
      "display_name": "Plex",
      "description": "Plex Media Server (watched state, ratings, resume points) and the plex.tv Discover watchlist.",
      "features": {
        "history": {"types": ["movie", "episode"], "index_semantics": "present", "add": true,
                    "remove": true, "observes_deletes": true, "provides_ids": true,
                    "writes_watch_date": false, "rewatches": false, "chunk_size": 50,
                    "page_size": 100},
        "ratings": {"types": ["movie", "show", "season", "episode"], "index_semantics": "present",
                    "add": true, "remove": true, "update": true, "observes_deletes": true,
                    "provides_ids": true, "chunk_size": 50, "page_size": 100,
                    "rating_scale": {"min": 1, "max": 10, "step": 1}},
        "progress": {"types": ["movie", "episode"], "index_semantics": "present", "add": true,
                     "remove": true, "update": true, "observes_deletes": false,
                     "provides_ids": true, "chunk_size": 50, "page_size": 100},
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                      "remove": true, "observes_deletes": true, "provides_ids": true,
                      "chunk_size": 25, "page_size": 100}
      },
      "capabilities": {"auth": "pin", "scrobble": false, "lookup": true},
      "secrets": ["token", "account_token"],
      "config": {
        "type": "object",
        "required": ["url"],
        "properties": {
          "url": {"type": "string", "description": "the Plex Media Server's base URL, e.g. http://192.168.1.20:32400"},
          "token": {"type": "string", "description": "the server (X-Plex-Token) token; write it as ${env:PLEX_TOKEN}; without it, cw auth login (PIN) finds the server's token"},
          "account_token": {"type": "string", "description": "the plex.tv account token; needed for the watchlist"},
          "machine_id": {"type": "string", "description": "the server's machineIdentifier; health refuses another server"},
          "plextv_url": {"type": "string", "description": "default https://plex.tv"},
          "discover_url": {"type": "string", "description": "default https://discover.provider.plex.tv"},
          "metadata_url": {"type": "string", "description": "default https://metadata.provider.plex.tv"},
          "libraries": {"type": "array", "items": {"type": ["string", "integer"]},
                        "description": "section keys or titles to use; default every movie and show section"},
          "client_id": {"type": "string", "description": "X-Plex-Client-Identifier; default cw-plex"},
          "page_size": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "rows per page, default 100"},
          "prefetch": {"type": "integer", "minimum": 1, "maximum": 16, "description": "library pages requested ahead while one is read, default 4; 1: one at a time"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Plex(cwsdk::Host host, std::string_view config)
      : m_host(host),
        m_pms(host, ""),
        m_discover(host, ""),
        m_metadata(host, ""),
        m_plextv(host, "") {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    if (!cfg.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration is not an object");
    auto url = cwsdk::get<std::string>(cfg, "/url");
    if (!url || url->empty())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "url: required, e.g. http://192.168.1.20:32400");
    auto base = [](std::string u) {
      while (!u.empty() && u.back() == '/') u.pop_back();
      return u;
    };
    m_client_id = cwsdk::get_or(cfg, "/client_id", "cw-plex");
    m_machine_id = cwsdk::get_or(cfg, "/machine_id", "");
    m_page_size = std::clamp(cwsdk::get_or(cfg, "/page_size", 100), 1, 1000);
    m_prefetch = std::clamp(cwsdk::get_or(cfg, "/prefetch", 4), 1, 16);
    if (const Json* libs = cwsdk::find(cfg, "/libraries")) {
      if (!libs->is_array())
        throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                           "libraries: expected a list of section keys or titles");
      for (const Json& l : *libs) {
        auto text = cwsdk::id_text(l);
        if (!text || text->empty())
          throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                             "libraries: every entry is a section key or title");
        m_libraries.push_back(*text);
      }
    }
    m_pms = cwsdk::http::Client(host, base(*url));
    m_plextv =
        cwsdk::http::Client(host, base(cwsdk::get_or(cfg, "/plextv_url", "https://plex.tv")));
    m_discover = cwsdk::http::Client(
        host, base(cwsdk::get_or(cfg, "/discover_url", "https://discover.provider.plex.tv")));
    m_metadata = cwsdk::http::Client(
        host, base(cwsdk::get_or(cfg, "/metadata_url", "https://metadata.provider.plex.tv")));
    for (auto* c : {&m_pms, &m_plextv, &m_discover, &m_metadata}) {
      c->header("Accept", "application/json")
          .header("X-Plex-Client-Identifier", m_client_id)
          .header("X-Plex-Product", "cw")
          .header("X-Plex-Version", "1.0.0")
          .header("X-Plex-Platform", "cw");
    }
  }

  // ------------------------------------------------------------------ health
  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto root = pms_json(cwsdk::http::Request::get("/"));
    if (!root) return cwsdk::HealthReply::from_failure(root.error()).reply();
    const Json* mc = cwsdk::find(*root, "/MediaContainer");
    if (mc == nullptr || !mc->is_object())
      return cwsdk::HealthReply(
                 cwsdk::HealthStatus::down,
                 "GET /: the reply has no MediaContainer; is url a Plex Media Server?")
          .reply();
    const std::string machine = cwsdk::get_or(*mc, "machineIdentifier", "");
    if (!m_machine_id.empty() && machine != m_machine_id)
      return cwsdk::HealthReply(cwsdk::HealthStatus::down, "url answers as server " + machine +
                                                               ", not machine_id " + m_machine_id +
                                                               ": fix url or machine_id")
          .reply();
    bool watchlist = false;
    std::string note;
    if (has_account()) {
      auto user = account_json(m_plextv, cwsdk::http::Request::get("/api/v2/user"));
      if (user) {
        watchlist = true;
        note = " as " + cwsdk::get_or(*user, "username", "the plex.tv account");
      } else if (user.error().status == CW_STATUS_AUTH) {
        note = "; account_token was refused by plex.tv (watchlist unavailable)";
      } else {
        note = "; plex.tv: " + user.error().message;
      }
    } else {
      note = "; no account_token (watchlist unavailable)";
    }
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok)
        .message("server " + cwsdk::get_or(*mc, "friendlyName", "?") + note)
        .feature("history", true)
        .feature("ratings", true)
        .feature("progress", true)
        .feature("watchlist", watchlist)
        .reply();
  }

  // ------------------------------------------------------------------ build_index
  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"history", "ratings", "progress", "watchlist"});
    if (!req) return req.error().reply();
    if (req->feature == "watchlist") return watchlist_index(out);
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    // Ratings and progress ask the server for the movies and episodes that have one
    // (userRating>>=0, viewOffset>>=0: PMS's "greater than" filters); shows are always read
    // whole, for the show ratings and the ids episodes take from their show. History reads
    // every row (the unwatched filter is unreliable on episodes of show sections), and that
    // full read is kept as the GUID index of later writes.
    const std::string filter = req->feature == "ratings"    ? "userRating"
                               : req->feature == "progress" ? "viewOffset"
                                                            : "";
    // A full read made moments ago (earlier in this run: history is read first), with no
    // library write of this instance since, holds every field ratings and progress need:
    // they are served from it instead of reading shows and seasons a second time.
    const bool reuse = !filter.empty() && m_catalog && !m_library_written &&
                       m_host.now_ms() - m_catalog_read_ms <= k_catalog_reuse_ms;
    std::optional<Catalog> loaded;
    if (!reuse) {
      auto read = load_catalog(filter);
      if (!read) return index.fail(read.error());
      loaded = std::move(*read);
    }
    const Catalog& catalog = reuse ? *m_catalog : *loaded;
    for (std::size_t i = 0; i < catalog.size(); ++i) {
      const Row row = catalog.at(i);
      std::optional<Item> item;
      if (req->feature == "history") item = history_item(row, catalog);
      if (req->feature == "ratings") item = rating_item(row, catalog);
      if (req->feature == "progress") item = progress_item(row, catalog);
      if (!item) continue;
      if (cwsdk::Status ok = index.add(*item); !ok) {
        m_host.warn("plex: " + req->feature + " row " + row.rk +
                    " left out: " + ok.error().message);
      }
    }
    cwsdk::Completeness c = catalog.read;
    if (catalog.left_out > 0 && c.complete) {
      c.complete = false;
      c.reason = catalog.left_out_reason;
    }
    if (!c.complete && !c.reason.empty())
      m_host.warn("plex: " + req->feature + " index incomplete: " + c.reason);
    if (loaded && filter.empty()) keep_catalog(std::move(*loaded));
    return index.finish(c);
  }

  // ------------------------------------------------------------------ writes
  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }
  cwsdk::Reply update(std::string_view request) { return write(request, "update"); }

  // ------------------------------------------------------------------ lookup
  // The re-check before a resend, item by item instead of a whole library read: the item's
  // rating key from the GUID index, then GET /library/metadata/{rk} for its state now.
  // An item not in the libraries is absent; a failed request fails the call (the host then
  // reads the whole index). The watchlist is not looked up (UNSUPPORTED: the host reads it).
  cwsdk::Reply lookup(std::string_view request) {
    auto req = cwsdk::read_lookup_request(request, {"history", "ratings", "progress"});
    if (!req) return req.error().reply();
    if (!m_catalog) {
      auto cat = load_catalog();
      if (!cat) return cat.error().reply();
      keep_catalog(std::move(*cat));
    }
    cwsdk::LookupReply out;
    for (const Item& item : req->items) {
      if (m_host.cancelled()) return Failure::of(CW_STATUS_CANCELLED, "lookup cancelled").reply();
      const std::optional<Row> row = resolve(item, *m_catalog);
      if (!row) {
        out.absent(item.key);
        continue;
      }
      auto r = cwsdk::http::Request::get("/library/metadata/{rk}");
      r.path_param("rk", row->rk).endpoint("/library/metadata/:id");
      auto doc = pms_json(std::move(r));
      if (!doc) {
        if (doc.error().status == CW_STATUS_NOT_FOUND) {
          out.absent(item.key);
          continue;
        }
        return doc.error().reply();
      }
      const Json* j = cwsdk::find(*doc, "/MediaContainer/Metadata/0");
      if (j == nullptr)
        return Failure::internal("GET /library/metadata/:id: no Metadata row").reply();
      const int code = row->type == ItemType::movie    ? 1
                       : row->type == ItemType::show   ? 2
                       : row->type == ItemType::season ? 3
                                                       : 4;
      auto now = read_row(*j, code, row->section);
      if (!now) return now.error().context("lookup").reply();
      std::optional<Item> found;
      if (req->feature == "history") found = history_item(*now, *m_catalog);
      if (req->feature == "ratings") found = rating_item(*now, *m_catalog);
      if (req->feature == "progress") found = progress_item(*now, *m_catalog);
      if (found) {
        out.present(item.key, {*found});
      } else {
        out.absent(item.key);
      }
    }
    return out.reply();
  }

  // ------------------------------------------------------------------ PIN login
  // plex.tv's PIN flow: POST /api/v2/pins gives a 4-character code the user enters at
  // plex.tv/link; GET /api/v2/pins/{id} carries authToken once they did. The account token
  // is stored, then the server's own token is found in /api/v2/resources (the server whose
  // clientIdentifier is machine_id, else the one with a connection at url, else the only
  // owned server) and stored too.
  cwsdk::Reply auth_start(std::string_view request) {
    if (auto ok = cwsdk::read_auth_start_request(request); !ok) return ok.error().reply();
    auto reply = m_plextv.json(cwsdk::http::Request::post("/api/v2/pins"));
    if (!reply) return reply.error().context("plex.tv PIN").reply();
    const Json* id = cwsdk::find(*reply, "id");
    auto id_text = id ? cwsdk::id_text(*id) : std::nullopt;
    auto code = cwsdk::get<std::string>(*reply, "code");
    if (!id_text || !code || code->empty())
      return Failure::internal("POST /api/v2/pins: the reply has no id or code").reply();
    const std::int64_t expires_s =
        std::clamp<std::int64_t>(cwsdk::get_or<std::int64_t>(*reply, "expiresIn", 900), 1, 3600);
    m_pin_id = *id_text;
    m_pin_expires_at = m_host.now_ms() + expires_s * 1000;
    const std::string url = "https://plex.tv/link";
    Json doc = {{"kind", "pin"},
                {"user_code", *code},
                {"verification_url", url},
                {"interval_ms", 2000},
                {"expires_in_ms", expires_s * 1000},
                {"message", "open " + url + " and enter the code " + *code}};
    return cwsdk::Reply::ok(doc.dump());
  }

  cwsdk::Reply auth_poll(std::string_view) {
    auto state = [](const char* s, std::string message) {
      return cwsdk::Reply::ok(Json{{"state", s}, {"message", std::move(message)}}.dump());
    };
    if (!m_pin_id) return state("expired", "no login in progress: run cw auth login again");
    if (m_host.now_ms() >= m_pin_expires_at) {
      m_pin_id.reset();
      return state("expired", "the code expired: run cw auth login again");
    }
    auto r = cwsdk::http::Request::get("/api/v2/pins/{id}");
    r.path_param("id", *m_pin_id).endpoint("/api/v2/pins/:id");
    auto reply = m_plextv.send(std::move(r));
    if (!reply) {
      if (reply.error().status == CW_STATUS_RATE_LIMITED ||
          reply.error().status == CW_STATUS_TRANSIENT)
        return state("pending", reply.error().message);
      return reply.error().reply();
    }
    if (reply->status == 404) {
      m_pin_id.reset();
      return state("expired", "plex.tv no longer knows the code: run cw auth login again");
    }
    if (auto st = reply->check(); !st) {
      if (st.error().status == CW_STATUS_RATE_LIMITED || st.error().status == CW_STATUS_TRANSIENT)
        return state("pending", st.error().message);
      return st.error().reply();
    }
    auto doc = reply->json();
    if (!doc) return doc.error().reply();
    const std::string token = cwsdk::get_or(*doc, "authToken", "");
    if (token.empty())
      return state("pending", "waiting for the code to be entered at plex.tv/link");
    m_pin_id.reset();
    if (m_host.put_secret(k_stored_account_token, token) != CW_STATUS_OK)
      return Failure::internal("could not store the plex.tv token").reply();
    auto server = discover_server(token);
    if (!server) return state("done", "signed in to plex.tv; " + server.error().message);
    if (m_host.put_secret(k_stored_server_token, server->second) != CW_STATUS_OK)
      return Failure::internal("could not store the server token").reply();
    return state("done", "signed in to plex.tv; server " + server->first);
  }

  // The server this instance talks to, among the account's resources: (name, accessToken).
  Result<std::pair<std::string, std::string>> discover_server(const std::string& account) {
    auto r = cwsdk::http::Request::get("/api/v2/resources");
    r.query("includeHttps", 1).query("includeRelay", 1).header("X-Plex-Token", account);
    auto doc = m_plextv.json(std::move(r));
    if (!doc) return doc.error().context("server discovery");
    if (!doc->is_array())
      return Failure::internal("server discovery: /api/v2/resources is not a list");
    auto trim = [](std::string u) {
      while (!u.empty() && u.back() == '/') u.pop_back();
      return u;
    };
    const Json* by_id = nullptr;
    const Json* by_url = nullptr;
    std::vector<const Json*> owned;
    for (const Json& d : *doc) {
      if (!d.is_object()) continue;
      if (cwsdk::get_or(d, "provides", "").find("server") == std::string::npos) continue;
      if (cwsdk::get_or(d, "accessToken", "").empty()) continue;
      if (!m_machine_id.empty() && cwsdk::get_or(d, "clientIdentifier", "") == m_machine_id)
        by_id = &d;
      if (const Json* conns = cwsdk::find(d, "connections"); conns && conns->is_array()) {
        for (const Json& c : *conns) {
          if (trim(cwsdk::get_or(c, "uri", "")) == m_pms.base_url()) by_url = &d;
        }
      }
      if (cwsdk::get_or(d, "owned", false)) owned.push_back(&d);
    }
    const Json* pick = by_id ? by_id : by_url ? by_url : owned.size() == 1 ? owned[0] : nullptr;
    if (pick == nullptr)
      return Failure::of(CW_STATUS_NOT_FOUND,
                         m_machine_id.empty()
                             ? "no server of the account answers at url: set machine_id or token"
                             : "the account has no server " + m_machine_id + ": set token");
    return std::make_pair(cwsdk::get_or(*pick, "name", "?"),
                          cwsdk::get_or(*pick, "accessToken", ""));
  }

  // ------------------------------------------------------------------ internals (public for tests)

  // The library sections to read: every movie and show section, or the allow-list's.
  Result<std::vector<std::pair<std::string, std::string>>> sections() {
    auto doc = pms_json(cwsdk::http::Request::get("/library/sections"));
    if (!doc) return doc.error();
    const Json* dirs = cwsdk::find(*doc, "/MediaContainer/Directory");
    if (dirs != nullptr && !dirs->is_array())
      return Failure::internal("GET /library/sections: Directory is not a list");
    std::vector<std::pair<std::string, std::string>> out;  // key, type
    std::set<std::string> matched;
    if (dirs != nullptr) {
      for (const Json& d : *dirs) {
        auto key = cwsdk::find(d, "key") ? cwsdk::id_text(*cwsdk::find(d, "key")) : std::nullopt;
        const std::string type = cwsdk::get_or(d, "type", "");
        const std::string title = cwsdk::get_or(d, "title", "");
        if (!key || key->empty())
          return Failure::internal("GET /library/sections: a section without a key");
        if (type != "movie" && type != "show") continue;
        if (!m_libraries.empty()) {
          bool allowed = false;
          for (const auto& l : m_libraries) {
            if (l == *key || cwsdk::detail::iequals(l, title)) {
              allowed = true;
              matched.insert(l);
            }
          }
          if (!allowed) continue;
        }
        out.emplace_back(*key, type);
      }
    }
    for (const auto& l : m_libraries) {
      if (!matched.count(l))
        return Failure::invalid_arg(
            "libraries: '" + l +
            "' is not a movie or show section of this server (GET /library/sections lists them)");
    }
    return out;
  }

  // The library; with `filter`, only the movies and episodes whose `filter` field is > 0.
  Result<Catalog> load_catalog(const std::string& filter = "") {
    auto secs = sections();
    if (!secs) return secs.error();
    Catalog cat;
    cat.read.complete = true;
    // Shows first: episodes take their show's ids.
    for (const auto& [key, type] : *secs) {
      std::vector<int> types = type == "movie" ? std::vector<int>{1} : std::vector<int>{2, 3, 4};
      for (int t : types) {
        // Shows and seasons are few: read whole (show ratings, season ratings, show ids).
        cwsdk::Completeness c =
            read_section(key, t, t == 2 || t == 3 ? std::string() : filter, cat);
        cat.read.received += c.received;
        cat.read.pages += c.pages;
        if (c.expected_total)
          cat.read.expected_total = cat.read.expected_total.value_or(0) + *c.expected_total;
        if (c.failure) return *c.failure;
        if (!c.complete) {
          cat.read.complete = false;
          if (cat.read.reason.empty())
            cat.read.reason = "section " + key + " type " + std::to_string(t) + ": " + c.reason;
        }
      }
    }
    return cat;
  }

 private:
  // How long a full read may stand in for the ratings and progress reads: one run.
  static constexpr std::int64_t k_catalog_reuse_ms = 10 * 60 * 1000;

  void keep_catalog(Catalog cat) {
    m_catalog = std::move(cat);
    m_catalog_read_ms = m_host.now_ms();
    m_library_written = false;
  }

  // Up to `prefetch` pages are requested ahead while one is read (a 100k-movie section is
  // 1,000 pages, each a round trip plus parsing); the rows are still read on this thread
  // and in page order, so the catalog needs no lock.
  cwsdk::Completeness read_section(const std::string& key, int type, const std::string& filter,
                                   Catalog& cat) {
    const auto token = pms_token();
    if (!token) {
      cwsdk::Completeness failed;
      failed.failure = token.error();
      failed.reason = token.error().message;
      return failed;
    }
    return cwsdk::Pager::offsets(m_page_size)
        .run_pipelined(
            m_pms,
            [&](const cwsdk::PageRequest& page) {
              auto r = cwsdk::http::Request::get("/library/sections/{key}/all");
              r.path_param("key", key)
                  .query("type", type)
                  .query("includeGuids", 1)
                  .endpoint("/library/sections/:id/all")
                  .header("X-Plex-Token", *token);
              if (!filter.empty()) r.query(filter + ">>", "0");
              cwsdk::plex_paging(r, page);
              return r;
            },
            [&](const cwsdk::PageRequest&, cwsdk::http::Response reply) -> Result<cwsdk::Page> {
              return read_section_page(key, type, reply, cat);
            },
            m_prefetch);
  }

  // One page of a section listing: its rows into the catalog.
  Result<cwsdk::Page> read_section_page(const std::string& key, int type,
                                        const cwsdk::http::Response& reply, Catalog& cat) {
    auto doc = reply.json();
    if (!doc) return doc.error();
    const Json* mc = cwsdk::find(*doc, "/MediaContainer");
    if (mc == nullptr || !mc->is_object())
      return Failure::internal("GET /library/sections/:id/all: the reply has no MediaContainer");
    const Json* rows = cwsdk::find(*mc, "Metadata");
    if (rows != nullptr && !rows->is_array())
      return Failure::internal("GET /library/sections/:id/all: Metadata is not a list");
    std::int64_t n = 0;
    if (rows != nullptr) {
      for (const Json& j : *rows) {
        ++n;
        auto row = read_row(j, type, key);
        if (!row) {
          ++cat.left_out;
          if (cat.left_out_reason.empty())
            cat.left_out_reason =
                "a row of section " + key + " was left out: " + row.error().message;
          m_host.warn("plex: section " + key + ": a row was left out: " + row.error().message);
          continue;
        }
        cat.add(*row);  // a row repeated across pages is read once
      }
    }
    cwsdk::Page p = cwsdk::plex_page(*mc, n);
    // PMS also says the total in a header; either counts when the container has none.
    if (!p.total) {
      if (auto total = reply.header_int("x-plex-container-total-size"); total && *total > 0)
        p.total = *total;
    }
    return p;
  }

  static Result<Row> read_row(const Json& j, int type, const std::string& section) {
    if (!j.is_object()) return Failure::internal("a Metadata row is not an object");
    Row r;
    const Json* rk = cwsdk::find(j, "ratingKey");
    auto rk_text = rk ? cwsdk::id_text(*rk) : std::nullopt;
    if (!rk_text || rk_text->empty()) return Failure::internal("a row without ratingKey");
    r.rk = *rk_text;
    const std::string t = cwsdk::get_or(j, "type", "");
    const char* want = type == 1 ? "movie" : type == 2 ? "show" : type == 3 ? "season" : "episode";
    if (t != want) return Failure::internal("row " + r.rk + ": type '" + t + "', expected " + want);
    r.type = type == 1   ? ItemType::movie
             : type == 2 ? ItemType::show
             : type == 3 ? ItemType::season
                         : ItemType::episode;
    r.section = section;
    auto title = cwsdk::get_optional<std::string>(j, "title");
    if (!title) return title.error().context("row " + r.rk);
    r.title = title->value_or("");
    auto year = cwsdk::get_optional<int>(j, "year");
    if (!year) return year.error().context("row " + r.rk);
    if (*year && **year >= 1800 && **year <= 3000) r.year = **year;
    r.ids = ids_of_row(j, r.type == ItemType::episode || r.type == ItemType::season);
    r.ids.set("plex", r.rk);
    for (const char* f : {"viewCount", "viewOffset", "duration"}) {
      auto v = cwsdk::get_optional<std::int64_t>(j, f);
      if (!v) return v.error().context("row " + r.rk);
      const std::int64_t x = v->value_or(0);
      if (x < 0) return Failure::internal("row " + r.rk + ": " + f + " is negative");
      if (std::string_view(f) == "viewCount") r.view_count = x;
      if (std::string_view(f) == "viewOffset") r.view_offset = x;
      if (std::string_view(f) == "duration") r.duration = x;
    }
    auto lva = cwsdk::get_optional<std::int64_t>(j, "lastViewedAt");
    if (!lva) return lva.error().context("row " + r.rk);
    r.last_viewed_at = *lva;
    auto lra = cwsdk::get_optional<std::int64_t>(j, "lastRatedAt");
    if (!lra) return lra.error().context("row " + r.rk);
    r.last_rated_at = *lra;
    auto rating = cwsdk::get_optional<double>(j, "userRating");
    if (!rating) return rating.error().context("row " + r.rk);
    if (*rating) {
      if (**rating < 0 || **rating > 10)
        return Failure::internal("row " + r.rk + ": userRating " + std::to_string(**rating) +
                                 " is outside 0..10");
      if (**rating > 0) r.user_rating = **rating;
    }
    if (r.type == ItemType::episode) {
      const Json* gp = cwsdk::find(j, "grandparentRatingKey");
      auto show = gp ? cwsdk::id_text(*gp) : std::nullopt;
      if (!show || show->empty())
        return Failure::internal("episode " + r.rk + " has no grandparentRatingKey");
      r.show_rk = *show;
      auto season = cwsdk::get_optional<int>(j, "parentIndex");
      auto episode = cwsdk::get_optional<int>(j, "index");
      if (!season) return season.error().context("episode " + r.rk);
      if (!episode) return episode.error().context("episode " + r.rk);
      if (!*season || !*episode || **season < 0 || **episode < 0)
        return Failure::internal("episode " + r.rk + " has no season or episode number");
      r.season = **season;
      r.episode = **episode;
    }
    if (r.type == ItemType::season) {
      const Json* parent = cwsdk::find(j, "parentRatingKey");
      auto show = parent ? cwsdk::id_text(*parent) : std::nullopt;
      if (!show || show->empty())
        return Failure::internal("season " + r.rk + " has no parentRatingKey");
      r.show_rk = *show;
      auto season = cwsdk::get_optional<int>(j, "index");
      if (!season) return season.error().context("season " + r.rk);
      if (!*season || **season < 0) return Failure::internal("season " + r.rk + " has no number");
      r.season = **season;
    }
    return r;
  }

  // The show reference of an episode, from the catalog's show row (or the episode row).
  static cwsdk::ShowRef show_ref(const Row& ep, const Catalog& cat) {
    cwsdk::ShowRef s;
    if (auto show = cat.find_rk(ep.show_rk)) {
      s.title = std::move(show->title);
      s.year = show->year;
      s.ids = std::move(show->ids);
    } else {
      s.ids.set("plex", ep.show_rk);
    }
    return s;
  }

  static Item base_item(const Row& r, const Catalog& cat) {
    Item it;
    it.type = r.type;
    if (r.type == ItemType::episode) {
      it = cwsdk::make_episode(show_ref(r, cat), *r.season, *r.episode);
      it.title = r.title;
    } else if (r.type == ItemType::season) {
      it = cwsdk::make_season(show_ref(r, cat), *r.season);
      it.title = r.title;
    } else {
      it.title = r.title;
      it.year = r.year;
    }
    it.ids = r.ids;
    it.extra = Json{{"rk", r.rk}};
    return it;
  }

 public:
  static std::optional<Item> history_item(const Row& r, const Catalog& cat) {
    if (r.type == ItemType::show || r.type == ItemType::season || r.view_count <= 0)
      return std::nullopt;
    Item it = base_item(r, cat);
    it.watched_at = epoch_ms(r.last_viewed_at);
    return it;
  }
  static std::optional<Item> rating_item(const Row& r, const Catalog& cat) {
    if (!r.user_rating) return std::nullopt;
    Item it = base_item(r, cat);
    it.rating = *r.user_rating;
    it.rated_at = epoch_ms(r.last_rated_at);
    return it;
  }
  static std::optional<Item> progress_item(const Row& r, const Catalog& cat) {
    if (r.type == ItemType::show || r.type == ItemType::season || r.view_offset <= 0)
      return std::nullopt;
    Item it = base_item(r, cat);
    it.progress_ms = r.view_offset;
    if (r.duration > 0) it.duration_ms = r.duration;
    it.progress_at = epoch_ms(r.last_viewed_at);
    return it;
  }

  // The library row a write is about: the rating key it was read with (extra.rk), else
  // the first external id it shares with a row of its type, else (episodes) its show and
  // season/episode numbers. nullptr: not in the libraries cw reads.
  static std::optional<Row> resolve(const Item& item, const Catalog& cat) {
    if (item.extra.is_object()) {
      const Json* rk = cwsdk::find(item.extra, "rk");
      if (auto text = rk ? cwsdk::id_text(*rk) : std::nullopt) {
        if (auto row = cat.find_rk(*text); row && row->type == item.type) return row;
      }
    }
    auto by_ids = [&](const cwsdk::Ids& ids, ItemType type) -> std::optional<Row> {
      // Stable ids first; a plex rating key is the server's own and counts too.
      for (const char* kind : {"tmdb", "imdb", "tvdb", "anidb", "guid", "plex"}) {
        const auto v = ids.get(kind);
        if (!v) continue;
        if (auto row = cat.find_id(type, kind, *v)) return row;
      }
      return std::nullopt;
    };
    if (item.type == ItemType::episode) {
      if (auto r = by_ids(item.ids, ItemType::episode)) return r;
      if (!item.season || !item.episode) return std::nullopt;
      const auto show = by_ids(item.show.ids, ItemType::show);
      if (!show) return std::nullopt;
      return cat.find_episode(show->rk, *item.season, *item.episode);
    }
    if (item.type == ItemType::season) {
      if (!item.season) return std::nullopt;
      const auto show = by_ids(item.show.ids, ItemType::show);
      if (!show) return std::nullopt;
      return cat.find_season(show->rk, *item.season);
    }
    return by_ids(item.ids, item.type);
  }

 private:
  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req =
        cwsdk::read_write_request(request, op, {"history", "ratings", "progress", "watchlist"});
    if (!req) return req.error().reply();
    const std::string& feature = req->feature;
    if (op == "update" && feature != "ratings" && feature != "progress")
      return Failure::of(CW_STATUS_UNSUPPORTED,
                         "update: only ratings and progress are updated in place")
          .reply();
    if (feature == "watchlist") return watchlist_write(*req, op == "add");
    cwsdk::Outcomes outcomes;
    if (!m_catalog) {
      auto cat = load_catalog();
      if (!cat) return cat.error().reply();
      keep_catalog(std::move(*cat));
    }
    // The kept read no longer shows the library as it is (an unscrobble also clears the
    // resume point): later ratings and progress reads go to the server.
    m_library_written = true;
    std::optional<Failure> stop;  // a failure that ends the request (auth, rate, cancel)
    for (const Item& item : req->items) {
      if (stop) {
        outcomes.failed(item.key, *stop);
        continue;
      }
      if (m_host.cancelled()) {
        stop = Failure::of(CW_STATUS_CANCELLED, "cancelled before this item was sent");
        outcomes.failed(item.key, *stop);
        continue;
      }
      const std::optional<Row> row = resolve(item, *m_catalog);
      if (!row) {
        outcomes.unresolved(item.key, cwsdk::Reason::not_found,
                            "not in the Plex libraries cw reads (no rating key for its ids)");
        continue;
      }
      auto r = write_one(feature, op, item, *row);
      if (!r) {
        const Failure& f = r.error();
        if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED ||
            f.status == CW_STATUS_CANCELLED)
          stop = f;
        outcomes.failed(item.key, f);
        continue;
      }
      if (r->empty()) {
        outcomes.confirmed(item.key);
      } else {
        outcomes.skipped(item.key, *r);
      }
    }
    return outcomes.reply(*req);
  }

  // One write; "" confirmed, a message: skipped with that message.
  Result<std::string> write_one(const std::string& feature, std::string_view op, const Item& item,
                                const Row& row) {
    const bool removing = op == "remove";
    if (feature == "history") {
      if (item.type == ItemType::show || item.type == ItemType::season)
        return Failure::of(CW_STATUS_INVALID_ARG, "history takes movies and episodes");
      auto r = empty_put(removing ? "/:/unscrobble" : "/:/scrobble");
      r.query("key", row.rk).query("identifier", k_identifier);
      if (!removing && item.watched_at) r.query("viewedAt", *item.watched_at / 1000);
      auto reply = pms_fetch(std::move(r));
      if (!reply) return reply.error();
      return std::string();
    }
    if (feature == "ratings") {
      std::string value = "-1";
      if (!removing) {
        if (!item.rating) return Failure::of(CW_STATUS_INVALID_ARG, "no rating to write");
        auto v = cwsdk::to_scale(*item.rating, k_scale);
        if (!v) return Failure::of(CW_STATUS_INVALID_ARG, "rating outside 0..10");
        value = std::to_string(static_cast<int>(std::lround(*v)));
      }
      auto r = empty_put("/:/rate");
      r.query("key", row.rk).query("identifier", k_identifier).query("rating", value);
      auto reply = pms_fetch(std::move(r));
      if (!reply) return reply.error();
      return std::string();
    }
    // progress
    if (item.type == ItemType::show || item.type == ItemType::season)
      return Failure::of(CW_STATUS_INVALID_ARG, "progress takes movies and episodes");
    std::int64_t duration = item.duration_ms.value_or(0);
    if (duration <= 0) duration = row.duration;
    std::int64_t time = 0;
    if (!removing) {
      if (item.progress_ms) {
        time = *item.progress_ms;
      } else if (item.progress_percent && duration > 0) {
        time = static_cast<std::int64_t>(
            std::llround(*item.progress_percent * static_cast<double>(duration) / 100.0));
      } else {
        Failure f = Failure::of(CW_STATUS_INVALID_ARG,
                                "no progress_ms, and no duration to place a percentage");
        f.reason = cwsdk::Reason::rejected;
        return f;
      }
    }
    auto r = cwsdk::http::Request::post("/:/timeline");
    r.query("ratingKey", row.rk)
        .query("key", "/library/metadata/" + row.rk)
        .query("identifier", k_identifier)
        .query("state", "stopped")
        .query("time", time);
    if (duration > 0) r.query("duration", duration);
    r.retry_safe(true);
    auto reply = pms_fetch(std::move(r));
    if (!reply) return reply.error();
    return std::string();
  }

  // ------------------------------------------------------------------ watchlist
  cwsdk::Reply watchlist_index(cwsdk::Output& out) {
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    if (!has_account())
      return index.fail(
          Failure::of(CW_STATUS_UNSUPPORTED, "watchlist: set account_token (plex.tv) to use it"));
    std::int64_t left_out = 0;
    std::string left_reason;
    cwsdk::Completeness c =
        cwsdk::Pager::offsets(m_page_size)
            .run(m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
              auto r = cwsdk::http::Request::get("/library/sections/watchlist/all");
              r.query("includeCollections", 1).query("includeExternalMedia", 1);
              cwsdk::plex_paging(r, page);
              auto doc = account_json(m_discover, std::move(r));
              if (!doc) return doc.error();
              const Json* mc = cwsdk::find(*doc, "/MediaContainer");
              if (mc == nullptr || !mc->is_object())
                return Failure::internal(
                    "GET /library/sections/watchlist/all: the reply has no MediaContainer");
              const Json* rows = cwsdk::find(*mc, "Metadata");
              if (rows != nullptr && !rows->is_array())
                return Failure::internal(
                    "GET /library/sections/watchlist/all: Metadata is not a list");
              std::int64_t n = 0;
              if (rows != nullptr) {
                for (const Json& j : *rows) {
                  ++n;
                  auto item = watchlist_item(j);
                  if (!item) {
                    if (item.error().status == CW_STATUS_CANCELLED ||
                        item.error().status == CW_STATUS_AUTH ||
                        item.error().status == CW_STATUS_RATE_LIMITED) {
                      return item.error();
                    }
                    ++left_out;
                    if (left_reason.empty())
                      left_reason = "a watchlist row was left out: " + item.error().message;
                    m_host.warn("plex: " + left_reason);
                    continue;
                  }
                  if (auto ok = index.add(*item); !ok) {
                    ++left_out;
                    m_host.warn("plex: a watchlist row was left out: " + ok.error().message);
                  }
                }
              }
              return cwsdk::plex_page(*mc, n);
            });
    if (c.failure && index.received() == 0) return index.fail(*c.failure);
    if (left_out > 0 && c.complete) {
      c.complete = false;
      c.reason = left_reason.empty() ? "watchlist rows were left out" : left_reason;
    }
    return index.finish(c);
  }

  Result<Item> watchlist_item(const Json& j) {
    if (!j.is_object()) return Failure::internal("a watchlist row is not an object");
    const Json* rkj = cwsdk::find(j, "ratingKey");
    auto rk = rkj ? cwsdk::id_text(*rkj) : std::nullopt;
    if (!rk || rk->empty()) return Failure::internal("a watchlist row without ratingKey");
    const std::string type = cwsdk::get_or(j, "type", "");
    Item it;
    if (type == "movie") {
      it.type = ItemType::movie;
    } else if (type == "show") {
      it.type = ItemType::show;
    } else {
      return Failure::internal("watchlist row " + *rk + ": type '" + type +
                               "' is not movie or show");
    }
    it.title = cwsdk::get_or(j, "title", "");
    const int year = cwsdk::get_or(j, "year", 0);
    if (year >= 1800 && year <= 3000) it.year = year;
    it.ids = ids_of_row(j, false);
    auto ids = hydrate(*rk);
    if (!ids) return ids.error();
    it.ids.merge(*ids);
    it.extra = Json{{"discover_rk", *rk}};
    return it;
  }

  // A Discover item's external ids from the metadata host, cached in kv (ids of a Discover
  // item do not change). A 404 gives no ids (the item keeps its plex:// guid).
  Result<cwsdk::Ids> hydrate(const std::string& rk) {
    const std::string kv_key = "meta:" + rk;
    if (auto cached = m_host.kv_get(kv_key)) {
      Json doc = Json::parse(*cached, nullptr, false);
      if (doc.is_object()) return cwsdk::Ids::from_json(doc);
    }
    auto r = cwsdk::http::Request::get("/library/metadata/{rk}");
    r.path_param("rk", rk).query("includeGuids", 1).endpoint("/library/metadata/:id");
    auto doc = account_json(m_metadata, std::move(r));
    if (!doc) {
      if (doc.error().status == CW_STATUS_NOT_FOUND) return cwsdk::Ids();
      return doc.error();
    }
    const Json* row = cwsdk::find(*doc, "/MediaContainer/Metadata/0");
    if (row == nullptr) return cwsdk::Ids();
    cwsdk::Ids ids = ids_of_row(*row, false);
    m_host.kv_put(kv_key, ids.to_json().dump());
    return ids;
  }

  // A Discover ratingKey for a movie or show, by its tmdb, imdb or tvdb id.
  Result<std::optional<std::string>> discover_key(const Item& item) {
    if (item.extra.is_object()) {
      const Json* rk = cwsdk::find(item.extra, "discover_rk");
      if (rk != nullptr && rk->is_string() && !rk->get<std::string>().empty())
        return std::optional<std::string>(rk->get<std::string>());
    }
    const std::string type = item.type == ItemType::show ? "show" : "movie";
    for (const char* kind : {"tmdb", "imdb", "tvdb"}) {
      const auto v = item.ids.get(kind);
      if (!v) continue;
      auto r = cwsdk::http::Request::get("/library/metadata/matches");
      r.query("type", type).query("title", std::string(kind) + "-" + *v);
      if (item.year) r.query("year", *item.year);
      r.query("includeGuids", 1);
      auto doc = account_json(m_metadata, std::move(r));
      if (!doc) {
        if (doc.error().status == CW_STATUS_NOT_FOUND) continue;
        return doc.error();
      }
      const Json* groups = cwsdk::find(*doc, "/MediaContainer/SearchResults");
      if (groups == nullptr || !groups->is_array()) continue;
      for (const Json& g : *groups) {
        const Json* results = cwsdk::find(g, "SearchResult");
        if (results == nullptr || !results->is_array()) continue;
        for (const Json& res : *results) {
          const Json* meta = cwsdk::find(res, "Metadata");
          if (meta == nullptr || !meta->is_object()) continue;
          const Json* rkj = cwsdk::find(*meta, "ratingKey");
          auto rk = rkj ? cwsdk::id_text(*rkj) : std::nullopt;
          if (!rk || rk->empty()) continue;
          if (cwsdk::get_or(*meta, "type", "") != type) continue;
          // A hit counts only when it carries the same id (hydrated when the row has none).
          cwsdk::Ids ids = ids_of_row(*meta, false);
          if (!ids.get(kind)) {
            auto more = hydrate(*rk);
            if (!more) return more.error();
            ids.merge(*more);
          }
          if (ids.get(kind) == v) return std::optional<std::string>(*rk);
        }
      }
    }
    return std::optional<std::string>();
  }

  cwsdk::Reply watchlist_write(const cwsdk::WriteRequest& req, bool adding) {
    if (!has_account())
      return Failure::of(CW_STATUS_UNSUPPORTED, "watchlist: set account_token (plex.tv) to use it")
          .reply();
    cwsdk::Outcomes outcomes;
    std::optional<Failure> stop;
    for (const Item& item : req.items) {
      if (stop) {
        outcomes.failed(item.key, *stop);
        continue;
      }
      if (m_host.cancelled()) {
        stop = Failure::of(CW_STATUS_CANCELLED, "cancelled before this item was sent");
        outcomes.failed(item.key, *stop);
        continue;
      }
      auto key = discover_key(item);
      if (!key) {
        const Failure& f = key.error();
        if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED ||
            f.status == CW_STATUS_CANCELLED)
          stop = f;
        outcomes.failed(item.key, f);
        continue;
      }
      if (!*key) {
        outcomes.unresolved(item.key, cwsdk::Reason::not_found,
                            "Discover has no movie or show with these tmdb/imdb/tvdb ids");
        continue;
      }
      auto r = empty_put(adding ? "/actions/addToWatchlist" : "/actions/removeFromWatchlist");
      r.query("ratingKey", **key).retry_safe(true);
      auto reply = account_send(m_discover, std::move(r));
      if (!reply) {
        const Failure& f = reply.error();
        if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED ||
            f.status == CW_STATUS_CANCELLED)
          stop = f;
        outcomes.failed(item.key, f);
        continue;
      }
      const std::string body = cwsdk::detail::lower_copy(reply->body);
      if (adding &&
          (reply->status == 409 || body.find("already on the watchlist") != std::string::npos)) {
        outcomes.skipped(item.key, "already on the watchlist");
        continue;
      }
      if (!adding &&
          (reply->status == 404 && body.find("not on the watchlist") != std::string::npos)) {
        outcomes.skipped(item.key, "not on the watchlist");
        continue;
      }
      if (auto st = reply->check(); !st) {
        const Failure& f = st.error();
        if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED) stop = f;
        outcomes.failed(item.key, f);
        continue;
      }
      outcomes.confirmed(item.key);
    }
    return outcomes.reply(req);
  }

  // ------------------------------------------------------------------ tokens
  // The configured token, else the one `cw auth login` stored; read at the moment of use.
  std::optional<std::string> secret_or(const char* configured, const char* stored) const {
    for (const char* name : {configured, stored}) {
      auto v = m_host.secret(name);
      if (v && !v->empty()) return v;
    }
    return std::nullopt;
  }
  std::optional<std::string> server_token() const {
    return secret_or("token", k_stored_server_token);
  }
  std::optional<std::string> account_token() const {
    return secret_or("account_token", k_stored_account_token);
  }
  bool has_account() const { return account_token().has_value(); }

  // ------------------------------------------------------------------ HTTP
  // Every PMS request carries the server token, read at the moment of use.
  Result<std::string> pms_token() const {
    auto token = server_token();
    if (!token)
      return Failure::of(
          CW_STATUS_AUTH,
          "no server token: set token, or run cw auth login <instance> (plex.tv PIN)");
    return *token;
  }
  Result<cwsdk::http::Response> pms_fetch(cwsdk::http::Request request) const {
    const auto token = pms_token();
    if (!token) return token.error();
    return m_pms.fetch(std::move(request.header("X-Plex-Token", *token)));
  }
  Result<Json> pms_json(cwsdk::http::Request request) const {
    auto reply = pms_fetch(std::move(request));
    if (!reply) return reply.error();
    return reply->json();
  }
  // plex.tv, Discover and the metadata host take the account token.
  Result<cwsdk::http::Response> account_send(const cwsdk::http::Client& api,
                                             cwsdk::http::Request request) const {
    const auto token = account_token();
    if (!token)
      return Failure::of(CW_STATUS_AUTH,
                         "no plex.tv token: set account_token, or run cw auth login <instance>");
    return api.send(std::move(request.header("X-Plex-Token", *token)));
  }
  Result<Json> account_json(const cwsdk::http::Client& api, cwsdk::http::Request request) const {
    auto reply = account_send(api, std::move(request));
    if (!reply) return reply.error();
    if (auto st = reply->check(); !st) return st.error();
    return reply->json();
  }

  cwsdk::Host m_host;
  cwsdk::http::Client m_pms, m_discover, m_metadata, m_plextv;
  std::string m_client_id, m_machine_id;
  int m_page_size = 100;
  int m_prefetch = 4;
  std::optional<std::string> m_pin_id;  // the PIN login in progress
  std::int64_t m_pin_expires_at = 0;
  std::vector<std::string> m_libraries;
  std::optional<Catalog> m_catalog;  // the last full read: the GUID index of writes
  std::int64_t m_catalog_read_ms = 0;
  bool m_library_written = false;  // a history, ratings or progress write since that read
};

}  // namespace plex
