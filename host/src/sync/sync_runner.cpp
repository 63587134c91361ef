#include <algorithm>
#include <chrono>
#include <set>

#include <cw/engine/planner.hpp>
#include <cw/engine/settlement.hpp>
#include <cw/sync/capabilities.hpp>
#include <cw/sync/id_resolution.hpp>
#include <cw/sync/state_bridge.hpp>
#include <cw/sync/sync_runner.hpp>
#include <cw/util/json.hpp>

namespace cw::sync {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::ok:
      return "ok";
    case RunStatus::partial:
      return "partial";
    case RunStatus::failed:
      return "failed";
    case RunStatus::cancelled:
      return "cancelled";
    case RunStatus::drifted:
      return "drifted";
  }
  return "failed";
}

// What an instance's health call said. Outside the anonymous namespace: SyncRunner::Impl
// holds it, and a unity build (the `demo` preset) warns of a member whose type has internal
// linkage.
struct HealthInfo {
  engine::Health health = engine::Health::ok;
  std::string message;
  nlohmann::json features = nlohmann::json::object();
  nlohmann::json capabilities = nullptr;  // ABI 1.1: known only at run time, per feature
  bool lost = false;  // asked of a lost plugin: asked again once it is restarted
};

namespace {

using engine::Feature;
using engine::Side;
using nlohmann::json;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

json item_label(const engine::Item& item) { return engine::describe(item); }

std::string side_name(const config::PairConfig& pc, Side s) {
  return s == Side::source ? pc.policy.source : pc.policy.target;
}

// The applier's outcome of one key as the engine settles it; nothing for a key the
// applier never sent (cancelled: it stays unsettled).
std::optional<engine::Outcome> engine_outcome(Side side, engine::ActionKind kind,
                                              const std::string& key, const KeyOutcome& o) {
  engine::Outcome out{side, kind, key, engine::OutcomeStatus::unknown, o.reason, o.message};
  switch (o.status) {
    case OutcomeStatus::confirmed:
      out.status = engine::OutcomeStatus::confirmed;
      break;
    case OutcomeStatus::skipped:
      out.status = engine::OutcomeStatus::skipped;
      break;
    case OutcomeStatus::unresolved:
      out.status = engine::OutcomeStatus::unresolved;
      break;
    case OutcomeStatus::failed:
      // A refused request says something about its items; an outage (retries
      // spent) does not, so it must not count towards the blackbox (R5.4).
      out.status = o.reason == "rejected" || o.reason == "not_found"
                       ? engine::OutcomeStatus::unresolved
                       : engine::OutcomeStatus::unknown;
      break;
    case OutcomeStatus::unknown:
      out.status = engine::OutcomeStatus::unknown;
      break;
    case OutcomeStatus::not_attempted:
      return std::nullopt;
  }
  return out;
}

}  // namespace

struct SyncRunner::Impl {
  SyncRunner& self;
  const SyncOptions& opt;
  const RunObserver& obs;
  SyncResult result;
  std::map<std::string, HealthInfo> health;
  std::map<std::string, Result<engine::Snapshot>> snapshots;
  bool cancelled = false;
  bool any_partial = false;
  // `apply --plan --allow-drift`: what the saved plan and a fresh plan disagreed on.
  std::vector<std::string> plan_differences = {};
  std::set<std::string> lost_snapshots = {};  // keys of reads a lost plugin failed
  // `cw match`: the explained item's tokens before the id resolver ran.
  std::vector<std::string> explain_tokens = {};
  // How many of the run's pair-features still to do read each instance and feature
  // ("instance\nfeature"): a snapshot is dropped after its last use, so that a run holds
  // the items of the features in hand, not of every feature it has read.
  std::map<std::string, int> snapshot_uses = {};

  void phase(const std::string& pair, const std::string& feature, const std::string& ph,
             std::size_t done, std::size_t total) const {
    if (obs.on_phase) obs.on_phase(pair, feature, ph, done, total);
  }

  void count_call(const std::string& instance, const std::string& op) {
    ++self.m_calls[instance][op];
  }

  const HealthInfo& health_of(ProviderPort& port) {
    auto it = health.find(port.instance());
    if (it != health.end()) return it->second;
    HealthInfo h;
    count_call(port.instance(), "health");
    auto r = port.health();
    if (!r) {
      h.health =
          r.error().kind == ErrorKind::auth ? engine::Health::auth_failed : engine::Health::down;
      h.message = r.error().message;
    } else {
      const json& doc = *r;
      h.health = engine::health_from_string(util::string_member(doc, "status"))
                     .value_or(engine::Health::down);
      h.message = util::string_member(doc, "message");
      if (doc.contains("features") && doc["features"].is_object()) h.features = doc["features"];
      if (doc.contains("capabilities") && doc["capabilities"].is_object())
        h.capabilities = doc["capabilities"];
    }
    // A lost plugin is reported once per pair, by the pair (lost_side below).
    h.lost = port.lost().has_value();
    if (h.health != engine::Health::ok && !h.lost)
      self.m_log.warn("cw", "provider " + port.instance() + " is " +
                                std::string(engine::to_string(h.health)) +
                                (h.message.empty() ? "" : ": " + h.message));
    return health.emplace(port.instance(), std::move(h)).first->second;
  }

