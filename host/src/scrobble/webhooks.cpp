#include <algorithm>
#include <cctype>

#include <cw/scrobble/webhooks.hpp>
#include <cw/util/strings.hpp>

namespace cw::scrobble {
namespace {

using nlohmann::json;

// A member as text whatever its JSON type (servers send numbers as strings and back).
std::string text(const json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_number()) return std::to_string(it->get<double>());
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return {};
}

std::optional<double> number(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0') return std::nullopt;
    return v;
  }
  return std::nullopt;
}

std::optional<int> whole(const json& j, const char* key) {
  auto v = number(j, key);
  if (!v || *v < 0 || *v > 1e6) return std::nullopt;
  return static_cast<int>(*v);
}

bool flag(const json& j, const char* key) {
  if (!j.is_object()) return false;
  const auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return util::to_lower(it->get<std::string>()) == "true";
  if (it->is_number()) return it->get<double>() != 0;
  return false;
}

// Percent of `position` in `duration` (same unit), clamped to 0..100.
std::optional<double> percent(std::optional<double> position, std::optional<double> duration) {
  if (!position || !duration || *duration <= 0) return std::nullopt;
  return std::clamp(100.0 * *position / *duration, 0.0, 100.0);
}

void put_id(json& ids, const std::string& kind, const std::string& value) {
  if (value.empty() || value == "0" || ids.contains(kind)) return;
  ids[kind] = value;
}

// A movie or episode item from the common parts; `ids` filled by the caller.
json make_item(const std::string& type, const std::string& title, std::optional<int> year,
               const std::string& show, std::optional<int> season, std::optional<int> episode) {
  json item = {{"type", type}, {"ids", json::object()}};
  if (!title.empty()) item["title"] = title;
  if (type == "episode") {
    json s = json::object();
    if (!show.empty()) s["title"] = show;
    s["ids"] = json::object();
    item["show"] = std::move(s);
    if (season) item["season"] = *season;
    if (episode) item["episode"] = *episode;
  } else if (year && *year > 0) {
    item["year"] = *year;
  }
  return item;
}

Result<json> parse_json(const std::string& text, const std::string& what) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return make_error(what + " is not a JSON object", ErrorKind::invalid_arg);
  return doc;
}

// --- Plex ---------------------------------------------------------------------------------

Result<Playback> parse_plex(const WebhookRequest& req) {
  std::string payload;
  if (util::to_lower(req.content_type).rfind("multipart/form-data", 0) == 0) {
    auto part = multipart_field(req.content_type, req.body, "payload");
    if (!part)
      return make_error("plex webhook: no 'payload' part in the multipart body",
                        ErrorKind::invalid_arg);
    payload = std::move(*part);
  } else {
    payload = req.body;  // a proxy that forwards the JSON alone
  }
  auto doc = parse_json(payload, "plex webhook: the payload");
  if (!doc) return doc.error();
  const json& d = *doc;
  Playback p;
  p.source = "plex";
  p.raw_event = text(d, "event");
  if (p.raw_event.empty())
    return make_error("plex webhook: the payload has no 'event'", ErrorKind::invalid_arg);
  if (p.raw_event == "media.play" || p.raw_event == "media.resume") {
    p.action = Action::start;
  } else if (p.raw_event == "media.pause") {
    p.action = Action::pause;
  } else if (p.raw_event == "media.stop") {
    p.action = Action::stop;
  } else if (p.raw_event == "media.scrobble") {
    p.action = Action::stop;
    p.watched_hint = true;
  }
  if (d.contains("Account")) p.user = text(d["Account"], "title");
  const json md = d.value("Metadata", json::object());
  if (p.action == Action::other) return p;
  if (!md.is_object() || md.empty())
    return make_error("plex webhook: a " + p.raw_event + " event without 'Metadata'",
                      ErrorKind::invalid_arg);
  p.library = text(md, "librarySectionTitle");
  p.item_ref = text(md, "ratingKey");
  const std::string type = text(md, "type");
  if (type != "movie" && type != "episode") {
    p.action = Action::other;  // music, photos, trailers: not scrobbled
    return p;
  }
  json item = make_item(type, text(md, "title"), whole(md, "year"), text(md, "grandparentTitle"),
                        whole(md, "parentIndex"), whole(md, "index"));
  if (md.contains("Guid") && md["Guid"].is_array()) {
    for (const auto& g : md["Guid"]) {
      const std::string id = text(g, "id");
      const auto sep = id.find("://");
      if (sep == std::string::npos) continue;
      const std::string kind = id.substr(0, sep);
      if (kind == "imdb" || kind == "tmdb" || kind == "tvdb")
        put_id(item["ids"], kind, id.substr(sep + 3));
    }
  }
  put_id(item["ids"], "plex", p.item_ref);
  p.item = std::move(item);
  p.progress = percent(number(md, "viewOffset"), number(md, "duration"));
  const std::string player = d.contains("Player") ? text(d["Player"], "uuid") : "";
  p.session = "plex:" + player + ":" + p.item_ref;
  return p;
}

