// The Tautulli plugin on the SDK's mock host: paging with honest completeness, the watched
// threshold, ids from get_metadata cached in the kv store, key errors as AUTH, and replies that
// are broken in every way a service can break them.
#include "tautulli.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cwsdk/testing/mock_host.hpp>

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::PluginInstance;
using cwsdk::testing::RecordedRequest;

namespace {

const std::string k_key = "0123456789abcdef0123456789abcdef";

Json envelope(const Json& data, const std::string& result = "success",
              const Json& message = nullptr) {
  return {{"response", {{"result", result}, {"message", message}, {"data", data}}}};
}

Json movie_row(int row_id, int rating_key, std::int64_t date, Json percent = 100) {
  return {{"row_id", row_id},
          {"reference_id", row_id},
          {"date", date},
          {"started", date},
          {"stopped", date + 5400},
          {"user_id", 133788},
          {"media_type", "movie"},
          {"rating_key", rating_key},
          {"parent_rating_key", ""},
          {"grandparent_rating_key", ""},
          {"title", "Movie " + std::to_string(rating_key)},
          {"full_title", "Movie " + std::to_string(rating_key)},
          {"year", 2001},
          {"media_index", ""},
          {"parent_media_index", ""},
          {"guid", "plex://movie/5d77" + std::to_string(rating_key)},
          {"percent_complete", std::move(percent)},
          {"watched_status", 1}};
}

Json episode_row(int row_id, int rating_key, std::int64_t date, int season, int episode) {
  return {{"row_id", row_id},
          {"date", date},
          {"started", date},
          {"stopped", date + 1800},
          {"user_id", 133788},
          {"media_type", "episode"},
          {"rating_key", rating_key},
          {"parent_rating_key", 48200},
          {"grandparent_rating_key", 48190},
          {"title", "Episode " + std::to_string(episode)},
          {"grandparent_title", "Breaking Bad"},
          {"full_title", "Breaking Bad - Episode " + std::to_string(episode)},
          {"year", 2008},
          {"media_index", episode},
          {"parent_media_index", season},
          {"guid", "plex://episode/5d9c" + std::to_string(rating_key)},
          {"percent_complete", 97},
          {"watched_status", 1}};
}

Json movie_meta(int rating_key) {
  return {{"rating_key", std::to_string(rating_key)},
          {"media_type", "movie"},
          {"guid", "plex://movie/5d77" + std::to_string(rating_key)},
          {"guids", Json::array({"imdb://tt" + std::to_string(1000000 + rating_key),
                                 "tmdb://" + std::to_string(rating_key), "tvdb://77"})}};
}

Json episode_meta(int rating_key) {
  return {{"rating_key", std::to_string(rating_key)},
          {"media_type", "episode"},
          {"guid", "plex://episode/5d9c" + std::to_string(rating_key)},
          {"guids", Json::array({"imdb://tt0959621", "tmdb://62085", "tvdb://349232"})},
          {"grandparent_rating_key", "48190"},
          {"grandparent_title", "Breaking Bad"},
          {"grandparent_guid", "plex://show/5d9c086c46115600200aa2fe"},
          {"grandparent_guids", Json::array({"imdb://tt0903747", "tmdb://1396", "tvdb://81189"})}};
}

class TautulliTest : public ::testing::Test {
 protected:
  MockHost host;
  std::vector<Json> rows;  // newest first, as Tautulli orders them
  std::optional<std::int64_t> claim_total, claim_filtered;
  std::map<std::string, Json> metadata;

  void SetUp() override { host.set_secret("api_key", k_key); }

  PluginInstance make(Json extra = Json::object()) {
    Json cfg = {{"server_url", "http://tautulli.local:8181/"}, {"api_key", "${secret}"}};
    for (auto it = extra.begin(); it != extra.end(); ++it) cfg[it.key()] = it.value();
    return PluginInstance(cwsdk::detail::provider_table<tautulli::Tautulli>(), host, cfg);
  }

