#pragma once
// ProviderPort: what the sync layer needs from one live provider instance. The plugin
// loader's ProviderInstance is adapted to it (plugin_port.cpp); unit tests use an
// in-memory fake. Keeping the orchestrator on this small interface is what lets the
// applier and runner be tested without loading a library.

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <cw/plugin/manifest.hpp>
#include <cw/util/result.hpp>

namespace cw::sync {

enum class WriteOp { add, remove, update };
const char* to_string(WriteOp op);

class ProviderPort {
 public:
  virtual ~ProviderPort() = default;
  // The instance name from the configuration.
  virtual const std::string& instance() const = 0;
  virtual const plugin::Manifest& manifest() const = 0;
  // The health document {"status":..,"message":..,"features":{..}}.
  virtual Result<nlohmann::json> health() = 0;
  // The index response document of the ABI.
  virtual Result<nlohmann::json> build_index(const std::string& feature,
                                             const nlohmann::json& watermark) = 0;
  // The same read with the items handed to `each` one by one as they are parsed and the
  // reply returned with `items` empty, so that a large index is never one document. The
  // default reads the whole reply with build_index and hands its items on.
  using ItemSink = std::function<Status(nlohmann::json&& item)>;
  virtual Result<nlohmann::json> stream_index(const std::string& feature,
                                              const nlohmann::json& watermark,
                                              const ItemSink& each) {
    auto reply = build_index(feature, watermark);
    if (!reply || !reply->is_object()) return reply;
    const auto items = reply->find("items");
    if (items == reply->end() || !items->is_array()) return reply;
    for (auto& item : *items)
      if (auto st = each(std::move(item)); !st) return st.error();
    *items = nlohmann::json::array();
    return reply;
  }
  // {"outcomes":[...]} for a batch of items carrying "key".
  virtual Result<nlohmann::json> write(WriteOp op, const std::string& feature,
                                       const nlohmann::json& items) = 0;
  // ABI 1.1 lookup ({"results":[{"key","present"}]}), for ports whose manifest declares
  // it; the default says it is not there, and callers fall back to build_index.
  virtual Result<nlohmann::json> lookup(const std::string& feature, const nlohmann::json& items) {
    (void)feature;
    (void)items;
    return make_error("lookup is not supported", ErrorKind::unsupported);
  }
  // ABI 1.1 resolve_ids ({"results":[{"key","ids","ttl_s"}]}), for an id resolver.
  virtual Result<nlohmann::json> resolve_ids(const nlohmann::json& items) {
    (void)items;
    return make_error("resolve_ids is not supported", ErrorKind::unsupported);
  }
  // Set when the provider's plugin is gone (an isolated plugin that crashed or timed out),
  // until restart(): one line naming the plugin, the operation and the signal or timeout.
  // What the pair in flight got from it is not to be committed.
  virtual std::optional<std::string> lost() const { return std::nullopt; }
  // For a lost provider: its plugin started afresh (an isolated plugin's new process, at
  // most plugins.restarts times a run), so that the next pair can use it. The value is
  // which restart of the run this was (1 for the first); the error is why it stays lost.
  virtual Result<int> restart() { return make_error(lost().value_or("the provider is not lost")); }
};

}  // namespace cw::sync
