// util::parse_streaming_member: how the loader reads a build_index reply item by item.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cw/util/json_stream.hpp>

namespace cw::util {
namespace {

using nlohmann::json;

struct Collected {
  std::vector<json> items;
  std::function<Status(json&&)> sink() {
    return [this](json&& j) {
      items.push_back(std::move(j));
      return ok_status();
    };
  }
};

TEST(JsonStream, TheMemberIsHandedOutInOrderAndLeftEmpty) {
  Collected got;
  auto doc = parse_streaming_member(
      R"({"complete":true,"items":[{"a":[1,{"b":2}]},3,"x",null,[4]],"received":5})", "items",
      got.sink());
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->streamed, 5u);
  ASSERT_EQ(got.items.size(), 5u);
  EXPECT_EQ(got.items[0], json::parse(R"({"a":[1,{"b":2}]})"));
  EXPECT_EQ(got.items[1], 3);
  EXPECT_EQ(got.items[2], "x");
  EXPECT_TRUE(got.items[3].is_null());
  EXPECT_EQ(got.items[4], json::array({4}));
  EXPECT_EQ(doc->rest, json::parse(R"({"complete":true,"items":[],"received":5})"));
}

TEST(JsonStream, EverythingElseIsBuiltAsTheWholeParseWouldBuildIt) {
  const std::string text =
      R"({"removed":[{"items":[1]}],"watermark":{"items":[2]},"n":-1,"f":1.5,"u":18446744073709551615})";
  Collected got;
  auto doc = parse_streaming_member(text, "items", got.sink());
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_TRUE(got.items.empty());  // only the top-level member streams
  EXPECT_EQ(doc->rest, json::parse(text));
}

TEST(JsonStream, AMemberThatIsNotAnArrayOrADocumentThatIsNotAnObjectIsKept) {
  Collected got;
  auto obj = parse_streaming_member(R"({"items":{"k":1}})", "items", got.sink());
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->rest["items"], json::parse(R"({"k":1})"));
  auto arr = parse_streaming_member(R"([{"items":[1]}])", "items", got.sink());
  ASSERT_TRUE(arr);
  EXPECT_EQ(arr->rest, json::parse(R"([{"items":[1]}])"));
  EXPECT_TRUE(got.items.empty());
}

TEST(JsonStream, InvalidOrTruncatedJsonFailsWithTheOffset) {
  Collected got;
  auto cut = parse_streaming_member(R"({"items":[{"a":1},{"b":)", "items", got.sink());
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("not valid JSON at offset"), std::string::npos)
      << cut.error().message;
  EXPECT_EQ(got.items.size(), 1u);  // what came before the break was handed on
  EXPECT_FALSE(parse_streaming_member("", "items", got.sink()));
  EXPECT_FALSE(parse_streaming_member(R"({"items":[]} trailing)", "items", got.sink()));
}

TEST(JsonStream, ASecondMemberOfTheSameNameIsRefused) {
  Collected got;
  auto doc = parse_streaming_member(R"({"items":[1],"items":[2]})", "items", got.sink());
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("appears twice"), std::string::npos);
}

TEST(JsonStream, AnErrorOfTheSinkEndsTheParseWithThatError) {
  int seen = 0;
  auto doc = parse_streaming_member(R"({"items":[1,2,3]})", "items", [&](json&&) -> Status {
    if (++seen == 2) return make_error("stop here", ErrorKind::cancelled);
    return ok_status();
  });
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message, "stop here");
  EXPECT_EQ(doc.error().kind, ErrorKind::cancelled);
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace cw::util
