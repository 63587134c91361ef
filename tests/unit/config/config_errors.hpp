#pragma once
// What the config tests read back from a cw.yaml text: its errors, one line each, and the
// one error a text with a single fault must give.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cw/config/config.hpp>

namespace cw::config::test {

inline std::vector<std::string> errors_of(const std::string& yaml) {
  ConfigParse p = parse_config(yaml, "cw.yaml", "/etc/cw");
  std::vector<std::string> out;
  for (const auto& e : p.errors) out.push_back(e.to_string());
  EXPECT_EQ(p.config.has_value(), out.empty());
  return out;
}

inline std::string only_error(const std::string& yaml) {
  auto errors = errors_of(yaml);
  EXPECT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  return errors.empty() ? std::string() : errors.front();
}

}  // namespace cw::config::test