  // Serves get_history from `rows` with start/length, get_metadata from `metadata`,
  // get_server_info; answers a wrong key as Tautulli v2.17.2 does.
  void serve() {
    host.on("GET", "**/api/v2").handle([this](const RecordedRequest& r) {
      if (r.query_value("apikey").value_or("") != k_key)
        return MockReply::json(400, envelope(Json::object(), "error", "Invalid apikey"));
      const std::string cmd = r.query_value("cmd").value_or("");
      if (cmd == "get_server_info")
        return MockReply::json(200, envelope({{"pms_name", "Home"}, {"pms_version", "1.40"}}));
      if (cmd == "get_metadata") {
        const auto it = metadata.find(r.query_value("rating_key").value_or(""));
        return MockReply::json(200, envelope(it == metadata.end() ? Json::object() : it->second));
      }
      if (cmd == "get_history") {
        const auto start = std::stoul(r.query_value("start").value_or("0"));
        const auto length = std::stoul(r.query_value("length").value_or("25"));
        Json page = Json::array();
        for (std::size_t i = start; i < rows.size() && i < start + length; ++i)
          page.push_back(rows[i]);
        const auto n = static_cast<std::int64_t>(rows.size());
        return MockReply::json(200, envelope({{"draw", 1},
                                              {"recordsTotal", claim_total.value_or(n)},
                                              {"recordsFiltered", claim_filtered.value_or(n)},
                                              {"data", page}}));
      }
      return MockReply::json(400, envelope(Json::object(), "error", "Unknown command: " + cmd));
    });
  }

  std::size_t count(const std::string& cmd) const {
    std::size_t n = 0;
    for (const auto& r : host.requests()) n += r.query_value("cmd").value_or("") == cmd;
    return n;
  }
  std::vector<std::string> starts() const {
    std::vector<std::string> out;
    for (const auto& r : host.requests()) {
      if (r.query_value("cmd").value_or("") == "get_history")
        out.push_back(r.query_value("start").value_or("?"));
    }
    return out;
  }
};

}  // namespace

TEST_F(TautulliTest, ManifestAndConfig) {
  const Json m = Json::parse(tautulli::Tautulli::manifest());
  EXPECT_EQ(m["name"], "tautulli");
  EXPECT_EQ(m["features"]["history"]["add"], false);
  EXPECT_EQ(m["features"]["history"]["remove"], false);
  EXPECT_EQ(m["config"]["properties"]["watched_percent"]["default"], 85);
  serve();
  {
    auto p = make({{"server_url", "tautulli.local:8181/tautulli/api/v2/"}});
    ASSERT_TRUE(p.created()) << p.create_error();
    const auto h = p.health();
    ASSERT_EQ(h.json()["status"], "ok") << h.body;
    ASSERT_FALSE(host.requests().empty());
    EXPECT_EQ(host.requests().back().url, "http://tautulli.local:8181/tautulli/api/v2");
  }
  EXPECT_FALSE(make({{"watched_percent", 0}}).created());
  EXPECT_FALSE(make({{"watched_percent", 101}}).created());
  EXPECT_FALSE(make({{"server_url", "ftp://x"}}).created());
  EXPECT_FALSE(make({{"per_page", "ten"}}).created());
}

TEST_F(TautulliTest, HealthAsksServerInfoAndKeyErrorsAreAuth) {
  serve();
  auto p = make();
  auto ok = p.health();
  ASSERT_EQ(ok.status, CW_STATUS_OK) << ok.message();
  EXPECT_EQ(ok.json()["status"], "ok");
  EXPECT_NE(ok.json()["message"].get<std::string>().find("Home"), std::string::npos);
  EXPECT_EQ(host.requests().back().query_value("cmd"), "get_server_info");
  EXPECT_EQ(host.requests().back().query_value("apikey"), k_key);

  host.set_secret("api_key", "wrong");
  EXPECT_EQ(p.health().json()["status"], "auth_failed");
  auto index = p.build_index("history");
  EXPECT_EQ(index.status, CW_STATUS_AUTH) << index.message();
  EXPECT_EQ(index.message().find("wrong"), std::string::npos);  // the key is never in messages
}

TEST_F(TautulliTest, A401AndApiDisabledAreAuthToo) {
  host.on("GET", "/api/v2")
      .reply_json(401, envelope(Json::object(), "error", "Invalid apikey"))
      .times(1)
      .reply_json(400, envelope(Json::object(), "error", "API not enabled"))
      .times(1)
      .reply_json(503, envelope(Json::object(), "error", "Check the logs for errors"));
  auto p = make();
  EXPECT_EQ(p.health().json()["status"], "auth_failed");
  EXPECT_EQ(p.health().json()["status"], "auth_failed");
  const auto down = p.health().json();
  EXPECT_NE(down["status"], "ok");
  EXPECT_NE(down["status"], "auth_failed");
}

