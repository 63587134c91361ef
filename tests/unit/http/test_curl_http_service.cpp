// CurlHttpService against loopback servers: retries and Retry-After, budgets, timeouts,
// cancellation mid-transfer, a 50 MB body, malformed headers, TLS with a private CA,
// keep-alive, dry-run refusal, accounting and redaction.
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <cw/services/http/curl_http_service.hpp>
#include <cw/services/http/http_json.hpp>
#include <cw/services/secrets/redactor.hpp>

#include "test_support.hpp"

namespace cw::services {
namespace {

using cw::test::LoopbackServer;
using cw::test::ManualHttpClock;
using cw::test::RawServer;

struct Harness {
  std::shared_ptr<ManualHttpClock> clock = std::make_shared<ManualHttpClock>();
  std::mutex log_mutex;
  std::vector<std::string> log_lines;
  std::unique_ptr<CurlHttpService> http;

  explicit Harness(config::HttpOptions options = {}) {
    http = std::make_unique<CurlHttpService>(std::move(options), clock,
                                             [this](HttpLogLevel, const std::string& line) {
                                               std::lock_guard lock(log_mutex);
                                               log_lines.push_back(line);
                                             });
  }
  Result<HttpResponse> get(const std::string& url, HttpContext ctx = {"svc", "svc", false, nullptr},
                           const BodySink& sink = nullptr) {
    HttpRequest r;
    r.url = url;
    return http->send(ctx, r, sink);
  }
};

config::HttpOptions fast_options() {
  config::HttpOptions o;
  o.connect_timeout_ms = 2000;
  o.timeout_ms = 10'000;
  return o;
}

TEST(CurlHttp, GetReturnsStatusLowerCasedHeadersAndBody) {
  LoopbackServer srv;
  std::string seen_query;
  srv.server().Get("/hello", [&](const httplib::Request& req, httplib::Response& res) {
    seen_query = req.get_param_value("q") + "|" + req.get_param_value("n");
    res.set_header("X-Custom-Thing", "Yes");
    res.set_content("hi there", "text/plain");
  });
  srv.start();
  Harness h(fast_options());
  HttpRequest r;
  r.url = srv.url("/hello");
  r.query = {{"q", "a b&c"}, {"n", "1"}};
  auto resp = h.http->send({"svc", "svc", false, nullptr}, r, nullptr);
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "hi there");
  EXPECT_EQ(resp->attempts, 1);
  const std::string* custom = find_header(resp->headers, "x-custom-thing");
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(*custom, "Yes");
  EXPECT_EQ(seen_query, "a b&c|1");
  EXPECT_GT(resp->timing.total_ms, 0.0);
}

TEST(CurlHttp, GzipBodiesAreDecoded) {
  LoopbackServer srv;
  const std::string text(100'000, 'x');
  srv.server().Get("/big.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(text, "application/json");
  });
  srv.start();
  Harness h(fast_options());
  auto resp = h.get(srv.url("/big.json"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  const std::string* enc = find_header(resp->headers, "content-encoding");
  ASSERT_NE(enc, nullptr);  // the server picks among what libcurl offers (br, gzip...)
  EXPECT_EQ(resp->body, text);
  // A plugin that asks for gzip only gets gzip, decoded all the same.
  HttpRequest r;
  r.url = srv.url("/big.json");
  r.headers = {{"Accept-Encoding", "gzip"}};
  auto gz = h.http->send({"svc", "svc", false, nullptr}, r, nullptr);
  ASSERT_TRUE(gz.ok()) << gz.error().message;
  enc = find_header(gz->headers, "content-encoding");
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(*enc, "gzip");
  EXPECT_EQ(gz->body, text);
  // Accounting counts decoded bytes.
  EXPECT_EQ(h.http->accounting().get("svc", "/big.json", "GET", "200").bytes_in, 200'000);
}

TEST(CurlHttp, PostSendsBodyAndHeaders) {
  LoopbackServer srv;
  std::string body, ctype, expect;
  srv.server().Post("/sync/history", [&](const httplib::Request& req, httplib::Response& res) {
    body = req.body;
    ctype = req.get_header_value("Content-Type");
    expect = req.get_header_value("Expect");
    res.status = 201;
    res.set_content(R"({"added":{"movies":1}})", "application/json");
  });
  srv.start();
  Harness h(fast_options());
  HttpRequest r;
  r.method = "POST";
  r.read = false;
  r.url = srv.url("/sync/history");
  r.headers = {{"Content-Type", "application/json"}};
  r.body = R"({"movies":[{"ids":{"tmdb":278}}]})";
  auto resp = h.http->send({"trakt", "trakt", false, nullptr}, r, nullptr);
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(body, r.body);
  EXPECT_EQ(ctype, "application/json");
  EXPECT_EQ(expect, "");
}

TEST(CurlHttp, BodylessWritesSendContentLengthZero) {
  LoopbackServer srv;
  std::mutex m;
  std::vector<std::string> seen;
  auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m);
    seen.push_back(req.method + " " +
                   (req.has_header("Content-Length") ? req.get_header_value("Content-Length")
                                                     : std::string("none")));
    res.set_content("{}", "application/json");
  };
  srv.server().Post("/w", handler);
  srv.server().Put("/w", handler);
  srv.server().Patch("/w", handler);
  srv.start();
  Harness h(fast_options());
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    HttpRequest r;
    r.method = method;
    r.read = false;
    r.url = srv.url("/w");
    const auto started = std::chrono::steady_clock::now();
    auto resp = h.http->send({"svc", "svc", false, nullptr}, r, nullptr);
    ASSERT_TRUE(resp.ok()) << method << ": " << resp.error().message;
    EXPECT_EQ(resp->status, 200) << method;
    // Without the header the server waits for a body until its read timeout (5 s).
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2)) << method;
  }
  std::lock_guard lock(m);
  EXPECT_EQ(seen, (std::vector<std::string>{"POST 0", "PUT 0", "PATCH 0"}));
}

