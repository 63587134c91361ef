// The ABI request/response documents, endpoint templates, header parsing and options.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cw/config/http_options.hpp>
#include <cw/services/http/accounting.hpp>
#include <cw/services/http/http_json.hpp>
#include <cw/services/http/http_policy.hpp>
#include <cw/services/http/rate_budget.hpp>

namespace cw::services {
namespace {

TEST(HttpJson, ParsesAFullRequest) {
  auto r = parse_http_request(R"({"method":"post","url":"https://api.trakt.tv/sync/history",
    "query":{"page":2,"extended":"full","flag":true},"headers":{"trakt-api-version":"2"},
    "body":"{\"movies\":[]}","timeout_ms":5000,"read":false,"retry_safe":true,
    "endpoint":"/sync/history"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://api.trakt.tv/sync/history");
  ASSERT_EQ(r->query.size(), 3u);
  EXPECT_EQ(r->query[0], (std::pair<std::string, std::string>{"extended", "full"}));
  EXPECT_EQ(r->query[1], (std::pair<std::string, std::string>{"flag", "true"}));
  EXPECT_EQ(r->query[2], (std::pair<std::string, std::string>{"page", "2"}));
  EXPECT_EQ(r->body, R"({"movies":[]})");
  EXPECT_EQ(r->timeout_ms, 5000);
  EXPECT_FALSE(r->read);
  EXPECT_TRUE(r->retry_safe);
  EXPECT_EQ(r->endpoint, "/sync/history");
}

TEST(HttpJson, DefaultsFollowTheMethod) {
  auto get = parse_http_request(R"({"url":"http://127.0.0.1:32400/library/metadata/1234"})");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->method, "GET");
  EXPECT_TRUE(get->read);
  EXPECT_EQ(get->endpoint, "/library/metadata/:id");
  auto post = parse_http_request(R"({"method":"POST","url":"https://graphql.anilist.co"})");
  ASSERT_TRUE(post.ok());
  EXPECT_FALSE(post->read);  // a POST is a write unless the plugin says it is a query
  auto query =
      parse_http_request(R"({"method":"POST","url":"https://graphql.anilist.co","read":true,
    "body":{"query":"{ Viewer { id } }"}})");
  ASSERT_TRUE(query.ok());
  EXPECT_TRUE(query->read);
  EXPECT_EQ(query->body, R"({"query":"{ Viewer { id } }"})");
}

TEST(HttpJson, RepeatedQueryParametersKeepTheirOrder) {
  auto r = parse_http_request(R"({"url":"http://h/x","query":[["id","1"],["id","2"]]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->query.size(), 2u);
  EXPECT_EQ(r->query[1].second, "2");
  EXPECT_EQ(full_url(*r), "http://h/x?id=1&id=2");
}

TEST(HttpJson, ErrorsAreOneLineAndNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "expected a JSON object"},
      {R"({"method":"GET"})", "url"},
      {R"({"url":"ftp://x/y"})", "url"},
      {R"({"url":"/relative"})", "url"},
      {R"({"url":"http://h/a b"})", "whitespace"},
      {R"({"url":"http://h/","method":7})", "method"},
      {R"({"url":"http://h/","method":"GE T"})", "method"},
      {R"({"url":"http://h/","headers":"x"})", "headers"},
      {R"({"url":"http://h/","headers":{"a":{}}})", "headers.a"},
      {R"({"url":"http://h/","headers":{"X-Bad":"a\r\nInjected: 1"}})", "headers.X-Bad"},
      {R"({"url":"http://h/","query":{"q":[{}]}})", "query.q"},
      {R"({"url":"http://h/","timeout_ms":-1})", "timeout_ms"},
      {R"({"url":"http://h/","read":"yes"})", "read"},
      {R"({"url":"http://h/","retry_safe":1})", "retry_safe"},
      {R"({"url":"http://h/","endpoint":5})", "endpoint"},
  };
  for (const auto& [doc, field] : cases) {
    auto r = parse_http_request(doc);
    ASSERT_FALSE(r.ok()) << doc;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_arg) << doc;
    EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  }
}

TEST(HttpJson, MetaDocumentHasStatusHeadersTimingAttempts) {
  HttpResponse resp;
  resp.status = 201;
  resp.headers = {{"content-type", "application/json"},
                  {"link", "<a>"},
                  {"link", "<b>"},
                  {"set-cookie", "session=abcd"}};
  resp.timing.total_ms = 12.5;
  resp.attempts = 2;
  const auto doc = nlohmann::json::parse(http_response_meta_json(resp));
  EXPECT_EQ(doc["status"], 201);
  EXPECT_EQ(doc["headers"]["content-type"], "application/json");
  EXPECT_EQ(doc["headers"]["link"], "<a>, <b>");
  EXPECT_FALSE(doc["headers"].contains("set-cookie"));
  EXPECT_DOUBLE_EQ(doc["timing"]["total_ms"].get<double>(), 12.5);
  EXPECT_EQ(doc["attempts"], 2);
}

TEST(HttpJson, ErrorDocumentCarriesRetryAfter) {
  Error e = make_error("trakt: budget spent", ErrorKind::rate_limited);
  e.retry_after_ms = 30000;
  const auto doc = nlohmann::json::parse(http_error_json(e));
  EXPECT_EQ(doc["message"], "trakt: budget spent");
  EXPECT_EQ(doc["retry_after_ms"], 30000);
}

TEST(EndpointTemplate, StripsIdsAndQuery) {
  EXPECT_EQ(endpoint_template("https://api.trakt.tv/sync/history/remove?x=1"),
            "/sync/history/remove");
  EXPECT_EQ(endpoint_template("https://api.trakt.tv/shows/1390/seasons/2"),
            "/shows/:id/seasons/:id");
  EXPECT_EQ(endpoint_template("https://api.themoviedb.org/3/movie/278/rating"),
            "/:id/movie/:id/rating");
  EXPECT_EQ(endpoint_template("http://h/Users/6c1a0e2f4b8d4e2a9f3b5c7d9e1f2a3b/Items"),
            "/Users/:id/Items");
  EXPECT_EQ(endpoint_template("http://h/movies/tt0111161"), "/movies/:id");
  EXPECT_EQ(endpoint_template("http://h/library/metadata/5d776b59ad5437001f79c6f8"),
            "/library/metadata/:id");
  EXPECT_EQ(endpoint_template("http://h/movies/the-shawshank-redemption-1994"),
            "/movies/the-shawshank-redemption-1994");
  EXPECT_EQ(endpoint_template("https://graphql.anilist.co"), "/");
}

TEST(RetryAfter, SecondsDecimalsAndHttpDates) {
  const std::int64_t now = 1'780'000'000'000;  // ms
  EXPECT_EQ(parse_retry_after("120", now), 120'000);
  EXPECT_EQ(parse_retry_after(" 1.5 ", now), 1'500);
  EXPECT_EQ(parse_retry_after("0", now), 0);
  // 1780000030 s = Thu, 28 May 2026 20:27:10 GMT
  EXPECT_EQ(parse_retry_after("Thu, 28 May 2026 20:27:10 GMT", now), 30'000);
  EXPECT_EQ(parse_retry_after("Thursday, 28-May-26 20:27:10 GMT", now), 30'000);
  EXPECT_EQ(parse_retry_after("Thu May 28 20:27:10 2026", now), 30'000);
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", now), 0);  // in the past
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_FALSE(parse_retry_after("12abc", now).has_value());
  EXPECT_FALSE(parse_retry_after("-5", now).has_value());
  EXPECT_FALSE(parse_retry_after("", now).has_value());
}

TEST(RetryAfter, Iso8601) {
  EXPECT_EQ(parse_iso8601_ms("2026-05-28T20:27:10Z"), 1'780'000'030'000);
  EXPECT_EQ(parse_iso8601_ms("2026-05-28T20:27:10.250Z"), 1'780'000'030'250);
  EXPECT_FALSE(parse_iso8601_ms("yesterday").has_value());
}

TEST(HttpPolicy, WhatMayBeRepeated) {
  HttpRequest r;
  r.method = "POST";
  r.read = false;
  EXPECT_FALSE(may_repeat(r));
  r.retry_safe = true;
  EXPECT_TRUE(may_repeat(r));
  r.retry_safe = false;
  r.read = true;  // a GraphQL query
  EXPECT_TRUE(may_repeat(r));
  r.read = false;
  r.method = "DELETE";
  EXPECT_TRUE(may_repeat(r));
  EXPECT_TRUE(is_retryable_status(429));
  EXPECT_TRUE(is_retryable_status(503));
  EXPECT_FALSE(is_retryable_status(501));
  EXPECT_FALSE(is_retryable_status(404));
}

TEST(HttpOptions, ParsesGlobalAndInstanceBlocks) {
  auto o = config::parse_http_options(
      nlohmann::json::parse(R"({"timeout_ms":5000,"proxy":"http://p:3128",
    "ca_file":"/etc/ca.pem","verify_tls":true,"max_attempts":2})"),
      "cw.yaml: http");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->timeout_ms, 5000);
  EXPECT_EQ(o->proxy, "http://p:3128");
  EXPECT_EQ(o->max_attempts, 2);
  auto i = config::parse_instance_http_options(nlohmann::json::parse(R"({"timeout_ms":100,
    "rate_limits":[{"name":"read","requests":300,"per_seconds":300}],"max_requests_per_run":1000})"),
                                               "providers.trakt.http");
  ASSERT_TRUE(i.ok()) << i.error().message;
  EXPECT_EQ(i->timeout_ms, 100);
  ASSERT_EQ(i->rate_limits.size(), 1u);
  EXPECT_EQ(i->max_requests_per_run, 1000);
}

TEST(HttpOptions, ErrorsNameTheKeyAndSuggest) {
  auto o = config::parse_http_options(nlohmann::json::parse(R"({"timout_ms":5})"), "cw.yaml: http");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("timout_ms"), std::string::npos);
  EXPECT_NE(o.error().message.find("did you mean 'timeout_ms'"), std::string::npos);
  auto i = config::parse_instance_http_options(
      nlohmann::json::parse(R"({"rate_limits":[{"name":"read","requests":0,"per_seconds":1}]})"),
      "providers.trakt.http");
  ASSERT_FALSE(i.ok());
  EXPECT_NE(i.error().message.find("providers.trakt.http.rate_limits[0].requests"),
            std::string::npos)
      << i.error().message;
}

TEST(HttpOptions, ManifestLimitsAndOverrides) {
  const auto manifest = nlohmann::json::parse(R"({"rate_limits":[
    {"name":"read","methods":["get"],"requests":1000,"per_seconds":300},
    {"name":"write","methods":["POST","PUT","DELETE"],"requests":1,"per_seconds":1,
     "endpoints":["/sync/*"]}]})");
  auto limits = config::rate_limits_from_manifest(manifest);
  ASSERT_TRUE(limits.ok()) << limits.error().message;
  ASSERT_EQ(limits->size(), 2u);
  EXPECT_EQ((*limits)[0].methods, std::vector<std::string>{"GET"});
  EXPECT_EQ((*limits)[1].endpoints, std::vector<std::string>{"/sync/*"});
  const auto merged =
      config::merge_rate_limits(*limits, {config::RateLimitSpec{"read", {}, 500, 300, {}}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].requests, 500);
  EXPECT_EQ(merged[0].methods, std::vector<std::string>{"GET"});  // kept from the manifest
}

}  // namespace
}  // namespace cw::services
