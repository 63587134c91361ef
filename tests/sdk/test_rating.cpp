// cwsdk/support/rating.hpp: exact, stable conversion between 0-10 and a service's scale.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cwsdk/support/rating.hpp>

namespace {

using cwsdk::RatingScale;

std::vector<std::pair<std::string, RatingScale>> all_scales() {
  return {{"trakt", RatingScale::trakt()},
          {"simkl", RatingScale::simkl()},
          {"tmdb", RatingScale::tmdb()},
          {"plex", RatingScale::plex()},
          {"mdblist", RatingScale::mdblist()},
          {"POINT_100", *cwsdk::anilist_scale("POINT_100")},
          {"POINT_10_DECIMAL", *cwsdk::anilist_scale("POINT_10_DECIMAL")},
          {"POINT_10", *cwsdk::anilist_scale("POINT_10")},
          {"POINT_5", *cwsdk::anilist_scale("POINT_5")},
          {"POINT_3", *cwsdk::anilist_scale("POINT_3")},
          {"odd", RatingScale{1, 9, 2}}};
}

TEST(Rating, TheDocumentedTable) {
  EXPECT_EQ(cwsdk::to_scale(7.5, RatingScale::trakt()), 8);
  EXPECT_EQ(cwsdk::to_scale(0.2, RatingScale::trakt()), 1);  // clamped to min
  EXPECT_EQ(cwsdk::from_scale(8, RatingScale::trakt()), 8);
  EXPECT_EQ(cwsdk::to_scale(7.3, RatingScale::tmdb()), 7.5);
  EXPECT_EQ(cwsdk::to_scale(7.2, RatingScale::tmdb()), 7);
  EXPECT_EQ(cwsdk::to_scale(0.1, RatingScale::tmdb()), 0.5);
  EXPECT_EQ(cwsdk::to_scale(6.5, RatingScale::plex()), 7);
  EXPECT_EQ(cwsdk::from_scale(7, RatingScale::mdblist()), 7);
  EXPECT_EQ(cwsdk::to_scale(7.3, RatingScale::mdblist()), 7);
  EXPECT_EQ(cwsdk::to_scale(0.4, RatingScale::mdblist()), 1);  // clamped to min
  const auto p100 = *cwsdk::anilist_scale("POINT_100");
  EXPECT_EQ(cwsdk::from_scale(73, p100), 7.3);
  EXPECT_EQ(cwsdk::to_scale(7.3, p100), 73);
  const auto p10d = *cwsdk::anilist_scale("POINT_10_DECIMAL");
  EXPECT_EQ(cwsdk::to_scale(7.25, p10d), 7.3);
  EXPECT_EQ(cwsdk::to_scale(0.3, p10d), 0.3);  // no 0.30000000000000004
  const auto p5 = *cwsdk::anilist_scale("POINT_5");
  EXPECT_EQ(cwsdk::from_scale(4, p5), 8);
  EXPECT_EQ(cwsdk::to_scale(7, p5), 4);  // 3.5 rounds up
  const auto p3 = *cwsdk::anilist_scale("POINT_3");
  EXPECT_NEAR(*cwsdk::from_scale(2, p3), 6.6667, 1e-4);
  EXPECT_EQ(cwsdk::to_scale(7, p3), 2);
  EXPECT_EQ(cwsdk::to_scale(8.4, p3), 3);
  EXPECT_EQ(cwsdk::to_scale_steps(8.4, p3), 2);
  EXPECT_FALSE(cwsdk::anilist_scale("POINT_7"));
}

TEST(Rating, OutOfRangeAndInvalidScales) {
  EXPECT_FALSE(cwsdk::to_scale(10.5, RatingScale::trakt()));
  EXPECT_FALSE(cwsdk::to_scale(-1, RatingScale::trakt()));
  EXPECT_FALSE(cwsdk::to_scale(NAN, RatingScale::trakt()));
  EXPECT_FALSE(cwsdk::from_scale(11, RatingScale::trakt()));
  EXPECT_FALSE(cwsdk::from_scale(0.5, RatingScale::trakt()));   // below min
  EXPECT_FALSE(cwsdk::from_scale(73, RatingScale::mdblist()));  // a 0-100 score is no rating
  EXPECT_FALSE(cwsdk::from_scale(INFINITY, RatingScale::mdblist()));
  for (const RatingScale bad :
       {RatingScale{5, 5, 1}, RatingScale{0, 10, 0}, RatingScale{-1, 10, 1}, RatingScale{0, 10, -1},
        RatingScale{0, NAN, 1}, RatingScale{0, 1e9, 1e-3}}) {
    EXPECT_FALSE(bad.valid());
    EXPECT_FALSE(cwsdk::to_scale(5, bad));
    EXPECT_FALSE(cwsdk::from_scale(5, bad));
  }
}

TEST(Rating, EveryScaleValueSurvivesARoundTrip) {
  for (const auto& [name, s] : all_scales()) {
    for (double v = s.min; v <= s.max + 1e-9; v += s.step) {
      const double on_grid = std::round(v * 1e9) / 1e9;
      const auto r = cwsdk::from_scale(on_grid, s);
      ASSERT_TRUE(r) << name << " " << on_grid;
      EXPECT_GE(*r, 0);
      EXPECT_LE(*r, 10);
      EXPECT_EQ(cwsdk::to_scale(*r, s), on_grid) << name << " " << on_grid;
    }
  }
}

TEST(Rating, ConvertingToAScaleAndBackNeverFlipsAValue) {
  for (const auto& [name, s] : all_scales()) {
    for (int i = 0; i <= 1000; ++i) {
      const double r = i / 100.0;
      const auto once = cwsdk::to_scale(r, s);
      ASSERT_TRUE(once) << name << " " << r;
      EXPECT_GE(*once, s.min - 1e-9);
      EXPECT_LE(*once, s.max + 1e-9);
      const auto back = cwsdk::from_scale(*once, s);
      ASSERT_TRUE(back) << name << " " << *once;
      EXPECT_EQ(cwsdk::to_scale(*back, s), once) << name << " " << r;
      EXPECT_TRUE(cwsdk::same_on_scale(r, *back, s)) << name << " " << r;
    }
  }
}

TEST(Rating, SameOnScaleComparesAsTheServiceStores) {
  const auto p3 = *cwsdk::anilist_scale("POINT_3");
  EXPECT_TRUE(cwsdk::same_on_scale(7, *cwsdk::from_scale(2, p3), p3));
  EXPECT_FALSE(cwsdk::same_on_scale(7, 9, p3));
  EXPECT_FALSE(cwsdk::same_on_scale(7, 11, p3));
  EXPECT_TRUE(cwsdk::same_on_scale(7.6, 8.4, RatingScale::trakt()));
}

}  // namespace
