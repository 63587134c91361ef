// Planner performance (brief target: two 100,000-item snapshots planned in <= 50 ms and
// <= 100 MiB on the 2-core build machine). Build the Release preset to measure; each
// benchmark reports the process's peak RSS as `peak_rss_mib`.

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cw/engine/planner.hpp>
#include <cw/engine/settlement.hpp>
#include <cw/engine/snapshot.hpp>

// Heap accounting: live and peak bytes, so a benchmark can report what one call needs
// beyond the fixture it starts from.
namespace heap {
std::atomic<std::size_t> live{0};
std::atomic<std::size_t> peak{0};
constexpr std::size_t k_header = 16;  // keeps max_align_t alignment

void* take(std::size_t n) {
  void* p = std::malloc(n + k_header);
  if (!p) throw std::bad_alloc();
  *static_cast<std::size_t*>(p) = n;
  const std::size_t now = live.fetch_add(n) + n;
  std::size_t old = peak.load();
  while (now > old && !peak.compare_exchange_weak(old, now)) {
  }
  return static_cast<char*>(p) + k_header;
}

void give(void* p) noexcept {
  if (!p) return;
  char* base = static_cast<char*>(p) - k_header;
  live.fetch_sub(*reinterpret_cast<std::size_t*>(base));
  std::free(base);
}
}  // namespace heap

void* operator new(std::size_t n) { return heap::take(n); }
void* operator new[](std::size_t n) { return heap::take(n); }
void operator delete(void* p) noexcept { heap::give(p); }
void operator delete[](void* p) noexcept { heap::give(p); }
void operator delete(void* p, std::size_t) noexcept { heap::give(p); }
void operator delete[](void* p, std::size_t) noexcept { heap::give(p); }

