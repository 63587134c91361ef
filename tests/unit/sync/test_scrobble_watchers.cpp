// The sessions watchers against the sandbox's Jellyfin and Plex fakes: a player reports
// start, pause, unpause and stop through the server's own playback API (Jellyfin's
// /Sessions/Playing routes, Plex's /:/timeline), and each poll of the sessions (GET /Sessions,
// GET /status/sessions) yields the matching playback events.

#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include <cw/scrobble/watchers.hpp>
#include <cw/scrobble/websocket.hpp>

#include "core/fake_service.hpp"
#include "core/generator.hpp"
#include "core/registry.hpp"

namespace cw::scrobble {
namespace {

using nlohmann::json;

TEST(ScrobbleWatchers, JellyfinSessionsBecomePlaybackEvents) {
  fakes::SandboxServer server(fakes::make_fake("jellyfin"));
  server.service().seed_universe(fakes::generate_universe(fakes::parse_generate_options(
      "movies=3,shows=1,seasons=1,episodes=1,plays=0,ratings=0,watchlist=0,progress=0,seed=7")));
  server.start(0);
  const json cred = server.service().credentials();
  const std::string token = cred["access_token"];
  const std::string uid = cred["user_id"];
  httplib::Client player(server.base_url());
  const httplib::Headers auth = {{"X-Emby-Token", token}};
  auto listed = player.Get(
      "/Users/" + uid + "/Items?IncludeItemTypes=Movie&Recursive=true&Fields=ProviderIds", auth);
  ASSERT_TRUE(listed && listed->status == 200);
  const json movie = json::parse(listed->body)["Items"][0];
  const std::string iid = movie["Id"];
  const std::int64_t runtime = movie.value("RunTimeTicks", std::int64_t{0});
  ASSERT_GT(runtime, 0) << movie.dump();
  auto report = [&](const char* path, std::int64_t ticks, bool paused) {
    const json body = {{"ItemId", iid}, {"PositionTicks", ticks}, {"IsPaused", paused}};
    auto r = player.Post(path, auth, body.dump(), "application/json");
    ASSERT_TRUE(r && r->status == 204) << path;
  };

  SessionTracker tracker("jellyfin");
  auto poll = [&] {
    auto s = fetch_sessions("jellyfin", server.base_url(), token);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? tracker.update(*s).events : std::vector<Playback>{};
  };
  EXPECT_TRUE(poll().empty());
  report("/Sessions/Playing", 0, false);
  auto ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::start);
  EXPECT_EQ(ev[0].user, cred["username"]);
  EXPECT_EQ(ev[0].item["type"], "movie");
  EXPECT_FALSE(ev[0].item["ids"].value("imdb", "").empty()) << ev[0].item.dump();
  EXPECT_TRUE(poll().empty());  // nothing changed
  report("/Sessions/Playing/Progress", runtime / 2, true);
  ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::pause);
  EXPECT_NEAR(*ev[0].progress, 50, 0.5);
  report("/Sessions/Playing/Progress", runtime * 85 / 100, false);
  ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::start);
  report("/Sessions/Playing/Stopped", runtime * 85 / 100, false);
  ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::stop);
  EXPECT_NEAR(*ev[0].progress, 85, 0.5);  // the last position seen

  EXPECT_FALSE(fetch_sessions("jellyfin", server.base_url(), "wrong-token"));
  server.stop();
}