  // The keys of `items` the target has now, asked with lookup in chunks; nullopt when any
  // answer is missing or failed (the caller then re-reads the whole feature).
  std::optional<std::set<std::string>> present_by_lookup(ProviderPort& port,
                                                         const std::string& feature,
                                                         const std::vector<WriteItem>& items,
                                                         const engine::FeatureCaps& caps) {
    std::set<std::string> present;
    const std::size_t chunk = std::max<std::size_t>(1, caps.chunk_size);
    for (std::size_t i = 0; i < items.size(); i += chunk) {
      json request = json::array();
      std::set<std::string> asked;
      for (std::size_t j = i; j < std::min(items.size(), i + chunk); ++j) {
        request.push_back(items[j].item);
        asked.insert(items[j].key);
      }
      count_call(port.instance(), "lookup");
      auto reply = port.lookup(feature, request);
      if (!reply) {
        self.m_log.warn(port.instance(), "lookup failed, re-reading " + feature +
                                             " instead: " + reply.error().message);
        return std::nullopt;
      }
      for (const auto& r : (*reply)["results"]) {
        const std::string key = util::string_member(r, "key");
        if (asked.erase(key) == 0) continue;  // a key we did not ask about
        if (r.contains("present") && r["present"].is_boolean() && r["present"].get<bool>())
          present.insert(key);
      }
      if (!asked.empty()) return std::nullopt;  // unknown keys: read the feature
    }
    return present;
  }

  // `cw map`: the user's mappings of this instance's items, applied to every read of it
  // before matching (so every pair sees the same items).
  void apply_mappings(const std::string& instance, engine::Snapshot& snap) {
    auto rows = self.m_store.mappings(instance);
    if (!rows) {
      self.m_log.warn("cw",
                      "manual mappings of " + instance +
                          " could not be read, matching without them: " + rows.error().message);
      return;
    }
    if (rows->empty()) return;
    std::map<std::string, engine::Ids> maps;
    for (const auto& m : *rows) {
      const auto ids = json::parse(m.ids, nullptr, false);
      if (!ids.is_object()) continue;
      engine::Ids& out = maps[m.key];
      for (const auto& [kind, value] : ids.items()) {
        const auto k = engine::id_kind_from_string(kind);
        if (k && value.is_string()) out.set(*k, value.get<std::string>());
      }
    }
    const std::size_t n = engine::apply_mappings(snap, maps);
    if (n > 0)
      self.m_log.info(instance, std::to_string(n) + " item(s) of " +
                                    std::string(engine::to_string(snap.feature)) +
                                    " read with their manual mapping (cw map)");
  }

  // `cw override`: the user's corrections and exclusions of this instance's items, applied
  // after its mappings (so an override names the key plans show) and before matching.
  void apply_overrides(const std::string& instance, engine::Snapshot& snap) {
    auto rows = self.m_store.overrides(instance);
    if (!rows) {
      self.m_log.warn("cw",
                      "overrides of " + instance +
                          " could not be read, reading it without them: " + rows.error().message);
      return;
    }
    if (rows->empty()) return;
    std::map<std::string, engine::Override> overrides;
    for (const auto& o : *rows)
      overrides[o.key] = engine::Override{o.watched_at, o.rating, o.created_at, o.ignore};
    const std::size_t n = engine::apply_overrides(snap, overrides);
    if (n > 0)
      self.m_log.info(instance, std::to_string(n) + " item(s) of " +
                                    std::string(engine::to_string(snap.feature)) +
                                    " read with their override (cw override)");
  }

  static std::string use_key(const std::string& instance, Feature feature) {
    return instance + "\n" + std::string(engine::to_string(feature));
  }

  void count_uses(const config::PairConfig& pc, Feature feature) {
    for (const std::string* name : {&pc.policy.source, &pc.policy.target})
      ++snapshot_uses[use_key(*name, feature)];
  }

  // After a pair-feature: the snapshots that no later pair-feature of the run reads go.
  // Reads never counted (none in the plans of a saved plan's drift check) are kept.
  void release_snapshots(const config::PairConfig& pc, Feature feature) {
    for (const std::string* name : {&pc.policy.source, &pc.policy.target}) {
      const std::string key = use_key(*name, feature);
      const auto it = snapshot_uses.find(key);
      if (it == snapshot_uses.end() || --it->second > 0) continue;
      snapshot_uses.erase(it);
      std::erase_if(snapshots, [&](const auto& entry) {
        return entry.first.compare(0, key.size() + 1, key + "\n") == 0;
      });
    }
  }

  // A build_index whose items become engine items as the reply is parsed: the reply is
  // never held as one document beside the snapshot made of it.
  struct IndexRead {
    Result<json> reply;  // without its items
    engine::SnapshotReader items;
  };
  IndexRead read_index(ProviderPort& port, Feature feature, const json& watermark) {
    IndexRead read{make_error("unset"),
                   engine::SnapshotReader(port.instance(), feature, opt.item_limits)};
    read.reply =
        port.stream_index(std::string(engine::to_string(feature)), watermark, [&](json&& item) {
          read.items.item(item);
          return ok_status();
        });
    return read;
  }

  // One read per instance, feature and watermark in a run (R6.4).
  Result<engine::Snapshot>& snapshot_of(ProviderPort& port, Feature feature,
                                        const std::optional<std::string>& watermark,
                                        const HealthInfo& h) {
    const engine::FeatureCaps caps = feature_caps(port.manifest(), feature, h.capabilities);
    const bool delta = caps.semantics == engine::Semantics::delta;
    const std::string key = port.instance() + "\n" + std::string(engine::to_string(feature)) +
                            "\n" + (delta && watermark ? *watermark : std::string());
    if (auto it = snapshots.find(key); it != snapshots.end()) return it->second;
    Result<engine::Snapshot> snap = make_error("unset");
    if (!caps.supported) {
      snap = engine::make_snapshot(port.instance(), feature, {}, {}, caps, h.health);
    } else if (h.health == engine::Health::down || h.health == engine::Health::auth_failed) {
      // Nothing is read from a provider that is down: an empty, incomplete snapshot makes
      // the planner hold every write to it and infer no deletion from it.
      engine::Completeness c;
      c.complete = false;
      c.semantics = caps.semantics;
      auto s = engine::make_snapshot(port.instance(), feature, {}, c, caps, h.health);
      s.health_message = h.message;
      snap = std::move(s);
    } else {
      count_call(port.instance(), "build_index");
      auto read = read_index(port, feature, delta && watermark ? json(*watermark) : json());
      if (!read.reply) {
        snap = make_error(port.instance() + " " + std::string(engine::to_string(feature)) +
                              " index failed: " + read.reply.error().message,
                          read.reply.error().kind);
        if (port.lost()) lost_snapshots.insert(key);
      } else {
        snap = read.items.finish(*read.reply, caps, h.health, h.message);
        if (snap) {
          for (const auto& w : snap->warnings) self.m_log.warn(port.instance(), w);
          apply_mappings(port.instance(), *snap);
          apply_overrides(port.instance(), *snap);
        }
      }
    }
    return snapshots.emplace(key, std::move(snap)).first->second;
  }

