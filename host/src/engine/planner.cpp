#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include <cwsdk/support/rating.hpp>

#include <cw/engine/planner.hpp>
#include <cw/util/strings.hpp>

namespace cw::engine {
namespace {

// How a side's deletions (baseline entries gone from its snapshot) are treated.
enum class Deletions { ignored, inferred, held };

struct SideCtx {
  SideCtx(Side s, const Snapshot& sn, const std::optional<Index>& b, MatchOptions m)
      : side(s), snap(sn), base(b), mo(m) {}
  Side side;
  const Snapshot& snap;
  const std::optional<Index>& base;
  MatchOptions mo;  // title matching (R1.4): the pair's year tolerance
  bool suspect = false;
  std::string suspect_reason;
  bool writable = true;
  Deletions deletions = Deletions::ignored;
  std::string deletions_note;  // why ignored, for the plan notes

  // R4.3: a delta side is the union of its baseline and what it just reported; a
  // suspect side (R5.1) keeps its baseline items so that a bad read adds nothing back.
  bool base_counts() const {
    return base && (snap.completeness.semantics == Semantics::delta || suspect);
  }
  const IndexEntry* find(const Item& item) const {
    if (const auto* e = snap.index.find_entry(item)) return e;
    if (base_counts()) return base->find_entry(item);
    return nullptr;
  }
  // The same for entry `pos` of another index, without rebuilding its tokens.
  const IndexEntry* find(const Index& from, std::size_t pos) const {
    if (const auto* e = snap.index.find_entry(from, pos, mo)) return e;
    if (base_counts()) return base->find_entry(from, pos, mo);
    return nullptr;
  }
  std::size_t baseline_size() const { return base ? base->size() : snap.index.size(); }
};

std::string side_name(const SideCtx& s) { return s.snap.provider; }

// The entry of `side` that a deletion propagated from entry `pos` of another index would
// remove. A delta side's read lists only changes, so what it holds comes from its baseline
// too (R4.3), less what it reported removed in the same read (already gone there).
const IndexEntry* holding(const SideCtx& side, const Index& from, std::size_t pos) {
  if (side.snap.completeness.semantics == Semantics::delta &&
      side.snap.removed.find_entry(from, pos, side.mo))
    return nullptr;
  return side.find(from, pos);
}

std::vector<Instant> unmatched_plays(const std::vector<Instant>& mine,
                                     const std::vector<Instant>& theirs, std::int64_t tol) {
  // Both ascending; a greedy walk pairs each play with the earliest one within ±tol.
  std::vector<Instant> out;
  std::size_t j = 0;
  for (Instant p : mine) {
    while (j < theirs.size() && theirs[j] < p - tol) ++j;
    if (j < theirs.size() && theirs[j] <= p + tol) {
      ++j;
    } else {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<Instant> plays_of(const IndexEntry& e) {
  if (!e.plays.empty()) return e.plays.to_vector();
  if (e.item.watched_at) return {*e.item.watched_at};
  return {};
}

// The plays of baseline entry `b` that left its side: for a delta side only those its reply
// reported `removed`; never those `now_there` still has. Out of line: GCC 12 at -O2 warns
// falsely (-Wfree-nonheap-object) about these vectors when it is inlined into its caller.
[[gnu::noinline]] std::vector<Instant> plays_gone(const IndexEntry& b, const IndexEntry* removed,
                                                  const IndexEntry* now_there,
                                                  std::int64_t tolerance) {
  std::vector<Instant> left = plays_of(b);
  if (removed != nullptr) {
    const auto kept = unmatched_plays(left, plays_of(*removed), tolerance);
    std::vector<Instant> reported;
    for (const Instant t : left)
      if (!std::binary_search(kept.begin(), kept.end(), t)) reported.push_back(t);
    left.swap(reported);
  }
  return now_there != nullptr ? unmatched_plays(left, plays_of(*now_there), tolerance) : left;
}

std::string event_key(const std::string& key, Instant t) { return key + "@" + std::to_string(t); }

// How far into the item, as a fraction of its duration: from progress_ms and duration_ms,
// else from progress_percent (ABI 1.1, services that store only a percentage).
std::optional<double> progress_fraction(const Item& it) {
  if (it.progress_ms && it.duration_ms && *it.duration_ms > 0)
    return static_cast<double>(*it.progress_ms) / static_cast<double>(*it.duration_ms);
  if (it.progress_bp) return *it.progress_bp / 10000.0;
  return std::nullopt;
}

bool has_progress(const Item& it) {
  return (it.progress_ms && *it.progress_ms > 0) || (it.progress_bp && *it.progress_bp > 0);
}

bool finished(const Item& it) {
  const auto f = progress_fraction(it);
  return f && *f >= k_progress_finished_ratio;
}

// A write carries both forms where they can be computed, so that a target that stores
// milliseconds and one that stores a percentage both get what they need.
void fill_progress_forms(Item& it, const Item* other) {
  const auto duration = it.duration_ms ? std::optional<std::int64_t>(*it.duration_ms)
                        : other && other->duration_ms
                            ? std::optional<std::int64_t>(*other->duration_ms)
                            : std::nullopt;
  if (!it.progress_bp && it.progress_ms && duration && *duration > 0) {
    const double bp =
        10000.0 * static_cast<double>(*it.progress_ms) / static_cast<double>(*duration);
    it.progress_bp = static_cast<std::int16_t>(std::clamp(std::lround(bp), 0L, 10000L));
  }
  if (!it.progress_ms && it.progress_bp && duration && *duration > 0) {
    it.progress_ms = static_cast<std::int64_t>(
        std::llround(static_cast<double>(*duration) * *it.progress_bp / 10000.0));
    if (!it.duration_ms) it.duration_ms = *duration;
  }
}

Item add_copy(const Item& from) {
  Item out = from;
  out.extra = nullptr;  // provider-private data never crosses to another provider
  return out;
}

// This side's item, carrying the other side's new values.
Item update_copy(const Item& mine, const Item& theirs, Feature feature) {
  Item out = mine;
  Ids ids = theirs.ids;
  ids.merge_from(mine.ids);
  out.ids = std::move(ids);
  if (feature == Feature::ratings) {
    out.rating = theirs.rating;
    out.rated_at = theirs.rated_at;
  } else if (feature == Feature::progress) {
    out.progress_ms = theirs.progress_ms;
    out.progress_bp = theirs.progress_bp;
    if (theirs.duration_ms) out.duration_ms = theirs.duration_ms;
    out.progress_at = theirs.progress_at;
  }
  return out;
}

struct StagedRemove {
  Action action;
  bool drop_guard = false;
  std::string why_suspect;
};

class Planner {
 public:
  Planner(const PairPolicy& policy, const FeaturePolicy& fp, Feature feature, SideCtx& src,
          SideCtx& tgt, const PriorState& prior, Instant now, FeaturePlan& plan)
      : m_policy(policy),
        m_fp(fp),
        m_feature(feature),
        m_src(src),
        m_tgt(tgt),
        m_now(now),
        m_plan(plan),
        m_mo{policy.year_tolerance},
        m_exclude_ids(fp.scope.exclude_ids.begin(), fp.scope.exclude_ids.end()),
        m_exclude_titles(fp.scope.exclude_titles.begin(), fp.scope.exclude_titles.end()) {
    for (const auto& b : prior.blackbox) {
      if (b.until == 0 || b.until > now) m_blocked[static_cast<int>(b.side)].insert(b.key);
    }
    for (const auto& p : prior.pending) m_pending[static_cast<int>(p.side)].emplace(p.key, &p);
    for (const auto& t : prior.tombstones) {
      if (t.expires_at == 0 || t.expires_at > now) m_tomb_index.add(t.item);
    }
    // Matching tombstones merged into one entry: keep the newest time per entry.
    m_tomb_newest.assign(m_tomb_index.size(), 0);
    for (const auto& t : prior.tombstones) {
      if (t.expires_at != 0 && t.expires_at <= now) continue;
      if (auto pos = m_tomb_index.find(t.item))
        m_tomb_newest[*pos] = std::max(m_tomb_newest[*pos], t.created_at);
    }
  }

  void one_way();
  void two_way();
  void finish();
  void reserve_actions(bool both_ways);

 private:
  SideCtx& ctx(Side s) { return s == Side::source ? m_src : m_tgt; }
  const FeatureCaps& caps(Side s) { return ctx(s).snap.caps; }

  void emit(Action a);
  // The scope filter that leaves `item` alone (types, from_date, min_rating, exclude), or
  // null when it is in scope.
  const char* out_of_scope(const Item& item) const;
  // `cw override --ignore` by key: the write's keys (its own, its cause's, its item's) are
  // in the same canonical form on both sides, so an ignored item the instance no longer
  // lists still keeps its deletion from travelling.
  bool ignored_key(const Action& a) const {
    if (m_src.snap.ignored_keys.empty() && m_tgt.snap.ignored_keys.empty()) return false;
    const std::string own = canonical_key(a.item);
    for (const SideCtx* c : {&m_src, &m_tgt}) {
      for (const std::string* k : {&a.key, &a.cause_key, &own}) {
        if (k->empty()) continue;
        // Event mode keys a play as `<key>@<time>`.
        const auto at = k->rfind('@');
        if (c->snap.ignored_keys.count(*k) ||
            (at != std::string::npos && c->snap.ignored_keys.count(k->substr(0, at))))
          return true;
      }
    }
    return false;
  }
  // Records `a` as left alone when it is out of scope; true then.
  bool filtered(Action& a) {
    const char* why = out_of_scope(a.item);
    if (why == nullptr && ignored_key(a)) why = "ignored";
    if (why == nullptr) return false;
    m_plan.filtered.push_back(FilteredAction{std::move(a), why});
    return true;
  }
  void stage_remove(Action a, bool drop_guard, std::string why_suspect = {}) {
    if (filtered(a)) return;
    const auto s = static_cast<int>(a.side);
    m_removes[s].push_back(StagedRemove{std::move(a), drop_guard, std::move(why_suspect)});
  }
  void finish_removes(Side side);
  void hold(Action a, HoldReason r, std::string detail, Instant first_seen = 0) {
    m_held.push_back(HeldAction{std::move(a), r, std::move(detail), first_seen});
  }

  // Writes that make `to` carry what `from_entry` (on the other side) has.
  void plan_presence(const IndexEntry& from_entry, const IndexEntry* to_entry, Side to,
                     ActionReason reason, const std::string& note);
  void plan_compare(const IndexEntry& a, const IndexEntry& b);
  void plan_progress(const IndexEntry& s, const IndexEntry* t, Side to);
  void plan_ratings_one_way(const IndexEntry& s, const IndexEntry* t);
  // `cw override --watched-at` in presence mode: the corrected date of `from` goes to
  // `to`, which has the item but no play at that date, as an update when it can store it.
  void correct_watch_date(const IndexEntry& from, const IndexEntry& to_entry, Side to);
  // propagate_rated_at: an equal rating whose rated_at on `from` is newer than on `to`
  // goes to `to` as an update when `to` stores rated_at. True when one was planned.
  bool propagate_rated_at(const IndexEntry& from, const IndexEntry& to_entry, Side to);
  // Deletions observed on `from`, propagated to the other side (source_deletes / two-way).
  void propagate_deletions(SideCtx& from, SideCtx& to);
  void mirror_removes();
  // The newest live tombstone time matching `item`.
  std::optional<Instant> live_tombstone(const Item& item) const;
  // R1.4: entry `i` of `idx` found nothing on `there` because its title matched several
  // items there (or its one candidate has another on this side). Never a guess: it is
  // unresolved (`ambiguous`) and gets no write. True when that was the case.
  bool ambiguous(const Index& idx, std::size_t i, const SideCtx& there);

  const PairPolicy& m_policy;
  const FeaturePolicy& m_fp;
  Feature m_feature;
  SideCtx& m_src;
  SideCtx& m_tgt;
  Instant m_now;
  FeaturePlan& m_plan;
  MatchOptions m_mo;
  std::unordered_set<std::string> m_exclude_ids;
  std::unordered_set<std::string> m_exclude_titles;
  std::unordered_set<std::string> m_blocked[2];
  std::unordered_map<std::string, const PendingDeletion*> m_pending[2];
  Index m_tomb_index;
  std::vector<Instant> m_tomb_newest;
  std::deque<StagedRemove> m_removes[2];
  // Holds collect in a deque and move into the plan's vector, sized exactly, at the end:
  // a growing vector of Actions peaks at up to 3x their size.
  std::deque<HeldAction> m_held;
  std::size_t m_lost_dates = 0;
  std::size_t m_restored[2] = {0, 0};
  std::size_t m_deletes_not_propagated = 0;
  std::size_t m_updates_disabled = 0;
};

const char* Planner::out_of_scope(const Item& item) const {
  // `cw override --ignore`: kept out of sync for good, whichever side the user named.
  for (const SideCtx* c : {&m_src, &m_tgt})
    if (!c->snap.ignored.empty() && c->snap.ignored.find(item)) return "ignored";
  const Scope& sc = m_fp.scope;
  if (((sc.types >> static_cast<int>(item.kind)) & 1U) == 0) return "types";
  if (sc.from_date) {
    // Undated plays and ratings are not known to be older: they stay in scope.
    std::optional<Instant> when;
    if (m_feature == Feature::history && item.watched_at) when = *item.watched_at;
    if (m_feature == Feature::ratings && item.rated_at) when = *item.rated_at;
    if (when && *when < *sc.from_date) return "from_date";
  }
  if (sc.min_rating && m_feature == Feature::ratings && item.rating &&
      *item.rating < *sc.min_rating - 1e-9)
    return "min_rating";
  if (!m_exclude_titles.empty()) {
    for (const std::string* t : {&item.title, &item.show_title}) {
      if (!t->empty() && m_exclude_titles.count(util::to_lower(util::trim(*t)))) return "exclude";
    }
  }
  if (!m_exclude_ids.empty()) {
    for (const Ids* ids : {&item.ids, &item.show_ids}) {
      for (const auto e : ids->entries()) {
        std::string token(to_string(e.kind));
        token += ':';
        token += e.value;
        if (m_exclude_ids.count(token)) return "exclude";
      }
    }
  }
  return nullptr;
}

void Planner::emit(Action a) {
  // Out of scope: left alone, before any guard or capability says anything about it.
  if (filtered(a)) return;
  const Side s = a.side;
  const auto& c = caps(s);
  if (!ctx(s).writable) {
    hold(std::move(a), HoldReason::provider_down,
         ctx(s).snap.provider + " is down; nothing is written to it this run");
    return;
  }
  if (m_blocked[static_cast<int>(s)].count(a.key)) {
    hold(std::move(a), HoldReason::blackbox,
         "failed in consecutive runs; blocked (release with cw state unblock)");
    return;
  }
  const bool can = a.kind == ActionKind::add ? c.add : (c.update || c.add);
  if (!can) {
    hold(std::move(a), HoldReason::unsupported,
         ctx(s).snap.provider + " cannot " + std::string(to_string(a.kind)) + " " +
             std::string(to_string(m_feature)));
    return;
  }
  if (a.kind != ActionKind::remove && !c.takes(a.item.kind)) {
    // The manifest's `types` for this feature: the target would refuse it or, worse,
    // store it as something else.
    hold(std::move(a), HoldReason::unsupported,
         ctx(s).snap.provider + " does not take " + std::string(to_string(a.item.kind)) +
             " items for " + std::string(to_string(m_feature)));
    return;
  }
  if (m_feature == Feature::ratings && a.kind != ActionKind::remove && a.item.rating) {
    // Items carry 0-10; the value sent is one the target can store exactly (its
    // rating_scale), so that what it reads back equals what was planned (convergence).
    const auto on_scale = rating_on_scale(*a.item.rating, c);
    if (!on_scale) {
      hold(std::move(a), HoldReason::unsupported,
           "rating outside 0-10 or no usable rating_scale on " + ctx(s).snap.provider);
      return;
    }
    a.item.rating = *on_scale;
  }
  m_plan.actions.push_back(std::move(a));
}

bool Planner::ambiguous(const Index& idx, std::size_t i, const SideCtx& there) {
  const Match m = there.snap.index.match(idx, i, m_mo);
  if (!m.ambiguous()) return false;
  const IndexEntry& e = idx.entries()[i];
  // Out of the scope it would not be written anyway: left alone, not unresolved.
  if (out_of_scope(e.item) != nullptr) return true;
  for (const auto& u : m_plan.unresolved) {
    if (u.side == there.side && u.key == e.key) return true;
  }
  std::string keys;
  for (const auto c : m.candidates)
    keys += (keys.empty() ? "" : ", ") + there.snap.index.entries()[c].key;
  UnresolvedEntry u;
  u.side = there.side;
  u.key = e.key;
  u.reason = "ambiguous";
  // The fix: the item without ids gets ids (a title key is `<kind>|title:...`, an id key
  // `<kind>:<id kind>:...`); with one candidate here that is the one without ids.
  const bool probe_bare = e.key.find('|') < e.key.find(':');
  const std::string fix =
      "; cw does not guess: give it ids with `cw map add " +
      (probe_bare ? side_name(ctx(other(there.side))) + " '" + e.key
                  : side_name(there) + " '" + there.snap.index.entries()[m.candidates[0]].key) +
      "' --to imdb:tt...`";
  if (m.candidates_elsewhere)
    u.message = "its title and year match " + keys + " on " + side_name(there) +
                ", which another item on " + side_name(ctx(other(there.side))) +
                " matches as well" + fix;
  else
    u.message = "its title and year match " + std::to_string(m.candidates.size()) + " items on " +
                side_name(there) + " (" + keys + ")" + fix;
  u.first_seen = u.last_seen = m_now;
  u.item = e.item;
  u.item.extra = nullptr;
  m_plan.unresolved.push_back(std::move(u));
  return true;
}

std::optional<Instant> Planner::live_tombstone(const Item& item) const {
  if (m_tomb_index.empty()) return std::nullopt;
  auto pos = m_tomb_index.find(item);
  if (!pos) return std::nullopt;
  return m_tomb_newest[*pos];
}

void Planner::plan_presence(const IndexEntry& from_entry, const IndexEntry* to_entry, Side to,
                            ActionReason reason, const std::string& note) {
  if (!m_fp.add) return;
  const Item& src = from_entry.item;
  if (m_feature == Feature::history) {
    const auto plays = plays_of(from_entry);
    if (plays.empty()) return;  // no watch date: nothing to propagate (reference §6.1)
    if (!m_plan.event_mode && to_entry && ctx(other(to)).snap.corrected.count(from_entry.key)) {
      correct_watch_date(from_entry, *to_entry, to);
      return;
    }
    std::vector<Instant> to_send;
    if (m_plan.event_mode) {
      to_send =
          to_entry ? unmatched_plays(plays, plays_of(*to_entry), m_fp.event_tolerance_s) : plays;
    } else if (!to_entry) {
      to_send.push_back(plays.back());
    }
    if (m_plan.event_mode && m_plan.mode == PairMode::two_way && m_fp.remove) {
      // A play that `to` had and deleted is a deletion to propagate, not a play to add.
      const SideCtx& tc = ctx(to);
      const IndexEntry* had =
          tc.base && tc.deletions != Deletions::ignored ? tc.base->find_entry(src) : nullptr;
      if (had) {
        const auto had_plays = plays_of(*had);
        std::erase_if(to_send, [&](Instant t) {
          return unmatched_plays({t}, had_plays, m_fp.event_tolerance_s).empty();
        });
      }
    }
    const bool lost = !caps(to).writes_watch_date;
    for (Instant t : to_send) {
      Action a;
      a.kind = ActionKind::add;
      a.side = to;
      a.item = add_copy(src);
      a.item.watched_at = t;
      a.key = m_plan.event_mode ? event_key(from_entry.key, t) : from_entry.key;
      a.reason = reason;
      a.note = note;
      if (lost) {
        // R3.5: say it, never silently.
        a.note = a.note.empty() ? "date will be lost" : a.note + "; date will be lost";
        ++m_lost_dates;
      }
      emit(std::move(a));
    }
    return;
  }
  if (to_entry) return;
  if (m_feature == Feature::ratings && !src.rating) return;
  if (m_feature == Feature::progress) return;  // planned by plan_progress
  Action a;
  a.kind = ActionKind::add;
  a.side = to;
  a.item = add_copy(src);
  a.key = from_entry.key;
  a.reason = reason;
  a.note = note;
  emit(std::move(a));
}

void Planner::plan_ratings_one_way(const IndexEntry& s, const IndexEntry* t) {
  if (!s.item.rating) return;
  if (!t || !t->item.rating) {
    if (!m_fp.add) return;
    Action a;
    a.side = Side::target;
    a.reason = ActionReason::missing_on_target;
    if (t) {
      a.kind = ActionKind::update;
      a.item = update_copy(t->item, s.item, m_feature);
      a.key = t->key;
    } else {
      a.kind = ActionKind::add;
      a.item = add_copy(s.item);
      a.key = s.key;
    }
    emit(std::move(a));
    return;
  }
  if (ratings_equal(*s.item.rating, *t->item.rating, m_src.snap.caps, m_tgt.snap.caps)) {
    propagate_rated_at(s, *t, Side::target);
    return;
  }
  if (!m_fp.update) {
    ++m_updates_disabled;
    return;
  }
  Action a;
  a.kind = ActionKind::update;
  a.side = Side::target;
  a.item = update_copy(t->item, s.item, m_feature);
  a.key = t->key;
  a.reason = ActionReason::rating_differs;
  emit(std::move(a));
}

void Planner::correct_watch_date(const IndexEntry& from, const IndexEntry& to_entry, Side to) {
  const Instant when = plays_of(from).back();
  if (unmatched_plays({when}, plays_of(to_entry), m_fp.event_tolerance_s).empty()) return;
  const std::string what = "corrected watch date of " + describe(from.item) +
                           " (cw override) not sent to " + ctx(to).snap.provider + ": ";
  if (!m_fp.update) {
    m_plan.notes.push_back(what + "updates are disabled");
    return;
  }
  if (!caps(to).update || !caps(to).writes_watch_date) {
    m_plan.notes.push_back(what + "it cannot update a watch date");
    return;
  }
  Action a;
  a.kind = ActionKind::update;
  a.side = to;
  a.item = update_copy(to_entry.item, from.item, m_feature);
  a.item.watched_at = when;
  a.key = to_entry.key;
  a.reason = ActionReason::corrected;
  emit(std::move(a));
}

bool Planner::propagate_rated_at(const IndexEntry& from, const IndexEntry& to_entry, Side to) {
  if (!m_policy.propagate_rated_at || !m_fp.update || !caps(to).stores_rated_at) return false;
  const Item& f = from.item;
  const Item& t = to_entry.item;
  if (!f.rated_at || (t.rated_at && *t.rated_at >= *f.rated_at)) return false;
  Action a;
  a.kind = ActionKind::update;
  a.side = to;
  a.item = update_copy(t, f, m_feature);
  a.key = to_entry.key;
  a.reason = ActionReason::rated_at_newer;
  emit(std::move(a));
  return true;
}

void Planner::plan_progress(const IndexEntry& s, const IndexEntry* t, Side to) {
  if (!m_fp.add) return;
  const Item& si = s.item;
  if (!has_progress(si)) return;
  if (finished(si)) return;  // a finished item is the history feature's business
  Action a;
  a.side = to;
  if (!t || !has_progress(t->item)) {
    a.reason = ActionReason::progress_ahead;
  } else {
    const Item& ti = t->item;
    if (finished(ti)) return;  // never regress a finished item to partial
    // Milliseconds when both sides have them; else fractions (a percentage-only side).
    double diff = 0;
    if (si.progress_ms && ti.progress_ms) {
      diff = static_cast<double>(*si.progress_ms - *ti.progress_ms);
      if (std::fabs(diff) < k_progress_min_delta_ms) return;
    } else {
      const auto fs = progress_fraction(si), ft = progress_fraction(ti);
      if (!fs || !ft) return;  // not comparable: leave it
      diff = *fs - *ft;
      if (std::fabs(diff) < k_progress_min_delta_fraction) return;
    }
    if (diff > 0) {
      a.reason = ActionReason::progress_ahead;
    } else if (si.progress_at && ti.progress_at && *si.progress_at > *ti.progress_at) {
      a.reason = ActionReason::progress_newer;
    } else {
      return;
    }
  }
  if (t) {
    a.kind = ActionKind::update;
    a.item = update_copy(t->item, si, m_feature);
    a.key = t->key;
  } else {
    a.kind = ActionKind::add;
    a.item = add_copy(si);
    a.key = s.key;
  }
  fill_progress_forms(a.item, t ? &t->item : nullptr);
  emit(std::move(a));
}

// Two-way: both sides have the item.
void Planner::plan_compare(const IndexEntry& a, const IndexEntry& b) {
  switch (m_feature) {
    case Feature::watchlist:
      return;
    case Feature::history:
      if (m_plan.event_mode) {
        plan_presence(a, &b, Side::target, ActionReason::missing_on_target, {});
        plan_presence(b, &a, Side::source, ActionReason::missing_on_target, {});
        return;
      }
      // Presence mode: a different date is no reason to write, except the user's own
      // correction (cw override), which goes to the other side as an update.
      if (m_src.snap.corrected.count(a.key) && !plays_of(a).empty())
        correct_watch_date(a, b, Side::target);
      if (m_tgt.snap.corrected.count(b.key) && !plays_of(b).empty())
        correct_watch_date(b, a, Side::source);
      return;
    case Feature::progress:
      plan_progress(a, &b, Side::target);
      return;
    case Feature::ratings: {
      const auto& ra = a.item.rating;
      const auto& rb = b.item.rating;
      if (!ra && !rb) return;
      if (ra && !rb) {
        plan_ratings_one_way(a, &b);
        return;
      }
      if (!ra && rb) {
        if (!m_fp.add) return;
        Action act;
        act.kind = ActionKind::update;
        act.side = Side::source;
        act.item = update_copy(a.item, b.item, m_feature);
        act.key = a.key;
        act.reason = ActionReason::missing_on_target;
        emit(std::move(act));
        return;
      }
      if (ratings_equal(*ra, *rb, m_src.snap.caps, m_tgt.snap.caps)) {
        if (!propagate_rated_at(a, b, Side::target)) propagate_rated_at(b, a, Side::source);
        return;
      }
      // R4.4: the newer rated_at wins; without both dates, the source of truth.
      Side winner;
      ActionReason reason;
      if (a.item.rated_at && b.item.rated_at && *a.item.rated_at != *b.item.rated_at) {
        winner = *a.item.rated_at > *b.item.rated_at ? Side::source : Side::target;
        reason = ActionReason::rating_newer;
      } else {
        winner = !m_policy.source_of_truth.empty() && m_policy.source_of_truth == m_policy.target
                     ? Side::target
                     : Side::source;
        reason = ActionReason::rating_preferred;
      }
      if (!m_fp.update) {
        ++m_updates_disabled;
        return;
      }
      const IndexEntry& win = winner == Side::source ? a : b;
      const IndexEntry& lose = winner == Side::source ? b : a;
      Action act;
      act.kind = ActionKind::update;
      act.side = other(winner);
      act.item = update_copy(lose.item, win.item, m_feature);
      act.key = lose.key;
      act.reason = reason;
      emit(std::move(act));
      return;
    }
  }
}

void Planner::propagate_deletions(SideCtx& from, SideCtx& to) {
  if (from.deletions == Deletions::ignored || !from.base) return;
  const Index& base = *from.base;
  // A delta side proves a deletion only by its `removed` list; a present side by absence.
  const bool delta = from.snap.completeness.semantics == Semantics::delta;
  for (std::size_t i = 0; i < base.size(); ++i) {
    const IndexEntry& b = base.entries()[i];
    const IndexEntry* now_there = from.snap.index.find_entry(base, i, m_mo);
    const IndexEntry* removed = delta ? from.snap.removed.find_entry(base, i, m_mo) : nullptr;
    if (delta && !removed) continue;
    if (m_plan.event_mode) {
      // Event mode: each play that left `from` removes the matching play on `to`.
      const auto gone = plays_gone(b, removed, now_there, m_fp.event_tolerance_s);
      if (gone.empty()) continue;
      const IndexEntry* t = holding(to, base, i);
      if (!t) continue;
      const auto tplays = plays_of(*t);
      for (Instant g : gone) {
        // The target play within tolerance of the deleted one.
        auto it = std::lower_bound(tplays.begin(), tplays.end(), g - m_fp.event_tolerance_s);
        if (it == tplays.end() || *it > g + m_fp.event_tolerance_s) continue;
        if (!m_fp.remove) {
          ++m_deletes_not_propagated;
          continue;
        }
        Action a;
        a.kind = ActionKind::remove;
        a.side = to.side;
        a.item = t->item;
        a.item.watched_at = *it;
        if (const auto* x = t->extra_of_play(*it)) a.item.extra = *x;
        a.key = event_key(t->key, *it);
        a.cause_key = event_key(b.key, g);
        a.reason = ActionReason::deleted_on_source;
        stage_remove(std::move(a), from.deletions == Deletions::held, from.suspect_reason);
      }
      continue;
    }
    if (now_there) continue;
    const IndexEntry* t = holding(to, base, i);
    if (!t) continue;  // already gone on the other side: settled
    if (!m_fp.remove) {
      if (m_plan.mode == PairMode::two_way) {
        // R4.5: with removes off, the other side's copy comes back.
        ++m_restored[static_cast<int>(from.side)];
        plan_presence(*t, nullptr, from.side, ActionReason::restored,
                      "deleted on " + side_name(from) + ", comes back from " + side_name(to) +
                          " because removes are disabled");
      } else {
        ++m_deletes_not_propagated;
      }
      continue;
    }
    Action a;
    a.kind = ActionKind::remove;
    a.side = to.side;
    a.item = t->item;
    a.key = t->key;
    a.cause_key = b.key;
    a.reason = ActionReason::deleted_on_source;
    stage_remove(std::move(a), from.deletions == Deletions::held, from.suspect_reason);
  }
}

void Planner::mirror_removes() {
  if (!m_fp.remove) return;
  if (!m_tgt.base) {
    m_plan.notes.push_back("mirror: no baseline of " + side_name(m_tgt) +
                           " yet, so nothing is removed on this run (R3.2)");
    return;
  }
  if (m_src.snap.completeness.semantics == Semantics::delta) {
    m_plan.notes.push_back("mirror: " + side_name(m_src) +
                           " reports changes only (delta), so absence proves nothing");
    return;
  }
  if (m_src.snap.health == Health::down) return;
  const bool held = m_src.suspect;
  const Index& tidx = m_tgt.snap.index;
  for (std::size_t i = 0; i < tidx.size(); ++i) {
    const IndexEntry& t = tidx.entries()[i];
    if (!m_tgt.base->find(tidx, i, m_mo)) continue;  // new on the target since its baseline
    const IndexEntry* s = m_src.snap.index.find_entry(tidx, i, m_mo);
    if (m_feature == Feature::ratings && !t.item.rating) continue;
    if (m_plan.event_mode && s) {
      for (Instant p : unmatched_plays(plays_of(t), plays_of(*s), m_fp.event_tolerance_s)) {
        Action a;
        a.kind = ActionKind::remove;
        a.side = Side::target;
        a.item = t.item;
        a.item.watched_at = p;
        if (const auto* x = t.extra_of_play(p)) a.item.extra = *x;
        a.key = event_key(t.key, p);
        a.reason = ActionReason::not_on_source;
        stage_remove(std::move(a), held, m_src.suspect_reason);
      }
      continue;
    }
    if (s) continue;
    if (m_plan.event_mode) {
      for (Instant p : plays_of(t)) {
        Action a;
        a.kind = ActionKind::remove;
        a.side = Side::target;
        a.item = t.item;
        a.item.watched_at = p;
        if (const auto* x = t.extra_of_play(p)) a.item.extra = *x;
        a.key = event_key(t.key, p);
        a.reason = ActionReason::not_on_source;
        stage_remove(std::move(a), held, m_src.suspect_reason);
      }
      continue;
    }
    Action a;
    a.kind = ActionKind::remove;
    a.side = Side::target;
    a.item = t.item;
    a.key = t.key;
    a.reason = ActionReason::not_on_source;
    stage_remove(std::move(a), held, m_src.suspect_reason);
  }
}

void Planner::one_way() {
  reserve_actions(false);
  const auto visit = [&](const Index& idx, std::size_t i) {
    const IndexEntry& s = idx.entries()[i];
    const IndexEntry* t = m_tgt.find(idx, i);
    if (!t && ambiguous(idx, i, m_tgt)) return;
    switch (m_feature) {
      case Feature::watchlist:
      case Feature::history:
        plan_presence(s, t, Side::target, ActionReason::missing_on_target, {});
        break;
      case Feature::ratings:
        plan_ratings_one_way(s, t);
        break;
      case Feature::progress:
        plan_progress(s, t, Side::target);
        break;
    }
  };
  const Index& sidx = m_src.snap.index;
  for (std::size_t i = 0; i < sidx.size(); ++i) visit(sidx, i);
  if (m_src.snap.completeness.semantics == Semantics::delta && m_src.base) {
    // A delta source is its baseline plus the changes (R4.3); retry what the target
    // still lacks from the baseline too.
    const Index& base = *m_src.base;
    const Index& removed = m_src.snap.removed;
    for (std::size_t i = 0; i < base.size(); ++i) {
      // What the source reported removed is not retried; history entries with a removed
      // play wait a run (their baseline then holds only the plays that remain).
      if (!sidx.find(base, i, m_mo) && !removed.find(base, i, m_mo)) visit(base, i);
    }
  }
  if (m_fp.removal == RemovalMode::mirror)
    mirror_removes();
  else
    propagate_deletions(m_src, m_tgt);
}

void Planner::two_way() {
  reserve_actions(true);
  // Items on one side only: a deletion on the other side, a tombstone, or an add.
  const auto one_sided = [&](SideCtx& have, SideCtx& lack, const Index& idx, std::size_t i) {
    const IndexEntry& e = idx.entries()[i];
    const bool lack_had = lack.base && lack.base->find(idx, i, m_mo);
    if (lack_had && lack.deletions != Deletions::ignored) return;  // propagate_deletions
    if (!lack_had && m_fp.remove) {
      // R4.2: a live tombstone removes this copy unless it is new here since the baseline.
      const bool have_had = have.base && have.base->find(idx, i, m_mo);
      if (auto tomb = live_tombstone(e.item); tomb && have_had) {
        const bool newer_watch =
            m_feature == Feature::history && e.item.watched_at && *e.item.watched_at > *tomb;
        if (!newer_watch) {
          Action a;
          a.kind = ActionKind::remove;
          a.side = have.side;
          a.item = e.item;
          a.key = e.key;
          a.reason = ActionReason::tombstoned;
          stage_remove(std::move(a), false);
          return;
        }
      }
    }
    if (m_feature == Feature::progress) {
      if (have.side == Side::source) plan_progress(e, nullptr, Side::target);
      return;
    }
    plan_presence(e, nullptr, lack.side, ActionReason::missing_on_target, {});
  };
  const Index& aidx = m_src.snap.index;
  for (std::size_t i = 0; i < aidx.size(); ++i) {
    if (const IndexEntry* b = m_tgt.find(aidx, i))
      plan_compare(aidx.entries()[i], *b);
    else if (!ambiguous(aidx, i, m_tgt))
      one_sided(m_src, m_tgt, aidx, i);
  }
  const Index& bidx = m_tgt.snap.index;
  for (std::size_t i = 0; i < bidx.size(); ++i) {
    if (!m_src.find(bidx, i) && !ambiguous(bidx, i, m_src)) one_sided(m_tgt, m_src, bidx, i);
  }
  propagate_deletions(m_src, m_tgt);
  propagate_deletions(m_tgt, m_src);
  if (m_feature == Feature::progress)
    m_plan.notes.push_back("progress is planned one way, " + side_name(m_src) + " to " +
                           side_name(m_tgt) + ", even in two-way pairs");
}

void Planner::finish_removes(Side side) {
  SideCtx& c = ctx(side);
  auto& staged = m_removes[static_cast<int>(side)];
  // One row can be reached twice (a tombstone and an observed deletion): keep one.
  std::unordered_set<std::string> seen;
  std::vector<StagedRemove> candidates;
  for (auto& r : staged) {
    if (!seen.insert(r.action.key).second) continue;
    const auto pit = m_pending[static_cast<int>(side)].find(r.action.key);
    const PendingDeletion* pending =
        pit == m_pending[static_cast<int>(side)].end() ? nullptr : pit->second;
    if (pending && pending->declined) {
      // `cw pending drop`: intentionally ignored. No remove and no hold, so the cause
      // leaves the other side's baseline and the deletion is not derived again (R6.3).
      m_plan.declined_pending.push_back(*pending);
      m_plan.declined_pending.back().item = r.action.item;
      continue;
    }
    if (pending && pending->first_seen + m_policy.guards.pending_ttl_s <= m_now) {
      m_plan.expired_pending.push_back(*pending);  // R5.3: expired, forgotten
      continue;
    }
    if (!c.writable) {
      hold(std::move(r.action), HoldReason::provider_down,
           c.snap.provider + " is down; nothing is written to it this run");
      continue;
    }
    if (!c.snap.caps.remove) {
      hold(std::move(r.action), HoldReason::unsupported,
           c.snap.provider + " cannot remove " + std::string(to_string(m_feature)));
      continue;
    }
    if (pending && pending->approved) {
      r.action.reason = ActionReason::approved;
      m_plan.actions.push_back(std::move(r.action));
      continue;
    }
    const Instant first_seen = pending ? pending->first_seen : m_now;
    if (r.drop_guard) {
      hold(std::move(r.action), HoldReason::drop_guard,
           "derived from a suspect snapshot (" + r.why_suspect +
               "); approve with cw pending approve",
           first_seen);
      continue;
    }
    candidates.push_back(std::move(r));
  }
  const std::size_t base_size = c.baseline_size();
  const auto limit = std::max<std::size_t>(
      m_policy.guards.mass_delete_max_count,
      static_cast<std::size_t>(
          std::floor(m_policy.guards.mass_delete_max_ratio * static_cast<double>(base_size))));
  const bool capped = candidates.size() > limit;
  for (auto& r : candidates) {
    if (capped) {
      const auto pit = m_pending[static_cast<int>(side)].find(r.action.key);
      const Instant first_seen =
          pit == m_pending[static_cast<int>(side)].end() ? m_now : pit->second->first_seen;
      hold(std::move(r.action), HoldReason::mass_delete,
           "would remove " + std::to_string(candidates.size()) + " of " +
               std::to_string(base_size) + " items from " + c.snap.provider + " (limit " +
               std::to_string(limit) + "); approve with cw pending approve",
           first_seen);
    } else {
      m_plan.actions.push_back(std::move(r.action));
    }
  }
}

void Planner::reserve_actions(bool both_ways) {
  // Watchlist and history write mostly adds, one per entry that the other side lacks:
  // count them (one probe per entry, no strings) so that the action vector is allocated
  // once instead of growing by doubling (10,000 Actions are ~3 MiB).
  if (m_feature != Feature::watchlist && m_feature != Feature::history) return;
  const Index& s = m_src.snap.index;
  const Index& t = m_tgt.snap.index;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) n += t.find(s, i, m_mo) ? 0 : 1;
  if (both_ways) {
    for (std::size_t i = 0; i < t.size(); ++i) n += s.find(t, i, m_mo) ? 0 : 1;
  }
  m_plan.actions.reserve(n);
}

void Planner::finish() {
  const std::size_t staged = m_removes[0].size() + m_removes[1].size();
  if (m_plan.actions.capacity() < m_plan.actions.size() + staged)
    m_plan.actions.reserve(m_plan.actions.size() + staged);
  finish_removes(Side::source);
  finish_removes(Side::target);
  if (m_lost_dates > 0)
    m_plan.notes.push_back(std::to_string(m_lost_dates) + " history add(s): " +
                           "the target cannot store a watch date; date will be lost");
  for (Side s : {Side::source, Side::target}) {
    if (m_restored[static_cast<int>(s)] > 0)
      m_plan.notes.push_back(std::to_string(m_restored[static_cast<int>(s)]) +
                             " item(s) deleted on " + ctx(s).snap.provider + " come back from " +
                             ctx(other(s)).snap.provider +
                             " because removes are disabled for this feature (R4.5)");
  }
  if (m_deletes_not_propagated > 0)
    m_plan.notes.push_back(std::to_string(m_deletes_not_propagated) +
                           " deletion(s) seen on the source are not propagated: removes are "
                           "disabled for this feature");
  if (m_updates_disabled > 0)
    m_plan.notes.push_back(std::to_string(m_updates_disabled) +
                           " differing rating(s) left alone: updates are disabled");
  for (SideCtx* c : {&m_src, &m_tgt}) {
    if (!c->deletions_note.empty()) m_plan.notes.push_back(c->deletions_note);
  }
  m_plan.held.reserve(m_plan.held.size() + m_held.size());
  for (; !m_held.empty(); m_held.pop_front()) m_plan.held.push_back(std::move(m_held.front()));
}

SideSummary summarize(const SideCtx& c) {
  SideSummary s;
  s.provider = c.snap.provider;
  s.fingerprint = fingerprint(c.snap);
  s.health = c.snap.health;
  s.semantics = c.snap.completeness.semantics;
  s.complete = c.snap.completeness.complete;
  s.suspect = c.suspect;
  s.suspect_reason = c.suspect_reason;
  s.has_baseline = c.base.has_value();
  s.items = c.snap.index.size();
  return s;
}

void classify(SideCtx& c, const GuardPolicy& g, const FeaturePolicy& fp) {
  const auto& snap = c.snap;
  c.writable = snap.health != Health::down;
  if (snap.completeness.semantics == Semantics::present && c.base) {
    if (!snap.completeness.complete) {
      c.suspect = true;
      c.suspect_reason = snap.provider + " snapshot is incomplete";
    } else if (g.drop_guard && c.base->size() >= g.drop_guard_min_baseline &&
               static_cast<double>(snap.index.size()) <=
                   g.drop_guard_ratio * static_cast<double>(c.base->size())) {
      c.suspect = true;
      c.suspect_reason = snap.provider + " shrank from " + std::to_string(c.base->size()) + " to " +
                         std::to_string(snap.index.size()) + " items";
    }
  }
  // R4.3: deletions only from a present, complete, healthy, non-suspect side with a
  // baseline; a suspect side's deletions are held instead (R5.1).
  const std::string who = snap.provider + ": ";
  if (!c.base) {
    c.deletions = Deletions::ignored;
  } else if (snap.completeness.semantics == Semantics::delta && snap.removed.size() == 0) {
    // A delta reply's absences prove nothing; only its `removed` list does (ABI 1.1).
    c.deletions = Deletions::ignored;
  } else if (snap.health == Health::down || snap.health == Health::auth_failed) {
    c.deletions = Deletions::ignored;
  } else if (!snap.caps.observes_deletes && snap.completeness.semantics == Semantics::present) {
    c.deletions = Deletions::ignored;
    c.deletions_note = who + "its deletions cannot be observed (manifest), none are inferred";
  } else if (!fp.include_observed_deletes) {
    c.deletions = Deletions::ignored;
  } else if (c.suspect) {
    c.deletions = Deletions::held;
  } else {
    c.deletions = Deletions::inferred;
  }
}

}  // namespace

PriorState PriorState::from(const PairFeatureState& state, Feature feature) {
  PriorState p;
  const bool history = feature == Feature::history;
  if (state.source) p.source = Index::build(state.source->items, history);
  if (state.target) p.target = Index::build(state.target->items, history);
  p.tombstones = state.tombstones;
  p.pending = state.pending;
  p.blackbox = state.blackbox;
  return p;
}

std::optional<double> rating_on_scale(double rating, const FeatureCaps& caps) {
  if (!std::isfinite(rating) || rating < 0 || rating > 10) return std::nullopt;
  if (!caps.has_rating_scale) return rating;
  const cwsdk::RatingScale scale{caps.rating_min, caps.rating_max, caps.rating_step};
  const auto native = cwsdk::to_scale(rating, scale);
  if (!native) return std::nullopt;
  return cwsdk::from_scale(*native, scale);
}

bool ratings_equal(double a, double b, const FeatureCaps& caps_a, const FeatureCaps& caps_b) {
  if (!caps_a.has_rating_scale && !caps_b.has_rating_scale)
    return ratings_equal(a, b, caps_a.rating_step, caps_b.rating_step);
  // Equal when either side stores them as one value: writing would change nothing there,
  // and a two-way pair must not rewrite a value the other side cannot hold more exactly.
  for (const FeatureCaps* c : {&caps_a, &caps_b}) {
    if (c->has_rating_scale &&
        cwsdk::same_on_scale(a, b, {c->rating_min, c->rating_max, c->rating_step}))
      return true;
  }
  return false;
}

bool ratings_equal(double a, double b, double step_a, double step_b) {
  double step = std::max(step_a, step_b);
  if (!(step > 0)) step = 1;
  // Half-up rounding onto the coarser grid; the epsilon absorbs binary fractions.
  const auto grid = [step](double v) { return std::floor(v / step + 0.5 + 1e-9); };
  return grid(a) == grid(b);
}

FeaturePlan plan_feature(const PairPolicy& policy, Feature feature, const Snapshot& source,
                         const Snapshot& target, const PriorState& prior, Instant now) {
  FeaturePlan plan;
  plan.pair = policy.name;
  plan.feature = feature;
  plan.mode = policy.mode;
  const MatchOptions mo{policy.year_tolerance};
  SideCtx src{Side::source, source, prior.source, mo};
  SideCtx tgt{Side::target, target, prior.target, mo};

  const auto fit = policy.features.find(feature);
  const FeaturePolicy fp = fit == policy.features.end() ? FeaturePolicy{} : fit->second;
  classify(src, policy.guards, fp);
  classify(tgt, policy.guards, fp);
  plan.source = summarize(src);
  plan.target = summarize(tgt);

  const std::string fname(to_string(feature));
  if (fit == policy.features.end() || !fp.enabled) {
    plan.skipped = true;
    plan.skip_reason = fname + " is not enabled for pair '" + policy.name + "'";
    return plan;
  }
  for (const Snapshot* s : {&source, &target}) {
    if (s->health == Health::auth_failed) {
      plan.skipped = true;
      plan.skip_reason = s->provider +
                         " failed authentication; renew its credential with "
                         "`cw auth login " +
                         s->provider + "`";
      return plan;
    }
    if (!s->caps.supported) {
      plan.skipped = true;
      plan.skip_reason = s->provider + " does not support " + fname;
      return plan;
    }
  }
  if (source.health == Health::down && policy.mode == PairMode::one_way) {
    // R2.3: nothing to read from; no writes and no baseline changes.
    plan.skipped = true;
    plan.skip_reason = source.provider + " is down; pair skipped for " + fname;
    return plan;
  }
  for (const Snapshot* down : {&target, &source}) {
    if (down->health != Health::down) continue;
    // R2.3: nothing was read from it, so nothing is known about what it has or lacks: the
    // other side's items are not compared (no adds held for items it may well have), and no
    // deletion is inferred. Its baselines and pending deletions stand (settlement).
    const Snapshot& up = down == &target ? source : target;
    plan.not_compared = up.index.size();
    plan.not_compared_reason = down == &target ? "target down" : "source down";
    return plan;
  }
  plan.event_mode =
      feature == Feature::history && fp.rewatches && source.caps.rewatches && target.caps.rewatches;
  if (feature == Feature::history && fp.rewatches && !plan.event_mode)
    plan.notes.push_back(
        "rewatches requested, but both providers must support them; "
        "history runs in presence mode (one entry per movie/episode)");

  Planner planner(policy, fp, feature, src, tgt, prior, now, plan);
  if (policy.mode == PairMode::one_way)
    planner.one_way();
  else
    planner.two_way();
  planner.finish();
  return plan;
}

}  // namespace cw::engine
