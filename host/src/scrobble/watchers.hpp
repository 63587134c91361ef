#pragma once
// Watchers: scrobbling for servers without a webhook. Each one polls a server's sessions
// (Jellyfin and Emby: GET /Sessions with the X-Emby-Token header; Plex: GET /status/sessions
// with X-Plex-Token) and turns what changed between two polls into playback events for the
// service's rules: a new playing item is a start (a pause when it shows paused), a pause or
// unpause is a pause or start, an item gone from the sessions is a stop at the last
// position seen.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
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

 private:
  struct Seen {
    Playback playback;  // as last seen
    bool paused = false;
  };
  std::string m_source;                // plex | jellyfin | emby
  std::map<std::string, Seen> m_seen;  // by session id and item id
  std::set<std::string> m_skipped;     // the same keys, for items reported as skipped
};

// The sessions of a `source` server (plex, jellyfin, emby) as a list, or why not.
Result<nlohmann::json> fetch_sessions(const std::string& source, const std::string& url,
                                      const std::string& token);

class Watchers {
 public:
  static Result<std::unique_ptr<Watchers>> start(const std::vector<config::WatcherOptions>& options,
                                                 Service& service, services::Logger* logger);
  ~Watchers();  // stops and joins every thread
  Watchers(const Watchers&) = delete;
  Watchers& operator=(const Watchers&) = delete;

 private:
  Watchers() = default;
  void run(config::WatcherOptions options, std::string token);

  Service* m_service = nullptr;
  services::Logger* m_logger = nullptr;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::vector<std::thread> m_threads;
};

}  // namespace cw::scrobble
