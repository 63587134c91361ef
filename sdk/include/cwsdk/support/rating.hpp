// cwsdk/support/rating.hpp: exact conversion between cw's 0-10 ratings and a service's
// own scale.
//
// Items carry `rating` on the 0-10 scale whatever the service stores. A scale is
// {min, max, step} as the manifest's `rating_scale` writes it: the values the service can
// store are min, min + step, ..., up to max. The mapping is proportional to max (a
// service value v is the cw rating v * 10 / max), so the scales cw meets all line up:
//
//   scale                          service -> cw           cw -> service
//   Trakt, SIMKL {1, 10, 1}        8 -> 8                  7.5 -> 8, 0.2 -> 1 (min)
//   TMDb {0.5, 10, 0.5}            7.5 -> 7.5              7.3 -> 7.5
//   Plex {0, 10, 1} (half stars)   7 -> 7                  6.5 -> 7
//   MDBList {0, 100, 1}            73 -> 7.3               7.3 -> 73
//   AniList POINT_100 {1, 100, 1}  73 -> 7.3               7.3 -> 73
//   AniList POINT_10_DECIMAL       7.3 -> 7.3              7.25 -> 7.3
//   AniList POINT_10 {1, 10, 1}    7 -> 7                  7.3 -> 7
//   AniList POINT_5 {1, 5, 1}      4 -> 8                  7 -> 4 (3.5 rounds up)
//   AniList POINT_3 {1, 3, 1}      2 -> 6.667              7 -> 2, 8.4 -> 3
//
// Rounding, documented once: to_scale snaps to the nearest step, halves away from zero
// (up: ratings are positive), with a tolerance of 1e-9 steps so that binary floating point
// cannot move a value across a half; then clamps to [min, max]. from_scale gives the exact
// quotient. Stable: for every value v on the scale, to_scale(from_scale(v)) == v, and for
// every rating r, to_scale(from_scale(to_scale(r))) == to_scale(r); a value never flips
// between two steps on a round trip. Compare two ratings as the service would store them
// with same_on_scale, never as doubles: 6.667 and 7 are both "2" on POINT_3.
//
// AniList's 0 means "no score"; that is why its scales start at one step, not at 0.
#ifndef CWSDK_SUPPORT_RATING_HPP
#define CWSDK_SUPPORT_RATING_HPP

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cwsdk {

struct RatingScale {
  double min = 0;
  double max = 10;
  double step = 1;

  // A usable scale: finite, 0 <= min < max, step > 0 and no more than 100000 steps.
  bool valid() const {
    return std::isfinite(min) && std::isfinite(max) && std::isfinite(step) && min >= 0 &&
           max > min && step > 0 && (max - min) / step <= 100000.0;
  }

  // Common scales.
  static constexpr RatingScale cw() { return {0, 10, 0.5}; }  // informational only
  static constexpr RatingScale trakt() { return {1, 10, 1}; }
  static constexpr RatingScale simkl() { return {1, 10, 1}; }
  static constexpr RatingScale tmdb() { return {0.5, 10, 0.5}; }
  static constexpr RatingScale plex() { return {0, 10, 1}; }
  // MDBList's /sync/ratings takes and returns whole 1-10 (its 0-100 scores are list and
  // catalogue scores, not the user's ratings).
  static constexpr RatingScale mdblist() { return {1, 10, 1}; }
};

// AniList's ScoreFormat names: POINT_100, POINT_10_DECIMAL, POINT_10, POINT_5, POINT_3.
inline std::optional<RatingScale> anilist_scale(std::string_view score_format) {
  if (score_format == "POINT_100") return RatingScale{1, 100, 1};
  if (score_format == "POINT_10_DECIMAL") return RatingScale{0.1, 10, 0.1};
  if (score_format == "POINT_10") return RatingScale{1, 10, 1};
  if (score_format == "POINT_5") return RatingScale{1, 5, 1};
  if (score_format == "POINT_3") return RatingScale{1, 3, 1};
  return std::nullopt;
}

namespace detail {
// The index of the step nearest to `native` (halves up), clamped to the scale.
inline std::int64_t rating_step_index(double native, const RatingScale& s) {
  const double exact = (native - s.min) / s.step;
  const auto last = static_cast<std::int64_t>(std::floor((s.max - s.min) / s.step + 1e-9));
  auto k = static_cast<std::int64_t>(std::floor(exact + 0.5 + 1e-9));
  if (k < 0) k = 0;
  if (k > last) k = last;
  return k;
}
// min + k * step without binary noise (0.1 * 3 = 0.30000000000000004 -> 0.3).
inline double rating_step_value(std::int64_t k, const RatingScale& s) {
  const double v = s.min + static_cast<double>(k) * s.step;
  return std::round(v * 1e9) / 1e9;
}
}  // namespace detail

// The service value for a cw rating (0..10), on the scale's grid; nullopt for a rating
// outside 0..10, a non-finite one, or an invalid scale.
inline std::optional<double> to_scale(double rating, const RatingScale& scale) {
  if (!scale.valid() || !std::isfinite(rating) || rating < 0 || rating > 10) return std::nullopt;
  const double native = rating * scale.max / 10.0;
  return detail::rating_step_value(detail::rating_step_index(native, scale), scale);
}

// The same as to_scale, as the number of steps above min (for services that take an
// integer index, such as stars); nullopt as for to_scale.
inline std::optional<std::int64_t> to_scale_steps(double rating, const RatingScale& scale) {
  if (!scale.valid() || !std::isfinite(rating) || rating < 0 || rating > 10) return std::nullopt;
  return detail::rating_step_index(rating * scale.max / 10.0, scale);
}

// The cw rating (0..10) of a service value; nullopt when the value is not finite, lies
// outside [min, max] (beyond a 1e-9 tolerance), or the scale is invalid. A value between
// steps is accepted as given (services sometimes store finer values than they show).
inline std::optional<double> from_scale(double native, const RatingScale& scale) {
  if (!scale.valid() || !std::isfinite(native)) return std::nullopt;
  const double tol = 1e-9 * scale.max;
  if (native < scale.min - tol || native > scale.max + tol) return std::nullopt;
  double r = native * 10.0 / scale.max;
  if (r < 0) r = 0;
  if (r > 10) r = 10;
  return r;
}

// True when two cw ratings are stored as the same value on `scale`.
inline bool same_on_scale(double a, double b, const RatingScale& scale) {
  const auto x = to_scale_steps(a, scale);
  const auto y = to_scale_steps(b, scale);
  return x && y && *x == *y;
}

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_RATING_HPP
