#pragma once
// The engine's FeatureCaps for one provider and feature. Built from the manifest that
// plugin::parse_manifest validated (the one manifest parser: the defaults are the ABI's,
// sdk/ABI.md "Manifest"), then narrowed by what the health reply says is known only at
// run time (ABI 1.1 "capabilities", e.g. an AniList user's score format).

#include <nlohmann/json.hpp>

#include <cw/engine/snapshot.hpp>
#include <cw/plugin/manifest.hpp>

namespace cw::sync {

// A feature the manifest does not declare is unsupported (no reads, no writes).
// `health_capabilities` is the health reply's "capabilities" member (null when absent).
engine::FeatureCaps feature_caps(const plugin::Manifest& manifest, engine::Feature feature,
                                 const nlohmann::json& health_capabilities = nullptr);

}  // namespace cw::sync
