#include <algorithm>

#include <cwsdk/support/time.hpp>

#include <cw/engine/time.hpp>

// One copy of the time rules: the SDK kit's (cwsdk/support/time.hpp), in milliseconds;
// the engine keeps whole seconds.
namespace cw::engine {

std::optional<Instant> parse_time(std::string_view text) {
  const auto ms = cwsdk::parse_timestamp(text);
  if (!ms) return std::nullopt;
  // Floor to the second, so that a fraction never rounds an instant up.
  Instant t = *ms / 1000;
  if (*ms % 1000 < 0) --t;
  if (t <= 0) return std::nullopt;
  return t;
}

std::string format_time(Instant t) {
  // Years 1..9999: the range RFC 3339 can write (and no overflow in the milliseconds).
  t = std::clamp<Instant>(t, -62135596800LL, 253402300799LL);
  return cwsdk::format_rfc3339(t * 1000);
}

}  // namespace cw::engine
