#include <gtest/gtest.h>

#include <cw/engine/time.hpp>

namespace cw::engine {
namespace {

TEST(Time, ParsesUtcZ) {
  EXPECT_EQ(parse_time("2024-01-02T03:04:05Z"), 1704164645);
  EXPECT_EQ(parse_time("1970-01-02T00:00:00Z"), 86400);
}

TEST(Time, ParsesOffsets) {
  EXPECT_EQ(parse_time("2024-01-02T05:04:05+02:00"), 1704164645);
  EXPECT_EQ(parse_time("2024-01-01T22:04:05-0500"), 1704164645);
  EXPECT_EQ(parse_time("2024-01-02T05:04:05+02"), 1704164645);
}

TEST(Time, DropsFractionsOfAnyLength) {
  EXPECT_EQ(parse_time("2024-01-02T03:04:05.123Z"), 1704164645);
  // Emby writes seven fractional digits.
  EXPECT_EQ(parse_time("2024-01-02T03:04:05.1234567Z"), 1704164645);
  EXPECT_EQ(parse_time("2024-01-02T03:04:05.9999999+00:00"), 1704164645);
}

TEST(Time, SpaceSeparatorAndNaiveMeanUtc) {
  EXPECT_EQ(parse_time("2024-01-02 03:04:05"), 1704164645);
  EXPECT_EQ(parse_time("2024-01-02T03:04"), 1704164640);
  EXPECT_EQ(parse_time("2024-01-02"), 1704153600);
}

TEST(Time, EpochDigits) {
  EXPECT_EQ(parse_time("1704164645"), 1704164645);
  EXPECT_EQ(parse_time("1704164645123"), 1704164645);  // milliseconds
  EXPECT_EQ(parse_time(" 1704164645 "), 1704164645);
}

TEST(Time, RejectsGarbageAndNonPositive) {
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_FALSE(parse_time("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_time("2024-01-02T25:00:00Z"));
  EXPECT_FALSE(parse_time("2024-01-02T03:04:05Zjunk"));
  EXPECT_FALSE(parse_time("0"));
  EXPECT_FALSE(parse_time("1969-12-31T00:00:00Z"));
}

TEST(Time, FormatRoundTrips) {
  EXPECT_EQ(format_time(1704164645), "2024-01-02T03:04:05Z");
  for (Instant t : {Instant{1}, Instant{951782400} /* 2000-02-29 */, Instant{4102444799}}) {
    EXPECT_EQ(parse_time(format_time(t)), t) << format_time(t);
  }
}

}  // namespace
}  // namespace cw::engine
