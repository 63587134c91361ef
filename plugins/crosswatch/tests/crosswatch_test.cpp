// The provider through its C operation table: features, outcomes, files, snapshots,
// corruption and read-only handling.
#include "crosswatch.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "fake_host.hpp"
#include "ids.hpp"

namespace fs = std::filesystem;
using cw::crosswatch::Crosswatch;
using cw::crosswatch::testing::Call;
using cw::crosswatch::testing::FakeHost;
using cw::crosswatch::testing::Instance;
using cw::crosswatch::testing::TempDir;
using nlohmann::json;

namespace {

const cw_provider_api* table() { return cwsdk::detail::provider_table<Crosswatch>(); }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

json movie(const std::string& key, int tmdb, const std::string& imdb = "") {
  json ids = {{"tmdb", tmdb}};
  if (!imdb.empty()) ids["imdb"] = imdb;
  return {{"type", "movie"}, {"title", "Movie " + key}, {"year", 2001}, {"ids", ids}, {"key", key}};
}

json episode(const std::string& key, const json& show_ids, int season, int number) {
  return {{"type", "episode"},
          {"title", "Episode"},
          {"show", {{"title", "Show"}, {"year", 2008}, {"ids", show_ids}}},
          {"season", season},
          {"episode", number},
          {"key", key}};
}

json with(json item, const std::string& field, const json& value) {
  item[field] = value;
  return item;
}

std::map<std::string, std::string> statuses(const Call& c) {
  std::map<std::string, std::string> out;
  EXPECT_EQ(c.status, CW_STATUS_OK) << c.body;
  const json doc = c.json();
  for (const auto& o : doc["outcomes"]) out[o["key"]] = o["status"];
  return out;
}

size_t index_size(Instance& inst, const std::string& feature) {
  const Call c = inst.index(feature);
  EXPECT_EQ(c.status, CW_STATUS_OK) << c.body;
  return c.json()["items"].size();
}

class CrosswatchTest : public ::testing::Test {
 protected:
  json config(json extra = json::object()) {
    extra["root"] = (m_dir.path() / "tracker").string();
    return extra;
  }
  fs::path root() const { return m_dir.path() / "tracker"; }
  size_t snapshot_count(const std::string& feature) const {
    const fs::path dir = root() / "snapshots" / feature;
    if (!fs::exists(dir)) return 0;
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }

