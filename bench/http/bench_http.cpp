// bench_http: the host HTTP service against a loopback server.
//   SmallGets/keep_alive and SmallGets/fresh_connection: 10,000 small GETs each, with
//   connection reuse and with a new TCP connection per request (requests per second).
//   Stream50MB: peak RSS while a 50 MB body streams through a BodySink, and Buffer50MB for
//   contrast when the body is held in memory (ru_maxrss is a process high-water mark, so
//   the streaming case runs first).
#include <chrono>
#include <memory>
#include <thread>

#include <benchmark/benchmark.h>
#include <httplib.h>
#include <sys/resource.h>

#include <cw/config/http_options.hpp>
#include <cw/services/http/curl_http_service.hpp>

namespace {

using namespace cw::services;

constexpr std::size_t k_50mb = 50u * 1024u * 1024u;

class Server {
 public:
  Server() {
    m_server.set_keep_alive_max_count(1'000'000);
    // Without it Nagle and delayed ACKs add ~40 ms to every keep-alive response.
    m_server.set_tcp_nodelay(true);
    m_server.Get("/small", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"ok":true})", "application/json");
    });
    m_server.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content_provider(k_50mb, "application/octet-stream",
                               [](size_t offset, size_t length, httplib::DataSink& sink) {
                                 static const std::string chunk(256 * 1024, 'x');
                                 (void)offset;
                                 sink.write(chunk.data(), std::min(length, chunk.size()));
                                 return true;
                               });
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Server() {
    m_server.stop();
    m_thread.join();
  }
  std::string url(const char* path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }

 private:
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
};

Server& server() {
  static Server s;
  return s;
}

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

cw::config::HttpOptions quiet_options(bool reuse) {
  cw::config::HttpOptions o;
  o.reuse_connections = reuse;
  o.timeout_ms = 120'000;
  return o;
}

void SmallGets(benchmark::State& state) {
  const bool reuse = state.range(0) == 1;
  CurlHttpService http(quiet_options(reuse), nullptr, [](HttpLogLevel, const std::string&) {});
  HttpRequest req;
  req.url = server().url("/small");
  const HttpContext ctx{"bench", "bench", false, nullptr};
  std::int64_t failures = 0;
  for (auto _ : state) {
    auto r = http.send(ctx, req, nullptr);
    if (!r || r->status != 200) ++failures;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(reuse ? "keep_alive" : "fresh_connection");
  state.counters["failures"] = static_cast<double>(failures);
  state.counters["req_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(SmallGets)
    ->Arg(1)
    ->Arg(0)
    ->Iterations(10'000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void Stream50MB(benchmark::State& state) {
  CurlHttpService http(quiet_options(true), nullptr, [](HttpLogLevel, const std::string&) {});
  HttpRequest req;
  req.url = server().url("/big");
  const HttpContext ctx{"bench", "bench", false, nullptr};
  const long before = peak_rss_kb();
  std::size_t received = 0;
  for (auto _ : state) {
    received = 0;
    auto r = http.send(ctx, req, [&](std::string_view c) { received += c.size(); });
    if (!r || received != k_50mb) state.SkipWithError("the 50 MB body did not arrive whole");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_50mb));
  state.counters["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
  state.counters["rss_growth_mb"] = static_cast<double>(peak_rss_kb() - before) / 1024.0;
}
BENCHMARK(Stream50MB)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

void Buffer50MB(benchmark::State& state) {
  CurlHttpService http(quiet_options(true), nullptr, [](HttpLogLevel, const std::string&) {});
  HttpRequest req;
  req.url = server().url("/big");
  const HttpContext ctx{"bench", "bench", false, nullptr};
  const long before = peak_rss_kb();
  for (auto _ : state) {
    auto r = http.send(ctx, req, nullptr);
    if (!r || r->body.size() != k_50mb) state.SkipWithError("the 50 MB body did not arrive whole");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_50mb));
  state.counters["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
  state.counters["rss_growth_mb"] = static_cast<double>(peak_rss_kb() - before) / 1024.0;
}
BENCHMARK(Buffer50MB)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
