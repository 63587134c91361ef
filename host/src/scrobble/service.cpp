#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <cw/engine/time.hpp>
#include <cw/scrobble/rules.hpp>
#include <cw/scrobble/service.hpp>
#include <cw/scrobble/watchers.hpp>
#include <cw/scrobble/webhooks.hpp>
#include <cw/services/secrets/config_secret_store.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/session.hpp>

namespace cw::scrobble {
namespace {

using nlohmann::json;

constexpr std::size_t k_recent_max = 500;
// The largest webhook body accepted (Plex attaches a poster of a few tens of KiB).
constexpr std::size_t k_max_body = 1U << 20;
// A failed delivery waits 1 s, doubling with each failure of the same event up to 15 min:
// a lost reply is retried at once (the tracker's own limit is about one write a second),
// a tracker that is down is not hammered.
constexpr std::int64_t k_backoff_min_ms = 1'000;
constexpr std::int64_t k_backoff_max_ms = 15 * 60'000;
constexpr std::int64_t k_batch = 100;

// Compares without leaking, through the time taken, how much of the secret matched.
bool same_secret(const std::string& given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^
                                       expected[i % std::max<std::size_t>(1, expected.size())]);
  return diff == 0 && !expected.empty();
}

// Whether a failed delivery is worth another try: the service or the way to it is down,
// busy or not authorised now. Anything else is the event itself being refused.
bool retryable(ErrorKind kind) {
  return kind == ErrorKind::transient || kind == ErrorKind::rate_limited ||
         kind == ErrorKind::auth || kind == ErrorKind::internal || kind == ErrorKind::cancelled;
}

}  // namespace

struct Service::Impl {
  ServiceDeps deps;
  std::unique_ptr<state::StateStore> store;
  std::mutex store_mutex;  // transactions on the one connection do not interleave

  mutable std::mutex mutex;  // rules, recent events, stats
  Rules rules;
  std::deque<Event> events;
  Stats stats;

  std::mutex wake_mutex;
  std::condition_variable wake_cv;
  bool work = false;

  std::unique_ptr<Watchers> watchers;

  explicit Impl(ServiceDeps d) : deps(std::move(d)), rules(deps.options) {}

  std::int64_t now_ms() const { return deps.clock->now_ms(); }

  void log(services::LogLevel level, const std::string& message) const {
    if (deps.logger != nullptr) deps.logger->log(level, "scrobble", message);
  }

  void record(Event e) {
    events.push_front(std::move(e));
    if (events.size() > k_recent_max) events.pop_back();
  }

  void notify() {
    {
      std::lock_guard lock(wake_mutex);
      work = true;
    }
    wake_cv.notify_all();
  }

  WebhookReply refuse(const WebhookRequest& req, int status, const std::string& why) {
    std::lock_guard lock(mutex);
    ++stats.sources[req.source].refused;
    Event e;
    e.at_ms = now_ms();
    e.source = req.source;
    e.outcome = "refused";
    e.detail = why;
    record(std::move(e));
    return {status, why};
  }

  // The secret check of one webhook endpoint: `token` in the query or X-CW-Token.
  std::optional<WebhookReply> authenticate(const WebhookRequest& req) {
    const auto hook = deps.options.webhooks.find(req.source);
    if (hook == deps.options.webhooks.end())
      return refuse(req, 404,
                    "webhook source '" + req.source + "' is not configured (scrobble.webhooks." +
                        req.source + ")");
    if (hook->second.open) return std::nullopt;
    std::string given;
    if (auto q = req.query.find("token"); q != req.query.end()) given = q->second;
    if (auto h = req.headers.find("x-cw-token"); given.empty() && h != req.headers.end())
      given = h->second;
    if (given.empty())
      return refuse(req, 401, "missing the webhook secret (the token query parameter)");
    if (!hook->second.secret) return refuse(req, 401, "the webhook secret does not match");
    auto expected = services::resolve_secret(*hook->second.secret,
                                             "scrobble.webhooks." + req.source + ".secret");
    if (!expected) {
      log(services::LogLevel::error, expected.error().message);
      return refuse(req, 503, "the webhook secret cannot be read now");
    }
    if (!same_secret(given, *expected))
      return refuse(req, 401, "the webhook secret does not match");
    return std::nullopt;
  }

