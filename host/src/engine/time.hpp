#pragma once
// UTC instants inside the engine are Unix seconds (int64). Providers send ISO-8601 text
// (`Z` or an offset, optional fractional seconds of any length, e.g. Emby's 7 digits) or
// epoch numbers; everything is reduced to seconds here so comparisons are plain integers.
// The parsing and formatting rules are the SDK kit's (cwsdk/support/time.hpp): plugins and
// the engine read every form alike.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cw::engine {

using Instant = std::int64_t;  // Unix seconds, UTC

// Accepts `YYYY-MM-DD[T| ]hh:mm[:ss[.fff...]][Z|±hh[:mm]]` (no zone means UTC; calendar
// dates checked), a bare `YYYY-MM-DD` (midnight UTC) and digit strings (epoch seconds, or
// milliseconds when the value has 13+ digits). Fractions are dropped (floor). Non-positive
// results count as absent.
std::optional<Instant> parse_time(std::string_view text);

// `YYYY-MM-DDThh:mm:ssZ`.
std::string format_time(Instant t);

}  // namespace cw::engine
