// The framework on its own: a tiny counter service exercises control routes, the request log
// and each kind of fault.
#include <atomic>
#include <chrono>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/fake_service.hpp"
#include "core/registry.hpp"

namespace cw::fakes {
namespace {

using nlohmann::json;

class CounterFake final : public FakeService {
 public:
  std::string name() const override { return "counter"; }
  void register_routes(httplib::Server& srv, Context& ctx) override {
    ctx.set_valid_tokens({"good"});
    srv.Get("/items", [this, &ctx](const httplib::Request& req, httplib::Response& res) {
      if (!ctx.token_valid(req, bearer_token(req))) {
        send_json(res, {{"error", "invalid_token"}}, 401);
        return;
      }
      std::lock_guard lock(m_mutex);
      const auto p =
          ctx.page(req, m_items.size(), param_int(req, "start", 0), param_int(req, "limit", 100));
      json items = json::array();
      for (std::size_t i = p.start; i < p.end(); ++i) items.push_back(m_items[i]);
      send_json(res, {{"items", items}, {"total", p.total}});
    });
    srv.Post("/items", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      m_items.push_back(req.body.empty() ? json::object() : json::parse(req.body));
      send_json(res, {{"added", 1}}, 201);
    });
    // A body httplib compresses (text/*; send_json's type with a charset it never does).
    srv.Get("/text", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(4096, 'x'), "text/plain");
    });
    srv.Put("/items", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      if (req.body.empty()) m_items.clear();
      res.status = 204;
    });
  }
  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    m_items = fixture.at("items").get<std::vector<json>>();
  }
  json state() const override {
    std::lock_guard lock(m_mutex);
    return {{"items", m_items}};
  }
  void reset() override {
    std::lock_guard lock(m_mutex);
    m_items.clear();
  }
  json credentials() const override { return {{"token", "good"}}; }
  std::string provider_yaml(const std::string& base_url) const override {
    return "counter:\n  base_url: " + base_url + "\n";
  }

 private:
  mutable std::mutex m_mutex;
  std::vector<json> m_items;
};

class FrameworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_server = std::make_unique<SandboxServer>(std::make_unique<CounterFake>());
    m_server->start();
    m_client = std::make_unique<httplib::Client>("127.0.0.1", m_server->port());
    m_client->set_read_timeout(10, 0);
    seed(5);
  }
  void seed(int n) {
    json items = json::array();
    for (int i = 0; i < n; ++i) items.push_back({{"n", i}});
    ASSERT_EQ(m_client->Post("/__sandbox/seed", json{{"items", items}}.dump(), "application/json")
                  ->status,
              200);
  }
  httplib::Result get(const std::string& path, const std::string& token = "good") {
    return m_client->Get(path, {{"Authorization", "Bearer " + token}});
  }
  void fault(const json& spec) {
    auto r = m_client->Post("/__sandbox/faults", spec.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  std::unique_ptr<SandboxServer> m_server;
  std::unique_ptr<httplib::Client> m_client;
};

TEST_F(FrameworkTest, ServesSeededStateAndReadsItBack) {
  auto r = get("/items");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["items"].size(), 5u);
  auto st = m_client->Get("/__sandbox/state");
  EXPECT_EQ(json::parse(st->body)["items"][4]["n"], 4);
}

TEST_F(FrameworkTest, RejectsUnknownToken) {
  auto r = get("/items", "bad");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(FrameworkTest, LogsEveryServiceRequestButNotControlRoutes) {
  get("/items?start=1&limit=2");
  m_client->Post("/items", R"({"n":9})", "application/json");
  auto log = json::parse(m_client->Get("/__sandbox/requests")->body);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["method"], "GET");
  EXPECT_EQ(log[0]["path"], "/items");
  EXPECT_EQ(log[0]["query"], "start=1&limit=2");
  EXPECT_EQ(log[0]["headers"]["authorization"], "Bearer good");
  EXPECT_EQ(log[1]["body"], R"({"n":9})");
  EXPECT_EQ(log[1]["status"], 201);
  EXPECT_EQ(m_server->context().request_count("^/items$", "POST"), 1u);
  auto filtered = json::parse(m_client->Get("/__sandbox/requests?method=POST")->body);
  EXPECT_EQ(filtered.size(), 1u);
  m_client->Delete("/__sandbox/requests");
  EXPECT_TRUE(m_server->context().requests().empty());
}

