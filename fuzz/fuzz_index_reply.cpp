// A build_index reply, through the same checks as a plugin's (the envelope against
// index.schema.json) and into a snapshot, items one by one.
#include <nlohmann/json.hpp>

#include <cw/engine/snapshot.hpp>
#include <cw/plugin/provider_instance.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(index_reply) {
  auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  if (!cw::plugin::check_index_reply(doc, nullptr).empty()) return 0;
  const auto snap = cw::engine::snapshot_from_response("fuzz", cw::engine::Feature::history, doc,
                                                       cw::engine::FeatureCaps{});
  if (snap) CW_FUZZ_CHECK(snap->index.size() <= doc["items"].size());
  return 0;
}
