#pragma once
// The scrobble rules (docs/configuration.md "scrobble"): which playback events are sent
// and as what. Per-user and per-library filters; an event a tracker cannot identify is
// ignored; repeats within one playback are collapsed (Jellyfin reports progress every few
// seconds, Plex sends media.scrobble at 90 % and media.stop at the end); a stop at or over
// the threshold (or one the server reports as watched) is one play. Pure apart from its
// memory of the playbacks in progress: time is a parameter.

#include <cstdint>
#include <map>
#include <string>

#include <cw/config/config.hpp>
#include <cw/scrobble/webhooks.hpp>

namespace cw::scrobble {

struct Decision {
  enum class Kind { send, collapsed, ignored } kind = Kind::ignored;
  std::string detail;    // why it is not sent, one line
  double progress = 0;   // percent to send
  bool watched = false;  // a stop that is a play
  std::string play_key;  // user and item: two watched stops with the same key are one play
};

class Rules {
 public:
  explicit Rules(const config::ScrobbleOptions& options) : m_options(options) {}
  Decision decide(const Playback& playback, std::int64_t now_ms);

 private:
  struct SessionState {
    Action last = Action::other;
    bool watched = false;
    std::int64_t seen_ms = 0;
  };
  void forget_old(std::int64_t now_ms);

  config::ScrobbleOptions m_options;
  std::map<std::string, SessionState> m_sessions;
  std::int64_t m_last_sweep_ms = 0;
};

// "alice|movie|imdb:tt1375666": the user and the item's first id of imdb, tmdb, tvdb (the
// server's own id otherwise).
std::string play_key(const Playback& playback);

}  // namespace cw::scrobble
