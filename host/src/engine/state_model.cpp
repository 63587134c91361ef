#include <cw/engine/identity.hpp>
#include <cw/engine/state_model.hpp>
#include <cw/util/json.hpp>

namespace cw::engine {
namespace {

using nlohmann::json;

Result<Item> item_member(const json& j, const char* name, const char* what) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Item{};
  auto item = item_from_json(*it, ItemLimits::unbounded());
  if (!item.ok())
    return make_error(std::string(what) + " has a bad item: " + item.error().message,
                      ErrorKind::invalid_arg);
  return item;
}

Result<Side> side_member(const json& j, const char* what) {
  auto s = side_from_string(util::string_member(j, "side"));
  if (!s)
    return make_error(std::string(what) + " has no valid 'side' (expected source or target)",
                      ErrorKind::invalid_arg);
  return *s;
}

Status require_object(const json& j, const char* what) {
  if (!j.is_object())
    return make_error(std::string(what) + " is not a JSON object", ErrorKind::invalid_arg);
  return ok_status();
}

template <typename T, typename F>
Status read_list(const json& j, const char* name, std::vector<T>& out, F parse) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return ok_status();
  if (!it->is_array())
    return make_error(std::string("state field '") + name + "' is not an array",
                      ErrorKind::invalid_arg);
  for (const auto& e : *it) {
    auto v = parse(e);
    if (!v.ok()) return v.error();
    out.push_back(std::move(v.value()));
  }
  return ok_status();
}

template <typename T>
json list_json(const std::vector<T>& v) {
  json a = json::array();
  for (const auto& e : v) a.push_back(to_json(e));
  return a;
}

}  // namespace

std::string_view to_string(Side s) { return s == Side::source ? "source" : "target"; }

std::optional<Side> side_from_string(std::string_view s) {
  if (s == "source") return Side::source;
  if (s == "target") return Side::target;
  return std::nullopt;
}

std::string baseline_row_key(const Item& item, bool history) {
  std::string key = canonical_key(item);
  if (history && item.watched_at) {
    key += '@';
    key += std::to_string(*item.watched_at);
  }
  return key;
}

json to_json(const Tombstone& t) {
  return json{{"key", t.key},
              {"created_at", t.created_at},
              {"expires_at", t.expires_at},
              {"item", item_to_json(t.item)}};
}

json to_json(const PendingDeletion& p) {
  return json{{"side", std::string(to_string(p.side))},
              {"key", p.key},
              {"reason", p.reason},
              {"first_seen", p.first_seen},
              {"approved", p.approved},
              {"declined", p.declined},
              {"item", item_to_json(p.item)}};
}

json to_json(const FlapCounter& f) {
  return json{{"side", std::string(to_string(f.side))},
              {"key", f.key},
              {"consecutive", f.consecutive},
              {"last_reason", f.last_reason},
              {"last_at", f.last_at}};
}

json to_json(const BlackboxEntry& b) {
  return json{{"side", std::string(to_string(b.side))},
              {"key", b.key},
              {"reason", b.reason},
              {"since", b.since},
              {"until", b.until}};
}

json to_json(const UnresolvedEntry& u) {
  return json{{"side", std::string(to_string(u.side))},
              {"key", u.key},
              {"reason", u.reason},
              {"message", u.message},
              {"first_seen", u.first_seen},
              {"last_seen", u.last_seen},
              {"attempts", u.attempts},
              {"item", item_to_json(u.item)}};
}

json to_json(const PairFeatureState& s, bool history) {
  json baselines = json::object();
  for (Side side : {Side::source, Side::target}) {
    const auto& b = s.baseline(side);
    if (!b) continue;
    json items = json::object();
    for (const auto& item : b->items) items[baseline_row_key(item, history)] = item_to_json(item);
    json jb{{"items", std::move(items)}};
    if (b->watermark) jb["watermark"] = *b->watermark;
    baselines[std::string(to_string(side))] = std::move(jb);
  }
  return json{{"baselines", std::move(baselines)}, {"tombstones", list_json(s.tombstones)},
              {"pending", list_json(s.pending)},   {"flaps", list_json(s.flaps)},
              {"blackbox", list_json(s.blackbox)}, {"unresolved", list_json(s.unresolved)}};
}

Result<Tombstone> tombstone_from_json(const json& j) {
  if (auto st = require_object(j, "tombstone"); !st.ok()) return st.error();
  Tombstone t;
  t.key = util::string_member(j, "key");
  t.created_at = util::int_member(j, "created_at");
  t.expires_at = util::int_member(j, "expires_at");
  auto item = item_member(j, "item", "tombstone");
  if (!item.ok()) return item.error();
  t.item = std::move(item.value());
  return t;
}