TEST_F(FrameworkTest, StatusFaultHonoursCountAndRetryAfter) {
  fault({{"endpoint", "^/items$"}, {"status", 503}, {"count", 2}, {"retry_after_s", 7}});
  auto a = get("/items");
  auto b = get("/items");
  auto c = get("/items");
  EXPECT_EQ(a->status, 503);
  EXPECT_EQ(a->get_header_value("Retry-After"), "7");
  EXPECT_EQ(b->status, 503);
  EXPECT_EQ(c->status, 200);
}

TEST_F(FrameworkTest, EveryNthMatchingRequestOnly) {
  fault({{"endpoint", "^/items$"}, {"status", 503}, {"every", 3}, {"count", 2}});
  std::vector<int> got;
  for (int i = 0; i < 9; ++i) got.push_back(get("/items")->status);
  // The 3rd and 6th fail; then `count` is spent, and the 9th passes.
  EXPECT_EQ(got, (std::vector<int>{200, 200, 503, 200, 200, 503, 200, 200, 200}));
  auto bad = m_client->Post("/__sandbox/faults", R"({"status":500,"every":0})", "application/json");
  EXPECT_EQ(bad->status, 400);
}

TEST_F(FrameworkTest, AfterHandlingTheWriteLandsButTheAnswerIsLost) {
  fault({{"endpoint", "^/items$"},
         {"method", "POST"},
         {"status", 502},
         {"after_handling", true},
         {"count", 1},
         {"retry_after_s", 3}});
  auto lost = m_client->Post("/items", R"({"n":5})", "application/json");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->status, 502);
  EXPECT_EQ(lost->get_header_value("Retry-After"), "3");
  EXPECT_EQ(lost->body.find("added"), std::string::npos);  // the service's own reply is gone
  EXPECT_EQ(json::parse(get("/items")->body)["items"].size(), 6u);  // but the write landed
  EXPECT_EQ(m_client->Post("/items", "{}", "application/json")->status, 201);
  const auto log = json::parse(m_client->Get("/__sandbox/requests?method=POST")->body);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["status"], 502);  // the log shows what the client saw
  auto bad = m_client->Post("/__sandbox/faults", R"({"after_handling":true})", "application/json");
  EXPECT_EQ(bad->status, 400);
}

TEST_F(FrameworkTest, FaultOnOtherEndpointOrMethodDoesNotApply) {
  fault({{"endpoint", "^/other"}, {"status", 500}});
  fault({{"endpoint", "^/items$"}, {"method", "POST"}, {"status", 500}});
  EXPECT_EQ(get("/items")->status, 200);
  EXPECT_EQ(m_client->Post("/items", "{}", "application/json")->status, 500);
}

TEST_F(FrameworkTest, TokenBucketRejectsBeyondBurst) {
  fault({{"endpoint", "/items"}, {"rate_per_s", 0.01}, {"burst", 3}});
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 5; ++i) {
    auto r = get("/items");
    if (r->status == 200) ++ok;
    if (r->status == 429) {
      ++limited;
      retry_after = r->get_header_value("Retry-After");
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 2);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GT(std::stoi(retry_after), 0);
}

TEST_F(FrameworkTest, TruncatedAndMalformedBodiesDoNotParse) {
  fault({{"endpoint", "/items"}, {"truncate_body", true}, {"count", 1}});
  auto r = get("/items");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(json::accept(r->body));
  fault({{"endpoint", "/items"}, {"malformed_body", true}, {"count", 1}});
  r = get("/items");
  ASSERT_TRUE(r);
  EXPECT_FALSE(json::accept(r->body));
  r = get("/items");
  EXPECT_TRUE(json::accept(r->body));
}

TEST_F(FrameworkTest, SlowBodyArrivesWhole) {
  fault({{"endpoint", "/items"}, {"slow_body_bytes_per_s", 2000}, {"count", 1}});
  auto r = get("/items");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["items"].size(), 5u);
}