  json& report_entry(const config::PairConfig& pc, Feature feature) {
    json e = {{"pair", pc.policy.name},
              {"feature", engine::to_string(feature)},
              {"source", pc.policy.source},
              {"target", pc.policy.target},
              {"mode", pc.policy.mode == engine::PairMode::two_way ? "two-way" : "one-way"},
              {"status", "ok"},
              {"planned", {{"adds", 0}, {"updates", 0}, {"removes", 0}, {"held", 0}}},
              {"outcomes", {{"confirmed", 0}, {"skipped", 0}, {"unresolved", 0}, {"unknown", 0}}},
              {"held", json::array()},
              {"unresolved", json::array()},
              {"notes", json::array()},
              {"errors", json::array()},
              {"duration_ms", 0}};
    result.report["pairs"].push_back(std::move(e));
    return result.report["pairs"].back();
  }

  void fail(json& entry, const std::string& message) {
    entry["status"] = "failed";
    entry["errors"].push_back(message);
    result.errors.push_back(message);
    self.m_log.error("cw", message);
  }

  void fill_plan_report(json& entry, const engine::FeaturePlan& fp, const SideNames& sides) {
    const auto c = engine::count(fp);
    entry["planned"] = {{"adds", c.adds},
                        {"updates", c.updates},
                        {"removes", c.removes},
                        {"held", c.held},
                        {"unresolved", fp.unresolved.size()},
                        {"filtered", fp.filtered.size()}};
    // What the feature's scope left alone: counts per filter and every item, as held ones.
    if (!fp.filtered.empty()) {
      entry["filtered_counts"] = engine::filtered_counts(fp);
      entry["filtered"] = json::array();
      for (const auto& f : fp.filtered)
        entry["filtered"].push_back({{"side", sides.of(f.action.side)},
                                     {"kind", engine::to_string(f.action.kind)},
                                     {"key", f.action.key},
                                     {"item", item_label(f.action.item)},
                                     {"filter", f.filter}});
    }
    // Items planning could not match for sure (R1.4 `ambiguous`): nothing is written for
    // them, and they are listed with the write outcomes' unresolved items.
    for (const auto& u : fp.unresolved) {
      any_partial = true;
      entry["unresolved"].push_back({{"side", sides.of(u.side)},
                                     {"kind", "match"},
                                     {"key", u.key},
                                     {"item", item_label(u.item)},
                                     {"status", "unresolved"},
                                     {"reason", u.reason},
                                     {"message", u.message}});
    }
    for (const auto& h : fp.held) {
      entry["held"].push_back({{"side", sides.of(h.action.side)},
                               {"kind", engine::to_string(h.action.kind)},
                               {"key", h.action.key},
                               {"item", item_label(h.action.item)},
                               {"reason", engine::to_string(h.hold)},
                               {"detail", h.detail}});
    }
    if (!fp.not_compared_reason.empty())
      entry["not_compared"] = {{"items", fp.not_compared}, {"reason", fp.not_compared_reason}};
    for (const auto& n : fp.notes) entry["notes"].push_back(n);
    for (const auto& a : fp.actions)
      if (!a.note.empty()) entry["notes"].push_back(engine::describe(a.item) + ": " + a.note);
    if (fp.skipped) {
      entry["status"] = "skipped";
      entry["skip_reason"] = fp.skip_reason;
    }
  }

  engine::FeaturePlan skipped_plan(const config::PairConfig& pc, Feature feature,
                                   const std::string& reason) const {
    engine::FeaturePlan fp;
    fp.pair = pc.policy.name;
    fp.feature = feature;
    fp.mode = pc.policy.mode;
    fp.source.provider = pc.policy.source;
    fp.target.provider = pc.policy.target;
    fp.skipped = true;
    fp.skip_reason = reason;
    return fp;
  }

  // Reads one side's snapshots for a pair and feature. Errors go to `entry`.
  struct Sides {
    ProviderPort* ports[2] = {nullptr, nullptr};
    const HealthInfo* health[2] = {nullptr, nullptr};
    const engine::Snapshot* snaps[2] = {nullptr, nullptr};
  };

  // A plugin lost in an earlier pair (isolated: it crashed or timed out) gets a fresh
  // process for this one, up to plugins.restarts times a run, so that one crash costs one
  // pair and not every pair of the plugin; what it failed to answer while lost is asked
  // again. When it stays lost, lost_side skips the pair with the reason.
  void restart_lost(const config::PairConfig& pc, Feature feature) {
    for (const std::string* name : {&pc.policy.source, &pc.policy.target, &opt.id_resolver}) {
      const auto it = self.m_providers.find(*name);
      if (it == self.m_providers.end() || it->second == nullptr) continue;
      ProviderPort& port = *it->second;
      if (!port.lost()) continue;
      const auto restarted = port.restart();
      if (!restarted) continue;
      self.m_log.warn("cw", "plugin " + port.manifest().name + " started again for pair " +
                                pc.policy.name + " " + std::string(engine::to_string(feature)) +
                                " (provider " + port.instance() + "; restart " +
                                std::to_string(*restarted) + " this run)");
      std::erase_if(health, [](const auto& h) { return h.second.lost; });
      for (const auto& key : lost_snapshots) snapshots.erase(key);
      lost_snapshots.clear();
    }
  }