TEST_F(TautulliTest, PagesWithStartAndLengthUntilRecordsFiltered) {
  for (int i = 0; i < 5; ++i) {
    rows.push_back(movie_row(100 - i, 10 + i, 1700000000 - i * 1000));
    metadata[std::to_string(10 + i)] = movie_meta(10 + i);
  }
  serve();
  auto p = make({{"per_page", 2}});
  auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["complete"], true) << doc.dump();
  ASSERT_EQ(doc["items"].size(), 5u);
  EXPECT_EQ(starts(), (std::vector<std::string>{"0", "2", "4"}));
  const auto sent = host.requests();
  const auto& first = sent.front();
  EXPECT_EQ(first.query_value("length"), "2");
  EXPECT_EQ(first.query_value("order_column"), "date");
  EXPECT_EQ(first.query_value("order_dir"), "desc");
  const Json& m = doc["items"][0];
  EXPECT_EQ(m["type"], "movie");
  EXPECT_EQ(m["title"], "Movie 10");
  EXPECT_EQ(m["year"], 2001);
  EXPECT_EQ(m["ids"]["imdb"], "tt1000010");
  EXPECT_EQ(m["ids"]["tmdb"], "10");
  EXPECT_EQ(m["ids"]["guid"], "plex://movie/5d7710");
  EXPECT_EQ(m["watched_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(m["extra"]["rating_key"], "10");
  EXPECT_EQ(m["extra"]["row_id"], "100");
}

TEST_F(TautulliTest, OnlyRowsAtTheWatchedThresholdArePlays) {
  rows = {movie_row(5, 1, 1700005000, 100), movie_row(4, 2, 1700004000, 85),
          movie_row(3, 3, 1700003000, "84"), movie_row(2, 4, 1700002000, 5),
          movie_row(1, 5, 1700001000, 50.5)};
  for (int k = 1; k <= 5; ++k) metadata[std::to_string(k)] = movie_meta(k);
  serve();
  {
    auto p = make();
    const Json doc = p.build_index("history").json();
    EXPECT_EQ(doc["complete"], true);
    ASSERT_EQ(doc["items"].size(), 2u);  // 100 and 85; not 84, 5 or 50.5
    EXPECT_EQ(doc["items"][1]["title"], "Movie 2");
    // Rows below the threshold need no ids: their metadata was never asked for.
    EXPECT_EQ(count("get_metadata"), 2u);
  }
  auto lenient = make({{"watched_percent", 50}});
  EXPECT_EQ(lenient.build_index("history").json()["items"].size(), 4u);
}

TEST_F(TautulliTest, EveryQualifyingRowIsAPlayOfMoviesAndEpisodes) {
  rows = {episode_row(9, 48213, 1700009000, 1, 2), movie_row(8, 7, 1700008000),
          episode_row(7, 48213, 1700007000, 1, 2), movie_row(6, 7, 1700006000)};
  rows.push_back({{"row_id", 5},
                  {"date", 1700005000},
                  {"media_type", "track"},
                  {"rating_key", 999},
                  {"percent_complete", 100}});
  rows.push_back({{"row_id", 4},
                  {"date", 1700004000},
                  {"media_type", "live"},
                  {"rating_key", 998},
                  {"percent_complete", 100}});
  metadata["48213"] = episode_meta(48213);
  metadata["7"] = movie_meta(7);
  serve();
  auto p = make();
  const Json doc = p.build_index("history").json();
  EXPECT_EQ(doc["complete"], true) << doc.dump();
  ASSERT_EQ(doc["items"].size(), 4u);  // two plays of each; tracks and live TV are no plays
  const Json& e = doc["items"][0];
  EXPECT_EQ(e["type"], "episode");
  EXPECT_EQ(e["season"], 1);
  EXPECT_EQ(e["episode"], 2);
  EXPECT_EQ(e["title"], "Episode 2");
  EXPECT_EQ(e["show"]["title"], "Breaking Bad");
  EXPECT_EQ(e["show"]["ids"]["tvdb"], "81189");
  EXPECT_EQ(e["show"]["ids"]["imdb"], "tt0903747");
  // The episode keeps its own ids: the show's are not folded into them.
  EXPECT_EQ(e["ids"]["tvdb"], "349232");
  EXPECT_EQ(e["ids"]["imdb"], "tt0959621");
  EXPECT_NE(doc["items"][0]["watched_at"], doc["items"][2]["watched_at"]);
  // One lookup per played item, not per play.
  EXPECT_EQ(count("get_metadata"), 2u);
}

TEST_F(TautulliTest, MetadataIsCachedInTheKvStoreAcrossRuns) {
  rows = {movie_row(2, 7, 1700002000), episode_row(1, 48213, 1700001000, 1, 2)};
  metadata["7"] = movie_meta(7);
  metadata["48213"] = episode_meta(48213);
  serve();
  Json first;
  {
    auto p = make();
    first = p.build_index("history").json();
    EXPECT_EQ(count("get_metadata"), 2u);
  }
  ASSERT_TRUE(host.kv("metadata/7").has_value());
  {
    auto again = make();  // a new run: a new instance, the same kv store
    const Json second = again.build_index("history").json();
    EXPECT_EQ(count("get_metadata"), 2u);  // nothing asked again
    EXPECT_EQ(second["items"], first["items"]);
  }
  // Past the cache's lifetime the ids are asked for again.
  host.advance_ms(31LL * 86'400'000);
  auto later = make();
  later.build_index("history");
  EXPECT_EQ(count("get_metadata"), 4u);
}

TEST_F(TautulliTest, ADeletedItemKeepsTheIdsOfItsRow) {
  Json legacy = movie_row(1, 5, 1700001000);
  legacy["guid"] = "com.plexapp.agents.imdb://tt0133093?lang=en";
  rows = {legacy};  // get_metadata answers {} for it: the item is gone from Plex
  serve();
  auto p = make();
  const Json doc = p.build_index("history").json();
  EXPECT_EQ(doc["complete"], true);
  ASSERT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["items"][0]["ids"]["imdb"], "tt0133093");
}