TEST(CurlHttp, RetriesServerErrorsWithGrowingBackoff) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls < 3) {
      res.status = 503;
      res.set_content("busy", "text/plain");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  srv.start();
  config::HttpOptions o = fast_options();
  o.backoff_base_ms = 1000;
  Harness h(o);
  auto resp = h.get(srv.url("/flaky"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "ok");
  EXPECT_EQ(resp->attempts, 3);
  EXPECT_EQ(calls.load(), 3);
  const auto sleeps = h.clock->sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  // Exponential with jitter over the upper half: [500,1000] then [1000,2000].
  EXPECT_GE(sleeps[0], 500);
  EXPECT_LE(sleeps[0], 1000);
  EXPECT_GE(sleeps[1], 1000);
  EXPECT_LE(sleeps[1], 2000);
  EXPECT_EQ(h.http->accounting().get("svc", "/flaky", "GET", "503").count, 2);
  EXPECT_EQ(h.http->accounting().get("svc", "/flaky", "GET", "200").count, 1);
}

TEST(CurlHttp, GivesTheLastResponseWhenAttemptsRunOut) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 502;
    res.set_content("bad gateway", "text/plain");
  });
  srv.start();
  config::HttpOptions o = fast_options();
  o.max_attempts = 3;
  Harness h(o);
  std::string streamed;
  auto resp = h.get(srv.url("/down"), {"svc", "svc", false, nullptr},
                    [&](std::string_view c) { streamed.append(c); });
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 502);
  EXPECT_EQ(resp->attempts, 3);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(streamed, "bad gateway");  // only the final attempt's body reaches the sink
}

TEST(CurlHttp, RetryAfterSecondsIsHonoured) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "7");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  srv.start();
  Harness h(fast_options());
  auto resp = h.get(srv.url("/limited"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 200);
  const auto sleeps = h.clock->sleeps();
  ASSERT_FALSE(sleeps.empty());
  std::int64_t total = 0;
  for (auto s : sleeps) total += s;
  EXPECT_GE(total, 7000);  // Retry-After is a floor
  EXPECT_LE(total, 8000);
}

