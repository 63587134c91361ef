// cwsdk/support/time.hpp: every form services write, to one millisecond instant.
#include <cstdint>
#include <optional>

#include <gtest/gtest.h>

#include <cwsdk/support/time.hpp>

namespace {

constexpr std::int64_t k_t = 1704164645000;  // 2024-01-02T03:04:05Z

TEST(Time, Rfc3339AnyOffsetAnyFraction) {
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T03:04:05Z"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02t03:04:05z"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02 03:04:05Z"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T05:04:05+02:00"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-01T22:04:05-0500"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T08:34:05+05:30"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T05:04:05+02"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T03:04:05.123Z"), k_t + 123);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T03:04:05.1234567Z"), k_t + 123);  // Emby: 7 digits
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T03:04:05.9Z"), k_t + 900);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T03:04:05,5Z"), k_t + 500);
  EXPECT_EQ(cwsdk::parse_rfc3339("  2024-01-02T03:04:05Z\n"), k_t);
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-01-02T03:04Z"), k_t - 5000);
}

TEST(Time, Rfc3339RefusesWhatItCannotReadExactly) {
  for (const char* bad :
       {"", "2024-01-02T03:04:05", "2024-01-02", "yesterday", "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-02T24:00:00Z",
        "2024-01-02T03:60:00Z", "2024-01-02T03:04:05Zjunk", "2024-01-02T03:04:05.Z",
        "2024-01-02T03:04:05+25:00", "2024-1-2T03:04:05Z", "20240102T030405Z",
        "2024-01-02T03:04:05+0", "2024-01-02T03:04:05 Z"}) {
    EXPECT_FALSE(cwsdk::parse_rfc3339(bad)) << bad;
  }
  EXPECT_EQ(cwsdk::parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800000);  // a leap year
  EXPECT_EQ(cwsdk::parse_rfc3339("2016-12-31T23:59:60Z"), 1483228800000);  // a leap second
}

TEST(Time, NaiveTimesAtAGivenOffset) {
  EXPECT_EQ(cwsdk::parse_naive("2024-01-02 03:04:05"), k_t);
  EXPECT_EQ(cwsdk::parse_naive("2024-01-01T22:04:05", -300), k_t);
  EXPECT_EQ(cwsdk::parse_naive("2024-01-02T05:04:05", 120), k_t);
  // A zone in the text wins over the default.
  EXPECT_EQ(cwsdk::parse_naive("2024-01-02T03:04:05Z", 120), k_t);
  EXPECT_EQ(cwsdk::parse_naive("2024-01-02", 60), 1704150000000);
  EXPECT_FALSE(cwsdk::parse_naive("2024-01-02T03:04:05", 24 * 60 + 1));
}

TEST(Time, DatesEpochsAndTicks) {
  EXPECT_EQ(cwsdk::parse_date("2024-01-02"), 1704153600000);
  EXPECT_FALSE(cwsdk::parse_date("2024-01-02T00:00:00Z"));
  EXPECT_FALSE(cwsdk::parse_date("2024-02-30"));
  EXPECT_EQ(cwsdk::from_epoch_seconds(std::int64_t{1704164645}), k_t);
  EXPECT_EQ(cwsdk::from_epoch_seconds(1704164645.25), k_t + 250);
  EXPECT_FALSE(cwsdk::from_epoch_seconds(std::int64_t{999999999999999}));
  EXPECT_EQ(cwsdk::from_epoch_ms(k_t), k_t);
  EXPECT_FALSE(cwsdk::from_epoch_ms(INT64_MAX));
  // .NET: 2024-01-02T03:04:05Z is 638397614450000000 ticks.
  EXPECT_EQ(cwsdk::from_dotnet_ticks(638397614450000000LL), k_t);
  EXPECT_EQ(cwsdk::from_dotnet_ticks(638397614451234567LL), k_t + 123);
  EXPECT_FALSE(cwsdk::from_dotnet_ticks(0));  // DateTime.MinValue: no date
  EXPECT_FALSE(cwsdk::from_dotnet_ticks(-5));
  EXPECT_EQ(cwsdk::from_dotnet_ticks(621355968000000000LL - 10000), -1);
  EXPECT_EQ(cwsdk::ticks_to_ms(54000000000LL), 5400000);  // 90 minutes
  EXPECT_FALSE(cwsdk::ticks_to_ms(-1));
}

