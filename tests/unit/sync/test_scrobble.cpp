// Real-time scrobbling (host/src/scrobble): the four webhook formats, the rules, the
// durable queue and its delivery to sinks, with a manual clock and scripted sinks.

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cw/config/config.hpp>
#include <cw/scrobble/service.hpp>
#include <cw/scrobble/webhooks.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>

namespace cw::scrobble {
namespace {

using nlohmann::json;

constexpr const char* k_boundary = "------------------------a1b2c3";

std::string plex_body(const json& payload) {
  return std::string("--") + k_boundary +
         "\r\nContent-Disposition: form-data; name=\"payload\"\r\n"
         "Content-Type: application/json\r\n\r\n" +
         payload.dump() + "\r\n--" + k_boundary +
         "\r\nContent-Disposition: form-data; name=\"thumb\"; filename=\"x.jpg\"\r\n"
         "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--" +
         k_boundary + "--\r\n";
}

json plex_payload(const std::string& event, double view_offset_ms,
                  const std::string& user = "alice", const std::string& player = "p1") {
  return {{"event", event},
          {"user", true},
          {"owner", true},
          {"Account", {{"id", 1}, {"title", user}}},
          {"Server", {{"title", "home"}, {"uuid", "s1"}}},
          {"Player", {{"local", true}, {"title", "TV"}, {"uuid", player}}},
          {"Metadata",
           {{"librarySectionType", "movie"},
            {"ratingKey", "1001"},
            {"key", "/library/metadata/1001"},
            {"librarySectionTitle", "Movies"},
            {"type", "movie"},
            {"title", "Inception"},
            {"year", 2010},
            {"Guid", json::array({{{"id", "imdb://tt1375666"}}, {{"id", "tmdb://27205"}}})},
            {"viewOffset", view_offset_ms},
            {"duration", 8880000}}}};
}

WebhookRequest plex_request(const json& payload, const std::string& token = "s3cret-plex") {
  WebhookRequest r;
  r.source = "plex";
  r.content_type = std::string("multipart/form-data; boundary=") + k_boundary;
  r.body = plex_body(payload);
  if (!token.empty()) r.query["token"] = token;
  return r;
}

TEST(ScrobbleWebhooks, PlexMultipartMovie) {
  auto p = parse_webhook(plex_request(plex_payload("media.scrobble", 8000000)));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->action, Action::stop);
  EXPECT_TRUE(p->watched_hint);
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->library, "Movies");
  EXPECT_EQ(p->item["ids"]["imdb"], "tt1375666");
  EXPECT_EQ(p->item["ids"]["tmdb"], "27205");
  EXPECT_EQ(p->item["year"], 2010);
  EXPECT_NEAR(*p->progress, 90.09, 0.01);
  EXPECT_EQ(title_of(p->item), "Inception (2010)");

  auto bad = plex_request(plex_payload("media.play", 0));
  bad.body = "--" + std::string(k_boundary) +
             "\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n{}\r\n--" + k_boundary +
             "--\r\n";
  EXPECT_FALSE(parse_webhook(bad));
  auto rate = parse_webhook(plex_request(plex_payload("media.rate", 0)));
  ASSERT_TRUE(rate);
  EXPECT_EQ(rate->action, Action::other);
}

