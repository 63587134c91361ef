#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include <curl/curl.h>

#include <cw/scrobble/service.hpp>
#include <cw/scrobble/watchers.hpp>
#include <cw/scrobble/websocket.hpp>
#include <cw/services/secrets/config_secret_store.hpp>

namespace cw::scrobble {
namespace {

using nlohmann::json;

std::string member_text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return {};
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  return {};
}

// A number of ticks the server sent, if it sent one that can be used: the reply is
// untrusted, and both fields are nullable in the servers' own API descriptions.
std::optional<double> ticks(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

// One session's playing item: the event a webhook would have carried, or why a movie or
// episode cannot be followed, or neither (nothing plays, or not a movie or an episode).
struct Playing {
  std::optional<Playback> playback;
  std::string skip;
  std::string key;  // session and item
  bool paused = false;
  std::string plex_session_key;  // what Plex's notifications name the session by
  double duration_ms = 0;        // Plex: to turn a notification's viewOffset into progress
};

Playing playing(const std::string& source, const json& sess) {
  Playing out;
  if (!sess.is_object() || !sess.contains("NowPlayingItem")) return out;
  const json& now = sess["NowPlayingItem"];
  const std::string type = member_text(now, "Type");
  if (type != "Movie" && type != "Episode") return out;
  Playback p;
  p.source = source;
  p.raw_event = "session";
  p.user = member_text(sess, "UserName");
  p.item_ref = member_text(now, "Id");
  p.session = source + "-watch:" + member_text(sess, "Id") + ":" + p.item_ref;
  out.key = p.session;
  std::string what = member_text(now, "Name");
  what = (what.empty() ? type : "\"" + what + "\"") +
         (p.item_ref.empty() ? std::string() : " (" + p.item_ref + ")");
  const json state = sess.contains("PlayState") ? sess["PlayState"] : json();
  const auto runtime = ticks(now, "RunTimeTicks");
  const auto position = ticks(state, "PositionTicks");
  if (p.item_ref.empty())
    out.skip = what + ": the session names no item Id";
  else if (!runtime || *runtime <= 0)
    out.skip = what + ": the session reports no RunTimeTicks, so its progress is unknown";
  else if (!position)
    out.skip = what + ": the session reports no PositionTicks, so its progress is unknown";
  if (!out.skip.empty()) return out;
  json item = {{"type", type == "Movie" ? "movie" : "episode"}, {"ids", json::object()}};
  if (auto name = member_text(now, "Name"); !name.empty()) item["title"] = name;
  if (type == "Episode") {
    item["show"] = {{"title", member_text(now, "SeriesName")}, {"ids", json::object()}};
    if (now.contains("ParentIndexNumber") && now["ParentIndexNumber"].is_number_integer())
      item["season"] = now["ParentIndexNumber"];
    if (now.contains("IndexNumber") && now["IndexNumber"].is_number_integer())
      item["episode"] = now["IndexNumber"];
  } else if (now.contains("ProductionYear") && now["ProductionYear"].is_number_integer()) {
    item["year"] = now["ProductionYear"];
  }
  if (now.contains("ProviderIds") && now["ProviderIds"].is_object())
    for (const auto& [k, v] : now["ProviderIds"].items()) {
      std::string kind = k;
      std::transform(kind.begin(), kind.end(), kind.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if ((kind == "imdb" || kind == "tmdb" || kind == "tvdb") && v.is_string() &&
          !v.get<std::string>().empty())
        item["ids"][kind] = v;
    }
  item["ids"][source] = p.item_ref;
  p.item = std::move(item);
  p.progress = std::clamp(100.0 * *position / *runtime, 0.0, 100.0);
  out.paused = state.is_object() && state.contains("IsPaused") && state["IsPaused"].is_boolean() &&
               state["IsPaused"].get<bool>();
  out.playback = std::move(p);
  return out;
}

// A Plex /status/sessions row (a movie or episode with the playing user, the Player and the
// Session): the same as playing() for Jellyfin and Emby. Times are milliseconds; the
// external ids come from the row's Guid children ("imdb://tt…", "tmdb://…", "tvdb://…"),
// which session rows carry whatever includeGuids says.
Playing playing_plex(const json& row) {
  Playing out;
  if (!row.is_object()) return out;
  const std::string type = member_text(row, "type");
  if (type != "movie" && type != "episode") return out;
  Playback p;
  p.source = "plex";
  p.raw_event = "session";
  const json user = row.contains("User") ? row["User"] : json();
  const json player = row.contains("Player") ? row["Player"] : json();
  const json session = row.contains("Session") ? row["Session"] : json();
  p.user = member_text(user, "title");
  p.item_ref = member_text(row, "ratingKey");
  std::string sid = member_text(session, "id");
  if (sid.empty()) sid = member_text(row, "sessionKey");
  p.session = "plex-watch:" + sid + ":" + p.item_ref;
  out.key = p.session;
  std::string what = member_text(row, "title");
  what = (what.empty() ? type : "\"" + what + "\"") +
         (p.item_ref.empty() ? std::string() : " (" + p.item_ref + ")");
  const auto duration = ticks(row, "duration");
  const auto offset = ticks(row, "viewOffset");
  if (p.item_ref.empty())
    out.skip = what + ": the session names no ratingKey";
  else if (!duration || *duration <= 0)
    out.skip = what + ": the session reports no duration, so its progress is unknown";
  else if (!offset)
    out.skip = what + ": the session reports no viewOffset, so its progress is unknown";
  if (!out.skip.empty()) return out;
  json item = {{"type", type}, {"ids", json::object()}};
  if (auto title = member_text(row, "title"); !title.empty()) item["title"] = title;
  if (type == "episode") {
    item["show"] = {{"title", member_text(row, "grandparentTitle")}, {"ids", json::object()}};
    if (row.contains("parentIndex") && row["parentIndex"].is_number_integer())
      item["season"] = row["parentIndex"];
    if (row.contains("index") && row["index"].is_number_integer()) item["episode"] = row["index"];
  } else if (row.contains("year") && row["year"].is_number_integer()) {
    item["year"] = row["year"];
  }
  if (row.contains("Guid") && row["Guid"].is_array())
    for (const auto& g : row["Guid"]) {
      const std::string id = member_text(g, "id");
      const auto sep = id.find("://");
      if (sep == std::string::npos || sep + 3 >= id.size()) continue;
      const std::string kind = id.substr(0, sep);
      if (kind == "imdb" || kind == "tmdb" || kind == "tvdb")
        item["ids"][kind] = id.substr(sep + 3);
    }
  item["ids"]["plex"] = p.item_ref;
  p.item = std::move(item);
  p.progress = std::clamp(100.0 * *offset / *duration, 0.0, 100.0);
  out.paused = member_text(player, "state") == "paused";
  out.plex_session_key = member_text(row, "sessionKey");
  out.duration_ms = *duration;
  out.playback = std::move(p);
  return out;
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

namespace {

// GET `target` as JSON with `header` (the server's token), or why not.
Result<json> get_json(const std::string& target, const std::string& header) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return make_error("cannot start an HTTP request", ErrorKind::internal);
  std::string body;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, header.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, target.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    return make_error("GET " + target + ": " + curl_easy_strerror(rc), ErrorKind::transient);
  if (status != 200)
    return make_error("GET " + target + ": HTTP " + std::to_string(status),
                      status == 401 || status == 403 ? ErrorKind::auth : ErrorKind::transient);
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return make_error("GET " + target + ": the reply is not JSON", ErrorKind::internal);
  return doc;
}

}  // namespace

Result<json> fetch_sessions(const std::string& source, const std::string& url,
                            const std::string& token) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (source == "plex") {
    const std::string target = base + "/status/sessions";
    auto doc = get_json(target, "X-Plex-Token: " + token);
    if (!doc) return doc;
    // {"MediaContainer":{"size":N,"Metadata":[..]}}; Metadata is left out when nothing plays.
    const json* mc =
        doc->is_object() && doc->contains("MediaContainer") ? &(*doc)["MediaContainer"] : nullptr;
    if (mc == nullptr || !mc->is_object())
      return make_error("GET " + target + ": the reply has no MediaContainer", ErrorKind::internal);
    if (!mc->contains("Metadata")) return json::array();
    if (!(*mc)["Metadata"].is_array())
      return make_error("GET " + target + ": MediaContainer.Metadata is not a list",
                        ErrorKind::internal);
    return (*mc)["Metadata"];
  }
  const std::string target = base + "/Sessions";
  auto doc = get_json(target, "X-Emby-Token: " + token);
  if (!doc) return doc;
  if (!doc->is_array())
    return make_error("GET " + target + ": the reply is not a list of sessions",
                      ErrorKind::internal);
  return doc;
}

SessionUpdate SessionTracker::update(const json& sessions) {
  SessionUpdate out;
  std::set<std::string> present;
  std::set<std::string> skipped;
  for (const auto& sess : sessions) {
    Playing now = m_source == "plex" ? playing_plex(sess) : playing(m_source, sess);
    if (!now.skip.empty()) {
      if (m_skipped.count(now.key) == 0) out.skipped.push_back(std::move(now.skip));
      skipped.insert(std::move(now.key));
      continue;
    }
    if (!now.playback) continue;
    Playback& p = *now.playback;
    present.insert(p.session);
    auto it = m_seen.find(p.session);
    if (it == m_seen.end() || it->second.paused != now.paused) {
      p.action = now.paused ? Action::pause : Action::start;
      out.events.push_back(p);
    }
    Seen& seen = m_seen[p.session];
    seen = {std::move(p), now.paused, std::move(now.plex_session_key), now.duration_ms};
  }
  m_skipped = std::move(skipped);
  for (auto it = m_seen.begin(); it != m_seen.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    Playback stop = it->second.playback;
    stop.action = Action::stop;
    out.events.push_back(std::move(stop));
    it = m_seen.erase(it);
  }
  return out;
}

std::optional<Playback> SessionTracker::note_position(const std::string& session_key,
                                                      const std::string& item_ref,
                                                      std::optional<double> offset_ms,
                                                      bool stopped) {
  for (auto it = m_seen.begin(); it != m_seen.end(); ++it) {
    Seen& seen = it->second;
    if (seen.session_key != session_key || seen.playback.item_ref != item_ref) continue;
    if (offset_ms && seen.duration_ms > 0)
      seen.playback.progress = std::clamp(100.0 * *offset_ms / seen.duration_ms, 0.0, 100.0);
    if (!stopped) return std::nullopt;
    Playback stop = std::move(seen.playback);
    stop.action = Action::stop;
    m_seen.erase(it);
    return stop;
  }
  return std::nullopt;
}

NotificationEffect apply_plex_notification(const std::string& text, SessionTracker& tracker) {
  NotificationEffect out;
  const json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("NotificationContainer")) return out;
  const json& nc = doc["NotificationContainer"];
  if (member_text(nc, "type") != "playing") return out;
  const auto list = nc.find("PlaySessionStateNotification");
  if (list == nc.end() || !list->is_array()) return out;
  for (const auto& n : *list) {
    const std::string session_key = member_text(n, "sessionKey");
    const std::string item_ref = member_text(n, "ratingKey");
    if (session_key.empty() || item_ref.empty()) continue;
    out.named_session = true;
    if (auto stop = tracker.note_position(session_key, item_ref, ticks(n, "viewOffset"),
                                          member_text(n, "state") == "stopped"))
      out.stops.push_back(std::move(*stop));
  }
  return out;
}

SessionSocketMessage read_session_socket_message(const std::string& text) {
  SessionSocketMessage out;
  const json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return out;
  const std::string type = member_text(doc, "MessageType");
  const auto data = doc.find("Data");
  if (data == doc.end()) return out;
  if (type == "Sessions" && data->is_array()) out.sessions = *data;
  if (type == "ForceKeepAlive" && data->is_number_integer()) {
    const auto s = data->get<std::int64_t>();
    if (s > 0 && s <= 3600) out.keepalive_s = static_cast<int>(s);
  }
  return out;
}

Result<std::unique_ptr<Watchers>> Watchers::start(
    const std::vector<config::WatcherOptions>& options, Service& service,
    services::Logger* logger) {
  return start(
      options, [&service](const Playback& p) { service.accept_playback(p); }, logger);
}

Result<std::unique_ptr<Watchers>> Watchers::start(
    const std::vector<config::WatcherOptions>& options,
    std::function<void(const Playback&)> deliver, services::Logger* logger) {
  std::unique_ptr<Watchers> w(new Watchers());
  w->m_deliver = std::move(deliver);
  w->m_logger = logger;
  std::vector<std::pair<config::WatcherOptions, std::string>> resolved;
  for (const auto& o : options) {
    std::string token;
    if (o.token) {
      auto t = services::resolve_secret(*o.token, "scrobble.watchers (" + o.url + ").token");
      if (!t) return t.error();
      token = std::move(*t);
    }
    resolved.emplace_back(o, std::move(token));
  }
  for (auto& [o, token] : resolved)
    w->m_threads.emplace_back([self = w.get(), o = o, token = token] { self->run(o, token); });
  return w;
}

Watchers::~Watchers() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  for (auto& t : m_threads) t.join();
}