  TempDir m_dir;
  FakeHost m_host;
};

TEST(CrosswatchManifest, DeclaresAllFourFeaturesPresentAndTheSnapshotActions) {
  size_t len = 0;
  const char* text = table()->manifest(&len);
  const json m = json::parse(std::string(text, len));
  EXPECT_EQ(m["name"], "crosswatch");
  for (const char* f : {"watchlist", "history", "ratings", "progress"}) {
    ASSERT_TRUE(m["features"].contains(f)) << f;
    EXPECT_EQ(m["features"][f]["index_semantics"], "present") << f;
    EXPECT_TRUE(m["features"][f]["add"].get<bool>()) << f;
    EXPECT_TRUE(m["features"][f]["remove"].get<bool>()) << f;
    EXPECT_GT(m["features"][f]["chunk_size"].get<int>(), 0) << f;
  }
  EXPECT_TRUE(m["features"]["history"]["rewatches"].get<bool>());
  EXPECT_TRUE(m["features"]["history"]["writes_watch_date"].get<bool>());
  EXPECT_EQ(m["features"]["ratings"]["rating_scale"]["max"], 10);
  EXPECT_EQ(m["capabilities"]["auth"], "none");
  std::set<std::string> actions;
  for (const auto& a : m["actions"]) actions.insert(a["name"].get<std::string>());
  EXPECT_EQ(actions,
            (std::set<std::string>{"snapshot.list", "snapshot.restore", "snapshot.prune"}));
  EXPECT_EQ(m["config"]["required"], json::array({"root"}));
  for (const char* k : {"root", "snapshots", "rating_step", "read_only"})
    EXPECT_TRUE(m["config"]["properties"].contains(k)) << k;
  // Operations the manifest declares are all in the table.
  EXPECT_NE(table()->update, nullptr);
  EXPECT_NE(table()->action, nullptr);
  EXPECT_EQ(table()->auth_start, nullptr);
}

TEST_F(CrosswatchTest, CreateRejectsBadConfigurationWithTheKeyInTheMessage) {
  {
    Instance inst(table(), m_host, json::object());
    EXPECT_FALSE(inst.ok());
    EXPECT_NE(inst.create_error().find("root"), std::string::npos) << inst.create_error();
  }
  {
    Instance inst(table(), m_host, config({{"snapshots", {{"keep", -1}}}}));
    EXPECT_FALSE(inst.ok());
    EXPECT_NE(inst.create_error().find("snapshots.keep"), std::string::npos);
  }
  {
    Instance inst(table(), m_host, config({{"rating_step", 0}}));
    EXPECT_FALSE(inst.ok());
    EXPECT_NE(inst.create_error().find("rating_step"), std::string::npos);
  }
  {
    Instance inst(table(), m_host, config({{"colour", "blue"}}));
    EXPECT_FALSE(inst.ok());
    EXPECT_NE(inst.create_error().find("colour"), std::string::npos);
  }
  Instance good(table(), m_host,
                config({{"snapshots", {{"keep", 3}, {"max_age_days", 7}}},
                        {"rating_step", 0.5},
                        {"read_only", false}}));
  EXPECT_TRUE(good.ok()) << good.create_error();
}

TEST_F(CrosswatchTest, MissingFolderIsAnEmptyCompleteIndexAndIsNotCreatedByReads) {
  Instance inst(table(), m_host, config());
  ASSERT_TRUE(inst.ok());
  for (const char* f : {"watchlist", "history", "ratings", "progress"}) {
    const Call c = inst.index(f);
    ASSERT_EQ(c.status, CW_STATUS_OK) << c.body;
    const json r = c.json();
    EXPECT_TRUE(r["items"].empty());
    EXPECT_TRUE(r["complete"].get<bool>());
    EXPECT_EQ(r["received"], 0);
    EXPECT_EQ(r["expected_total"], 0);
    EXPECT_EQ(r["semantics"], "present");
  }
  EXPECT_FALSE(fs::exists(root()));
  const json h = inst.health().json();
  EXPECT_EQ(h["status"], "ok");
  EXPECT_TRUE(h["features"]["progress"].get<bool>());
}

TEST_F(CrosswatchTest, UnknownFeatureIsUnsupported) {
  Instance inst(table(), m_host, config());
  EXPECT_EQ(inst.index("playlists").status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(inst.call(table()->build_index, json::object()).status, CW_STATUS_INVALID_ARG);
}

TEST_F(CrosswatchTest, WatchlistAddIsConfirmedOnceAndSkippedWhenAlreadyThere) {
  Instance inst(table(), m_host, config());
  const Call first = inst.add("watchlist", {movie("a", 278, "tt0111161"), movie("b", 603)});
  ASSERT_EQ(first.status, CW_STATUS_OK) << first.body;
  EXPECT_EQ(statuses(first),
            (std::map<std::string, std::string>{{"a", "confirmed"}, {"b", "confirmed"}}));
  // Same item known by another shared id; and a number-vs-string id.
  json by_imdb = {
      {"type", "movie"}, {"title", "x"}, {"ids", {{"imdb", "TT0111161"}}}, {"key", "c"}};
  json by_string = {{"type", "movie"}, {"ids", {{"tmdb", "603"}}}, {"key", "d"}};
  const Call again = inst.add("watchlist", {by_imdb, by_string});
  EXPECT_EQ(statuses(again),
            (std::map<std::string, std::string>{{"c", "skipped"}, {"d", "skipped"}}));
  EXPECT_EQ(index_size(inst, "watchlist"), 2u);

  const json file = json::parse(read_text(root() / "watchlist.json"));
  EXPECT_EQ(file["format"], "cw-crosswatch");
  EXPECT_EQ(file["version"], 1);
  EXPECT_EQ(file["feature"], "watchlist");
  EXPECT_EQ(file["count"], 2);
  for (const auto& item : file["items"]) {
    EXPECT_FALSE(item.contains("key")) << "the host's keys are not stored";
  }
}

TEST_F(CrosswatchTest, AMovieAndAShowWithTheSameTmdbNumberAreDifferentItems) {
  Instance inst(table(), m_host, config());
  json show = {{"type", "show"}, {"title", "S"}, {"ids", {{"tmdb", 278}}}, {"key", "show"}};
  ASSERT_EQ(statuses(inst.add("watchlist", {movie("m", 278)}))["m"], "confirmed");
  EXPECT_EQ(statuses(inst.add("watchlist", {show}))["show"], "confirmed");
  EXPECT_EQ(index_size(inst, "watchlist"), 2u);
}

TEST_F(CrosswatchTest, WatchlistRemoveIsConfirmedThenSkipped) {
  Instance inst(table(), m_host, config());
  inst.add("watchlist", {movie("a", 1), movie("b", 2)});
  EXPECT_EQ(statuses(inst.remove("watchlist", {movie("a", 1)}))["a"], "confirmed");
  EXPECT_EQ(statuses(inst.remove("watchlist", {movie("a", 1)}))["a"], "skipped");
  const json items = inst.index("watchlist").json()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["ids"]["tmdb"], 2);
}

TEST_F(CrosswatchTest, EpisodesMatchByShowIdsSeasonAndNumber) {
  Instance inst(table(), m_host, config());
  inst.add("watchlist", {episode("e1", {{"tvdb", 81189}}, 1, 2)});
  // The same episode, the show named by another id set that shares tvdb.
  const Call same =
      inst.add("watchlist", {episode("e2", {{"tvdb", "81189"}, {"tmdb", 1396}}, 1, 2)});
  EXPECT_EQ(statuses(same)["e2"], "skipped");
  const Call other = inst.add("watchlist", {episode("e3", {{"tvdb", 81189}}, 1, 3),
                                            episode("e4", {{"tvdb", 81189}}, 2, 2)});
  EXPECT_EQ(statuses(other),
            (std::map<std::string, std::string>{{"e3", "confirmed"}, {"e4", "confirmed"}}));
  EXPECT_EQ(index_size(inst, "watchlist"), 3u);
}

TEST_F(CrosswatchTest, HistoryKeepsEachPlayAndMatchesPlaysByItemAndTime) {
  Instance inst(table(), m_host, config());
  const json m = movie("m", 603);
  const Call first =
      inst.add("history", {with(m, "watched_at", "2024-01-02T03:04:05Z"),
                           with(with(m, "key", "m2"), "watched_at", "2024-03-01T20:00:00Z")});
  EXPECT_EQ(statuses(first),
            (std::map<std::string, std::string>{{"m", "confirmed"}, {"m2", "confirmed"}}));
  // The first play again, written with an offset and fraction: the same instant.
  const Call repeat = inst.add("history", {with(m, "watched_at", "2024-01-02T04:04:05.000+01:00")});
  EXPECT_EQ(statuses(repeat)["m"], "skipped");
  EXPECT_EQ(index_size(inst, "history"), 2u);

  const Call no_date = inst.add("history", {with(m, "key", "nd")});
  const json o = no_date.json()["outcomes"][0];
  EXPECT_EQ(o["status"], "unresolved");
  EXPECT_EQ(o["reason"], "rejected");

  // Removing one play leaves the other.
  EXPECT_EQ(statuses(inst.remove("history", {with(m, "watched_at", "2024-03-01T20:00:00Z")}))["m"],
            "confirmed");
  const json items = inst.index("history").json()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["watched_at"], "2024-01-02T03:04:05Z");
  // Without a time, every play of the item goes.
  inst.add("history", {with(m, "watched_at", "2025-01-01T00:00:00Z")});
  EXPECT_EQ(statuses(inst.remove("history", {m}))["m"], "confirmed");
  EXPECT_EQ(index_size(inst, "history"), 0u);
}

