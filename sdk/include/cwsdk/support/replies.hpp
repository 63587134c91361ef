// cwsdk/support/replies.hpp: builders for the documents a plugin answers with.
//
// IndexWriter   build_index: items, honest completeness, watermark, `removed` (delta).
// Outcomes      add/remove/update: one outcome per key (see batch.hpp for services that
//               answer a batch with counts and not-found lists).
// HealthReply   health, with run-time capabilities (a user's rating scale, list limits).
// LookupReply   lookup: per key, whether the service has the item now.
// ResolveReply  resolve_ids: per key, every id the service knows.
// ScrobbleReply scrobble.
//
// The index, in full:
//
//   cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out) {
//     auto req = cwsdk::read_index_request(request, {"watchlist"});
//     if (!req) return req.error().reply();
//     cwsdk::IndexWriter index(out, cwsdk::IndexSemantics::present);
//     cwsdk::Completeness c = pager.run(m_host, [&](const cwsdk::PageRequest& page) {
//       ... fetch one page, index.add(item) per entry ...
//     });
//     if (c.failure && index.received() == 0) return index.fail(*c.failure);
//     return index.finish(c);
//   }
//
// IndexWriter serialises each item as it is added and, when built on the operation's
// Output, hands the text to the host every 256 KiB, so a 100k-item index never exists
// whole in the plugin. `complete` is written true only when the Completeness says so and
// no item was refused (an item that breaks the schema is not written, and an index that
// lacks an item the service has must not let the host infer a deletion).
#ifndef CWSDK_SUPPORT_REPLIES_HPP
#define CWSDK_SUPPORT_REPLIES_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/item.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/rating.hpp>
#include <cwsdk/support/requests.hpp>
#include <cwsdk/support/result.hpp>

namespace cwsdk {

enum class IndexSemantics { present, delta };

// What a read of every page proved. Pagers (paging.hpp) fill it; a plugin that reads its
// index in one request uses Completeness::whole().
struct Completeness {
  bool complete = false;                       // every page was read and the counts agree
  std::optional<std::int64_t> expected_total;  // what the service said the total is
  std::int64_t received = 0;                   // entries the service returned, all pages
  int pages = 0;                               // pages read
  std::string reason;                          // why not complete (empty when complete)
  std::optional<Failure> failure;              // the failure that ended the read, if any

  // One reply that holds the whole inventory.
  static Completeness whole(std::int64_t received,
                            std::optional<std::int64_t> expected_total = std::nullopt) {
    Completeness c;
    c.received = received;
    c.expected_total = expected_total;
    c.pages = 1;
    c.complete = !expected_total || *expected_total == received;
    if (!c.complete)
      c.reason = "received " + std::to_string(received) + " of " + std::to_string(*expected_total);
    return c;
  }
};

class IndexWriter {
 public:
  static constexpr std::size_t k_flush_bytes = 256 * 1024;

  // Builds the whole document in memory (small indexes, tests).
  explicit IndexWriter(IndexSemantics semantics = IndexSemantics::present)
      : m_semantics(semantics) {
    m_buffer = "{\"items\":[";
  }
  // Streams to the operation's Output (the two-parameter form of an operation), handing
  // over the text every `flush_bytes`.
  IndexWriter(Output& out, IndexSemantics semantics, std::size_t flush_bytes = k_flush_bytes)
      : IndexWriter(semantics) {
    m_out = &out;
    m_flush_bytes = flush_bytes;
  }
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;
  // An index that streamed part of itself and was not finished (an exception, an early
  // return) is ended as an incomplete index, so the host still gets a valid document.
  ~IndexWriter() {
    if (m_out != nullptr && m_streamed && !m_finished) {
      try {
        close_incomplete();
      } catch (...) {
        // Out of memory while closing; nothing more can be done at this edge.
      }
    }
  }

  // Writes one item. An item that breaks the schema (Item::check) is not written, makes
  // the index incomplete, and its problem is returned for the plugin to log.
  Status add(const Item& item) {
    Status ok = item.check();
    if (!ok) {
      ++m_refused;
      return ok;
    }
    if (m_received > 0) m_buffer += ',';
    m_buffer += item.to_json().dump();
    ++m_received;
    maybe_flush();
    return {};
  }

  // Delta indexes: an item the service reports as removed since the watermark.
  Status add_removed(const Item& item) {
    Status ok = item.check();
    if (!ok) return ok;
    if (!m_removed.empty()) m_removed += ',';
    m_removed += item.to_json().dump();
    return {};
  }

  std::int64_t received() const { return m_received; }
  std::int64_t refused() const { return m_refused; }