TEST(CurlHttp, RetryAfterHttpDateIsHonoured) {
  LoopbackServer srv;
  Harness h(fast_options());
  std::atomic<int> calls{0};
  // An HTTP date 30 s after the harness's wall clock.
  const time_t when = static_cast<time_t>(h.clock->now_ms() / 1000 + 30);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&when));
  srv.server().Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 503;
      res.set_header("Retry-After", date);
      return;
    }
    res.set_content("ok", "text/plain");
  });
  srv.start();
  auto resp = h.get(srv.url("/limited"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 200);
  std::int64_t total = 0;
  for (auto s : h.clock->sleeps()) total += s;
  EXPECT_GE(total, 29'000);
  EXPECT_LE(total, 31'000);
}

TEST(CurlHttp, RetryAfterBeyondMaxWaitEndsTheRunForThatInstance) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 429;
    res.set_header("Retry-After", "3600");
    res.set_content(R"({"error":"slow down"})", "application/json");
  });
  srv.start();
  config::HttpOptions o = fast_options();
  o.max_wait_ms = 60'000;
  Harness h(o);
  auto first = h.get(srv.url("/limited"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->status, 429);  // the plugin sees the service's answer
  EXPECT_EQ(first->body, R"({"error":"slow down"})");
  EXPECT_EQ(first->attempts, 1);
  EXPECT_TRUE(h.clock->sleeps().empty());
  auto second = h.get(srv.url("/limited"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::rate_limited);
  EXPECT_GE(second.error().retry_after_ms, 3'500'000);
  EXPECT_EQ(calls.load(), 1);  // refused without bothering the service again
  const auto report = h.http->report();
  EXPECT_EQ(report["budgets"]["svc"]["exhausted"], true);
  EXPECT_EQ(report["budgets"]["svc"]["refused"], 1);
}

TEST(CurlHttp, NonIdempotentWritesAreNotRepeatedOn5xx) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Post("/sync/history", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
  });
  srv.start();
  Harness h(fast_options());
  HttpRequest r;
  r.method = "POST";
  r.read = false;
  r.url = srv.url("/sync/history");
  r.body = "{}";
  auto resp = h.http->send({"trakt", "trakt", false, nullptr}, r, nullptr);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(calls.load(), 1);

  r.retry_safe = true;  // the plugin says repeating is harmless
  calls = 0;
  resp = h.http->send({"trakt", "trakt", false, nullptr}, r, nullptr);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(calls.load(), 4);
}

TEST(CurlHttp, WritesAreRepeatedAfter429) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Post("/sync/history", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    res.status = 201;
  });
  srv.start();
  Harness h(fast_options());
  HttpRequest r;
  r.method = "POST";
  r.read = false;
  r.url = srv.url("/sync/history");
  auto resp = h.http->send({"trakt", "trakt", false, nullptr}, r, nullptr);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 201);  // a 429 was refused, not applied: safe to send again
  EXPECT_EQ(calls.load(), 2);
}

TEST(CurlHttp, ManifestBudgetPacesAndThenRunsDry) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.set_content("ok", "text/plain");
  });
  srv.start();
  config::HttpOptions o = fast_options();
  o.max_wait_ms = 5'000;
  // Configuration lowers the manifest's limit.
  o.instances["simkl"].rate_limits = {config::RateLimitSpec{"get", {}, 2, 4, {}}};
  Harness h(o);
  h.http->configure_instance("simkl", {config::RateLimitSpec{"get", {"GET"}, 10, 1, {}}});
  const HttpContext ctx{"simkl", "simkl", false, nullptr};
  ASSERT_TRUE(h.get(srv.url("/x"), ctx).ok());
  ASSERT_TRUE(h.get(srv.url("/x"), ctx).ok());
  EXPECT_TRUE(h.clock->sleeps().empty());
  ASSERT_TRUE(h.get(srv.url("/x"), ctx).ok());  // waits 2 s for a token
  ASSERT_EQ(h.clock->sleeps().size(), 1u);
  EXPECT_EQ(h.clock->sleeps()[0], 2'000);
  EXPECT_EQ(calls.load(), 3);

  config::HttpOptions capped = fast_options();
  capped.instances["mdblist"].max_requests_per_run = 2;
  Harness h2(capped);
  h2.http->configure_instance("mdblist", {});
  const HttpContext mctx{"mdblist", "mdblist", false, nullptr};
  ASSERT_TRUE(h2.get(srv.url("/x"), mctx).ok());
  ASSERT_TRUE(h2.get(srv.url("/x"), mctx).ok());
  auto third = h2.get(srv.url("/x"), mctx);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind, ErrorKind::rate_limited);
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(h2.http->accounting().get("mdblist", "/x", "GET", "refused_budget").count, 1);
}

