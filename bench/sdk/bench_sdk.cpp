// Provider kit benchmarks: what a plugin pays per item to read a service reply and write
// its index, and what the engine pays to read it back (the same id and time rules).
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <cwsdk/support/all.hpp>

#include <cw/engine/item.hpp>

namespace {

constexpr int k_items = 100000;

// A Jellyfin-like entry: ProviderIds with server casing, a .NET-style date string.
std::vector<cwsdk::Json> service_entries() {
  std::vector<cwsdk::Json> out;
  out.reserve(k_items);
  for (int i = 0; i < k_items; ++i) {
    out.push_back({{"Name", "Movie " + std::to_string(i)},
                   {"ProductionYear", 1990 + i % 30},
                   {"ProviderIds",
                    {{"Tmdb", std::to_string(1000 + i)},
                     {"Imdb", "tt" + std::to_string(1000000 + i)},
                     {"TvRage", ""}}},
                   {"UserData", {{"LastPlayedDate", "2024-01-02T03:04:05.1234567Z"}}}});
  }
  return out;
}

cwsdk::Item to_item(const cwsdk::Json& e) {
  cwsdk::Item it = cwsdk::make_movie(cwsdk::get_or(e, "Name", ""));
  if (auto y = cwsdk::get_optional<int>(e, "ProductionYear"); y && *y) it.year = **y;
  if (const cwsdk::Json* ids = cwsdk::find(e, "ProviderIds")) it.ids = cwsdk::Ids::from_json(*ids);
  it.watched_at = cwsdk::parse_rfc3339(cwsdk::get_or(e, "/UserData/LastPlayedDate", ""));
  return it;
}

// Service entry -> Item -> index JSON, for 100k entries (the plugin's whole build_index
// minus HTTP).
void BM_IndexFromServiceEntries(benchmark::State& state) {
  const auto entries = service_entries();
  std::size_t bytes = 0;
  for (auto _ : state) {
    cwsdk::IndexWriter index;
    for (const auto& e : entries) {
      if (!index.add(to_item(e))) state.SkipWithError("item refused");
    }
    const cwsdk::Reply r = index.finish_whole();
    bytes = r.body.size();
    benchmark::DoNotOptimize(r.body.data());
  }
  state.SetItemsProcessed(state.iterations() * k_items);
  state.counters["index_mib"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// The same index document, read back by the engine (item_from_json normalises through
// the kit's id and time rules).
void BM_EngineReadsIndex(benchmark::State& state) {
  cwsdk::IndexWriter index;
  for (const auto& e : service_entries()) index.add(to_item(e)).value();
  const cwsdk::Json doc = cwsdk::Json::parse(index.finish_whole().body);
  const cwsdk::Json& items = doc["items"];
  for (auto _ : state) {
    std::size_t n = 0;
    for (const auto& j : items) n += cw::engine::item_from_json(j).ok() ? 1 : 0;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * k_items);
}

void BM_NormalizeIds(benchmark::State& state) {
  const char* raw[] = {" 550 ", "TT0133093", "tvdb-81189", "plex://movie/5d776b59ad5437001f79c6f8",
                       "A1B2C3D4-0000-1111-2222-333344445555"};
  const cwsdk::IdKind kinds[] = {cwsdk::IdKind::tmdb, cwsdk::IdKind::imdb, cwsdk::IdKind::tvdb,
                                 cwsdk::IdKind::plex, cwsdk::IdKind::jellyfin};
  for (auto _ : state) {
    for (int i = 0; i < 5; ++i) benchmark::DoNotOptimize(cwsdk::read_id(kinds[i], raw[i]));
  }
  state.SetItemsProcessed(state.iterations() * 5);
}

void BM_ParseRfc3339(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(cwsdk::parse_rfc3339("2024-01-02T05:04:05.1234567+02:00"));
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_IndexFromServiceEntries)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EngineReadsIndex)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NormalizeIds);
BENCHMARK(BM_ParseRfc3339);
BENCHMARK_MAIN();
