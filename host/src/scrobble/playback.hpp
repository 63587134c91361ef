#pragma once
// A playback event as a source (a webhook or a watcher) reported it, before the rules.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cw::scrobble {

enum class Action { start, pause, stop, other };
const char* to_string(Action action);

// One playback event as a source reported it.
struct Playback {
  std::string source;
  std::string raw_event;  // the source's own name for it ("media.scrobble")
  Action action = Action::other;
  // The source says the item was watched (Plex media.scrobble, Tautulli watched,
  // Jellyfin/Emby PlayedToCompletion): a stop counts as watched whatever the progress.
  bool watched_hint = false;
  std::string user;
  std::string library;                             // empty when the source does not say
  nlohmann::json item = nlohmann::json::object();  // ABI item: type, title, year, ids, show...
  std::optional<double> progress;                  // percent, when the source says
  std::string session;   // equal for every event of one playback (as far as the source tells)
  std::string item_ref;  // the server's own id of the item (ratingKey, ItemId)
};

}  // namespace cw::scrobble
