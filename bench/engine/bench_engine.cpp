// Planner performance (brief target: two 100,000-item snapshots planned in <= 50 ms and
// <= 100 MiB on the 2-core build machine, inputs included). Build Release to measure.
//
// Memory is reported two ways per case: heap bytes (counted by the operator new below:
// `inputs_heap_mib` = snapshots + baselines the case holds, `plan_peak_heap_mib` = the
// peak one plan_feature call needs above them, `total_heap_mib` = the sum) and the
// process's peak RSS (`peak_rss_mib`, getrusage ru_maxrss; `rss_delta_mib` = the rise
// above the process's own footprint before any case ran). RSS is per process, so run one case per
// process for a per-case figure: bench/engine/run_fresh.sh does that.
//
// Inputs are built item by item into their indexes (as snapshot_from_response does), so
// no temporary vector of 100,000 items inflates the peak.

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cw/engine/planner.hpp>
#include <cw/engine/settlement.hpp>
#include <cw/engine/snapshot.hpp>

// Heap accounting: live and peak bytes, so a benchmark can report what one call needs
// beyond the fixture it starts from. Counts malloc_usable_size (what the allocator really
// hands out, chunk rounding included) and adds no header, so RSS is not inflated.
namespace heap {
std::atomic<std::size_t> live{0};
std::atomic<std::size_t> peak{0};

void* take(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  const std::size_t size = malloc_usable_size(p);
  const std::size_t now = live.fetch_add(size) + size;
  std::size_t old = peak.load();
  while (now > old && !peak.compare_exchange_weak(old, now)) {
  }
  return p;
}

void give(void* p) noexcept {
  if (!p) return;
  live.fetch_sub(malloc_usable_size(p));
  std::free(p);
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

// Movie i: imdb and tmdb ids.
Item movie(int i) {
  Item it;
  it.kind = ItemKind::movie;
  it.title = "Movie number " + std::to_string(i);
  it.year = 1950 + i % 70;
  it.ids.set_normalised(IdKind::imdb, "tt" + std::to_string(1'000'000 + i));
  it.ids.set_normalised(IdKind::tmdb, std::to_string(10'000 + i));
  return it;
}

// Episode i: 100 per show, with show imdb+tmdb ids and a watch date.
Item episode(int i) {
  Item it;
  it.kind = ItemKind::episode;
  it.show_title = "Show " + std::to_string(i / 100);
  it.show_ids.set_normalised(IdKind::imdb, "tt" + std::to_string(5'000'000 + i / 100));
  it.show_ids.set_normalised(IdKind::tmdb, std::to_string(90'000 + i / 100));
  it.season = 1 + (i % 100) / 20;
  it.episode = 1 + i % 20;
  it.watched_at = k_now - 86'400 + i;
  return it;
}

std::vector<Item> movies(int offset, int n) {
  std::vector<Item> v;
  v.reserve(static_cast<std::size_t>(n));
  for (int i = offset; i < offset + n; ++i) v.push_back(movie(i));
  return v;
}

// Items [offset, offset + n) added one by one into a reserved index.
Index index_of(Feature f, int offset, int n) {
  const bool hist = f == Feature::history;
  Index idx(hist);
  idx.reserve(static_cast<std::size_t>(n));
  for (int i = offset; i < offset + n; ++i) idx.add(hist ? episode(i) : movie(i));
  return idx;
}

Snapshot snapshot_of(const char* name, Feature f, int offset, int n) {
  Completeness c;
  c.received = n;
  Snapshot s = make_snapshot(name, f, {}, c, full_caps());
  s.index = index_of(f, offset, n);
  return s;
}

struct Fixture {
  Snapshot source, target;
  PriorState prior;
};

// 90 % overlap. With `baselines`, both sides have one equal to their snapshot, so
// deletion inference runs too (a later run); without, it is a first run.
Fixture fixture(Feature f, bool baselines) {
  Fixture fx;
  fx.source = snapshot_of("a", f, 0, k_items);
  fx.target = snapshot_of("b", f, k_items / 10, k_items);
  if (baselines) {
    fx.prior.source = index_of(f, 0, k_items);
    fx.prior.target = index_of(f, k_items / 10, k_items);
  }
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

// The process's peak RSS before any case ran: binary, libraries, benchmark runtime.
const double g_rss_at_start = peak_rss_mib();

template <Feature F, PairMode M, bool Baselines>
void BM_Plan(benchmark::State& state) {
  const std::size_t before = heap::live.load();
  const Fixture fx = fixture(F, Baselines);
  const double inputs = static_cast<double>(heap::live.load() - before) / k_mib;
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
  const double plan_peak = peak_above_mib([&] {
    FeaturePlan plan = plan_feature(p, F, fx.source, fx.target, fx.prior, k_now);
    benchmark::DoNotOptimize(plan);
  });
  state.counters["actions"] = static_cast<double>(actions);
  state.counters["inputs_heap_mib"] = inputs;
  state.counters["plan_peak_heap_mib"] = plan_peak;
  state.counters["total_heap_mib"] = inputs + plan_peak;
  state.counters["peak_rss_mib"] = peak_rss_mib();
  state.counters["rss_delta_mib"] = peak_rss_mib() - g_rss_at_start;
}

void BM_SettleWatchlist(benchmark::State& state) {
  const Fixture fx = fixture(Feature::watchlist, true);
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
BENCHMARK(BM_Plan<Feature::watchlist, PairMode::one_way, false>)
    ->Name("BM_PlanWatchlist100kOneWay")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::watchlist, PairMode::two_way, false>)
    ->Name("BM_PlanWatchlist100kTwoWay")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::history, PairMode::one_way, false>)
    ->Name("BM_PlanHistory100kEpisodesOneWay")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::watchlist, PairMode::one_way, true>)
    ->Name("BM_PlanWatchlist100kOneWayWithBaselines")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::watchlist, PairMode::two_way, true>)
    ->Name("BM_PlanWatchlist100kTwoWayWithBaselines")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan<Feature::history, PairMode::one_way, true>)
    ->Name("BM_PlanHistory100kEpisodesOneWayWithBaselines")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SettleWatchlist)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
