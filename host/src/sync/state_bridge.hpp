#pragma once
// Converts between the engine's per pair-and-feature state (engine/state_model.hpp, sides
// named source/target) and the rows of the state database (state/state_types.hpp, sides
// named by provider instance). The record's `meta` keeps what has no row of its own:
// which sides have a baseline at all (an empty baseline is not "no baseline") and their
// watermarks.

#include <map>
#include <string>
#include <unordered_map>

#include <cw/engine/policy.hpp>
#include <cw/engine/state_model.hpp>
#include <cw/state/state_store.hpp>
#include <cw/state/state_types.hpp>
#include <cw/util/result.hpp>

namespace cw::sync {

struct SideNames {
  std::string source;  // provider instance of engine::Side::source
  std::string target;
  const std::string& of(engine::Side s) const {
    return s == engine::Side::source ? source : target;
  }
};

Result<engine::PairFeatureState> to_engine_state(const state::PairFeatureRecord& record,
                                                 const SideNames& sides, bool history);
// `with_baselines` false: everything but the baseline rows (commit_of compares those).
state::PairFeatureRecord to_record(const engine::PairFeatureState& state, const SideNames& sides,
                                   bool history, bool with_baselines = true);

// A pair and feature's state as a run reads it: the engine's form, the record without its
// baseline rows (tombstones, pending, ..., meta), and the row key each baseline item was
// stored under. Baseline rows become engine items as they are read, so that a 100k-item
// baseline is never held as JSON, and commit_of() can compare items instead of documents.
struct LoadedState {
  engine::PairFeatureState state;
  state::PairFeatureRecord record;  // `baselines` empty
  // Side (provider instance) -> stored row key -> index into that side's baseline items.
  // Holds every side the database has rows for, the pair's two and any stale one.
  std::map<std::string, std::unordered_map<std::string, std::size_t>> stored_keys;
};
Result<LoadedState> load_state(state::StateStore& store, const std::string& pair,
                               const std::string& feature, const SideNames& sides, bool history);

// The commit that turns the loaded state into `after`: the non-baseline rows and meta as
// state::make_commit finds them, and the baseline rows compared as engine items, so that
// only rows that changed are serialised and written (a run that changed nothing writes no
// baseline row).
state::PairFeatureCommit commit_of(const std::string& pair, const std::string& feature,
                                   const LoadedState& before, const engine::PairFeatureState& after,
                                   const SideNames& sides, bool history);

}  // namespace cw::sync