TEST_F(CrosswatchTest, HistoryRejectsShowsAndSeasons) {
  Instance inst(table(), m_host, config());
  json show = {{"type", "show"},
               {"ids", {{"tmdb", 1}}},
               {"watched_at", "2024-01-01T00:00:00Z"},
               {"key", "s"}};
  const json o = inst.add("history", {show}).json()["outcomes"][0];
  EXPECT_EQ(o["status"], "unresolved");
  EXPECT_EQ(o["reason"], "rejected");
  EXPECT_FALSE(fs::exists(root() / "history.json"));
}

TEST_F(CrosswatchTest, RatingsAddUpdateAndValidation) {
  Instance inst(table(), m_host, config());
  const json m = movie("m", 278);
  EXPECT_EQ(statuses(inst.add("ratings", {with(m, "rating", 8)}))["m"], "confirmed");
  EXPECT_EQ(statuses(inst.update("ratings", {with(m, "rating", 8)}))["m"], "skipped");
  EXPECT_EQ(statuses(inst.update("ratings", {with(m, "rating", 6)}))["m"], "confirmed");
  json items = inst.index("ratings").json()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["rating"], 6);
  EXPECT_TRUE(items[0].contains("rated_at"));

  const json missing =
      inst.update("ratings", {with(movie("x", 999), "rating", 5)}).json()["outcomes"][0];
  EXPECT_EQ(missing["status"], "unresolved");
  EXPECT_EQ(missing["reason"], "not_found");
  const json too_big =
      inst.add("ratings", {with(movie("y", 5), "rating", 11)}).json()["outcomes"][0];
  EXPECT_EQ(too_big["reason"], "rejected");
  const json none = inst.add("ratings", {movie("z", 6)}).json()["outcomes"][0];
  EXPECT_EQ(none["reason"], "rejected");
  // Ratings are kept at step 1 by default: 7.4 is stored as 7.
  inst.add("ratings", {with(movie("w", 7), "rating", 7.4)});
  items = inst.index("ratings").json()["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["rating"], 7);
}

