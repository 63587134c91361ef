// Timestamps, atomic files and snapshot retention of the local tracker's store.
#include "store.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "fake_host.hpp"

namespace fs = std::filesystem;
using namespace cw::crosswatch;
using cw::crosswatch::testing::TempDir;

namespace {

TEST(CrosswatchStore, FormatsAndParsesUtcTimestamps) {
  EXPECT_EQ(iso_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_utc(1767225600123), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(snapshot_stamp(951782400000), "20000229T000000.000Z");
  EXPECT_EQ(parse_snapshot_stamp("20000229T000000.000Z"), 951782400000);
  EXPECT_EQ(parse_snapshot_stamp(snapshot_stamp(1767225600123)), 1767225600123);
  EXPECT_FALSE(parse_snapshot_stamp("20000229T000000Z").has_value());
  EXPECT_FALSE(parse_snapshot_stamp("notes").has_value());
}

TEST(CrosswatchStore, ParsesIsoInstantsWithOffsetsAndFractions) {
  const auto base = parse_iso_instant("2024-01-02T03:04:05Z");
  ASSERT_TRUE(base.has_value());
  EXPECT_EQ(iso_utc(*base), "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(parse_iso_instant("2024-01-02T05:04:05+02:00"), base);
  EXPECT_EQ(parse_iso_instant("2024-01-01T22:04:05-0500"), base);
  EXPECT_EQ(parse_iso_instant("2024-01-02 03:04:05.250Z"), *base + 250);
  EXPECT_EQ(parse_iso_instant("2024-01-02T03:04:05.123456Z"), *base + 123);
  EXPECT_FALSE(parse_iso_instant("yesterday").has_value());
  EXPECT_FALSE(parse_iso_instant("2024-13-02T03:04:05Z").has_value());
  EXPECT_FALSE(parse_iso_instant("2024-01-02T03:04:05Zjunk").has_value());
}

TEST(CrosswatchStore, SerialisedDocumentsReadBack) {
  const std::vector<nlohmann::json> items = {{{"type", "movie"}, {"title", "Ä \"quoted\""}},
                                             {{"type", "episode"}, {"season", 1}}};
  const std::string text = serialise_feature("watchlist", items, 0);
  const FeatureDoc doc = parse_feature_document(text, "watchlist", "mem");
  EXPECT_TRUE(doc.existed);
  EXPECT_EQ(doc.items, items);
  EXPECT_THROW(parse_feature_document(text, "history", "mem"), cwsdk::Error);
}

TEST(CrosswatchStore, AtomicWriteCreatesFoldersAndReplacesContent) {
  TempDir dir;
  const fs::path file = dir.path() / "a" / "b" / "f.json";
  write_file_atomic(file, "one");
  write_file_atomic(file, "two");
  std::ifstream in(file);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);
}

TEST(CrosswatchStore, SnapshotsInOneMillisecondGetDistinctNames) {
  TempDir dir;
  const auto a = take_snapshot(dir.path(), "history", 1000);
  const auto b = take_snapshot(dir.path(), "history", 1000);
  EXPECT_NE(a, b);
  EXPECT_EQ(list_snapshots(dir.path(), "history").size(), 2u);
}

TEST(CrosswatchStore, ForeignFilesInTheSnapshotFolderAreLeftAlone) {
  TempDir dir;
  take_snapshot(dir.path(), "ratings", 1000);
  std::ofstream(dir.path() / "snapshots" / "ratings" / "README.txt") << "mine";
  std::ofstream(dir.path() / "snapshots" / "ratings" / "backup.json") << "{}";
  EXPECT_EQ(list_snapshots(dir.path(), "ratings").size(), 1u);
  prune_snapshots(dir.path(), "ratings", Retention{1, 0}, 10'000'000'000);
  EXPECT_TRUE(fs::exists(dir.path() / "snapshots" / "ratings" / "README.txt"));
  EXPECT_TRUE(fs::exists(dir.path() / "snapshots" / "ratings" / "backup.json"));
}

TEST(CrosswatchStore, PruneAppliesAgeThenCount) {
  TempDir dir;
  const std::int64_t day = 86400000;
  for (int i = 0; i < 5; ++i) take_snapshot(dir.path(), "progress", i * day);
  // At day 10 with max age 7 days: snapshots of days 0..2 are too old; keep 1 of 3..4.
  const auto removed = prune_snapshots(dir.path(), "progress", Retention{1, 7}, 10 * day);
  EXPECT_EQ(removed.size(), 4u);
  const auto left = list_snapshots(dir.path(), "progress");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].taken_ms, 4 * day);
}

}  // namespace

