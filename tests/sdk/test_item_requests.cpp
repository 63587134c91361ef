// cwsdk/support/item.hpp and requests.hpp: the item type, and checked readers that answer
// a malformed request with INVALID_ARG and a message naming the field.
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/support/item.hpp>
#include <cwsdk/support/requests.hpp>

namespace {

using cwsdk::Json;

TEST(Item, WritesEverySchemaFieldIncludingTheOnesOf11) {
  cwsdk::ShowRef show{"Cowboy Bebop", 1998, {}};
  show.ids.set("tvdb", 76885);
  cwsdk::Item e = cwsdk::make_episode(show, 1, 2);
  e.title = "Stray Dog Strut";
  e.ids.set("tmdb", "62085");
  e.episode_end = 3;
  e.absolute_episode = 2;
  e.watched_at = 1704164645000;
  e.rating = 8;
  e.rated_at = 1704164645123;
  e.progress_ms = 60000;
  e.duration_ms = 1440000;
  e.progress_at = 1704164645000;
  e.progress_percent = 4.5;
  e.key = "k1";
  e.extra = {{"history_id", 42}};
  ASSERT_TRUE(e.check());
  const Json j = e.to_json();
  EXPECT_EQ(j, Json::parse(R"({"type":"episode","title":"Stray Dog Strut",
    "ids":{"tmdb":"62085"},"show":{"title":"Cowboy Bebop","year":1998,"ids":{"tvdb":"76885"}},
    "season":1,"episode":2,"episode_end":3,"absolute_episode":2,
    "watched_at":"2024-01-02T03:04:05Z","rating":8,"rated_at":"2024-01-02T03:04:05.123Z",
    "progress_ms":60000,"duration_ms":1440000,"progress_at":"2024-01-02T03:04:05Z",
    "progress_percent":4.5,"key":"k1","extra":{"history_id":42}})"));
  auto back = cwsdk::Item::from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->to_json(), j);
  EXPECT_EQ(cwsdk::make_movie("M").to_json(), Json::parse(R"({"type":"movie","title":"M"})"));
  EXPECT_EQ(cwsdk::make_show("S", 2001).to_json()["type"], "show");
  EXPECT_EQ(cwsdk::make_season(show, 0).to_json()["season"], 0);
}

TEST(Item, CheckRefusesWhatTheSchemaRefuses) {
  auto expect_bad = [](cwsdk::Item it, const std::string& needle) {
    const cwsdk::Status st = it.check();
    ASSERT_FALSE(st) << needle;
    EXPECT_NE(st.error().message.find(needle), std::string::npos) << st.error().message;
  };
  cwsdk::Item it = cwsdk::make_movie("M");
  it.rating = 10.5;
  expect_bad(it, "rating 10.5");
  it = cwsdk::make_movie("M", 1700);
  expect_bad(it, "year 1700");
  it = cwsdk::make_episode({}, 1, 5);
  it.episode_end = 4;
  expect_bad(it, "episode_end");
  it = cwsdk::make_episode({}, -1, 5);
  expect_bad(it, "season is negative");
  it = cwsdk::make_episode({}, 1, 1);
  it.absolute_episode = 0;
  expect_bad(it, "absolute_episode");
  it = cwsdk::make_movie("M");
  it.progress_percent = 101;
  expect_bad(it, "progress_percent");
  it = cwsdk::make_movie("M");
  it.extra = Json::array();
  expect_bad(it, "extra");
  it = cwsdk::make_movie("M");
  it.watched_at = INT64_MAX;
  expect_bad(it, "timestamp");
}

