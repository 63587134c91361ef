// One item of a plugin reply. An item that is accepted must survive the round trip through
// the form cw sends back to plugins and stores in baselines.
#include <nlohmann/json.hpp>

#include <cw/engine/item.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(item) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  const auto item = cw::engine::item_from_json(j);
  if (!item) return 0;
  (void)cw::engine::describe(*item);
  const auto again = cw::engine::item_from_json(cw::engine::item_to_json(*item),
                                                cw::engine::ItemLimits::unbounded());
  CW_FUZZ_CHECK(again.ok());
  CW_FUZZ_CHECK(*again == *item);
  return 0;
}