TEST(ScrobbleWatchers, PlexSessionsBecomePlaybackEvents) {
  fakes::SandboxServer server(fakes::make_fake("plex"));
  server.service().seed_universe(fakes::generate_universe(fakes::parse_generate_options(
      "movies=3,shows=1,seasons=1,episodes=1,plays=0,ratings=0,watchlist=0,progress=0,seed=7")));
  server.start(0);
  const json cred = server.service().credentials();
  const std::string token = cred["pms_token"];
  httplib::Client player(server.base_url());
  const httplib::Headers auth = {{"X-Plex-Token", token}, {"Accept", "application/json"}};
  auto listed = player.Get("/library/sections/1/all?type=1", auth);
  ASSERT_TRUE(listed && listed->status == 200);
  const json movie = json::parse(listed->body)["MediaContainer"]["Metadata"][0];
  const std::string rk = movie["ratingKey"];
  const std::int64_t duration = movie.value("duration", std::int64_t{0});
  ASSERT_GT(duration, 0) << movie.dump();
  // What a Plex player reports while it plays (GET /:/timeline, as Plex Web sends it).
  auto report = [&](const char* state, std::int64_t ms) {
    auto r = player.Get("/:/timeline?ratingKey=" + rk + "&key=/library/metadata/" + rk +
                            "&state=" + state + "&time=" + std::to_string(ms) +
                            "&duration=" + std::to_string(duration),
                        auth);
    ASSERT_TRUE(r && r->status == 200) << state;
  };

  SessionTracker tracker("plex");
  auto poll = [&] {
    auto s = fetch_sessions("plex", server.base_url(), token);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? tracker.update(*s).events : std::vector<Playback>{};
  };
  EXPECT_TRUE(poll().empty());  // nothing plays: no Metadata at all in the container
  report("playing", 0);
  auto ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::start);
  EXPECT_EQ(ev[0].source, "plex");
  EXPECT_EQ(ev[0].user, cred["username"]);
  EXPECT_EQ(ev[0].item["type"], "movie");
  EXPECT_EQ(ev[0].item["ids"]["plex"], rk);
  EXPECT_FALSE(ev[0].item["ids"].value("imdb", "").empty()) << ev[0].item.dump();
  EXPECT_TRUE(poll().empty());  // nothing changed
  report("paused", duration / 2);
  ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::pause);
  EXPECT_NEAR(*ev[0].progress, 50, 0.5);
  report("playing", duration * 85 / 100);
  ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::start);
  report("stopped", duration * 85 / 100);
  ev = poll();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, Action::stop);
  EXPECT_NEAR(*ev[0].progress, 85, 0.5);  // the last position seen

  EXPECT_FALSE(fetch_sessions("plex", server.base_url(), "wrong-token"));
  server.stop();
}

// With the notification websocket a Plex watcher sees a start and a stop when they happen:
// its timed poll is an hour apart here, so every event after the first poll comes from a
// notification, and the stop carries the position the player last reported (95 %), which
// no poll saw.
TEST(ScrobbleWatchers, PlexNotificationsDeliverEventsAsTheyHappen) {
  fakes::SandboxServer server(fakes::make_fake("plex"));
  server.service().seed_universe(fakes::generate_universe(fakes::parse_generate_options(
      "movies=3,shows=1,seasons=1,episodes=1,plays=0,ratings=0,watchlist=0,progress=0,seed=7")));
  server.start(0);
  const std::string token = server.service().credentials()["pms_token"];
  httplib::Client player(server.base_url());
  const httplib::Headers auth = {{"X-Plex-Token", token}, {"Accept", "application/json"}};
  auto listed = player.Get("/library/sections/1/all?type=1", auth);
  ASSERT_TRUE(listed && listed->status == 200);
  const json movie = json::parse(listed->body)["MediaContainer"]["Metadata"][0];
  const std::string rk = movie["ratingKey"];
  const std::int64_t duration = movie.value("duration", std::int64_t{0});
  auto report = [&](const char* state, std::int64_t ms) {
    auto r = player.Get("/:/timeline?ratingKey=" + rk + "&key=/library/metadata/" + rk +
                            "&state=" + state + "&time=" + std::to_string(ms) +
                            "&duration=" + std::to_string(duration),
                        auth);
    ASSERT_TRUE(r && r->status == 200) << state;
  };

  std::mutex mutex;
  std::condition_variable cv;
  std::vector<Playback> events;
  config::WatcherOptions options;
  options.type = "plex";
  options.url = server.base_url() + "/";
  options.token = config::SecretRef{config::SecretRef::Kind::literal, token, {}};
  options.interval_s = 3600;
  auto watchers = Watchers::start(
      {options},
      [&](const Playback& p) {
        std::lock_guard lock(mutex);
        events.push_back(p);
        cv.notify_all();
      },
      nullptr);
  ASSERT_TRUE(watchers) << watchers.error().message;
  auto& ctx = server.context();
  auto wait_until = [&](auto done) {
    for (int i = 0; i < 200 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return done();
  };
  ASSERT_TRUE(wait_until([&] {
    return ctx.request_count("^/:/websockets/notifications$") == 1 &&
           ctx.request_count("^/status/sessions$") == 1;
  }));
  auto next_event = [&](std::size_t n) {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return events.size() >= n; }))
        << "no event " << n << " within 10 s";
    return events.size() >= n ? events[n - 1] : Playback{};
  };
  report("playing", duration / 10);
  Playback start = next_event(1);
  EXPECT_EQ(start.action, Action::start);
  EXPECT_EQ(start.item["ids"]["plex"], rk);
  EXPECT_NEAR(*start.progress, 10, 0.5);
  report("playing", duration / 2);  // moves on: no event, but a poll
  ASSERT_TRUE(wait_until([&] { return ctx.request_count("^/status/sessions$") == 3; }));
  report("stopped", duration * 95 / 100);
  Playback stop = next_event(2);
  EXPECT_EQ(stop.action, Action::stop);
  ASSERT_TRUE(stop.progress);
  EXPECT_NEAR(*stop.progress, 95, 0.5);  // the notification's viewOffset, not the last poll's
  watchers->reset();                     // stops within a quarter second
  std::lock_guard lock(mutex);
  EXPECT_EQ(events.size(), 2u);
  server.stop();
}