namespace {

using namespace cw::engine;

constexpr double k_mib = 1024.0 * 1024.0;

// Peak heap bytes above the level at the start of `fn`.
template <typename F>
double peak_above_mib(F&& fn) {
  const std::size_t base = heap::live.load();
  heap::peak.store(base);
  fn();
  return static_cast<double>(heap::peak.load() - base) / k_mib;
}

constexpr int k_items = 100'000;
constexpr cw::engine::Instant k_now = 1'700'000'000;

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

FeatureCaps full_caps() {
  FeatureCaps c;
  c.add = c.remove = c.update = true;
  return c;
}

// Movies [offset, offset + n) with imdb and tmdb ids.
std::vector<Item> movies(int offset, int n) {
  std::vector<Item> v;
  v.reserve(static_cast<std::size_t>(n));
  for (int i = offset; i < offset + n; ++i) {
    Item it;
    it.kind = ItemKind::movie;
    it.title = "Movie number " + std::to_string(i);
    it.year = 1950 + i % 70;
    it.ids.set_normalised(IdKind::imdb, "tt" + std::to_string(1'000'000 + i));
    it.ids.set_normalised(IdKind::tmdb, std::to_string(10'000 + i));
    v.push_back(std::move(it));
  }
  return v;
}

// Episodes [offset, offset + n): 100 per show, with show imdb+tmdb ids and a watch date.
std::vector<Item> episodes(int offset, int n) {
  std::vector<Item> v;
  v.reserve(static_cast<std::size_t>(n));
  for (int i = offset; i < offset + n; ++i) {
    Item it;
    it.kind = ItemKind::episode;
    it.show_title = "Show " + std::to_string(i / 100);
    it.show_ids.set_normalised(IdKind::imdb, "tt" + std::to_string(5'000'000 + i / 100));
    it.show_ids.set_normalised(IdKind::tmdb, std::to_string(90'000 + i / 100));
    it.season = 1 + (i % 100) / 20;
    it.episode = 1 + i % 20;
    it.watched_at = k_now - 86'400 + i;
    v.push_back(std::move(it));
  }
  return v;
}

PairPolicy policy(Feature f) {
  PairPolicy p;
  p.name = "bench";
  p.source = "a";
  p.target = "b";
  FeaturePolicy fp;
  fp.enabled = true;
  fp.add = fp.remove = fp.update = true;
  p.features[f] = fp;
  return p;
}

struct Fixture {
  Snapshot source, target;
  PriorState prior;
  double snapshots_mib = 0;
};

// 90 % overlap; with baselines so deletion inference runs too.
Fixture fixture(Feature f) {
  const bool hist = f == Feature::history;
  auto make = [&](int offset, int n) { return hist ? episodes(offset, n) : movies(offset, n); };
  Fixture fx;
  const std::size_t before = heap::live.load();
  fx.source = make_snapshot("a", f, make(0, k_items), {}, full_caps());
  fx.target = make_snapshot("b", f, make(k_items / 10, k_items), {}, full_caps());
  fx.snapshots_mib = static_cast<double>(heap::live.load() - before) / k_mib;
  PairFeatureState st;
  st.source = SideBaseline{make(0, k_items), std::nullopt};
  st.target = SideBaseline{make(k_items / 10, k_items), std::nullopt};
  fx.prior = PriorState::from(st, f);
  return fx;
}

void BM_BuildIndexWatchlist(benchmark::State& state) {
  const auto items = movies(0, k_items);
  for (auto _ : state) {
    auto copy = items;
    Index idx = Index::build(std::move(copy));
    benchmark::DoNotOptimize(idx.size());
  }
  state.counters["peak_rss_mib"] = peak_rss_mib();
}

template <Feature F, PairMode M>
void BM_Plan(benchmark::State& state) {
  const std::size_t before = heap::live.load();
  const Fixture fx = fixture(F);
  state.counters["fixture_heap_mib"] = static_cast<double>(heap::live.load() - before) / k_mib;
  // The two snapshots alone (the fixture also holds both baselines).
  state.counters["snapshots_heap_mib"] = fx.snapshots_mib;
  auto p = policy(F);
  p.mode = M;
  // Removals stay under the mass-delete cap so that they are planned, not held.
  p.guards.mass_delete_max_ratio = 0.5;
  std::size_t actions = 0;
  for (auto _ : state) {
    FeaturePlan plan = plan_feature(p, F, fx.source, fx.target, fx.prior, k_now);
    actions = plan.actions.size();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["actions"] = static_cast<double>(actions);
  state.counters["plan_peak_heap_mib"] = peak_above_mib([&] {
    FeaturePlan plan = plan_feature(p, F, fx.source, fx.target, fx.prior, k_now);
    benchmark::DoNotOptimize(plan);
  });
  state.counters["peak_rss_mib"] = peak_rss_mib();
}

void BM_SettleWatchlist(benchmark::State& state) {
  const Fixture fx = fixture(Feature::watchlist);
  auto p = policy(Feature::watchlist);
  p.guards.mass_delete_max_ratio = 0.5;
  const FeaturePlan plan =
      plan_feature(p, Feature::watchlist, fx.source, fx.target, fx.prior, k_now);
  std::vector<Outcome> outs;
  for (const auto& a : plan.actions)
    outs.push_back(Outcome{a.side, a.kind, a.key, OutcomeStatus::confirmed, {}, {}});
  PairFeatureState st;
  st.source = SideBaseline{fx.prior.source->to_items(false), std::nullopt};
  st.target = SideBaseline{fx.prior.target->to_items(false), std::nullopt};
  for (auto _ : state) {
    auto s = settle(p, plan, outs, fx.source, fx.target, st, k_now);
    benchmark::DoNotOptimize(s);
  }
  state.counters["peak_rss_mib"] = peak_rss_mib();
}

BENCHMARK(BM_BuildIndexWatchlist)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::watchlist, PairMode::one_way>)
    ->Name("BM_PlanWatchlist100kOneWay")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::watchlist, PairMode::two_way>)
    ->Name("BM_PlanWatchlist100kTwoWay")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::history, PairMode::one_way>)
    ->Name("BM_PlanHistory100kEpisodesOneWay")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SettleWatchlist)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
