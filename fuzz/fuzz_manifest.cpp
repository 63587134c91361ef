// A plugin's manifest (cwsdk_entry's document): parsed and held to manifest.schema.json.
#include <string_view>

#include <cw/plugin/manifest.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(manifest) {
  const auto m =
      cw::plugin::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (m) {
    CW_FUZZ_CHECK(!m->name.empty());
    for (const auto& [feature, caps] : m->features) (void)m->feature(feature);
  }
  return 0;
}