TEST_F(CrosswatchTest, RatingStepIsConfigurable) {
  Instance inst(table(), m_host, config({{"rating_step", 0.5}}));
  inst.add("ratings", {with(movie("m", 1), "rating", 7.4)});
  EXPECT_DOUBLE_EQ(inst.index("ratings").json()["items"][0]["rating"].get<double>(), 7.5);
}

TEST_F(CrosswatchTest, ProgressUpdateReplacesThePosition) {
  Instance inst(table(), m_host, config());
  json e = with(with(episode("e", {{"tmdb", 1396}}, 1, 1), "progress_ms", 60000), "duration_ms",
                2700000);
  EXPECT_EQ(statuses(inst.add("progress", {e}))["e"], "confirmed");
  EXPECT_EQ(statuses(inst.update("progress", {e}))["e"], "skipped");
  EXPECT_EQ(statuses(inst.update("progress", {with(e, "progress_ms", 120000)}))["e"], "confirmed");
  const json items = inst.index("progress").json()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["progress_ms"], 120000);
  EXPECT_EQ(items[0]["duration_ms"], 2700000);
  const json bad = inst.add("progress", {with(e, "progress_ms", "soon")}).json()["outcomes"][0];
  EXPECT_EQ(bad["reason"], "rejected");
}

TEST_F(CrosswatchTest, UpdateOfWatchlistIsUnsupported) {
  Instance inst(table(), m_host, config());
  EXPECT_EQ(inst.update("watchlist", {movie("a", 1)}).status, CW_STATUS_UNSUPPORTED);
}

TEST_F(CrosswatchTest, OneOutcomePerItemAndDuplicatesInOneBatchAreSkipped) {
  Instance inst(table(), m_host, config());
  std::vector<json> items;
  for (int i = 0; i < 50; ++i) items.push_back(movie("k" + std::to_string(i), 1000 + i));
  items.push_back(movie("dup", 1000));
  items.push_back("not an item");
  items.push_back({{"type", 7}, {"key", "odd"}});
  const json outcomes = inst.add("watchlist", items).json()["outcomes"];
  ASSERT_EQ(outcomes.size(), items.size());
  EXPECT_EQ(outcomes[50]["key"], "dup");
  EXPECT_EQ(outcomes[50]["status"], "skipped");
  EXPECT_EQ(outcomes[51]["status"], "unresolved");
  EXPECT_EQ(outcomes[52]["key"], "odd");
  EXPECT_EQ(outcomes[52]["reason"], "rejected");
  EXPECT_EQ(index_size(inst, "watchlist"), 50u);
}