TEST(ScrobbleWebhooks, JellyfinEmbyAndTautulliEpisodes) {
  WebhookRequest j;
  j.source = "jellyfin";
  j.content_type = "application/json";
  j.body = json{
      {"NotificationType", "PlaybackStop"},
      {"NotificationUsername", "bob"},
      {"ItemType", "Episode"},
      {"ItemId", "abc"},
      {"Name", "Pilot"},
      {"SeriesName", "Breaking Bad"},
      {"SeasonNumber", 1},
      {"EpisodeNumber", 1},
      {"Provider_tvdb", "349232"},
      {"PlaybackPositionTicks", 27000000000LL},
      {"RunTimeTicks", "36000000000"},
      {"PlayedToCompletion", false},
      {"DeviceId",
       "d1"}}.dump();
  auto p = parse_webhook(j);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->action, Action::stop);
  EXPECT_FALSE(p->watched_hint);
  EXPECT_DOUBLE_EQ(*p->progress, 75.0);
  EXPECT_EQ(title_of(p->item), "Breaking Bad S01E01");
  EXPECT_EQ(p->item["ids"]["tvdb"], "349232");

  WebhookRequest e;
  e.source = "emby";
  e.content_type = "application/json";
  e.body = json{{"Event", "playback.stop"},
                {"User", {{"Name", "carol"}, {"Id", "u"}}},
                {"Item",
                 {{"Type", "Movie"},
                  {"Name", "Heat"},
                  {"Id", "77"},
                  {"ProductionYear", 1995},
                  {"RunTimeTicks", 100},
                  {"ProviderIds", {{"Imdb", "tt0113277"}, {"Tmdb", "949"}}}}},
                {"PlaybackInfo",
                 {{"PositionTicks", 50}, {"PlayedToCompletion", true}, {"PlaySessionId", "ps1"}}}}
               .dump();
  auto q = parse_webhook(e);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_TRUE(q->watched_hint);
  EXPECT_EQ(q->item["ids"]["imdb"], "tt0113277");
  EXPECT_EQ(q->session, "emby:ps1");

  WebhookRequest t;
  t.source = "tautulli";
  t.body = json{{"action", "watched"},     {"user", "dave"},   {"library", "TV Shows"},
                {"media_type", "episode"}, {"title", "Pilot"}, {"show", "Lost"},
                {"season", "1"},           {"episode", "2"},   {"tvdb_id", "127131"},
                {"progress", "91"},        {"session", "42"},  {"rating_key", "5"}}
               .dump();
  auto r = parse_webhook(t);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->action, Action::stop);
  EXPECT_TRUE(r->watched_hint);
  EXPECT_EQ(r->item["episode"], 2);
  EXPECT_DOUBLE_EQ(*r->progress, 91.0);

  t.body = "[1,2]";
  EXPECT_FALSE(parse_webhook(t));
  t.body = "{\"user\":\"x\"}";
  EXPECT_FALSE(parse_webhook(t));
}

// A sink that answers from a script and records what it was sent.
class ScriptedSink final : public Sink {
 public:
  explicit ScriptedSink(std::string name) : m_name(std::move(name)) {}
  const std::string& name() const override { return m_name; }
  Result<json> scrobble(const json& request) override {
    if (down) return make_error("trakt: HTTP 503", ErrorKind::transient);
    sent.push_back(request);
    if (request["event"] == "stop" && request["watched"] == true)
      return json{{"status", "confirmed"}, {"recorded", "play"}};
    return json{{"status", "confirmed"}, {"recorded", "none"}};
  }
  Result<json> remove_from_watchlist(const json& items) override {
    removed.push_back(items);
    return json{{"outcomes", json::array()}};
  }
  bool down = false;
  std::vector<json> sent;
  std::vector<json> removed;

 private:
  std::string m_name;
};

class ScrobbleService : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() /
            ("cw-scrobble-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(m_dir);
    setenv("CW_TEST_PLEX_HOOK", "s3cret-plex", 1);
    options.enabled = true;
    options.sinks = {"trakt"};
    config::WebhookOptions plex;
    plex.secret = config::SecretRef{config::SecretRef::Kind::env, "CW_TEST_PLEX_HOOK", {}};
    options.webhooks["plex"] = plex;
    config::WebhookOptions open;
    open.open = true;
    options.webhooks["tautulli"] = open;
  }
  void TearDown() override {
    service.reset();
    std::filesystem::remove_all(m_dir);
  }
  void start() {
    service.reset();
    ServiceDeps deps;
    deps.options = options;
    deps.state_dir = m_dir;
    deps.clock = &clock;
    deps.sinks = [this](const std::string& n) -> Sink* { return n == "trakt" ? &sink : nullptr; };
    auto s = Service::create(std::move(deps));
    ASSERT_TRUE(s) << s.error().message;
    service = std::move(*s);
  }

  config::ScrobbleOptions options;
  services::ManualClock clock{1'750'000'000'000};
  services::FlagCancelToken cancel;
  ScriptedSink sink{"trakt"};
  std::unique_ptr<Service> service;

 private:
  std::filesystem::path m_dir;
};

