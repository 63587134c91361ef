// cwsdk/support/batch.hpp: a batch reply's counts and lists, turned into exact per-key
// outcomes; a count never vouches for an item it cannot be matched to.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cwsdk/support/batch.hpp>

namespace {

using cwsdk::Json;

cwsdk::Item sent(const std::string& key, cwsdk::ItemType type, const char* imdb) {
  cwsdk::Item it = cwsdk::make_movie("x");
  it.type = type;
  it.key = key;
  it.ids.set("imdb", imdb);
  return it;
}

std::string bucket(const cwsdk::Item& it) {
  return it.type == cwsdk::ItemType::movie ? "movies" : "shows";
}

struct Mapped {
  Json outcomes;  // key -> outcome
  cwsdk::Status status;
};

Mapped map(const std::vector<cwsdk::Item>& items, const Json& reply,
           const cwsdk::BatchShape& shape = cwsdk::BatchShape::added()) {
  cwsdk::BatchMapper batch;
  for (const auto& it : items) batch.sent(it, bucket(it));
  cwsdk::Outcomes out;
  Mapped m{Json::object(), batch.map(reply, shape, out)};
  const Json doc = Json::parse(out.reply().body);
  for (const auto& o : doc["outcomes"]) m.outcomes[o["key"].get<std::string>()] = o;
  return m;
}

const std::vector<cwsdk::Item> k_items = {sent("m1", cwsdk::ItemType::movie, "tt0000001"),
                                          sent("m2", cwsdk::ItemType::movie, "tt0000002"),
                                          sent("m3", cwsdk::ItemType::movie, "tt0000003"),
                                          sent("s1", cwsdk::ItemType::show, "tt0000011")};

TEST(Batch, CountsThatAddUpConfirmEveryItemOfTheBucket) {
  const auto m =
      map(k_items, Json::parse(R"({"added":{"movies":3,"shows":1},"existing":{"movies":0,"shows":0},
      "not_found":{"movies":[],"shows":[]}})"));
  ASSERT_TRUE(m.status);
  for (const char* k : {"m1", "m2", "m3", "s1"})
    EXPECT_EQ(m.outcomes[k]["status"], "confirmed") << k;
}

TEST(Batch, NotFoundEntriesAreMatchedByNormalisedIds) {
  const auto m = map(k_items, Json::parse(R"({"added":{"movies":2,"shows":0},"existing":{"shows":1},
      "not_found":{"movies":[{"ids":{"imdb":"TT0000002"}}],"shows":[]}})"));
  EXPECT_EQ(m.outcomes["m2"]["status"], "unresolved");
  EXPECT_EQ(m.outcomes["m2"]["reason"], "not_found");
  EXPECT_EQ(m.outcomes["m1"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["m3"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["s1"]["status"], "skipped");  // existing: already on the list
}

TEST(Batch, CountsThatDisagreeProveNothing) {
  const auto m =
      map(k_items, Json::parse(R"({"added":{"movies":1,"shows":1},"existing":{"movies":1}})"));
  for (const char* k : {"m1", "m2", "m3"}) {
    EXPECT_EQ(m.outcomes[k]["status"], "unresolved") << k;
    EXPECT_EQ(m.outcomes[k]["reason"], "unknown") << k;
    EXPECT_EQ(m.outcomes[k]["message"],
              "the service counted 1 added and 1 existing for 3 movies sent");
  }
  EXPECT_EQ(m.outcomes["s1"]["status"], "confirmed");
  // More than sent is no proof either (a show whose episodes were counted, say).
  const auto over = map(k_items, Json::parse(R"({"added":{"movies":5,"shows":1}})"));
  EXPECT_EQ(over.outcomes["m1"]["reason"], "unknown");
  // A count that is not a number proves nothing.
  const auto odd = map(k_items, Json::parse(R"({"added":{"movies":"3","shows":1}})"));
  EXPECT_EQ(odd.outcomes["m1"]["reason"], "unknown");
  EXPECT_EQ(odd.outcomes["m1"]["message"],
            "the service counted no count added and 0 existing for 3 movies sent");
}

TEST(Batch, MixedAddedAndExistingCountsConfirmAll) {
  const auto m =
      map(k_items, Json::parse(R"({"added":{"movies":2,"shows":1},"existing":{"movies":1}})"));
  for (const char* k : {"m1", "m2", "m3"}) {
    EXPECT_EQ(m.outcomes[k]["status"], "confirmed") << k;
    EXPECT_EQ(m.outcomes[k]["message"], "done or already as asked") << k;
  }
}

TEST(Batch, ListsInsteadOfCounts) {
  const auto m =
      map(k_items,
          Json::parse(
              R"({"added":{"movies":[{"imdb":"tt0000001"}],"shows":[{"ids":{"imdb":"tt0000011"}}]},
      "existing":{"movies":[{"ids":{"imdb":"tt0000003"}}]}})"));
  EXPECT_EQ(m.outcomes["m1"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["m3"]["status"], "skipped");
  EXPECT_EQ(m.outcomes["s1"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["m2"]["reason"], "unknown");
  EXPECT_EQ(m.outcomes["m2"]["message"], "not in the service's reply");
}

TEST(Batch, RemovalsConfirmWhatIsGoneEitherWay) {
  const auto m = map(k_items, Json::parse(R"({"deleted":{"movies":1,"shows":0},
      "not_found":{"movies":[{"ids":{"imdb":"tt0000003"}}]}})"),
                     cwsdk::BatchShape::deleted());
  EXPECT_EQ(m.outcomes["m1"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["m2"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["s1"]["status"], "confirmed");
  EXPECT_EQ(m.outcomes["m3"]["reason"], "not_found");
}

TEST(Batch, AMalformedReplyLeavesEveryItemUnknown) {
  for (const char* text : {R"([])", R"({"unexpected":1})", R"(null)", R"({"added":null})"}) {
    const auto m = map(k_items, Json::parse(text));
    EXPECT_FALSE(m.status) << text;
    ASSERT_EQ(m.outcomes.size(), 4u) << text;
    for (const auto& o : m.outcomes) EXPECT_EQ(o["reason"], "unknown") << text;
  }
}

TEST(Batch, EpisodesSentByTheirShowMatchOnTheShowsIds) {
  cwsdk::ShowRef show;
  show.ids.set("tvdb", 81189);
  cwsdk::Item e = cwsdk::make_episode(show, 1, 1);
  e.key = "e1";
  cwsdk::BatchMapper batch;
  batch.sent(e, "episodes");
  cwsdk::Outcomes out;
  ASSERT_TRUE(batch.map(
      Json::parse(R"({"added":{"episodes":0},"not_found":{"episodes":[{"ids":{"tvdb":81189}}]}})"),
      cwsdk::BatchShape::added(), out));
  EXPECT_EQ(out.find("e1")->reason, cwsdk::Reason::not_found);
}

}  // namespace