TEST(CurlHttp, TimeoutIsTransientAndSaysWhichLimit) {
  LoopbackServer srv;
  std::atomic<bool> stop{false};
  srv.server().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    for (int i = 0; i < 200 && !stop.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.set_content("late", "text/plain");
  });
  srv.start();
  config::HttpOptions o = fast_options();
  o.max_attempts = 2;
  Harness h(o);
  HttpRequest r;
  r.url = srv.url("/slow");
  r.timeout_ms = 200;
  auto resp = h.http->send({"svc", "svc", false, nullptr}, r, nullptr);
  stop = true;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::transient);
  EXPECT_NE(resp.error().message.find("timeout_ms 200"), std::string::npos) << resp.error().message;
  EXPECT_NE(resp.error().message.find("after 2 attempts"), std::string::npos)
      << resp.error().message;
  EXPECT_EQ(h.http->accounting().get("svc", "/slow", "GET", "timeout").count, 2);
}

TEST(CurlHttp, ConnectionRefusedIsRetriedThenTransient) {
  Harness h(fast_options());
  const int port = cw::test::closed_port();
  HttpRequest r;
  r.method = "POST";  // nothing was sent, so even a write may be tried again
  r.read = false;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  auto resp = h.http->send({"svc", "svc", false, nullptr}, r, nullptr);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::transient);
  EXPECT_EQ(h.clock->sleeps().size(), 3u);
  EXPECT_EQ(h.http->accounting().get("svc", "/x", "POST", "connect_error").count, 4);
}

TEST(CurlHttp, CancellationAbortsATransferInFlight) {
  LoopbackServer srv;
  std::atomic<bool> stop{false};
  srv.server().Get("/endless", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/octet-stream",
                                     [&](size_t, httplib::DataSink& sink) {
                                       if (stop.load()) return false;
                                       std::string chunk(4096, 'z');
                                       sink.write(chunk.data(), chunk.size());
                                       std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                       return true;
                                     });
  });
  srv.start();
  config::HttpOptions o = fast_options();
  o.timeout_ms = 60'000;
  Harness h(o);
  FlagCancelToken cancel;
  std::size_t received = 0;
  auto resp = h.get(srv.url("/endless"), {"svc", "svc", false, &cancel}, [&](std::string_view c) {
    received += c.size();
    if (received > 64 * 1024) cancel.cancel();
  });
  stop = true;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::cancelled);
  EXPECT_GT(received, 64u * 1024u);
  EXPECT_EQ(h.http->accounting().get("svc", "/endless", "GET", "cancelled").count, 1);
}

TEST(CurlHttp, CancellationAbortsARetryWait) {
  LoopbackServer srv;
  srv.server().Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "30");
  });
  srv.start();
  // The real clock: the wait must end because of the token, not because time passed.
  FlagCancelToken cancel;
  CurlHttpService http(fast_options(), nullptr, [](HttpLogLevel, const std::string&) {});
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel.cancel();
  });
  HttpRequest r;
  r.url = srv.url("/limited");
  const auto start = std::chrono::steady_clock::now();
  auto resp = http.send({"svc", "svc", false, &cancel}, r, nullptr);
  canceller.join();
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::cancelled);
  // Not a timing assertion on performance: only that the 30 s wait was cut short at all.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
}

