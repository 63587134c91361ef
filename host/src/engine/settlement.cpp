#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <cw/engine/settlement.hpp>
#include <cw/util/json.hpp>

namespace cw::engine {
namespace {

std::string outcome_key(Side side, ActionKind kind, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 4);
  k += static_cast<char>('0' + static_cast<int>(side));
  k += static_cast<char>('0' + static_cast<int>(kind));
  k += '|';
  k += key;
  return k;
}

std::string side_key(Side side, std::string_view key) {
  std::string k(1, static_cast<char>('0' + static_cast<int>(side)));
  k += '|';
  k += key;
  return k;
}

bool settled(OutcomeStatus s) {
  return s == OutcomeStatus::confirmed || s == OutcomeStatus::skipped;
}

// Event-mode keys are `<identity key>@<epoch>`.
std::pair<std::string, std::optional<Instant>> split_event_key(const std::string& key, bool event) {
  if (!event) return {key, std::nullopt};
  const auto at = key.rfind('@');
  if (at == std::string::npos) return {key, std::nullopt};
  try {
    return {key.substr(0, at), static_cast<Instant>(std::stoll(key.substr(at + 1)))};
  } catch (...) {
    return {key, std::nullopt};
  }
}

const Snapshot& snap_of(Side s, const Snapshot& source, const Snapshot& target) {
  return s == Side::source ? source : target;
}

}  // namespace

std::string_view to_string(OutcomeStatus s) {
  switch (s) {
    case OutcomeStatus::confirmed:
      return "confirmed";
    case OutcomeStatus::skipped:
      return "skipped";
    case OutcomeStatus::unresolved:
      return "unresolved";
    case OutcomeStatus::unknown:
      return "unknown";
  }
  return "unknown";
}

std::vector<Outcome> outcomes_from_response(Side side, ActionKind kind,
                                            const std::vector<std::string>& sent_keys,
                                            const nlohmann::json& response) {
  std::unordered_map<std::string, const nlohmann::json*> by_key;
  if (response.is_object()) {
    auto it = response.find("outcomes");
    if (it != response.end() && it->is_array()) {
      for (const auto& o : *it) {
        if (!o.is_object()) continue;
        auto k = o.find("key");
        if (k == o.end() || !k->is_string()) continue;
        by_key.emplace(k->get<std::string>(), &o);  // the first outcome for a key counts
      }
    }
  }
  std::vector<Outcome> out;
  out.reserve(sent_keys.size());
  for (const auto& key : sent_keys) {
    Outcome o;
    o.side = side;
    o.kind = kind;
    o.key = key;
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      o.status = OutcomeStatus::unknown;
      o.reason = "unknown";
      o.message = "the provider returned no outcome for this key";
    } else {
      const auto& j = *it->second;
      const auto status = util::string_member(j, "status");
      if (status == "confirmed")
        o.status = OutcomeStatus::confirmed;
      else if (status == "skipped")
        o.status = OutcomeStatus::skipped;
      else if (status == "unresolved")
        o.status = OutcomeStatus::unresolved;
      else
        o.status = OutcomeStatus::unknown;
      if (auto r = j.find("reason"); r != j.end() && r->is_string())
        o.reason = r->get<std::string>();
      if (auto m = j.find("message"); m != j.end() && m->is_string())
        o.message = m->get<std::string>();
      if (o.status == OutcomeStatus::unresolved && o.reason.empty()) o.reason = "unknown";
    }
    out.push_back(std::move(o));
  }
  return out;
}

namespace {

// Takes out of `baseline` what a delta reply reported removed: whole entries, or for
// history the plays within `tolerance` of a removed play.
void drop_removed(Index& baseline, const Index& removed, bool history, std::int64_t tolerance) {
  for (const auto& r : removed.entries()) {
    const auto pos = baseline.find(r.item);
    if (!pos) continue;
    if (!history) {
      baseline.erase(*pos);
      continue;
    }
    std::vector<Instant> gone = r.plays.to_vector();
    if (gone.empty() && r.item.watched_at) gone.push_back(*r.item.watched_at);
    for (const Instant t : gone) {
      const auto p = baseline.find(r.item);
      if (!p) break;
      for (const Instant have : baseline.entries()[*p].plays) {
        if (have >= t - tolerance && have <= t + tolerance) {
          baseline.erase_play(*p, have);
          break;
        }
      }
    }
  }
}

// What every phase of settle() reads: the run's inputs and the outcome of each action.
struct SettleContext {
  const PairPolicy& policy;
  const FeaturePlan& plan;
  const Snapshot& source;
  const Snapshot& target;
  const PairFeatureState& previous;
  Instant now;
  bool history = false;
  std::int64_t tolerance = 60;
  bool any_down = false;  // a side was down: both baselines stay as they were (R2.3)
  std::unordered_map<std::string, const Outcome*> by_key;

