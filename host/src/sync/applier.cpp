#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <cw/sync/applier.hpp>
#include <cw/util/json.hpp>

namespace cw::sync {

const char* to_string(WriteOp op) {
  switch (op) {
    case WriteOp::add:
      return "add";
    case WriteOp::remove:
      return "remove";
    case WriteOp::update:
      return "update";
  }
  return "add";
}

const char* to_string(OutcomeStatus s) {
  switch (s) {
    case OutcomeStatus::confirmed:
      return "confirmed";
    case OutcomeStatus::skipped:
      return "skipped";
    case OutcomeStatus::unresolved:
      return "unresolved";
    case OutcomeStatus::unknown:
      return "unknown";
    case OutcomeStatus::failed:
      return "failed";
    case OutcomeStatus::not_attempted:
      return "not_attempted";
  }
  return "unknown";
}

bool repeat_unsafe(const std::string& feature, WriteOp op) {
  return feature == "history" && op == WriteOp::add;
}

std::string payload_hash(const nlohmann::json& item) {
  // FNV-1a 64 over the canonical dump: enough to tell two payloads apart in the journal.
  const std::string text = item.dump();
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

std::string reason_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found:
      return "not_found";
    case ErrorKind::rate_limited:
      return "rate_limited";
    case ErrorKind::invalid_arg:
    case ErrorKind::unsupported:
    case ErrorKind::auth:
      return "rejected";
    default:
      return "unknown";
  }
}

bool retryable(ErrorKind kind) {
  return kind == ErrorKind::transient || kind == ErrorKind::rate_limited;
}

}  // namespace

Applier::Applier(ProviderPort& target, state::StateStore* journal, services::CancelToken& cancel,
                 ApplierOptions options)
    : m_target(target), m_journal(journal), m_cancel(cancel), m_options(std::move(options)) {
  if (m_options.clock == nullptr) {
    static const services::SystemClock system;
    m_options.clock = &system;
  }
}

std::map<std::string, KeyOutcome> Applier::apply(const WriteBatch& batch, ApplyStats& stats) {
  std::map<std::string, KeyOutcome> out;
  for (const auto& w : batch.items) out[w.key] = KeyOutcome{};
  if (batch.items.empty()) return out;

  std::size_t chunk_size = 100;
  if (const auto* caps = m_target.manifest().feature(batch.feature); caps && caps->chunk_size > 0)
    chunk_size = static_cast<std::size_t>(caps->chunk_size);

  std::size_t done = 0;
  for (std::size_t start = 0; start < batch.items.size(); start += chunk_size) {
    // Between chunks only: the chunk in flight always finishes and is accounted for.
    if (m_cancel.cancelled()) {
      stats.cancelled = true;
      break;
    }
    // A plugin that crashed or timed out takes no more chunks: they stay not attempted.
    if (m_target.lost()) break;
    const std::size_t end = std::min(batch.items.size(), start + chunk_size);
    std::vector<WriteItem> chunk(batch.items.begin() + static_cast<std::ptrdiff_t>(start),
                                 batch.items.begin() + static_cast<std::ptrdiff_t>(end));
    ++stats.chunks;

    // Journal first (R6.2): a crash after this point leaves in_flight rows that the next
    // run re-checks against a fresh read of the target.
    std::vector<state::JournalEntry> entries;
    if (m_journal != nullptr && !m_journal->read_only()) {
      for (const auto& w : chunk) {
        state::JournalEntry e;
        e.run_id = batch.run_id;
        e.pair = batch.pair;
        e.feature = batch.feature;
        e.target = m_target.instance();
        e.op = to_string(batch.op);
        e.key = w.key;
        e.payload_hash = payload_hash(w.item);
        e.created_at = now_s();
        entries.push_back(std::move(e));
      }
      if (auto st = m_journal->journal_begin(entries); !st) {
        for (const auto& w : chunk)
          out[w.key] = KeyOutcome{OutcomeStatus::failed, "unknown",
                                  "not sent: the write journal failed: " + st.error().message};
        done += chunk.size();
        continue;
      }
    }

    auto resp = send_with_retries(batch, chunk, stats, out);
    if (resp) {
      const auto& outcomes =
          resp->contains("outcomes") ? (*resp)["outcomes"] : nlohmann::json::array();
      std::set<std::string> sent;
      for (const auto& w : chunk) sent.insert(w.key);
      for (const auto& o : outcomes) {
        if (!o.is_object() || !o.contains("key") || !o["key"].is_string()) continue;
        const std::string key = o["key"].get<std::string>();
        if (!sent.count(key)) continue;  // an outcome for a key we did not send
        const std::string status = util::string_member(o, "status");
        KeyOutcome k;
        if (status == "confirmed")
          k.status = OutcomeStatus::confirmed;
        else if (status == "skipped")
          k.status = OutcomeStatus::skipped;
        else if (status == "unresolved") {
          k.status = OutcomeStatus::unresolved;
          k.reason = util::string_member(o, "reason", "unknown");
        } else {
          k.status = OutcomeStatus::unknown;
          k.reason = "unknown";
        }
        k.message = util::string_member(o, "message");
        out[key] = k;
      }
      // R2.2: no outcome is "unknown", never inferred from a count.
      for (const auto& w : chunk) {
        if (out[w.key].status == OutcomeStatus::not_attempted)
          out[w.key] = KeyOutcome{OutcomeStatus::unknown, "unknown",
                                  "the provider gave no outcome for this item"};
      }
    }

    if (m_journal != nullptr && !entries.empty()) {
      std::map<std::int64_t, std::string> settle;
      for (const auto& e : entries) {
        const auto st = out[e.key].status;
        // A write the provider surely did not perform is closed too: nothing is in doubt.
        const bool closed = st == OutcomeStatus::confirmed || st == OutcomeStatus::skipped ||
                            st == OutcomeStatus::unresolved || st == OutcomeStatus::failed;
        settle[e.id] = closed ? "confirmed" : "unknown";
      }
      if (auto st = m_journal->journal_settle(settle, now_s()); !st) {
        stats.unsettled.insert(settle.begin(), settle.end());
        if (stats.journal_error.empty()) stats.journal_error = st.error().message;
      }
    }
    done += chunk.size();
    if (m_options.progress) m_options.progress(done, batch.items.size());
  }
  return out;
}

