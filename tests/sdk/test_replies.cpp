// cwsdk/support/replies.hpp and provider.hpp's streaming form: documents a plugin answers
// with, and an index that reaches the host in pieces without ever lying about completeness.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/replies.hpp>

namespace {

using cwsdk::Json;

cwsdk::Item movie(int n) {
  cwsdk::Item it = cwsdk::make_movie("Movie " + std::to_string(n), 2000);
  it.ids.set("tmdb", n);
  return it;
}

TEST(IndexWriter, WritesItemsAndAnHonestCompletenessRecord) {
  cwsdk::IndexWriter index;
  ASSERT_TRUE(index.add(movie(1)));
  ASSERT_TRUE(index.add(movie(2)));
  cwsdk::Completeness c;
  c.complete = true;
  c.expected_total = 2;
  c.received = 2;
  const cwsdk::Reply r = index.finish(c, std::string("wm-1"));
  ASSERT_EQ(r.status, CW_STATUS_OK);
  const Json doc = Json::parse(r.body);
  EXPECT_EQ(doc["items"].size(), 2u);
  EXPECT_EQ(doc["items"][1]["ids"]["tmdb"], "2");
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["expected_total"], 2);
  EXPECT_EQ(doc["received"], 2);
  EXPECT_EQ(doc["watermark"], "wm-1");
  EXPECT_EQ(doc["semantics"], "present");
  EXPECT_FALSE(doc.contains("removed"));
}

TEST(IndexWriter, EmptyIndexAndOneReplyIndexes) {
  cwsdk::IndexWriter empty;
  const Json e = Json::parse(empty.finish_whole().body);
  EXPECT_EQ(e["items"], Json::array());
  EXPECT_EQ(e["complete"], true);
  EXPECT_EQ(e["watermark"], nullptr);
  cwsdk::IndexWriter short_read;
  ASSERT_TRUE(short_read.add(movie(1)));
  const Json s = Json::parse(short_read.finish_whole(std::nullopt, 3).body);
  EXPECT_EQ(s["complete"], false);
  EXPECT_EQ(s["expected_total"], 3);
  EXPECT_EQ(s["received"], 1);
}

TEST(IndexWriter, ARefusedItemMakesTheIndexIncomplete) {
  cwsdk::IndexWriter index;
  cwsdk::Item bad = movie(2);
  bad.rating = 85;  // a service value that was not converted
  ASSERT_TRUE(index.add(movie(1)));
  const cwsdk::Status st = index.add(bad);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("rating 85"), std::string::npos);
  EXPECT_EQ(index.refused(), 1);
  const Json doc = Json::parse(index.finish_whole(std::nullopt, 2).body);
  EXPECT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["received"], 1);
  EXPECT_EQ(doc["complete"], false);  // absence must not read as a deletion
}

TEST(IndexWriter, DeltaIndexWithRemovedItems) {
  cwsdk::IndexWriter index(cwsdk::IndexSemantics::delta);
  ASSERT_TRUE(index.add(movie(1)));
  ASSERT_TRUE(index.add_removed(movie(7)));
  ASSERT_TRUE(index.add_removed(movie(8)));
  const Json doc = Json::parse(index.finish_whole(std::string("2024-01-02T00:00:00Z")).body);
  EXPECT_EQ(doc["semantics"], "delta");
  EXPECT_EQ(doc["removed"].size(), 2u);
  EXPECT_EQ(doc["removed"][0]["ids"]["tmdb"], "7");
  EXPECT_EQ(doc["received"], 1);
}

TEST(IndexWriter, AFailureWithAPartialReadIsNeverComplete) {
  cwsdk::IndexWriter index;
  ASSERT_TRUE(index.add(movie(1)));
  cwsdk::Completeness c;
  c.complete = true;  // a pager would never say so with a failure; the writer checks anyway
  c.failure = cwsdk::Failure::of(CW_STATUS_TRANSIENT, "page 2 failed");
  EXPECT_EQ(Json::parse(index.finish(c).body)["complete"], false);
  cwsdk::IndexWriter failing;
  const cwsdk::Reply r = failing.fail(cwsdk::Failure::of(CW_STATUS_AUTH, "token expired"));
  EXPECT_EQ(r.status, CW_STATUS_AUTH);
  EXPECT_EQ(Json::parse(r.body)["message"], "token expired");
}

