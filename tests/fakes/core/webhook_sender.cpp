#include "core/webhook_sender.hpp"

#include <stdexcept>

#include <httplib.h>

namespace cw::fakes {
namespace {

using nlohmann::json;

constexpr const char* k_boundary = "--------------------------cwsandbox7f3a";

std::string id_of(const json& item, const char* kind) {
  const json ids = item.value("ids", json::object());
  if (!ids.contains(kind)) return {};
  return ids[kind].is_string() ? ids[kind].get<std::string>() : ids[kind].dump();
}

bool episode(const json& item) { return item.value("type", "movie") == "episode"; }

std::string show_title(const json& item) {
  return item.contains("show") ? item["show"].value("title", "") : "";
}

WebhookPost plex(const WebhookEvent& e) {
  static const std::map<std::string, std::string> k_events = {
      {"play", "media.play"}, {"pause", "media.pause"},      {"resume", "media.resume"},
      {"stop", "media.stop"}, {"watched", "media.scrobble"}, {"progress", "media.resume"}};
  const auto ev = k_events.find(e.action);
  if (ev == k_events.end()) throw std::invalid_argument("plex: no event for " + e.action);
  json guids = json::array();
  for (const char* k : {"imdb", "tmdb", "tvdb"})
    if (auto v = id_of(e.item, k); !v.empty())
      guids.push_back({{"id", std::string(k) + "://" + v}});
  json md = {
      {"librarySectionType", episode(e.item) ? "show" : "movie"},
      {"ratingKey", e.item_ref},
      {"key", "/library/metadata/" + e.item_ref},
      {"guid", std::string("plex://") + (episode(e.item) ? "episode/" : "movie/") + e.item_ref},
      {"librarySectionTitle", e.library},
      {"librarySectionID", 1},
      {"type", e.item.value("type", "movie")},
      {"title", e.item.value("title", "")},
      {"Guid", guids},
      {"viewOffset", static_cast<std::int64_t>(e.progress / 100.0 * e.duration_ms)},
      {"duration", e.duration_ms}};
  if (episode(e.item)) {
    md["grandparentTitle"] = show_title(e.item);
    md["parentIndex"] = e.item.value("season", 1);
    md["index"] = e.item.value("episode", 1);
  } else if (e.item.contains("year")) {
    md["year"] = e.item["year"];
  }
  const json payload = {
      {"event", ev->second},
      {"user", true},
      {"owner", true},
      {"Account", {{"id", 1}, {"thumb", "https://plex.tv/users/1/avatar"}, {"title", e.user}}},
      {"Server", {{"title", "cw-sandbox"}, {"uuid", "cwsandboxserver"}}},
      {"Player",
       {{"local", true},
        {"publicAddress", "127.0.0.1"},
        {"title", "Sandbox TV"},
        {"uuid", e.session}}},
      {"Metadata", md}};
  std::string body = std::string("--") + k_boundary +
                     "\r\nContent-Disposition: form-data; name=\"payload\"\r\n"
                     "Content-Type: application/json\r\n\r\n" +
                     payload.dump() + "\r\n";
  if (ev->second == "media.play")  // Plex attaches the poster to play events
    body += std::string("--") + k_boundary +
            "\r\nContent-Disposition: form-data; name=\"thumb\"; filename=\"thumb.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n" +
            std::string("\xff\xd8\xff\xe0\0\x10JFIF\0", 11) + "\r\n";
  body += std::string("--") + k_boundary + "--\r\n";
  return {"/webhook/plex", std::string("multipart/form-data; boundary=") + k_boundary, body};
}

std::int64_t ticks(double ms) { return static_cast<std::int64_t>(ms) * 10'000; }

WebhookPost jellyfin(const WebhookEvent& e) {
  std::string type;
  bool paused = false;
  if (e.action == "play") {
    type = "PlaybackStart";
  } else if (e.action == "pause" || e.action == "resume" || e.action == "progress") {
    type = "PlaybackProgress";
    paused = e.action == "pause";
  } else if (e.action == "stop" || e.action == "watched") {
    type = "PlaybackStop";
  } else {
    throw std::invalid_argument("jellyfin: no notification for " + e.action);
  }
  json body = {{"ServerId", "cwsandbox"},
               {"ServerName", "cw-sandbox"},
               {"ServerVersion", "10.11.11"},
               {"ServerUrl", "http://127.0.0.1"},
               {"NotificationType", type},
               {"Timestamp", "2026-01-01T00:00:00.0000000+00:00"},
               {"UtcTimestamp", "2026-01-01T00:00:00.0000000Z"},
               {"Name", e.item.value("title", "")},
               {"ItemId", e.item_ref},
               {"ItemType", episode(e.item) ? "Episode" : "Movie"},
               {"RunTimeTicks", ticks(static_cast<double>(e.duration_ms))},
               {"RunTime", "02:00:00"},
               {"PlaybackPositionTicks", ticks(e.progress / 100.0 * e.duration_ms)},
               {"PlaybackPosition", "00:00:00"},
               {"IsPaused", paused},
               {"PlayedToCompletion", e.action == "watched"},
               {"NotificationUsername", e.user},
               {"UserId", "u-" + e.user},
               {"DeviceId", e.session},
               {"DeviceName", "Sandbox TV"},
               {"ClientName", "Jellyfin Web"}};
  if (episode(e.item)) {
    body["SeriesName"] = show_title(e.item);
    body["SeasonNumber"] = e.item.value("season", 1);
    body["EpisodeNumber"] = e.item.value("episode", 1);
  } else if (e.item.contains("year")) {
    body["Year"] = e.item["year"];
  }
  for (const char* k : {"imdb", "tmdb", "tvdb"})
    if (auto v = id_of(e.item, k); !v.empty()) body[std::string("Provider_") + k] = v;
  return {"/webhook/jellyfin", "application/json", body.dump()};
}

WebhookPost emby(const WebhookEvent& e) {
  static const std::map<std::string, std::string> k_events = {
      {"play", "playback.start"}, {"pause", "playback.pause"},  {"resume", "playback.unpause"},
      {"stop", "playback.stop"},  {"watched", "playback.stop"}, {"progress", "playback.unpause"}};
  const auto ev = k_events.find(e.action);
  if (ev == k_events.end()) throw std::invalid_argument("emby: no event for " + e.action);
  json provider_ids = json::object();
  if (auto v = id_of(e.item, "imdb"); !v.empty()) provider_ids["Imdb"] = v;
  if (auto v = id_of(e.item, "tmdb"); !v.empty()) provider_ids["Tmdb"] = v;
  if (auto v = id_of(e.item, "tvdb"); !v.empty()) provider_ids["Tvdb"] = v;
  json item = {{"Name", e.item.value("title", "")},
               {"Id", e.item_ref},
               {"Type", episode(e.item) ? "Episode" : "Movie"},
               {"RunTimeTicks", ticks(static_cast<double>(e.duration_ms))},
               {"ProviderIds", provider_ids}};
  if (episode(e.item)) {
    item["SeriesName"] = show_title(e.item);
    item["ParentIndexNumber"] = e.item.value("season", 1);
    item["IndexNumber"] = e.item.value("episode", 1);
  } else if (e.item.contains("year")) {
    item["ProductionYear"] = e.item["year"];
  }
  const json body = {
      {"Title", e.user + " is playing " + e.item.value("title", "")},
      {"Date", "2026-01-01T00:00:00.0000000Z"},
      {"Event", ev->second},
      {"Severity", "Info"},
      {"Server", {{"Name", "cw-sandbox"}, {"Id", "cwsandbox"}, {"Version", "4.9.0.0"}}},
      {"User", {{"Name", e.user}, {"Id", "u-" + e.user}}},
      {"Item", item},
      {"Session",
       {{"Id", "sess-" + e.session},
        {"DeviceId", e.session},
        {"DeviceName", "Sandbox TV"},
        {"Client", "Emby Web"}}},
      {"PlaybackInfo",
       {{"PositionTicks", ticks(e.progress / 100.0 * e.duration_ms)},
        {"PlayedToCompletion", e.action == "watched"},
        {"PlaySessionId", "ps-" + e.session + "-" + e.item_ref},
        {"DeviceId", e.session}}}};
  return {"/webhook/emby", "application/json", body.dump()};
}

WebhookPost tautulli(const WebhookEvent& e) {
  static const std::map<std::string, std::string> k_actions = {
      {"play", "play"}, {"pause", "pause"},     {"resume", "resume"},
      {"stop", "stop"}, {"watched", "watched"}, {"progress", "resume"}};
  const auto ac = k_actions.find(e.action);
  if (ac == k_actions.end()) throw std::invalid_argument("tautulli: no action for " + e.action);
  // Tautulli substitutes every parameter as text: the template of docs/configuration.md.
  json body = {{"action", ac->second},
               {"user", e.user},
               {"library", e.library},
               {"media_type", e.item.value("type", "movie")},
               {"title", e.item.value("title", "")},
               {"show", show_title(e.item)},
               {"season", episode(e.item) ? std::to_string(e.item.value("season", 1)) : ""},
               {"episode", episode(e.item) ? std::to_string(e.item.value("episode", 1)) : ""},
               {"year", e.item.contains("year") ? e.item["year"].dump() : ""},
               {"imdb_id", id_of(e.item, "imdb")},
               {"tmdb_id", id_of(e.item, "tmdb")},
               {"tvdb_id", id_of(e.item, "tvdb")},
               {"progress", std::to_string(static_cast<int>(e.progress))},
               {"session", e.session},
               {"rating_key", e.item_ref}};
  return {"/webhook/tautulli", "application/json", body.dump()};
}

}  // namespace

WebhookPost build_webhook(const WebhookEvent& event) {
  if (event.source == "plex") return plex(event);
  if (event.source == "jellyfin") return jellyfin(event);
  if (event.source == "emby") return emby(event);
  if (event.source == "tautulli") return tautulli(event);
  throw std::invalid_argument("no webhook sender for '" + event.source +
                              "' (plex, jellyfin, emby, tautulli)");
}

int send_webhook(const std::string& base_url, const WebhookEvent& event, const std::string& token) {
  const WebhookPost post = build_webhook(event);
  httplib::Client client(base_url);
  client.set_connection_timeout(5);
  const std::string path = token.empty() ? post.path : post.path + "?token=" + token;
  auto res = client.Post(path, post.body, post.content_type);
  return res ? res->status : 0;
}

}  // namespace cw::fakes
