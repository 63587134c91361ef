#pragma once
// The rows of the state database as plain values. The engine's in-memory state model is
// converted to and from PairFeatureRecord; items are kept as the JSON documents of the ABI
// (sdk/schema/item.schema.json), so the store never depends on engine internals.
//
// `side` is the caller's name for one side of a pair (the engine uses the provider
// instance name); baselines, pending deletions, flaps, blackbox and unresolved entries
// are all per (pair, feature, side, key). Times are Unix seconds, UTC.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw::state {

struct Tombstone {
  std::string key;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  nlohmann::json data;  // e.g. the id tokens of the removed item; null when none
  bool operator==(const Tombstone&) const = default;
};

struct PendingDeletion {
  std::string side;  // where the removal would happen
  std::string key;
  std::string reason;  // "mass_delete", "drop_guard", ...
  std::int64_t first_seen = 0;
  bool approved = false;
  nlohmann::json item;
  // `cw pending drop`: the user declined it; the next run settles it as ignored (R6.3).
  bool declined = false;
  bool operator==(const PendingDeletion&) const = default;
};

struct FlapCounter {
  std::string side;
  std::string key;
  int consecutive = 0;
  std::string last_reason;
  std::int64_t last_at = 0;
  bool operator==(const FlapCounter&) const = default;
};

struct BlackboxEntry {
  std::string side;
  std::string key;
  std::string reason;
  std::int64_t since = 0;
  std::int64_t until = 0;
  bool operator==(const BlackboxEntry&) const = default;
};

struct UnresolvedItem {
  std::string side;
  std::string key;
  std::string reason;  // not_found|rate_limited|rejected|unknown|...
  std::string message;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  int attempts = 1;
  nlohmann::json item;
  bool operator==(const UnresolvedItem&) const = default;
};

// Everything stored for one pair and feature.
struct PairFeatureRecord {
  // side -> key -> item JSON
  std::map<std::string, std::map<std::string, nlohmann::json>> baselines;
  std::vector<Tombstone> tombstones;
  std::vector<PendingDeletion> pending;
  std::vector<FlapCounter> flaps;
  std::vector<BlackboxEntry> blackbox;
  std::vector<UnresolvedItem> unresolved;
  // Anything else the engine keeps per pair and feature (watermarks, checkpoints, the
  // baseline mode); replaced whole on commit when not null.
  nlohmann::json meta;
  std::string last_run_id;
  std::int64_t last_commit_at = 0;
  bool operator==(const PairFeatureRecord&) const = default;
};

// A change to one pair and feature, committed in one transaction. Upserts replace rows
// with the same primary key; deletes name rows by key.
struct PairFeatureCommit {
  std::string pair;
  std::string feature;
  std::string run_id;
  std::int64_t committed_at = 0;

  // When set, every baseline row of that side is dropped before the upserts.
  std::vector<std::string> replace_baseline_sides;
  std::map<std::string, std::map<std::string, nlohmann::json>> baseline_upserts;
  std::map<std::string, std::vector<std::string>> baseline_deletes;  // side -> keys
  // side -> key -> item in the binary form of engine/item_codec.hpp, stored as given (what
  // a run writes; baseline_upserts is the JSON form, for tools and tests).
  std::map<std::string, std::map<std::string, std::string>> baseline_encoded;

  std::vector<Tombstone> tombstone_upserts;
  std::vector<std::string> tombstone_deletes;

  struct SideKey {
    std::string side;
    std::string key;
    bool operator==(const SideKey&) const = default;
  };
  std::vector<PendingDeletion> pending_upserts;
  std::vector<SideKey> pending_deletes;
  std::vector<FlapCounter> flap_upserts;
  std::vector<SideKey> flap_deletes;
  std::vector<BlackboxEntry> blackbox_upserts;
  std::vector<SideKey> blackbox_deletes;
  std::vector<UnresolvedItem> unresolved_upserts;
  std::vector<SideKey> unresolved_deletes;

  nlohmann::json meta;  // null: unchanged

  // Journal rows settled by this commit (id -> confirmed|unknown).
  std::map<std::int64_t, std::string> journal_settle;
  // Provider instances whose buffered plugin kv writes (services::SqliteKvStore) are flushed in
  // this transaction; typically the pair's source and target.
  std::vector<std::string> kv_instances;