  // Rules, then the durable rows: the one path webhooks and watchers share.
  WebhookReply take(const Playback& p) {
    const std::int64_t now = now_ms();
    Event e;
    e.at_ms = now;
    e.source = p.source;
    e.action = p.action == Action::other ? p.raw_event : to_string(p.action);
    e.user = p.user;
    e.library = p.library;
    e.title = title_of(p.item);
    e.session = p.session;
    Decision d;
    {
      std::lock_guard lock(mutex);
      d = rules.decide(p, now);
      e.progress = d.progress;
      if (d.kind != Decision::Kind::send) {
        ++stats.sources[p.source].ignored;
        e.outcome = d.kind == Decision::Kind::collapsed ? "collapsed" : "ignored";
        e.detail = d.detail;
        record(e);
        return {200, e.outcome + ": " + d.detail};
      }
    }
    json request = {{"event", to_string(p.action)},
                    {"item", p.item},
                    {"progress", std::round(d.progress * 100.0) / 100.0},
                    {"session", p.session},
                    {"at", engine::format_time(now / 1000)},
                    {"watched", d.watched}};
    std::vector<state::ScrobbleRow> rows;
    std::vector<std::string> repeated;
    std::lock_guard store_lock(store_mutex);
    for (const auto& sink : deps.options.sinks) {
      if (d.watched) {
        // The same play already queued or delivered: a repeated stop, perhaps across a
        // restart that cleared the rules' memory.
        auto plays =
            store->scrobble_plays(sink, d.play_key, now - deps.options.replay_after_s * 1000);
        if (!plays) return refuse_store(p, plays.error().message);
        if (!plays->empty()) {
          repeated.push_back(sink);
          continue;
        }
      }
      state::ScrobbleRow r;
      r.sink = sink;
      r.action = to_string(p.action);
      r.request = request.dump();
      r.title = e.title;
      r.progress = d.progress;
      r.watched = d.watched;
      r.session = p.session;
      r.play_key = d.play_key;
      r.item = p.item.dump();
      r.created_ms = now;
      rows.push_back(std::move(r));
    }
    if (auto st = store->scrobble_enqueue(rows); !st) return refuse_store(p, st.error().message);
    std::lock_guard lock(mutex);
    if (rows.empty()) {
      ++stats.sources[p.source].ignored;
      e.outcome = "collapsed";
      e.detail = "this play is already queued or delivered";
      record(e);
      return {200, "collapsed: " + e.detail};
    }
    ++stats.sources[p.source].accepted;
    for (const auto& r : rows) ++stats.sinks[r.sink].queued;
    e.outcome = "queued";
    std::string names;
    for (const auto& r : rows) names += (names.empty() ? "" : ", ") + r.sink;
    e.detail = std::string(d.watched ? "a play for " : "for ") + names;
    record(e);
    return {202, "queued: " + e.detail};
  }

  WebhookReply refuse_store(const Playback& p, const std::string& why) {
    log(services::LogLevel::error, "scrobble queue: " + why);
    std::lock_guard lock(mutex);
    ++stats.sources[p.source].refused;
    return {503, "the scrobble queue cannot store the event now; send it again later"};
  }
};

