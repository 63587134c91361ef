// The framework on its own: a tiny counter service exercises control routes, the request log
// and each kind of fault.
#include <atomic>

#include <gtest/gtest.h>

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
      m_items.push_back(json::parse(req.body));
      send_json(res, {{"added", 1}}, 201);
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
