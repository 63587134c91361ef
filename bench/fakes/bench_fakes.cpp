// Full reads over loopback, the way a plugin pages through them:
//   BM_PlexLibraryFullRead   every movie of a 100k-movie Plex section (JSON, 1000 per page)
//   BM_PlexLibraryFullReadXml the same in XML (python-plexapi's format)
//   BM_TraktHistoryFullRead  a 50k-play Trakt history (/sync/history, 1000 per page)
//   BM_JellyfinFullRead      every movie of a 100k-movie Jellyfin library (500 per page)
// Counters: items/s and bytes/s of the whole read.
#include <benchmark/benchmark.h>

#include "core/fake_service.hpp"
#include "core/generator.hpp"
#include "core/registry.hpp"

namespace {

using cw::fakes::SandboxServer;
using nlohmann::json;

const json& universe_100k_movies() {
  static const json u = [] {
    cw::fakes::GenerateOptions o;
    o.movies = 100000;
    o.shows = 0;
    o.plays = 0;
    o.ratings = 0;
    o.watchlist = 0;
    o.progress = 0;
    return cw::fakes::generate_universe(o);
  }();
  return u;
}

const json& universe_50k_plays() {
  static const json u = [] {
    cw::fakes::GenerateOptions o;
    o.movies = 5000;
    o.shows = 50;
    o.seasons_per_show = 4;
    o.episodes_per_season = 10;
    o.plays = 50000;
    o.ratings = 0;
    o.watchlist = 0;
    o.progress = 0;
    return cw::fakes::generate_universe(o);
  }();
  return u;
}

std::unique_ptr<SandboxServer> start(const std::string& name, const json& universe) {
  auto server = std::make_unique<SandboxServer>(cw::fakes::make_fake(name));
  server->service().seed_universe(universe);
  server->start();
  return server;
}

void plex_read(benchmark::State& state, const char* accept) {
  static auto server = start("plex", universe_100k_movies());
  httplib::Client client("127.0.0.1", server->port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as libcurl does by default
  client.set_read_timeout(60, 0);
  const httplib::Headers headers = {{"Accept", accept}, {"X-Plex-Token", "plex-pms-owner-token"}};
  std::int64_t items = 0, bytes = 0;
  for (auto _ : state) {
    std::int64_t total = 1;
    for (std::int64_t start = 0; start < total; start += 1000) {
      auto r = client.Get("/library/sections/1/all?type=1&includeGuids=1&X-Plex-Container-Start=" +
                              std::to_string(start) + "&X-Plex-Container-Size=1000",
                          headers);
      if (!r || r->status != 200) {
        state.SkipWithError("plex read failed");
        return;
      }
      total = std::stoll(r->get_header_value("X-Plex-Container-Total-Size"));
      bytes += static_cast<std::int64_t>(r->body.size());
    }
    items += total;
  }
  state.counters["items/s"] =
      benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
}

void BM_PlexLibraryFullRead(benchmark::State& state) { plex_read(state, "application/json"); }
void BM_PlexLibraryFullReadXml(benchmark::State& state) { plex_read(state, "application/xml"); }

void BM_JellyfinFullRead(benchmark::State& state) {
  static auto server = start("jellyfin", universe_100k_movies());
  httplib::Client client("127.0.0.1", server->port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as libcurl does by default
  client.set_read_timeout(60, 0);
  const auto creds = server->service().credentials();
  const httplib::Headers headers = {{"X-Emby-Token", creds["access_token"].get<std::string>()}};
  std::int64_t items = 0, bytes = 0;
  for (auto _ : state) {
    std::int64_t total = 1;
    for (std::int64_t start = 0; start < total; start += 500) {
      auto r = client.Get(
          "/Items?userId=" + creds["user_id"].get<std::string>() +
              "&IncludeItemTypes=Movie&Recursive=true&Fields=ProviderIds,Path&StartIndex=" +
              std::to_string(start) + "&Limit=500",
          headers);
      if (!r || r->status != 200) {
        state.SkipWithError("jellyfin read failed");
        return;
      }
      total = json::parse(r->body)["TotalRecordCount"].get<std::int64_t>();
      bytes += static_cast<std::int64_t>(r->body.size());
    }
    items += total;
  }
  state.counters["items/s"] =
      benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
}

void BM_TraktHistoryFullRead(benchmark::State& state) {
  static auto server = start("trakt", universe_50k_plays());
  httplib::Client client("127.0.0.1", server->port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as libcurl does by default
  client.set_read_timeout(60, 0);
  const auto creds = server->service().credentials();
  const httplib::Headers headers = {{"Authorization", "Bearer " + creds.value("access_token", "")},
                                    {"trakt-api-key", creds.value("client_id", "")},
                                    {"trakt-api-version", "2"},
                                    {"Content-Type", "application/json"}};
  std::int64_t items = 0, bytes = 0;
  for (auto _ : state) {
    int pages = 1;
    std::int64_t read = 0;
    for (int page = 1; page <= pages; ++page) {
      auto r = client.Get("/sync/history?page=" + std::to_string(page) + "&limit=1000", headers);
      if (!r || r->status != 200) {
        state.SkipWithError("trakt read failed");
        return;
      }
      pages = std::stoi(r->get_header_value("X-Pagination-Page-Count", 0).empty()
                            ? "1"
                            : r->get_header_value("X-Pagination-Page-Count"));
      read += static_cast<std::int64_t>(json::parse(r->body).size());
      bytes += static_cast<std::int64_t>(r->body.size());
    }
    if (read < 50000) {
      state.SkipWithError("trakt history holds fewer than 50k plays");
      return;
    }
    items += read;
  }
  state.counters["items/s"] =
      benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_PlexLibraryFullRead)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_PlexLibraryFullReadXml)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
// One read: the Jellyfin fake scans the whole library per page (~0.13 s at 100k), so three
// reads alone would take ~90 s and push `make bench` past two minutes.
BENCHMARK(BM_JellyfinFullRead)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_TraktHistoryFullRead)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

BENCHMARK_MAIN();