Service::Service(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Service::~Service() { stop_watchers(); }

Result<std::unique_ptr<Service>> Service::create(ServiceDeps deps) {
  if (deps.clock == nullptr)
    return make_error("scrobble service: no clock given", ErrorKind::invalid_arg);
  auto store = state::StateStore::open(deps.state_dir, state::OpenMode::read_write);
  if (!store) return store.error();
  auto impl = std::make_unique<Impl>(std::move(deps));
  impl->store = std::move(*store);
  for (const char* source : k_webhook_sources) impl->stats.sources[source];
  for (const auto& sink : impl->deps.options.sinks) impl->stats.sinks[sink];
  if (auto counts = impl->store->scrobble_counts(); counts)
    for (const auto& [sink, n] : *counts) impl->stats.sinks[sink].queued = n;
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

WebhookReply Service::accept(const WebhookRequest& request) {
  Impl& m = *m_impl;
  const bool known = std::any_of(std::begin(k_webhook_sources), std::end(k_webhook_sources),
                                 [&](const char* s) { return request.source == s; });
  if (!known)
    return {404, "no webhook source '" + request.source +
                     "'; the sources are plex, jellyfin, emby and tautulli"};
  {
    std::lock_guard lock(m.mutex);
    ++m.stats.sources[request.source].received;
  }
  if (!m.deps.options.enabled)
    return m.refuse(request, 404, "scrobbling is not configured (scrobble:)");
  if (request.body.size() > k_max_body)
    return m.refuse(request, 413, "the payload is larger than 1 MiB");
  if (auto refused = m.authenticate(request)) return *refused;
  auto playback = parse_webhook(request);
  if (!playback) return m.refuse(request, 400, playback.error().message);
  auto reply = m.take(*playback);
  if (reply.http_status == 202) m.notify();
  return reply;
}

WebhookReply Service::accept_playback(const Playback& playback) {
  {
    std::lock_guard lock(m_impl->mutex);
    ++m_impl->stats.sources[playback.source].received;
  }
  auto reply = m_impl->take(playback);
  if (reply.http_status == 202) m_impl->notify();
  return reply;
}

DeliveryReport Service::deliver_pending(const services::CancelToken& cancel) {
  Impl& m = *m_impl;
  DeliveryReport report;
  auto due = [&](std::int64_t at) {
    if (report.next_due_ms == 0 || at < report.next_due_ms) report.next_due_ms = at;
  };
  for (const auto& sink_name : m.deps.options.sinks) {
    bool blocked = false;
    while (!blocked && !cancel.cancelled()) {
      std::vector<state::ScrobbleRow> rows;
      {
        std::lock_guard lock(m.store_mutex);
        auto got = m.store->scrobble_queue(sink_name, k_batch);
        if (!got) {
          m.log(services::LogLevel::error, "scrobble queue: " + got.error().message);
          return report;
        }
        rows = std::move(*got);
      }
      if (rows.empty()) break;
      Sink* sink = m.deps.sinks ? m.deps.sinks(sink_name) : nullptr;
      for (const auto& row : rows) {
        if (cancel.cancelled()) {
          blocked = true;
          break;
        }
        const std::int64_t now = m.now_ms();
        if (row.next_try_ms > now) {
          due(row.next_try_ms);
          blocked = true;
          break;
        }
        if (sink == nullptr) {
          blocked = true;
          break;
        }
        const json request = json::parse(row.request, nullptr, false);
        Result<json> reply =
            request.is_discarded()
                ? Result<json>(make_error("the queued request is not JSON", ErrorKind::invalid_arg))
                : sink->scrobble(request);
        if (!reply && retryable(reply.error().kind)) {
          const std::int64_t wait =
              reply.error().retry_after_ms > 0
                  ? reply.error().retry_after_ms
                  : std::min(k_backoff_max_ms, k_backoff_min_ms << std::min(row.attempts, 8));
          {
            std::lock_guard lock(m.store_mutex);
            (void)m.store->scrobble_retry_later(row.id, reply.error().message, now + wait);
          }
          {
            std::lock_guard lock(m.mutex);
            auto& st = m.stats.sinks[sink_name];
            ++st.failed;
            st.last_error = reply.error().message;
            st.backoff_until_ms = now + wait;
          }
          m.log(services::LogLevel::warn,
                sink_name + ": scrobble of " + row.title + " failed, trying again in " +
                    std::to_string(wait / 1000) + " s: " + reply.error().message);
          ++report.failed;
          due(now + wait);
          blocked = true;
          break;
        }
        std::string status = reply ? reply->value("status", "confirmed") : "unresolved";
        const std::string recorded_kind = reply ? reply->value("recorded", "none") : "none";
        const bool delivered = status == "confirmed" || status == "skipped";
        // A skipped watched stop: the service already has this play.
        const bool play =
            row.watched && delivered && (recorded_kind == "play" || status == "skipped");
        {
          std::lock_guard lock(m.store_mutex);
          if (auto st = m.store->scrobble_delivered(row, now, play); !st) {
            m.log(services::LogLevel::error, "scrobble queue: " + st.error().message);
            return report;
          }
        }
        std::string why = reply ? reply->value("message", "") : reply.error().message;
        {
          std::lock_guard lock(m.mutex);
          auto& st = m.stats.sinks[sink_name];
          st.queued = std::max<std::int64_t>(0, st.queued - 1);
          st.backoff_until_ms = 0;
          if (delivered) {
            ++st.delivered;
            if (play) ++st.plays;
            st.last_delivery_ms = now;
            m.stats.last_delivery_ms = now;
          } else {
            ++st.dropped;
            st.last_error = why;
          }
        }
        if (delivered) {
          ++report.delivered;
        } else {
          ++report.dropped;
          m.log(services::LogLevel::warn,
                sink_name + ": " + row.title + " was not scrobbled (" + status + "): " + why);
        }
        if (play && m.deps.options.remove_from_watchlist) {
          json item = json::parse(request.is_discarded() ? "{}" : request["item"].dump());
          item["key"] = "scrobbled";
          auto removed = sink->remove_from_watchlist(json::array({item}));
          if (!removed && removed.error().kind != ErrorKind::unsupported)
            m.log(services::LogLevel::warn,
                  sink_name + ": removing " + row.title +
                      " from the watchlist failed: " + removed.error().message);
        }
      }
      if (rows.size() < static_cast<std::size_t>(k_batch)) break;
    }
  }
  {
    std::lock_guard lock(m.store_mutex);
    if (auto counts = m.store->scrobble_counts(); counts)
      for (const auto& [sink, n] : *counts) report.remaining += n;
  }
  return report;
}

void Service::wait_for_work(std::int64_t timeout_ms) {
  std::unique_lock lock(m_impl->wake_mutex);
  m_impl->wake_cv.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(0, timeout_ms)),
                           [&] { return m_impl->work; });
  m_impl->work = false;
}

