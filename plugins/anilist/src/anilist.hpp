// The AniList provider: the viewer's anime list over GraphQL. The watchlist is the entries
// with status PLANNING; ratings are the entries' scores in the user's own score format
// (read at run time from Viewer.mediaListOptions.scoreFormat and reported to the host in
// health's capabilities, so that the host snaps ratings to that grid and the conversion
// here is exact).
//
//   credentials   access_token (OAuth, sent as Bearer); read with Host::secret when used.
//   reads         Viewer once per run, then MediaListCollection(userId, type: ANIME) in
//                 chunks of 500 while hasNextChunk; custom lists are read too (an entry
//                 hidden from the status lists is only there) and entries are counted once.
//   writes        SaveMediaListEntry (status PLANNING; score in the user's format) and
//                 DeleteMediaListEntry(id); the list read of this run tells which entry a
//                 media has, else Media(id|idMal) { mediaListEntry } asks.
//   errors        GraphQL errors (HTTP 400 with "errors", or "errors" beside data) are one
//                 clear failure naming AniList's message; 401 AUTH, 404 not found, 429
//                 RATE_LIMITED with Retry-After.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace anilist {

using cwsdk::Failure;
using cwsdk::Item;
using cwsdk::ItemType;
using cwsdk::Json;
using cwsdk::Result;
namespace http = cwsdk::http;

constexpr int k_chunk = 500;  // MediaListCollection's largest perChunk

inline constexpr const char* k_viewer_query =
    "query CwViewer { Viewer { id name mediaListOptions { scoreFormat } } }";

inline constexpr const char* k_collection_query =
    "query CwList($userId: Int, $chunk: Int, $perChunk: Int) {\n"
    "  MediaListCollection(userId: $userId, type: ANIME, chunk: $chunk, perChunk: $perChunk,"
    " forceSingleCompletedList: true) {\n"
    "    hasNextChunk\n"
    "    lists { isCustomList status entries { id mediaId status score updatedAt\n"
    "      media { id idMal format seasonYear startDate { year }"
    " title { romaji english native } } } }\n"
    "  }\n"
    "}";

inline constexpr const char* k_media_query =
    "query CwMedia($id: Int) { Media(id: $id, type: ANIME) {"
    " id idMal mediaListEntry { id status score } } }";

inline constexpr const char* k_media_by_mal_query =
    "query CwMediaMal($idMal: Int) { Media(idMal: $idMal, type: ANIME) {"
    " id idMal mediaListEntry { id status score } } }";

inline constexpr const char* k_save_status =
    "mutation CwPlan($mediaId: Int, $status: MediaListStatus) {"
    " SaveMediaListEntry(mediaId: $mediaId, status: $status) { id mediaId status score } }";

inline constexpr const char* k_save_score =
    "mutation CwScore($mediaId: Int, $score: Float) {"
    " SaveMediaListEntry(mediaId: $mediaId, score: $score) { id mediaId status score } }";

inline constexpr const char* k_save_new_score =
    "mutation CwScoreNew($mediaId: Int, $score: Float, $status: MediaListStatus) {"
    " SaveMediaListEntry(mediaId: $mediaId, score: $score, status: $status)"
    " { id mediaId status score } }";

inline constexpr const char* k_delete =
    "mutation CwDelete($id: Int) { DeleteMediaListEntry(id: $id) { deleted } }";

// One list entry as cw needs it.
struct Entry {
  std::int64_t id = 0;
  std::string status;
  double score = 0;  // in the user's format; 0: no score
};