TEST_F(FrameworkTest, ExpiredTokenFaultFailsTheAuthCheck) {
  fault({{"endpoint", "/items"}, {"expire_token", true}, {"count", 1}});
  EXPECT_EQ(get("/items")->status, 401);
  EXPECT_EQ(get("/items")->status, 200);
}

TEST_F(FrameworkTest, PageCapSilentlyShortensPages) {
  fault({{"endpoint", "/items"}, {"page_cap", 2}});
  auto body = json::parse(get("/items?limit=4")->body);
  EXPECT_EQ(body["items"].size(), 2u);
  EXPECT_EQ(body["total"], 5);
}

TEST_F(FrameworkTest, StaleReadsRepeatThePreWriteAnswer) {
  fault({{"endpoint", "^/items$"}, {"stale_reads", 2}});
  EXPECT_EQ(json::parse(get("/items")->body)["items"].size(), 5u);
  ASSERT_EQ(m_client->Post("/items", R"({"n":5})", "application/json")->status, 201);
  EXPECT_EQ(json::parse(get("/items")->body)["items"].size(), 5u);
  EXPECT_EQ(json::parse(get("/items")->body)["items"].size(), 5u);
  EXPECT_EQ(json::parse(get("/items")->body)["items"].size(), 6u);
}

TEST_F(FrameworkTest, RejectsUnknownFaultKeys) {
  auto r = m_client->Post("/__sandbox/faults", R"({"statuss":500})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("statuss"), std::string::npos);
}

TEST_F(FrameworkTest, ResetClearsStateFaultsAndLog) {
  fault({{"status", 500}});
  get("/items");
  ASSERT_EQ(m_client->Post("/__sandbox/reset", "", "application/json")->status, 200);
  EXPECT_TRUE(m_server->context().faults().empty());
  EXPECT_TRUE(m_server->context().requests().empty());
  EXPECT_TRUE(json::parse(get("/items")->body)["items"].empty());
}

TEST_F(FrameworkTest, ClockAdvances) {
  const auto before = m_server->context().now_ms();
  m_client->Post("/__sandbox/clock", R"({"advance_ms":3600000})", "application/json");
  EXPECT_GE(m_server->context().now_ms() - before, 3600000);
}

// Sends raw bytes on a fresh connection and returns what came back before the server closed it
// or 4 s passed.
std::string raw_exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{4, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

TEST_F(FrameworkTest, BodylessWritesWithoutContentLengthAreAccepted) {
  for (const char* method : {"POST", "PUT"}) {
    const auto started = std::chrono::steady_clock::now();
    const std::string reply =
        raw_exchange(m_server->port(), std::string(method) +
                                           " /items HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Connection: close\r\n\r\n");
    const auto took = std::chrono::steady_clock::now() - started;
    const int expected = std::string(method) == "POST" ? 201 : 204;
    EXPECT_EQ(reply.rfind("HTTP/1.1 " + std::to_string(expected), 0), 0u)
        << method << ": " << reply;
    EXPECT_LT(took, std::chrono::seconds(2)) << method;
  }
  // POST appended an empty item to the five, PUT then emptied the list.
  EXPECT_TRUE(json::parse(get("/items")->body)["items"].empty());
  EXPECT_EQ(m_server->context().request_count("^/items$", "PUT"), 1u);
}

// The system's cpp-httplib answers "br" with Brotli at quality 11 (~100 ms per 60 KB page);
// the fakes answer gzip, or nothing compressed when only br is offered.
TEST_F(FrameworkTest, AnswersGzipNeverBrotli) {
  auto encoding_of = [&](const std::string& accept) {
    const std::string reply = raw_exchange(
        m_server->port(), "GET /text HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: " + accept +
                              "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << accept << ": " << reply.substr(0, 200);
    const std::string head = reply.substr(0, reply.find("\r\n\r\n"));
    const auto at = head.find("Content-Encoding: ");
    return at == std::string::npos ? std::string("none")
                                   : head.substr(at + 18, head.find("\r\n", at) - at - 18);
  };
  EXPECT_EQ(encoding_of("deflate, gzip, br, zstd"), "gzip");
  EXPECT_EQ(encoding_of("BR;q=1.0, gzip;q=0.5"), "gzip");
  EXPECT_EQ(encoding_of("br"), "none");
}

TEST_F(FrameworkTest, UnservedRoutesAnswer404WithAnEmptyBody) {
  for (const char* method : {"GET", "POST", "DELETE"}) {
    httplib::Result r = std::string(method) == "GET" ? m_client->Get("/nowhere")
                        : std::string(method) == "POST"
                            ? m_client->Post("/nowhere", "{}", "application/json")
                            : m_client->Delete("/nowhere");
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 404) << method;
    EXPECT_EQ(r->body, "") << method;
  }
  EXPECT_EQ(m_server->context().request_count("^/nowhere$"), 3u);
}

TEST_F(FrameworkTest, IdleKeepAliveConnectionsDoNotBlockANewOne) {
  // 32 clients each keep their connection open after one request, as a pooled HTTP client
  // does; the 33rd must be served at once, not after a keep-alive timeout (5 s).
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < 32; ++i) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", m_server->port());
    c->set_keep_alive(true);
    c->set_read_timeout(10, 0);
    auto r = c->Get("/items", {{"Authorization", "Bearer good"}});
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 200) << i;
    idle.push_back(std::move(c));
  }
  httplib::Client fresh("127.0.0.1", m_server->port());
  fresh.set_read_timeout(10, 0);
  const auto started = std::chrono::steady_clock::now();
  auto r = fresh.Get("/items", {{"Authorization", "Bearer good"}});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(took, std::chrono::seconds(2));
  // The idle ones are still usable.
  EXPECT_EQ(idle.front()->Get("/items", {{"Authorization", "Bearer good"}})->status, 200);
}