TEST_F(TautulliTest, TotalsThatDisagreeAreNeverComplete) {
  for (int i = 0; i < 4; ++i) {
    rows.push_back(movie_row(10 - i, 1, 1700000000 - i));
  }
  metadata["1"] = movie_meta(1);
  serve();
  // recordsTotal differs from recordsFiltered although no filter was asked for.
  claim_total = 9;
  auto a = make().build_index("history").json();
  EXPECT_EQ(a["complete"], false);
  EXPECT_EQ(a["items"].size(), 4u);
  // More rows announced than there are: the empty page ends the read, incomplete.
  claim_total = 6;
  claim_filtered = 6;
  auto b = make({{"per_page", 3}}).build_index("history").json();
  EXPECT_EQ(b["complete"], false);
  EXPECT_EQ(b["items"].size(), 4u);
  // Fewer announced than served (a silent cap elsewhere, or a shifted count).
  claim_total = 3;
  claim_filtered = 3;
  EXPECT_EQ(make().build_index("history").json()["complete"], false);
  // With a user filter recordsFiltered may be below recordsTotal; paging goes by it.
  claim_total = 40;
  claim_filtered = 4;
  auto d = make({{"user_id", 133788}, {"per_page", 2}}).build_index("history").json();
  EXPECT_EQ(d["complete"], true) << d.dump();
  EXPECT_EQ(host.requests().back().query_value("user_id"), "133788");
}

TEST_F(TautulliTest, ARowSeenTwiceMeansTheHistoryMovedWhileItWasRead) {
  rows = {movie_row(3, 1, 1700003000), movie_row(2, 1, 1700002000), movie_row(2, 1, 1700002000),
          movie_row(1, 1, 1700001000)};
  metadata["1"] = movie_meta(1);
  serve();
  const Json doc = make({{"per_page", 2}}).build_index("history").json();
  EXPECT_EQ(doc["complete"], false);
  EXPECT_EQ(doc["items"].size(), 3u);  // the repeat is not a second play
}