// --- Jellyfin -----------------------------------------------------------------------------

Result<Playback> parse_jellyfin(const WebhookRequest& req) {
  auto doc = parse_json(req.body, "jellyfin webhook: the body");
  if (!doc) return doc.error();
  const json& d = *doc;
  Playback p;
  p.source = "jellyfin";
  p.raw_event = text(d, "NotificationType");
  if (p.raw_event.empty())
    return make_error(
        "jellyfin webhook: the body has no 'NotificationType' (use the generic "
        "destination with \"Send All Properties\")",
        ErrorKind::invalid_arg);
  const bool paused = flag(d, "IsPaused");
  if (p.raw_event == "PlaybackStart") {
    p.action = Action::start;
  } else if (p.raw_event == "PlaybackProgress") {
    p.action = paused ? Action::pause : Action::start;
  } else if (p.raw_event == "PlaybackStop") {
    p.action = Action::stop;
    p.watched_hint = flag(d, "PlayedToCompletion");
  }
  p.user = text(d, "NotificationUsername");
  if (p.action == Action::other) return p;
  const std::string item_type = text(d, "ItemType");
  if (item_type != "Movie" && item_type != "Episode") {
    p.action = Action::other;
    return p;
  }
  const std::string type = item_type == "Movie" ? "movie" : "episode";
  json item = make_item(type, text(d, "Name"), whole(d, "Year"), text(d, "SeriesName"),
                        whole(d, "SeasonNumber"), whole(d, "EpisodeNumber"));
  put_id(item["ids"], "imdb", text(d, "Provider_imdb"));
  put_id(item["ids"], "tmdb", text(d, "Provider_tmdb"));
  put_id(item["ids"], "tvdb", text(d, "Provider_tvdb"));
  p.item_ref = text(d, "ItemId");
  put_id(item["ids"], "jellyfin", p.item_ref);
  p.item = std::move(item);
  p.progress = percent(number(d, "PlaybackPositionTicks"), number(d, "RunTimeTicks"));
  p.session = "jellyfin:" + text(d, "DeviceId") + ":" + p.item_ref;
  return p;
}

// --- Emby ---------------------------------------------------------------------------------

Result<Playback> parse_emby(const WebhookRequest& req) {
  std::string payload = req.body;
  if (util::to_lower(req.content_type).rfind("multipart/form-data", 0) == 0) {
    auto part = multipart_field(req.content_type, req.body, "data");
    if (!part)
      return make_error("emby webhook: no 'data' part in the multipart body",
                        ErrorKind::invalid_arg);
    payload = std::move(*part);
  }
  auto doc = parse_json(payload, "emby webhook: the body");
  if (!doc) return doc.error();
  const json& d = *doc;
  Playback p;
  p.source = "emby";
  p.raw_event = text(d, "Event");
  if (p.raw_event.empty())
    return make_error("emby webhook: the body has no 'Event'", ErrorKind::invalid_arg);
  const json info = d.value("PlaybackInfo", json::object());
  if (p.raw_event == "playback.start" || p.raw_event == "playback.unpause") {
    p.action = Action::start;
  } else if (p.raw_event == "playback.pause") {
    p.action = Action::pause;
  } else if (p.raw_event == "playback.stop") {
    p.action = Action::stop;
    p.watched_hint = flag(info, "PlayedToCompletion");
  }
  if (d.contains("User")) p.user = text(d["User"], "Name");
  if (p.action == Action::other) return p;
  const json it = d.value("Item", json::object());
  if (!it.is_object() || it.empty())
    return make_error("emby webhook: a " + p.raw_event + " event without 'Item'",
                      ErrorKind::invalid_arg);
  const std::string item_type = text(it, "Type");
  if (item_type != "Movie" && item_type != "Episode") {
    p.action = Action::other;
    return p;
  }
  const std::string type = item_type == "Movie" ? "movie" : "episode";
  json item = make_item(type, text(it, "Name"), whole(it, "ProductionYear"), text(it, "SeriesName"),
                        whole(it, "ParentIndexNumber"), whole(it, "IndexNumber"));
  if (it.contains("ProviderIds") && it["ProviderIds"].is_object())
    for (const auto& [k, v] : it["ProviderIds"].items())
      if (v.is_string()) {
        const std::string kind = util::to_lower(k);
        if (kind == "imdb" || kind == "tmdb" || kind == "tvdb")
          put_id(item["ids"], kind, v.get<std::string>());
      }
  p.item_ref = text(it, "Id");
  put_id(item["ids"], "emby", p.item_ref);
  p.item = std::move(item);
  p.progress = percent(number(info, "PositionTicks"), number(it, "RunTimeTicks"));
  std::string session = text(info, "PlaySessionId");
  if (session.empty()) session = text(info, "DeviceId") + ":" + p.item_ref;
  p.session = "emby:" + session;
  return p;
}