  // A side whose plugin crashed or timed out (isolated plugins): the pair is skipped and
  // nothing of it is committed, as if cw had stopped at that point; the journal keeps any
  // write in flight for the next run's re-check.
  bool lost_side(const config::PairConfig& pc, Feature feature, const Sides& s, json& entry) {
    for (const auto* port : s.ports) {
      if (port == nullptr) continue;
      if (const auto why = port->lost()) {
        fail(entry, "pair " + pc.policy.name + " " + std::string(engine::to_string(feature)) +
                        " skipped, nothing committed: " + *why);
        return true;
      }
    }
    return false;
  }

  bool prepare(const config::PairConfig& pc, Feature feature, const engine::PairFeatureState& st,
               json& entry, Sides& s, std::optional<std::string>& skip) {
    const std::string fname(engine::to_string(feature));
    for (Side side : {Side::source, Side::target}) {
      const std::string inst = side_name(pc, side);
      auto it = self.m_providers.find(inst);
      if (it == self.m_providers.end() || it->second == nullptr) {
        auto err = self.m_create_errors.find(inst);
        fail(entry, "pair " + pc.policy.name + ": provider " + inst + " is unavailable" +
                        (err != self.m_create_errors.end() ? ": " + err->second : ""));
        return false;
      }
      s.ports[static_cast<int>(side)] = it->second;
    }
    phase(pc.policy.name, fname, "health", 0, 2);
    for (Side side : {Side::source, Side::target}) {
      const int i = static_cast<int>(side);
      s.health[i] = &health_of(*s.ports[i]);
      if (s.health[i]->health == engine::Health::auth_failed) {
        skip = "provider " + s.ports[i]->instance() + " failed authentication" +
               (s.health[i]->message.empty() ? "" : " (" + s.health[i]->message + ")") +
               ": renew its credential with `cw auth login " + s.ports[i]->instance() + "`";
        return true;
      }
      const json& f = s.health[i]->features;
      if (f.contains(fname) && f[fname].is_boolean() && !f[fname].get<bool>()) {
        skip = "provider " + s.ports[i]->instance() + " reports " + fname + " unavailable";
        return true;
      }
    }
    phase(pc.policy.name, fname, "snapshot", 0, 2);
    engine::Snapshot* snaps[2] = {nullptr, nullptr};
    for (Side side : {Side::source, Side::target}) {
      const int i = static_cast<int>(side);
      std::optional<std::string> wm;
      if (const auto& b = st.baseline(side)) wm = b->watermark;
      auto& snap = snapshot_of(*s.ports[i], feature, wm, *s.health[i]);
      if (!snap && lost_side(pc, feature, s, entry)) return false;
      if (!snap) {
        fail(entry, "pair " + pc.policy.name + ": " + snap.error().message);
        return false;
      }
      snaps[i] = &snap.value();
      s.snaps[i] = snaps[i];
      phase(pc.policy.name, fname, "snapshot", static_cast<std::size_t>(i) + 1, 2);
    }
    if (opt.explain) explain_tokens = tokens_of_probe(pc, *snaps[0], *snaps[1]);
    if (!opt.id_resolver.empty()) resolve_ids(pc, feature, *snaps[0], *snaps[1], entry);
    return true;
  }

  // --- `cw match` ---------------------------------------------------------------------
  // The entry of the explained instance's snapshot: by key, else by its label (describe).
  std::optional<std::pair<int, std::size_t>> probe(const config::PairConfig& pc,
                                                   const engine::Snapshot& a,
                                                   const engine::Snapshot& b) const {
    const auto& [instance, key] = *opt.explain;
    for (int i = 0; i < 2; ++i) {
      if ((i == 0 ? pc.policy.source : pc.policy.target) != instance) continue;
      const engine::Index& idx = (i == 0 ? a : b).index;
      if (auto pos = idx.find_key(key)) return std::make_pair(i, *pos);
      for (std::size_t p = 0; p < idx.size(); ++p)
        if (engine::describe(idx.entries()[p].item) == key) return std::make_pair(i, p);
    }
    return std::nullopt;
  }

  std::vector<std::string> tokens_of_probe(const config::PairConfig& pc, const engine::Snapshot& a,
                                           const engine::Snapshot& b) const {
    const auto p = probe(pc, a, b);
    if (!p) return {};
    return engine::alias_tokens((p->first == 0 ? a : b).index.entries()[p->second].item);
  }

  // What the state says about the item: its mapping and its override, when it has them.
  void explain_state(const std::string& instance, const std::string& key,
                     const std::vector<std::string>& tokens, json& out) {
    if (auto maps = self.m_store.mappings(instance)) {
      for (const auto& m : *maps) {
        const auto ids = json::parse(m.ids, nullptr, false);
        bool hit = m.key == key;
        if (ids.is_object())
          for (const auto& [kind, value] : ids.items())
            for (const auto& t : tokens)
              hit =
                  hit || (value.is_string() &&
                          t.find(":" + kind + ":" + value.get<std::string>()) != std::string::npos);
        if (hit) out["mapping"] = {{"key", m.key}, {"ids", ids}};
      }
    }
    if (auto overrides = self.m_store.overrides(instance))
      for (const auto& o : *overrides)
        if (o.key == key) out["override"] = state::to_json(o);
  }

