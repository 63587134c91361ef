// An add/remove/update reply: the checks a plugin's reply passes, then the outcomes read for
// the keys that were sent. Every sent key gets exactly one outcome, whatever the reply says.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/engine/settlement.hpp>
#include <cw/plugin/provider_instance.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(outcomes) {
  auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  if (!cw::plugin::check_outcomes_reply(doc).empty()) return 0;
  const std::vector<std::string> sent = {"a", "b", "imdb:tt0000001"};
  const auto outcomes = cw::engine::outcomes_from_response(cw::engine::Side::target,
                                                           cw::engine::ActionKind::add, sent, doc);
  CW_FUZZ_CHECK(outcomes.size() == sent.size());
  return 0;
}
