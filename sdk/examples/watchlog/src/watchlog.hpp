// An example provider that talks HTTP, written on the provider kit (cwsdk/support): the
// watchlist of "Watchlog", a small tracker API in the style of Trakt and SIMKL (the API is
// described in this folder's README). It shows what a real plugin needs and has no code
// of its own for any of it:
//
//   an API key        a secret named in the manifest, read with Host::secret at the
//                     moment of use and sent as a header (never stored, never logged)
//   paging            cwsdk::Pager over page numbers with X-Pagination-* headers: an index
//                     is complete only when every page was read and the counts agree
//   HTTP statuses     http::Client maps 401/403/404/429/5xx to statuses once; the host
//                     has already retried 429 and 5xx, honouring Retry-After
//   batch writes      BatchMapper turns {"added": counts, "not_found": [...]} into one
//                     exact outcome per item, "unknown" where the reply proves nothing
//   bad requests      read_index_request/read_write_request answer INVALID_ARG
//   untrusted replies checked JSON access (cwsdk::get, Item checks): a malformed reply is
//                     one clear error, never a crash
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace watchlog {

using cwsdk::Json;

constexpr int k_page_size = 100;

class Watchlog {
 public:
  static const char* manifest() {
    return R"json({
      "name": "watchlog",
      "version": "1.0.0",
      "display_name": "Watchlog (SDK HTTP example)",
      "description": "Example provider from the cw SDK: a tracker's watchlist over HTTP with an API key, paging, 429 and batch outcomes.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                      "remove": true, "observes_deletes": true, "provides_ids": true,
                      "chunk_size": 100, "page_size": 100}
      },
      "rate_limits": [{"name": "api", "requests": 60, "per_seconds": 60}],
      "capabilities": {"auth": "none", "scrobble": false},
      "secrets": ["api_key"],
      "config": {
        "type": "object",
        "required": ["url", "api_key"],
        "properties": {
          "url": {"type": "string", "description": "the API's base URL, e.g. https://api.watchlog.example"},
          "api_key": {"type": "string", "description": "your API key (write it as ${env:WATCHLOG_KEY})"}
        },
        "additionalProperties": false
      }
    })json";
  }

  Watchlog(cwsdk::Host host, std::string_view config)
      : m_host(host), m_api(host, base_url(config)) {
    m_api.header("Accept", "application/json");
  }

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    auto me = get(cwsdk::http::Request::get("/v1/me"));
    if (!me) return cwsdk::HealthReply::from_failure(me.error()).reply();
    const auto user = cwsdk::get_or<std::string>(*me, "/username", "an unnamed user");
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok)
        .message("signed in as " + user)
        .feature("watchlist", true)
        .reply();
  }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    std::int64_t left_out = 0;
    cwsdk::Completeness read =
        cwsdk::Pager::page_numbers(k_page_size)
            .run(m_host, [&](const cwsdk::PageRequest& page) -> cwsdk::Result<cwsdk::Page> {
              auto reply = send(cwsdk::http::Request::get("/v1/watchlist")
                                    .query("page", page.number)
                                    .query("limit", page.limit));
              if (!reply) return reply.error();
              auto doc = reply->json();
              if (!doc) return doc.error();
              if (!doc->is_array())
                return cwsdk::Failure::internal("GET /v1/watchlist: expected a JSON array");
              for (const Json& entry : *doc) {
                auto item = to_item(entry);
                // A row that is not an item is left out, and the index then says it is not
                // complete (the host infers no deletion from it).
                if (!item || !index.add(*item)) {
                  ++left_out;
                  m_host.warn(
                      "watchlog: a watchlist row was left out: " +
                      (item ? std::string("it breaks the item schema") : item.error().message));
                }
              }
              return cwsdk::pagination_headers(*reply, static_cast<std::int64_t>(doc->size()));
            });
    if (read.failure && index.received() == 0) return index.fail(*read.failure);
    if (left_out > 0 && read.complete) {
      read.complete = false;
      read.reason = std::to_string(left_out) + " rows could not be read";
    }
    return index.finish(read);
  }

  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }

 private:
  // The URL is required by the config schema; the host validated it before create().
  static std::string base_url(std::string_view config) {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    auto url = cwsdk::get<std::string>(cfg, "/url");
    if (!url) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "url: " + url.error().message);
    while (!url->empty() && url->back() == '/') url->pop_back();
    return *url;
  }

  // Every request carries the key, fetched from the host at the moment of use.
  cwsdk::Result<cwsdk::http::Response> send(cwsdk::http::Request request) const {
    const auto key = m_host.secret("api_key");
    if (!key || key->empty())
      return cwsdk::Failure::of(CW_STATUS_AUTH, "api_key is not set: add it to the configuration");
    return m_api.fetch(std::move(request.header("X-Api-Key", *key)));
  }
  cwsdk::Result<Json> get(cwsdk::http::Request request) const {
    auto reply = send(std::move(request));
    if (!reply) return reply.error();
    return reply->json();
  }

  static cwsdk::Result<cwsdk::Item> to_item(const Json& entry) {
    auto item = cwsdk::Item::from_json(entry);
    if (!item) return item.error();
    if (item->type != cwsdk::ItemType::movie && item->type != cwsdk::ItemType::show)
      return cwsdk::Failure::internal("a watchlist row of type " +
                                      std::string(cwsdk::item_type_name(item->type)));
    return item;
  }

  // add and remove: one POST per chunk; the reply's counts and not-found lists become one
  // outcome per item (BatchMapper never lets a count vouch for an item it cannot name).
  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req = cwsdk::read_write_request(request, op, {"watchlist"});
    if (!req) return req.error().reply();
    Json body = {{"movies", Json::array()}, {"shows", Json::array()}};
    cwsdk::BatchMapper batch;
    for (const cwsdk::Item& item : req->items) {
      const std::string bucket = item.type == cwsdk::ItemType::movie ? "movies" : "shows";
      body[bucket].push_back({{"ids", item.ids.to_json()}});
      batch.sent(item, bucket);
    }
    const bool adding = op == "add";
    cwsdk::Outcomes outcomes;
    auto reply = get(
        cwsdk::http::Request::post(adding ? "/v1/watchlist" : "/v1/watchlist/remove").json(body));
    // A whole-request failure (401, 429 after the host's retries): nothing was confirmed.
    if (!reply) return reply.error().reply();
    if (auto mapped = batch.map(
            *reply, adding ? cwsdk::BatchShape::added() : cwsdk::BatchShape::deleted(), outcomes);
        !mapped)
      m_host.warn("watchlog: " + mapped.error().message);
    return outcomes.reply(*req);
  }

  cwsdk::Host m_host;
  cwsdk::http::Client m_api;
};

}  // namespace watchlog