  void explain(const config::PairConfig& pc, Feature feature, const engine::Snapshot& a,
               const engine::Snapshot& b, json& entry) {
    const auto& [instance, key] = *opt.explain;
    const auto p = probe(pc, a, b);
    if (!p) {
      entry["match"] = {
          {"instance", instance},
          {"key", key},
          {"found", false},
          {"summary", instance + " lists no " + std::string(engine::to_string(feature)) +
                          " item with that key or label in this read"}};
      return;
    }
    const engine::Snapshot& mine = p->first == 0 ? a : b;
    const engine::Snapshot& other = p->first == 0 ? b : a;
    const auto x = engine::explain_match(mine.index, p->second, other.index,
                                         engine::MatchOptions{pc.policy.year_tolerance});
    json near = json::array();
    for (const auto& [k, why] : x.near) near.push_back({{"key", k}, {"why", why}});
    json m = {{"instance", instance}, {"other", other.provider},
              {"found", true},        {"key", x.key},
              {"item", x.label},      {"tokens", x.tokens},
              {"has_ids", x.has_ids}, {"rule", x.rule},
              {"summary", x.summary}, {"year_tolerance", pc.policy.year_tolerance}};
    if (!x.match_key.empty()) m["matched"] = {{"key", x.match_key}, {"item", x.match_label}};
    if (!x.shared.empty()) m["shared"] = x.shared;
    if (!x.candidates.empty()) m["candidates"] = x.candidates;
    if (!near.empty()) m["near"] = near;
    // Tokens the id_resolver added in this read (answers are cached in the state).
    json resolved = json::array();
    for (const auto& t : x.tokens)
      if (std::find(explain_tokens.begin(), explain_tokens.end(), t) == explain_tokens.end())
        resolved.push_back(t);
    if (!opt.id_resolver.empty())
      m["resolver"] = {{"instance", opt.id_resolver}, {"added_tokens", resolved}};
    explain_state(instance, x.key, x.tokens, m);
    entry["match"] = std::move(m);
  }

  // ABI 1.1: the configured id resolver enriches what the two sides do not share.
  void resolve_ids(const config::PairConfig& pc, Feature feature, engine::Snapshot& a,
                   engine::Snapshot& b, json& entry) {
    const auto it = self.m_providers.find(opt.id_resolver);
    std::string problem;
    if (it == self.m_providers.end() || it->second == nullptr) {
      const auto err = self.m_create_errors.find(opt.id_resolver);
      problem = "id_resolver " + opt.id_resolver + " is unavailable" +
                (err != self.m_create_errors.end() ? ": " + err->second : "");
    } else if (!it->second->manifest().resolve_ids) {
      problem = "id_resolver " + opt.id_resolver + " (plugin " + it->second->manifest().name +
                ") does not resolve ids: its manifest does not declare resolve_ids";
    }
    if (!problem.empty()) {
      entry["id_resolver"] = {{"error", problem}};
      self.m_log.warn("cw", "pair " + pc.policy.name + " " +
                                std::string(engine::to_string(feature)) +
                                ": matching without id resolution: " + problem);
      return;
    }
    ResolveOptions ro;
    ro.now_s = opt.now_s;
    ProviderPort& resolver = *it->second;
    const auto stats = resolve_unmatched(resolver, self.m_store, a, b, ro,
                                         [&] { count_call(resolver.instance(), "resolve_ids"); });
    entry["id_resolver"] = stats.to_json();
    if (!stats.error.empty())
      self.m_log.warn(resolver.instance(), "id resolution incomplete: " + stats.error);
  }

  // The write journal (R6.2) of a pair and feature: a fresh, complete read of a side is the
  // re-check of every write to it that a crash or an unknown outcome left open (those entries
  // close with the commit); otherwise such writes wait.
  struct OpenWrites {
    std::map<std::int64_t, std::string> close;
    std::set<std::pair<int, std::string>> awaiting;  // (side, key)
  };
  Result<OpenWrites> open_writes(const config::PairConfig& pc, const std::string& fname,
                                 const SideNames& sides, const engine::Snapshot& src,
                                 const engine::Snapshot& tgt) {
    OpenWrites out;
    for (Side side : {Side::source, Side::target}) {
      const engine::Snapshot& snap = side == Side::source ? src : tgt;
      auto open = self.m_store.journal_open(pc.policy.name, fname, sides.of(side));
      // Without the open entries cw cannot tell which writes may already have landed:
      // writing now could post a play twice.
      if (!open)
        return make_error("the write journal could not be read: " + open.error().message,
                          open.error().kind);
      const bool reread = snap.completeness.complete &&
                          snap.completeness.semantics == engine::Semantics::present &&
                          snap.health != engine::Health::down;
      for (const auto& e : *open) {
        if (reread)
          out.close[e.id] = "confirmed";
        else
          out.awaiting.insert({static_cast<int>(side), e.key});
      }
    }
    return out;
  }

  // Which of `items` (history adds) a fresh look at the target shows as already there, with a
  // play within `tolerance` of theirs: before a write that is not safe to repeat is sent again.
  Result<std::set<std::string>> present_on_target(ProviderPort& port, Feature feature,
                                                  const std::vector<WriteItem>& items,
                                                  std::int64_t tolerance) {
    const std::string fname(engine::to_string(feature));
    if (port.manifest().lookup) {
      // A few requests instead of re-reading a 20k-play history (ABI 1.1).
      if (auto present =
              present_by_lookup(port, fname, items, feature_caps(port.manifest(), feature)))
        return *present;
    }
    count_call(port.instance(), "build_index");
    auto read = read_index(port, feature, json());
    if (!read.reply) return read.reply.error();
    auto snap = read.items.finish(*read.reply, feature_caps(port.manifest(), feature));
    if (!snap) return snap.error();
    std::set<std::string> present;
    for (const auto& w : items) {
      auto parsed = engine::item_from_json(w.item, engine::ItemLimits::unbounded());
      if (!parsed) continue;
      const auto* e = snap->index.find_entry(*parsed);
      if (e == nullptr) continue;
      if (!parsed->watched_at) {
        present.insert(w.key);
        continue;
      }
      for (auto play : e->plays) {
        if (play >= *parsed->watched_at - tolerance && play <= *parsed->watched_at + tolerance) {
          present.insert(w.key);
          break;
        }
      }
    }
    return present;
  }