// The first GraphQL error of a reply as a failure; its "status" (AniList mirrors the HTTP
// status there) decides the cw status.
inline std::optional<Failure> graphql_error(const Json& doc, std::string_view what) {
  const Json* errors = cwsdk::find(doc, "errors");
  if (errors == nullptr || !errors->is_array() || errors->empty()) return std::nullopt;
  const Json& first = (*errors)[0];
  std::string message = cwsdk::get_or(first, "message", "an error without a message");
  if (const Json* v = cwsdk::find(first, "validation"); v != nullptr && v->is_object()) {
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (it->is_array() && !it->empty() && (*it)[0].is_string()) {
        message += " (" + it.key() + ": " + (*it)[0].get<std::string>() + ")";
        break;
      }
    }
  }
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  if (message.size() > 200) message = message.substr(0, 197) + "...";
  const int status = cwsdk::get_or(first, "status", 400);
  Failure f = http::failure_for_status(status >= 400 && status <= 599 ? status : 400, what);
  f.message = std::string(what) + ": AniList: " + message;
  return f;
}

// One MediaList entry (with media) of the collection as an item; `scale` converts scores.
inline Result<Item> entry_to_item(const Json& entry, bool with_rating,
                                  const cwsdk::RatingScale& scale) {
  const Json* media = cwsdk::find(entry, "media");
  if (media == nullptr || !media->is_object()) return Failure::internal("an entry without media");
  auto id = cwsdk::get<std::int64_t>(*media, "id");
  if (!id || *id <= 0) return Failure::internal("an entry's media has no id");
  const std::string format = cwsdk::get_or(*media, "format", "");
  std::string title = cwsdk::get_or(*media, "/title/english", "");
  if (title.empty()) title = cwsdk::get_or(*media, "/title/romaji", "");
  if (title.empty()) title = cwsdk::get_or(*media, "/title/native", "");
  Item it = format == "MOVIE" ? cwsdk::make_movie(title) : cwsdk::make_show(title);
  auto year = cwsdk::get_or<int>(*media, "seasonYear", 0);
  if (year == 0) year = cwsdk::get_or<int>(*media, "/startDate/year", 0);
  if (year >= 1800 && year <= 3000) it.year = year;
  it.ids.set("anilist", *id);
  if (auto mal = cwsdk::get_or<std::int64_t>(*media, "idMal", 0); mal > 0) it.ids.set("mal", mal);
  if (with_rating) {
    auto score = cwsdk::get_optional<double>(entry, "score");
    if (!score) return score.error().context("media " + std::to_string(*id));
    if (!*score || **score <= 0)
      return Failure::internal("media " + std::to_string(*id) + ": no score");
    const auto rating = cwsdk::from_scale(**score, scale);
    if (!rating)
      return Failure::internal("media " + std::to_string(*id) + ": score " +
                               std::to_string(**score) + " does not fit the score format");
    it.rating = *rating;
    if (auto at = cwsdk::get_or<std::int64_t>(entry, "updatedAt", 0); at > 0)
      it.rated_at = cwsdk::from_epoch_seconds(at);
  }
  return it;
}

