#pragma once
// Small builders for engine tests: items, snapshots and policies in one line each.

#include <string>
#include <vector>

#include <cw/engine/identity.hpp>
#include <cw/engine/item.hpp>
#include <cw/engine/plan.hpp>
#include <cw/engine/planner.hpp>
#include <cw/engine/policy.hpp>
#include <cw/engine/settlement.hpp>
#include <cw/engine/snapshot.hpp>

namespace cw::engine::test {

inline Item movie(std::string imdb, std::string tmdb = {}, std::string title = "Movie") {
  Item it;
  it.kind = ItemKind::movie;
  it.title = std::move(title);
  it.year = 2020;
  if (!imdb.empty()) it.ids.set(IdKind::imdb, imdb);
  if (!tmdb.empty()) it.ids.set(IdKind::tmdb, tmdb);
  return it;
}

inline Item episode(std::string show_tvdb, int s, int e) {
  Item it;
  it.kind = ItemKind::episode;
  it.show_title = "Show";
  it.show_ids.set(IdKind::tvdb, show_tvdb);
  it.season = s;
  it.episode = e;
  return it;
}

inline Item watched(Item it, Instant t) {
  it.watched_at = t;
  return it;
}

inline Item rated(Item it, double r, std::optional<Instant> at = std::nullopt) {
  it.rating = r;
  it.rated_at = at;
  return it;
}

inline FeatureCaps caps(bool rewatches = false, bool dates = true, double step = 1) {
  FeatureCaps c;
  c.add = c.remove = c.update = true;
  c.rewatches = rewatches;
  c.writes_watch_date = dates;
  c.rating_step = step;
  return c;
}

inline Snapshot snap(std::string name, Feature f, std::vector<Item> items, FeatureCaps c = caps(),
                     Health h = Health::ok, bool complete = true,
                     Semantics sem = Semantics::present) {
  Completeness comp;
  comp.complete = complete;
  comp.semantics = sem;
  return make_snapshot(std::move(name), f, std::move(items), comp, c, h);
}

inline PairPolicy pair(Feature f, PairMode mode = PairMode::one_way, bool add = true,
                       bool remove = true, bool update = true) {
  PairPolicy p;
  p.name = "p1";
  p.source = "src";
  p.target = "dst";
  p.mode = mode;
  FeaturePolicy fp;
  fp.enabled = true;
  fp.add = add;
  fp.remove = remove;
  fp.update = update;
  p.features[f] = fp;
  return p;
}

inline PriorState prior(std::optional<std::vector<Item>> src, std::optional<std::vector<Item>> dst,
                        Feature f = Feature::watchlist) {
  PairFeatureState st;
  if (src) st.source = SideBaseline{*src, std::nullopt};
  if (dst) st.target = SideBaseline{*dst, std::nullopt};
  return PriorState::from(st, f);
}

inline std::vector<const Action*> actions(const FeaturePlan& p, ActionKind k, Side s) {
  std::vector<const Action*> out;
  for (const auto& a : p.actions) {
    if (a.kind == k && a.side == s) out.push_back(&a);
  }
  return out;
}

inline std::vector<const HeldAction*> held(const FeaturePlan& p, HoldReason r) {
  std::vector<const HeldAction*> out;
  for (const auto& h : p.held) {
    if (h.hold == r) out.push_back(&h);
  }
  return out;
}

// Every action of the plan confirmed.
inline std::vector<Outcome> all_confirmed(const FeaturePlan& p) {
  std::vector<Outcome> out;
  for (const auto& a : p.actions)
    out.push_back(Outcome{a.side, a.kind, a.key, OutcomeStatus::confirmed, {}, {}});
  return out;
}

inline std::vector<Item> many_movies(int n, int offset = 0) {
  std::vector<Item> v;
  for (int i = 0; i < n; ++i) v.push_back(movie("tt" + std::to_string(1000000 + offset + i)));
  return v;
}

}  // namespace cw::engine::test