TEST_F(TautulliTest, MalformedRowsAreLeftOutAndTheIndexIsIncomplete) {
  Json no_percent = movie_row(4, 1, 1700004000);
  no_percent.erase("percent_complete");
  Json no_time = movie_row(3, 1, 1700003000);
  no_time["date"] = nullptr;
  no_time["started"] = "soon";
  no_time.erase("stopped");
  Json bad_episode = episode_row(2, 48213, 1700002000, 1, 2);
  bad_episode["media_index"] = "";
  rows = {no_percent, no_time, bad_episode, Json("not a row"), movie_row(1, 1, 1700001000)};
  metadata["1"] = movie_meta(1);
  metadata["48213"] = episode_meta(48213);
  serve();
  auto p = make();
  const auto r = p.build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  const Json doc = r.json();
  EXPECT_EQ(doc["complete"], false);
  ASSERT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["items"][0]["extra"]["row_id"], "1");
  EXPECT_TRUE(host.logged("left out"));
}

TEST_F(TautulliTest, DatesAsTextAndMillisecondsAreRead) {
  Json text = movie_row(2, 1, 0);
  text["date"] = "1700002000";
  Json millis = movie_row(1, 1, 0);
  millis["date"] = 1700001000123LL;
  rows = {text, millis};
  metadata["1"] = movie_meta(1);
  serve();
  const Json doc = make().build_index("history").json();
  ASSERT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["items"][0]["watched_at"], "2023-11-14T22:46:40Z");
  EXPECT_EQ(doc["items"][1]["watched_at"], "2023-11-14T22:30:00.123Z");
}

TEST_F(TautulliTest, BrokenRepliesNeverGiveACompleteIndexNorACrash) {
  // A body cut short on the first page: the read fails as a whole.
  host.on("GET", "/api/v2")
      .reply_json(200, envelope({{"recordsTotal", 1},
                                 {"recordsFiltered", 1},
                                 {"data", Json::array({movie_row(1, 1, 5)})}}))
      .truncated(40);
  auto p = make();
  auto r = p.build_index("history");
  EXPECT_NE(r.status, CW_STATUS_OK);
  // Replies of the wrong shapes.
  for (const Json& bad :
       {Json(envelope(Json::array({1, 2}))), Json(envelope("text")),
        Json(envelope({{"recordsTotal", "many"}, {"recordsFiltered", 1}, {"data", Json::array()}})),
        Json(envelope({{"data", nullptr}})), Json({{"response", nullptr}}), Json(nullptr),
        Json(envelope(Json::object(), "error", "Check the logs for errors"))}) {
    MockHost h;
    h.set_secret("api_key", k_key);
    h.on("GET", "/api/v2").reply_json(200, bad);
    PluginInstance q(cwsdk::detail::provider_table<tautulli::Tautulli>(), h,
                     {{"server_url", "http://t:8181"}, {"api_key", "${secret}"}});
    const auto res = q.build_index("history");
    if (res.status == CW_STATUS_OK) {
      EXPECT_EQ(res.json()["complete"], false) << bad.dump();
    }
    const bool info_like = bad.is_object() && bad["response"].is_object() &&
                           bad["response"]["result"] == "success" &&
                           bad["response"]["data"].is_object();
    if (!info_like) {
      EXPECT_NE(q.health().json()["status"], "ok") << bad.dump();
    }
  }
}

TEST_F(TautulliTest, AFailedSecondPageKeepsTheFirstButIsIncomplete) {
  for (int i = 0; i < 4; ++i) rows.push_back(movie_row(10 - i, 1, 1700000000 - i));
  // Routes match in order: the fault first.
  MockHost h;
  h.set_secret("api_key", k_key);
  h.on("GET", "/api/v2")
      .when([](const RecordedRequest& r) { return r.query_value("start") == "2"; })
      .reply(503);
  h.on("GET", "/api/v2").handle([this](const RecordedRequest& r) {
    const std::string cmd = r.query_value("cmd").value_or("");
    if (cmd == "get_metadata") return MockReply::json(200, envelope(movie_meta(1)));
    Json page = Json::array({rows[0], rows[1]});
    return MockReply::json(200,
                           envelope({{"recordsTotal", 4}, {"recordsFiltered", 4}, {"data", page}}));
  });
  PluginInstance q(cwsdk::detail::provider_table<tautulli::Tautulli>(), h,
                   {{"server_url", "http://t:8181"}, {"api_key", "${secret}"}, {"per_page", 2}});
  const auto res = q.build_index("history");
  ASSERT_EQ(res.status, CW_STATUS_OK) << res.message();
  EXPECT_EQ(res.json()["complete"], false);
  EXPECT_EQ(res.json()["items"].size(), 2u);
}

