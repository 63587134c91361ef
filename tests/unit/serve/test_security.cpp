// The rules of serve/security.hpp.
#include <gtest/gtest.h>

#include <cw/serve/security.hpp>

namespace cw::serve {
namespace {

TEST(ServeSecurity, ListenAddresses) {
  auto a = parse_listen("127.0.0.1:8787");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8787);
  auto v6 = parse_listen("[::1]:9000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->to_string(), "[::1]:9000");
  auto bare = parse_listen(":0");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->host, "127.0.0.1");
  for (const char* bad : {"8787", "host:", "host:99999", "host:8x", "[::1]9000"})
    EXPECT_FALSE(parse_listen(bad).ok()) << bad;
}

TEST(ServeSecurity, NonLoopbackBindNeedsProtection) {
  Access open;
  EXPECT_TRUE(check_bind(*parse_listen("127.0.0.1:1"), open).ok());
  EXPECT_TRUE(check_bind(*parse_listen("localhost:1"), open).ok());
  EXPECT_TRUE(check_bind(*parse_listen("[::1]:1"), open).ok());
  auto refused = check_bind(*parse_listen("0.0.0.0:8787"), open);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("token"), std::string::npos);
  Access token{"s3cret", "", ""};
  EXPECT_TRUE(check_bind(*parse_listen("0.0.0.0:8787"), token).ok());
}

TEST(ServeSecurity, TokenAndBasicAuth) {
  Access token{"s3cret", "", ""};
  EXPECT_TRUE(token.allows("Bearer s3cret"));
  EXPECT_FALSE(token.allows("Bearer s3cre"));
  EXPECT_FALSE(token.allows("Bearer s3cretX"));
  EXPECT_FALSE(token.allows(""));
  Access basic{"", "me", "pw"};
  EXPECT_TRUE(basic.allows("Basic bWU6cHc="));   // me:pw
  EXPECT_FALSE(basic.allows("Basic bWU6cHg="));  // me:px
  EXPECT_FALSE(basic.allows("Bearer pw"));
  EXPECT_TRUE(Access{}.allows(""));
}

TEST(ServeSecurity, HostHeaderOnLoopback) {
  for (const char* ok : {"127.0.0.1:8787", "localhost:8787", "[::1]:8787", "localhost"})
    EXPECT_TRUE(loopback_host_header(ok)) << ok;
  for (const char* bad : {"evil.example:8787", "", "127.0.0.1.evil.example"})
    EXPECT_FALSE(loopback_host_header(bad)) << bad;
}

TEST(ServeSecurity, RateLimiterRefillsWithTime) {
  RateLimiter limit(10, 5);  // 10/s, bursts of 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limit.allow("plex", 0));
  EXPECT_FALSE(limit.allow("plex", 0));
  EXPECT_TRUE(limit.allow("jellyfin", 0));  // per key
  EXPECT_TRUE(limit.allow("plex", 100));    // 100 ms: one token back
  EXPECT_FALSE(limit.allow("plex", 100));
}

TEST(ServeSecurity, FormsAndTokens) {
  auto f = parse_form("csrf=ab%2Fc&pair=a-to-b&key=tmdb%3Amovie%3A1&empty=&x=1+2");
  EXPECT_EQ(f["csrf"], "ab/c");
  EXPECT_EQ(f["key"], "tmdb:movie:1");
  EXPECT_EQ(f["empty"], "");
  EXPECT_EQ(f["x"], "1 2");
  EXPECT_EQ(random_token(16).size(), 32u);
  EXPECT_NE(random_token(), random_token());
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("", "abc"));
}

}  // namespace
}  // namespace cw::serve