// A plugin whose build_index streams: the request text says how many items and how it ends.
class Streamer {
 public:
  static const char* manifest() { return "{}"; }
  Streamer(cwsdk::Host, std::string_view) {}
  cwsdk::Reply health(std::string_view) { return cwsdk::HealthReply().reply(); }
  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    const Json req = Json::parse(request);
    cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present, 4096);
    const int n = req["n"];
    for (int i = 0; i < n; ++i) index.add(movie(i + 1)).value();
    const std::string end = req["end"];
    if (end == "throw") throw std::runtime_error("connection reset");
    if (end == "fail") return index.fail(cwsdk::Failure::of(CW_STATUS_TRANSIENT, "page failed"));
    if (end == "error") return cwsdk::Reply::error(CW_STATUS_INTERNAL, "forgot the writer");
    return index.finish(cwsdk::Completeness::whole(n));
  }
  cwsdk::Reply add(std::string_view) { return cwsdk::Outcomes().reply(); }
  cwsdk::Reply remove(std::string_view) { return cwsdk::Outcomes().reply(); }
};

struct Streamed {
  cw_status status;
  std::string body;
  std::size_t writes = 0;
};

void count_append(void* ctx, const char* d, size_t n) {
  auto* s = static_cast<Streamed*>(ctx);
  s->body.append(d, n);
  ++s->writes;
}

Streamed stream(int n, const std::string& end) {
  const cw_provider_api* api = cwsdk::detail::provider_table<Streamer>();
  std::string err;
  cw_instance* inst =
      api->create(nullptr, "{}", 2, cw_sink{&err, [](void* c, const char* d, size_t l) {
                                              static_cast<std::string*>(c)->append(d, l);
                                            }});
  Streamed s{};
  const std::string req = Json{{"n", n}, {"end", end}}.dump();
  s.status = api->build_index(inst, req.data(), req.size(), cw_sink{&s, &count_append});
  api->destroy(inst);
  return s;
}

TEST(IndexStreaming, ABigIndexReachesTheHostInPieces) {
  const Streamed s = stream(1000, "finish");
  ASSERT_EQ(s.status, CW_STATUS_OK);
  EXPECT_GT(s.writes, 10u);  // flushed every 4 KiB here, not built whole
  const Json doc = Json::parse(s.body);
  EXPECT_EQ(doc["items"].size(), 1000u);
  EXPECT_EQ(doc["received"], 1000);
  EXPECT_EQ(doc["complete"], true);
}

TEST(IndexStreaming, ASmallIndexThatFailsIsAPlainError) {
  const Streamed s = stream(3, "fail");
  EXPECT_EQ(s.status, CW_STATUS_TRANSIENT);
  EXPECT_EQ(Json::parse(s.body)["message"], "page failed");
  const Streamed t = stream(3, "throw");
  EXPECT_EQ(t.status, CW_STATUS_INTERNAL);
  EXPECT_EQ(Json::parse(t.body)["message"], "unhandled exception: connection reset");
}