TEST_F(TautulliTest, AFailingMetadataLookupLeavesTheRowOutOrEndsTheRead) {
  rows = {movie_row(2, 7, 1700002000), movie_row(1, 8, 1700001000)};
  metadata["8"] = movie_meta(8);
  MockHost& h = host;
  // A malformed metadata reply for one item: that row is left out.
  h.on("GET", "/api/v2")
      .when([](const RecordedRequest& r) { return r.query_value("rating_key") == "7"; })
      .reply(200, "{\"response\": ");
  serve();
  const Json doc = make().build_index("history").json();
  EXPECT_EQ(doc["complete"], false);
  ASSERT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["items"][0]["extra"]["rating_key"], "8");
  EXPECT_FALSE(host.kv("metadata/7").has_value());  // a failure is never cached
}

TEST_F(TautulliTest, AMetadataLookupThatCannotReachTautulliEndsTheRead) {
  rows = {movie_row(3, 7, 1700003000), movie_row(2, 8, 1700002000), movie_row(1, 9, 1700001000)};
  metadata["7"] = movie_meta(7);
  metadata["9"] = movie_meta(9);
  host.on("GET", "/api/v2")
      .when([](const RecordedRequest& r) { return r.query_value("rating_key") == "8"; })
      .reply(503);
  serve();
  const auto r = make().build_index("history");
  ASSERT_EQ(r.status, CW_STATUS_OK) << r.message();
  EXPECT_EQ(r.json()["complete"], false);
  EXPECT_EQ(r.json()["items"].size(), 1u);  // the play before the failure
  EXPECT_EQ(count("get_metadata"), 2u);     // nothing asked after it
}

TEST_F(TautulliTest, OlderRepliesWithTheRowsAloneArePagedToAShortPage) {
  std::vector<Json> all;
  for (int i = 0; i < 5; ++i) all.push_back(movie_row(10 - i, 1, 1700000000 - i));
  host.on("GET", "/api/v2").handle([all](const RecordedRequest& r) {
    if (r.query_value("cmd") == "get_metadata")
      return MockReply::json(200, envelope(movie_meta(1)));
    const auto start = std::stoul(r.query_value("start").value_or("0"));
    Json page = Json::array();
    for (std::size_t i = start; i < all.size() && i < start + 2; ++i) page.push_back(all[i]);
    return MockReply::json(200, envelope(page));
  });
  const Json doc = make({{"per_page", 2}}).build_index("history").json();
  EXPECT_EQ(doc["complete"], true) << doc.dump();
  EXPECT_EQ(doc["items"].size(), 5u);
  EXPECT_EQ(starts(), (std::vector<std::string>{"0", "2", "4"}));
}

TEST_F(TautulliTest, ItIsReadOnly) {
  serve();
  auto p = make();
  const Json items = Json::array(
      {{{"type", "movie"}, {"title", "A"}, {"key", "k1"}, {"watched_at", "2024-01-01T00:00:00Z"}}});
  EXPECT_EQ(p.add("history", items).status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(p.remove("history", items).status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(p.call_raw("build_index", "not json").status, CW_STATUS_INVALID_ARG);
  EXPECT_NE(p.build_index("watchlist").status, CW_STATUS_OK);
  EXPECT_TRUE(host.requests().empty());
}

TEST_F(TautulliTest, CancellationStopsBetweenPages) {
  for (int i = 0; i < 6; ++i) rows.push_back(movie_row(10 - i, 1, 1700000000 - i));
  metadata["1"] = movie_meta(1);
  serve();
  host.cancel_after_requests(2);
  auto r = make({{"per_page", 2}}).build_index("history");
  if (r.status == CW_STATUS_OK) {
    EXPECT_EQ(r.json()["complete"], false);
  } else {
    EXPECT_EQ(r.status, CW_STATUS_CANCELLED);
  }
}
