// cw.yaml. Relative paths resolve against a folder that does not exist: nothing is written.
#include <string>

#include <cw/config/config.hpp>

#include "fuzz_target.hpp"

CW_FUZZ_TARGET(config) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto parsed = cw::config::parse_config(text, "cw.yaml", "/nonexistent/cw-fuzz");
  for (const auto& e : parsed.errors) CW_FUZZ_CHECK(e.to_string().find('\n') == std::string::npos);
  return 0;
}