  // Ends the document with the completeness record. `watermark` is what the next request
  // for this feature will carry (delta providers); write none for an incomplete read
  // unless the service's watermark is valid for what was read.
  Reply finish(const Completeness& c, std::optional<std::string> watermark = std::nullopt) {
    m_finished = true;
    const bool complete = c.complete && m_refused == 0 && !c.failure;
    m_buffer += "]";
    if (!m_removed.empty()) m_buffer += ",\"removed\":[" + m_removed + "]";
    Json tail = Json::object();
    tail["complete"] = complete;
    tail["expected_total"] = c.expected_total ? Json(*c.expected_total) : Json(nullptr);
    tail["received"] = m_received;
    tail["watermark"] = watermark ? Json(*watermark) : Json(nullptr);
    tail["semantics"] = m_semantics == IndexSemantics::present ? "present" : "delta";
    std::string t = tail.dump();
    t.front() = ',';  // `{"complete":..}` continues the document: `,"complete":..}`
    m_buffer += t;
    return Reply::ok(std::move(m_buffer));
  }
  // finish() for an index read in one reply: complete unless expected_total disagrees.
  Reply finish_whole(std::optional<std::string> watermark = std::nullopt,
                     std::optional<std::int64_t> expected_total = std::nullopt) {
    return finish(Completeness::whole(m_received + m_refused, expected_total),
                  std::move(watermark));
  }

  // Gives up: the failure's status and message when nothing reached the host yet; once
  // part of the index was streamed, the document is ended as incomplete instead (the
  // operation then answers OK with complete=false).
  Reply fail(const Failure& f) {
    if (m_out != nullptr && m_streamed) {
      close_incomplete();
      return f.reply();  // ignored by the edge: the document is closed
    }
    m_finished = true;
    m_buffer.clear();
    return f.reply();
  }

 private:
  void maybe_flush() {
    if (m_out == nullptr || m_buffer.size() < m_flush_bytes) return;
    m_out->write(m_buffer);
    m_buffer.clear();
    m_streamed = true;
  }
  void close_incomplete() {
    Completeness c;
    c.reason = "ended early";
    Reply r = finish(c);
    m_out->write(r.body);
    m_out->close_document();
  }

  IndexSemantics m_semantics;
  Output* m_out = nullptr;
  std::size_t m_flush_bytes = k_flush_bytes;
  std::string m_buffer;
  std::string m_removed;
  std::int64_t m_received = 0;
  std::int64_t m_refused = 0;
  bool m_streamed = false;
  bool m_finished = false;
};

enum class OutcomeStatus { confirmed, skipped, unresolved };

inline std::string_view outcome_status_name(OutcomeStatus s) {
  switch (s) {
    case OutcomeStatus::confirmed:
      return "confirmed";
    case OutcomeStatus::skipped:
      return "skipped";
    case OutcomeStatus::unresolved:
      return "unresolved";
  }
  return "unresolved";
}

struct Outcome {
  std::string key;
  OutcomeStatus status = OutcomeStatus::unresolved;
  Reason reason = Reason::unknown;  // for unresolved
  std::string message;
};

// One outcome per key of a write request. Recording a key twice keeps the last outcome.
class Outcomes {
 public:
  void confirmed(std::string_view key, std::string_view message = {}) {
    record(key, OutcomeStatus::confirmed, Reason::unknown, message);
  }
  // Nothing to do: already there (add) or already gone (remove).
  void skipped(std::string_view key, std::string_view message = {}) {
    record(key, OutcomeStatus::skipped, Reason::unknown, message);
  }
  void unresolved(std::string_view key, Reason reason, std::string_view message = {}) {
    record(key, OutcomeStatus::unresolved, reason, message);
  }
  // Unresolved for the reason and with the message of a failed call.
  void failed(std::string_view key, const Failure& f) { unresolved(key, f.reason, f.message); }
  // Every item of a request (or a chunk of it) failed together.
  void fail_all(const std::vector<Item>& items, const Failure& f) {
    for (const Item& it : items) failed(it.key, f);
  }

  bool has(std::string_view key) const { return m_index.count(std::string(key)) != 0; }
  const Outcome* find(std::string_view key) const {
    const auto it = m_index.find(std::string(key));
    return it == m_index.end() ? nullptr : &m_outcomes[it->second];
  }
  const std::vector<Outcome>& all() const { return m_outcomes; }

  // {"outcomes":[...]}. With `request`, every key of it that has no outcome is answered
  // unresolved/unknown ("no outcome recorded"), so none is silently left out.
  Reply reply(const WriteRequest* request = nullptr) const {
    Json list = Json::array();
    for (const Outcome& o : m_outcomes) list.push_back(to_json(o));
    if (request != nullptr) {
      for (const Item& it : request->items) {
        if (!has(it.key))
          list.push_back(to_json(
              Outcome{it.key, OutcomeStatus::unresolved, Reason::unknown, "no outcome recorded"}));
      }
    }
    Json doc = Json::object();
    doc["outcomes"] = std::move(list);
    return Reply::ok(doc.dump());
  }
  Reply reply(const WriteRequest& request) const { return reply(&request); }

 private:
  static Json to_json(const Outcome& o) {
    Json j = Json::object();
    j["key"] = o.key;
    j["status"] = std::string(outcome_status_name(o.status));
    if (o.status == OutcomeStatus::unresolved) j["reason"] = std::string(reason_name(o.reason));
    if (!o.message.empty()) j["message"] = o.message;
    return j;
  }
  void record(std::string_view key, OutcomeStatus status, Reason reason, std::string_view msg) {
    const std::string k(key);
    const auto it = m_index.find(k);
    Outcome o{k, status, reason, std::string(msg)};
    if (it != m_index.end()) {
      m_outcomes[it->second] = std::move(o);
    } else {
      m_index.emplace(k, m_outcomes.size());
      m_outcomes.push_back(std::move(o));
    }
  }

