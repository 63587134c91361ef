#pragma once
// A compact binary form of an Item, for the baselines of the state database: a 100k-item
// baseline is read back on every run, and its JSON form (~7x the parse work, ~2x the bytes)
// was most of a no-change run's cost. Lossless: decode(encode(item)) == item.
//
// Layout (format 1): the tag byte 0xC1 (no JSON text starts with it), the kind, a varint
// bitmask of the optional fields present, the fields in declaration order (strings and
// the `extra` JSON text as varint length + bytes, integers as zigzag varints, the rating as
// its 8 IEEE bytes), and each Ids as a count of (kind, length, bytes) entries.

#include <string>
#include <string_view>

#include <cw/engine/item.hpp>
#include <cw/util/result.hpp>

namespace cw::engine {

inline constexpr unsigned char k_item_codec_tag = 0xC1;

std::string encode_item(const Item& item);
// Fails (never reads past `bytes`) on a wrong tag, a truncated field, a length past the
// end, an unknown kind or an unreadable `extra`.
Result<Item> decode_item(std::string_view bytes);
inline bool is_encoded_item(std::string_view bytes) {
  return !bytes.empty() && static_cast<unsigned char>(bytes[0]) == k_item_codec_tag;
}

}  // namespace cw::engine