TEST_F(ScrobbleService, EachEndpointHasItsOwnSecretAndRefusalsStoreNothing) {
  start();
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 0), "")).http_status, 401);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 0), "wrong")).http_status, 401);
  auto malformed = plex_request(plex_payload("media.play", 0));
  malformed.body = "--" + std::string(k_boundary) + "--\r\n";
  EXPECT_EQ(service->accept(malformed).http_status, 400);
  auto big = plex_request(plex_payload("media.play", 0));
  big.body.append(std::size_t{2} << 20, 'x');
  EXPECT_EQ(service->accept(big).http_status, 413);
  WebhookRequest jelly;
  jelly.source = "jellyfin";  // not configured
  jelly.body = "{}";
  EXPECT_EQ(service->accept(jelly).http_status, 404);
  WebhookRequest nosuch;
  nosuch.source = "kodi";
  EXPECT_EQ(service->accept(nosuch).http_status, 404);
  EXPECT_TRUE(service->queue(10).empty());
  const Stats st = service->stats();
  EXPECT_EQ(st.sources.at("plex").refused, 4);
  EXPECT_EQ(st.queued, 0);

  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 0))).http_status, 202);
  EXPECT_EQ(service->queue(10).size(), 1u);
}

TEST_F(ScrobbleService, RepeatsCollapseAndOneWatchedStopIsOnePlay) {
  start();
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 0))).http_status, 202);
  clock.advance_ms(1000);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 1000))).http_status, 200);
  clock.advance_ms(60'000);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.pause", 4000000))).http_status, 202);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.resume", 4000000))).http_status, 202);
  // Plex: media.scrobble at 90 %, then media.stop at the end: one play.
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.scrobble", 8000000))).http_status,
            202);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.stop", 8800000))).http_status, 200);
  auto d = service->deliver_pending(cancel);
  EXPECT_EQ(d.delivered, 4);
  EXPECT_EQ(d.remaining, 0);
  ASSERT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(sink.sent[0]["event"], "start");
  EXPECT_EQ(sink.sent[1]["event"], "pause");
  EXPECT_EQ(sink.sent[2]["event"], "start");
  EXPECT_EQ(sink.sent[3]["event"], "stop");
  EXPECT_EQ(sink.sent[3]["watched"], true);
  EXPECT_EQ(service->stats().sinks.at("trakt").plays, 1);

  // The same stop again after a restart (the rules' memory is gone): still one play.
  start();
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.scrobble", 8000000))).http_status,
            200);
  EXPECT_TRUE(service->queue(10).empty());
  // A second viewing hours later is a new play.
  clock.advance_ms(4 * 3600 * 1000);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 0))).http_status, 202);
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.scrobble", 8000000))).http_status,
            202);
}

TEST_F(ScrobbleService, ThresholdAndFilters) {
  options.users = {"Alice"};
  options.libraries = {"Movies"};
  start();
  // Another user's play, and a library not listed: nothing queued.
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.play", 0, "bob"))).http_status, 200);
  auto other = plex_payload("media.play", 0);
  other["Metadata"]["librarySectionTitle"] = "Kids";
  EXPECT_EQ(service->accept(plex_request(other)).http_status, 200);
  EXPECT_TRUE(service->queue(10).empty());
  // 79.9 % is not watched (default threshold 80), 80 % is.
  const double duration = 8880000;
  EXPECT_EQ(service->accept(plex_request(plex_payload("media.stop", duration * 0.799))).http_status,
            202);
  EXPECT_EQ(
      service->accept(plex_request(plex_payload("media.stop", duration * 0.80, "alice", "p2")))
          .http_status,
      202);
  const auto q = service->queue(10);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_FALSE(q[0].watched);
  EXPECT_TRUE(q[1].watched);
  const auto events = service->recent(10);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back().outcome, "ignored");
  EXPECT_NE(events.back().detail.find("bob"), std::string::npos);
}

TEST_F(ScrobbleService, QueueSurvivesARestartAndIsDeliveredInOrderAfterBackOff) {
  options.remove_from_watchlist = true;
  start();
  sink.down = true;
  WebhookRequest t;
  t.source = "tautulli";
  auto tautulli = [&](const char* action, const char* progress) {
    t.body = json{{"action", action},       {"user", "dave"},       {"library", "Movies"},
                  {"media_type", "movie"},  {"title", "Heat"},      {"year", "1995"},
                  {"imdb_id", "tt0113277"}, {"progress", progress}, {"session", "7"},
                  {"rating_key", "9"}}
                 .dump();
    return service->accept(t).http_status;
  };
  EXPECT_EQ(tautulli("play", "0"), 202);
  EXPECT_EQ(tautulli("pause", "40"), 202);
  EXPECT_EQ(tautulli("watched", "95"), 202);
  auto d = service->deliver_pending(cancel);
  EXPECT_EQ(d.delivered, 0);
  EXPECT_EQ(d.failed, 1);
  EXPECT_EQ(d.remaining, 3);
  EXPECT_GT(d.next_due_ms, clock.now_ms());
  EXPECT_EQ(service->stats().sinks.at("trakt").failed, 1);

  // A restart: the rows are still there, and wait for their back-off.
  start();
  sink.down = false;
  EXPECT_EQ(service->deliver_pending(cancel).delivered, 0);
  clock.set_ms(d.next_due_ms);
  d = service->deliver_pending(cancel);
  EXPECT_EQ(d.delivered, 3);
  EXPECT_EQ(d.remaining, 0);
  ASSERT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(sink.sent[0]["event"], "start");
  EXPECT_EQ(sink.sent[1]["event"], "pause");
  EXPECT_EQ(sink.sent[2]["event"], "stop");
  EXPECT_EQ(sink.sent[2]["item"]["ids"]["imdb"], "tt0113277");
  ASSERT_EQ(sink.removed.size(), 1u);
  EXPECT_EQ(sink.removed[0][0]["ids"]["imdb"], "tt0113277");
}

