// cwsdk/support/encoding.hpp and http.hpp, through the mock host: request documents, the
// status mapping, Retry-After, truncated bodies, transport failures and refresh on 401.
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/support/http.hpp>
#include <cwsdk/testing/mock_host.hpp>

namespace {

using cwsdk::Json;
using cwsdk::http::Request;
using cwsdk::testing::MockHost;

TEST(Encoding, UrlEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(cwsdk::url_encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(cwsdk::url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(cwsdk::url_encode("é"), "%C3%A9");
  EXPECT_EQ(*cwsdk::url_decode("a%20b%2fc+d"), "a b/c+d");
  EXPECT_FALSE(cwsdk::url_decode("50%"));
  EXPECT_FALSE(cwsdk::url_decode("%G1"));
  EXPECT_FALSE(cwsdk::url_decode("%4"));
}

TEST(Encoding, Base64Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(cwsdk::base64_encode(plain), coded);
    EXPECT_EQ(*cwsdk::base64_decode(coded), plain);
  }
  EXPECT_EQ(*cwsdk::base64_decode("Zm9vYg"), "foob");                   // padding optional
  EXPECT_EQ(*cwsdk::base64_decode("-_8"), std::string("\xfb\xff", 2));  // URL-safe alphabet
  EXPECT_EQ(cwsdk::base64_encode(std::string("\0\xff", 2)), "AP8=");
  EXPECT_FALSE(cwsdk::base64_decode("Zm9v!"));
  EXPECT_FALSE(cwsdk::base64_decode("Z"));
}

TEST(HttpRequest, DocumentWithTemplateQueryHeadersAndJsonBody) {
  const Request r = Request::post("/users/{user}/lists/{list}/items")
                        .path_param("user", "a b/c")
                        .path_param("list", 42)
                        .query("type", "movies")
                        .query("limit", 100)
                        .query("extended", true)
                        .header("trakt-api-version", "2")
                        .json(Json{{"movies", Json::array()}})
                        .retry_safe(true)
                        .timeout_ms(5000);
  auto doc = r.document("https://api.example/");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ((*doc)["method"], "POST");
  EXPECT_EQ((*doc)["url"], "https://api.example/users/a%20b%2Fc/lists/42/items");
  EXPECT_EQ((*doc)["query"], Json::parse(R"({"type":"movies","limit":100,"extended":true})"));
  EXPECT_EQ((*doc)["headers"]["Content-Type"], "application/json");
  EXPECT_EQ((*doc)["body"], R"({"movies":[]})");
  EXPECT_EQ((*doc)["endpoint"], "/users/:user/lists/:list/items");
  EXPECT_EQ((*doc)["retry_safe"], true);
  EXPECT_EQ((*doc)["timeout_ms"], 5000);
  EXPECT_FALSE(doc->contains("read"));
  EXPECT_EQ(r.describe(), "POST /users/:user/lists/:list/items");
}

TEST(HttpRequest, RepeatedQueryNamesAbsoluteUrlsAndReads) {
  const Request r = Request::post("https://graphql.anilist.co/")
                        .query("id", 1)
                        .query("id", 2)
                        .read(true)
                        .endpoint("/graphql");
  auto doc = r.document("https://ignored.example");
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["url"], "https://graphql.anilist.co/");
  EXPECT_EQ((*doc)["query"], Json::parse(R"([["id",1],["id",2]])"));
  EXPECT_EQ((*doc)["read"], true);
  EXPECT_EQ((*doc)["endpoint"], "/graphql");
  EXPECT_EQ(Request::get("http://h:8096/Users/{id}/Items?x=1").endpoint(), "/Users/:id/Items");
}

TEST(HttpRequest, UnfilledPlaceholdersAndRelativeUrlsArePluginBugs) {
  auto missing = Request::get("/users/{user}").document("https://api.example");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().status, CW_STATUS_INTERNAL);
  EXPECT_EQ(missing.error().message, "GET /users/:user: no value for {user} (path_param)");
  auto unclosed = Request::get("/users/{user").document("https://api.example");
  ASSERT_FALSE(unclosed);
  auto relative = Request::get("/users").document();
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("not absolute"), std::string::npos);
}