// The media servers answer a path they do not serve with a bare 404, as Plex, Jellyfin, Emby and
// Tautulli do; body-less writes without Content-Length reach the service like any other.
TEST(FrameworkServer, MediaServerFakesAnswerUnservedRoutesWithAnEmpty404) {
  for (const std::string service : {"plex", "jellyfin", "emby", "tautulli"}) {
    auto fake = make_fake(service);
    if (!fake) continue;
    SandboxServer srv(std::move(fake));
    srv.start();
    httplib::Client c("127.0.0.1", srv.port());
    c.set_read_timeout(10, 0);
    for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
      const std::string m = method;
      httplib::Result r = m == "GET"    ? c.Get("/no/such/route")
                          : m == "POST" ? c.Post("/no/such/route", "", "application/json")
                          : m == "PUT"  ? c.Put("/no/such/route", "", "application/json")
                                        : c.Delete("/no/such/route");
      ASSERT_TRUE(r) << service << " " << m;
      EXPECT_EQ(r->status, 404) << service << " " << m;
      EXPECT_EQ(r->body, "") << service << " " << m;
    }
    const std::string reply = raw_exchange(
        srv.port(), "PUT /no/such/route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 404", 0), 0u) << service << ": " << reply;
  }
}

TEST(FrameworkHelpers, IsoRoundTrip) {
  const auto ms = ms_from_iso("2024-01-02T03:04:05.678Z");
  ASSERT_TRUE(ms.has_value());
  EXPECT_EQ(iso_from_ms(*ms), "2024-01-02T03:04:05.678Z");
  EXPECT_EQ(*ms_from_iso("1970-01-01T00:00:01Z"), 1000);
  EXPECT_FALSE(ms_from_iso("yesterday").has_value());
}

TEST(FrameworkServer, TwoServersGetDifferentPortsAndStopCleanly) {
  SandboxServer a(std::make_unique<CounterFake>());
  SandboxServer b(std::make_unique<CounterFake>());
  const int pa = a.start();
  const int pb = b.start();
  EXPECT_NE(pa, pb);
  EXPECT_EQ(a.base_url(), "http://127.0.0.1:" + std::to_string(pa));
  a.stop();
  b.stop();
  EXPECT_FALSE(a.running());
}

}  // namespace
}  // namespace cw::fakes
