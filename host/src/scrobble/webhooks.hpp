#pragma once
// Webhook payload parsers: each source's request into playback events the rules
// understand. Pure (no I/O, no clock), so each format is tested on its own.
//
// - plex: multipart/form-data with the JSON in the `payload` part (a poster may follow);
//   `event` media.play|resume|pause|stop|scrobble, `Account.title`, `Player.uuid`,
//   `Metadata` (type, title, year, Guid [imdb://, tmdb://, tvdb://], grandparentTitle,
//   parentIndex, index, librarySectionTitle, ratingKey, viewOffset and duration in ms).
// - jellyfin: the webhook plugin's generic destination with "Send All Properties":
//   NotificationType PlaybackStart|PlaybackProgress|PlaybackStop, NotificationUsername,
//   ItemType, Name, SeriesName, SeasonNumber, EpisodeNumber, Year, Provider_imdb|tmdb|tvdb,
//   PlaybackPositionTicks, RunTimeTicks, IsPaused, PlayedToCompletion, DeviceId, ItemId.
// - emby: Emby's webhooks (application/json, or multipart/form-data with the JSON in
//   `data`): Event playback.start|pause|unpause|stop, User.Name, Item (Type, Name,
//   ProductionYear, ProviderIds, SeriesName, ParentIndexNumber, IndexNumber, RunTimeTicks),
//   PlaybackInfo (PositionTicks, PlayedToCompletion, PlaySessionId, DeviceId).
// - tautulli: the Webhook notification agent with the JSON data template of
//   docs/configuration.md: action play|resume|pause|stop|watched, user, library,
//   media_type, title, show, season, episode, year, imdb_id, tmdb_id, tvdb_id, progress,
//   session.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <cw/scrobble/playback.hpp>
#include <cw/scrobble/service.hpp>
#include <cw/util/result.hpp>

namespace cw::scrobble {

// "Breaking Bad S01E01", "Inception (2010)".
std::string title_of(const nlohmann::json& item);

// Parses one webhook request of `request.source`. An error is a malformed payload (the
// server answers 400); a well-formed event that is not playback is a Playback with
// Action::other.
Result<Playback> parse_webhook(const WebhookRequest& request);

// The body of the multipart/form-data part named `name` (nullopt: no such part).
std::optional<std::string> multipart_field(const std::string& content_type, const std::string& body,
                                           const std::string& name);

}  // namespace cw::scrobble
