#pragma once
// Id resolution before matching (ABI 1.1 resolve_ids). Two services often know one item
// by different ids (a server's tvdb id, a tracker's tmdb id); without help the item is
// added a second time. When the configuration names an `id_resolver`, the items of one
// pair's two snapshots that share no id with the other side are sent to it, its answers
// are merged into the items (their own ids win), and each answer is cached in the state
// database until its time to live ends, so a library is asked about once, not every run.

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include <cw/engine/snapshot.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/provider_port.hpp>

namespace cw::sync {

struct ResolveStats {
  std::size_t unmatched = 0;  // items that shared no id with the other side
  std::size_t cached = 0;     // answered from the cache
  std::size_t asked = 0;      // sent to the resolver this run
  std::size_t enriched = 0;   // items that gained ids
  std::string error;          // a failed call or cache access (the run goes on without it)
  nlohmann::json to_json() const;
};

struct ResolveOptions {
  std::int64_t now_s = 0;
  std::int64_t default_ttl_s = 30LL * 86400;
  std::size_t max_asked = 1000;  // per pair and feature and run; the rest waits a run
  std::size_t chunk = 100;       // items per resolve_ids call
};

// Enriches `a` and `b` in place. `count_call` is called once per resolve_ids request.
ResolveStats resolve_unmatched(ProviderPort& resolver, state::StateStore& store,
                               engine::Snapshot& a, engine::Snapshot& b,
                               const ResolveOptions& options,
                               const std::function<void()>& count_call = {});

}  // namespace cw::sync