// --- Tautulli -----------------------------------------------------------------------------

Result<Playback> parse_tautulli(const WebhookRequest& req) {
  auto doc = parse_json(req.body, "tautulli webhook: the body");
  if (!doc) return doc.error();
  const json& d = *doc;
  Playback p;
  p.source = "tautulli";
  p.raw_event = text(d, "action");
  if (p.raw_event.empty())
    return make_error(
        "tautulli webhook: the body has no 'action' (see the JSON data template "
        "in docs/configuration.md)",
        ErrorKind::invalid_arg);
  if (p.raw_event == "play" || p.raw_event == "resume") {
    p.action = Action::start;
  } else if (p.raw_event == "pause") {
    p.action = Action::pause;
  } else if (p.raw_event == "stop") {
    p.action = Action::stop;
  } else if (p.raw_event == "watched") {
    p.action = Action::stop;
    p.watched_hint = true;
  }
  p.user = text(d, "user");
  if (p.action == Action::other) return p;
  p.library = text(d, "library");
  const std::string type = text(d, "media_type");
  if (type != "movie" && type != "episode") {
    p.action = Action::other;
    return p;
  }
  json item = make_item(type, text(d, "title"), whole(d, "year"), text(d, "show"),
                        whole(d, "season"), whole(d, "episode"));
  put_id(item["ids"], "imdb", text(d, "imdb_id"));
  put_id(item["ids"], "tmdb", text(d, "tmdb_id"));
  put_id(item["ids"], "tvdb", text(d, "tvdb_id"));
  p.item_ref = text(d, "rating_key");
  put_id(item["ids"], "plex", p.item_ref);
  p.item = std::move(item);
  if (auto pct = number(d, "progress"); pct && *pct >= 0) p.progress = std::min(*pct, 100.0);
  p.session = "tautulli:" + text(d, "session") + ":" + p.item_ref;
  return p;
}

}  // namespace

const char* to_string(Action action) {
  switch (action) {
    case Action::start:
      return "start";
    case Action::pause:
      return "pause";
    case Action::stop:
      return "stop";
    case Action::other:
      break;
  }
  return "other";
}

std::string title_of(const nlohmann::json& item) {
  const std::string type = item.value("type", "");
  std::string title = item.value("title", "");
  if (type == "episode") {
    std::string show;
    if (item.contains("show") && item["show"].is_object()) show = item["show"].value("title", "");
    char code[32] = {0};
    if (item.contains("season") && item.contains("episode") && item["season"].is_number() &&
        item["episode"].is_number())
      std::snprintf(code, sizeof code, "S%02dE%02d", item["season"].get<int>(),
                    item["episode"].get<int>());
    std::string out = show.empty() ? title : show;
    if (code[0] != '\0') out += std::string(out.empty() ? "" : " ") + code;
    return out;
  }
  if (item.contains("year") && item["year"].is_number())
    title += " (" + std::to_string(item["year"].get<int>()) + ")";
  return title;
}

std::optional<std::string> multipart_field(const std::string& content_type, const std::string& body,
                                           const std::string& name) {
  // The boundary parameter, quoted or not.
  const std::string ct = util::to_lower(content_type);
  auto at = ct.find("boundary=");
  if (at == std::string::npos) return std::nullopt;
  std::string boundary = content_type.substr(at + 9);
  if (auto semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  boundary = std::string(util::trim(boundary));
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  if (boundary.empty()) return std::nullopt;
  const std::string delim = "--" + boundary;
  std::size_t pos = body.find(delim);
  while (pos != std::string::npos) {
    std::size_t start = pos + delim.size();
    if (body.compare(start, 2, "--") == 0) break;  // the closing delimiter
    const std::size_t headers_end = body.find("\r\n\r\n", start);
    if (headers_end == std::string::npos) break;
    const std::string headers = util::to_lower(body.substr(start, headers_end - start));
    const std::size_t content = headers_end + 4;
    const std::size_t next = body.find("\r\n" + delim, content);
    if (next == std::string::npos) break;
    if (headers.find("name=\"" + util::to_lower(name) + "\"") != std::string::npos)
      return body.substr(content, next - content);
    pos = next + 2;
  }
  return std::nullopt;
}

Result<Playback> parse_webhook(const WebhookRequest& request) {
  if (request.source == "plex") return parse_plex(request);
  if (request.source == "jellyfin") return parse_jellyfin(request);
  if (request.source == "emby") return parse_emby(request);
  if (request.source == "tautulli") return parse_tautulli(request);
  return make_error("no webhook source '" + request.source +
                        "'; the sources are plex, jellyfin, emby and tautulli",
                    ErrorKind::not_found);
}

}  // namespace cw::scrobble
