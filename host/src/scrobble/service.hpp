#pragma once
// scrobble::Service: real-time scrobbling for `cw serve` (issue 14, docs/configuration.md
// "scrobble"). A playback event arrives as a webhook (Plex, Jellyfin, Emby, Tautulli) or
// from a watcher (Jellyfin/Emby sessions polling, watchers.hpp); the
// service authenticates it with that endpoint's own secret, parses it into a playback
// event, applies the rules (user and library filters, repeats collapsed, the watched
// threshold), and stores what is to be sent in the state database's scrobble queue before
// it answers. deliver_pending() then sends the queue to each sink (a tracker instance whose
// plugin declares the `scrobble` capability, sdk/ABI.md "scrobble") in order, one sink at a
// time, backing off a sink that is down or rate limited without holding the others.
//
// A stop at or over the threshold is one play: it is queued once per sink however many
// times the server repeats it, and once delivered it is recorded in the state database
// (scrobble_plays) so that the next sync run does not add the same play again.
//
// Every public member is thread-safe: the HTTP server calls accept() from its worker
// threads while one delivery thread calls deliver_pending().

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/config/config.hpp>
#include <cw/scrobble/playback.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/util/result.hpp>

namespace cw::plugin {
class ProviderInstance;
}
namespace cw::sync {
class Session;
}

namespace cw::scrobble {

// The webhook sources `/webhook/<source>` routes to accept().
inline constexpr const char* k_webhook_sources[] = {"plex", "jellyfin", "emby", "tautulli"};

// One HTTP request to /webhook/<source>, as the server received it.
struct WebhookRequest {
  std::string source;        // plex | jellyfin | emby | tautulli
  std::string content_type;  // the Content-Type header, parameters included (boundary)
  std::map<std::string, std::string> headers;  // names in lower case
  std::map<std::string, std::string> query;    // the URL's query parameters
  std::string body;                            // raw bytes (Plex: multipart/form-data)
};

// What the server answers. 2xx: accepted (queued, or deliberately ignored: a filtered
// user, a repeat); 4xx: refused (unknown source 404, bad or missing secret 401, malformed
// payload 400, oversized 413) and nothing was stored; 5xx: the state database could not
// store the event (503: retry later). `message` is one line, safe to show (no secrets).
struct WebhookReply {
  int http_status = 200;
  std::string message;
};

// What happened to one incoming event (the `recent` list of the status page).
struct Event {
  std::int64_t at_ms = 0;  // when it was received
  std::string source;      // plex | jellyfin | emby | tautulli | plex-watch | jellyfin-watch ...
  std::string action;      // start | pause | stop (as understood), or the raw event name
  std::string user;
  std::string library;
  std::string title;    // "Breaking Bad S01E01", "Inception (2010)"
  double progress = 0;  // percent
  std::string session;
  // queued | collapsed (a repeat) | ignored (filtered, not playback) | refused (4xx)
  std::string outcome;
  std::string detail;  // why, one line ("user 'bob' is not in scrobble.users")
};

// One row of the durable queue (scrobble_queue in the state database).
struct Queued {
  std::int64_t id = 0;  // delivery order
  std::string sink;     // the tracker instance
  std::string action;   // start | pause | stop
  std::string title;
  double progress = 0;
  bool watched = false;  // a stop at or over the threshold: one play
  std::string session;
  std::int64_t created_ms = 0;
  int attempts = 0;
  std::string last_error;        // empty before the first failure
  std::int64_t next_try_ms = 0;  // back-off: not before this time
};

struct SourceStats {
  std::int64_t received = 0;  // requests that reached accept()
  std::int64_t refused = 0;   // answered 4xx (auth, malformed, oversized)
  std::int64_t accepted = 0;  // turned into queue rows
  std::int64_t ignored = 0;   // filtered, collapsed repeats, not playback events
};

struct SinkStats {
  std::int64_t delivered = 0;         // events the sink confirmed
  std::int64_t failed = 0;            // attempts that failed (each retry counts)
  std::int64_t dropped = 0;           // given up (the service refused the event itself)
  std::int64_t plays = 0;             // watched stops recorded as plays
  std::int64_t queued = 0;            // rows waiting now
  std::int64_t last_delivery_ms = 0;  // 0: never
  std::int64_t backoff_until_ms = 0;  // 0: not backing off
  std::string last_error;
};

struct Stats {
  std::map<std::string, SourceStats> sources;  // every webhook source and watcher
  std::map<std::string, SinkStats> sinks;      // every configured sink
  std::int64_t queued = 0;                     // rows in the queue, all sinks
  std::int64_t last_delivery_ms = 0;           // 0: never
};

struct DeliveryReport {
  std::int64_t delivered = 0;
  std::int64_t failed = 0;   // attempts that failed and stay queued
  std::int64_t dropped = 0;  // refused by the service for good, removed from the queue
  std::int64_t remaining = 0;
  // The earliest time a row still queued may be tried (0: none waiting), so the delivery
  // thread knows how long it may sleep.
  std::int64_t next_due_ms = 0;
};

// Where events go: one tracker instance. The plugin adapter is plugin_sink(); tests use
// their own.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual const std::string& name() const = 0;
  // The ABI scrobble request {"event","item","progress","session","at"}; the reply
  // {"status","reason","message","recorded"}.
  virtual Result<nlohmann::json> scrobble(const nlohmann::json& request) = 0;
  // Removes items from the watchlist (ABI remove, feature watchlist); {"outcomes":[..]}.
  // Unsupported when the plugin has no writable watchlist.
  virtual Result<nlohmann::json> remove_from_watchlist(const nlohmann::json& items) = 0;
};