TEST(ScrobbleConfig, BlockParsesAndChecks) {
  const std::string base = R"(
providers:
  trakt: {plugin: trakt, client_id: x}
  plex: {plugin: plex, url: "http://localhost:32400"}
)";
  auto ok = config::parse_config(base + R"(
scrobble:
  sinks: [trakt]
  threshold: 90
  users: [alice]
  replay_after: 2h
  remove_from_watchlist: true
  webhooks:
    plex: {secret: "${env:PLEX_HOOK}"}
    tautulli: {secret: none}
  watchers:
    - {type: jellyfin, url: "http://jf:8096", token: "${env:JF_KEY}", interval: 5s}
    - {type: plex, url: "http://plex:32400", token: "${env:PLEX_TOKEN}"}
    - {type: plex, url: "http://plex2:32400", token: "${env:PLEX_TOKEN}", websocket: false}
)",
                                 "cw.yaml", "/etc/cw");
  ASSERT_TRUE(ok.errors.empty()) << ok.errors[0].to_string();
  const auto& s = ok.config->scrobble;
  EXPECT_TRUE(s.enabled);
  EXPECT_DOUBLE_EQ(s.threshold, 90);
  EXPECT_EQ(s.replay_after_s, 7200);
  EXPECT_TRUE(s.remove_from_watchlist);
  ASSERT_TRUE(s.webhooks.at("plex").secret);
  EXPECT_EQ(s.webhooks.at("plex").secret->ref, "PLEX_HOOK");
  EXPECT_TRUE(s.webhooks.at("tautulli").open);
  ASSERT_EQ(s.watchers.size(), 3u);
  EXPECT_EQ(s.watchers[1].type, "plex");
  EXPECT_EQ(s.watchers[1].interval_s, 10);
  EXPECT_TRUE(s.watchers[1].websocket);  // Plex listens to its notifications by default
  EXPECT_FALSE(s.watchers[2].websocket);
  EXPECT_EQ(s.watchers[0].type, "jellyfin");
  EXPECT_EQ(s.watchers[0].interval_s, 5);
  ASSERT_TRUE(s.watchers[0].token);
  EXPECT_EQ(s.watchers[0].token->ref, "JF_KEY");

  auto bad = config::parse_config(base + R"(
scrobble:
  sinks: [trackt]
  threshold: 120
  webhooks:
    plex: {secret: hunter2}
    kodi: {secret: none}
  watchers:
    - {type: kodi, url: "http://kodi:8080", token: "${env:KODI}"}
    - {type: emby, url: "http://emby:8096", token: "${env:EMBY}", websocket: true}
    - {type: plex, url: "http://plex:32400", token: "${env:PLEX}", websocket: often}
)",
                                  "cw.yaml", "/etc/cw");
  std::string all;
  for (const auto& e : bad.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("scrobble.sinks[0]: no provider named \"trackt\""), std::string::npos) << all;
  EXPECT_NE(all.find("scrobble.threshold"), std::string::npos) << all;
  EXPECT_NE(all.find("scrobble.webhooks.plex.secret"), std::string::npos) << all;
  EXPECT_NE(all.find("kodi"), std::string::npos) << all;
  EXPECT_NE(all.find("scrobble.watchers[0].type"), std::string::npos) << all;
  EXPECT_EQ(all.find("scrobble.watchers[1]"), std::string::npos) << all;  // emby has one too
  EXPECT_NE(all.find("scrobble.watchers[2].websocket"), std::string::npos) << all;
  EXPECT_EQ(all.find("hunter2"), std::string::npos) << all;
}

}  // namespace
}  // namespace cw::scrobble
