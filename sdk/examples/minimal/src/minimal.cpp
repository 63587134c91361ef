// The smallest complete cw provider: a watchlist kept in memory for the life of the
// instance, seeded from the "seed" configuration key. Plugin authors start here.

#include <cwsdk/provider.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

using nlohmann::json;

namespace {

class Minimal {
 public:
  static const char* manifest() {
    return R"json({
      "name": "minimal",
      "version": "1.0.0",
      "display_name": "Minimal example (in-memory watchlist)",
      "description": "Example provider from the cw SDK; keeps a watchlist in memory.",
      "features": {
        "watchlist": {
          "types": ["movie", "show"],
          "index_semantics": "present",
          "add": true,
          "remove": true,
          "update": false,
          "observes_deletes": true,
          "provides_ids": true,
          "chunk_size": 100
        }
      },
      "capabilities": {"auth": "none", "scrobble": false},
      "config": {
        "type": "object",
        "properties": {"seed": {"type": "array", "description": "initial watchlist items"}},
        "additionalProperties": false
      }
    })json";
  }

  Minimal(cwsdk::Host host, std::string_view config) : m_host(host) {
    const json cfg = json::parse(config.begin(), config.end(), nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration is not a JSON object");
    if (cfg.contains("seed")) {
      if (!cfg["seed"].is_array())
        throw cwsdk::Error(CW_STATUS_INVALID_ARG, "seed: expected a list of items");
      for (const auto& item : cfg["seed"]) m_items[key_of(item)] = item;
    }
  }

  cwsdk::Reply health(std::string_view) {
    return cwsdk::Reply::ok(R"({"status":"ok","features":{"watchlist":true}})");
  }

  cwsdk::Reply build_index(std::string_view request) {
    const json req = parse_request(request);
    json items = json::array();
    for (const auto& [key, item] : m_items) items.push_back(item);
    const auto n = items.size();
    return cwsdk::Reply::ok(json{{"items", std::move(items)},
                                 {"complete", true},
                                 {"expected_total", n},
                                 {"received", n},
                                 {"watermark", nullptr},
                                 {"semantics", "present"}}
                                .dump());
  }

  cwsdk::Reply add(std::string_view request) { return write(request, true); }
  cwsdk::Reply remove(std::string_view request) { return write(request, false); }

 private:
  static json parse_request(std::string_view request) {
    json req = json::parse(request.begin(), request.end(), nullptr, false);
    if (req.is_discarded() || !req.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "request is not a JSON object");
    if (req.value("feature", "") != "watchlist")
      throw cwsdk::Error(CW_STATUS_UNSUPPORTED, "only the watchlist feature is supported");
    return req;
  }

  // Items are keyed by their first id in a fixed order, else by type and title.
  static std::string key_of(const json& item) {
    const json ids = item.value("ids", json::object());
    for (const char* id : {"tmdb", "imdb", "tvdb"}) {
      if (ids.contains(id)) return item.value("type", "movie") + ":" + id + ":" + ids[id].dump();
    }
    return item.value("type", "movie") + ":title:" + item.value("title", "");
  }

  cwsdk::Reply write(std::string_view request, bool adding) {
    const json req = parse_request(request);
    json outcomes = json::array();
    for (const auto& item : req.value("items", json::array())) {
      const std::string key = key_of(item);
      const bool present = m_items.count(key) > 0;
      std::string status = "confirmed";
      if (adding) {
        if (present) status = "skipped";
        else m_items[key] = item;
      } else {
        if (!present) status = "skipped";
        else m_items.erase(key);
      }
      outcomes.push_back({{"key", item.value("key", key)}, {"status", status}});
    }
    m_host.debug("minimal: wrote " + std::to_string(outcomes.size()) + " items");
    return cwsdk::Reply::ok(json{{"outcomes", std::move(outcomes)}}.dump());
  }

  cwsdk::Host m_host;
  std::map<std::string, json> m_items;
};

}  // namespace

CWSDK_PROVIDER(Minimal)
