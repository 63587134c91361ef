#include <map>

#include "tests/server_harness.hpp"

namespace cw::fakes::testing {
namespace {

const std::string k_key = "0123456789abcdef0123456789abcdef";
const std::string k_dart = "api-reference/tautulli/fixtures/tautulli-dart-v2.17.2/";

class TautulliTest : public ServerTest {
 protected:
  void SetUp() override { start("tautulli"); }
  json cmd(const std::string& query, int expect_status = 200) {
    auto r = m_client->Get("/api/v2?apikey=" + k_key + "&" + query);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expect_status) << query;
    return body(r);
  }
};

TEST_F(TautulliTest, KeyErrorsUseTheEnvelope) {
  auto no_key = m_client->Get("/api/v2?cmd=get_history");
  EXPECT_EQ(no_key->status, 400);
  EXPECT_EQ(body(no_key)["response"]["message"], "Parameter apikey is required");
  auto bad_key = m_client->Get("/api/v2?apikey=wrong&cmd=get_history");
  EXPECT_EQ(body(bad_key)["response"]["message"], "Invalid apikey");
  auto unknown = cmd("cmd=nope", 400);
  EXPECT_EQ(unknown["response"]["result"], "error");
  EXPECT_EQ(unknown["response"]["message"].get<std::string>().rfind("Unknown command: nope.", 0),
            0u);
  seed({{"auth_error_status", 401}});
  EXPECT_EQ(m_client->Get("/api/v2?apikey=wrong&cmd=get_history")->status, 401);
}

TEST_F(TautulliTest, HistoryPagesWithStartLengthAndRecordsFiltered) {
  const json u = small_universe();
  seed_universe(u);
  auto first = cmd("cmd=get_history&start=0&length=15&order_column=date&order_dir=desc");
  const auto& data = first["response"]["data"];
  EXPECT_EQ(data["recordsTotal"], 40);
  EXPECT_EQ(data["recordsFiltered"], 40);
  ASSERT_EQ(data["data"].size(), 15u);
  auto last = cmd("cmd=get_history&start=30&length=15");
  EXPECT_EQ(last["response"]["data"]["data"].size(), 10u);
  for (std::size_t i = 1; i < data["data"].size(); ++i) {
    EXPECT_GE(data["data"][i - 1]["date"].get<std::int64_t>(),
              data["data"][i]["date"].get<std::int64_t>());
  }
  auto movies = cmd("cmd=get_history&media_type=movie&length=1000");
  for (const auto& row : movies["response"]["data"]["data"]) {
    EXPECT_EQ(row["media_type"], "movie");
    EXPECT_EQ(row["parent_rating_key"], "");  // empty strings, not null, for movies
  }
  EXPECT_LT(movies["response"]["data"]["recordsFiltered"].get<int>(), 40);
}

TEST_F(TautulliTest, MetadataForPlayedItemsAndEmptyForUnknown) {
  seed_universe(small_universe());
  auto rows = cmd("cmd=get_history&length=1000")["response"]["data"]["data"];
  const json* episode = nullptr;
  for (const auto& r : rows) {
    if (r["media_type"] == "episode") episode = &r;
  }
  ASSERT_NE(episode, nullptr);
  auto meta = cmd("cmd=get_metadata&rating_key=" +
                  std::to_string((*episode)["rating_key"].get<std::int64_t>()));
  EXPECT_EQ(meta["response"]["data"]["media_type"], "episode");
  EXPECT_TRUE(meta["response"]["data"].contains("grandparent_guids"));
  auto unknown = cmd("cmd=get_metadata&rating_key=999999999");
  EXPECT_EQ(unknown["response"]["result"], "success");
  EXPECT_TRUE(unknown["response"]["data"].empty());
}

TEST_F(TautulliTest, HistoryRatingKeysPointIntoThePlexFake) {
  const json u = small_universe();
  seed_universe(u);
  SandboxServer plex(make_fake("plex"));
  plex.service().seed_universe(u);
  plex.start();
  httplib::Client pc("127.0.0.1", plex.port());
  auto rows = cmd("cmd=get_history&length=1000")["response"]["data"]["data"];
  ASSERT_FALSE(rows.empty());
  for (std::size_t i = 0; i < rows.size(); i += 7) {
    const auto& row = rows[i];
    auto r = pc.Get("/library/metadata/" + std::to_string(row["rating_key"].get<std::int64_t>()),
                    {{"Accept", "application/json"}, {"X-Plex-Token", "plex-pms-owner-token"}});
    ASSERT_EQ(r->status, 200);
    const auto item = json::parse(r->body)["MediaContainer"]["Metadata"][0];
    EXPECT_EQ(item["title"], row["title"]);
    EXPECT_EQ(item["guid"], row["guid"]);
  }
}

TEST_F(TautulliTest, ServerInfoAndFaults) {
  auto info = cmd("cmd=get_server_info");
  EXPECT_EQ(info["response"]["data"]["pms_port"], 32400);
  fault({{"endpoint", "^/api/v2$"}, {"status", 503}, {"count", 1}});
  auto r = m_client->Get("/api/v2?apikey=" + k_key + "&cmd=get_server_info");
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(body(r)["response"]["result"], "error");
  fault({{"endpoint", "^/api/v2$"}, {"expire_token", true}, {"count", 1}});
  EXPECT_EQ(body(m_client->Get("/api/v2?apikey=" + k_key +
                               "&cmd=get_server_info"))["response"]["message"],
            "Invalid apikey");
}

TEST_F(TautulliTest, ActivityCountsSeededSessionsWithAStringStreamCount) {
  auto idle = cmd("cmd=get_activity")["response"]["data"];
  EXPECT_EQ(idle["stream_count"], "0");
  EXPECT_TRUE(idle["sessions"].is_array());
  EXPECT_EQ(idle["total_bandwidth"], 0);
  seed({{"sessions",
         {{{"session_key", "2"},
           {"session_id", "abc"},
           {"media_type", "movie"},
           {"transcode_decision", "transcode"},
           {"bandwidth", "10278"},
           {"location", "lan"}},
          {{"session_key", "7"},
           {"session_id", "def"},
           {"media_type", "episode"},
           {"transcode_decision", "direct play"},
           {"bandwidth", "2000"},
           {"location", "wan"}}}}});
  auto busy = cmd("cmd=get_activity")["response"]["data"];
  EXPECT_EQ(busy["stream_count"], "2");
  EXPECT_EQ(busy["sessions"].size(), 2u);
  EXPECT_EQ(busy["stream_count_transcode"], 1);
  EXPECT_EQ(busy["stream_count_direct_play"], 1);
  EXPECT_EQ(busy["stream_count_direct_stream"], 0);
  EXPECT_EQ(busy["total_bandwidth"], 12278);
  EXPECT_EQ(busy["lan_bandwidth"], 10278);
  EXPECT_EQ(busy["wan_bandwidth"], 2000);
  EXPECT_EQ(cmd("cmd=get_activity&session_key=7")["response"]["data"]["session_id"], "def");
  EXPECT_EQ(cmd("cmd=get_activity&session_id=abc")["response"]["data"]["session_key"], "2");
  EXPECT_TRUE(cmd("cmd=get_activity&session_key=99")["response"]["data"].empty());
}

TEST_F(TautulliTest, HomeStatsIsAnArrayOfCardsFromTheHistory) {
  seed_universe(small_universe());
  // The generated plays lie in the past year; a long time range sees them all.
  auto stats = cmd("cmd=get_home_stats&time_range=100000")["response"]["data"];
  ASSERT_TRUE(stats.is_array());
  std::map<std::string, json> cards;
  for (const auto& c : stats) cards[c["stat_id"].get<std::string>()] = c;
  for (const char* id : {"top_movies", "popular_movies", "top_tv", "popular_tv", "last_watched",
                         "top_users", "top_platforms", "top_libraries", "most_concurrent"}) {
    ASSERT_TRUE(cards.count(id)) << id;
    EXPECT_TRUE(cards[id]["rows"].is_array()) << id;
  }
  EXPECT_EQ(cards["top_movies"]["stat_type"], "total_plays");
  EXPECT_FALSE(cards["popular_movies"].contains("stat_type"));
  ASSERT_FALSE(cards["top_movies"]["rows"].empty());
  EXPECT_EQ(cards["top_movies"]["rows"][0]["media_type"], "movie");
  EXPECT_TRUE(cards["popular_tv"]["rows"][0]["users_watched"].is_number());
  std::int64_t plays = 0;
  for (const auto& row : cards["top_users"]["rows"]) plays += row["total_plays"].get<int>();
  EXPECT_EQ(plays, 40);
  EXPECT_LE(cards["last_watched"]["rows"].size(), 10u);
  auto one =
      cmd("cmd=get_home_stats&time_range=100000&stat_id=top_tv&stats_count=2&"
          "stats_type=duration")["response"]["data"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["stat_type"], "total_duration");
  EXPECT_LE(one[0]["rows"].size(), 2u);
  // Nothing in the default 30 days of a history that ended long ago... or some: never an error.
  EXPECT_EQ(cmd("cmd=get_home_stats")["response"]["result"], "success");
  auto bad = cmd("cmd=get_home_stats&before=yesterday", 400);
  EXPECT_EQ(bad["response"]["result"], "error");
  EXPECT_TRUE(bad["response"]["message"].is_null());
}

TEST_F(TautulliTest, SharedLibrariesComeAsAListOrAsTheOlderJoinedString) {
  auto users = cmd("cmd=get_users")["response"]["data"];
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0]["shared_libraries"], json::array());
  EXPECT_EQ(users[1]["shared_libraries"], json::array({"1", "2"}));
  seed({{"users",
         {{{"user_id", 5}, {"username", "a"}, {"shared_libraries", "3;4"}},
          {{"user_id", 6}, {"username", "b"}, {"shared_libraries", json::array({"7"})}}}}});
  users = cmd("cmd=get_users")["response"]["data"];
  EXPECT_EQ(users[0]["shared_libraries"], json::array({"3", "4"}));
  EXPECT_EQ(users[1]["shared_libraries"], json::array({"7"}));
  seed({{"shared_libraries_form", "string"},
        {"users",
         {{{"user_id", 5}, {"username", "a"}, {"shared_libraries", json::array({"3", "4"})}},
          {{"user_id", 6}, {"username", "b"}, {"shared_libraries", ""}}}}});
  users = cmd("cmd=get_users")["response"]["data"];
  EXPECT_EQ(users[0]["shared_libraries"], "3;4");
  EXPECT_EQ(users[1]["shared_libraries"], "");
  EXPECT_EQ(cmd("cmd=get_user&user_id=5")["response"]["data"]["shared_libraries"], "3;4");
}

