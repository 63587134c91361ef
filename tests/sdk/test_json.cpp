// cwsdk/support/result.hpp and json.hpp: checked reading never throws, and says what and
// where when a document is not what it should be.
#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/support/json.hpp>
#include <cwsdk/support/result.hpp>

namespace {

using cwsdk::Json;

TEST(Json, ParseReportsTruncatedAndMalformedTextWithThePosition) {
  auto ok = cwsdk::parse_json(R"({"a": [1, 2]})", "reply");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["a"][1], 2);

  auto truncated = cwsdk::parse_json(R"({"items": [{"title": "x"})", "GET /sync reply");
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().status, CW_STATUS_INTERNAL);
  EXPECT_NE(truncated.error().message.find("GET /sync reply: malformed JSON at byte"),
            std::string::npos)
      << truncated.error().message;

  auto empty = cwsdk::parse_json("", "reply");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("reply: "), std::string::npos);

  auto trailing = cwsdk::parse_json("{} x", "reply");
  EXPECT_FALSE(trailing);
}

TEST(Json, GetNamesTheFieldAndTheExpectedType) {
  const Json doc = Json::parse(R"({"movie": {"title": 5, "year": null, "ids": {"tmdb": 603}}})");
  auto title = cwsdk::get<std::string>(doc, "/movie/title");
  ASSERT_FALSE(title);
  EXPECT_EQ(title.error().message, "/movie/title: expected a string, got an integer");
  auto year = cwsdk::get<int>(doc, "/movie/year");
  ASSERT_FALSE(year);
  EXPECT_EQ(year.error().message, "/movie/year: missing (expected an integer (32-bit))");
  auto missing = cwsdk::get<std::string>(doc, "/show/title");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "/show/title: missing (expected a string)");
  EXPECT_EQ(*cwsdk::get<std::int64_t>(doc, "/movie/ids/tmdb"), 603);
}

TEST(Json, NumbersAreReadLeniently_ButChecked) {
  const Json doc = Json::parse(
      R"({"a": "123", "b": 7.0, "c": 7.5, "d": "abc", "e": 3000000000, "f": " -4 ", "g": "7.25",
          "h": true, "i": 18446744073709551615})");
  EXPECT_EQ(*cwsdk::get<int>(doc, "a"), 123);
  EXPECT_EQ(*cwsdk::get<int>(doc, "b"), 7);
  EXPECT_FALSE(cwsdk::get<int>(doc, "c"));
  EXPECT_FALSE(cwsdk::get<int>(doc, "d"));
  EXPECT_FALSE(cwsdk::get<int>(doc, "e"));  // beyond 32 bits
  EXPECT_EQ(*cwsdk::get<std::int64_t>(doc, "e"), 3000000000LL);
  EXPECT_EQ(*cwsdk::get<int>(doc, "f"), -4);
  EXPECT_DOUBLE_EQ(*cwsdk::get<double>(doc, "g"), 7.25);
  EXPECT_FALSE(cwsdk::get<double>(doc, "d"));
  EXPECT_FALSE(cwsdk::get<int>(doc, "h"));
  EXPECT_TRUE(*cwsdk::get<bool>(doc, "h"));
  EXPECT_FALSE(cwsdk::get<bool>(doc, "a"));          // "123" is no boolean
  EXPECT_FALSE(cwsdk::get<std::int64_t>(doc, "i"));  // beyond int64
  EXPECT_FALSE(cwsdk::get<std::string>(doc, "b"));   // numbers are no strings
}

TEST(Json, OptionalReadsNullAsAbsentButStillChecksTypes) {
  const Json doc = Json::parse(R"({"a": null, "b": "x", "c": 1})");
  auto a = cwsdk::get_optional<std::string>(doc, "a");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_value());
  auto missing = cwsdk::get_optional<std::string>(doc, "zz");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(**cwsdk::get_optional<std::string>(doc, "b"), "x");
  auto c = cwsdk::get_optional<std::string>(doc, "c");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "/c: expected a string, got an integer");
}

TEST(Json, GetOrFallsBackOnAnythingOdd) {
  const Json doc = Json::parse(R"({"a": null, "b": [1], "c": "t", "n": 4})");
  EXPECT_EQ(cwsdk::get_or(doc, "a", "none"), "none");
  EXPECT_EQ(cwsdk::get_or(doc, "b", "none"), "none");
  EXPECT_EQ(cwsdk::get_or(doc, "c", "none"), "t");
  EXPECT_EQ(cwsdk::get_or(doc, "n", 0), 4);
  EXPECT_EQ(cwsdk::get_or(doc, "c", 9), 9);
  EXPECT_EQ(cwsdk::get_or(Json(nullptr), "/x/y", 1), 1);
  EXPECT_EQ(cwsdk::get_or(Json::array(), "x", 2), 2);
}

