#include <sstream>

#include <cw/engine/plan.hpp>
#include <cw/util/json.hpp>

namespace cw::engine {
namespace {

using nlohmann::json;

template <typename E, std::size_t N>
std::optional<E> lookup(const std::pair<E, std::string_view> (&table)[N], std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::pair<E, std::string_view> (&table)[N], E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

constexpr std::pair<ActionKind, std::string_view> k_kinds[] = {
    {ActionKind::add, "add"}, {ActionKind::update, "update"}, {ActionKind::remove, "remove"}};

constexpr std::pair<ActionReason, std::string_view> k_reasons[] = {
    {ActionReason::missing_on_target, "missing_on_target"},
    {ActionReason::restored, "restored"},
    {ActionReason::deleted_on_source, "deleted_on_source"},
    {ActionReason::tombstoned, "tombstoned"},
    {ActionReason::not_on_source, "not_on_source"},
    {ActionReason::rating_differs, "rating_differs"},
    {ActionReason::rating_newer, "rating_newer"},
    {ActionReason::rating_preferred, "rating_preferred"},
    {ActionReason::progress_ahead, "progress_ahead"},
    {ActionReason::progress_newer, "progress_newer"},
    {ActionReason::approved, "approved"},
    {ActionReason::corrected, "corrected"},
    {ActionReason::rated_at_newer, "rated_at_newer"},
};

constexpr std::pair<HoldReason, std::string_view> k_holds[] = {
    {HoldReason::drop_guard, "drop_guard"},   {HoldReason::mass_delete, "mass_delete"},
    {HoldReason::blackbox, "blackbox"},       {HoldReason::provider_down, "provider_down"},
    {HoldReason::unsupported, "unsupported"},
};

// Human wording of the reasons for the text rendering.
std::string_view explain(ActionReason r) {
  switch (r) {
    case ActionReason::missing_on_target:
      return "missing there";
    case ActionReason::restored:
      return "deleted there, restored (removes disabled)";
    case ActionReason::deleted_on_source:
      return "deleted on the other side";
    case ActionReason::tombstoned:
      return "deleted earlier (tombstone)";
    case ActionReason::not_on_source:
      return "not on the source (mirror)";
    case ActionReason::rating_differs:
      return "rating differs, source wins";
    case ActionReason::rating_newer:
      return "rating differs, newer rating wins";
    case ActionReason::rating_preferred:
      return "rating differs, source of truth wins";
    case ActionReason::progress_ahead:
      return "progress is further";
    case ActionReason::progress_newer:
      return "progress is newer";
    case ActionReason::approved:
      return "approved deletion";
    case ActionReason::corrected:
      return "corrected by the user (cw override)";
    case ActionReason::rated_at_newer:
      return "same rating, rated again later";
  }
  return "";
}

Error bad(const std::string& what) {
  return make_error("plan document: " + what, ErrorKind::invalid_arg);
}

json side_json(const SideSummary& s) {
  return json{{"provider", s.provider},
              {"fingerprint", s.fingerprint},
              {"health", std::string(to_string(s.health))},
              {"semantics", std::string(to_string(s.semantics))},
              {"complete", s.complete},
              {"suspect", s.suspect},
              {"suspect_reason", s.suspect_reason},
              {"has_baseline", s.has_baseline},
              {"items", s.items}};
}

Result<SideSummary> side_from_json(const json& j, const char* which) {
  if (!j.is_object()) return bad(std::string("'") + which + "' is not an object");
  SideSummary s;
  s.provider = util::string_member(j, "provider");
  s.fingerprint = util::string_member(j, "fingerprint");
  auto h = health_from_string(util::string_member(j, "health"));
  if (!h) return bad(std::string("'") + which + ".health' is not ok|degraded|down|auth_failed");
  s.health = *h;
  s.semantics =
      util::string_member(j, "semantics") == "delta" ? Semantics::delta : Semantics::present;
  s.complete = util::bool_member(j, "complete", true);
  s.suspect = util::bool_member(j, "suspect");
  s.suspect_reason = util::string_member(j, "suspect_reason");
  s.has_baseline = util::bool_member(j, "has_baseline");
  s.items = static_cast<std::size_t>(util::int_member(j, "items"));
  return s;
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

const std::string& provider_of(const FeaturePlan& p, Side s) {
  return s == Side::source ? p.source.provider : p.target.provider;
}

void render_action(std::ostringstream& out, const FeaturePlan& p, const Action& a) {
  const char* sym = a.kind == ActionKind::add ? "+" : a.kind == ActionKind::update ? "~" : "-";
  out << "    " << sym << " " << to_string(a.kind) << " on " << provider_of(p, a.side) << ": "
      << describe(a.item) << " <" << a.key << ">";
  if (a.item.watched_at && p.feature == Feature::history)
    out << " watched " << format_time(*a.item.watched_at);
  if (a.item.rating && p.feature == Feature::ratings) out << " rating " << *a.item.rating;
  if (a.item.progress_ms && p.feature == Feature::progress)
    out << " at " << (*a.item.progress_ms / 1000) << "s";
  out << " (" << explain(a.reason) << ")";
  if (!a.note.empty()) out << " [" << a.note << "]";
  out << "\n";
}

}  // namespace

std::string_view to_string(ActionKind k) { return name_of(k_kinds, k); }
std::string_view to_string(ActionReason r) { return name_of(k_reasons, r); }
std::string_view to_string(HoldReason r) { return name_of(k_holds, r); }
std::optional<ActionKind> action_kind_from_string(std::string_view s) { return lookup(k_kinds, s); }
std::optional<ActionReason> action_reason_from_string(std::string_view s) {
  return lookup(k_reasons, s);
}
std::optional<HoldReason> hold_reason_from_string(std::string_view s) { return lookup(k_holds, s); }

bool is_pending_hold(HoldReason r) {
  return r == HoldReason::drop_guard || r == HoldReason::mass_delete;
}

PlanCounts count(const FeaturePlan& p) {
  PlanCounts c;
  for (const auto& a : p.actions) {
    if (a.kind == ActionKind::add) ++c.adds;
    if (a.kind == ActionKind::update) ++c.updates;
    if (a.kind == ActionKind::remove) ++c.removes;
  }
  c.held = p.held.size();
  return c;
}

std::map<std::string, std::size_t> filtered_counts(const FeaturePlan& p) {
  std::map<std::string, std::size_t> out;
  for (const auto& f : p.filtered) ++out[f.filter];
  return out;
}

PlanCounts count(const FeaturePlan& p, Side side) {
  PlanCounts c;
  for (const auto& a : p.actions) {
    if (a.side != side) continue;
    if (a.kind == ActionKind::add) ++c.adds;
    if (a.kind == ActionKind::update) ++c.updates;
    if (a.kind == ActionKind::remove) ++c.removes;
  }
  for (const auto& h : p.held) {
    if (h.action.side == side) ++c.held;
  }
  return c;
}

json to_json(const Action& a) {
  json j{{"kind", std::string(to_string(a.kind))},
         {"side", std::string(to_string(a.side))},
         {"key", a.key},
         {"reason", std::string(to_string(a.reason))},
         {"item", item_to_json(a.item)}};
  if (!a.cause_key.empty()) j["cause_key"] = a.cause_key;
  if (!a.note.empty()) j["note"] = a.note;
  return j;
}

Result<Action> action_from_json(const json& j) {
  if (!j.is_object()) return bad("an action is not an object");
  Action a;
  auto kind = action_kind_from_string(util::string_member(j, "kind"));
  if (!kind)
    return bad("action kind '" + util::string_member(j, "kind") + "' is not add|update|remove");
  a.kind = *kind;
  auto side = side_from_string(util::string_member(j, "side"));
  if (!side)
    return bad("action side '" + util::string_member(j, "side") + "' is not source|target");
  a.side = *side;
  a.key = util::string_member(j, "key");
  if (a.key.empty()) return bad("an action has no key");
  auto reason = action_reason_from_string(util::string_member(j, "reason"));
  if (!reason) return bad("action reason '" + util::string_member(j, "reason") + "' is unknown");
  a.reason = *reason;
  a.cause_key = util::string_member(j, "cause_key");
  a.note = util::string_member(j, "note");
  auto it = j.find("item");
  if (it == j.end()) return bad("action '" + a.key + "' has no item");
  auto item = item_from_json(*it, ItemLimits::unbounded());
  if (!item.ok()) return bad("action '" + a.key + "': " + item.error().message);
  a.item = std::move(item.value());
  return a;
}

json to_json(const FeaturePlan& p) {
  json actions = json::array();
  for (const auto& a : p.actions) actions.push_back(to_json(a));
  json held = json::array();
  for (const auto& h : p.held) {
    held.push_back(json{{"action", to_json(h.action)},
                        {"hold", std::string(to_string(h.hold))},
                        {"detail", h.detail},
                        {"first_seen", h.first_seen}});
  }
  json expired = json::array();
  for (const auto& e : p.expired_pending) expired.push_back(to_json(e));
  json declined = json::array();
  for (const auto& e : p.declined_pending) declined.push_back(to_json(e));
  json unresolved = json::array();
  for (const auto& u : p.unresolved) unresolved.push_back(to_json(u));
  json filtered = json::array();
  for (const auto& f : p.filtered)
    filtered.push_back(json{{"action", to_json(f.action)}, {"filter", f.filter}});
  const auto c = count(p);
  return json{
      {"pair", p.pair},
      {"feature", std::string(to_string(p.feature))},
      {"mode", p.mode == PairMode::two_way ? "two-way" : "one-way"},
      {"event_mode", p.event_mode},
      {"source", side_json(p.source)},
      {"target", side_json(p.target)},
      {"skipped", p.skipped},
      {"skip_reason", p.skip_reason},
      {"counts",
       {{"adds", c.adds}, {"updates", c.updates}, {"removes", c.removes}, {"held", c.held}}},
      {"actions", std::move(actions)},
      {"held", std::move(held)},
      {"notes", p.notes},
      {"expired_pending", std::move(expired)},
      {"declined_pending", std::move(declined)},
      {"unresolved", std::move(unresolved)},
      {"filtered", std::move(filtered)},
      {"filtered_counts", filtered_counts(p)},
      {"not_compared", p.not_compared},
      {"not_compared_reason", p.not_compared_reason}};
}

Result<FeaturePlan> feature_plan_from_json(const json& j) {
  if (!j.is_object()) return bad("a feature plan is not an object");
  FeaturePlan p;
  p.pair = util::string_member(j, "pair");
  auto f = feature_from_string(util::string_member(j, "feature"));
  if (!f)
    return bad("feature '" + util::string_member(j, "feature") + "' of pair '" + p.pair +
               "' is unknown");
  p.feature = *f;
  const auto mode = util::string_member(j, "mode");
  if (mode != "one-way" && mode != "two-way")
    return bad("mode '" + mode + "' is not one-way|two-way");
  p.mode = mode == "two-way" ? PairMode::two_way : PairMode::one_way;
  p.event_mode = util::bool_member(j, "event_mode");
  for (const char* which : {"source", "target"}) {
    auto it = j.find(which);
    if (it == j.end()) return bad(std::string("feature plan has no '") + which + "'");
    auto s = side_from_json(*it, which);
    if (!s.ok()) return s.error();
    (std::string_view(which) == "source" ? p.source : p.target) = std::move(s.value());
  }
  p.skipped = util::bool_member(j, "skipped");
  p.skip_reason = util::string_member(j, "skip_reason");
  p.not_compared =
      static_cast<std::size_t>(std::max<std::int64_t>(0, util::int_member(j, "not_compared")));
  p.not_compared_reason = util::string_member(j, "not_compared_reason");
  if (auto it = j.find("actions"); it != j.end()) {
    if (!it->is_array()) return bad("'actions' is not an array");
    for (const auto& aj : *it) {
      auto a = action_from_json(aj);
      if (!a.ok()) return a.error();
      p.actions.push_back(std::move(a.value()));
    }
  }
  if (auto it = j.find("held"); it != j.end()) {
    if (!it->is_array()) return bad("'held' is not an array");
    for (const auto& hj : *it) {
      if (!hj.is_object() || !hj.contains("action")) return bad("a held entry has no action");
      auto a = action_from_json(hj["action"]);
      if (!a.ok()) return a.error();
      auto r = hold_reason_from_string(util::string_member(hj, "hold"));
      if (!r) return bad("hold reason '" + util::string_member(hj, "hold") + "' is unknown");
      p.held.push_back(HeldAction{std::move(a.value()), *r, util::string_member(hj, "detail"),
                                  util::int_member(hj, "first_seen")});
    }
  }
  if (auto it = j.find("notes"); it != j.end() && it->is_array()) {
    for (const auto& n : *it) {
      if (n.is_string()) p.notes.push_back(n.get<std::string>());
    }
  }
  if (auto it = j.find("expired_pending"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      auto pd = pending_from_json(e);
      if (!pd.ok()) return bad(pd.error().message);
      p.expired_pending.push_back(std::move(pd.value()));
    }
  }
  if (auto it = j.find("declined_pending"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      auto pd = pending_from_json(e);
      if (!pd.ok()) return bad(pd.error().message);
      p.declined_pending.push_back(std::move(pd.value()));
    }
  }
  if (auto it = j.find("filtered"); it != j.end() && it->is_array()) {
    for (const auto& fj : *it) {
      if (!fj.is_object() || !fj.contains("action")) return bad("a filtered entry has no action");
      auto a = action_from_json(fj["action"]);
      if (!a.ok()) return a.error();
      p.filtered.push_back(FilteredAction{std::move(a.value()), util::string_member(fj, "filter")});
    }
  }
  if (auto it = j.find("unresolved"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      auto u = unresolved_from_json(e);
      if (!u.ok()) return bad(u.error().message);
      p.unresolved.push_back(std::move(u.value()));
    }
  }
  return p;
}

json to_json(const Plan& p) {
  json features = json::array();
  for (const auto& f : p.features) features.push_back(to_json(f));
  return json{
      {"version", p.version}, {"created_at", p.created_at}, {"features", std::move(features)}};
}

Result<Plan> plan_from_json(const json& j) {
  if (!j.is_object()) return bad("the top level is not an object");
  Plan p;
  p.version = static_cast<int>(util::int_member(j, "version", 0));
  if (p.version != 1)
    return bad("version " + std::to_string(p.version) +
               " is not supported (this cw writes version 1); re-run cw plan");
  p.created_at = util::int_member(j, "created_at");
  auto it = j.find("features");
  if (it == j.end() || !it->is_array()) return bad("'features' is missing or not an array");
  for (const auto& fj : *it) {
    auto f = feature_plan_from_json(fj);
    if (!f.ok()) return f.error();
    p.features.push_back(std::move(f.value()));
  }
  return p;
}

std::string render_text(const FeaturePlan& p) {
  std::ostringstream out;
  out << "pair " << p.pair << ", " << to_string(p.feature) << " ("
      << (p.mode == PairMode::two_way ? "two-way " : "one-way ") << p.source.provider
      << (p.mode == PairMode::two_way ? " <-> " : " -> ") << p.target.provider
      << (p.event_mode ? ", every play" : "") << ")\n";
  if (p.skipped) {
    out << "  skipped: " << p.skip_reason << "\n";
    return out.str();
  }
  const auto c = count(p);
  out << "  " << plural(c.adds, "add") << ", " << plural(c.updates, "update") << ", "
      << plural(c.removes, "remove") << ", " << c.held << " held\n";
  for (const auto* s : {&p.source, &p.target}) {
    if (s->suspect) out << "  suspect snapshot: " << s->suspect_reason << "\n";
  }
  if (!p.not_compared_reason.empty()) {
    const bool target_down = p.not_compared_reason.rfind("target", 0) == 0;
    out << "  not compared (" << p.not_compared_reason << "): " << plural(p.not_compared, "item")
        << " of " << (target_down ? p.source.provider : p.target.provider) << "; "
        << (target_down ? p.target.provider : p.source.provider)
        << " is down and its inventory was not read\n";
  }
  for (ActionKind k : {ActionKind::add, ActionKind::update, ActionKind::remove}) {
    for (const auto& a : p.actions) {
      if (a.kind == k) render_action(out, p, a);
    }
  }
  for (const auto& h : p.held) {
    out << "    ! held " << to_string(h.action.kind) << " on " << provider_of(p, h.action.side)
        << ": " << describe(h.action.item) << " <" << h.action.key << "> (" << to_string(h.hold)
        << ": " << h.detail << ")\n";
  }
  for (const auto& e : p.expired_pending)
    out << "    pending deletion expired, dropped: " << describe(e.item) << "\n";
  for (const auto& e : p.declined_pending)
    out << "    ignored remove on " << provider_of(p, e.side) << ": " << describe(e.item) << " <"
        << e.key << "> (declined by user)\n";
  for (const auto& u : p.unresolved)
    out << "    ? unresolved, nothing written to " << provider_of(p, u.side) << ": "
        << describe(u.item) << " <" << u.key << "> (" << u.reason << ": " << u.message << ")\n";
  if (!p.filtered.empty()) {
    // What the scope left out: a count per filter, then the first items (the plan file,
    // --output json, lists them all).
    out << "  left out by the scope:";
    bool first = true;
    for (const auto& [filter, n] : filtered_counts(p)) {
      out << (first ? " " : ", ") << filter << " " << n;
      first = false;
    }
    out << "\n";
    constexpr std::size_t k_listed = 20;
    for (std::size_t i = 0; i < p.filtered.size() && i < k_listed; ++i) {
      const auto& f = p.filtered[i];
      out << "    . left alone: " << to_string(f.action.kind) << " on "
          << provider_of(p, f.action.side) << ": " << describe(f.action.item) << " <"
          << f.action.key << "> (" << f.filter << ")\n";
    }
    if (p.filtered.size() > k_listed)
      out << "    ... and " << p.filtered.size() - k_listed
          << " more left alone (the plan as JSON lists them all)\n";
  }
  for (const auto& n : p.notes) out << "  note: " << n << "\n";
  return out.str();
}

std::string render_text(const Plan& p) {
  std::ostringstream out;
  PlanCounts total;
  for (const auto& f : p.features) {
    out << render_text(f);
    const auto c = count(f);
    total.adds += c.adds;
    total.updates += c.updates;
    total.removes += c.removes;
    total.held += c.held;
  }
  out << "total: " << plural(total.adds, "add") << ", " << plural(total.updates, "update") << ", "
      << plural(total.removes, "remove") << ", " << total.held << " held\n";
  return out.str();
}

std::size_t approve_held_removals(FeaturePlan& p) {
  std::size_t n = 0;
  std::vector<HeldAction> keep;
  for (auto& h : p.held) {
    if (h.action.kind == ActionKind::remove && is_pending_hold(h.hold)) {
      h.action.reason = ActionReason::approved;
      p.actions.push_back(std::move(h.action));
      ++n;
    } else {
      keep.push_back(std::move(h));
    }
  }
  p.held = std::move(keep);
  return n;
}

namespace {

std::string describe(const FeaturePlan& p, const Action& a) {
  const std::string& side = a.side == Side::source ? p.source.provider : p.target.provider;
  return std::string(to_string(a.kind)) + " " + a.key + " on " + side;
}

}  // namespace

ApprovedPlan reconcile_with_approved(const FeaturePlan& approved, const FeaturePlan& fresh) {
  ApprovedPlan out;
  out.plan = fresh;
  out.plan.actions.clear();
  out.plan.held.clear();
  // Whole-action comparison through the plan file's own JSON form: what was saved and
  // read back compares equal to what planning makes now exactly when nothing changed.
  std::vector<nlohmann::json> approved_actions;
  for (const auto& a : approved.actions) approved_actions.push_back(to_json(a));
  std::vector<bool> matched(approved.actions.size(), false);
  for (const auto& a : fresh.actions) {
    const auto j = to_json(a);
    bool found = false;
    for (std::size_t i = 0; i < approved_actions.size() && !found; ++i)
      if (!matched[i] && approved_actions[i] == j) found = matched[i] = true;
    if (found)
      out.plan.actions.push_back(a);
    else
      out.differences.push_back(describe(fresh, a) + ": planned now, not in the saved plan");
  }
  for (std::size_t i = 0; i < approved.actions.size(); ++i)
    if (!matched[i])
      out.differences.push_back(describe(approved, approved.actions[i]) +
                                ": in the saved plan, not planned now");

  const auto same_hold = [](const HeldAction& x, const HeldAction& y) {
    return x.action.kind == y.action.kind && x.action.side == y.action.side &&
           x.action.key == y.action.key && x.hold == y.hold;
  };
  for (const auto& h : fresh.held) {
    bool found = false;
    for (const auto& g : approved.held) found = found || same_hold(g, h);
    if (found)
      out.plan.held.push_back(h);
    else
      out.differences.push_back("held " + describe(fresh, h.action) + " (" +
                                std::string(to_string(h.hold)) +
                                "): held now, not in the saved plan");
  }
  for (const auto& g : approved.held) {
    bool found = false;
    for (const auto& h : fresh.held) found = found || same_hold(g, h);
    if (!found)
      out.differences.push_back("held " + describe(approved, g.action) + " (" +
                                std::string(to_string(g.hold)) +
                                "): held in the saved plan, not now");
  }
  return out;
}

}  // namespace cw::engine
