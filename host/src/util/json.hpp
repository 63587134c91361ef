#pragma once
// Checked reads of members of a JSON object that came from outside (a plugin's reply, a
// state row): a wrong type or a null reads as the fallback instead of throwing, because
// nlohmann's value() throws on a member that exists with another type.

#include <cstdint>
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

// The member `key` when it is an integer; `fallback` otherwise.
inline std::int64_t int_member(const nlohmann::json& obj, const char* key,
                               std::int64_t fallback = 0) {
  if (!obj.is_object()) return fallback;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

// The member `key` when it is a boolean; `fallback` otherwise.
inline bool bool_member(const nlohmann::json& obj, const char* key, bool fallback = false) {
  if (!obj.is_object()) return fallback;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// The member `key` when it is an object, else an empty object: safe to iterate (json::value()
// returns a temporary, and items() of a temporary dangles).
inline const nlohmann::json& object_member(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json k_empty = nlohmann::json::object();
  if (!obj.is_object()) return k_empty;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : k_empty;
}

}  // namespace cw::util