TEST(HttpStatus, TheStandardMapping) {
  struct Case {
    int http;
    cw_status status;
    cwsdk::Reason reason;
  };
  for (const Case& c : {Case{301, CW_STATUS_INTERNAL, cwsdk::Reason::unknown},
                        Case{400, CW_STATUS_INTERNAL, cwsdk::Reason::rejected},
                        Case{401, CW_STATUS_AUTH, cwsdk::Reason::rejected},
                        Case{403, CW_STATUS_AUTH, cwsdk::Reason::rejected},
                        Case{404, CW_STATUS_NOT_FOUND, cwsdk::Reason::not_found},
                        Case{408, CW_STATUS_TRANSIENT, cwsdk::Reason::unknown},
                        Case{409, CW_STATUS_INTERNAL, cwsdk::Reason::rejected},
                        Case{410, CW_STATUS_NOT_FOUND, cwsdk::Reason::not_found},
                        Case{420, CW_STATUS_RATE_LIMITED, cwsdk::Reason::quota},
                        Case{422, CW_STATUS_INTERNAL, cwsdk::Reason::rejected},
                        Case{429, CW_STATUS_RATE_LIMITED, cwsdk::Reason::rate_limited},
                        Case{500, CW_STATUS_TRANSIENT, cwsdk::Reason::unknown},
                        Case{503, CW_STATUS_TRANSIENT, cwsdk::Reason::unknown}}) {
    const cwsdk::Failure f = cwsdk::http::failure_for_status(c.http, "GET /x");
    EXPECT_EQ(f.status, c.status) << c.http;
    EXPECT_EQ(f.reason, c.reason) << c.http;
    EXPECT_EQ(f.http_status, c.http);
    EXPECT_EQ(f.message.rfind("GET /x: HTTP " + std::to_string(c.http), 0), 0u) << f.message;
  }
}

class HttpTest : public ::testing::Test {
 protected:
  MockHost mock;
  cwsdk::http::Client api{mock.host(), "https://api.example"};
};

TEST_F(HttpTest, ASuccessfulJsonReply) {
  mock.on("GET", "/users/*/watchlist")
      .reply_json(200, {{"items", {1, 2}}}, {{"X-Pagination-Page-Count", "3"}});
  api.header("x-api-key", "k-1");
  auto reply =
      api.fetch(Request::get("/users/{u}/watchlist").path_param("u", "me").query("page", 1));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("X-Pagination-Page-Count"), "3");
  EXPECT_EQ(reply->header_int("x-pagination-page-count"), 3);
  EXPECT_EQ((*reply->json())["items"][1], 2);
  const auto sent = mock.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].header("X-API-KEY"), "k-1");
  EXPECT_EQ(sent[0].query_value("page"), "1");
  EXPECT_EQ(sent[0].endpoint, "/users/:u/watchlist");
  EXPECT_TRUE(sent[0].read);
}

TEST_F(HttpTest, RateLimitedWithRetryAfterSecondsOrADate) {
  mock.on("GET", "/a").reply(429, "", {{"Retry-After", "7"}});
  mock.on("GET", "/b").reply(429, "", {{"Retry-After", "Thu, 01 Jan 2026 00:00:30 GMT"}});
  mock.on("GET", "/c").reply(429, "", {{"Retry-After", "soon"}});
  auto a = api.json(Request::get("/a"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().status, CW_STATUS_RATE_LIMITED);
  EXPECT_EQ(a.error().retry_after_ms, 7000);
  EXPECT_EQ(a.error().message, "GET /a: HTTP 429 Too Many Requests");
  auto b = api.json(Request::get("/b"));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().retry_after_ms, 30000);  // the mock's clock is 2026-01-01T00:00:00Z
  auto c = api.json(Request::get("/c"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().retry_after_ms, -1);
}

TEST_F(HttpTest, ServiceErrorsCarryTheServicesOwnMessage_NeverTheQuery) {
  mock.on("GET", "/x")
      .reply_json(401, {{"error", "invalid_token"}, {"error_description", "The token\nexpired"}});
  mock.on("GET", "/y").reply_json(404, {{"errors", {{{"message", "Not Found."}}}}});
  mock.on("GET", "/z").reply(503, "<html>busy</html>");
  auto x = api.json(Request::get("/x").query("apikey", "SECRET123"));
  ASSERT_FALSE(x);
  EXPECT_EQ(x.error().status, CW_STATUS_AUTH);
  EXPECT_EQ(x.error().message, "GET /x: HTTP 401 Unauthorized (The token expired)");
  EXPECT_EQ(x.error().message.find("SECRET123"), std::string::npos);
  auto y = api.json(Request::get("/y"));
  ASSERT_FALSE(y);
  EXPECT_EQ(y.error().status, CW_STATUS_NOT_FOUND);
  EXPECT_EQ(y.error().message, "GET /y: HTTP 404 Not Found (Not Found.)");
  auto z = api.json(Request::get("/z"));
  ASSERT_FALSE(z);
  EXPECT_EQ(z.error().status, CW_STATUS_TRANSIENT);
  // send() itself returns every HTTP status as a Response.
  auto raw = api.send(Request::get("/z"));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 503);
}

