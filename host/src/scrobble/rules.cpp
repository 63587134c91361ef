#include <algorithm>
#include <cctype>

#include <cw/scrobble/rules.hpp>

namespace cw::scrobble {
namespace {

// A playback nobody reported on for this long is over; its memory goes.
constexpr std::int64_t k_session_memory_ms = 24LL * 3600 * 1000;

bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool listed(const std::vector<std::string>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& l) { return same_name(l, name); });
}

bool identifiable(const nlohmann::json& item) {
  const auto& ids = item["ids"];
  return ids.contains("imdb") || ids.contains("tmdb") || ids.contains("tvdb");
}

}  // namespace

std::string play_key(const Playback& p) {
  std::string id;
  const auto& ids = p.item.value("ids", nlohmann::json::object());
  for (const char* kind : {"imdb", "tmdb", "tvdb"})
    if (ids.contains(kind) && ids[kind].is_string()) {
      id = std::string(kind) + ":" + ids[kind].get<std::string>();
      break;
    }
  if (id.empty()) id = p.source + ":" + p.item_ref;
  return p.user + "|" + p.item.value("type", "") + "|" + id;
}

void Rules::forget_old(std::int64_t now_ms) {
  if (now_ms - m_last_sweep_ms < 60'000) return;
  m_last_sweep_ms = now_ms;
  for (auto it = m_sessions.begin(); it != m_sessions.end();)
    it = now_ms - it->second.seen_ms > k_session_memory_ms ? m_sessions.erase(it) : std::next(it);
}

Decision Rules::decide(const Playback& p, std::int64_t now_ms) {
  forget_old(now_ms);
  Decision d;
  if (p.action == Action::other) {
    d.detail = "not a playback event (" + p.raw_event + ")";
    return d;
  }
  if (!m_options.users.empty() && !listed(m_options.users, p.user)) {
    d.detail = "user '" + p.user + "' is not in scrobble.users";
    return d;
  }
  if (!m_options.libraries.empty() && !listed(m_options.libraries, p.library)) {
    d.detail = p.library.empty()
                   ? "the source does not name the library, and scrobble.libraries is set"
                   : "library '" + p.library + "' is not in scrobble.libraries";
    return d;
  }
  if (!identifiable(p.item)) {
    d.detail = "no imdb, tmdb or tvdb id: a tracker cannot identify the item";
    return d;
  }
  d.progress = p.progress.value_or(p.watched_hint ? 100.0 : 0.0);
  d.watched = p.action == Action::stop && (p.watched_hint || d.progress >= m_options.threshold);
  d.play_key = play_key(p);

  SessionState& s = m_sessions[p.session];
  const SessionState before = s;
  s.seen_ms = now_ms;
  if (before.watched) {
    // After the play, only a start from the beginning again (a rewatch) opens a new one.
    if (p.action == Action::start && d.progress < m_options.threshold) {
      s = SessionState{Action::start, false, now_ms};
      d.kind = Decision::Kind::send;
      return d;
    }
    d.kind = Decision::Kind::collapsed;
    d.detail = "already watched in this playback";
    return d;
  }
  if (before.last == p.action && !d.watched) {
    d.kind = Decision::Kind::collapsed;
    d.detail = std::string("repeated ") + to_string(p.action);
    return d;
  }
  s.last = p.action;
  s.watched = d.watched;
  d.kind = Decision::Kind::send;
  return d;
}

}  // namespace cw::scrobble