TEST(CurlHttp, AlreadyCancelledSendsNothing) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/x", [&](const httplib::Request&, httplib::Response&) { ++calls; });
  srv.start();
  Harness h(fast_options());
  FlagCancelToken cancel;
  cancel.cancel();
  auto resp = h.get(srv.url("/x"), {"svc", "svc", false, &cancel});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::cancelled);
  EXPECT_EQ(calls.load(), 0);
}

constexpr std::size_t k_50mb = 50u * 1024u * 1024u;

void serve_50mb(LoopbackServer<>& srv) {
  srv.server().Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(k_50mb, "application/octet-stream",
                             [](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::string chunk(std::min<size_t>(length, 256 * 1024), '\0');
                               for (size_t i = 0; i < chunk.size(); ++i)
                                 chunk[i] = static_cast<char>((offset + i) % 251);
                               sink.write(chunk.data(), chunk.size());
                               return true;
                             });
  });
}

TEST(CurlHttp, StreamsA50MegabyteBodyToTheSink) {
  LoopbackServer srv;
  serve_50mb(srv);
  srv.start();
  config::HttpOptions o = fast_options();
  o.timeout_ms = 120'000;
  Harness h(o);
  std::size_t received = 0, chunks = 0, max_chunk = 0;
  bool pattern_ok = true;
  auto resp = h.get(srv.url("/big"), {"svc", "svc", false, nullptr}, [&](std::string_view c) {
    for (size_t i = 0; i < c.size(); i += 4099)
      if (c[i] != static_cast<char>((received + i) % 251)) pattern_ok = false;
    received += c.size();
    ++chunks;
    max_chunk = std::max(max_chunk, c.size());
  });
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->body.empty());
  EXPECT_EQ(received, k_50mb);
  EXPECT_TRUE(pattern_ok);
  EXPECT_GT(chunks, 100u);  // it arrived in pieces, never as one buffer
  EXPECT_LE(max_chunk, 1024u * 1024u);
}