bool Watchers::stopping() {
  std::lock_guard lock(m_mutex);
  return m_stop;
}

void Watchers::run(config::WatcherOptions options, std::string token) {
  using Clock = std::chrono::steady_clock;
  SessionTracker tracker(options.type);
  const std::string name = options.type + " watcher (" + options.url + ")";
  auto log = [&](bool warning, const std::string& text) {
    if (m_logger == nullptr) return;
    if (warning)
      m_logger->warn("scrobble", name + ": " + text);
    else
      m_logger->info("scrobble", name + ": " + text);
  };
  bool failing = false;
  auto poll = [&] {
    auto sessions = fetch_sessions(options.type, options.url, token);
    if (!sessions) {
      if (!failing)
        log(true, sessions.error().message + "; trying again every " +
                      std::to_string(options.interval_s) + " s");
      failing = true;
      return;
    }
    if (failing) log(false, "answers again");
    failing = false;
    SessionUpdate update = tracker.update(*sessions);
    for (const auto& why : update.skipped) log(true, "skipping " + why);
    for (const auto& p : update.events) m_deliver(p);
  };

  // The server's websocket says at once when a player starts, pauses, moves on or stops.
  // Plex: each PlaySessionStateNotification triggers a poll (notifications carry no
  // duration, user or ids) and a stopped one ends its session. Jellyfin and Emby: after
  // SessionsStart the server pushes the whole session list whenever it changes, which is
  // what a poll reads. The timed poll goes on beside it, and alone while the websocket is
  // down (retried every minute, 5 s after a break).
  const bool plex = options.type == "plex";
  std::string base = options.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string ws_url = plex ? base + "/:/websockets/notifications"
                             : options.type == "jellyfin"
                                 ? base + "/socket?deviceId=cw-serve"
                                 // Emby takes the key in the query (its documented form).
                                 : base + "/embywebsocket?deviceId=cw-serve&api_key=" + token;
  const std::vector<std::string> ws_headers = {plex ? "X-Plex-Token: " + token
                                                    : "X-Emby-Token: " + token};
  std::unique_ptr<WebSocketClient> ws;
  bool ws_failing = false;
  auto next_connect = Clock::now();
  auto next_poll = Clock::now();
  auto keepalive = std::chrono::seconds(30);
  auto next_keepalive = Clock::now();
  auto drop = [&](const std::string& why) {
    log(true, why + "; polling every " + std::to_string(options.interval_s) +
                  " s and trying the websocket again in 5 s");
    ws.reset();
    ws_failing = true;
    next_connect = Clock::now() + std::chrono::seconds(5);
  };
  while (!stopping()) {
    if (options.websocket && !ws && Clock::now() >= next_connect) {
      auto connected = WebSocketClient::connect(ws_url, ws_headers);
      Status subscribed = ok_status();
      if (connected && !plex)
        subscribed = (*connected)->send_text(R"({"MessageType":"SessionsStart","Data":"0,1500"})");
      if (connected && subscribed) {
        ws = std::move(*connected);
        log(false, ws_failing ? "the websocket answers again" : "listening to the websocket");
        ws_failing = false;
        next_poll = Clock::now();  // what changed while it was down
        next_keepalive = Clock::now() + keepalive;
      } else {
        if (!ws_failing)
          log(true, (connected ? subscribed.error() : connected.error()).message +
                        "; polling every " + std::to_string(options.interval_s) +
                        " s and trying the websocket again every 60 s");
        ws_failing = true;
        next_connect = Clock::now() + std::chrono::seconds(60);
      }
    }
    if (Clock::now() >= next_poll) {
      poll();
      next_poll = Clock::now() + std::chrono::seconds(options.interval_s);
    }
    if (ws && !plex && Clock::now() >= next_keepalive) {
      // Jellyfin closes a connection that stays silent past its ForceKeepAlive period.
      if (auto sent = ws->send_text(R"({"MessageType":"KeepAlive"})"); !sent) {
        drop(sent.error().message);
        continue;
      }
      next_keepalive = Clock::now() + keepalive;
    }
    if (ws) {
      // In slices, so that a stop is seen within a quarter second.
      auto msg = ws->receive(250);
      if (!msg) {
        drop(msg.error().message);
      } else if (*msg && plex) {
        // A stop is delivered from the notification itself, at the position it reports
        // (the session is gone from the next poll, which would only know an older one).
        NotificationEffect effect = apply_plex_notification(**msg, tracker);
        for (const auto& p : effect.stops) m_deliver(p);
        if (effect.named_session) next_poll = Clock::now();
      } else if (*msg) {
        SessionSocketMessage m = read_session_socket_message(**msg);
        if (m.keepalive_s) keepalive = std::chrono::seconds(std::max(1, *m.keepalive_s / 2));
        if (m.sessions) {
          SessionUpdate update = tracker.update(*m.sessions);
          for (const auto& why : update.skipped) log(true, "skipping " + why);
          for (const auto& p : update.events) m_deliver(p);
        }
      }
      continue;
    }
    const auto wake = options.websocket ? std::min(next_poll, next_connect) : next_poll;
    std::unique_lock lock(m_mutex);
    m_cv.wait_until(lock, wake, [&] { return m_stop; });
  }
}

}  // namespace cw::scrobble
