// The recording fake that contract tests use in place of the network.
#include <cwtest/fake_http_service.hpp>
#include <gtest/gtest.h>

namespace cw::services {
namespace {

TEST(FakeHttp, RecordsRequestsAndReplaysScriptInOrder) {
  FakeHttpService fake;
  fake.respond("GET", "https://api.trakt.tv/sync/watchlist", 200, "[1]");
  fake.respond("GET", "https://api.trakt.tv/sync/watchlist", 200, "[2]");
  fake.respond("GET", "https://api.trakt.tv/", 500, "catch-all", {}, true);
  HttpRequest r;
  r.url = "https://api.trakt.tv/sync/watchlist";
  r.query = {{"page", "1"}};
  const HttpContext ctx{"trakt", "trakt", false, nullptr};
  EXPECT_EQ(fake.send(ctx, r, nullptr)->body, "[1]");
  EXPECT_EQ(fake.send(ctx, r, nullptr)->body, "[2]");
  EXPECT_EQ(fake.send(ctx, r, nullptr)->status, 500);  // the specific rule is used up
  EXPECT_EQ(fake.send(ctx, r, nullptr)->status, 500);  // sticky
  r.url = "https://elsewhere.example/x";
  EXPECT_EQ(fake.send(ctx, r, nullptr)->status, 404);
  ASSERT_EQ(fake.requests().size(), 5u);
  EXPECT_EQ(fake.requests()[0].context.instance, "trakt");
  EXPECT_EQ(fake.requests()[0].request.query[0].second, "1");
  EXPECT_EQ(fake.count("GET", "https://api.trakt.tv/sync/watchlist?page=1"), 4u);
  EXPECT_EQ(fake.unused(), 0u);
}

TEST(FakeHttp, StreamsBodiesAndReturnsScriptedErrors) {
  FakeHttpService fake;
  fake.expect("GET", "http://h/big",
              ScriptedReply{HttpResponse{200, {}, "abcdefgh", {}, 1}, std::nullopt, 3});
  Error limited = make_error("budget spent", ErrorKind::rate_limited);
  limited.retry_after_ms = 1000;
  fake.fail("*", "http://h/limited", limited);
  HttpRequest r;
  r.url = "http://h/big";
  std::vector<std::string> chunks;
  auto resp =
      fake.send({"x", "x", false, nullptr}, r, [&](std::string_view c) { chunks.emplace_back(c); });
  ASSERT_TRUE(resp.ok());
  EXPECT_TRUE(resp->body.empty());
  EXPECT_EQ(chunks, (std::vector<std::string>{"abc", "def", "gh"}));
  r.url = "http://h/limited";
  auto err = fake.send({"x", "x", false, nullptr}, r, nullptr);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().kind, ErrorKind::rate_limited);
  EXPECT_EQ(err.error().retry_after_ms, 1000);
}

TEST(FakeHttp, RefusesWritesInADryRunLikeTheRealService) {
  FakeHttpService fake;
  fake.respond("POST", "http://h/", 201, "", {}, true);
  HttpRequest w;
  w.method = "POST";
  w.read = false;
  w.url = "http://h/sync/history";
  auto refused = fake.send({"trakt", "trakt", true, nullptr}, w, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::unsupported);
  w.read = true;
  EXPECT_TRUE(fake.send({"trakt", "trakt", true, nullptr}, w, nullptr).ok());
  EXPECT_EQ(fake.requests().size(), 2u);  // the refused one is recorded too
}

}  // namespace
}  // namespace cw::services