TEST(IndexStreaming, AFailureAfterStreamingEndsAValidIncompleteIndex) {
  for (const char* end : {"fail", "throw"}) {
    const Streamed s = stream(1000, end);
    EXPECT_EQ(s.status, CW_STATUS_OK) << end;
    const Json doc = Json::parse(s.body, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << end;
    EXPECT_EQ(doc["complete"], false) << end;
    EXPECT_EQ(doc["received"], 1000) << end;
    EXPECT_EQ(doc["items"].size(), 1000u) << end;
  }
}

TEST(IndexStreaming, AnErrorReplyAfterStreamingStillEndsAValidDocument) {
  // The writer's destructor closes the document before the edge sees the error.
  const Streamed s = stream(1000, "error");
  EXPECT_EQ(s.status, CW_STATUS_OK);
  EXPECT_EQ(Json::parse(s.body)["complete"], false);
}

// Writes to the Output by hand and never closes the document: the edge cannot repair it.
class RawWriter {
 public:
  static const char* manifest() { return "{}"; }
  RawWriter(cwsdk::Host, std::string_view) {}
  cwsdk::Reply health(std::string_view) { return cwsdk::HealthReply().reply(); }
  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
    out.write("{\"items\":[");
    if (request == "throw") throw cwsdk::Error(CW_STATUS_AUTH, "late");
    if (request == "error") return cwsdk::Reply::error(CW_STATUS_AUTH, "late");
    return cwsdk::Reply::ok("],\"complete\":true}");
  }
  cwsdk::Reply add(std::string_view) { return cwsdk::Outcomes().reply(); }
  cwsdk::Reply remove(std::string_view) { return cwsdk::Outcomes().reply(); }
};

TEST(IndexStreaming, AFailureAfterAnUnclosedPartialWriteIsInternal) {
  const cw_provider_api* api = cwsdk::detail::provider_table<RawWriter>();
  cw_instance* inst = api->create(nullptr, "{}", 2, cw_sink{nullptr, nullptr});
  ASSERT_NE(inst, nullptr);
  for (const std::string req : {"throw", "error"}) {
    std::string body;
    const cw_status st = api->build_index(inst, req.data(), req.size(),
                                          cw_sink{&body, [](void* c, const char* d, size_t l) {
                                                    static_cast<std::string*>(c)->append(d, l);
                                                  }});
    EXPECT_EQ(st, CW_STATUS_INTERNAL) << req;
    EXPECT_EQ(body, "{\"items\":[") << req;  // nothing appended after the partial write
  }
  std::string body;
  EXPECT_EQ(api->build_index(
                inst, "ok", 2,
                cw_sink{&body, [](void* c, const char* d,
                                  size_t l) { static_cast<std::string*>(c)->append(d, l); }}),
            CW_STATUS_OK);
  EXPECT_EQ(Json::parse(body)["complete"], true);
  api->destroy(inst);
}

TEST(Outcomes, OnePerKeyAndNoneLeftOut) {
  cwsdk::Outcomes out;
  out.confirmed("a");
  out.skipped("b", "already on the watchlist");
  out.unresolved("c", cwsdk::Reason::not_found, "no match for tt0000000");
  out.failed("d", cwsdk::Failure::of(CW_STATUS_RATE_LIMITED, "429"));
  out.confirmed("a", "second word wins");
  cwsdk::WriteRequest req;
  for (const char* k : {"a", "b", "c", "d", "e"}) {
    cwsdk::Item it = cwsdk::make_movie("x");
    it.key = k;
    req.items.push_back(it);
  }
  const Json doc = Json::parse(out.reply(req).body);
  ASSERT_EQ(doc["outcomes"].size(), 5u);
  EXPECT_EQ(doc["outcomes"][0],
            Json::parse(R"({"key":"a","status":"confirmed","message":"second word wins"})"));
  EXPECT_EQ(doc["outcomes"][1]["status"], "skipped");
  EXPECT_FALSE(doc["outcomes"][1].contains("reason"));
  EXPECT_EQ(doc["outcomes"][2]["reason"], "not_found");
  EXPECT_EQ(doc["outcomes"][3]["reason"], "rate_limited");
  EXPECT_EQ(
      doc["outcomes"][4],
      Json::parse(
          R"({"key":"e","status":"unresolved","reason":"unknown","message":"no outcome recorded"})"));
  cwsdk::Outcomes all;
  all.fail_all(req.items, cwsdk::Failure{CW_STATUS_RATE_LIMITED, "list is full", -1,
                                         cwsdk::Reason::quota, 420});
  const Json q = Json::parse(all.reply().body);
  EXPECT_EQ(q["outcomes"].size(), 5u);
  EXPECT_EQ(q["outcomes"][4]["reason"], "quota");
  EXPECT_TRUE(all.has("c"));
  EXPECT_EQ(all.find("c")->reason, cwsdk::Reason::quota);
  EXPECT_EQ(all.find("zz"), nullptr);
}

