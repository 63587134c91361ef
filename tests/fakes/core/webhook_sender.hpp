#pragma once
// Webhook senders: the requests Plex, Jellyfin, Emby and Tautulli post when something
// plays, built from one event description, so that `cw serve` and its scrobble service are
// tested on loopback with the servers' own payloads (field names and encodings as each
// server sends them: Plex multipart with a `payload` part, Jellyfin's webhook plugin with
// "Send All Properties", Emby's JSON, Tautulli's agent with cw's documented template).

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace cw::fakes {

struct WebhookEvent {
  std::string source;           // plex | jellyfin | emby | tautulli
  std::string action = "play";  // play | pause | resume | stop | watched | progress
  // An ABI-style item: type (movie|episode), title, year, ids {imdb,tmdb,tvdb},
  // show {title}, season, episode.
  nlohmann::json item;
  double progress = 0;  // percent
  std::int64_t duration_ms = 7'200'000;
  std::string user = "alice";
  std::string library = "Movies";
  std::string session = "1";      // player / device / play session
  std::string item_ref = "1001";  // the server's own id (ratingKey, ItemId)
};

struct WebhookPost {
  std::string path;  // "/webhook/plex"
  std::string content_type;
  std::string body;
};

// The request `event.source` would post. Throws std::invalid_argument for an unknown
// source or action.
WebhookPost build_webhook(const WebhookEvent& event);

// Posts it to `base_url` (http://127.0.0.1:8787) with `?token=` when token is not empty;
// returns the HTTP status (0: no connection).
int send_webhook(const std::string& base_url, const WebhookEvent& event, const std::string& token);

}  // namespace cw::fakes