// Jellyfin and Emby push the session list over their websocket once the watcher sent
// SessionsStart, and again whenever a player reports: with the timed poll an hour apart,
// every event after the first poll comes from a pushed list.
TEST(ScrobbleWatchers, JellyfinAndEmbySessionSocketsPushEachChange) {
  for (const std::string flavor : {"jellyfin", "emby"}) {
    SCOPED_TRACE(flavor);
    fakes::SandboxServer server(fakes::make_fake(flavor));
    server.service().seed_universe(fakes::generate_universe(fakes::parse_generate_options(
        "movies=3,shows=1,seasons=1,episodes=1,plays=0,ratings=0,watchlist=0,progress=0,"
        "seed=7")));
    server.start(0);
    const json cred = server.service().credentials();
    const std::string token = cred["access_token"];
    const std::string uid = cred["user_id"];
    httplib::Client player(server.base_url());
    const httplib::Headers auth = {{"X-Emby-Token", token}};
    auto listed = player.Get(
        "/Users/" + uid + "/Items?IncludeItemTypes=Movie&Recursive=true&Fields=ProviderIds", auth);
    ASSERT_TRUE(listed && listed->status == 200);
    const json movie = json::parse(listed->body)["Items"][0];
    const std::string iid = movie["Id"];
    const std::int64_t runtime = movie.value("RunTimeTicks", std::int64_t{0});
    auto report = [&](const char* path, std::int64_t ticks, bool paused) {
      const json body = {{"ItemId", iid}, {"PositionTicks", ticks}, {"IsPaused", paused}};
      auto r = player.Post(path, auth, body.dump(), "application/json");
      ASSERT_TRUE(r && r->status == 204) << path;
    };

    std::mutex mutex;
    std::condition_variable cv;
    std::vector<Playback> events;
    config::WatcherOptions options;
    options.type = flavor;
    options.url = server.base_url();
    options.token = config::SecretRef{config::SecretRef::Kind::literal, token, {}};
    options.interval_s = 3600;
    auto watchers = Watchers::start(
        {options},
        [&](const Playback& p) {
          std::lock_guard lock(mutex);
          events.push_back(p);
          cv.notify_all();
        },
        nullptr);
    ASSERT_TRUE(watchers) << watchers.error().message;
    auto& ctx = server.context();
    const std::string socket = flavor == "jellyfin" ? "^/socket$" : "^/embywebsocket$";
    for (int i = 0; i < 400 && !(ctx.request_count(socket) == 1 &&
                                 ctx.request_count("^/Sessions$", "GET") == 1);
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_EQ(ctx.request_count(socket), 1u);
    auto next_event = [&](std::size_t n) {
      std::unique_lock lock(mutex);
      EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return events.size() >= n; }))
          << "no event " << n << " within 10 s";
      return events.size() >= n ? events[n - 1] : Playback{};
    };
    report("/Sessions/Playing", 0, false);
    EXPECT_EQ(next_event(1).action, Action::start);
    report("/Sessions/Playing/Progress", runtime / 2, true);
    Playback pause = next_event(2);
    EXPECT_EQ(pause.action, Action::pause);
    EXPECT_NEAR(*pause.progress, 50, 0.5);
    report("/Sessions/Playing/Progress", runtime * 9 / 10, false);
    EXPECT_EQ(next_event(3).action, Action::start);
    report("/Sessions/Playing/Stopped", runtime * 9 / 10, false);
    Playback stop = next_event(4);
    EXPECT_EQ(stop.action, Action::stop);
    EXPECT_NEAR(*stop.progress, 90, 0.5);
    EXPECT_EQ(stop.item["ids"][flavor], iid);
    watchers->reset();
    EXPECT_EQ(ctx.request_count("^/Sessions$", "GET"), 1u);  // no poll after the first
    std::lock_guard lock(mutex);
    EXPECT_EQ(events.size(), 4u);
    server.stop();
  }
}