  const Outcome* outcome_of(const Action& a) const {
    auto it = by_key.find(outcome_key(a.side, a.kind, a.key));
    return it == by_key.end() ? nullptr : it->second;
  }
  OutcomeStatus status_of(const Action& a) const {
    const Outcome* o = outcome_of(a);
    return o ? o->status : OutcomeStatus::unknown;
  }
};

void count_outcomes(const SettleContext& c, SettlementSummary& sum) {
  for (const auto& a : c.plan.actions) {
    switch (c.status_of(a)) {
      case OutcomeStatus::confirmed:
        ++sum.confirmed;
        break;
      case OutcomeStatus::skipped:
        ++sum.skipped;
        break;
      case OutcomeStatus::unresolved:
        ++sum.unresolved;
        break;
      case OutcomeStatus::unknown:
        ++sum.unknown;
        break;
    }
  }
}

// Baselines (R6.3): what each side holds after this run's settled writes. Never past a held
// or unsettled deletion, so that the next run sees it again.
void settle_baselines(const SettleContext& c, PairFeatureState& st) {
  if (c.any_down) {
    st.source = c.previous.source;
    st.target = c.previous.target;
    return;
  }
  for (Side side : {Side::source, Side::target}) {
    const Snapshot& snap = snap_of(side, c.source, c.target);
    const auto& prev_base = c.previous.baseline(side);
    const bool suspect = (side == Side::source ? c.plan.source : c.plan.target).suspect;
    const bool union_prev = snap.completeness.semantics == Semantics::delta || suspect;
    // Causes of removals on the other side that this side's baseline must keep.
    std::vector<const Action*> causes;
    for (const auto& h : c.plan.held) {
      if (!h.action.cause_key.empty() && h.action.side != side) causes.push_back(&h.action);
    }
    for (const auto& a : c.plan.actions) {
      if (a.kind == ActionKind::remove && !a.cause_key.empty() && a.side != side &&
          !settled(c.status_of(a)))
        causes.push_back(&a);
    }
    std::optional<Index> prev;
    if (prev_base && (union_prev || !causes.empty()))
      prev = Index::build(prev_base->items, c.history);

    // A delta snapshot is only the changes; a suspect one may have lost items: both
    // keep the previous baseline under the current items.
    Index next = snap.index;
    if (prev && union_prev) {
      next = *prev;
      for (const auto& it : snap.index.to_items(true)) next.add(it);
    }
    // What a delta reply reports removed leaves the baseline (a held or unsettled
    // removal it caused is put back just below).
    if (union_prev && snap.removed.size() > 0)
      drop_removed(next, snap.removed, c.history, c.tolerance);
    // Never past a held or unsettled deletion: the deleted item stays in this side's
    // baseline so the next run sees the deletion again (R5.3).
    for (const Action* a : causes) {
      if (!prev) break;
      auto [key, play] = split_event_key(a->cause_key, c.plan.event_mode);
      auto pos = prev->find_key(key);
      if (!pos) continue;
      Item item = prev->entries()[*pos].item;
      if (play) item.watched_at = *play;
      next.add(std::move(item));
    }
    // Writes to this side whose fate is settled.
    for (const auto& a : c.plan.actions) {
      if (a.side != side || !settled(c.status_of(a))) continue;
      if (a.kind != ActionKind::remove) {
        next.add(a.item);
        continue;
      }
      auto pos = next.find(a.item);
      if (!pos) continue;
      if (c.plan.event_mode && a.item.watched_at)
        next.erase_play(*pos, *a.item.watched_at);
      else
        next.erase(*pos);
    }
    SideBaseline base;
    base.items = next.release_items(true);
    base.watermark = snap.completeness.watermark;
    if (!base.watermark && prev_base) base.watermark = prev_base->watermark;
    st.baseline(side) = std::move(base);
  }
}

// Pending deletions (R5.3): exactly the held ones, with their first-seen time; an approved
// one that was sent but not settled stays approved.
std::vector<PendingDeletion> settle_pending(const SettleContext& c) {
  std::unordered_map<std::string, const PendingDeletion*> prev_pending;
  for (const auto& p : c.previous.pending) prev_pending.emplace(side_key(p.side, p.key), &p);
  std::vector<PendingDeletion> next;
  std::unordered_set<std::string> seen;
  for (const auto& h : c.plan.held) {
    if (h.action.kind != ActionKind::remove || !is_pending_hold(h.hold)) continue;
    const auto sk = side_key(h.action.side, h.action.key);
    if (!seen.insert(sk).second) continue;
    PendingDeletion p;
    p.side = h.action.side;
    p.key = h.action.key;
    p.reason = std::string(to_string(h.hold));
    auto it = prev_pending.find(sk);
    p.first_seen =
        it != prev_pending.end() ? it->second->first_seen : (h.first_seen ? h.first_seen : c.now);
    p.item = h.action.item;
    next.push_back(std::move(p));
  }
  for (const auto& a : c.plan.actions) {
    if (a.reason != ActionReason::approved || settled(c.status_of(a))) continue;
    const auto sk = side_key(a.side, a.key);
    auto it = prev_pending.find(sk);
    if (it == prev_pending.end() || !seen.insert(sk).second) continue;
    next.push_back(*it->second);
  }
  // Declined ones (`cw pending drop`) were ignored, so the baseline advanced past their
  // cause and they are forgotten; except mirror removals, which follow from the target
  // itself (no baseline to advance): those are remembered while they are still derived.
  const auto fit = c.policy.features.find(c.plan.feature);
  const bool mirror = c.plan.mode == PairMode::one_way && fit != c.policy.features.end() &&
                      fit->second.removal == RemovalMode::mirror;
  if (mirror) {
    for (const auto& d : c.plan.declined_pending) {
      const auto sk = side_key(d.side, d.key);
      if (!seen.insert(sk).second) continue;
      auto it = prev_pending.find(sk);
      next.push_back(it != prev_pending.end() ? *it->second : d);
      next.back().declined = true;
    }
  }
  if (c.any_down) {
    // Nothing was evaluated against the down side: its pending deletions stand.
    for (const auto& p : c.previous.pending) {
      if (seen.insert(side_key(p.side, p.key)).second) next.push_back(p);
    }
  }
  return next;
}

// Tombstones (R4.2): expire, add for settled removes and observed deletions, and clear
// those an add just contradicted.
std::vector<Tombstone> settle_tombstones(const SettleContext& c, SettlementSummary& sum) {
  std::vector<Tombstone> next;
  for (const auto& t : c.previous.tombstones) {
    if (t.expires_at == 0 || t.expires_at > c.now) next.push_back(t);
  }
  if (c.plan.mode == PairMode::two_way) {
    Index added(false);
    for (const auto& a : c.plan.actions) {
      if (a.kind == ActionKind::add && settled(c.status_of(a))) added.add(a.item);
    }
    // A declined deletion is not a deletion: its tombstone (written while it was held)
    // would otherwise remove the copy again.
    for (const auto& p : c.previous.pending) {
      if (p.declined) added.add(p.item);
    }
    std::unordered_set<std::string> declined_keys;
    for (const auto& p : c.previous.pending) {
      if (p.declined) declined_keys.insert(p.key);
    }
    if (!added.empty())
      std::erase_if(next, [&](const Tombstone& t) {
        return declined_keys.count(t.key) > 0 || added.find(t.item).has_value();
      });
    std::unordered_map<std::string, std::size_t> tomb_by_key;
    for (std::size_t i = 0; i < next.size(); ++i) tomb_by_key[next[i].key] = i;
    const auto put = [&](const Action& a) {
      Tombstone t{a.key, a.item, c.now, c.now + c.policy.guards.tombstone_ttl_s};
      t.item.extra = nullptr;
      auto it = tomb_by_key.find(t.key);
      if (it != tomb_by_key.end()) {
        next[it->second] = std::move(t);
      } else {
        tomb_by_key.emplace(t.key, next.size());
        next.push_back(std::move(t));
        ++sum.tombstones_added;
      }
    };
    for (const auto& a : c.plan.actions) {
      if (a.kind == ActionKind::remove && (settled(c.status_of(a)) || !a.cause_key.empty())) put(a);
    }
    for (const auto& h : c.plan.held) {
      if (h.action.kind == ActionKind::remove && !h.action.cause_key.empty()) put(h.action);
    }
  }
  return next;
}

// Flaps and blackbox (R5.4).
void settle_flaps(const SettleContext& c, PairFeatureState& st, SettlementSummary& sum) {
  std::unordered_map<std::string, FlapCounter> flaps;
  std::vector<std::string> order;
  for (const auto& f : c.previous.flaps) {
    const auto sk = side_key(f.side, f.key);
    if (flaps.emplace(sk, f).second) order.push_back(sk);
  }
  std::vector<BlackboxEntry> blackbox;
  for (const auto& b : c.previous.blackbox) {
    if (b.until == 0 || b.until > c.now) blackbox.push_back(b);
  }
  for (const auto& a : c.plan.actions) {
    if (a.kind == ActionKind::remove) continue;
    const Outcome* o = c.outcome_of(a);
    const auto sk = side_key(a.side, a.key);
    if (o && settled(o->status)) {
      flaps.erase(sk);
      continue;
    }
    // Rate limiting, an account limit (ABI 1.1 "quota": a full list, a spent daily
    // allowance) and missing outcomes say nothing about the item itself.
    if (!o || o->status != OutcomeStatus::unresolved || o->reason == "rate_limited" ||
        o->reason == "quota")
      continue;
    auto [it, inserted] = flaps.try_emplace(sk, FlapCounter{a.side, a.key, 0, {}, 0});
    if (inserted) order.push_back(sk);
    FlapCounter& f = it->second;
    ++f.consecutive;
    f.last_reason = o->reason;
    f.last_at = c.now;
    if (f.consecutive >= c.policy.guards.blackbox_failures) {
      blackbox.push_back(BlackboxEntry{a.side, a.key,
                                       "failed " + std::to_string(f.consecutive) +
                                           " consecutive runs (last: " + o->reason +
                                           (o->message.empty() ? "" : ", " + o->message) + ")",
                                       c.now, c.now + c.policy.guards.blackbox_ttl_s});
      ++sum.newly_blocked;
      flaps.erase(it);
    }
  }
  st.flaps.clear();
  for (const auto& sk : order) {
    auto it = flaps.find(sk);
    if (it != flaps.end()) st.flaps.push_back(it->second);
  }
  st.blackbox = std::move(blackbox);
}

// Unresolved (R5.5): what failed or has no outcome; success or vanishing clears it.
std::vector<UnresolvedEntry> settle_unresolved(const SettleContext& c) {
  std::unordered_map<std::string, const UnresolvedEntry*> prev;
  for (const auto& u : c.previous.unresolved) prev.emplace(side_key(u.side, u.key), &u);
  std::vector<UnresolvedEntry> next;
  std::unordered_set<std::string> seen;
  for (const auto& a : c.plan.actions) {
    const Outcome* o = c.outcome_of(a);
    if (o && settled(o->status)) continue;
    const auto sk = side_key(a.side, a.key);
    if (!seen.insert(sk).second) continue;
    UnresolvedEntry u;
    u.side = a.side;
    u.key = a.key;
    u.reason = o ? (o->reason.empty() ? "unknown" : o->reason) : "unknown";
    u.message = o ? o->message : "no outcome was reported for this key";
    u.first_seen = c.now;
    u.last_seen = c.now;
    u.item = a.item;
    if (auto it = prev.find(sk); it != prev.end()) {
      u.first_seen = it->second->first_seen;
      u.attempts = it->second->attempts + 1;
    }
    next.push_back(std::move(u));
  }
  // Unresolved by planning (an ambiguous title match): no write, kept while derived.
  for (const auto& p : c.plan.unresolved) {
    const auto sk = side_key(p.side, p.key);
    if (!seen.insert(sk).second) continue;
    UnresolvedEntry u = p;
    u.first_seen = c.now;
    u.last_seen = c.now;
    u.attempts = 1;
    if (auto it = prev.find(sk); it != prev.end()) {
      u.first_seen = it->second->first_seen;
      u.attempts = it->second->attempts + 1;
    }
    next.push_back(std::move(u));
  }
  // Held this run: not retried, so the entry stands as it was.
  for (const auto& h : c.plan.held) {
    const auto sk = side_key(h.action.side, h.action.key);
    auto it = prev.find(sk);
    if (it != prev.end() && seen.insert(sk).second) next.push_back(*it->second);
  }
  // A side was down: nothing was compared, so nothing was resolved either.
  if (!c.plan.not_compared_reason.empty()) {
    for (const auto& u : c.previous.unresolved) {
      if (seen.insert(side_key(u.side, u.key)).second) next.push_back(u);
    }
  }
  return next;
}

}  // namespace

Settlement settle(const PairPolicy& policy, const FeaturePlan& plan,
                  const std::vector<Outcome>& outcomes, const Snapshot& source,
                  const Snapshot& target, const PairFeatureState& previous, Instant now) {
  Settlement result;
  if (plan.skipped) {
    result.state = previous;
    return result;
  }
  const auto fp = policy.features.find(plan.feature);
  SettleContext c{policy,
                  plan,
                  source,
                  target,
                  previous,
                  now,
                  plan.feature == Feature::history,
                  fp == policy.features.end() ? 60 : fp->second.event_tolerance_s,
                  source.health == Health::down || target.health == Health::down,
                  {}};
  c.by_key.reserve(outcomes.size());
  for (const auto& o : outcomes) c.by_key.emplace(outcome_key(o.side, o.kind, o.key), &o);

  PairFeatureState& st = result.state;
  SettlementSummary& sum = result.summary;
  count_outcomes(c, sum);
  settle_baselines(c, st);
  st.pending = settle_pending(c);
  sum.pending = st.pending.size();
  st.tombstones = settle_tombstones(c, sum);
  settle_flaps(c, st, sum);
  st.unresolved = settle_unresolved(c);
  return result;
}

}  // namespace cw::engine