class Anilist {
 public:
  static const char* manifest() {
    return R"json({
      "name": "anilist",
      "version": "1.0.0",
      "display_name": "AniList",
      "description": "AniList anime list over GraphQL: the planning list as the watchlist, and scores in the user's own score format as ratings.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                      "remove": true, "update": false, "observes_deletes": true,
                      "provides_ids": true, "chunk_size": 50, "page_size": 500},
        "ratings": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                    "remove": true, "update": true, "observes_deletes": true,
                    "provides_ids": true, "chunk_size": 50, "page_size": 500,
                    "rating_scale": {"min": 1, "max": 10, "step": 1}}
      },
      "rate_limits": [{"name": "graphql", "requests": 90, "per_seconds": 60}],
      "capabilities": {"auth": "none", "scrobble": false},
      "secrets": ["access_token"],
      "config": {
        "type": "object",
        "properties": {
          "url": {"type": "string", "description": "GraphQL endpoint (default https://graphql.anilist.co)"},
          "access_token": {"type": "string", "description": "OAuth access token (write it as ${env:ANILIST_TOKEN})"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Anilist(cwsdk::Host host, std::string_view config) : m_host(host), m_api(host, base_url(config)) {
    m_api.header("Accept", "application/json");
  }

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    m_viewer_id = 0;  // health asks afresh
    auto v = viewer();
    if (!v) return cwsdk::HealthReply::from_failure(v.error()).reply();
    cwsdk::HealthReply h(cwsdk::HealthStatus::ok,
                         "signed in as " + m_viewer_name + " (score format " + m_format + ")");
    h.feature("watchlist", true);
    h.feature("ratings", true);
    h.rating_scale("ratings", m_scale);
    return h.reply();
  }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist", "ratings"});
    if (!req) return req.error().reply();
    auto v = viewer();
    if (!v) return v.error().reply();
    const bool ratings = req->feature == "ratings";
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    std::map<std::int64_t, Entry> entries;  // by media id, this read
    std::set<std::int64_t> seen;            // entry ids: each entry once
    std::int64_t left_out = 0;
    cwsdk::Completeness c = cwsdk::Pager::page_numbers(k_chunk).run(
        m_host, [&](const cwsdk::PageRequest& page) -> Result<cwsdk::Page> {
          auto data =
              query(k_collection_query,
                    Json{{"userId", m_viewer_id}, {"chunk", page.number}, {"perChunk", page.limit}},
                    true);
          if (!data) return data.error();
          const Json* coll = cwsdk::find(*data, "MediaListCollection");
          if (coll == nullptr || !coll->is_object())
            return Failure::internal("MediaListCollection: no collection in the reply");
          auto lists = cwsdk::get_array(*coll, "lists");
          if (!lists) return lists.error().context("MediaListCollection");
          cwsdk::Page p;
          for (const Json& list : **lists) {
            const Json* rows = cwsdk::find(list, "entries");
            if (rows == nullptr) continue;  // an empty group
            if (!rows->is_array()) {
              ++left_out;
              m_host.warn("anilist: a list group's entries are not an array");
              continue;
            }
            for (const Json& e : *rows) {
              const auto entry_id = cwsdk::get_or<std::int64_t>(e, "id", 0);
              if (entry_id > 0 && !seen.insert(entry_id).second) continue;
              ++p.count;
              read_entry(e, ratings, entries, index, left_out);
            }
          }
          auto more = cwsdk::get_optional<bool>(*coll, "hasNextChunk");
          p.has_more = more && *more && **more;
          return p;
        });
    if (c.complete) {
      m_entries = std::move(entries);
      m_entries_known = true;
    }
    if (c.failure && index.received() == 0) return index.fail(*c.failure);
    if (left_out > 0 && c.complete) {
      c.complete = false;
      c.reason = std::to_string(left_out) + " entries could not be read";
    }
    return index.finish(c);
  }

  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }
  cwsdk::Reply update(std::string_view request) { return write(request, "update"); }

 private:
  static std::string base_url(std::string_view config) {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    std::string url = cwsdk::get_or(cfg, "url", "https://graphql.anilist.co");
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }

  // One GraphQL document; the reply's `data`, or the failure its HTTP status or first
  // GraphQL error stands for. `read` marks queries (sent in dry runs).
  Result<Json> query(const char* document, const Json& variables, bool read) {
    const auto token = m_host.secret("access_token");
    if (!token || token->empty())
      return Failure::of(CW_STATUS_AUTH,
                         "anilist access_token is not set: add it to the configuration");
    http::Request r = http::Request::post("/")
                          .json(Json{{"query", document}, {"variables", variables}})
                          .header("Authorization", "Bearer " + *token)
                          .read(read)
                          .endpoint("graphql");
    if (!read) r.retry_safe(true);  // every mutation here sets a state: safe to repeat
    auto reply = m_api.send(std::move(r));
    if (!reply) return reply.error();
    const std::string what = std::string(read ? "GraphQL query" : "GraphQL mutation");
    const Json doc = Json::parse(reply->body, nullptr, false);
    if (!reply->ok()) {
      Failure f = reply->check().error();
      if (!doc.is_discarded()) {
        if (auto g = graphql_error(doc, what)) {
          f.message = g->message + " (HTTP " + std::to_string(reply->status) + ")";
        }
      }
      return f;
    }
    if (doc.is_discarded() || !doc.is_object())
      return Failure::internal(what + ": the reply is not a JSON object (HTTP " +
                               std::to_string(reply->status) + ")");
    if (auto g = graphql_error(doc, what)) return *g;
    const Json* data = cwsdk::find(doc, "data");
    if (data == nullptr || !data->is_object())
      return Failure::internal(what + ": the reply has no data");
    return *data;
  }

  // The viewer's id and score format, once per run.
  cwsdk::Status viewer() {
    if (m_viewer_id > 0) return {};
    auto data = query(k_viewer_query, Json::object(), true);
    if (!data) return data.error();
    auto id = cwsdk::get<std::int64_t>(*data, "/Viewer/id");
    if (!id || *id <= 0)
      return Failure::of(CW_STATUS_AUTH, "anilist: Viewer gave no user: check access_token");
    const std::string format = cwsdk::get_or(*data, "/Viewer/mediaListOptions/scoreFormat", "");
    const auto scale = cwsdk::anilist_scale(format);
    if (!scale) return Failure::internal("anilist: unknown score format '" + format + "'");
    m_viewer_id = *id;
    m_viewer_name = cwsdk::get_or(*data, "/Viewer/name", "an unnamed user");
    m_format = format;
    m_scale = *scale;
    return {};
  }

  void read_entry(const Json& e, bool ratings, std::map<std::int64_t, Entry>& entries,
                  cwsdk::IndexWriter& index, std::int64_t& left_out) {
    auto skip = [&](const std::string& why) {
      ++left_out;
      m_host.warn("anilist: a list entry was left out: " + why);
    };
    if (!e.is_object()) return skip("it is not an object");
    Entry entry;
    entry.id = cwsdk::get_or<std::int64_t>(e, "id", 0);
    auto status = cwsdk::get_optional<std::string>(e, "status");
    auto score = cwsdk::get_optional<double>(e, "score");
    if (!status) return skip(status.error().message);
    if (!score) return skip(score.error().message);
    entry.status = status->value_or("");
    entry.score = score->value_or(0.0);
    const auto media_id = cwsdk::get_or<std::int64_t>(e, "/media/id", 0);
    if (entry.id > 0 && media_id > 0) entries[media_id] = entry;
    const bool wanted = ratings ? entry.score > 0 : entry.status == "PLANNING";
    if (!wanted) return;
    if (entry.id <= 0) return skip("it has no id");
    auto item = entry_to_item(e, ratings, m_scale);
    if (!item) return skip(item.error().message);
    if (auto st = index.add(*item); !st) skip(st.error().message);
  }

  static std::optional<std::int64_t> number(const std::string& digits) {
    if (digits.empty() || digits.size() > 15) return std::nullopt;
    std::int64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  }

  // What a write needs: the media id and the viewer's entry for it, if any. NOT_FOUND when
  // AniList does not know the item.
  struct Target {
    std::int64_t media_id = 0;
    std::optional<Entry> entry;
  };
  Result<Target> target(const Item& item) {
    Target t;
    std::optional<Json> media;
    const auto anilist_id = item.ids.get("anilist");
    const auto mal_id = item.ids.get("mal");
    if (anilist_id && number(*anilist_id)) {
      t.media_id = *number(*anilist_id);
      if (m_entries_known) {
        if (auto it = m_entries.find(t.media_id); it != m_entries.end()) t.entry = it->second;
        return t;
      }
      auto data = query(k_media_query, Json{{"id", t.media_id}}, true);
      if (!data) return data.error();
      media = cwsdk::find(*data, "Media") ? *cwsdk::find(*data, "Media") : Json();
    } else if (mal_id && number(*mal_id)) {
      auto data = query(k_media_by_mal_query, Json{{"idMal", *number(*mal_id)}}, true);
      if (!data) return data.error();
      media = cwsdk::find(*data, "Media") ? *cwsdk::find(*data, "Media") : Json();
    } else {
      return Failure::of(CW_STATUS_NOT_FOUND, "no anilist or mal id to find it on AniList by");
    }
    if (!media || !media->is_object())
      return Failure::of(CW_STATUS_NOT_FOUND, "AniList does not know this media");
    auto id = cwsdk::get<std::int64_t>(*media, "id");
    if (!id) return id.error().context("Media");
    t.media_id = *id;
    if (m_entries_known) {
      if (auto it = m_entries.find(t.media_id); it != m_entries.end()) t.entry = it->second;
    } else if (const Json* e = cwsdk::find(*media, "mediaListEntry"); e && e->is_object()) {
      Entry entry;
      entry.id = cwsdk::get_or<std::int64_t>(*e, "id", 0);
      entry.status = cwsdk::get_or(*e, "status", "");
      entry.score = cwsdk::get_or(*e, "score", 0.0);
      if (entry.id > 0) t.entry = entry;
    }
    return t;
  }

  // The saved entry from a SaveMediaListEntry reply; recorded in this run's list.
  Result<Entry> saved(const Json& data, std::int64_t media_id) {
    const Json* e = cwsdk::find(data, "SaveMediaListEntry");
    if (e == nullptr || !e->is_object())
      return Failure::internal("SaveMediaListEntry: no entry in the reply");
    Entry entry;
    entry.id = cwsdk::get_or<std::int64_t>(*e, "id", 0);
    entry.status = cwsdk::get_or(*e, "status", "");
    entry.score = cwsdk::get_or(*e, "score", 0.0);
    if (entry.id <= 0) return Failure::internal("SaveMediaListEntry: the entry has no id");
    m_entries[media_id] = entry;
    return entry;
  }

  // add, remove, update, one item at a time.
  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req = cwsdk::read_write_request(request, op, {"watchlist", "ratings"});
    if (!req) return req.error().reply();
    const bool ratings = req->feature == "ratings";
    if (!ratings && op == "update")
      return Failure::of(CW_STATUS_UNSUPPORTED, "anilist: the watchlist has no update").reply();
    if (auto v = viewer(); !v) return v.error().reply();
    cwsdk::Outcomes outcomes;
    bool any_done = false;
    for (std::size_t i = 0; i < req->items.size(); ++i) {
      const Item& item = req->items[i];
      if (m_host.cancelled()) {
        if (!any_done) return Failure::of(CW_STATUS_CANCELLED, "anilist: cancelled").reply();
        break;
      }
      cwsdk::Status st =
          ratings ? write_rating(item, op, outcomes) : write_watchlist(item, op == "add", outcomes);
      if (st) {
        any_done = true;
        continue;
      }
      const Failure& f = st.error();
      if (!any_done) return f.reply();
      for (std::size_t j = i; j < req->items.size(); ++j) outcomes.failed(req->items[j].key, f);
      break;
    }
    return outcomes.reply(*req);
  }

  // A failure of one item: its outcome, unless it concerns the whole account (credentials,
  // rate limit, outage, cancellation, a dry run), which is returned.
  static cwsdk::Status item_failure(const Item& item, const Failure& f, cwsdk::Outcomes& outcomes) {
    if (f.status == CW_STATUS_AUTH || f.status == CW_STATUS_RATE_LIMITED ||
        f.status == CW_STATUS_TRANSIENT || f.status == CW_STATUS_CANCELLED ||
        f.status == CW_STATUS_UNSUPPORTED)  // a write refused in a dry run
      return f;
    outcomes.failed(item.key, f);
    return {};
  }

  cwsdk::Status write_watchlist(const Item& item, bool adding, cwsdk::Outcomes& outcomes) {
    auto t = target(item);
    if (!t) {
      if (!adding && t.error().status == CW_STATUS_NOT_FOUND) {
        outcomes.skipped(item.key, "not on AniList");
        return {};
      }
      return item_failure(item, t.error(), outcomes);
    }
    if (adding) {
      if (t->entry) {
        if (t->entry->status == "PLANNING")
          outcomes.skipped(item.key, "already planned");
        else
          outcomes.unresolved(item.key, cwsdk::Reason::rejected,
                              "on the AniList list as " + t->entry->status +
                                  "; cw does not move it back to PLANNING");
        return {};
      }
      auto data =
          query(k_save_status, Json{{"mediaId", t->media_id}, {"status", "PLANNING"}}, false);
      if (!data) return item_failure(item, data.error(), outcomes);
      auto e = saved(*data, t->media_id);
      if (!e) return item_failure(item, e.error(), outcomes);
      if (e->status == "PLANNING")
        outcomes.confirmed(item.key);
      else
        outcomes.unresolved(item.key, cwsdk::Reason::unknown, "AniList saved it as " + e->status);
      return {};
    }
    if (!t->entry || t->entry->status != "PLANNING") {
      outcomes.skipped(item.key, t->entry ? "no longer planned (" + t->entry->status + ")"
                                          : std::string("not on the list"));
      return {};
    }
    auto data = query(k_delete, Json{{"id", t->entry->id}}, false);
    if (!data) return item_failure(item, data.error(), outcomes);
    const bool deleted = cwsdk::get_or(*data, "/DeleteMediaListEntry/deleted", false);
    m_entries.erase(t->media_id);
    if (deleted)
      outcomes.confirmed(item.key);
    else
      outcomes.skipped(item.key, "AniList had no such entry any more");
    return {};
  }

  cwsdk::Status write_rating(const Item& item, std::string_view op, cwsdk::Outcomes& outcomes) {
    const bool removing = op == "remove";
    std::optional<double> score = 0.0;
    if (!removing) {
      if (!item.rating) {
        outcomes.unresolved(item.key, cwsdk::Reason::rejected, "the item carries no rating");
        return {};
      }
      score = cwsdk::to_scale(*item.rating, m_scale);
      if (!score) {
        outcomes.unresolved(item.key, cwsdk::Reason::rejected, "rating outside 0..10");
        return {};
      }
    }
    auto t = target(item);
    if (!t) {
      if (removing && t.error().status == CW_STATUS_NOT_FOUND) {
        outcomes.skipped(item.key, "not on AniList");
        return {};
      }
      return item_failure(item, t.error(), outcomes);
    }
    if (removing && (!t->entry || t->entry->score <= 0)) {
      outcomes.skipped(item.key, "not scored on AniList");
      return {};
    }
    // A title not on the list yet is added as COMPLETED: a score says it was watched.
    const bool fresh = !t->entry;
    Json vars{{"mediaId", t->media_id}, {"score", *score}};
    if (fresh) vars["status"] = "COMPLETED";
    auto data = query(fresh ? k_save_new_score : k_save_score, vars, false);
    if (!data) return item_failure(item, data.error(), outcomes);
    auto e = saved(*data, t->media_id);
    if (!e) return item_failure(item, e.error(), outcomes);
    const bool stored =
        removing ? e->score <= 0 : (e->score > 0 && std::fabs(e->score - *score) < 1e-6);
    if (stored)
      outcomes.confirmed(item.key);
    else
      outcomes.unresolved(item.key, cwsdk::Reason::unknown,
                          "AniList stored score " + std::to_string(e->score));
    return {};
  }

  cwsdk::Host m_host;
  http::Client m_api;
  std::int64_t m_viewer_id = 0;
  std::string m_viewer_name;
  std::string m_format;
  cwsdk::RatingScale m_scale{1, 10, 1};
  std::map<std::int64_t, Entry> m_entries;  // media id -> the viewer's entry (last full read)
  bool m_entries_known = false;
};

}  // namespace anilist
