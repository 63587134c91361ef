// cwsdk/testing/mock_host.hpp: the mock host behaves as the ABI says the host does, and
// PluginInstance drives a plugin through its table (ABI 1.1 operations included).
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>
#include <cwsdk/testing/mock_host.hpp>

namespace {

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::PluginInstance;

cwsdk::HttpResult raw_http(const MockHost& mock, const Json& request) {
  return mock.host().http(request.dump());
}

TEST(MockHost, RoutesMatchMethodPathGlobsAndQueries) {
  MockHost mock;
  mock.on("get", "/users/*/watchlist").reply(200, "a");
  mock.on("GET", "/library/**").reply(200, "b");
  mock.on("POST", "https://other.example/x").reply(201, "c");
  mock.on("*", "/q").with_query("page", "2").reply(200, "d");
  auto get = [&](const char* method, const char* url, Json query = nullptr) {
    Json req{{"method", method}, {"url", url}};
    if (!query.is_null()) req["query"] = query;
    return raw_http(mock, req);
  };
  EXPECT_EQ(get("GET", "https://api.example/users/me/watchlist").body, "a");
  EXPECT_EQ(get("GET", "https://api.example/users/me/x/watchlist").status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(get("GET", "https://api.example/library/sections/1/all").body, "b");
  EXPECT_EQ(get("POST", "https://other.example/x").body, "c");
  EXPECT_EQ(get("POST", "https://api.example/x").status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(get("PUT", "https://api.example/q", Json::parse(R"([["page",2]])")).body, "d");
  EXPECT_EQ(get("PUT", "https://api.example/q", Json{{"page", "1"}}).status, CW_STATUS_TRANSIENT);
  const auto unmatched = mock.unmatched();
  ASSERT_EQ(unmatched.size(), 3u);
  EXPECT_EQ(unmatched[0].path, "/users/me/x/watchlist");
  EXPECT_EQ(mock.requests().size(), 4u);
}

TEST(MockHost, RepliesInOrderTheLastOneRepeats) {
  MockHost mock;
  auto& route = mock.on("GET", "/x")
                    .reply(503)
                    .times(2)
                    .reply(429, "", {{"Retry-After", "1"}})
                    .reply(200, "ok");
  std::vector<int> statuses;
  for (int i = 0; i < 6; ++i) {
    auto r = raw_http(mock, {{"url", "https://a.example/x"}});
    statuses.push_back(Json::parse(r.meta)["status"]);
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 429, 200, 200, 200}));
  EXPECT_EQ(route.hits(), 6);
}

TEST(MockHost, MetaBodyChunksTruncationAndTransportErrors) {
  MockHost mock;
  const std::string big(10000, 'x');
  mock.on("GET", "/big").reply(200, big, {{"X-Twice", "a"}, {"x-twice", "b"}});
  mock.on("GET", "/cut").reply(200, "0123456789").truncated(4);
  mock.on("GET", "/budget").transport_error(CW_STATUS_RATE_LIMITED, "budget spent", 900);
  auto r = raw_http(mock, {{"url", "https://a.example/big"}});
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(r.body, big);
  const Json meta = Json::parse(r.meta);
  EXPECT_EQ(meta["status"], 200);
  EXPECT_EQ(meta["headers"]["x-twice"], "a, b");
  EXPECT_EQ(meta["attempts"], 1);
  EXPECT_EQ(raw_http(mock, {{"url", "https://a.example/cut"}}).body, "0123");
  auto budget = raw_http(mock, {{"url", "https://a.example/budget"}});
  EXPECT_EQ(budget.status, CW_STATUS_RATE_LIMITED);
  EXPECT_EQ(Json::parse(budget.meta),
            Json::parse(R"({"message":"budget spent","retry_after_ms":900})"));
}

TEST(MockHost, RefusesMalformedRequestsAsTheHostDoes) {
  MockHost mock;
  mock.on("*", "**").reply(200);
  for (const std::string bad :
       {"not json", "[]", R"({"url":"/relative"})", R"({"url":5})",
        R"({"method":"G T","url":"https://a.example/"})",
        R"({"method":7,"url":"https://a.example/"})", R"({"url":"ftp://a.example/"})"}) {
    const auto r = mock.host().http(bad);
    EXPECT_EQ(r.status, CW_STATUS_INVALID_ARG) << bad;
    EXPECT_TRUE(Json::parse(r.meta).contains("message")) << bad;
  }
  EXPECT_TRUE(mock.requests().empty());
}

TEST(MockHost, HandlersSeeTheRecordedRequest) {
  MockHost mock;
  mock.on("POST", "/sync").handle([](const cwsdk::testing::RecordedRequest& r) {
    const Json body = r.json_body();
    return cwsdk::testing::MockReply::json(201, {{"added", body["movies"].size()}});
  });
  auto r = raw_http(mock, {{"method", "post"},
                           {"url", "https://a.example/sync?x=1"},
                           {"headers", {{"X-N", 5}}},
                           {"body", Json{{"movies", {1, 2, 3}}}.dump()},
                           {"retry_safe", true}});
  EXPECT_EQ(Json::parse(r.body)["added"], 3);
  const auto sent = mock.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://a.example/sync");
  EXPECT_EQ(sent.header("x-n"), "5");
  EXPECT_FALSE(sent.read);
  EXPECT_TRUE(sent.retry_safe);
  EXPECT_EQ(sent.endpoint, "/sync");
}

TEST(MockHost, ClockLatencyCancellationKvSecretsAndLogs) {
  MockHost mock;
  const cwsdk::Host host = mock.host();
  EXPECT_EQ(host.now_ms(), 1767225600000);
  mock.advance_ms(500);
  EXPECT_EQ(host.now_ms(), 1767225600500);
  mock.set_http_latency_ms(100);
  mock.on("GET", "/x").reply(200);
  host.http(Json{{"url", "https://a.example/x"}}.dump());
  EXPECT_EQ(host.now_ms(), 1767225600600);

  EXPECT_FALSE(host.cancelled());
  mock.cancel_after_requests(2);
  host.http(Json{{"url", "https://a.example/x"}}.dump());
  EXPECT_FALSE(host.cancelled());
  host.http(Json{{"url", "https://a.example/x"}}.dump());
  EXPECT_TRUE(host.cancelled());
  mock.cancel(true);
  EXPECT_TRUE(host.cancelled());

  EXPECT_FALSE(host.kv_get("wm"));
  EXPECT_EQ(host.kv_put("wm", "1"), CW_STATUS_OK);
  EXPECT_EQ(host.kv_get("wm"), "1");
  EXPECT_EQ(host.kv_put("wm", ""), CW_STATUS_OK);  // zero length deletes
  EXPECT_FALSE(mock.kv("wm"));
  EXPECT_EQ(host.kv_put("", "x"), CW_STATUS_INVALID_ARG);
  mock.set_dry_run(true);
  EXPECT_EQ(host.kv_put("wm", "2"), CW_STATUS_OK);
  EXPECT_FALSE(mock.kv("wm"));  // a dry run stores nothing

  EXPECT_FALSE(host.secret("api_key"));
  mock.set_secret("api_key", "k");
  EXPECT_EQ(host.secret("api_key"), "k");
  EXPECT_EQ(host.put_secret("token", "{}"), CW_STATUS_OK);
  EXPECT_EQ(mock.secret("token"), "{}");

  host.warn("page 3 was short");
  EXPECT_TRUE(mock.logged("was short"));
  EXPECT_EQ(mock.logs()[0].level, CW_LOG_WARN);
}

TEST(MockHost, ServicesAreSafeFromManyThreads) {
  MockHost mock;
  mock.on("GET", "/x").reply(200, "ok");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&mock] {
      const cwsdk::Host host = mock.host();
      for (int i = 0; i < 50; ++i) {
        host.http(Json{{"url", "https://a.example/x"}}.dump());
        host.kv_put("k", std::to_string(i));
        host.info("line");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mock.requests().size(), 200u);
  EXPECT_EQ(mock.logs().size(), 200u);
}

// A small plugin on the kit, with the ABI 1.1 operations.
class KitPlugin {
 public:
  static const char* manifest() { return R"({"name":"kit"})"; }
  KitPlugin(cwsdk::Host host, std::string_view config) : m_host(host), m_api(host, "") {
    auto doc = cwsdk::parse_json(config, "configuration");
    if (!doc) throw cwsdk::Error(CW_STATUS_INVALID_ARG, doc.error().message);
    m_api = cwsdk::http::Client(host, cwsdk::get_or(*doc, "url", ""));
    const auto key = host.secret("api_key");
    if (!key) throw cwsdk::Error(CW_STATUS_INVALID_ARG, "api_key: no secret configured");
    m_api.header("X-Api-Key", *key);
  }
  cwsdk::Reply health(std::string_view request) {
    if (auto st = cwsdk::read_health_request(request); !st) return st.error().reply();
    auto me = m_api.json(cwsdk::http::Request::get("/me"));
    if (!me) return cwsdk::HealthReply::from_failure(me.error()).reply();
    return cwsdk::HealthReply(cwsdk::HealthStatus::ok, "hello " + cwsdk::get_or(*me, "name", "?"))
        .feature("watchlist", true)
        .reply();
  }
  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    auto req = cwsdk::read_index_request(request, {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
    const cwsdk::Completeness c = cwsdk::Pager::page_numbers(2).run(
        m_host, [&](const cwsdk::PageRequest& p) -> cwsdk::Result<cwsdk::Page> {
          auto reply = m_api.fetch(cwsdk::http::Request::get("/watchlist").query("page", p.number));
          if (!reply) return reply.error();
          auto doc = reply->json();
          if (!doc) return doc.error();
          auto items = cwsdk::get_array(*doc, "/items");
          if (!items) return items.error().context("GET /watchlist reply");
          for (const Json& e : **items) {
            cwsdk::Item it = cwsdk::make_movie(cwsdk::get_or(e, "title", ""));
            it.ids = cwsdk::Ids::from_json(cwsdk::get_or(e, "ids", Json::object()));
            if (auto st = index.add(it); !st) m_host.warn(st.error().message);
          }
          return cwsdk::pagination_headers(*reply, static_cast<std::int64_t>((*items)->size()));
        });
    if (c.failure && index.received() == 0) return index.fail(*c.failure);
    return index.finish(c);
  }
  cwsdk::Reply add(std::string_view request) {
    auto req = cwsdk::read_write_request(request, "add", {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::BatchMapper batch;
    Json movies = Json::array();
    for (const auto& it : req->items) {
      batch.sent(it, "movies");
      movies.push_back({{"ids", it.ids.to_json()}});
    }
    cwsdk::Outcomes outcomes;
    auto reply = m_api.json(cwsdk::http::Request::post("/watchlist").json({{"movies", movies}}));
    if (!reply) {
      if (reply.error().status == CW_STATUS_AUTH) return reply.error().reply();
      outcomes.fail_all(req->items, reply.error());
    } else if (auto st = batch.map(*reply, cwsdk::BatchShape::added(), outcomes); !st) {
      m_host.warn(st.error().message);
    }
    return outcomes.reply(*req);
  }
  cwsdk::Reply remove(std::string_view request) {
    auto req = cwsdk::read_write_request(request, "remove", {"watchlist"});
    if (!req) return req.error().reply();
    return cwsdk::Outcomes().reply(*req);
  }
  cwsdk::Reply lookup(std::string_view request) {
    auto req = cwsdk::read_lookup_request(request, {"watchlist"});
    if (!req) return req.error().reply();
    cwsdk::LookupReply r;
    for (const auto& it : req->items) r.absent(it.key);
    return r.reply();
  }
  cwsdk::Reply resolve_ids(std::string_view request) {
    auto req = cwsdk::read_resolve_request(request);
    if (!req) return req.error().reply();
    cwsdk::ResolveReply r;
    for (const auto& it : req->items) r.resolved(it.key, it.ids, 3600);
    return r.reply();
  }

 private:
  cwsdk::Host m_host;
  cwsdk::http::Client m_api;
};

TEST(PluginInstance, TheTableHasTheAbi11OperationsOnlyWhenTheClassDoes) {
  const cw_provider_api* api = cwsdk::detail::provider_table<KitPlugin>();
  EXPECT_NE(api->lookup, nullptr);
  EXPECT_NE(api->resolve_ids, nullptr);
  EXPECT_EQ(api->update, nullptr);
  EXPECT_EQ(api->abi_minor, CWSDK_VERSION_MINOR);
  EXPECT_TRUE(CWSDK_HAS_FIELD(api, cw_provider_api, resolve_ids));
}

TEST(PluginInstance, CreateFailsWithTheReason) {
  MockHost mock;
  PluginInstance p(cwsdk::detail::provider_table<KitPlugin>(), mock,
                   {{"url", "https://api.example"}});
  EXPECT_FALSE(p.created());
  EXPECT_EQ(p.create_error(), "api_key: no secret configured");
  EXPECT_EQ(p.health().status, CW_STATUS_UNSUPPORTED);
}

class KitPluginTest : public ::testing::Test {
 protected:
  MockHost mock;
  void SetUp() override { mock.set_secret("api_key", "k-1"); }
  PluginInstance make() {
    return PluginInstance(cwsdk::detail::provider_table<KitPlugin>(), mock,
                          {{"url", "https://api.example"}});
  }
};

TEST_F(KitPluginTest, HealthIndexAndWritesEndToEnd) {
  mock.on("GET", "/me").reply_json(200, {{"name", "alice"}});
  mock.on("GET", "/watchlist")
      .with_query("page", "1")
      .reply_json(200,
                  {{"items",
                    {{{"title", "A"}, {"ids", {{"tmdb", 1}}}},
                     {{"title", "B"}, {"ids", {{"imdb", "tt2"}}}}}}},
                  {{"X-Pagination-Page-Count", "2"}, {"X-Pagination-Item-Count", "3"}});
  mock.on("GET", "/watchlist")
      .with_query("page", "2")
      .reply_json(200, {{"items", {{{"title", "C"}, {"ids", {{"tvdb", "x"}}}}}}},
                  {{"X-Pagination-Page-Count", "2"}, {"X-Pagination-Item-Count", "3"}});
  mock.on("POST", "/watchlist")
      .reply_json(200, {{"added", {{"movies", 1}}},
                        {"not_found", {{"movies", {{{"ids", {{"tmdb", "2"}}}}}}}}});
  PluginInstance p = make();
  ASSERT_TRUE(p.created()) << p.create_error();
  const auto health = p.health();
  EXPECT_EQ(health.json()["message"], "hello alice");
  const auto index = p.build_index("watchlist");
  ASSERT_EQ(index.status, CW_STATUS_OK) << index.body;
  const Json doc = index.json();
  EXPECT_EQ(doc["items"].size(), 3u);
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["expected_total"], 3);
  EXPECT_EQ(mock.requests()[1].header("x-api-key"), "k-1");
  const auto added =
      p.add("watchlist", Json::parse(R"([{"type":"movie","key":"k1","ids":{"tmdb":1}},
                                                          {"type":"movie","key":"k2","ids":{"tmdb":2}}])"));
  const Json outcomes = added.json()["outcomes"];
  EXPECT_EQ(outcomes[0]["status"], "unresolved");
  EXPECT_EQ(outcomes[0]["key"], "k2");
  EXPECT_EQ(outcomes[1]["key"], "k1");
  EXPECT_EQ(outcomes[1]["status"], "confirmed");
  EXPECT_EQ(p.lookup("watchlist", Json::parse(R"([{"type":"movie","key":"k1"}])"))
                .json()["results"][0]["present"],
            false);
  const auto resolved = p.call(
      "resolve_ids", Json::parse(R"({"items":[{"key":"k","type":"movie","ids":{"imdb":"TT1"}}]})"));
  EXPECT_EQ(resolved.json()["results"][0]["ids"]["imdb"], "tt1");
}

TEST_F(KitPluginTest, FaultsGiveTheRightStatusAndNeverAFalseComplete) {
  mock.on("GET", "/me").reply(401);
  mock.on("GET", "/watchlist")
      .with_query("page", "1")
      .reply_json(200, {{"items", {{{"title", "A"}}, {{"title", "B"}}}}},
                  {{"X-Pagination-Page-Count", "2"}});
  mock.on("GET", "/watchlist")
      .with_query("page", "2")
      .reply_json(200, {{"items", {1}}})
      .truncated(5);
  mock.on("POST", "/watchlist").reply(420);
  PluginInstance p = make();
  EXPECT_EQ(p.health().json()["status"], "auth_failed");
  const auto index = p.build_index("watchlist");
  ASSERT_EQ(index.status, CW_STATUS_OK);
  EXPECT_EQ(index.json()["complete"], false);
  EXPECT_EQ(index.json()["received"], 2);
  const auto added = p.add("watchlist", Json::parse(R"([{"type":"movie","key":"k1"}])"));
  EXPECT_EQ(added.json()["outcomes"][0]["reason"], "quota");
}

TEST_F(KitPluginTest, MalformedRequestsAreInvalidArgAndNeverACrash) {
  PluginInstance p = make();
  for (const char* op : {"health", "build_index", "add", "remove", "lookup", "resolve_ids"}) {
    for (const char* bad : {"", "{", "[]", "null", "42", R"({"feature":null,"items":null})"}) {
      const auto r = p.call_raw(op, bad);
      if (std::string(op) == "health" && std::string(bad).rfind("{\"feature", 0) == 0) {
        EXPECT_EQ(r.status, CW_STATUS_OK);  // health ignores members it does not know
        continue;
      }
      EXPECT_EQ(r.status, CW_STATUS_INVALID_ARG) << op << " " << bad << " -> " << r.body;
      EXPECT_FALSE(r.message().empty());
    }
  }
  EXPECT_EQ(p.build_index("history").status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(p.call("update", Json::object()).status, CW_STATUS_UNSUPPORTED);
}

}  // namespace
