#pragma once
// Checked reads of members of a JSON object that came from outside (a plugin's reply, a
// state row): a wrong type or a null reads as the fallback instead of throwing, because
// nlohmann's value() throws on a member that exists with another type.

#include <string>

#include <nlohmann/json.hpp>

namespace cw::util {

// The member `key` of `obj` when it is a string; `fallback` otherwise (absent, null, a
// number, or `obj` not an object).
inline std::string string_member(const nlohmann::json& obj, const char* key,
                                 std::string fallback = {}) {
  if (!obj.is_object()) return fallback;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace cw::util