// The fake's session websocket speaks the messages of Jellyfin's API description
// (OutboundWebSocketMessage): ForceKeepAlive with an int32 Data, Sessions with a list,
// KeepAlive without Data, each with a uuid MessageId; Sessions only after SessionsStart.
TEST(ScrobbleWatchers, TheFakeSessionSocketSpeaksJellyfinsMessages) {
  fakes::SandboxServer server(fakes::make_fake("jellyfin"));
  server.service().seed_universe(fakes::generate_universe(fakes::parse_generate_options(
      "movies=2,shows=0,plays=0,ratings=0,watchlist=0,progress=0,seed=7")));
  server.start(0);
  const std::string token = server.service().credentials()["access_token"];
  auto ws = WebSocketClient::connect(server.base_url() + "/socket?deviceId=t",
                                     {"X-Emby-Token: " + token});
  ASSERT_TRUE(ws) << ws.error().message;
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  auto next = [&] {
    auto m = (*ws)->receive(5000);
    EXPECT_TRUE(m && *m) << (m ? "nothing within 5 s" : m.error().message);
    const json j = m && *m ? json::parse(**m) : json();
    EXPECT_TRUE(std::regex_match(j.value("MessageId", ""), uuid)) << j.dump();
    return j;
  };
  const json hello = next();
  EXPECT_EQ(hello["MessageType"], "ForceKeepAlive");
  EXPECT_TRUE(hello["Data"].is_number_integer());
  ASSERT_TRUE((*ws)->send_text(R"({"MessageType":"KeepAlive"})"));
  const json alive = next();
  EXPECT_EQ(alive["MessageType"], "KeepAlive");
  EXPECT_FALSE(alive.contains("Data"));
  auto quiet = (*ws)->receive(300);  // not subscribed: no session list
  ASSERT_TRUE(quiet);
  EXPECT_FALSE(*quiet);
  ASSERT_TRUE((*ws)->send_text(R"({"MessageType":"SessionsStart","Data":"0,1500"})"));
  const json sessions = next();
  EXPECT_EQ(sessions["MessageType"], "Sessions");
  EXPECT_TRUE(sessions["Data"].is_array());
  server.stop();
}