// A Sink over a loaded plugin instance (which must outlive it).
std::unique_ptr<Sink> plugin_sink(plugin::ProviderInstance& instance);

// Finds the sink for a configured instance name at delivery time (nullptr: not available
// now, the rows wait). Lets the caller own the plugin instances.
using SinkLookup = std::function<Sink*(const std::string& instance)>;

struct ServiceDeps {
  config::ScrobbleOptions options;  // the `scrobble:` block of cw.yaml
  std::filesystem::path state_dir;  // the service opens its own connection to state.db
  SinkLookup sinks;
  services::Clock* clock = nullptr;    // required
  services::Logger* logger = nullptr;  // optional
};

class Service {
 public:
  static Result<std::unique_ptr<Service>> create(ServiceDeps deps);
  ~Service();  // stops the watchers
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Parses, authenticates, filters and enqueues durably; answers only after the rows are
  // committed. Never throws.
  WebhookReply accept(const WebhookRequest& request);
  // The same for an event a watcher read (no secret, no parsing): rules, then the queue.
  WebhookReply accept_playback(const Playback& playback);

  // Sends queued rows in order per sink until the queue is empty, every remaining sink is
  // backing off, or `cancel` is set (checked between rows). A sink that fails (down, rate
  // limited: the Retry-After is honoured) is backed off exponentially and its later rows
  // wait behind the failed one, so the order on the tracker is the order of the events.
  DeliveryReport deliver_pending(const services::CancelToken& cancel);

  // Blocks until accept() queued something, a watcher did, `timeout_ms` passed, or
  // wake() was called: the delivery thread's sleep.
  void wait_for_work(std::int64_t timeout_ms);
  void wake();

  // Watchers (scrobble.watchers in cw.yaml): threads that poll Jellyfin/Emby sessions,
  // feeding the same rules as the webhooks.
  // start is idempotent; stop joins them (the destructor does too).
  Status start_watchers();
  void stop_watchers();

  Stats stats() const;
  // The last `n` incoming events, newest first (kept in memory, 500 at most).
  std::vector<Event> recent(std::size_t n) const;
  // The first `n` rows of the queue in delivery order.
  std::vector<Queued> queue(std::size_t n) const;

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The service for `cw serve` from an open session: sinks are the session's instances
// named in scrobble.sinks (each must declare the scrobble capability), the state directory
// and clock the session's. The session must outlive the service. Errors name the
// configuration key to fix.
Result<std::unique_ptr<Service>> make_service(sync::Session& session);

}  // namespace cw::scrobble