TEST_F(HttpTest, TruncatedAndMalformedBodiesAreClearErrors) {
  mock.on("GET", "/cut").reply_json(200, {{"items", {1, 2, 3}}, {"more", "x"}}).truncated(12);
  mock.on("GET", "/html").reply(200, "<html>maintenance</html>");
  auto cut = api.json(Request::get("/cut"));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().status, CW_STATUS_INTERNAL);
  EXPECT_NE(cut.error().message.find("GET /cut reply (HTTP 200): malformed JSON at byte"),
            std::string::npos)
      << cut.error().message;
  auto html = api.json(Request::get("/html"));
  ASSERT_FALSE(html);
  EXPECT_NE(html.error().message.find("malformed JSON"), std::string::npos);
}

TEST_F(HttpTest, TransportFailuresPassThroughWithTheHostsRetryAfter) {
  mock.on("GET", "/budget").transport_error(CW_STATUS_RATE_LIMITED, "budget spent", 45000);
  mock.on("GET", "/down").transport_error(CW_STATUS_TRANSIENT, "connection refused");
  mock.on("GET", "/stop").transport_error(CW_STATUS_CANCELLED, "cancelled");
  mock.on("GET", "/odd").transport_error(CW_STATUS_AUTH, "odd");
  auto budget = api.send(Request::get("/budget"));
  ASSERT_FALSE(budget);
  EXPECT_EQ(budget.error().status, CW_STATUS_RATE_LIMITED);
  EXPECT_EQ(budget.error().retry_after_ms, 45000);
  EXPECT_EQ(budget.error().message, "GET /budget: budget spent");
  EXPECT_EQ(api.send(Request::get("/down")).error().status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(api.send(Request::get("/stop")).error().status, CW_STATUS_CANCELLED);
  EXPECT_EQ(api.send(Request::get("/odd")).error().status, CW_STATUS_INTERNAL);
  // The host refusing a malformed request is the plugin's bug.
  auto bad = cwsdk::http::send(mock.host(), Request("G E T", "https://api.example/x"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, CW_STATUS_INTERNAL);
  EXPECT_NE(bad.error().message.find("the host refused the request as malformed"),
            std::string::npos);
}

TEST_F(HttpTest, DryRunRefusesWritesNotMarkedAsReads) {
  mock.set_dry_run(true);
  mock.on("*", "/graphql").reply_json(200, {{"data", nullptr}});
  auto write = api.send(Request::post("/graphql").json({{"query", "mutation"}}));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().status, CW_STATUS_UNSUPPORTED);
  auto read = api.send(Request::post("/graphql").json({{"query", "query"}}).read(true));
  EXPECT_TRUE(read);
}

// A token that refreshes after a 401, once.
class CountingAuth : public cwsdk::http::Authenticator {
 public:
  std::string token = "old";
  int refreshes = 0;
  bool refuse = false;
  cwsdk::Status authorize(Request& r) override {
    r.header("Authorization", "Bearer " + token);
    return {};
  }
  cwsdk::Status refresh() override {
    ++refreshes;
    if (refuse) return cwsdk::Failure::of(CW_STATUS_INTERNAL, "refresh refused");
    token = "new";
    return {};
  }
};

TEST_F(HttpTest, A401IsRefreshedOnceAndRepeatedOnce) {
  CountingAuth auth;
  api.authenticator(&auth);
  mock.on("GET", "/me")
      .when([](const cwsdk::testing::RecordedRequest& r) {
        return r.header("authorization") == "Bearer old";
      })
      .reply(401);
  mock.on("GET", "/me").reply_json(200, {{"user", "alice"}});
  auto me = api.json(Request::get("/me"));
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ((*me)["user"], "alice");
  EXPECT_EQ(auth.refreshes, 1);
  EXPECT_EQ(mock.requests().size(), 2u);
}

TEST_F(HttpTest, AStill401AfterRefreshOrARefusedRefreshIsAuth) {
  CountingAuth auth;
  api.authenticator(&auth);
  mock.on("GET", "/me").reply(401);
  auto me = api.json(Request::get("/me"));
  ASSERT_FALSE(me);
  EXPECT_EQ(me.error().status, CW_STATUS_AUTH);
  EXPECT_EQ(auth.refreshes, 1);  // no loop
  EXPECT_EQ(mock.requests().size(), 2u);
  CountingAuth refusing;
  refusing.refuse = true;
  api.authenticator(&refusing);
  auto again = api.json(Request::get("/me"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, CW_STATUS_AUTH);
  EXPECT_EQ(again.error().message, "refresh refused");
  EXPECT_EQ(mock.requests().size(), 3u);
}

TEST_F(HttpTest, RequestHeadersWinOverClientDefaults) {
  mock.on("GET", "/h").reply(204);
  api.header("Accept", "application/json").header("X-Plex-Token", "t");
  auto r = api.fetch(Request::get("/h").header("accept", "text/xml"));
  ASSERT_TRUE(r);
  const auto sent = mock.requests()[0];
  EXPECT_EQ(sent.header("accept"), "text/xml");
  EXPECT_EQ(sent.header("x-plex-token"), "t");
  EXPECT_EQ(sent.headers.size(), 2u);
}

}  // namespace
