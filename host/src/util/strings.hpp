#pragma once
// Small string helpers with no cw-specific meaning.

#include <string>
#include <string_view>
#include <vector>

namespace cw::util {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool starts_with_icase(std::string_view s, std::string_view prefix);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// The offset of the first byte that does not start or continue a valid UTF-8 sequence
// (overlong forms, surrogates and code points past U+10FFFF included); npos when `s` is
// valid UTF-8.
std::size_t first_invalid_utf8(std::string_view s);
// Text from outside (a plugin, a parser's message) made fit for a one-line error: line
// breaks and tabs become spaces, other control bytes \xNN, trailing spaces go, and past
// `max_len` bytes it is cut with "...".
std::string one_line(std::string_view s, std::size_t max_len = 500);
// Edit distance, for "did you mean" hints.
std::size_t levenshtein(std::string_view a, std::string_view b);

}  // namespace cw::util
