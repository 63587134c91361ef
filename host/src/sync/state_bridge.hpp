#pragma once
// Converts between the engine's per pair-and-feature state (engine/state_model.hpp, sides
// named source/target) and the rows of the state database (state/state_types.hpp, sides
// named by provider instance). The record's `meta` keeps what has no row of its own:
// which sides have a baseline at all (an empty baseline is not "no baseline") and their
// watermarks.

#include <string>

#include <cw/engine/policy.hpp>
#include <cw/engine/state_model.hpp>
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
state::PairFeatureRecord to_record(const engine::PairFeatureState& state, const SideNames& sides,
                                   bool history);

}  // namespace cw::sync
