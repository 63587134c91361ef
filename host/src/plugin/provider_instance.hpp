#pragma once
// ProviderInstance: one live instance of a plugin (a configured provider such as "trakt" or
// "plex-home"). It owns the plugin's cw_instance*, pins the library with a shared_ptr, and
// turns every operation into Result<json>: a status other than OK becomes Error{kind} with
// the plugin's message; a response that is not the documented JSON shape becomes a one-line
// internal error naming the instance, the plugin and the operation. Operations on one
// instance are serialised (the ABI promises plugins that they never overlap).

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/plugin/host_api.hpp>
#include <cw/plugin/library.hpp>
#include <cw/util/result.hpp>

namespace cw::plugin {

// The most one reply of an operation may hold (an index of a 100k-item library is about
// 30 MiB); a larger one is refused with a message naming the operation.
inline constexpr std::size_t k_max_reply_bytes = std::size_t{512} << 20;

// The value create() sees in place of every secret configuration value.
inline constexpr std::string_view k_secret_placeholder = "${secret}";

// `config` with the top-level keys in `secret_keys` (those present and not null) replaced
// by "${secret}". The config layer marks which keys are secret (values written as
// ${env:..}/${file:..}, and the manifest's "secrets").
nlohmann::json mask_secrets(const nlohmann::json& config,
                            const std::vector<std::string>& secret_keys);

// The checks every build_index and add/remove/update reply passes before the engine reads
// it (also what the fuzz targets drive). Each returns "" when the reply has the documented
// shape (sdk/schema/), else one line naming the field; both complete the document in place:
// the index's omitted members are filled in (`semantics` from `caps` when given), and an
// outcome without a readable key is dropped, one with a malformed body becomes "unknown".
// `streamed`: how many items were read out of the reply as it was parsed (its `items` is then
// empty), the default of `received`.
std::string check_index_reply(nlohmann::json& doc, const FeatureCaps* caps,
                              std::optional<std::size_t> streamed = std::nullopt);
std::string check_outcomes_reply(nlohmann::json& doc);

class ProviderInstance {
 public:
  // Creates an instance of `library` named `instance_name` from `config` (a JSON object,
  // secrets already masked). The error is one line: "provider <instance> (plugin <name>):
  // create failed: <plugin's reason>".
  static Result<std::unique_ptr<ProviderInstance>> create(std::shared_ptr<Library> library,
                                                          std::string instance_name,
                                                          const nlohmann::json& config,
                                                          const HostServices& services);
  ~ProviderInstance();
  ProviderInstance(const ProviderInstance&) = delete;
  ProviderInstance& operator=(const ProviderInstance&) = delete;

  const std::string& name() const { return m_binding->instance(); }
  // The most one reply may hold (default k_max_reply_bytes).
  void set_max_reply_bytes(std::size_t bytes) { m_max_reply_bytes = bytes; }
  const Library& library() const { return *m_library; }
  const Manifest& manifest() const { return m_library->manifest(); }

  // {"status":"ok|degraded|down|auth_failed","message":..,"features":{..}}
  Result<nlohmann::json> health();
  // {"items":[..],"complete":bool,"expected_total":N|null,"received":N,"watermark":..,
  //  "semantics":"present|delta"}; missing received/semantics are filled in.
  Result<nlohmann::json> build_index(std::string_view feature,
                                     const std::optional<std::string>& watermark);
  // The same, with the reply's items handed to `each` one by one as they are parsed, so that
  // a large index is never held as one document; the reply is returned with `items` empty
  // (`received` defaults to the count handed on). An error of `each` ends the read.
  using ItemSink = std::function<Status(nlohmann::json&& item)>;
  Result<nlohmann::json> build_index(std::string_view feature,
                                     const std::optional<std::string>& watermark,
                                     const ItemSink& each);
  // {"outcomes":[{"key","status","reason","message"}]}
  Result<nlohmann::json> add(std::string_view feature, const nlohmann::json& items);
  Result<nlohmann::json> remove(std::string_view feature, const nlohmann::json& items);
  Result<nlohmann::json> update(std::string_view feature, const nlohmann::json& items);
  // ABI 1.1, when the manifest declares it: {"results":[{"key","present","items"}]} for
  // a few items (the re-check before a resend).
  Result<nlohmann::json> lookup(std::string_view feature, const nlohmann::json& items);
  // ABI 1.1, when the manifest declares it: {"results":[{"key","ids","ttl_s"}]}.
  Result<nlohmann::json> resolve_ids(const nlohmann::json& items);
  // Any JSON document.
  Result<nlohmann::json> action(std::string_view name, const nlohmann::json& args);
  Result<nlohmann::json> scrobble(const nlohmann::json& request);
  Result<nlohmann::json> auth_start(const nlohmann::json& fields);
  Result<nlohmann::json> auth_poll();

  // Calls operation `op` ("health", "build_index", ...) with `request` as given, and
  // returns the raw status and document. For the contract suite, which sends malformed
  // requests on purpose; the host itself uses the typed calls above.
  struct RawReply {
    cw_status status = CW_STATUS_OK;
    std::string body;
  };
  Result<RawReply> call_raw(std::string_view op, std::string_view request);

 private:
  ProviderInstance() = default;

  Result<nlohmann::json> call(const char* op, cw_operation_fn fn, const nlohmann::json& request);
  // The reply's body when the status is ok, else the error it reports.
  Result<std::string> call_ok(const char* op, cw_operation_fn fn, const nlohmann::json& request);
  // The build_index request for a feature of the manifest.
  Result<nlohmann::json> index_request(std::string_view feature,
                                       const std::optional<std::string>& watermark,
                                       const FeatureCaps*& caps);
  Result<nlohmann::json> write_op(const char* op, cw_operation_fn fn, std::string_view feature,
                                  const nlohmann::json& items);
  Error error(std::string_view op, std::string_view what,
              ErrorKind kind = ErrorKind::internal) const;

  // Order matters for destruction: the instance is destroyed (in the destructor body)
  // while the binding and the library are still alive; the library goes last.
  std::shared_ptr<Library> m_library;
  std::unique_ptr<HostBinding> m_binding;
  cw_instance* m_instance = nullptr;
  std::size_t m_max_reply_bytes = k_max_reply_bytes;
  std::mutex m_mutex;
};

}  // namespace cw::plugin