  std::vector<Outcome> m_outcomes;
  std::map<std::string, std::size_t> m_index;
};

enum class HealthStatus { ok, degraded, down, auth_failed };

// The health answer. Run-time capabilities (ABI 1.1) override the manifest for this run.
class HealthReply {
 public:
  explicit HealthReply(HealthStatus status = HealthStatus::ok, std::string message = {})
      : m_status(status), m_message(std::move(message)) {}

  // A failed probe as a health answer (which the host reads better than a failed call):
  // AUTH -> auth_failed; RATE_LIMITED and TRANSIENT -> degraded with retry_after_ms;
  // anything else -> down.
  static HealthReply from_failure(const Failure& f) {
    HealthStatus s = HealthStatus::down;
    if (f.status == CW_STATUS_AUTH) s = HealthStatus::auth_failed;
    if (f.status == CW_STATUS_RATE_LIMITED || f.status == CW_STATUS_TRANSIENT)
      s = HealthStatus::degraded;
    HealthReply h(s, f.message);
    if (f.retry_after_ms >= 0) h.retry_after_ms(f.retry_after_ms);
    return h;
  }

  HealthReply& message(std::string text) {
    m_message = std::move(text);
    return *this;
  }
  // Whether a declared feature is usable right now.
  HealthReply& feature(std::string_view name, bool usable) {
    m_doc["features"][std::string(name)] = usable;
    return *this;
  }
  // capabilities.<feature>.<name> = value (for example "max_items": 100).
  HealthReply& capability(std::string_view feature, std::string_view name, Json value) {
    m_doc["capabilities"][std::string(feature)][std::string(name)] = std::move(value);
    return *this;
  }
  // The user's rating scale for this run (AniList's score format).
  HealthReply& rating_scale(std::string_view feature, const RatingScale& s) {
    return capability(feature, "rating_scale",
                      Json{{"min", s.min}, {"max", s.max}, {"step", s.step}});
  }
  HealthReply& retry_after_ms(std::int64_t ms) {
    m_doc["retry_after_ms"] = ms;
    return *this;
  }

  Reply reply() const {
    Json doc = m_doc.is_null() ? Json::object() : m_doc;
    static const char* const k_names[] = {"ok", "degraded", "down", "auth_failed"};
    doc["status"] = k_names[static_cast<int>(m_status)];
    if (!m_message.empty()) doc["message"] = m_message;
    return Reply::ok(doc.dump());
  }

 private:
  HealthStatus m_status;
  std::string m_message;
  Json m_doc;
};

// lookup: {"results":[{"key","present","items"?}]}. A key with no result is "unknown" to
// the host, which then falls back to a full build_index before any resend.
class LookupReply {
 public:
  // The service has it; `matches` are the entries as build_index would return them.
  void present(std::string_view key, const std::vector<Item>& matches = {}) {
    Json r{{"key", std::string(key)}, {"present", true}};
    if (!matches.empty()) {
      Json items = Json::array();
      for (const Item& m : matches) items.push_back(m.to_json());
      r["items"] = std::move(items);
    }
    m_results.push_back(std::move(r));
  }
  void absent(std::string_view key) {
    m_results.push_back(Json{{"key", std::string(key)}, {"present", false}});
  }
  Reply reply() const { return Reply::ok(Json{{"results", m_results}}.dump()); }

 private:
  Json m_results = Json::array();
};

// resolve_ids: {"results":[{"key","ids",ttl_s?}]}. Empty ids: not known to the service.
class ResolveReply {
 public:
  void resolved(std::string_view key, const Ids& ids,
                std::optional<std::int64_t> ttl_s = std::nullopt) {
    Json r{{"key", std::string(key)}, {"ids", ids.to_json()}};
    if (ttl_s) r["ttl_s"] = *ttl_s;
    m_results.push_back(std::move(r));
  }
  void unknown(std::string_view key, std::optional<std::int64_t> ttl_s = std::nullopt) {
    resolved(key, Ids(), ttl_s);
  }
  Reply reply() const { return Reply::ok(Json{{"results", m_results}}.dump()); }

 private:
  Json m_results = Json::array();
};

enum class ScrobbleRecorded { play, progress, none };

struct ScrobbleReply {
  OutcomeStatus status = OutcomeStatus::confirmed;
  Reason reason = Reason::unknown;  // for unresolved
  std::string message;
  ScrobbleRecorded recorded = ScrobbleRecorded::none;  // what the service stored

  Reply reply() const {
    static const char* const k_recorded[] = {"play", "progress", "none"};
    Json doc{{"status", std::string(outcome_status_name(status))},
             {"recorded", k_recorded[static_cast<int>(recorded)]}};
    if (status == OutcomeStatus::unresolved) doc["reason"] = std::string(reason_name(reason));
    if (!message.empty()) doc["message"] = message;
    return Reply::ok(doc.dump());
  }
};

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_REPLIES_HPP