Result<PendingDeletion> pending_from_json(const json& j) {
  if (auto st = require_object(j, "pending deletion"); !st.ok()) return st.error();
  PendingDeletion p;
  auto side = side_member(j, "pending deletion");
  if (!side.ok()) return side.error();
  p.side = *side;
  p.key = util::string_member(j, "key");
  p.reason = util::string_member(j, "reason");
  p.first_seen = util::int_member(j, "first_seen");
  auto a = j.find("approved");
  p.approved = a != j.end() && a->is_boolean() && a->get<bool>();
  auto d = j.find("declined");
  p.declined = d != j.end() && d->is_boolean() && d->get<bool>();
  auto item = item_member(j, "item", "pending deletion");
  if (!item.ok()) return item.error();
  p.item = std::move(item.value());
  return p;
}

Result<FlapCounter> flap_from_json(const json& j) {
  if (auto st = require_object(j, "flap counter"); !st.ok()) return st.error();
  FlapCounter f;
  auto side = side_member(j, "flap counter");
  if (!side.ok()) return side.error();
  f.side = *side;
  f.key = util::string_member(j, "key");
  f.consecutive = static_cast<int>(util::int_member(j, "consecutive"));
  f.last_reason = util::string_member(j, "last_reason");
  f.last_at = util::int_member(j, "last_at");
  return f;
}

Result<BlackboxEntry> blackbox_from_json(const json& j) {
  if (auto st = require_object(j, "blackbox entry"); !st.ok()) return st.error();
  BlackboxEntry b;
  auto side = side_member(j, "blackbox entry");
  if (!side.ok()) return side.error();
  b.side = *side;
  b.key = util::string_member(j, "key");
  b.reason = util::string_member(j, "reason");
  b.since = util::int_member(j, "since");
  b.until = util::int_member(j, "until");
  return b;
}

Result<UnresolvedEntry> unresolved_from_json(const json& j) {
  if (auto st = require_object(j, "unresolved entry"); !st.ok()) return st.error();
  UnresolvedEntry u;
  auto side = side_member(j, "unresolved entry");
  if (!side.ok()) return side.error();
  u.side = *side;
  u.key = util::string_member(j, "key");
  u.reason = util::string_member(j, "reason");
  u.message = util::string_member(j, "message");
  u.first_seen = util::int_member(j, "first_seen");
  u.last_seen = util::int_member(j, "last_seen");
  u.attempts = static_cast<int>(util::int_member(j, "attempts", 1));
  auto item = item_member(j, "item", "unresolved entry");
  if (!item.ok()) return item.error();
  u.item = std::move(item.value());
  return u;
}

Result<PairFeatureState> state_from_json(const json& j) {
  if (auto st = require_object(j, "pair feature state"); !st.ok()) return st.error();
  PairFeatureState s;
  if (auto b = j.find("baselines"); b != j.end() && b->is_object()) {
    for (Side side : {Side::source, Side::target}) {
      auto sb = b->find(std::string(to_string(side)));
      if (sb == b->end() || !sb->is_object()) continue;
      SideBaseline base;
      if (auto items = sb->find("items"); items != sb->end()) {
        if (!items->is_object() && !items->is_array())
          return make_error("baseline items of the " + std::string(to_string(side)) +
                                " side are neither an object nor an array",
                            ErrorKind::invalid_arg);
        for (const auto& ij : *items) {
          auto item = item_from_json(ij, ItemLimits::unbounded());
          if (!item.ok())
            return make_error("baseline of the " + std::string(to_string(side)) +
                                  " side has a bad item: " + item.error().message,
                              ErrorKind::invalid_arg);
          base.items.push_back(std::move(item.value()));
        }
      }
      if (auto w = sb->find("watermark"); w != sb->end() && w->is_string())
        base.watermark = w->get<std::string>();
      s.baseline(side) = std::move(base);
    }
  }
  if (auto st = read_list(j, "tombstones", s.tombstones, tombstone_from_json); !st.ok())
    return st.error();
  if (auto st = read_list(j, "pending", s.pending, pending_from_json); !st.ok()) return st.error();
  if (auto st = read_list(j, "flaps", s.flaps, flap_from_json); !st.ok()) return st.error();
  if (auto st = read_list(j, "blackbox", s.blackbox, blackbox_from_json); !st.ok())
    return st.error();
  if (auto st = read_list(j, "unresolved", s.unresolved, unresolved_from_json); !st.ok())
    return st.error();
  return s;
}

}  // namespace cw::engine