Result<nlohmann::json> Applier::send_with_retries(const WriteBatch& batch,
                                                  std::vector<WriteItem>& chunk, ApplyStats& stats,
                                                  std::map<std::string, KeyOutcome>& out) {
  const bool unsafe = repeat_unsafe(batch.feature, batch.op);
  // A transient failure of a write that is not safe to repeat may still have landed.
  const auto in_doubt = [unsafe](const Error& e) {
    return unsafe && e.kind == ErrorKind::transient;
  };
  std::int64_t backoff = m_options.base_backoff_ms;
  for (int attempt = 1;; ++attempt) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& w : chunk) items.push_back(w.item);
    ++stats.calls;
    auto resp = m_target.write(batch.op, batch.feature, items);
    if (resp) {
      if (!resp->is_object()) {
        for (const auto& w : chunk)
          out[w.key] = KeyOutcome{OutcomeStatus::unknown, "unknown", "malformed response"};
        return make_error("malformed response", ErrorKind::internal);
      }
      return resp;
    }
    const Error& err = resp.error();
    if (const auto why = m_target.lost()) {
      // The plugin died with the request in its hands: any part of it may have landed.
      for (const auto& w : chunk) out[w.key] = KeyOutcome{OutcomeStatus::unknown, "unknown", *why};
      return err;
    }
    const bool may_retry = retryable(err.kind) && attempt < m_options.max_attempts &&
                           !m_cancel.cancelled() && (!unsafe || m_options.present_on_target);
    if (!may_retry) {
      // The whole request failed: nothing in it was confirmed (cwsdk.h). A transient
      // failure of a write that is not safe to repeat may still have landed: unknown.
      for (const auto& w : chunk)
        out[w.key] = KeyOutcome{in_doubt(err) ? OutcomeStatus::unknown : OutcomeStatus::failed,
                                reason_of(err.kind), err.message};
      return err;
    }
    ++stats.retries;
    std::int64_t wait = err.retry_after_ms >= 0 ? err.retry_after_ms : backoff;
    wait = std::min(wait, m_options.max_backoff_ms);
    if (!m_options.clock->sleep_ms(wait, &m_cancel)) {
      // Cancelled during the back-off: no further attempt. The keys settle as the failed
      // attempt left them; those in doubt stay open in the journal for the next run.
      stats.cancelled = true;
      for (const auto& w : chunk)
        out[w.key] =
            KeyOutcome{in_doubt(err) ? OutcomeStatus::unknown : OutcomeStatus::failed,
                       reason_of(err.kind), "cancelled while waiting to retry: " + err.message};
      return err;
    }
    backoff = std::min(backoff * 2, m_options.max_backoff_ms);
    if (unsafe) {
      // Re-read before sending again (R6.2): what the failed request did land is not sent
      // twice.
      auto present = m_options.present_on_target(chunk);
      if (!present) {
        for (const auto& w : chunk)
          out[w.key] = KeyOutcome{OutcomeStatus::unknown, "unknown",
                                  "could not re-read the target: " + present.error().message};
        return present.error();
      }
      std::vector<WriteItem> rest;
      for (auto& w : chunk) {
        if (present->count(w.key))
          out[w.key] = KeyOutcome{OutcomeStatus::confirmed, "", ""};
        else
          rest.push_back(std::move(w));
      }
      chunk = std::move(rest);
      if (chunk.empty()) return nlohmann::json{{"outcomes", nlohmann::json::array()}};
    }
  }
}

}  // namespace cw::sync