TEST(ScrobbleWatchers, SessionSocketMessagesAreReadWithCare) {
  EXPECT_TRUE(read_session_socket_message(R"({"MessageType":"Sessions","Data":[]})").sessions);
  EXPECT_EQ(read_session_socket_message(R"({"MessageType":"ForceKeepAlive","Data":60})")
                .keepalive_s.value_or(0),
            60);
  for (const char* text :
       {"", "null", "[]", R"({"MessageType":"Sessions"})",
        R"({"MessageType":"Sessions","Data":{}})", R"({"MessageType":7,"Data":[]})",
        R"({"MessageType":"ForceKeepAlive","Data":"60"})",
        R"({"MessageType":"ForceKeepAlive","Data":-1})", R"({"MessageType":"KeepAlive"})"}) {
    const auto m = read_session_socket_message(text);
    EXPECT_FALSE(m.sessions) << text;
    EXPECT_FALSE(m.keepalive_s) << text;
  }
}

// Notifications are the server's, so untrusted: anything but a "playing" container naming a
// session and item is ignored, and a malformed one moves nothing.
TEST(ScrobbleWatchers, PlexNotificationsThatNameNoSessionAreIgnored) {
  SessionTracker tracker("plex");
  const json row = {{"type", "movie"},
                    {"ratingKey", "5"},
                    {"sessionKey", "9"},
                    {"duration", 1000},
                    {"viewOffset", 100}};
  ASSERT_EQ(tracker.update(json::array({row})).events.size(), 1u);
  for (const char* text :
       {"", "null", "[]", "{\"NotificationContainer\":null}",
        "{\"NotificationContainer\":{\"type\":\"activity\",\"ActivityNotification\":[]}}",
        "{\"NotificationContainer\":{\"type\":\"playing\",\"PlaySessionStateNotification\":7}}",
        "{\"NotificationContainer\":{\"type\":\"playing\",\"PlaySessionStateNotification\":"
        "[null,{\"sessionKey\":9},{\"ratingKey\":[5]}]}}"}) {
    const auto effect = apply_plex_notification(text, tracker);
    EXPECT_FALSE(effect.named_session) << text;
    EXPECT_TRUE(effect.stops.empty()) << text;
  }
  // A wrong viewOffset names the session (so it is polled) but moves nothing.
  auto named = apply_plex_notification(
      R"({"NotificationContainer":{"type":"playing","PlaySessionStateNotification":[{"sessionKey":"9","ratingKey":"5","viewOffset":"x"}]}})",
      tracker);
  EXPECT_TRUE(named.named_session);
  EXPECT_TRUE(named.stops.empty());
  // Another session, or the same session with another item, is not this one.
  auto other = apply_plex_notification(
      R"({"NotificationContainer":{"type":"playing","PlaySessionStateNotification":[{"sessionKey":"8","ratingKey":"5","state":"stopped"},{"sessionKey":"9","ratingKey":"6","state":"stopped"}]}})",
      tracker);
  EXPECT_TRUE(other.named_session);
  EXPECT_TRUE(other.stops.empty());
  // A stopped one ends the session at its position, once.
  const std::string stopped =
      R"({"NotificationContainer":{"type":"playing","PlaySessionStateNotification":[{"sessionKey":9,"ratingKey":"5","viewOffset":800,"state":"stopped"}]}})";
  auto stop = apply_plex_notification(stopped, tracker);
  ASSERT_EQ(stop.stops.size(), 1u);
  EXPECT_EQ(stop.stops[0].action, Action::stop);
  EXPECT_NEAR(*stop.stops[0].progress, 80, 0.01);
  EXPECT_TRUE(apply_plex_notification(stopped, tracker).stops.empty());
  EXPECT_TRUE(tracker.update(json::array()).events.empty());  // the poll does not stop it again
}