TEST(Time, AniListFuzzyDatesWithMissingParts) {
  using nlohmann::json;
  EXPECT_EQ(cwsdk::from_fuzzy_date(json{{"year", 2024}, {"month", 1}, {"day", 2}}), 1704153600000);
  EXPECT_EQ(cwsdk::from_fuzzy_date(json{{"year", 2024}, {"month", 3}, {"day", nullptr}}),
            cwsdk::parse_date("2024-03-01"));
  EXPECT_EQ(cwsdk::from_fuzzy_date(json{{"year", 2024}, {"month", nullptr}, {"day", 9}}),
            cwsdk::parse_date("2024-01-01"));
  EXPECT_EQ(cwsdk::from_fuzzy_date(json{{"year", 2024}}), cwsdk::parse_date("2024-01-01"));
  EXPECT_EQ(cwsdk::from_fuzzy_date(json{{"year", 2024}, {"month", 0}, {"day", 0}}),
            cwsdk::parse_date("2024-01-01"));
  EXPECT_FALSE(cwsdk::from_fuzzy_date(json{{"year", nullptr}, {"month", 1}, {"day", 2}}));
  EXPECT_FALSE(cwsdk::from_fuzzy_date(json{{"year", "2024"}}));
  EXPECT_FALSE(cwsdk::from_fuzzy_date(json{{"year", 2023}, {"month", 2}, {"day", 29}}));
  EXPECT_FALSE(cwsdk::from_fuzzy_date(json{{"year", 2024}, {"month", 13}}));
  EXPECT_FALSE(cwsdk::from_fuzzy_date(json(nullptr)));
  EXPECT_FALSE(cwsdk::from_fuzzy_date(json::array()));
}

TEST(Time, LenientTimestampAsTheEngineReadsIt) {
  EXPECT_EQ(cwsdk::parse_timestamp("2024-01-02T03:04:05Z"), k_t);
  EXPECT_EQ(cwsdk::parse_timestamp("2024-01-02 03:04:05"), k_t);
  EXPECT_EQ(cwsdk::parse_timestamp("2024-01-02"), 1704153600000);
  EXPECT_EQ(cwsdk::parse_timestamp("1704164645"), k_t);
  EXPECT_EQ(cwsdk::parse_timestamp("1704164645123"), k_t + 123);
  EXPECT_EQ(cwsdk::parse_timestamp(" 1704164645 "), k_t);
  EXPECT_FALSE(cwsdk::parse_timestamp(""));
  EXPECT_FALSE(cwsdk::parse_timestamp("1234567890123456789"));
  EXPECT_FALSE(cwsdk::parse_timestamp("-5"));
}

TEST(Time, HttpDates) {
  EXPECT_EQ(cwsdk::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(cwsdk::parse_http_date("Tue, 02 Jan 2024 03:04:05 GMT"), k_t);
  EXPECT_FALSE(cwsdk::parse_http_date("Tue, 02 Foo 2024 03:04:05 GMT"));
  EXPECT_FALSE(cwsdk::parse_http_date("Tue, 30 Feb 2024 03:04:05 GMT"));
  EXPECT_FALSE(cwsdk::parse_http_date("02 Jan 2024 03:04:05 GMT"));
  EXPECT_FALSE(cwsdk::parse_http_date("Tue, 02 Jan 2024 03:04:05 UTC"));
  EXPECT_FALSE(cwsdk::parse_http_date("120"));
}

TEST(Time, FormatsUtcAndRoundTrips) {
  EXPECT_EQ(cwsdk::format_rfc3339(k_t), "2024-01-02T03:04:05Z");
  EXPECT_EQ(cwsdk::format_rfc3339(k_t + 7), "2024-01-02T03:04:05.007Z");
  EXPECT_EQ(cwsdk::format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(cwsdk::format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
  for (std::int64_t t : {std::int64_t{1}, std::int64_t{951782400123} /* 2000-02-29 */,
                         std::int64_t{4102444799000}, std::int64_t{-86400000}}) {
    EXPECT_EQ(cwsdk::parse_rfc3339(cwsdk::format_rfc3339(t)), t) << cwsdk::format_rfc3339(t);
  }
}

}  // namespace
