// serve::Server on loopback: the page, the API, approve/decline with CSRF, the access rules,
// runs on request, webhooks to a scripted scrobble bridge, an orderly stop mid-run.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cw/serve/server.hpp>
#include <cw/state/run_lock.hpp>
#include <cw/state/state_store.hpp>

namespace cw::serve {
namespace {

std::filesystem::path fresh_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             ("cw-serve-" + std::to_string(getpid()) + "-" + info->name());
  std::filesystem::remove_all(dir);
  return dir;
}

// A state directory with one held deletion (a-to-b/watchlist, tmdb:movie:3 on b).
void seed_state(const std::filesystem::path& dir) {
  auto store = state::StateStore::open(dir, state::OpenMode::read_write);
  ASSERT_TRUE(store.ok()) << store.error().message;
  state::PairFeatureCommit c;
  c.pair = "a-to-b";
  c.feature = "watchlist";
  c.run_id = "r1";
  c.committed_at = 100;
  c.pending_upserts.push_back({"b",
                               "tmdb:movie:3",
                               "mass_delete",
                               150,
                               false,
                               {{"type", "movie"}, {"title", "Three <b>"}, {"year", 2003}}});
  c.unresolved_upserts.push_back(
      {"b", "tmdb:movie:4", "not_found", "no match", 160, 160, 1, nullptr});
  ASSERT_TRUE((*store)->commit(c).ok());
}

class FakeBridge : public ScrobbleBridge {
 public:
  WebhookAnswer accept(const WebhookCall& call) override {
    std::lock_guard lock(mutex);
    calls.push_back(call);
    if (call.query.count("secret") == 0 || call.query.at("secret") != "ok")
      return {401, "bad secret"};
    return {202, "queued"};
  }
  std::int64_t deliver_pending(services::CancelToken&) override {
    ++deliveries;
    return 0;
  }
  nlohmann::json stats() override {
    return {{"sources", {{"plex", {{"received", 1}, {"refused", 0}}}}}, {"queued", 0}};
  }
  nlohmann::json recent(std::size_t) override { return nlohmann::json::array({"plex play"}); }
  nlohmann::json queue(std::size_t) override { return nlohmann::json::array(); }
  std::mutex mutex;
  std::vector<WebhookCall> calls;
  std::atomic<int> deliveries{0};
};

struct Harness {
  explicit Harness(ServerOptions o = {}, ScrobbleBridge* bridge = nullptr) {
    dir = fresh_dir();
    seed_state(dir);
    o.listen = ListenAddress{"127.0.0.1", 0};
    o.state_dir = dir;
    o.config_path = "cw.yaml";
    if (o.pairs.empty()) o.pairs = {"a-to-b"};
    server = std::make_unique<Server>(
        o,
        [this](const std::string& pair) {
          runs.push_back(pair);
          RunOutcome out;
          out.result = RunResult::ok;
          out.report = {{"pairs",
                         {{{"pair", pair},
                           {"feature", "watchlist"},
                           {"status", "ok"},
                           {"planned", {{"adds", 1}}},
                           {"outcomes", {{"confirmed", 1}}}}}}};
          return out;
        },
        [] { return std::int64_t{1'800'000'000}; }, log, cancel, bridge);
    auto p = server->start();
    EXPECT_TRUE(p.ok()) << p.error().message;
    port = p ? *p : 0;
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
  }
  ~Harness() {
    server->stop();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  services::Logger log{services::LogLevel::off, services::LogFormat::text};
  services::FlagCancelToken cancel;
  std::vector<std::string> runs;
  std::unique_ptr<Server> server;
  int port = 0;
  std::unique_ptr<httplib::Client> client;
};

std::vector<state::PendingDeletion> pending(const std::filesystem::path& dir) {
  auto store = state::StateStore::open(dir, state::OpenMode::read_only);
  std::vector<state::PendingDeletion> out;
  if (!store) return out;
  auto rows = (*store)->pending("", "");
  if (rows)
    for (auto& [scope, p] : *rows) out.push_back(p);
  return out;
}

TEST(ServeServer, PageShowsHeldItemsEscaped) {
  Harness h;
  auto res = h.client->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("Three &lt;b&gt; (2003)"), std::string::npos);
  EXPECT_EQ(res->body.find("Three <b>"), std::string::npos);
  EXPECT_NE(res->body.find("name=\"csrf\" value=\"" + h.server->csrf_token() + "\""),
            std::string::npos);
  EXPECT_NE(res->body.find("no match"), std::string::npos);  // the unresolved item's reason
  auto api = h.client->Get("/api/status");
  ASSERT_TRUE(api);
  const auto j = nlohmann::json::parse(api->body);
  ASSERT_EQ(j["pending"].size(), 1u);
  EXPECT_EQ(j["pending"][0]["key"], "tmdb:movie:3");
  EXPECT_EQ(j["held"][0]["kind"], "unresolved");
  EXPECT_EQ(j["csrf_token"], h.server->csrf_token());
  EXPECT_EQ(api->get_header_value("X-Frame-Options"), "DENY");
}

TEST(ServeServer, ApproveNeedsTheCsrfToken) {
  Harness h;
  auto forged = h.client->Post("/pending/approve",
                               "pair=a-to-b&feature=watchlist&key=tmdb%3Amovie%3A3&csrf=guess",
                               "application/x-www-form-urlencoded");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_FALSE(pending(h.dir).at(0).approved);
  auto res = h.client->Post(
      "/pending/approve",
      "pair=a-to-b&feature=watchlist&key=tmdb%3Amovie%3A3&csrf=" + h.server->csrf_token(),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location").rfind("/?msg=approved", 0), 0u);
  EXPECT_TRUE(pending(h.dir).at(0).approved);
  // The page now shows it approved, without buttons.
  auto page = h.client->Get("/");
  EXPECT_NE(page->body.find("<td class=\"pending-state\">approved</td>"), std::string::npos);
}

TEST(ServeServer, DeclineThroughTheJsonApi) {
  Harness h;
  httplib::Headers headers = {{"X-CW-CSRF", h.server->csrf_token()}};
  auto res = h.client->Post("/api/pending/decline", headers,
                            R"({"pair":"a-to-b","feature":"watchlist","key":"tmdb:movie:3"})",
                            "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(pending(h.dir).at(0).declined);
  auto again = h.client->Post("/api/pending/decline", headers,
                              R"({"pair":"a-to-b","feature":"watchlist","key":"tmdb:movie:3"})",
                              "application/json");
  EXPECT_EQ(again->status, 404);
}

TEST(ServeServer, ApproveWhileARunHoldsTheLockIsRefused) {
  Harness h;
  auto lock = state::RunLock::acquire(h.dir);
  ASSERT_TRUE(lock.ok());
  auto res = h.client->Post(
      "/pending/approve",
      "pair=a-to-b&feature=watchlist&key=tmdb%3Amovie%3A3&csrf=" + h.server->csrf_token(),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  lock->release();
  EXPECT_FALSE(pending(h.dir).at(0).approved);
}

TEST(ServeServer, ForeignHostHeaderIsRefused) {
  Harness h;
  auto res = h.client->Get("/", {{"Host", "rebound.example:8787"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
}

TEST(ServeServer, TokenProtectsEverythingButWebhooksAndHealth) {
  ServerOptions o;
  o.access.token = "s3cret";
  Harness h(o);
  EXPECT_EQ(h.client->Get("/")->status, 401);
  EXPECT_EQ(h.client->Get("/metrics")->status, 401);
  EXPECT_EQ(h.client->Get("/healthz")->status, 200);
  EXPECT_EQ(h.client->Get("/", {{"Authorization", "Bearer s3cret"}})->status, 200);
  // Not configured: 404, but not 401 (webhooks carry their own secrets).
  EXPECT_EQ(h.client->Post("/webhook/plex", "{}", "application/json")->status, 404);
  // The token is never part of a page or reply.
  auto api = h.client->Get("/api/status", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(api->body.find("s3cret"), std::string::npos);
}

TEST(ServeServer, RunNowRunsThePairAndCountsIt) {
  Harness h;
  httplib::Headers headers = {{"X-CW-CSRF", h.server->csrf_token()}};
  EXPECT_EQ(h.client->Post("/api/run", headers, R"({"pair":"nope"})", "application/json")->status,
            404);
  auto res = h.client->Post("/api/run", headers, R"({"pair":"a-to-b"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  h.server->wait_idle();
  ASSERT_EQ(h.runs, std::vector<std::string>{"a-to-b"});
  auto metrics = h.client->Get("/metrics");
  EXPECT_NE(
      metrics->body.find("cw_runs_total{pair=\"a-to-b\",feature=\"watchlist\",status=\"ok\"} 1"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(
      metrics->body.find("cw_held_items{pair=\"a-to-b\",feature=\"watchlist\",kind=\"pending\"} 1"),
      std::string::npos);
  auto status = nlohmann::json::parse(h.client->Get("/api/status")->body);
  EXPECT_EQ(status["schedule"]["a-to-b"]["last_result"], "ok");
}

TEST(ServeServer, WebhooksGoToTheBridgeWithLimits) {
  FakeBridge bridge;
  ServerOptions o;
  o.webhook_rate = 0.001;  // effectively no refill within the test
  o.webhook_burst = 3;
  o.max_body_bytes = 1024;
  Harness h(o, &bridge);
  EXPECT_EQ(h.client->Post("/webhook/jellyfin?secret=ok", R"({"Event":"Stop"})", "application/json")
                ->status,
            202);
  EXPECT_EQ(h.client->Post("/webhook/jellyfin?secret=no", "{}", "application/json")->status, 401);
  // Plex posts multipart; the bridge gets the parts back in one body.
  httplib::MultipartFormDataItems items = {{"payload", R"({"event":"media.scrobble"})", "", ""}};
  EXPECT_EQ(h.client->Post("/webhook/plex?secret=ok", items)->status, 202);
  {
    std::lock_guard lock(bridge.mutex);
    ASSERT_EQ(bridge.calls.size(), 3u);
    EXPECT_EQ(bridge.calls[2].source, "plex");
    EXPECT_EQ(bridge.calls[2].content_type.rfind("multipart/form-data; boundary=", 0), 0u);
    EXPECT_NE(bridge.calls[2].body.find(R"({"event":"media.scrobble"})"), std::string::npos);
  }
  // The jellyfin bucket (3) is spent after two; the fourth is refused before the bridge.
  EXPECT_EQ(h.client->Post("/webhook/jellyfin?secret=ok", "{}", "application/json")->status, 202);
  auto limited = h.client->Post("/webhook/jellyfin?secret=ok", "{}", "application/json");
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  // Over the size limit: refused by the server, never seen by the bridge.
  const std::size_t before = bridge.calls.size();
  EXPECT_EQ(
      h.client->Post("/webhook/emby?secret=ok", std::string(4096, 'x'), "application/json")->status,
      413);
  EXPECT_EQ(bridge.calls.size(), before);
  auto page = h.client->Get("/");
  EXPECT_NE(page->body.find("plex play"), std::string::npos);
}

TEST(ServeServer, StopLetsTheRunInFlightFinish) {
  std::mutex m;
  std::condition_variable cv;
  bool started = false, finished = false;
  services::Logger log{services::LogLevel::off, services::LogFormat::text};
  services::FlagCancelToken cancel;
  const auto dir = fresh_dir();
  seed_state(dir);
  ServerOptions o;
  o.listen = ListenAddress{"127.0.0.1", 0};
  o.state_dir = dir;
  o.pairs = {"a-to-b"};
  Server server(
      o,
      [&](const std::string&) {
        std::unique_lock lock(m);
        started = true;
        cv.notify_all();
        // The run sees the cancel token (as SyncRunner does between chunks) and commits.
        cv.wait(lock, [&] { return cancel.cancelled(); });
        finished = true;
        RunOutcome out;
        out.result = RunResult::cancelled;
        out.report = {{"pairs", nlohmann::json::array()}};
        return out;
      },
      [] { return std::int64_t{1'800'000'000}; }, log, cancel);
  ASSERT_TRUE(server.start().ok());
  server.request_run("a-to-b");
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return started; });
    cancel.cancel();  // what SIGTERM does
    cv.notify_all();
  }
  server.stop();
  EXPECT_TRUE(finished);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cw::serve
