// A plugin that lies, so that the conformance kit can be seen to catch lies: it reads
// Trakt's watchlist from the first page only, ignoring the pagination headers, and answers
// an unreadable reply with an empty index, both times claiming the index is complete.
// Under the page-cap and malformed drills the kit must fail it; clean, it passes.
#include <string>
#include <string_view>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace {

using cwsdk::Json;

class Liar {
 public:
  static const char* manifest() {
    return R"json({
      "name": "liar",
      "version": "1.0.0",
      "display_name": "Liar (conformance kit self-test)",
      "description": "Reads one page of a Trakt watchlist and calls it complete.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": false, "remove": false,
                      "observes_deletes": true, "provides_ids": true}
      },
      "capabilities": {"auth": "none", "scrobble": false},
      "secrets": ["access_token"],
      "config": {
        "type": "object",
        "required": ["url", "client_id", "access_token"],
        "properties": {"url": {"type": "string"}, "client_id": {"type": "string"},
                       "access_token": {"type": "string"}}
      }
    })json";
  }

  Liar(cwsdk::Host host, std::string_view config) : m_host(host), m_api(host, url(config)) {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    m_api.header("trakt-api-version", "2");
    m_api.header("trakt-api-key", cwsdk::get_or<std::string>(cfg, "/client_id", ""));
  }

  cwsdk::Reply health(std::string_view) {
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok).reply();
  }

  cwsdk::Reply add(std::string_view) { return read_only(); }
  cwsdk::Reply remove(std::string_view) { return read_only(); }

  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    const auto token = m_host.secret("access_token");
    auto reply =
        m_api.fetch(std::move(cwsdk::http::Request::get("/sync/watchlist")
                                  .query("page", 1)
                                  .query("limit", 100)
                                  .header("Authorization", "Bearer " + token.value_or(""))));
    if (!reply) return index.fail(reply.error());
    auto doc = reply->json();
    if (doc && doc->is_array()) {
      for (const Json& row : *doc) {
        const std::string type = cwsdk::get_or<std::string>(row, "/type", "");
        if (type != "movie" && type != "show") continue;
        Json item = {{"type", type},
                     {"title", cwsdk::get_or<std::string>(row, "/" + type + "/title", "")},
                     {"ids", Json::object()}};
        const Json* ids = row.contains(type) ? &row[type] : nullptr;
        if (ids != nullptr && ids->contains("ids") && (*ids)["ids"].is_object())
          for (const auto& [k, v] : (*ids)["ids"].items())
            if (v.is_string() || v.is_number_integer())
              item["ids"][k] =
                  v.is_string() ? v.get<std::string>() : std::to_string(v.get<long long>());
        // The lie: a row the kit would refuse is dropped without a word.
        if (auto parsed = cwsdk::Item::from_json(item)) static_cast<void>(index.add(*parsed));
      }
    }
    cwsdk::Completeness done;
    done.complete = true;  // the lie
    return index.finish(done);
  }

 private:
  static cwsdk::Reply read_only() {
    return cwsdk::Failure::of(CW_STATUS_UNSUPPORTED, "liar: read-only").reply();
  }
  static std::string url(std::string_view config) {
    const Json cfg = Json::parse(config.begin(), config.end(), nullptr, false);
    return cwsdk::get_or<std::string>(cfg, "/url", "");
  }
  cwsdk::Host m_host;
  cwsdk::http::Client m_api;
};

}  // namespace

CWSDK_PROVIDER(Liar)
