// What isolation costs per call: ProviderInstance::build_index of the crosswatch plugin
// (the local tracker) over a 100,000-item watchlist, in cw's process and in a
// cw-plugin-runner child (the same instance API; the reply crosses the socket). The time
// includes what the host does with every reply (JSON parse, envelope schema check), so the
// ratio is the overhead a call costs; the Streamed cases read the reply item by item, as a
// run does. Each repetition loads the plugin (a new child when
// isolated) and reads once untimed; repetitions give the median.
//
//   bench_isolation [--benchmark_repetitions=N]     (CW_BENCH_ITEMS: item count)
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cw/plugin/discovery.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>

namespace fs = std::filesystem;
using namespace cw;

namespace {

std::size_t item_count() {
  const char* n = std::getenv("CW_BENCH_ITEMS");
  return n != nullptr ? std::strtoul(n, nullptr, 10) : 100000;
}

// One library for every benchmark: made once with bench/e2e/make_library.py.
const fs::path& library_dir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("cw-bench-iso-" + std::to_string(::getpid()));
    const std::string cmd = "python3 '" + std::string(CW_BENCH_MAKE_LIBRARY) + "' " +
                            std::to_string(item_count()) + " '" + d.string() +
                            "' --feature watchlist >/dev/null";
    if (std::system(cmd.c_str()) != 0) std::abort();
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("cw-bench-iso-" + std::to_string(::getpid())),
                     ec);
    });
    return d;
  }();
  return dir;
}

// CPU milliseconds (user + system) a process has used so far; 0 when it cannot be read.
double cpu_ms_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt: fields 3 to 13
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// `streamed`: the reply's items handed out one by one as they are parsed, as a run reads
// them (ProviderInstance::build_index with an item sink); otherwise the whole document.
void read_index(benchmark::State& state, bool isolated, bool streamed) {
  services::Logger logger(services::LogLevel::warn, services::LogFormat::text);
  services::SystemClock clock;
  services::FlagCancelToken cancel;
  services::MemoryKvStore kv;
  plugin::HostServices services{logger, clock, cancel, &kv, nullptr, nullptr, false};
  const auto dir = plugin::bundled_plugin_dir();
  if (!dir) {
    state.SkipWithError("no bundled plugin folder");
    return;
  }
  plugin::LoadOptions options;
  options.isolated = isolated;
  auto lib = plugin::Library::load(*dir / "cw-provider-crosswatch.so", services, options);
  if (!lib) {
    state.SkipWithError(lib.error().message.c_str());
    return;
  }
  auto inst = plugin::ProviderInstance::create(
      *lib, "bench", nlohmann::json{{"root", library_dir().string()}}, services);
  if (!inst) {
    state.SkipWithError(inst.error().message.c_str());
    return;
  }
  // One read before the clock starts: the plugin parses its files on the first read (the
  // same work in both modes, but in a fresh child's cold memory when isolated); what is
  // measured is the cost per call, a read of what the plugin holds.
  if (auto warm = (*inst)->build_index("watchlist", std::nullopt); !warm) {
    state.SkipWithError(warm.error().message.c_str());
    return;
  }
  std::size_t items = 0;
  const pid_t child = (*lib)->child_pid();
  const double child_cpu_before = child > 0 ? cpu_ms_of(child) : 0;
  for (auto _ : state) {
    std::size_t seen = 0;
    auto idx = streamed ? (*inst)->build_index("watchlist", std::nullopt,
                                               [&](nlohmann::json&& item) {
                                                 seen += item.is_object() ? 1 : 0;
                                                 return ok_status();
                                               })
                        : (*inst)->build_index("watchlist", std::nullopt);
    if (!idx) {
      state.SkipWithError(idx.error().message.c_str());
      return;
    }
    items = streamed ? seen : (*idx)["items"].size();
    benchmark::DoNotOptimize(idx);
  }
  state.counters["items"] = static_cast<double>(items);
  // The plugin's CPU when it runs in the child, per read (in process it is in "CPU").
  if (child > 0)
    state.counters["child_cpu_ms"] =
        (cpu_ms_of(child) - child_cpu_before) / static_cast<double>(state.iterations());
}

void BM_IndexInProcess(benchmark::State& state) { read_index(state, false, false); }
void BM_IndexIsolated(benchmark::State& state) { read_index(state, true, false); }
void BM_IndexStreamedInProcess(benchmark::State& state) { read_index(state, false, true); }
void BM_IndexStreamedIsolated(benchmark::State& state) { read_index(state, true, true); }

}  // namespace

BENCHMARK(BM_IndexInProcess)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_IndexIsolated)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_IndexStreamedInProcess)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_IndexStreamedIsolated)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_MAIN();
