// Tautulli: a read-only history source for a Plex server, through Tautulli's API v2.
//
// Every call is `GET {server_url}/api/v2?apikey=KEY&cmd=CMD&...`; every reply is wrapped in
// {"response": {"result": "success"|"error", "message": ..., "data": ...}}.
//
//   health       cmd=get_server_info (the key check; Tautulli answers 400, or 401 in older
//                releases, with result "error" and "Invalid apikey" for a wrong key: AUTH)
//   build_index  history: cmd=get_history paged with start/length, newest first; one play per
//                row of a movie or an episode whose percent_complete reaches watched_percent
//                (default 85), watched at the row's `date` (else `started`, else `stopped`).
//                The ids come from cmd=get_metadata of each played item (its `guids`, and the
//                show's `grandparent_guids` for episodes), cached in the host's kv store so
//                that the next run does not ask again.
//
// Completeness is honest: complete only when every page was read, recordsFiltered agrees with
// recordsTotal (without a user filter) and with the rows received, the totals did not move
// while paging, no row repeated, and no row or metadata lookup failed.
#pragma once
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

namespace tautulli {

using cwsdk::Json;

struct Config {
  std::string server_url;      // http(s)://host:8181[/root], no trailing slash
  std::string user_id;         // "" = every user's plays
  int watched_percent = 85;    // a row counts as a play from this percent_complete on
  int per_page = 100;          // rows per get_history page (1..1000)
  int max_pages = 5000;        // a read that needs more pages ends incomplete
  int metadata_ttl_days = 30;  // cached ids are asked again after this many days
};

// The ids of one played item as get_metadata gave them (cached per rating key).
struct ItemIds {
  cwsdk::Ids ids;       // the item's own (movie or episode)
  cwsdk::Ids show_ids;  // episodes: the show's
  std::string show_title;
  std::optional<int> show_year;
};

class Tautulli {
 public:
  static const char* manifest() {
    return R"json({
      "name": "tautulli",
      "version": "1.0.0",
      "display_name": "Tautulli",
      "description": "Read-only history source: the plays Tautulli recorded for a Plex server, counted as watched from a configurable percent_complete, with ids from Tautulli's metadata.",
      "features": {
        "history": {"types": ["movie", "episode"], "index_semantics": "present", "add": false,
                    "remove": false, "observes_deletes": false, "provides_ids": true,
                    "rewatches": true, "page_size": 100}
      },
      "capabilities": {"auth": "none", "scrobble": false},
      "secrets": ["api_key"],
      "config": {
        "type": "object",
        "required": ["server_url", "api_key"],
        "properties": {
          "server_url": {"type": "string", "minLength": 1, "description": "Tautulli's address, e.g. http://tautulli:8181 (http:// is added when no scheme is given; an HTTP root such as /tautulli is kept)"},
          "api_key": {"type": "string", "description": "Tautulli's API key (Settings > Web Interface > API key; write it as ${env:TAUTULLI_API_KEY})"},
          "user_id": {"type": ["string", "integer"], "description": "only this Plex user's plays (Tautulli's user_id); default: every user"},
          "watched_percent": {"type": "integer", "minimum": 1, "maximum": 100, "default": 85, "description": "a play counts as watched from this percent_complete on"},
          "per_page": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": "history rows per request"},
          "max_pages": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 5000, "description": "a history read that needs more pages ends incomplete"},
          "metadata_ttl_days": {"type": "integer", "minimum": 0, "maximum": 3650, "default": 30, "description": "ids of played items are cached this many days (0: asked every run)"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Tautulli(cwsdk::Host host, std::string_view config)
      : m_host(host), m_cfg(read_config(config)), m_api(host, m_cfg.server_url) {
    m_api.header("Accept", "application/json");
  }

  const Config& config() const { return m_cfg; }

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto info = command("get_server_info", {});
    if (!info) return cwsdk::HealthReply::from_failure(info.error()).reply();
    if (!info->is_object())
      return cwsdk::HealthReply(cwsdk::HealthStatus::down,
                                "get_server_info: data is " +
                                    std::string(cwsdk::detail::json_type_name(*info)) +
                                    ", expected an object")
          .reply();
    const std::string name = cwsdk::get_or(*info, "/pms_name", "");
    const std::string version = cwsdk::get_or(*info, "/pms_version", "");
    std::string message = "Tautulli answers";
    if (!name.empty()) message += " for Plex Media Server " + name;
    if (!version.empty()) message += " (" + version + ")";
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok)
        .message(std::move(message))
        .feature("history", true)
        .reply();
  }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"history"});
    if (!req) return req.error().reply();
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    Read read;
    cwsdk::Completeness c =
        cwsdk::Pager::offsets(m_cfg.per_page)
            .max_pages(m_cfg.max_pages)
            .run(m_host, [&](const cwsdk::PageRequest& page) -> cwsdk::Result<cwsdk::Page> {
              return read_page(page, index, read);
            });
    if (c.failure && index.received() == 0 && read.rows == 0) return index.fail(*c.failure);
    if (c.complete) {
      if (!read.doubt.empty()) {
        c.complete = false;
        c.reason = read.doubt;
      } else if (read.left_out > 0) {
        c.complete = false;
        c.reason = std::to_string(read.left_out) + " history rows could not be read";
      }
    }
    if (!c.complete)
      m_host.warn("tautulli: the history index is incomplete: " +
                  (c.reason.empty() ? std::string("a page failed") : c.reason));
    m_host.info("tautulli: " + std::to_string(read.rows) + " history rows, " +
                std::to_string(index.received()) + " plays at " +
                std::to_string(m_cfg.watched_percent) + "% or more, " + std::to_string(read.below) +
                " below, " + std::to_string(read.other_types) + " of other media types; " +
                std::to_string(read.metadata_fetched) + " metadata lookups (" +
                std::to_string(read.metadata_cached) + " cached)");
    // The total the service announced counts rows, not plays: the index says none.
    c.expected_total.reset();
    return index.finish(c);
  }

  cwsdk::Reply add(std::string_view request) { return read_only(request, "add"); }
  cwsdk::Reply remove(std::string_view request) { return read_only(request, "remove"); }

  // ---- parts the unit tests reach directly ----

  // One history row as a play, or why it is none: nullopt with `skip` set (another media
  // type, below the threshold), or a failure (the row is malformed: left out).
  enum class Skip { none, other_type, below_threshold };

 private:
  struct Read {
    std::int64_t rows = 0;
    std::int64_t left_out = 0;
    std::int64_t below = 0;
    std::int64_t other_types = 0;
    std::int64_t metadata_fetched = 0;
    std::int64_t metadata_cached = 0;
    std::optional<std::int64_t> filtered;               // recordsFiltered of the first page
    std::optional<std::int64_t> total;                  // recordsTotal of the first page
    std::set<std::string> seen;                         // row ids read so far
    std::map<std::string, std::optional<ItemIds>> ids;  // per rating key, this run
    std::string doubt;                                  // why the read cannot be complete
  };

  static Config read_config(std::string_view text) {
    const Json cfg = Json::parse(text.begin(), text.end(), nullptr, false);
    if (!cfg.is_object()) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "config: expected an object");
    Config c;
    auto url = cwsdk::get<std::string>(cfg, "/server_url");
    if (!url) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "server_url: " + url.error().message);
    std::string u(cwsdk::detail::trim_view(*url));
    if (u.find("://") == std::string::npos) u = "http://" + u;
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
      throw cwsdk::Error(CW_STATUS_INVALID_ARG,
                         "server_url: expected an http:// or https:// address such as "
                         "http://tautulli:8181");
    while (!u.empty() && u.back() == '/') u.pop_back();
    // A pasted API URL keeps working: ".../api/v2" is where every request goes anyway.
    if (u.size() > 7 && u.compare(u.size() - 7, 7, "/api/v2") == 0) u.resize(u.size() - 7);
    c.server_url = u;
    if (const Json* uid = cwsdk::find(cfg, "/user_id"); uid != nullptr && !uid->is_null()) {
      auto uid_text = cwsdk::id_text(*uid);
      if (!uid_text) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "user_id: expected a number");
      c.user_id = std::string(cwsdk::detail::trim_view(*uid_text));
    }
    auto int_key = [&](const char* key, int& into, int lo, int hi) {
      auto v = cwsdk::get_optional<int>(cfg, std::string("/") + key);
      if (!v)
        throw cwsdk::Error(CW_STATUS_INVALID_ARG, std::string(key) + ": " + v.error().message);
      if (!*v) return;
      if (**v < lo || **v > hi)
        throw cwsdk::Error(
            CW_STATUS_INVALID_ARG,
            std::string(key) + ": expected " + std::to_string(lo) + ".." + std::to_string(hi));
      into = **v;
    };
    int_key("watched_percent", c.watched_percent, 1, 100);
    int_key("per_page", c.per_page, 1, 1000);
    int_key("max_pages", c.max_pages, 1, 100000);
    int_key("metadata_ttl_days", c.metadata_ttl_days, 0, 3650);
    return c;
  }

  cwsdk::Reply read_only(std::string_view request, std::string_view op) const {
    if (auto req = cwsdk::read_write_request(request, op, {"history"}); !req)
      return req.error().reply();
    return cwsdk::Reply::error(
        CW_STATUS_UNSUPPORTED,
        "tautulli is read-only: it cannot " + std::string(op) + " plays (use it as a source)");
  }

 public:
  // One API command; its `data` on success. Key problems are AUTH whatever the status
  // Tautulli chose (400 in v2.17.2, 401 before); other errors keep the standard mapping.
  cwsdk::Result<Json> command(
      const std::string& cmd,
      const std::vector<std::pair<std::string, std::string>>& params) const {
    const auto key = m_host.secret("api_key");
    if (!key || key->empty())
      return cwsdk::Failure::of(CW_STATUS_AUTH,
                                "api_key is not set: add Tautulli's API key to the configuration");
    auto request = cwsdk::http::Request::get("/api/v2").query("apikey", *key).query("cmd", cmd);
    for (const auto& [name, value] : params) request.query(name, value);
    request.endpoint("/api/v2?cmd=" + cmd);
    auto reply = m_api.send(std::move(request));
    if (!reply) return reply.error();
    const std::string what = "Tautulli " + cmd;
    const Json doc = Json::parse(reply->body, nullptr, false);
    const Json* response = doc.is_object() ? cwsdk::find(doc, "/response") : nullptr;
    std::string message;
    if (response != nullptr && response->is_object())
      message = cwsdk::get_or(*response, "/message", "");
    if (is_key_problem(reply->status, message))
      return cwsdk::Failure::of(
          CW_STATUS_AUTH,
          what + ": Tautulli refused the API key (" +
              (message.empty() ? "HTTP " + std::to_string(reply->status) : one_line(message)) +
              "): check api_key and that the API is enabled");
    if (!reply->ok())
      return cwsdk::http::failure_for_status(
          reply->status, what, reply->retry_after_ms().value_or(-1), one_line(message));
    if (doc.is_discarded())
      return cwsdk::Failure::internal(what + ": the reply is not JSON (HTTP " +
                                      std::to_string(reply->status) + ", " +
                                      std::to_string(reply->body.size()) + " bytes)");
    if (response == nullptr || !response->is_object())
      return cwsdk::Failure::internal(what + ": the reply has no \"response\" object");
    const std::string result = cwsdk::get_or(*response, "/result", "");
    if (result != "success")
      return cwsdk::Failure::internal(
          what + ": result is \"" + result + "\"" +
          (message.empty() ? std::string() : " (" + one_line(message) + ")"));
    const Json* data = cwsdk::find(*response, "/data");
    if (data == nullptr) return cwsdk::Failure::internal(what + ": the reply has no data");
    return *data;
  }

  // A history row as a play: nullopt with `skip` set when it is no play of a movie or an
  // episode, a failure when the row is malformed. `ids` are the item's ids (metadata).
  cwsdk::Result<std::optional<cwsdk::Item>> row_to_play(const Json& row, const ItemIds& ids,
                                                        Skip& skip) const {
    skip = Skip::none;
    const std::string type = cwsdk::get_or(row, "/media_type", "");
    if (type != "movie" && type != "episode") {
      skip = Skip::other_type;
      return std::optional<cwsdk::Item>();
    }
    auto percent = watched_percent_of(row);
    if (!percent) return percent.error();
    if (*percent < m_cfg.watched_percent) {
      skip = Skip::below_threshold;
      return std::optional<cwsdk::Item>();
    }
    auto when = watched_at_of(row);
    if (!when) return when.error();
    cwsdk::Item item;
    if (type == "movie") {
      item = cwsdk::make_movie(cwsdk::get_or(row, "/title", ""), year_of(row, "/year"));
      item.ids = ids.ids;
    } else {
      auto season = cwsdk::get<int>(row, "/parent_media_index");
      auto episode = cwsdk::get<int>(row, "/media_index");
      if (!season) return season.error().context("episode row");
      if (!episode) return episode.error().context("episode row");
      cwsdk::ShowRef show;
      show.title = cwsdk::get_or(row, "/grandparent_title", ids.show_title.c_str());
      show.year = ids.show_year;
      show.ids = ids.show_ids;
      item = cwsdk::make_episode(std::move(show), *season, *episode);
      item.title = cwsdk::get_or(row, "/title", "");
      item.ids = ids.ids;
    }
    item.watched_at = *when;
    Json extra = Json::object();
    if (auto rk = rating_key_of(row, "/rating_key")) extra["rating_key"] = *rk;
    if (auto id = row_id_of(row)) extra["row_id"] = *id;
    if (auto uid = cwsdk::get_or<std::int64_t>(row, "/user_id", -1); uid >= 0)
      extra["user_id"] = uid;
    item.extra = std::move(extra);
    if (item.ids.empty() && item.show.ids.empty() && item.title.empty() && item.show.title.empty())
      return cwsdk::Failure::internal("a history row has neither ids nor a title");
    if (auto ok = item.check(); !ok) return ok.error();
    return std::optional<cwsdk::Item>(std::move(item));
  }

  // The ids of a played item from get_metadata's data (an empty object for a deleted item).
  static ItemIds ids_from_metadata(const Json& meta, const Json& row) {
    ItemIds out;
    const bool episode = cwsdk::get_or(row, "/media_type", "") == "episode";
    // The row's own guid first, then the metadata's: legacy agents carry an id in the guid.
    auto add_guids = [](cwsdk::Ids& ids, const Json& holder, const char* guid_key,
                        const char* guids_key) {
      if (!holder.is_object()) return;
      if (const Json* g = cwsdk::find(holder, std::string("/") + guid_key);
          g != nullptr && g->is_string())
        add_guid(ids, g->get<std::string>());
      if (const Json* gs = cwsdk::find(holder, std::string("/") + guids_key);
          gs != nullptr && gs->is_array()) {
        for (const Json& g : *gs) {
          if (g.is_string()) add_guid(ids, g.get<std::string>());
          if (g.is_object()) {
            if (auto id = cwsdk::get_optional<std::string>(g, "/id"); id && *id)
              add_guid(ids, **id);
          }
        }
      }
    };
    if (!episode) {
      add_guids(out.ids, row, "guid", "guids");
      add_guids(out.ids, meta, "guid", "guids");
      return out;
    }
    // An episode's legacy guid (thetvdb://81189/1/2) names the show, not the episode.
    if (const Json* g = cwsdk::find(row, "/guid"); g != nullptr && g->is_string()) {
      const std::string guid = g->get<std::string>();
      if (guid.rfind("plex://", 0) == 0)
        add_guid(out.ids, guid);
      else
        add_guid(out.show_ids, guid);
    }
    if (meta.is_object()) {
      if (const Json* g = cwsdk::find(meta, "/guid"); g != nullptr && g->is_string()) {
        const std::string guid = g->get<std::string>();
        if (guid.rfind("plex://", 0) == 0)
          add_guid(out.ids, guid);
        else
          add_guid(out.show_ids, guid);
      }
      if (const Json* gs = cwsdk::find(meta, "/guids"); gs != nullptr && gs->is_array()) {
        for (const Json& g : *gs) {
          if (g.is_string()) add_guid(out.ids, g.get<std::string>());
        }
      }
      add_guids(out.show_ids, meta, "grandparent_guid", "grandparent_guids");
      out.show_title = cwsdk::get_or(meta, "/grandparent_title", "");
      out.show_year = year_of(meta, "/grandparent_year");
    }
    return out;
  }

 private:
  static void add_guid(cwsdk::Ids& ids, const std::string& guid) {
    if (!ids.add_guid(guid)) ids.set("guid", guid);
  }

  static std::string one_line(std::string s) {
    for (char& ch : s) {
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    if (s.size() > 160) s = s.substr(0, 157) + "...";
    return s;
  }

  static bool is_key_problem(int status, const std::string& message) {
    if (status == 401 || status == 403) return true;
    if (status != 400 && status != 404) return false;
    const std::string m = cwsdk::detail::lower_copy(message);
    return m.find("apikey") != std::string::npos || m.find("api key") != std::string::npos ||
           m.find("api not enabled") != std::string::npos;
  }

  static std::optional<int> year_of(const Json& doc, std::string_view pointer) {
    auto y = cwsdk::get_or<int>(doc, pointer, 0);
    if (y < 1800 || y > 3000) return std::nullopt;
    return y;
  }

  static std::optional<std::string> rating_key_of(const Json& row, std::string_view pointer) {
    const Json* v = cwsdk::find(row, pointer);
    if (v == nullptr) return std::nullopt;
    auto text = cwsdk::id_text(*v);
    if (!text) return std::nullopt;
    auto digits = cwsdk::normalize_id(cwsdk::IdKind::plex, *text);
    if (!digits) return std::nullopt;
    return digits;
  }
  static std::optional<std::string> row_id_of(const Json& row) {
    for (const char* p : {"/row_id", "/reference_id", "/id"}) {
      const Json* v = cwsdk::find(row, p);
      if (v == nullptr) continue;
      if (auto text = cwsdk::id_text(*v); text && !text->empty()) return text;
    }
    return std::nullopt;
  }

  // percent_complete as a number or numeric text.
  static cwsdk::Result<double> watched_percent_of(const Json& row) {
    auto p = cwsdk::get<double>(row, "/percent_complete");
    if (!p) return p.error().context("history row");
    return *p;
  }

  // The instant of a play: its `date` (when it started; Plex's own history and the other
  // Tautulli clients use it too), else `started`, else `stopped`. Epoch seconds as numbers or
  // text; values above 1e10 are milliseconds.
  static cwsdk::Result<std::int64_t> watched_at_of(const Json& row) {
    for (const char* p : {"/date", "/started", "/stopped"}) {
      auto v = cwsdk::get_or<std::int64_t>(row, p, 0);
      if (v <= 0) continue;
      auto ms = v > 10'000'000'000LL ? cwsdk::from_epoch_ms(v) : cwsdk::from_epoch_seconds(v);
      if (ms) return *ms;
    }
    return cwsdk::Failure::internal("history row: no date, started or stopped time");
  }

  // The ids of a played item: this run's, the kv cache's (while fresh), else get_metadata's.
  // nullopt with `failure` set when the lookup failed (the row is then left out).
  std::optional<ItemIds> ids_for(const Json& row, Read& read,
                                 std::optional<cwsdk::Failure>& failure) {
    const auto rk = rating_key_of(row, "/rating_key");
    if (!rk) return ids_from_metadata(Json::object(), row);  // nothing to ask about
    if (auto it = read.ids.find(*rk); it != read.ids.end()) {
      if (it->second) return *it->second;
      failure = cwsdk::Failure::internal("get_metadata for rating key " + *rk + " failed earlier");
      return std::nullopt;
    }
    const std::string kv_key = "metadata/" + *rk;
    const std::int64_t now = m_host.now_ms();
    if (auto cached = m_host.kv_get(kv_key)) {
      const Json c = Json::parse(*cached, nullptr, false);
      const std::int64_t at = c.is_object() ? cwsdk::get_or<std::int64_t>(c, "/at", 0) : 0;
      const std::int64_t ttl = static_cast<std::int64_t>(m_cfg.metadata_ttl_days) * 86'400'000LL;
      if (c.is_object() && c.contains("meta") && ttl > 0 && now - at < ttl) {
        ++read.metadata_cached;
        auto ids = ids_from_metadata(c["meta"], row);
        read.ids[*rk] = ids;
        return ids;
      }
    }
    auto meta = command("get_metadata", {{"rating_key", *rk}});
    ++read.metadata_fetched;
    if (!meta) {
      failure = meta.error();
      read.ids[*rk] = std::nullopt;
      return std::nullopt;
    }
    if (!meta->is_object()) {
      failure = cwsdk::Failure::internal("get_metadata for rating key " + *rk + ": data is " +
                                         std::string(cwsdk::detail::json_type_name(*meta)));
      read.ids[*rk] = std::nullopt;
      return std::nullopt;
    }
    // Only what the ids need is kept.
    Json keep = Json::object();
    for (const char* k : {"guid", "guids", "grandparent_guid", "grandparent_guids",
                          "grandparent_title", "grandparent_year"}) {
      if (meta->contains(k)) keep[k] = (*meta)[k];
    }
    m_host.kv_put(kv_key, Json{{"at", now}, {"meta", keep}}.dump());
    auto ids = ids_from_metadata(keep, row);
    read.ids[*rk] = ids;
    return ids;
  }

  cwsdk::Result<cwsdk::Page> read_page(const cwsdk::PageRequest& page, cwsdk::IndexWriter& index,
                                       Read& read) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"start", std::to_string(page.offset)},
        {"length", std::to_string(page.limit)},
        {"order_column", "date"},
        {"order_dir", "desc"},
        {"grouping", "1"}};
    if (!m_cfg.user_id.empty()) params.emplace_back("user_id", m_cfg.user_id);
    auto data = command("get_history", params);
    if (!data) return data.error();
    const Json* rows = nullptr;
    cwsdk::Page out;
    if (data->is_array()) {
      rows = &*data;  // older replies: the rows alone, without totals
    } else if (data->is_object()) {
      auto list = cwsdk::get_array(*data, "/data");
      if (!list) return list.error().context("get_history");
      rows = *list;
      auto filtered = cwsdk::get_optional<std::int64_t>(*data, "/recordsFiltered");
      auto total = cwsdk::get_optional<std::int64_t>(*data, "/recordsTotal");
      if (!filtered) return filtered.error().context("get_history");
      if (!total) return total.error().context("get_history");
      note_totals(page, *filtered, *total, read);
      if (*filtered)
        out.total = **filtered;
      else if (*total)
        out.total = **total;
    } else {
      return cwsdk::Failure::internal("get_history: data is " +
                                      std::string(cwsdk::detail::json_type_name(*data)));
    }
    out.count = static_cast<std::int64_t>(rows->size());
    for (const Json& row : *rows) {
      ++read.rows;
      if (!row.is_object()) {
        ++read.left_out;
        m_host.warn("tautulli: a history row is " +
                    std::string(cwsdk::detail::json_type_name(row)) + ", not an object; left out");
        continue;
      }
      if (auto id = row_id_of(row)) {
        if (!read.seen.insert(*id).second) {
          if (read.doubt.empty())
            read.doubt =
                "history row " + *id + " came twice: the history changed while it was read";
          continue;
        }
      }
      const std::string type = cwsdk::get_or(row, "/media_type", "");
      if (type != "movie" && type != "episode") {
        ++read.other_types;
        continue;
      }
      // Below the threshold needs no ids: decide before asking for metadata.
      auto percent = watched_percent_of(row);
      if (!percent) {
        ++read.left_out;
        m_host.warn("tautulli: a history row was left out: " + percent.error().message);
        continue;
      }
      if (*percent < m_cfg.watched_percent) {
        ++read.below;
        continue;
      }
      std::optional<cwsdk::Failure> failure;
      auto ids = ids_for(row, read, failure);
      if (!ids) {
        // A key, rate-limit, transport or cancellation problem ends the read (the next
        // lookups would fail alike); a malformed metadata reply leaves this row out.
        if (failure &&
            (failure->status == CW_STATUS_AUTH || failure->status == CW_STATUS_CANCELLED ||
             failure->status == CW_STATUS_RATE_LIMITED || failure->status == CW_STATUS_TRANSIENT))
          return *failure;
        ++read.left_out;
        m_host.warn("tautulli: a history row was left out: " +
                    (failure ? failure->message : std::string("no ids")));
        continue;
      }
      Skip skip = Skip::none;
      auto play = row_to_play(row, *ids, skip);
      if (!play) {
        ++read.left_out;
        m_host.warn("tautulli: a history row was left out: " + play.error().message);
        continue;
      }
      if (!*play) {
        if (skip == Skip::below_threshold) ++read.below;
        continue;
      }
      if (auto ok = index.add(**play); !ok) {
        ++read.left_out;
        m_host.warn("tautulli: a history row was left out: " + ok.error().message);
      }
    }
    return out;
  }

  // recordsFiltered is what paging goes by; without a user filter it must equal
  // recordsTotal, and neither may move while the pages are read.
  void note_totals(const cwsdk::PageRequest& page, std::optional<std::int64_t> filtered,
                   std::optional<std::int64_t> total, Read& read) const {
    if (!read.doubt.empty()) return;
    if (page.index == 0) {
      read.filtered = filtered;
      read.total = total;
      if (filtered && total && *filtered > *total) {
        read.doubt = "recordsFiltered " + std::to_string(*filtered) + " exceeds recordsTotal " +
                     std::to_string(*total);
      } else if (filtered && total && m_cfg.user_id.empty() && *filtered != *total) {
        read.doubt = "recordsTotal " + std::to_string(*total) + " and recordsFiltered " +
                     std::to_string(*filtered) + " disagree although no filter was asked for";
      }
      return;
    }
    if (filtered != read.filtered || total != read.total)
      read.doubt = "the history's totals changed while it was read (recordsFiltered " +
                   (read.filtered ? std::to_string(*read.filtered) : std::string("none")) + " -> " +
                   (filtered ? std::to_string(*filtered) : std::string("none")) + ")";
  }

  cwsdk::Host m_host;
  Config m_cfg;
  cwsdk::http::Client m_api;
};

}  // namespace tautulli
