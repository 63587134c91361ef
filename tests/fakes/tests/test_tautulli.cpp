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
  if (!history || !server_info || !users || !bad_key || !no_key || !meta_invalid || !meta_episode) {
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
}

}  // namespace
}  // namespace cw::fakes::testing