  bool empty() const;
};
bool operator<(const PairFeatureCommit::SideKey& a, const PairFeatureCommit::SideKey& b);

// The minimal commit that turns `before` into `after` (for callers that keep whole states).
PairFeatureCommit make_commit(const std::string& pair, const std::string& feature,
                              const PairFeatureRecord& before, const PairFeatureRecord& after);

// One outbound write, recorded before it is sent (R6.2).
struct JournalEntry {
  std::int64_t id = 0;  // assigned by journal_begin
  std::string run_id;
  std::string pair;
  std::string feature;
  std::string target;  // provider instance written to
  std::string op;      // add|remove|update
  std::string key;
  std::string payload_hash;
  std::string state = "in_flight";  // in_flight|confirmed|unknown
  std::int64_t created_at = 0;
  std::int64_t settled_at = 0;
};

struct RunReport {
  std::string run_id;
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::string status;  // ok|partial|failed|cancelled|dry_run
  nlohmann::json report;
};

// Counts per pair and feature for `cw state show`.
struct PairFeatureSummary {
  std::string pair;
  std::string feature;
  std::map<std::string, std::int64_t> baseline_sizes;  // side -> items
  std::int64_t tombstones = 0;
  std::int64_t pending = 0;
  std::int64_t pending_approved = 0;
  std::int64_t blocked = 0;
  std::int64_t unresolved = 0;
  std::int64_t flapping = 0;
  std::string last_run_id;
  std::int64_t last_commit_at = 0;
};

// A blackboxed or unresolved item as the status page lists it.
struct HeldItem {
  std::string kind;  // blackbox | unresolved
  std::string pair;
  std::string feature;
  std::string side;
  std::string key;
  std::string reason;
  std::string message;  // unresolved: the provider's words
  std::int64_t since = 0;
  std::int64_t until = 0;  // blackbox: when it is tried again
  nlohmann::json item;     // unresolved: the item, when known
};

nlohmann::json to_json(const PairFeatureRecord& record);
PairFeatureRecord record_from_json(const nlohmann::json& j);

// A manual mapping (`cw map`): the ids the item of `instance` known by `key` should have;
// `ids` is a JSON object as text ({"imdb": "tt0307479"}).
struct IdMapping {
  std::string instance;
  std::string key;
  std::string ids;
  std::int64_t created_at = 0;  // epoch seconds
};

// An override (`cw override`): the user's correction of the item of `instance` known by
// `key` (its watch date, its rating on 0-10), or `ignore`: kept out of sync for good.
struct ItemOverride {
  std::string instance;
  std::string key;
  std::optional<std::int64_t> watched_at;  // epoch seconds
  std::optional<double> rating;
  bool ignore = false;
  std::int64_t created_at = 0;  // epoch seconds; a corrected rating's rated_at
};
// The export and `cw override list --output json` form (times in epoch seconds, absent
// values left out).
nlohmann::json to_json(const ItemOverride& override_);

// One answer of an id resolver, as cached: `ids` is a JSON object as text.
struct IdResolution {
  std::string query;
  std::string ids;
  std::int64_t expires_at = 0;  // epoch seconds
};

// One playback event waiting for a sink (scrobble_queue); `request` is the ABI scrobble
// request as JSON text. Times in milliseconds since the epoch.
struct ScrobbleRow {
  std::int64_t id = 0;
  std::string sink;
  std::string action;  // start | pause | stop
  std::string request;
  std::string title;
  double progress = 0;
  bool watched = false;  // a stop at or over the threshold: one play
  std::string session;
  std::string play_key;  // user and item: what makes two watched stops the same play
  std::string item;      // the item as JSON text (recorded with the play)
  std::int64_t created_ms = 0;
  int attempts = 0;
  std::string last_error;
  std::int64_t next_try_ms = 0;
};

// A play made by scrobbling (scrobble_plays).
struct ScrobblePlay {
  std::string sink;
  std::string play_key;
  std::int64_t watched_ms = 0;
  std::string item;  // JSON text
  std::optional<std::int64_t> delivered_ms;
};

}  // namespace cw::state
