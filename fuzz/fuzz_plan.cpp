// A plan file (`cw plan --save`, read back by `cw apply --plan`). A plan that is accepted
// must read back the same from the form cw writes.
#include <nlohmann/json.hpp>

#include <cw/engine/plan.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(plan) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  const auto plan = cw::engine::plan_from_json(j);
  if (!plan) return 0;
  const auto again = cw::engine::plan_from_json(cw::engine::to_json(*plan));
  CW_FUZZ_CHECK(again.ok());
  CW_FUZZ_CHECK(*again == *plan);
  return 0;
}