// read_items_text: the items of a read straight from the file's text (no tree of them),
// the same items as the checked read, and nothing (so the checked read names the problem)
// whenever the file is not sound.
TEST(CrosswatchStore, ItemsTextHasTheItemsOfTheCheckedRead) {
  TempDir dir;
  const fs::path file = dir.path() / "ratings.json";
  const std::string doc =
      "{\"format\":\"cw-crosswatch\",\"version\":1,\"feature\":\"ratings\",\"count\":3,"
      "\"extra\":{\"items\":[1],\"n\":[{\"x\":null}]},\"items\":[\n"
      "{\"type\":\"movie\",\"title\":\"\\u00c4 \\\"q\\\" \\\\ \\n\\t\\u0001\",\"rating\":7.5,"
      "\"ids\":{\"tmdb\":603,\"imdb\":\"tt0133093\"},\"big\":18446744073709551615,\"neg\":-3,"
      "\"e\":1.5e+300,\"flags\":[true,false,null,{}],\"empty\":[]},\n"
      "{\"type\":\"show\",\"title\":\"S\",\"extra\":{\"a\":{\"b\":[[]]}}},\n"
      "{}]}";
  write_file_atomic(file, doc);
  const auto text = read_items_text(file, "ratings");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->count, 3u);
  const auto streamed = nlohmann::json::parse("[" + text->text + "]");
  const FeatureDoc checked = read_feature_file(file, "ratings");
  EXPECT_EQ(streamed, nlohmann::json(checked.items));
  // A missing file has no items; so does an empty list.
  const auto none = read_items_text(dir.path() / "history.json", "history");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->count, 0u);
  EXPECT_EQ(none->text, "");
}

TEST(CrosswatchStore, ItemsTextRefusesWhatTheCheckedReadRefuses) {
  TempDir dir;
  const fs::path file = dir.path() / "watchlist.json";
  const std::string ok_items = "\"items\":[{\"type\":\"movie\"}]";
  for (const std::string& bad : {
           std::string("not json"),
           std::string("[1,2]"),
           "{\"format\":\"cw-crosswatch\",\"version\":1," + ok_items,  // cut short
           "{\"format\":\"other\",\"version\":1," + ok_items + "}",
           "{\"version\":1," + ok_items + "}",                                   // no format
           "{\"format\":\"cw-crosswatch\"," + ok_items + "}",                    // no version
           "{\"format\":\"cw-crosswatch\",\"version\":2," + ok_items + "}",      // newer
           "{\"format\":\"cw-crosswatch\",\"version\":\"1\"," + ok_items + "}",  // a string
           "{\"format\":\"cw-crosswatch\",\"version\":1,\"feature\":\"history\"," + ok_items + "}",
           "{\"format\":\"cw-crosswatch\",\"version\":1,\"feature\":null," + ok_items + "}",
           std::string("{\"format\":\"cw-crosswatch\",\"version\":1}"),  // no items
           std::string("{\"format\":\"cw-crosswatch\",\"version\":1,\"items\":{}}"),
           std::string("{\"format\":\"cw-crosswatch\",\"version\":1,\"items\":[1]}"),
           std::string("{\"format\":\"cw-crosswatch\",\"version\":1,\"items\":[[]]}"),
           "{\"format\":\"cw-crosswatch\",\"version\":1," + ok_items + "," + ok_items + "}",
           "{\"format\":\"cw-crosswatch\",\"version\":1," + ok_items + "} trailing",
       }) {
    write_file_atomic(file, bad);
    EXPECT_FALSE(read_items_text(file, "watchlist").has_value()) << bad;
  }
}