  // What apply_plan did: the outcome of every key sent, the keys whose request failed, and
  // the first journal settlement that could not be written.
  struct Applied {
    std::vector<engine::Outcome> outcomes;
    std::set<std::string> failed_keys;
    std::string journal_error;
  };

  // Sends the plan's writes, adds then updates then removes, each to the target before the
  // source, through the Applier (journalled chunks, retries). A key whose earlier write is
  // still open in the journal is not sent: it is unknown until a complete re-read.
  Applied apply_plan(const config::PairConfig& pc, Feature feature, const engine::FeaturePlan& fp,
                     const Sides& s, const SideNames& sides, OpenWrites& journal) {
    const std::string fname(engine::to_string(feature));
    const bool history = feature == Feature::history;
    Applied applied;
    const auto& fpol = pc.policy.features.count(feature) ? pc.policy.features.at(feature)
                                                         : engine::FeaturePolicy{};
    std::size_t total = fp.actions.size(), done_total = 0;
    phase(pc.policy.name, fname, "apply", 0, total);
    for (engine::ActionKind kind :
         {engine::ActionKind::add, engine::ActionKind::update, engine::ActionKind::remove}) {
      for (Side side : {Side::target, Side::source}) {
        if (cancelled || self.m_cancel.cancelled()) break;
        WriteBatch batch;
        batch.run_id = opt.run_id;
        batch.pair = pc.policy.name;
        batch.feature = fname;
        batch.op = kind == engine::ActionKind::add      ? WriteOp::add
                   : kind == engine::ActionKind::update ? WriteOp::update
                                                        : WriteOp::remove;
        for (const auto& a : fp.actions) {
          if (a.kind != kind || a.side != side) continue;
          if (journal.awaiting.count({static_cast<int>(side), a.key})) {
            applied.outcomes.push_back(
                {side, kind, a.key, engine::OutcomeStatus::unknown, "unknown",
                 "an earlier write of this item has an unknown outcome; it is "
                 "sent again after a complete re-read of " +
                     sides.of(side)});
            continue;
          }
          batch.items.push_back({a.key, engine::item_to_json(a.item, a.key)});
        }
        if (batch.items.empty()) continue;
        ProviderPort& port = *s.ports[static_cast<int>(side)];
        ApplierOptions ao = self.m_applier;
        const std::size_t base_done = done_total;
        ao.progress = [&, base_done](std::size_t done, std::size_t) {
          phase(pc.policy.name, fname, "apply", base_done + done, total);
        };
        if (history && kind == engine::ActionKind::add) {
          const std::int64_t tolerance = fpol.event_tolerance_s;
          ao.present_on_target = [&, tolerance](const std::vector<WriteItem>& items) {
            return present_on_target(port, feature, items, tolerance);
          };
        }
        Applier applier(port, &self.m_store, self.m_cancel, ao);
        ApplyStats stats;
        auto res = applier.apply(batch, stats);
        self.m_calls[port.instance()][to_string(batch.op)] += stats.calls;
        if (stats.cancelled) cancelled = true;
        journal.close.insert(stats.unsettled.begin(), stats.unsettled.end());
        if (!stats.journal_error.empty() && applied.journal_error.empty())
          applied.journal_error = stats.journal_error;
        done_total += batch.items.size();
        for (const auto& [key, o] : res) {
          auto out = engine_outcome(side, kind, key, o);
          if (!out) continue;
          if (o.status == OutcomeStatus::failed) applied.failed_keys.insert(key);
          applied.outcomes.push_back(std::move(*out));
        }
      }
    }
    return applied;
  }

  // Per-key outcomes into the report; an unresolved or unknown one makes the run partial.
  void report_outcomes(json& entry, const engine::FeaturePlan& fp,
                       const std::vector<engine::Outcome>& outcomes, const SideNames& sides) {
    std::map<std::string, const engine::Action*> by_key;
    for (const auto& a : fp.actions) by_key[std::string(engine::to_string(a.side)) + a.key] = &a;
    for (const auto& o : outcomes) {
      entry["outcomes"][std::string(engine::to_string(o.status))] =
          entry["outcomes"][std::string(engine::to_string(o.status))].get<int>() + 1;
      if (o.status == engine::OutcomeStatus::unresolved ||
          o.status == engine::OutcomeStatus::unknown) {
        any_partial = true;
        const auto* a = by_key[std::string(engine::to_string(o.side)) + o.key];
        entry["unresolved"].push_back({{"side", sides.of(o.side)},
                                       {"kind", engine::to_string(o.kind)},
                                       {"key", o.key},
                                       {"item", a ? engine::describe(a->item) : o.key},
                                       {"status", engine::to_string(o.status)},
                                       {"reason", o.reason},
                                       {"message", o.message}});
      }
    }
  }

