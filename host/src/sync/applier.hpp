#pragma once
// Applier: sends the writes of one pair, feature and target through a provider, in chunks
// of the manifest's chunk_size (R6.1), and collects one outcome per key (R2.2).
//
// Every chunk is journalled before it is sent (R6.2) and settled after; a key the provider
// did not answer for is `unknown` and stays open in the journal, so the next run re-reads
// the target before sending it again. Transient and rate-limited failures are retried
// with backoff (the provider's retry_after_ms when it gives one). A write that is not safe
// to repeat (history) is retried only for the keys a fresh read of the target does not
// show. Cancellation is checked between chunks: the chunk in flight finishes (R6.5).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/provider_port.hpp>

namespace cw::sync {

enum class OutcomeStatus { confirmed, skipped, unresolved, unknown, failed, not_attempted };
const char* to_string(OutcomeStatus s);

struct KeyOutcome {
  OutcomeStatus status = OutcomeStatus::not_attempted;
  std::string reason;  // unresolved/failed: not_found|rate_limited|rejected|unknown|...
  std::string message;
};

struct WriteItem {
  std::string key;
  nlohmann::json item;  // the ABI item document, "key" included
};

struct WriteBatch {
  std::string run_id;
  std::string pair;
  std::string feature;
  WriteOp op = WriteOp::add;
  std::vector<WriteItem> items;
};

struct ApplyStats {
  int chunks = 0;
  int calls = 0;  // plugin operations, retries included
  int retries = 0;
  bool cancelled = false;
  // Journal entries whose settlement could not be written, with the state each should have:
  // the caller hands them to its state commit (a second, separate transaction) and reports
  // `journal_error`. Left in_flight they would only cost a re-check, but a journal that
  // cannot be written is a fault the user must hear about, never a silent one.
  std::map<std::int64_t, std::string> unsettled;
  std::string journal_error;
};

struct ApplierOptions {
  int max_attempts = 4;
  std::int64_t base_backoff_ms = 200;
  std::int64_t max_backoff_ms = 30000;
  // Time and waiting: journal timestamps, and the back-off between attempts, which ends at
  // once when the run is cancelled. Unset: the system clock.
  const services::Clock* clock = nullptr;
  // Keys of `items` that a fresh read of the target shows as already there; used before
  // retrying a write that is not safe to repeat. Unset: such writes are not retried.
  std::function<Result<std::set<std::string>>(const std::vector<WriteItem>& items)>
      present_on_target;
  // Called after each chunk with the number of keys done so far (progress display).
  std::function<void(std::size_t done, std::size_t total)> progress;
};

class Applier {
 public:
  Applier(ProviderPort& target, state::StateStore* journal, services::CancelToken& cancel,
          ApplierOptions options);

  // Outcomes for every key of the batch (not_attempted for keys after a cancellation).
  std::map<std::string, KeyOutcome> apply(const WriteBatch& batch, ApplyStats& stats);

 private:
  Result<nlohmann::json> send_with_retries(const WriteBatch& batch, std::vector<WriteItem>& chunk,
                                           ApplyStats& stats,
                                           std::map<std::string, KeyOutcome>& out);

  std::int64_t now_s() const { return m_options.clock->now_ms() / 1000; }

  ProviderPort& m_target;
  state::StateStore* m_journal;
  services::CancelToken& m_cancel;
  ApplierOptions m_options;
};

// Whether repeating a write of this feature could duplicate something (a history play).
bool repeat_unsafe(const std::string& feature, WriteOp op);
// Stable hash of a write payload for the journal.
std::string payload_hash(const nlohmann::json& item);

}  // namespace cw::sync