TEST(Health, StatusFeaturesAndRunTimeCapabilities) {
  cwsdk::HealthReply h(cwsdk::HealthStatus::ok, "logged in as alice");
  h.feature("watchlist", true).feature("ratings", true);
  h.rating_scale("ratings", cwsdk::RatingScale{1, 100, 1})
      .capability("watchlist", "max_items", 100);
  const Json doc = Json::parse(h.reply().body);
  EXPECT_EQ(doc, Json::parse(R"({"status":"ok","message":"logged in as alice",
      "features":{"watchlist":true,"ratings":true},
      "capabilities":{"ratings":{"rating_scale":{"min":1.0,"max":100.0,"step":1.0}},
                      "watchlist":{"max_items":100}}})"));
  EXPECT_EQ(Json::parse(cwsdk::HealthReply().reply().body), Json::parse(R"({"status":"ok"})"));
  const Json auth = Json::parse(
      cwsdk::HealthReply::from_failure(cwsdk::Failure::of(CW_STATUS_AUTH, "token expired"))
          .reply()
          .body);
  EXPECT_EQ(auth["status"], "auth_failed");
  const Json busy = Json::parse(
      cwsdk::HealthReply::from_failure(cwsdk::Failure::of(CW_STATUS_RATE_LIMITED, "429", 2000))
          .reply()
          .body);
  EXPECT_EQ(busy["status"], "degraded");
  EXPECT_EQ(busy["retry_after_ms"], 2000);
  EXPECT_EQ(
      Json::parse(
          cwsdk::HealthReply::from_failure(cwsdk::Failure::internal("x")).reply().body)["status"],
      "down");
}

TEST(Replies, LookupResolveAndScrobble) {
  cwsdk::LookupReply lookup;
  cwsdk::Item play = movie(1);
  play.watched_at = 1704164645000;
  lookup.present("k1", {play});
  lookup.present("k2");
  lookup.absent("k3");
  const Json l = Json::parse(lookup.reply().body);
  EXPECT_EQ(l["results"].size(), 3u);
  EXPECT_EQ(l["results"][0]["items"][0]["watched_at"], "2024-01-02T03:04:05Z");
  EXPECT_FALSE(l["results"][1].contains("items"));
  EXPECT_EQ(l["results"][2], Json::parse(R"({"key":"k3","present":false})"));

  cwsdk::ResolveReply resolve;
  cwsdk::Ids ids;
  ids.set("tmdb", 603);
  ids.set("imdb", "tt0133093");
  resolve.resolved("k1", ids, 86400);
  resolve.unknown("k2");
  const Json r = Json::parse(resolve.reply().body);
  EXPECT_EQ(r["results"][0],
            Json::parse(R"({"key":"k1","ids":{"tmdb":"603","imdb":"tt0133093"},"ttl_s":86400})"));
  EXPECT_EQ(r["results"][1], Json::parse(R"({"key":"k2","ids":{}})"));

  cwsdk::ScrobbleReply s;
  s.recorded = cwsdk::ScrobbleRecorded::play;
  EXPECT_EQ(Json::parse(s.reply().body),
            Json::parse(R"({"status":"confirmed","recorded":"play"})"));
  s.status = cwsdk::OutcomeStatus::unresolved;
  s.reason = cwsdk::Reason::not_found;
  s.recorded = cwsdk::ScrobbleRecorded::none;
  s.message = "unknown movie";
  EXPECT_EQ(
      Json::parse(s.reply().body),
      Json::parse(
          R"({"status":"unresolved","reason":"not_found","recorded":"none","message":"unknown movie"})"));
}

}  // namespace
