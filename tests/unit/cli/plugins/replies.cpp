// A provider whose every reply is given by its configuration, for the tests that feed the
// host malformed replies (test_plugin_replies.cpp): `replies.<op>` is the JSON document
// the operation returns (a string is returned as raw text, so truncated or non-JSON
// replies can be sent too). In add/remove/update replies, every outcome whose "key" is
// "$KEY" is repeated once per item of the request with that item's key.

#include <string>

#include <nlohmann/json.hpp>

#include <cwsdk/provider.hpp>

using nlohmann::json;

namespace {

class Replies {
 public:
  static const char* manifest() {
    return R"json({
      "name": "replies",
      "version": "1.0.0",
      "display_name": "Replies (tests)",
      "description": "Returns the replies its configuration gives; used by the reply tests.",
      "features": {
        "watchlist": {"types": ["movie", "show"], "index_semantics": "present", "add": true,
                      "remove": true, "observes_deletes": true},
        "ratings": {"types": ["movie"], "index_semantics": "present", "add": true,
                    "remove": true, "update": true, "observes_deletes": true,
                    "rating_scale": {"min": 1, "max": 10, "step": 1}}
      },
      "capabilities": {"auth": "device_code", "scrobble": false},
      "config": {"type": "object", "properties": {"replies": {"type": "object"}}}
    })json";
  }

  Replies(cwsdk::Host host, std::string_view config) : m_host(host) {
    const json cfg = json::parse(config.begin(), config.end(), nullptr, false);
    if (cfg.is_object() && cfg.contains("replies") && cfg["replies"].is_object())
      m_replies = cfg["replies"];
  }

  cwsdk::Reply health(std::string_view) { return reply("health", R"({"status":"ok"})"); }
  cwsdk::Reply build_index(std::string_view) {
    return reply("build_index", R"({"items":[],"complete":true})");
  }
  cwsdk::Reply add(std::string_view request) { return write("add", request); }
  cwsdk::Reply remove(std::string_view request) { return write("remove", request); }
  cwsdk::Reply update(std::string_view request) { return write("update", request); }
  cwsdk::Reply auth_start(std::string_view) { return reply("auth_start", R"({"kind":"none"})"); }
  cwsdk::Reply auth_poll(std::string_view) { return reply("auth_poll", R"({"state":"done"})"); }

 private:
  cwsdk::Reply reply(const char* op, const char* fallback) const {
    const auto it = m_replies.find(op);
    if (it == m_replies.end()) return cwsdk::Reply::ok(fallback);
    return cwsdk::Reply::ok(it->is_string() ? it->get<std::string>() : it->dump());
  }

  cwsdk::Reply write(const char* op, std::string_view request) const {
    const auto it = m_replies.find(op);
    const json req = json::parse(request.begin(), request.end(), nullptr, false);
    if (it == m_replies.end() || !it->is_object() || !it->contains("outcomes") ||
        !(*it)["outcomes"].is_array() || !req.is_object() || !req.contains("items"))
      return reply(op, R"({"outcomes":[]})");
    json out = *it;
    json outcomes = json::array();
    for (const auto& o : (*it)["outcomes"]) {
      if (!(o.is_object() && o.contains("key") && o["key"] == "$KEY")) {
        outcomes.push_back(o);
        continue;
      }
      for (const auto& item : req["items"]) {
        json each = o;
        each["key"] = item.is_object() && item.contains("key") ? item["key"] : json();
        outcomes.push_back(std::move(each));
      }
    }
    out["outcomes"] = std::move(outcomes);
    return cwsdk::Reply::ok(out.dump());
  }

  cwsdk::Host m_host;
  json m_replies = json::object();
};

}  // namespace

CWSDK_PROVIDER(Replies)
