#pragma once
// Watchers: scrobbling for servers without a webhook. Each one polls a server's sessions
// (Jellyfin and Emby: GET /Sessions with the X-Emby-Token header; Plex: GET /status/sessions
// with X-Plex-Token) and turns what changed between two polls into playback events for the
// service's rules: a new playing item is a start (a pause when it shows paused), a pause or
// unpause is a pause or start, an item gone from the sessions is a stop at the last
// position seen. A watcher also listens to the server's websocket (`websocket`, default
// on), so that events arrive as they happen rather than at the next poll: Plex's
// notifications (each PlaySessionStateNotification moves the session's position and triggers
// a poll; a stopped one ends the session), Jellyfin's and Emby's session lists (pushed after
// SessionsStart whenever they change, and read as a poll's reply).

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/config.hpp>
#include <cw/scrobble/playback.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/util/result.hpp>

namespace cw::scrobble {

class Service;

// What one poll changed.
struct SessionUpdate {
  std::vector<Playback> events;
  // Playing movies and episodes that cannot be followed, each with why (the reply is the
  // server's, so untrusted: no Id, no RunTimeTicks or PositionTicks, a field of the wrong
  // type). Each is reported once while it keeps playing, not at every poll.
  std::vector<std::string> skipped;
};

// The difference between successive /Sessions replies, as playback events. Pure.
class SessionTracker {
 public:
  explicit SessionTracker(std::string source) : m_source(std::move(source)) {}
  // `sessions` as fetch_sessions returns them: Jellyfin's and Emby's SessionInfo list, or
  // the Metadata rows of Plex's /status/sessions.
  SessionUpdate update(const nlohmann::json& sessions);
  // A Plex notification about a followed session (by sessionKey and ratingKey): its
  // position moves to the notification's, and a stopped one ends there: its stop event is
  // returned and the session forgotten, so that the next poll does not stop it again.
  std::optional<Playback> note_position(const std::string& session_key, const std::string& item_ref,
                                        std::optional<double> offset_ms, bool stopped);

 private:
  struct Seen {
    Playback playback;  // as last seen
    bool paused = false;
    std::string session_key;  // Plex: the sessionKey its notifications carry
    double duration_ms = 0;   // Plex
  };
  std::string m_source;                // plex | jellyfin | emby
  std::map<std::string, Seen> m_seen;  // by session id and item id
  std::set<std::string> m_skipped;     // the same keys, for items reported as skipped
};

// What a message from Plex's /:/websockets/notifications did: whether it was a "playing"
// container naming a session (the watcher then polls at once, since notifications carry no
// duration, user or ids), and the stops of followed sessions it reported stopped. Anything
// else, malformed included, does nothing: the message is the server's, so untrusted.
struct NotificationEffect {
  bool named_session = false;
  std::vector<Playback> stops;
};
NotificationEffect apply_plex_notification(const std::string& text, SessionTracker& tracker);

// A message from Jellyfin's /socket or Emby's /embywebsocket: the session list a "Sessions"
// message carries (the same list as GET /Sessions), the period a "ForceKeepAlive" asks the
// client to keep the connection alive within (seconds), or neither (any other message, or
// a malformed one: the message is the server's, so untrusted).
struct SessionSocketMessage {
  std::optional<nlohmann::json> sessions;
  std::optional<int> keepalive_s;
};
SessionSocketMessage read_session_socket_message(const std::string& text);

// The sessions of a `source` server (plex, jellyfin, emby) as a list, or why not.
Result<nlohmann::json> fetch_sessions(const std::string& source, const std::string& url,
                                      const std::string& token);

class Watchers {
 public:
  static Result<std::unique_ptr<Watchers>> start(const std::vector<config::WatcherOptions>& options,
                                                 Service& service, services::Logger* logger);
  // The same, handing each event to `deliver` (on the watcher's thread).
  static Result<std::unique_ptr<Watchers>> start(const std::vector<config::WatcherOptions>& options,
                                                 std::function<void(const Playback&)> deliver,
                                                 services::Logger* logger);
  ~Watchers();  // stops and joins every thread
  Watchers(const Watchers&) = delete;
  Watchers& operator=(const Watchers&) = delete;

 private:
  Watchers() = default;
  void run(config::WatcherOptions options, std::string token);
  bool stopping();

  std::function<void(const Playback&)> m_deliver;
  services::Logger* m_logger = nullptr;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::vector<std::thread> m_threads;
};

}  // namespace cw::scrobble