TEST(Item, FromJsonIsChecked_NullIsAbsent_IdsAreNormalised) {
  auto ok = cwsdk::Item::from_json(Json::parse(
      R"({"type":"movie","title":null,"year":1999,"ids":{"IMDB":"TT0133093","tmdb":"none"},
          "unknown_member":[1,2]})"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->title, "");
  // Numbers in strings read as numbers, as everywhere in the kit.
  EXPECT_EQ(cwsdk::Item::from_json(Json::parse(R"({"type":"movie","rating":"8"})"))->rating, 8);
  EXPECT_EQ(ok->ids.to_json(), Json::parse(R"({"imdb":"tt0133093"})"));
  struct Bad {
    const char* doc;
    const char* message;
  };
  for (const Bad& b : {
           Bad{R"([])", "item: expected an object, got an array"},
           Bad{R"({"title":"x"})", "item: /type: missing"},
           Bad{R"({"type":"anime"})", "'anime' is not one of movie, show, season, episode"},
           Bad{R"({"type":"movie","year":"soon"})", "item: /year: expected an integer"},
           Bad{R"({"type":"movie","rating":80})", "rating 80"},
           Bad{R"({"type":"movie","ids":[1]})", "item: /ids: expected an object, got an array"},
           Bad{R"({"type":"movie","watched_at":"yesterday"})", "not an RFC 3339 timestamp"},
           Bad{R"({"type":"movie","watched_at":5})", "/watched_at: expected a string"},
           Bad{R"({"type":"episode","show":"Bebop"})", "/show: expected an object"},
           Bad{R"({"type":"movie","key":7})", "/key: expected a string"},
       }) {
    auto r = cwsdk::Item::from_json(Json::parse(b.doc));
    ASSERT_FALSE(r) << b.doc;
    EXPECT_EQ(r.error().status, CW_STATUS_INVALID_ARG) << b.doc;
    EXPECT_NE(r.error().message.find(b.message), std::string::npos)
        << b.doc << " -> " << r.error().message;
  }
}

TEST(Requests, IndexRequest) {
  auto r = cwsdk::read_index_request(R"({"feature":"watchlist","watermark":null})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->feature, "watchlist");
  EXPECT_FALSE(r->watermark);
  r = cwsdk::read_index_request(R"({"feature":"history","watermark":"2024-01-01T00:00:00Z"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->watermark, "2024-01-01T00:00:00Z");
  r = cwsdk::read_index_request(R"({"feature":"watchlist"})");
  EXPECT_TRUE(r);  // the watermark may be left out
}

TEST(Requests, MalformedRequestsAreInvalidArgNamingTheField) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"", "build_index request: "},
           Case{"{", "build_index request: malformed JSON at byte"},
           Case{"[]", "build_index request: expected a JSON object, got an array"},
           Case{"null", "build_index request: expected a JSON object, got null"},
           Case{R"({"feature":null})",
                "build_index request: /feature: missing (expected a string)"},
           Case{R"({"feature":7})",
                "build_index request: /feature: expected a string, got an integer"},
           Case{R"({"feature":""})", "build_index request: /feature: empty"},
           Case{R"({"feature":"watchlist","watermark":5})",
                "build_index request: /watermark: expected a string, got an integer"},
       }) {
    auto r = cwsdk::read_index_request(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().status, CW_STATUS_INVALID_ARG) << c.text;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.text << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(Requests, UnsupportedFeatures) {
  auto r = cwsdk::read_index_request(R"({"feature":"history"})", {"watchlist", "ratings"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(r.error().message, "feature 'history' is not supported by this plugin");
  EXPECT_TRUE(cwsdk::read_index_request(R"({"feature":"ratings"})", {"watchlist", "ratings"}));
  auto w = cwsdk::read_write_request(R"({"feature":"progress","items":[]})", "add", {"watchlist"});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().status, CW_STATUS_UNSUPPORTED);
}

TEST(Requests, WriteRequestItemsNeedUniqueKeys) {
  auto ok = cwsdk::read_write_request(
      R"({"feature":"watchlist","items":[{"type":"movie","key":"a","ids":{"tmdb":603}},
          {"type":"show","key":"b","title":"S"}]})",
      "add");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->items.size(), 2u);
  EXPECT_EQ(ok->items[0].key, "a");
  EXPECT_EQ(ok->items[0].ids.get("tmdb"), "603");
  EXPECT_EQ(ok->items[1].type, cwsdk::ItemType::show);
  struct Case {
    const char* text;
    const char* message;
  };
  for (
      const Case& c : {
          Case{R"({"feature":"watchlist"})", "add request: /items: missing (expected an array)"},
          Case{R"({"feature":"watchlist","items":{}})", "add request: /items: expected an array"},
          Case{R"({"feature":"watchlist","items":[{"type":"movie"}]})",
               "add request: /items/0/key: missing"},
          Case{R"({"feature":"watchlist","items":[{"type":"movie","key":""}]})",
               "add request: /items/0/key: missing"},
          Case{
              R"({"feature":"watchlist","items":[{"type":"movie","key":"a"},{"type":"movie","key":"a"}]})",
              "add request: /items/1/key: 'a' appears twice"},
          Case{R"({"feature":"watchlist","items":[{"type":"movie","key":"a"},7]})",
               "add request: /items/1: expected an object, got an integer"},
          Case{
              R"({"feature":"watchlist","items":[{"type":"movie","key":"a","rating":null},{"type":"movie","key":"b","rating":[1]}]})",
              "add request: /items/1/rating: expected a number, got an array"},
      }) {
    auto r = cwsdk::read_write_request(c.text, "add");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().status, CW_STATUS_INVALID_ARG);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.text << " -> " << r.error().message;
  }
  auto lookup = cwsdk::read_lookup_request(R"({"feature":"history","items":[]})");
  ASSERT_TRUE(lookup);
  auto bad_lookup = cwsdk::read_lookup_request(R"({"items":[]})");
  ASSERT_FALSE(bad_lookup);
  EXPECT_EQ(bad_lookup.error().message.rfind("lookup request: ", 0), 0u);
}