TEST_F(TautulliTest, UnservedPathsAreABare404) {
  auto r = m_client->Get("/api/v3?apikey=" + k_key + "&cmd=get_history");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "");
}

// Captures from a live Tautulli (tautulli-dart, internal reference only: read at test time, never
// copied) come back unchanged when their rows are seeded.
TEST_F(TautulliTest, ServesRecordedRepliesUnchanged) {
  auto history = read_shared_json(k_dart + "history/get_history.json");
  auto server_info = read_shared_json(k_dart + "plex/get_server_info.json");
  auto users = read_shared_json(k_dart + "user/get_users.json");
  auto bad_key = read_shared_json(k_dart + "auth/auth__bad_key.json");
  auto no_key = read_shared_json(k_dart + "auth/auth__no_key.json");
  auto meta_invalid = read_shared_json(k_dart + "media/get_metadata__invalid.json");
  auto meta_episode = read_shared_json(k_dart + "media/get_metadata__episode.json");
  auto activity = read_shared_json(k_dart + "activity/get_activity__live.json");
  auto idle = read_shared_json(k_dart + "activity/get_activity.json");
  if (!history || !server_info || !users || !bad_key || !no_key || !meta_invalid || !meta_episode ||
      !activity || !idle) {
    GTEST_SKIP() << "../shared/api-reference/tautulli is absent";
  }
  const auto& hd = (*history)["response"]["data"];
  const auto& ep = (*meta_episode)["response"]["data"];
  seed({{"history", hd["data"]},
        {"records_total", hd["recordsTotal"]},
        {"records_filtered", hd["recordsFiltered"]},
        {"total_duration", hd["total_duration"]},
        {"filter_duration", hd["filter_duration"]},
        {"server_info", (*server_info)["response"]["data"]},
        {"users", (*users)["response"]["data"]},
        {"metadata", {{ep["rating_key"].get<std::string>(), ep}}}});
  EXPECT_EQ(cmd("cmd=get_history&length=" + std::to_string(hd["data"].size())), *history);
  EXPECT_EQ(cmd("cmd=get_server_info"), *server_info);
  EXPECT_EQ(cmd("cmd=get_users"), *users);
  EXPECT_EQ(cmd("cmd=get_metadata&rating_key=1"), *meta_invalid);
  EXPECT_EQ(cmd("cmd=get_metadata&rating_key=" + ep["rating_key"].get<std::string>()),
            *meta_episode);
  EXPECT_EQ(body(m_client->Get("/api/v2?apikey=nope&cmd=get_history")), *bad_key);
  EXPECT_EQ(body(m_client->Get("/api/v2?cmd=get_history")), *no_key);
  EXPECT_EQ(cmd("cmd=get_activity"), *idle);
  seed({{"sessions", (*activity)["response"]["data"]["sessions"]}});
  EXPECT_EQ(cmd("cmd=get_activity"), *activity);
}

}  // namespace
}  // namespace cw::fakes::testing
