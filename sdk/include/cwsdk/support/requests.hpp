// cwsdk/support/requests.hpp: checked readers for the documents the host sends.
//
// Each reader takes the operation's request text and returns the typed request, or a
// Failure with CW_STATUS_INVALID_ARG and a message that names the operation and the field
// ("add request: /items/3/rating: expected a number, got a string"). That is the answer
// the contract asks for a malformed request, so an operation can start with:
//
//   cwsdk::Reply add(std::string_view request) {
//     auto req = cwsdk::read_write_request(request, "add", {"watchlist", "ratings"});
//     if (!req) return req.error().reply();
//     for (const cwsdk::Item& item : req->items) ... item.key ...
//
// The optional list of features makes a request for any other feature fail with
// CW_STATUS_UNSUPPORTED ("feature 'history' is not supported by this plugin").
#ifndef CWSDK_SUPPORT_REQUESTS_HPP
#define CWSDK_SUPPORT_REQUESTS_HPP

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/support/item.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/result.hpp>
#include <cwsdk/support/time.hpp>

namespace cwsdk {

using FeatureList = std::initializer_list<std::string_view>;

// build_index: {"feature": "...", "watermark": "..." | null}.
struct IndexRequest {
  std::string feature;
  std::optional<std::string> watermark;
};

// add, remove, update, lookup: {"feature": "...", "items": [item with "key", ...]}.
struct WriteRequest {
  std::string feature;
  std::vector<Item> items;  // every one with a non-empty, unique key
};
using LookupRequest = WriteRequest;

// resolve_ids: {"items": [{"key", "type", "ids", "title", "year"}, ...]}.
struct ResolveRequest {
  std::vector<Item> items;  // every one with a non-empty, unique key
};

enum class ScrobbleEvent { start, pause, stop };

// scrobble: {"event", "item", "progress", "session", "at", "watched"}.
struct ScrobbleRequest {
  ScrobbleEvent event = ScrobbleEvent::start;
  Item item;
  double progress = 0;  // percent, 0..100
  std::string session;
  std::optional<std::int64_t> at;  // ms since the epoch
  // Set on a stop: whether the host counts it as watched (its threshold), so that a plugin
  // whose service has its own threshold records exactly the host's plays.
  std::optional<bool> watched;
};

// auth_start: {"fields": {"client_id": "...", ...}} (answers to the manifest's prompts).
struct AuthStartRequest {
  std::map<std::string, std::string> fields;
};

// action: {"action": "...", "args": {...}}.
struct ActionRequest {
  std::string action;
  Json args = Json::object();
};

namespace detail {

// A malformed request: INVALID_ARG, "<op> request: <what>".
inline Failure request_failure(std::string_view op, std::string message) {
  Failure f = Failure::invalid_arg(std::string(op) + " request: " + std::move(message));
  f.reason = Reason::rejected;
  return f;
}
inline Failure request_failure(std::string_view op, const Failure& cause) {
  return request_failure(op, cause.message);
}

inline Result<Json> read_request_object(std::string_view text, std::string_view op) {
  auto doc = parse_json(text, std::string(op) + " request");
  if (!doc) {
    Failure f = doc.error();  // "<op> request: malformed JSON at byte N: ..."
    f.status = CW_STATUS_INVALID_ARG;
    f.reason = Reason::rejected;
    return f;
  }
  if (!doc->is_object())
    return request_failure(
        op, std::string("expected a JSON object, got ") + std::string(json_type_name(*doc)));
  return doc;
}

inline Result<std::string> read_feature(const Json& doc, std::string_view op,
                                        FeatureList supported) {
  auto feature = cwsdk::get<std::string>(doc, "/feature");
  if (!feature) return request_failure(op, feature.error());
  if (feature->empty()) return request_failure(op, "/feature: empty");
  if (supported.size() != 0) {
    bool known = false;
    for (auto f : supported) known = known || f == *feature;
    if (!known)
      return Failure::of(CW_STATUS_UNSUPPORTED,
                         "feature '" + *feature + "' is not supported by this plugin");
  }
  return feature;
}

// items: an array of item documents, each with a unique non-empty key when `keyed`.
inline Result<std::vector<Item>> read_items(const Json& doc, std::string_view op, bool keyed) {
  auto items = cwsdk::get_array(doc, "/items");
  if (!items) return request_failure(op, items.error());
  std::vector<Item> out;
  out.reserve((*items)->size());
  std::set<std::string> keys;
  std::size_t i = 0;
  for (const Json& j : **items) {
    const std::string where = "/items/" + std::to_string(i++);
    auto item = Item::from_json(j);
    if (!item) {
      std::string msg = item.error().message;
      if (msg.rfind("item: ", 0) == 0) msg.erase(0, 6);
      return request_failure(op, where + (msg.rfind('/', 0) == 0 ? "" : ": ") + msg);
    }
    if (keyed) {
      if (item->key.empty())
        return request_failure(op, where + "/key: missing (expected a string)");
      if (!keys.insert(item->key).second)
        return request_failure(op, where + "/key: '" + item->key + "' appears twice");
    }
    out.push_back(std::move(*item));
  }
  return out;
}

}  // namespace detail

inline Result<IndexRequest> read_index_request(std::string_view text, FeatureList supported = {}) {
  constexpr std::string_view op = "build_index";
  auto doc = detail::read_request_object(text, op);
  if (!doc) return doc.error();
  auto feature = detail::read_feature(*doc, op, supported);
  if (!feature) return feature.error();
  auto watermark = cwsdk::get_optional<std::string>(*doc, "/watermark");
  if (!watermark) return detail::request_failure(op, watermark.error());
  return IndexRequest{std::move(*feature), std::move(*watermark)};
}

// `op` names the operation in messages: "add", "remove", "update" or "lookup".
inline Result<WriteRequest> read_write_request(std::string_view text, std::string_view op,
                                               FeatureList supported = {}) {
  auto doc = detail::read_request_object(text, op);
  if (!doc) return doc.error();
  auto feature = detail::read_feature(*doc, op, supported);
  if (!feature) return feature.error();
  auto items = detail::read_items(*doc, op, true);
  if (!items) return items.error();
  return WriteRequest{std::move(*feature), std::move(*items)};
}

inline Result<LookupRequest> read_lookup_request(std::string_view text,
                                                 FeatureList supported = {}) {
  return read_write_request(text, "lookup", supported);
}

inline Result<ResolveRequest> read_resolve_request(std::string_view text) {
  constexpr std::string_view op = "resolve_ids";
  auto doc = detail::read_request_object(text, op);
  if (!doc) return doc.error();
  auto items = detail::read_items(*doc, op, true);
  if (!items) return items.error();
  return ResolveRequest{std::move(*items)};
}

inline Result<ScrobbleRequest> read_scrobble_request(std::string_view text) {
  constexpr std::string_view op = "scrobble";
  auto doc = detail::read_request_object(text, op);
  if (!doc) return doc.error();
  ScrobbleRequest req;
  auto event = cwsdk::get<std::string>(*doc, "/event");
  if (!event) return detail::request_failure(op, event.error());
  if (*event == "start") {
    req.event = ScrobbleEvent::start;
  } else if (*event == "pause") {
    req.event = ScrobbleEvent::pause;
  } else if (*event == "stop") {
    req.event = ScrobbleEvent::stop;
  } else {
    return detail::request_failure(op, "/event: '" + *event + "' is not one of start, pause, stop");
  }
  const Json* item_doc = cwsdk::find(*doc, "/item");
  if (item_doc == nullptr)
    return detail::request_failure(op, "/item: missing (expected an object)");
  auto item = Item::from_json(*item_doc);
  if (!item) return detail::request_failure(op, "/" + item.error().message);
  req.item = std::move(*item);
  auto progress = cwsdk::get<double>(*doc, "/progress");
  if (!progress) return detail::request_failure(op, progress.error());
  if (*progress < 0 || *progress > 100)
    return detail::request_failure(
        op, "/progress: " + std::to_string(*progress) + " is outside 0..100 (percent)");
  req.progress = *progress;
  auto session = cwsdk::get_optional<std::string>(*doc, "/session");
  if (!session) return detail::request_failure(op, session.error());
  req.session = session->value_or("");
  auto watched = cwsdk::get_optional<bool>(*doc, "/watched");
  if (!watched) return detail::request_failure(op, watched.error());
  req.watched = *watched;
  auto at = cwsdk::get_optional<std::string>(*doc, "/at");
  if (!at) return detail::request_failure(op, at.error());
  if (*at) {
    req.at = parse_rfc3339(**at);
    if (!req.at)
      return detail::request_failure(op, "/at: '" + **at + "' is not an RFC 3339 timestamp");
  }
  return req;
}

inline Result<AuthStartRequest> read_auth_start_request(std::string_view text) {
  constexpr std::string_view op = "auth_start";
  auto doc = detail::read_request_object(text, op);
  if (!doc) return doc.error();
  AuthStartRequest req;
  const Json* fields = cwsdk::find(*doc, "/fields");
  if (fields == nullptr) return req;
  if (!fields->is_object())
    return detail::request_failure(op, std::string("/fields: expected an object, got ") +
                                           std::string(detail::json_type_name(*fields)));
  for (auto it = fields->begin(); it != fields->end(); ++it) {
    if (it->is_null()) continue;
    if (!it->is_string())
      return detail::request_failure(op, "/fields/" + it.key() + ": expected a string, got " +
                                             std::string(detail::json_type_name(*it)));
    req.fields[it.key()] = it->get<std::string>();
  }
  return req;
}

inline Result<ActionRequest> read_action_request(std::string_view text) {
  constexpr std::string_view op = "action";
  auto doc = detail::read_request_object(text, op);
  if (!doc) return doc.error();
  ActionRequest req;
  auto action = cwsdk::get<std::string>(*doc, "/action");
  if (!action) return detail::request_failure(op, action.error());
  req.action = std::move(*action);
  if (const Json* args = cwsdk::find(*doc, "/args")) {
    if (!args->is_object())
      return detail::request_failure(op, std::string("/args: expected an object, got ") +
                                             std::string(detail::json_type_name(*args)));
    req.args = *args;
  }
  return req;
}

// health: {} (reserved). Anything but a JSON object is malformed.
inline Status read_health_request(std::string_view text) {
  auto doc = detail::read_request_object(text, "health");
  if (!doc) return doc.error();
  return {};
}

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_REQUESTS_HPP