TEST(Json, PointersWalkObjectsAndArraysWithoutThrowing) {
  const Json doc = Json::parse(R"({"a/b": {"~k": [10, {"x": "y"}]}, "list": [1, 2, 3]})");
  EXPECT_EQ(*cwsdk::get<int>(doc, "/a~1b/~0k/0"), 10);
  EXPECT_EQ(*cwsdk::get<std::string>(doc, "/a~1b/~0k/1/x"), "y");
  EXPECT_EQ(cwsdk::find(doc, "/list/3"), nullptr);
  EXPECT_EQ(cwsdk::find(doc, "/list/-1"), nullptr);
  EXPECT_EQ(cwsdk::find(doc, "/list/x"), nullptr);
  EXPECT_EQ(cwsdk::find(doc, "/list/0/deeper"), nullptr);
  EXPECT_EQ(cwsdk::find(doc, "/list/99999999999999999999"), nullptr);
  EXPECT_EQ(cwsdk::find(doc, ""), &doc);
  EXPECT_NE(cwsdk::find(doc, "list"), nullptr);
  EXPECT_EQ(cwsdk::find(Json("text"), "a"), nullptr);
}

TEST(Json, ArraysAndObjectsWithoutCopies) {
  const Json doc = Json::parse(R"({"items": [1, 2], "meta": {"n": 1}, "bad": "x"})");
  auto items = cwsdk::get_array(doc, "/items");
  ASSERT_TRUE(items);
  EXPECT_EQ(*items, &doc["items"]);
  auto meta = cwsdk::get_object(doc, "/meta");
  ASSERT_TRUE(meta);
  auto bad = cwsdk::get_array(doc, "/bad");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "/bad: expected an array, got a string");
  EXPECT_FALSE(cwsdk::get_object(doc, "/items"));
  EXPECT_FALSE(cwsdk::get_array(doc, "/none"));
}

TEST(Result, ValueOnAFailureThrowsTheFailureAsCwsdkError) {
  cwsdk::Result<int> r = cwsdk::Failure::of(CW_STATUS_RATE_LIMITED, "slow down", 3000);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.value_or(7), 7);
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const cwsdk::Error& e) {
    EXPECT_EQ(e.status(), CW_STATUS_RATE_LIMITED);
    EXPECT_EQ(e.retry_after_ms(), 3000);
    EXPECT_STREQ(e.what(), "slow down");
  }
  cwsdk::Result<int> ok = 5;
  EXPECT_EQ(*ok, 5);
  EXPECT_THROW((void)ok.error(), cwsdk::Error);
  cwsdk::Status fine;
  EXPECT_TRUE(fine);
  EXPECT_NO_THROW(fine.value());
  cwsdk::Status bad = cwsdk::Failure::internal("x");
  EXPECT_THROW(bad.value(), cwsdk::Error);
}

TEST(Result, FailureReplyCarriesStatusMessageAndRetryAfter) {
  const cwsdk::Failure f =
      cwsdk::Failure::of(CW_STATUS_RATE_LIMITED, "budget \"spent\"", 1500).context("GET /x");
  EXPECT_EQ(f.message, "GET /x: budget \"spent\"");
  EXPECT_EQ(f.reason, cwsdk::Reason::rate_limited);
  const cwsdk::Reply reply = f.reply();
  EXPECT_EQ(reply.status, CW_STATUS_RATE_LIMITED);
  const Json doc = Json::parse(reply.body);
  EXPECT_EQ(doc["message"], "GET /x: budget \"spent\"");
  EXPECT_EQ(doc["retry_after_ms"], 1500);
  EXPECT_FALSE(Json::parse(cwsdk::Failure::internal("x").reply().body).contains("retry_after_ms"));
  EXPECT_EQ(cwsdk::reason_name(cwsdk::Reason::quota), "quota");
  EXPECT_EQ(cwsdk::status_name(CW_STATUS_CANCELLED), "cancelled");
  EXPECT_EQ(cwsdk::status_name(99), "unknown");
}

}  // namespace
