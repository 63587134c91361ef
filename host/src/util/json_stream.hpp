#pragma once
// Parses a JSON object whose one array member is handed out element by element instead of
// being built: a 100k-item build_index reply is never held as one document, only as the
// item being read. Everything else of the object is built as usual.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <cw/util/result.hpp>

namespace cw::util {

// Parses `text`. When it is an object with an array member named `member` (at the top
// level), each element of that array goes to `each` as soon as it is complete, in order,
// and the member is left as an empty array in the result. Any other document is built
// whole (so the caller's own checks see what was sent). Fails on invalid JSON ("not valid
// JSON at offset N (...)") and on a second `member` (built whole, the last one would win;
// streamed, both would count); `each` returning an error ends the parse with that error.
struct StreamedDocument {
  nlohmann::json rest;       // the document, `member` emptied
  std::size_t streamed = 0;  // elements handed to `each`
};
Result<StreamedDocument> parse_streaming_member(
    std::string_view text, std::string_view member,
    const std::function<Status(nlohmann::json&& element)>& each);

}  // namespace cw::util