TEST_F(CrosswatchTest, WritesLeaveNoTemporaryFiles) {
  Instance inst(table(), m_host, config());
  inst.add("watchlist", {movie("a", 1)});
  inst.add("watchlist", {movie("b", 2)});
  for (const auto& e : fs::recursive_directory_iterator(root()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(CrosswatchTest, ChangingWritesSnapshotThePreviousFileAndNoOpWritesDoNot) {
  Instance inst(table(), m_host, config());
  inst.add("watchlist", {movie("a", 1)});
  EXPECT_EQ(snapshot_count("watchlist"), 1u);  // the empty state before the first write
  const std::string after_first = read_text(root() / "watchlist.json");
  m_host.now_ms += 1000;
  inst.add("watchlist", {movie("b", 2)});
  ASSERT_EQ(snapshot_count("watchlist"), 2u);
  // The newest snapshot is byte for byte the file as it was before the write.
  std::vector<fs::path> snaps;
  for (const auto& e : fs::directory_iterator(root() / "snapshots" / "watchlist"))
    snaps.push_back(e.path());
  std::sort(snaps.begin(), snaps.end());
  EXPECT_EQ(read_text(snaps.back()), after_first);
  EXPECT_EQ(snaps.back().filename().string(), "20260101T000001.000Z.json");
  // Nothing to change: no snapshot, file untouched.
  inst.add("watchlist", {movie("b", 2)});
  inst.remove("watchlist", {movie("zz", 99)});
  EXPECT_EQ(snapshot_count("watchlist"), 2u);
}

TEST_F(CrosswatchTest, RetentionKeepsTheNewestByCount) {
  Instance inst(table(), m_host, config({{"snapshots", {{"keep", 3}, {"max_age_days", 0}}}}));
  for (int i = 0; i < 6; ++i) {
    m_host.now_ms += 60000;
    inst.add("watchlist", {movie("m" + std::to_string(i), i + 1)});
  }
  EXPECT_EQ(snapshot_count("watchlist"), 3u);
  const json list = inst.action("snapshot.list", {{"feature", "watchlist"}}).json();
  const json snaps = list["features"]["watchlist"]["snapshots"];
  ASSERT_EQ(snaps.size(), 3u);
  // Kept: the states before writes 4, 5 and 6, holding 3, 4 and 5 items.
  EXPECT_EQ(snaps[0]["items"], 3);
  EXPECT_EQ(snaps[2]["items"], 5);
  EXPECT_EQ(list["features"]["watchlist"]["current_items"], 6);
}

TEST_F(CrosswatchTest, RetentionDropsSnapshotsOlderThanMaxAge) {
  Instance inst(table(), m_host, config({{"snapshots", {{"keep", 0}, {"max_age_days", 30}}}}));
  inst.add("watchlist", {movie("a", 1)});
  m_host.now_ms += 86400000LL;
  inst.add("watchlist", {movie("b", 2)});
  EXPECT_EQ(snapshot_count("watchlist"), 2u);
  m_host.now_ms += 40 * 86400000LL;
  inst.add("watchlist", {movie("c", 3)});
  // The two old ones are past 30 days; only the one just taken remains.
  EXPECT_EQ(snapshot_count("watchlist"), 1u);
  m_host.now_ms += 40 * 86400000LL;
  const json pruned = inst.action("snapshot.prune", json::object()).json();
  EXPECT_EQ(pruned["removed"]["watchlist"].size(), 1u);
  EXPECT_EQ(snapshot_count("watchlist"), 0u);
}

TEST_F(CrosswatchTest, RestoreBringsBackASnapshotAndKeepsTheCurrentFileAsASnapshot) {
  Instance inst(table(), m_host, config());
  inst.add("ratings", {with(movie("a", 1), "rating", 8), with(movie("b", 2), "rating", 9)});
  m_host.now_ms += 1000;
  inst.remove("ratings", {movie("a", 1), movie("b", 2)});
  ASSERT_EQ(index_size(inst, "ratings"), 0u);
  const json list = inst.action("snapshot.list", {{"feature", "ratings"}}).json();
  const json snaps = list["features"]["ratings"]["snapshots"];
  ASSERT_EQ(snaps.size(), 2u);
  const std::string with_two = snaps[1]["timestamp"];
  EXPECT_EQ(snaps[1]["items"], 2);

  m_host.now_ms += 1000;
  const Call r = inst.action("snapshot.restore", {{"feature", "ratings"}, {"timestamp", with_two}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(r.json()["items"], 2);
  EXPECT_EQ(index_size(inst, "ratings"), 2u);
  // The emptied file it replaced is now the newest snapshot.
  const json after = inst.action("snapshot.list", {{"feature", "ratings"}}).json();
  const json snaps_after = after["features"]["ratings"]["snapshots"];
  ASSERT_EQ(snaps_after.size(), 3u);
  EXPECT_EQ(snaps_after[2]["items"], 0);
  EXPECT_EQ(snaps_after[2]["timestamp"], r.json()["previous_snapshot"]);

  const Call missing = inst.action("snapshot.restore",
                                   {{"feature", "ratings"}, {"timestamp", "20000101T000000.000Z"}});
  EXPECT_EQ(missing.status, CW_STATUS_NOT_FOUND);
  EXPECT_EQ(inst.action("snapshot.restore", {{"feature", "ratings"}}).status,
            CW_STATUS_INVALID_ARG);
  EXPECT_EQ(inst.action("snapshot.explode", json::object()).status, CW_STATUS_UNSUPPORTED);
}

TEST_F(CrosswatchTest, RestoreLatestAfterACorruptFile) {
  Instance inst(table(), m_host, config());
  inst.add("watchlist", {movie("a", 1)});
  m_host.now_ms += 1000;
  inst.add("watchlist", {movie("b", 2)});
  write_text(root() / "watchlist.json", "{\"format\":\"cw-crosswatch\",\n\"items\": [oops");
  ASSERT_EQ(inst.index("watchlist").status, CW_STATUS_INTERNAL);
  m_host.now_ms += 1000;
  const Call r =
      inst.action("snapshot.restore", {{"feature", "watchlist"}, {"timestamp", "latest"}});
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.body;
  EXPECT_EQ(index_size(inst, "watchlist"), 1u);
}

TEST_F(CrosswatchTest, CorruptFileFailsWithFileAndPositionAndIsNeverOverwritten) {
  const std::string corrupt =
      "{\"format\":\"cw-crosswatch\",\"version\":1,\"items\":[\n{\"type\":\"movie\"},\n{\"type\" "
      "\"x\"}\n]}";
  write_text(root() / "history.json", corrupt);
  Instance inst(table(), m_host, config());
  const Call c = inst.index("history");
  ASSERT_EQ(c.status, CW_STATUS_INTERNAL);
  const std::string message = c.json()["message"];
  EXPECT_NE(message.find("history.json"), std::string::npos) << message;
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("column"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);

  const Call w = inst.add("history", {with(movie("m", 1), "watched_at", "2024-01-01T00:00:00Z")});
  EXPECT_EQ(w.status, CW_STATUS_INTERNAL);
  EXPECT_EQ(read_text(root() / "history.json"), corrupt);
  EXPECT_FALSE(fs::exists(root() / "snapshots" / "history"));
}

TEST_F(CrosswatchTest, WrongShapeOrNewerVersionIsAnError) {
  Instance inst(table(), m_host, config());
  write_text(root() / "ratings.json", R"({"format":"cw-crosswatch","version":7,"items":[]})");
  const Call newer = inst.index("ratings");
  EXPECT_EQ(newer.status, CW_STATUS_INTERNAL);
  EXPECT_NE(newer.body.find("newer"), std::string::npos);
  write_text(root() / "progress.json",
             R"({"format":"cw-crosswatch","version":1,"feature":"ratings","items":[]})");
  EXPECT_EQ(inst.index("progress").status, CW_STATUS_INTERNAL);
  write_text(root() / "watchlist.json", R"([1,2,3])");
  EXPECT_EQ(inst.index("watchlist").status, CW_STATUS_INTERNAL);
}

TEST_F(CrosswatchTest, AFileReplacedBehindTheInstanceIsReadAgain) {
  Instance inst(table(), m_host, config());
  inst.add("watchlist", {movie("a", 1)});
  ASSERT_EQ(index_size(inst, "watchlist"), 1u);
  Instance other(table(), m_host, config());
  other.add("watchlist", {movie("b", 2), movie("c", 3)});
  EXPECT_EQ(index_size(inst, "watchlist"), 3u);
  EXPECT_EQ(statuses(inst.add("watchlist", {movie("c", 3)}))["c"], "skipped");
}

TEST_F(CrosswatchTest, TwoInstancesOnOneRootWritingFromTwoThreadsLoseNothing) {
  Instance a(table(), m_host, config({{"snapshots", {{"keep", 2}}}}));
  Instance b(table(), m_host, config({{"snapshots", {{"keep", 2}}}}));
  const auto writer = [](Instance& inst, int base) {
    for (int batch = 0; batch < 10; ++batch) {
      std::vector<json> items;
      for (int i = 0; i < 5; ++i) items.push_back(movie("m", base + batch * 5 + i));
      inst.add("watchlist", items);
    }
  };
  std::thread ta(writer, std::ref(a), 1000);
  std::thread tb(writer, std::ref(b), 2000);
  ta.join();
  tb.join();
  EXPECT_EQ(index_size(a, "watchlist"), 100u);
  EXPECT_EQ(index_size(b, "watchlist"), 100u);
}

TEST_F(CrosswatchTest, ReadOnlyRefusesWritesAndCreatesNothing) {
  Instance inst(table(), m_host, config({{"read_only", true}}));
  EXPECT_EQ(inst.add("watchlist", {movie("a", 1)}).status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(inst.remove("watchlist", {movie("a", 1)}).status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(inst.action("snapshot.prune", json::object()).status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(inst.index("watchlist").status, CW_STATUS_OK);
  EXPECT_FALSE(fs::exists(root()));
}

TEST_F(CrosswatchTest, HealthReportsARootThatIsAFile) {
  write_text(root(), "not a folder");
  Instance inst(table(), m_host, config());
  EXPECT_EQ(inst.health().json()["status"], "down");
}

TEST(CrosswatchDemoLibrary, LoadsEveryFeatureWithoutDuplicates) {
  const fs::path lib = CW_DEMO_LIBRARY_DIR;
  if (!fs::exists(lib / "watchlist.json")) GTEST_SKIP() << "no demo library at " << lib;
  FakeHost host;
  Instance inst(table(), host, {{"root", lib.string()}, {"read_only", true}});
  ASSERT_TRUE(inst.ok()) << inst.create_error();
  size_t movies = 0;
  size_t episodes = 0;
  for (const char* f : {"watchlist", "history", "ratings", "progress"}) {
    const Call c = inst.index(f);
    ASSERT_EQ(c.status, CW_STATUS_OK) << f << ": " << c.body;
    const json items = c.json()["items"];
    EXPECT_FALSE(items.empty()) << f;
    std::set<std::string> seen;
    for (const auto& item : items) {
      const std::string type = item["type"];
      movies += type == "movie";
      episodes += type == "episode";
      // Every alias of every entry is unique within the feature, except history plays
      // of one item, which differ by watched_at.
      const std::string suffix =
          std::string(f) == "history" ? "@" + item["watched_at"].get<std::string>() : "";
      for (const auto& alias : cw::crosswatch::identity_aliases(item))
        EXPECT_TRUE(seen.insert(alias + suffix).second) << f << ": duplicate " << alias << suffix;
    }
  }
  EXPECT_GT(movies, 100u);
  EXPECT_GT(episodes, 100u);
}

}  // namespace
