#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include <cw/sync/id_resolution.hpp>
#include <cw/util/json.hpp>

namespace cw::sync {
namespace {

using nlohmann::json;

// Seasons and episodes are resolved through their show.
bool show_level(const engine::Item& item) {
  return item.kind == engine::ItemKind::season || item.kind == engine::ItemKind::episode;
}

const engine::Ids& ids_to_resolve(const engine::Item& item) {
  return show_level(item) ? item.show_ids : item.ids;
}

// The cache key of an item's question: its kind and every id it has, in kind order.
std::string query_of(const engine::Item& item) {
  const engine::Ids& ids = ids_to_resolve(item);
  if (ids.empty()) return {};
  std::string q = show_level(item) ? "show" : std::string(engine::to_string(item.kind));
  for (const auto e : ids.entries()) {
    q += '|';
    q += e.kind == engine::IdKind::other
             ? std::string(e.value)
             : std::string(engine::to_string(e.kind)) + ":" + std::string(e.value);
  }
  return q;
}

engine::Ids ids_from(const json& object) {
  auto item = engine::item_from_json(json{{"type", "movie"}, {"ids", object}});
  return item ? item->ids : engine::Ids();
}

// The items of `snap` that share no id with `other`, as questions.
void collect(const engine::Snapshot& snap, const engine::Snapshot& other,
             std::map<std::string, const engine::Item*>& questions, std::size_t& unmatched) {
  const engine::Index& idx = snap.index;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (other.index.find_entry(idx, i) != nullptr) continue;
    const engine::Item& item = idx.entries()[i].item;
    const std::string q = query_of(item);
    if (q.empty()) continue;
    ++unmatched;
    questions.emplace(q, &item);
  }
}

// Rebuilds `snap`'s index with the answers merged in; the number of items that changed.
std::size_t enrich(engine::Snapshot& snap, const std::map<std::string, engine::Ids>& answers) {
  const bool history = snap.feature == engine::Feature::history;
  std::vector<engine::Item> items = snap.index.to_items(history);
  std::size_t changed = 0;
  for (auto& item : items) {
    const auto it = answers.find(query_of(item));
    if (it == answers.end()) continue;
    engine::Ids merged = it->second;
    merged.merge_from(ids_to_resolve(item));  // the item's own values win
    engine::Ids& target = show_level(item) ? item.show_ids : item.ids;
    if (merged == target) continue;
    target = std::move(merged);
    ++changed;
  }
  if (changed > 0) snap.index = engine::Index::build(std::move(items), history);
  return changed;
}

}  // namespace

json ResolveStats::to_json() const {
  json j = {{"unmatched", unmatched}, {"cached", cached}, {"asked", asked}, {"enriched", enriched}};
  if (!error.empty()) j["error"] = error;
  return j;
}

ResolveStats resolve_unmatched(ProviderPort& resolver, state::StateStore& store,
                               engine::Snapshot& a, engine::Snapshot& b,
                               const ResolveOptions& options,
                               const std::function<void()>& count_call) {
  ResolveStats stats;
  std::map<std::string, const engine::Item*> questions;
  collect(a, b, questions, stats.unmatched);
  collect(b, a, questions, stats.unmatched);
  if (questions.empty()) return stats;

  std::vector<std::string> keys;
  for (const auto& [q, item] : questions) keys.push_back(q);
  auto cached = store.resolutions_get(resolver.instance(), keys, options.now_s);
  if (!cached) {
    stats.error = cached.error().message;
    return stats;
  }
  std::map<std::string, engine::Ids> answers;
  for (const auto& [q, text] : *cached) {
    ++stats.cached;
    const json ids = json::parse(text, nullptr, false);
    if (ids.is_object() && !ids.empty()) answers.emplace(q, ids_from(ids));
  }

  // Ask about the rest, a chunk at a time; every question asked is cached, an unknown item
  // as "{}" so that it is not asked again before its time to live ends.
  std::vector<std::string> ask;
  for (const auto& q : keys)
    if (!cached->count(q) && ask.size() < options.max_asked) ask.push_back(q);
  std::vector<state::IdResolution> fresh;
  for (std::size_t i = 0; i < ask.size(); i += options.chunk) {
    json request = json::array();
    std::set<std::string> pending;
    for (std::size_t j = i; j < std::min(ask.size(), i + options.chunk); ++j) {
      const engine::Item& item = *questions[ask[j]];
      json doc = engine::item_to_json(item);
      json entry = {
          {"key", ask[j]},
          {"type", show_level(item) ? "show" : doc["type"]},
          {"ids", show_level(item) ? doc["show"].value("ids", json::object()) : doc["ids"]}};
      const std::string title = show_level(item) ? item.show_title : item.title;
      const int year = show_level(item) ? item.show_year : item.year;
      if (!title.empty()) entry["title"] = title;
      if (year > 0) entry["year"] = year;
      request.push_back(std::move(entry));
      pending.insert(ask[j]);
    }
    if (count_call) count_call();
    auto reply = resolver.resolve_ids(request);
    if (!reply) {
      stats.error = reply.error().message;
      break;  // what was answered so far is kept
    }
    stats.asked += pending.size();
    for (const auto& r : (*reply)["results"]) {
      const std::string key = util::string_member(r, "key");
      if (pending.erase(key) == 0) continue;
      const json ids = r.contains("ids") && r["ids"].is_object() ? r["ids"] : json::object();
      std::int64_t ttl = options.default_ttl_s;
      if (r.contains("ttl_s") && r["ttl_s"].is_number_integer())
        ttl = r["ttl_s"].get<std::int64_t>();
      fresh.push_back({key, ids.dump(), options.now_s + ttl});
      if (!ids.empty()) answers.emplace(key, ids_from(ids));
    }
    for (const auto& key : pending)  // no result: not known to the service
      fresh.push_back({key, "{}", options.now_s + options.default_ttl_s});
  }
  if (auto st = store.resolutions_put(resolver.instance(), fresh); !st && stats.error.empty())
    stats.error = st.error().message;
  if (!answers.empty()) stats.enriched = enrich(a, answers) + enrich(b, answers);
  return stats;
}

}  // namespace cw::sync