TEST(Requests, ResolveScrobbleAuthActionHealth) {
  auto resolve = cwsdk::read_resolve_request(
      R"({"items":[{"key":"k1","type":"movie","ids":{"imdb":"tt0133093"},"title":"M","year":1999}]})");
  ASSERT_TRUE(resolve);
  EXPECT_EQ(resolve->items[0].key, "k1");
  EXPECT_FALSE(cwsdk::read_resolve_request(R"({"items":[{"type":"movie"}]})"));

  auto scrobble = cwsdk::read_scrobble_request(
      R"({"event":"stop","item":{"type":"movie","title":"M"},"progress":92.5,"session":"s1",
          "at":"2024-01-02T03:04:05Z"})");
  ASSERT_TRUE(scrobble) << scrobble.error().message;
  EXPECT_EQ(scrobble->event, cwsdk::ScrobbleEvent::stop);
  EXPECT_EQ(scrobble->progress, 92.5);
  EXPECT_EQ(scrobble->session, "s1");
  EXPECT_EQ(scrobble->at, 1704164645000);
  for (const char* bad : {R"({"event":"seek","item":{"type":"movie"},"progress":1})",
                          R"({"event":"start","progress":1})",
                          R"({"event":"start","item":{"type":"movie"},"progress":101})",
                          R"({"event":"start","item":{"type":"movie"},"progress":"x"})",
                          R"({"event":"start","item":{"type":"movie"},"progress":1,"at":"now"})"}) {
    auto r = cwsdk::read_scrobble_request(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, CW_STATUS_INVALID_ARG);
    EXPECT_EQ(r.error().message.rfind("scrobble request: ", 0), 0u) << r.error().message;
  }

  auto auth = cwsdk::read_auth_start_request(R"({"fields":{"client_id":"abc","pin":null}})");
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->fields.at("client_id"), "abc");
  EXPECT_EQ(auth->fields.count("pin"), 0u);
  EXPECT_TRUE(cwsdk::read_auth_start_request("{}"));
  EXPECT_FALSE(cwsdk::read_auth_start_request(R"({"fields":{"client_id":5}})"));
  EXPECT_FALSE(cwsdk::read_auth_start_request(R"({"fields":[]})"));

  auto action = cwsdk::read_action_request(R"({"action":"snapshot.list","args":{"n":1}})");
  ASSERT_TRUE(action);
  EXPECT_EQ(action->action, "snapshot.list");
  EXPECT_EQ(action->args["n"], 1);
  EXPECT_TRUE(cwsdk::read_action_request(R"({"action":"x"})"));
  EXPECT_FALSE(cwsdk::read_action_request(R"({"action":"x","args":"y"})"));
  EXPECT_FALSE(cwsdk::read_action_request(R"({"args":{}})"));

  EXPECT_TRUE(cwsdk::read_health_request("{}"));
  EXPECT_FALSE(cwsdk::read_health_request("[]"));
}

}  // namespace