  void do_feature(const config::PairConfig& pc, Feature feature, const engine::FeaturePlan* given) {
    const auto t0 = steady_ms();
    const std::string fname(engine::to_string(feature));
    json& entry = report_entry(pc, feature);
    const SideNames sides{pc.policy.source, pc.policy.target};
    const bool history = feature == Feature::history;
    if (self.m_cancel.cancelled()) {
      cancelled = true;
      entry["status"] = "cancelled";
      return;
    }
    restart_lost(pc, feature);

    auto loaded = load_state(self.m_store, pc.policy.name, fname, sides, history);
    if (!loaded)
      return fail(entry, "pair " + pc.policy.name + " " + fname +
                             ": cannot read state: " + loaded.error().message);
    const engine::PairFeatureState* st = &loaded->state;

    Sides s;
    std::optional<std::string> skip;
    if (!prepare(pc, feature, *st, entry, s, skip)) return;
    if (lost_side(pc, feature, s, entry)) return;
    if (opt.explain && !skip) {
      explain(pc, feature, *s.snaps[0], *s.snaps[1], entry);
      entry["status"] = "explained";
      return;
    }
    if (self.m_cancel.cancelled()) {
      // Cancelled while reading (R6.5): nothing was written for this pair and feature, so
      // nothing of it is committed; its state stays as the last commit left it.
      cancelled = true;
      entry["status"] = "cancelled";
      entry["duration_ms"] = steady_ms() - t0;
      return;
    }
    if (skip) {
      auto fp = skipped_plan(pc, feature, *skip);
      fill_plan_report(entry, fp, sides);
      self.m_log.warn("cw", "pair " + pc.policy.name + " " + fname + " skipped: " + *skip);
      result.plan.features.push_back(std::move(fp));
      any_partial = true;
      return;
    }
    const engine::Snapshot& src = *s.snaps[0];
    const engine::Snapshot& tgt = *s.snaps[1];
    for (const auto* h : s.health) {
      // A run that could not reach a provider did not settle everything it should have.
      if (h->health == engine::Health::down) {
        any_partial = true;
        entry["notes"].push_back("provider " +
                                 (h == s.health[0] ? pc.policy.source : pc.policy.target) +
                                 " is down: nothing is written to it and the pair's baselines "
                                 "stay as they were");
      }
    }

    phase(pc.policy.name, fname, "plan", 0, 1);
    engine::FeaturePlan fp =
        given ? *given
              : engine::plan_feature(pc.policy, feature, src, tgt,
                                     engine::PriorState::from(*st, feature), opt.now_s);
    if (opt.approve_deletes) engine::approve_held_removals(fp);
    fill_plan_report(entry, fp, sides);
    if (!fp.held.empty()) any_partial = true;
    result.plan.features.push_back(fp);
    phase(pc.policy.name, fname, "plan", 1, 1);

    if (opt.dry_run || pc.dry_run || fp.skipped) {
      if (opt.dry_run || pc.dry_run) entry["status"] = "dry_run";
      entry["duration_ms"] = steady_ms() - t0;
      return;
    }

    auto journal = open_writes(pc, fname, sides, src, tgt);
    if (!journal)
      return fail(entry, "pair " + pc.policy.name + " " + fname +
                             " skipped, nothing written: " + journal.error().message);
    Applied applied = apply_plan(pc, feature, fp, s, sides, *journal);
    if (self.m_cancel.cancelled()) cancelled = true;
    report_outcomes(entry, fp, applied.outcomes, sides);
    if (lost_side(pc, feature, s, entry)) return;
    phase(pc.policy.name, fname, "commit", 0, 1);
    auto settled = engine::settle(pc.policy, fp, applied.outcomes, src, tgt, *st, opt.now_s);
    state::PairFeatureCommit commit =
        commit_of(pc.policy.name, fname, *loaded, settled.state, sides, history);
    commit.run_id = opt.run_id;
    commit.committed_at = opt.now_s;
    commit.kv_instances = {pc.policy.source, pc.policy.target};
    commit.journal_settle = std::move(journal->close);
    if (auto c = self.m_store.commit(commit); !c)
      return fail(entry, "pair " + pc.policy.name + " " + fname +
                             ": state commit failed: " + c.error().message);
    if (!applied.journal_error.empty()) {
      // The commit above wrote those settlements in its own transaction, so nothing is left
      // in doubt; the failed write is still a fault of the state database to report.
      fail(entry, "pair " + pc.policy.name + " " + fname +
                      ": the write journal could not record the outcome of a chunk (recorded "
                      "with the state commit instead): " +
                      applied.journal_error);
      entry["duration_ms"] = steady_ms() - t0;
      return;
    }
    if (cancelled)
      entry["status"] = "cancelled";
    else if (!applied.failed_keys.empty())
      entry["status"] = "partial";
    entry["settlement"] = {{"tombstones_added", settled.summary.tombstones_added},
                           {"pending", settled.summary.pending},
                           {"newly_blocked", settled.summary.newly_blocked}};
    entry["duration_ms"] = steady_ms() - t0;
    phase(pc.policy.name, fname, "commit", 1, 1);
  }
};

SyncRunner::SyncRunner(std::map<std::string, ProviderPort*> providers,
                       std::map<std::string, std::string> create_errors, state::StateStore& store,
                       services::CancelToken& cancel, services::Logger& log, ApplierOptions applier)
    : m_providers(std::move(providers)),
      m_create_errors(std::move(create_errors)),
      m_store(store),
      m_cancel(cancel),
      m_log(log),
      m_applier(std::move(applier)) {}

