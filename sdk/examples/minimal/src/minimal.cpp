// The smallest complete cw provider: a watchlist kept in memory for the life of the
// instance, seeded from the "seed" configuration key. Plugin authors start here; it is
// written on the provider kit (cwsdk/support), so that even this plugin has no code of its
// own for reading requests, normalising ids or writing replies. For a plugin that talks
// HTTP, see ../watchlog.

#include <string>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

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
    const auto cfg = cwsdk::parse_json(config, "configuration");
    if (!cfg || !cfg->is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "configuration is not a JSON object");
    const auto seed = cwsdk::get_optional<cwsdk::Json>(*cfg, "/seed");
    if (!seed || (*seed && !(*seed)->is_array()))
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "seed: expected a list of items");
    if (*seed) {
      for (const auto& entry : **seed) {
        auto item = cwsdk::Item::from_json(entry);
        if (!item) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "seed: " + item.error().message);
        m_items.push_back(std::move(*item));
      }
    }
  }

  cwsdk::Reply health(std::string_view request) {
    if (auto ok = cwsdk::read_health_request(request); !ok) return ok.error().reply();
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok).feature("watchlist", true).reply();
  }

  cwsdk::Reply build_index(std::string_view request) {
    auto req = cwsdk::read_index_request(request, {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::IndexWriter index;
    for (const auto& item : m_items) (void)index.add(item);
    return index.finish(cwsdk::Completeness::whole(static_cast<std::int64_t>(m_items.size())));
  }

  cwsdk::Reply add(std::string_view request) { return write(request, "add"); }
  cwsdk::Reply remove(std::string_view request) { return write(request, "remove"); }

 private:
  // The same item: same type and a shared id (the kit's normalised ids), or with no ids
  // at all the same title.
  static bool same(const cwsdk::Item& a, const cwsdk::Item& b) {
    if (a.type != b.type) return false;
    if (a.ids.empty() || b.ids.empty()) return a.ids.empty() && b.ids.empty() && a.title == b.title;
    return a.ids.shares_id_with(b.ids);
  }

  cwsdk::Reply write(std::string_view request, std::string_view op) {
    auto req = cwsdk::read_write_request(request, op, {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::Outcomes outcomes;
    for (const cwsdk::Item& item : req->items) {
      auto it = m_items.begin();
      while (it != m_items.end() && !same(*it, item)) ++it;
      const bool present = it != m_items.end();
      if (op == "add" && !present) {
        cwsdk::Item stored = item;
        stored.key.clear();
        m_items.push_back(std::move(stored));
      } else if (op == "remove" && present) {
        m_items.erase(it);
      }
      if (present == (op == "add"))
        outcomes.skipped(item.key, present ? "already on the watchlist" : "not on the watchlist");
      else
        outcomes.confirmed(item.key);
    }
    m_host.debug("minimal: wrote " + std::to_string(req->items.size()) + " items");
    return outcomes.reply(*req);
  }

  cwsdk::Host m_host;
  std::vector<cwsdk::Item> m_items;
};

}  // namespace

CWSDK_PROVIDER(Minimal)
