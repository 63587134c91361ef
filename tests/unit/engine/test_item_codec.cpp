// engine/item_codec: the binary form of baseline items in the state database.
#include <gtest/gtest.h>

#include <cw/engine/item_codec.hpp>

namespace cw::engine {
namespace {

Item rich_episode() {
  Item i;
  i.kind = ItemKind::episode;
  i.title = "Pilot \xe2\x80\x94 part 1";
  i.show_title = "Show";
  i.year = 2008;
  i.show_year = 2008;
  i.season = 0;
  i.episode = 1;
  i.episode_end = 2;
  i.absolute_episode = 101;
  i.progress_bp = 4250;
  i.ids.set(IdKind::tvdb, "349232");
  i.ids.set(IdKind::plex, "12345");
  i.ids.set_other("letterboxd", "x1");
  i.ids.set_other("anidb2", "77");
  i.show_ids.set(IdKind::imdb, "tt0903747");
  i.show_ids.set(IdKind::tmdb, "1396");
  i.watched_at = -86400000;  // before 1970: negative instants survive
  i.rating = 8.5;
  i.rated_at = 1700000000000;
  i.progress_ms = 1234567;
  i.duration_ms = 2700000;
  i.progress_at = 1700000001000;
  i.extra = {{"ratingKey", "42"}, {"n", 1.25}, {"list", {1, 2, nullptr}}};
  return i;
}

TEST(ItemCodec, RoundTripsEveryFieldExactly) {
  for (const Item& item : {Item{}, rich_episode()}) {
    const std::string bytes = encode_item(item);
    EXPECT_TRUE(is_encoded_item(bytes));
    auto back = decode_item(bytes);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, item);
    EXPECT_EQ(encode_item(*back), bytes);  // stable: an unchanged item stores the same bytes
  }
}

TEST(ItemCodec, IsSmallerThanTheJsonForm) {
  const Item item = rich_episode();
  EXPECT_LT(encode_item(item).size(), item_to_json(item).dump().size());
}

TEST(ItemCodec, JsonTextIsNotTakenForTheBinaryForm) {
  EXPECT_FALSE(is_encoded_item(R"({"type":"movie"})"));
  EXPECT_FALSE(is_encoded_item(""));
  EXPECT_FALSE(decode_item(R"({"type":"movie"})"));
}

TEST(ItemCodec, EveryTruncationAndAnyTrailingByteIsAnErrorNotACrash) {
  const std::string bytes = encode_item(rich_episode());
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_item(std::string_view(bytes).substr(0, n))) << "cut at " << n;
  EXPECT_FALSE(decode_item(bytes + '\0'));
}

TEST(ItemCodec, DamagedFieldsAreRefused) {
  std::string bytes = encode_item(rich_episode());
  std::string kind = bytes;
  kind[1] = 9;  // no such item kind
  EXPECT_FALSE(decode_item(kind));
  // A movie whose field mask has bit 20 set, a field this format does not have.
  const std::string unknown = {static_cast<char>(k_item_codec_tag), 0, static_cast<char>(0x80),
                               static_cast<char>(0x80), 0x40};
  EXPECT_FALSE(decode_item(unknown));
  // Every single-byte change either fails or decodes to some item; none crashes.
  for (std::size_t i = 1; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    (void)decode_item(flipped);
  }
}

}  // namespace
}  // namespace cw::engine