SyncResult SyncRunner::run(const std::vector<config::PairConfig>& pairs, const SyncOptions& options,
                           const RunObserver& observer) {
  Impl impl{*this, options, observer, {}, {}, {}, false, false};
  const auto t0 = steady_ms();
  impl.result.plan.created_at = options.now_s;
  impl.result.report = {{"run_id", options.run_id},
                        {"started_at", options.now_s},
                        {"dry_run", options.dry_run},
                        {"pairs", json::array()}};

  auto selected = [&](const config::PairConfig& pc) {
    return pc.enabled && (options.pair_filter.empty() || pc.policy.name == options.pair_filter);
  };
  if (!options.pair_filter.empty()) {
    bool found = false;
    for (const auto& pc : pairs) found = found || pc.policy.name == options.pair_filter;
    if (!found)
      impl.result.errors.push_back("no pair named '" + options.pair_filter +
                                   "' in the configuration");
  }

  if (options.plan) {
    // Drift check first, for every feature of the plan: nothing is written unless every
    // snapshot is as it was when the plan was made.
    std::vector<std::pair<const config::PairConfig*, engine::FeaturePlan>> todo;
    for (const auto& fp : options.plan->features) {
      const config::PairConfig* pc = nullptr;
      for (const auto& p : pairs)
        if (p.policy.name == fp.pair) pc = &p;
      if (pc == nullptr) {
        impl.result.errors.push_back("the plan names pair '" + fp.pair +
                                     "', which the configuration does not define");
        continue;
      }
      if (fp.skipped) continue;
      if (!options.feature_filter.empty() &&
          engine::to_string(fp.feature) != options.feature_filter)
        continue;
      auto loaded = load_state(m_store, fp.pair, std::string(engine::to_string(fp.feature)),
                               {pc->policy.source, pc->policy.target},
                               fp.feature == engine::Feature::history);
      if (!loaded) {
        impl.result.errors.push_back(loaded.error().message);
        continue;
      }
      const engine::PairFeatureState* st = &loaded->state;
      Impl::Sides s;
      std::optional<std::string> skip;
      json& entry = impl.report_entry(*pc, fp.feature);
      if (!impl.prepare(*pc, fp.feature, *st, entry, s, skip)) continue;
      impl.result.report["pairs"].erase(impl.result.report["pairs"].size() - 1);
      const std::string fs = skip ? "" : engine::fingerprint(*s.snaps[0]);
      const std::string ft = skip ? "" : engine::fingerprint(*s.snaps[1]);
      if (skip || fs != fp.source.fingerprint || ft != fp.target.fingerprint) {
        impl.result.errors.push_back(
            "pair " + fp.pair + " " + std::string(engine::to_string(fp.feature)) +
            ": the snapshots changed since the plan was made (" +
            (skip ? *skip
                  : (fs != fp.source.fingerprint ? fp.source.provider : fp.target.provider) +
                        " differs") +
            "); nothing was applied: make a new plan with `cw plan --out FILE`");
        impl.result.status = RunStatus::drifted;
        continue;
      }
      // The snapshots are the ones the plan saw; plan again with today's configuration,
      // state and guards. Only what both plans contain may be applied.
      const engine::FeaturePlan fresh =
          engine::plan_feature(pc->policy, fp.feature, *s.snaps[0], *s.snaps[1],
                               engine::PriorState::from(*st, fp.feature), options.now_s);
      auto approved = engine::reconcile_with_approved(fp, fresh);
      for (const auto& d : approved.differences) {
        const std::string line =
            "pair " + fp.pair + " " + std::string(engine::to_string(fp.feature)) + ": " + d;
        if (options.allow_drift) {
          impl.plan_differences.push_back(line + " (not applied)");
        } else {
          impl.result.errors.push_back(line);
          impl.result.status = RunStatus::drifted;
        }
      }
      todo.emplace_back(pc, std::move(approved.plan));
    }
    if (impl.result.status == RunStatus::drifted && !options.allow_drift)
      impl.result.errors.push_back(
          "nothing was applied: the saved plan is not what cw would do now (the configuration, "
          "the state or a guard changed, or the file was edited); make a new plan with `cw plan "
          "--out FILE`, or apply only what both agree on with --allow-drift");
    if (impl.result.status == RunStatus::drifted || !impl.result.errors.empty()) {
      if (impl.result.status != RunStatus::drifted) impl.result.status = RunStatus::failed;
      impl.result.report["status"] = to_string(impl.result.status);
      impl.result.report["errors"] = impl.result.errors;
      impl.result.report["duration_ms"] = steady_ms() - t0;
      impl.result.report["finished_at"] = options.now_s;
      return std::move(impl.result);
    }
    for (const auto& [pc, fp] : todo) impl.count_uses(*pc, fp.feature);
    for (const auto& [pc, fp] : todo) {
      impl.do_feature(*pc, fp.feature, &fp);
      impl.release_snapshots(*pc, fp.feature);
    }
    if (!impl.plan_differences.empty())
      impl.result.report["plan_differences"] = impl.plan_differences;
  } else if (impl.result.errors.empty()) {
    std::vector<std::pair<const config::PairConfig*, Feature>> todo;
    for (const auto& pc : pairs) {
      if (!selected(pc)) continue;
      for (const auto& [feature, fpol] : pc.policy.features) {
        if (!fpol.enabled) continue;
        if (!options.feature_filter.empty() && engine::to_string(feature) != options.feature_filter)
          continue;
        todo.emplace_back(&pc, feature);
        impl.count_uses(pc, feature);
      }
    }
    for (const auto& [pc, feature] : todo) {
      impl.do_feature(*pc, feature, nullptr);
      impl.release_snapshots(*pc, feature);
    }
  }

  RunStatus status = RunStatus::ok;
  if (impl.cancelled)
    status = RunStatus::cancelled;
  else if (!impl.result.errors.empty())
    status = RunStatus::failed;
  else if (impl.any_partial)
    status = RunStatus::partial;
  impl.result.status = status;
  impl.result.report["status"] = to_string(status);
  impl.result.report["errors"] = impl.result.errors;
  impl.result.report["duration_ms"] = steady_ms() - t0;
  impl.result.report["finished_at"] = options.now_s;
  return std::move(impl.result);
}

}  // namespace cw::sync