void Service::wake() { m_impl->notify(); }

Status Service::start_watchers() {
  if (m_impl->watchers || m_impl->deps.options.watchers.empty()) return ok_status();
  auto w = Watchers::start(m_impl->deps.options.watchers, *this, m_impl->deps.logger);
  if (!w) return w.error();
  m_impl->watchers = std::move(*w);
  return ok_status();
}

void Service::stop_watchers() { m_impl->watchers.reset(); }

Stats Service::stats() const {
  Stats out;
  {
    std::lock_guard lock(m_impl->mutex);
    out = m_impl->stats;
  }
  std::lock_guard lock(m_impl->store_mutex);
  if (auto counts = m_impl->store->scrobble_counts(); counts) {
    for (auto& [name, st] : out.sinks) st.queued = 0;
    for (const auto& [sink, n] : *counts) {
      out.sinks[sink].queued = n;
      out.queued += n;
    }
  }
  return out;
}

std::vector<Event> Service::recent(std::size_t n) const {
  std::lock_guard lock(m_impl->mutex);
  const auto& ev = m_impl->events;
  return {ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(std::min(n, ev.size()))};
}

std::vector<Queued> Service::queue(std::size_t n) const {
  std::vector<Queued> out;
  std::lock_guard lock(m_impl->store_mutex);
  auto rows = m_impl->store->scrobble_queue("", static_cast<std::int64_t>(n));
  if (!rows) return out;
  for (const auto& r : *rows)
    out.push_back({r.id, r.sink, r.action, r.title, r.progress, r.watched, r.session, r.created_ms,
                   r.attempts, r.last_error, r.next_try_ms});
  return out;
}

Result<std::unique_ptr<Service>> make_service(sync::Session& session) {
  const config::Config& cfg = session.config();
  auto sinks = std::make_shared<std::map<std::string, std::unique_ptr<Sink>>>();
  for (const auto& name : cfg.scrobble.sinks) {
    plugin::ProviderInstance* instance = session.instance(name);
    if (instance == nullptr) {
      const auto err = session.create_errors().find(name);
      return make_error("scrobble.sinks: provider " + name + " is not available" +
                            (err != session.create_errors().end() ? ": " + err->second : ""),
                        ErrorKind::invalid_arg);
    }
    if (!session.manifest_of(name)->scrobble)
      return make_error("scrobble.sinks: provider " + name + " (plugin " +
                            session.manifest_of(name)->name +
                            ") cannot scrobble; name a tracker whose plugin declares it",
                        ErrorKind::invalid_arg);
    (*sinks)[name] = plugin_sink(*instance);
  }
  ServiceDeps deps;
  deps.options = cfg.scrobble;
  deps.state_dir = cfg.state_dir;
  deps.clock = &session.clock();
  deps.logger = &session.logger();
  deps.sinks = [sinks](const std::string& name) -> Sink* {
    auto it = sinks->find(name);
    return it == sinks->end() ? nullptr : it->second.get();
  };
  return Service::create(std::move(deps));
}

}  // namespace cw::scrobble