TEST(ScrobbleWatchers, PlexRowsThatCannotBeFollowedAreSkippedOnce) {
  // Untrusted rows: no duration, a viewOffset of the wrong type, no ratingKey, not a video.
  const json rows = json::array(
      {{{"type", "movie"}, {"ratingKey", "1"}, {"title", "A"}, {"viewOffset", 10}},
       {{"type", "episode"}, {"ratingKey", "2"}, {"duration", 1000}, {"viewOffset", "x"}},
       {{"type", "movie"}, {"duration", 1000}, {"viewOffset", 10}},
       {{"type", "track"}, {"ratingKey", "4"}, {"duration", 1000}, {"viewOffset", 10}},
       nullptr,
       {{"type", "movie"},
        {"ratingKey", "5"},
        {"duration", 1000},
        {"viewOffset", 900},
        {"Player", {{"state", "paused"}}},
        {"Guid", json::array({{{"id", "imdb://tt0113277"}}, {{"id", "bogus"}}, 7})}}});
  SessionTracker tracker("plex");
  auto first = tracker.update(rows);
  EXPECT_EQ(first.skipped.size(), 3u);
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].action, Action::pause);
  EXPECT_EQ(first.events[0].item["ids"]["imdb"], "tt0113277");
  EXPECT_NEAR(*first.events[0].progress, 90, 0.01);
  EXPECT_TRUE(tracker.update(rows).skipped.empty());  // reported once while they play
}

// The /Sessions reply is the server's: fields missing, null or of the wrong type skip that
// item, once and saying why, and the items beside it are followed as usual.
TEST(ScrobbleWatchers, SessionsWithoutUsableTicksAreSkippedPerItem) {
  const json movie = {{"Id", "m1"},
                      {"Name", "Heat"},
                      {"Type", "Movie"},
                      {"RunTimeTicks", 1000},
                      {"ProviderIds", {{"Imdb", "tt0113277"}}}};
  auto session = [](const std::string& id, json now, json state) {
    return json{{"Id", id}, {"UserName", "alice"}, {"NowPlayingItem", now}, {"PlayState", state}};
  };
  json no_runtime = movie;
  no_runtime["Id"] = "m2";
  no_runtime.erase("RunTimeTicks");
  json null_runtime = movie;
  null_runtime["Id"] = "m3";
  null_runtime["RunTimeTicks"] = nullptr;
  json text_runtime = movie;
  text_runtime["Id"] = "m4";
  text_runtime["RunTimeTicks"] = "long";
  json no_id = movie;
  no_id.erase("Id");
  const json sessions = json::array({
      session("s1", movie, {{"PositionTicks", 500}, {"IsPaused", "yes"}}),
      session("s2", no_runtime, {{"PositionTicks", 500}}),
      session("s3", null_runtime, {{"PositionTicks", 500}}),
      session("s4", text_runtime, {{"PositionTicks", 500}}),
      session("s5", no_id, {{"PositionTicks", 500}}),
      session("s6", movie, nullptr),
      json{{"Id", "s7"}, {"NowPlayingItem", nullptr}},
      json("not a session"),
  });
  SessionTracker tracker("jellyfin");
  SessionUpdate first = tracker.update(sessions);
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].action, Action::start);  // IsPaused that is not a boolean: playing
  EXPECT_NEAR(*first.events[0].progress, 50, 0.01);
  ASSERT_EQ(first.skipped.size(), 5u);
  EXPECT_NE(first.skipped[0].find("\"Heat\" (m2): the session reports no RunTimeTicks"),
            std::string::npos)
      << first.skipped[0];
  EXPECT_NE(first.skipped[3].find("no item Id"), std::string::npos) << first.skipped[3];
  EXPECT_NE(first.skipped[4].find("no PositionTicks"), std::string::npos) << first.skipped[4];

  SessionUpdate again = tracker.update(sessions);  // reported once, not at every poll
  EXPECT_TRUE(again.events.empty());
  EXPECT_TRUE(again.skipped.empty());
  SessionUpdate gone = tracker.update(json::array());
  ASSERT_EQ(gone.events.size(), 1u);  // only the followed item stops
  EXPECT_EQ(gone.events[0].action, Action::stop);
}

}  // namespace
}  // namespace cw::scrobble