TEST(CurlHttp, BuffersA50MegabyteBodyAndRefusesBeyondTheCap) {
  LoopbackServer srv;
  serve_50mb(srv);
  srv.start();
  config::HttpOptions o = fast_options();
  o.timeout_ms = 120'000;
  Harness h(o);
  auto resp = h.get(srv.url("/big"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  ASSERT_EQ(resp->body.size(), k_50mb);
  EXPECT_EQ(resp->body[k_50mb - 1], static_cast<char>((k_50mb - 1) % 251));

  config::HttpOptions small = o;
  small.max_body_bytes = 1024 * 1024;
  Harness h2(small);
  auto refused = h2.get(srv.url("/big"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::internal);
  EXPECT_NE(refused.error().message.find("max_body_bytes"), std::string::npos);
}

TEST(CurlHttp, MalformedHeadersAreSkippedNotFatal) {
  RawServer raw(
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/plain\r\n"
      ": no name\r\n"
      "Bad Name: spaces in the name\r\n"
      "X-Folded: first\r\n"
      "  second\r\n"
      "X-RateLimit-Remaining: many\r\n"
      "X-RateLimit-Reset: \r\n"
      "X-Ratelimit: {broken json\r\n"
      "Retry-After: later\r\n"
      "Content-Length: 2\r\n"
      "Connection: close\r\n"
      "\r\n"
      "ok");
  Harness h(fast_options());
  h.http->configure_instance("svc", {config::RateLimitSpec{"all", {}, 5, 1, {}}});
  auto resp = h.get(raw.url("/"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "ok");
  const std::string* folded = find_header(resp->headers, "x-folded");
  ASSERT_NE(folded, nullptr);
  EXPECT_EQ(*folded, "first second");
  for (const auto& [k, v] : resp->headers) {
    EXPECT_FALSE(k.empty());
    EXPECT_EQ(k.find(' '), std::string::npos) << k;
  }
  // The nonsense rate headers changed nothing: the next request goes out without a wait.
  ASSERT_TRUE(h.get(raw.url("/")).ok());
  EXPECT_TRUE(h.clock->sleeps().empty());
}

TEST(CurlHttp, A429WithAnUnparsableRetryAfterFallsBackToBackoff) {
  RawServer raw(
      "HTTP/1.1 429 Too Many Requests\r\n"
      "Retry-After: whenever you like\r\n"
      "Content-Length: 0\r\n"
      "Connection: close\r\n\r\n");
  config::HttpOptions o = fast_options();
  o.max_attempts = 2;
  o.backoff_base_ms = 400;
  Harness h(o);
  auto resp = h.get(raw.url("/"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 429);
  EXPECT_EQ(raw.connections(), 2);
  ASSERT_EQ(h.clock->sleeps().size(), 1u);
  EXPECT_GE(h.clock->sleeps()[0], 200);
  EXPECT_LE(h.clock->sleeps()[0], 400);
}

TEST(CurlHttp, AHeaderLineWithoutColonIsABadResponseNotACrash) {
  RawServer raw(
      "HTTP/1.1 200 OK\r\n"
      "this line has no colon\r\n"
      "Content-Length: 2\r\n"
      "Connection: close\r\n\r\nok");
  Harness h(fast_options());
  auto resp = h.get(raw.url("/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::transient);
  EXPECT_EQ(raw.connections(), 1);  // not repeated
  EXPECT_EQ(h.http->accounting().get("svc", "/", "GET", "bad_response").count, 1);
}

TEST(CurlHttp, GarbageInsteadOfHttpIsABadResponse) {
  RawServer raw("SSH-2.0-OpenSSH_9.2\r\n");
  Harness h(fast_options());
  auto resp = h.get(raw.url("/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::transient);
  EXPECT_NE(resp.error().message.find("HTTP server"), std::string::npos) << resp.error().message;
  EXPECT_EQ(raw.connections(), 1);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() /
            ("cw-tls-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(m_dir);
    std::string error;
    ASSERT_TRUE(cw::test::make_self_signed_cert(cert(), key(), error)) << error;
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }
  std::string cert() const { return (m_dir / "cert.pem").string(); }
  std::string key() const { return (m_dir / "key.pem").string(); }

 private:
  std::filesystem::path m_dir;
};

TEST_F(TlsTest, TrustsASelfSignedServerThroughTheConfiguredCa) {
  LoopbackServer<httplib::SSLServer> srv(cert().c_str(), key().c_str());
  ASSERT_TRUE(srv.server().is_valid());
  srv.server().Get("/secure", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("encrypted hello", "text/plain");
  });
  srv.start();

  config::HttpOptions trusting = fast_options();
  trusting.instances["plex"].ca_file = cert();
  Harness h(trusting);
  auto ok = h.get(srv.url("/secure", "https"), {"plex", "plex", false, nullptr});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "encrypted hello");

  // Another instance without the CA refuses the same server, at once and without retries.
  auto refused = h.get(srv.url("/secure", "https"), {"other", "other", false, nullptr});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::invalid_arg);
  EXPECT_NE(refused.error().message.find("ca_file"), std::string::npos) << refused.error().message;
  EXPECT_EQ(h.http->accounting().get("other", "/secure", "GET", "tls_error").count, 1);
}

TEST(CurlHttp, KeepAliveReusesOneConnection) {
  LoopbackServer srv;
  std::mutex m;
  std::set<int> ports;
  srv.server().Get("/p", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m);
    ports.insert(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  srv.start();
  {
    Harness h(fast_options());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(h.get(srv.url("/p")).ok());
  }
  EXPECT_EQ(ports.size(), 1u);
  ports.clear();
  config::HttpOptions fresh = fast_options();
  fresh.reuse_connections = false;
  Harness h(fresh);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h.get(srv.url("/p")).ok());
  EXPECT_EQ(ports.size(), 5u);
}

TEST(CurlHttp, DryRunRefusesWhatIsNotMarkedRead) {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Post("/graphql", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.set_content(R"({"data":{}})", "application/json");
  });
  srv.server().Delete("/list/1", [&](const httplib::Request&, httplib::Response&) { ++calls; });
  srv.start();
  Harness h(fast_options());
  const HttpContext dry{"anilist", "anilist", true, nullptr};

  auto mutation = parse_http_request(R"({"method":"POST","url":")" + srv.url("/graphql") +
                                     R"(","body":"mutation { SaveMediaListEntry }"})");
  ASSERT_TRUE(mutation.ok());
  auto refused = h.http->send(dry, *mutation, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::unsupported);
  EXPECT_NE(refused.error().message.find("dry run"), std::string::npos);

  auto del = parse_http_request(R"({"method":"DELETE","url":")" + srv.url("/list/1") + R"("})");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(h.http->send(dry, *del, nullptr).error().kind, ErrorKind::unsupported);
  EXPECT_EQ(calls.load(), 0);  // nothing reached the server

  auto query = parse_http_request(R"({"method":"POST","url":")" + srv.url("/graphql") +
                                  R"(","read":true,"body":"query { Viewer { id } }"})");
  ASSERT_TRUE(query.ok());
  auto sent = h.http->send(dry, *query, nullptr);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(h.http->accounting().get("anilist", "/graphql", "POST", "refused_dry_run").count, 1);
}

TEST(CurlHttp, SecretsNeverReachLogsReportsOrErrors) {
  Redactor::global().clear();
  const std::string bearer = "trakt-access-7f3a9c1e5b";
  const std::string plex = "plex-token-QQ9mZr4xT2";
  const std::string apikey = "mdblist-key-0p9o8i7u6y";
  const std::string client = "client-id-d4e5f6a7b8c9";
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Get("/u", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    res.set_content("fine", "text/plain");
  });
  srv.start();
  Harness h(fast_options());
  auto request = [&](const std::string& url) {
    HttpRequest r;
    r.url = url;
    r.headers = {
        {"Authorization", "Bearer " + bearer}, {"X-Plex-Token", plex}, {"trakt-api-key", client}};
    r.query = {{"apikey", apikey}, {"page", "1"}};
    return r;
  };
  // A retried request, a successful one, a connection error (its message quotes the URL),
  // and a dry-run refusal.
  auto ok = h.http->send({"mdblist", "mdblist", false, nullptr}, request(srv.url("/u")), nullptr);
  ASSERT_TRUE(ok.ok());
  std::vector<std::string> messages;
  auto bad_url =
      "http://127.0.0.1:" + std::to_string(cw::test::closed_port()) + "/u?apikey=" + apikey;
  auto failed = h.http->send({"mdblist", "mdblist", false, nullptr}, request(bad_url), nullptr);
  ASSERT_FALSE(failed.ok());
  messages.push_back(failed.error().message);
  messages.push_back(http_error_json(failed.error()));
  HttpRequest write = request(srv.url("/u"));
  write.method = "POST";
  write.read = false;
  auto dry = h.http->send({"mdblist", "mdblist", true, nullptr}, write, nullptr);
  ASSERT_FALSE(dry.ok());
  messages.push_back(dry.error().message);
  h.http->log_summary();

  std::vector<std::string> everything = h.log_lines;
  everything.push_back(h.http->report().dump());
  everything.insert(everything.end(), messages.begin(), messages.end());
  ASSERT_GT(h.log_lines.size(), 3u);
  for (const auto& text : everything)
    for (const auto& secret : {bearer, plex, apikey, client})
      EXPECT_EQ(text.find(secret), std::string::npos) << "secret leaked in: " << text;
  // And anything else that quotes them is masked too, e.g. a plugin's own log line.
  const std::string plugin_line = "calling " + bad_url + " with Bearer " + bearer;
  const std::string clean = redact(plugin_line);
  EXPECT_EQ(clean.find(apikey), std::string::npos) << clean;
  EXPECT_EQ(clean.find(bearer), std::string::npos) << clean;
}

}  // namespace
}  // namespace cw::services
