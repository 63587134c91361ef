// cwsdk/support/json.hpp: checked reading of untrusted JSON (service replies, requests).
//
// nlohmann/json throws on a type mismatch (`j["year"].get<int>()` on a null) and
// `j.value("x", "")` throws on a null or a number. A plugin reads every service reply
// through these helpers instead: they never throw, and a failure names the field and what
// was expected.
//
//   cwsdk::Result<cwsdk::Json> doc = cwsdk::parse_json(body, "GET /sync/watchlist reply");
//   auto title = cwsdk::get<std::string>(*doc, "/movie/title");      // Result<std::string>
//   auto year = cwsdk::get_optional<int>(*doc, "/movie/year");       // Result<optional<int>>
//   int plays = cwsdk::get_or(*doc, "/plays", 0);                    // fallback on anything odd
//   const cwsdk::Json* ids = cwsdk::find(*doc, "/movie/ids");        // nullptr: absent or null
//   auto items = cwsdk::get_array(*doc, "/items");                   // Result<const Json*>
//
// Rules, the same in every helper:
// * A pointer is a JSON pointer ("/a/0/b", `~1` for '/', `~0` for '~'); a plain name
//   without a leading '/' means that member ("title" == "/title"); "" is the document.
// * null reads as absent: get() fails with "missing", get_optional() gives nullopt.
// * Integers (int, std::int64_t) accept JSON integers, floats with no fraction (7.0) and
//   strings of digits with an optional sign ("123": Plex and others quote numbers); out of
//   range or anything else is an error. double accepts numbers and numeric strings. bool
//   accepts true/false only. std::string accepts strings only (ids, which may be numbers,
//   go through cwsdk/support/ids.hpp). cwsdk::Json accepts any non-null value (a copy).
// * Error messages: "<pointer>: expected <type>, got <type>" or "<pointer>: missing"; the
//   caller adds what document it was (Failure::context).
#ifndef CWSDK_SUPPORT_JSON_HPP
#define CWSDK_SUPPORT_JSON_HPP

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include <cwsdk/support/result.hpp>

namespace cwsdk {

using Json = nlohmann::json;

namespace detail {

inline std::string_view json_type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "a binary value";
  }
}

inline std::string pointer_label(std::string_view pointer) {
  if (pointer.empty()) return "(document)";
  if (pointer.front() == '/') return std::string(pointer);
  return "/" + std::string(pointer);
}

// Walks `pointer` without throwing; nullptr when any step is absent.
inline const Json* walk(const Json& doc, std::string_view pointer) {
  if (pointer.empty()) return &doc;
  if (pointer.front() != '/') {
    if (!doc.is_object()) return nullptr;
    const auto it = doc.find(pointer);
    return it == doc.end() ? nullptr : &*it;
  }
  const Json* cur = &doc;
  std::size_t pos = 1;
  while (true) {
    const std::size_t slash = pointer.find('/', pos);
    const std::string_view raw =
        pointer.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    std::string token;
    token.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    if (cur->is_object()) {
      const auto it = cur->find(token);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      if (token.empty() || token.size() > 18) return nullptr;
      std::size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return nullptr;
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
    if (slash == std::string_view::npos) return cur;
    pos = slash + 1;
  }
}

inline std::optional<std::int64_t> parse_int_text(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

inline std::optional<std::int64_t> to_int64(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  if (v.is_string()) return parse_int_text(v.get_ref<const std::string&>());
  return std::nullopt;
}

inline std::optional<double> to_double(const Json& v) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (std::isfinite(d)) return d;
    return std::nullopt;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 64) return std::nullopt;
    const char* begin = s.c_str();
    char* end = nullptr;
    const double d = std::strtod(begin, &end);
    if (end == begin || *end != '\0' || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

template <typename T>
struct JsonConvert;

template <>
struct JsonConvert<std::string> {
  static constexpr std::string_view k_expected = "a string";
  static std::optional<std::string> from(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    return std::nullopt;
  }
};
template <>
struct JsonConvert<bool> {
  static constexpr std::string_view k_expected = "a boolean";
  static std::optional<bool> from(const Json& v) {
    if (v.is_boolean()) return v.get<bool>();
    return std::nullopt;
  }
};
template <>
struct JsonConvert<std::int64_t> {
  static constexpr std::string_view k_expected = "an integer";
  static std::optional<std::int64_t> from(const Json& v) { return to_int64(v); }
};
template <>
struct JsonConvert<int> {
  static constexpr std::string_view k_expected = "an integer (32-bit)";
  static std::optional<int> from(const Json& v) {
    const auto i = to_int64(v);
    if (!i || *i < std::numeric_limits<int>::min() || *i > std::numeric_limits<int>::max())
      return std::nullopt;
    return static_cast<int>(*i);
  }
};
template <>
struct JsonConvert<double> {
  static constexpr std::string_view k_expected = "a number";
  static std::optional<double> from(const Json& v) { return to_double(v); }
};
template <>
struct JsonConvert<Json> {
  static constexpr std::string_view k_expected = "a value";
  static std::optional<Json> from(const Json& v) { return v; }
};

inline Failure json_field_failure(std::string_view pointer, std::string_view expected,
                                  const Json* got) {
  if (got == nullptr || got->is_null())
    return Failure::internal(pointer_label(pointer) + ": missing (expected " +
                             std::string(expected) + ")");
  return Failure::internal(pointer_label(pointer) + ": expected " + std::string(expected) +
                           ", got " + std::string(json_type_name(*got)));
}

}  // namespace detail

// Parses `text` as one JSON document. A truncated or malformed text fails with
// "<what>: malformed JSON at byte N: <parser message>" (status INTERNAL: an unexpected
// reply; request readers turn it into INVALID_ARG).
inline Result<Json> parse_json(std::string_view text, std::string_view what) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) return doc;
  // Parse once more with exceptions on, only to get the parser's position and message.
  try {
    const Json again = Json::parse(text.begin(), text.end());
    (void)again;
  } catch (const Json::parse_error& e) {
    std::string detail = e.what();
    if (const auto colon = detail.rfind(": "); colon != std::string::npos)
      detail = detail.substr(colon + 2);
    return Failure::internal(std::string(what) + ": malformed JSON at byte " +
                             std::to_string(e.byte) + ": " + detail);
  } catch (...) {
  }
  if (text.empty()) return Failure::internal(std::string(what) + ": empty body, expected JSON");
  return Failure::internal(std::string(what) + ": malformed JSON");
}

// The value at `pointer`, or nullptr when absent or null. Never throws.
inline const Json* find(const Json& doc, std::string_view pointer) {
  const Json* v = detail::walk(doc, pointer);
  return v == nullptr || v->is_null() ? nullptr : v;
}

// A required value of type T (see the rules at the top).
template <typename T>
Result<T> get(const Json& doc, std::string_view pointer) {
  const Json* v = find(doc, pointer);
  if (v != nullptr) {
    if (auto out = detail::JsonConvert<T>::from(*v)) return std::move(*out);
  }
  return detail::json_field_failure(pointer, detail::JsonConvert<T>::k_expected, v);
}

// An optional value: absent or null gives nullopt; a wrong type is still an error.
template <typename T>
Result<std::optional<T>> get_optional(const Json& doc, std::string_view pointer) {
  const Json* v = find(doc, pointer);
  if (v == nullptr) return std::optional<T>();
  if (auto out = detail::JsonConvert<T>::from(*v)) return std::optional<T>(std::move(*out));
  return detail::json_field_failure(pointer, detail::JsonConvert<T>::k_expected, v);
}

// The value, or `fallback` when it is absent, null or of another type. For fields whose
// oddity should not fail anything (a display title, a count used only for a log line).
template <typename T>
T get_or(const Json& doc, std::string_view pointer, T fallback) {
  const Json* v = find(doc, pointer);
  if (v == nullptr) return fallback;
  if (auto out = detail::JsonConvert<T>::from(*v)) return std::move(*out);
  return fallback;
}
inline std::string get_or(const Json& doc, std::string_view pointer, const char* fallback) {
  return get_or<std::string>(doc, pointer, std::string(fallback));
}

// A required array or object, without copying it; never nullptr on success.
inline Result<const Json*> get_array(const Json& doc, std::string_view pointer) {
  const Json* v = find(doc, pointer);
  if (v != nullptr && v->is_array()) return v;
  return detail::json_field_failure(pointer, "an array", v);
}
inline Result<const Json*> get_object(const Json& doc, std::string_view pointer) {
  const Json* v = find(doc, pointer);
  if (v != nullptr && v->is_object()) return v;
  return detail::json_field_failure(pointer, "an object", v);
}

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_JSON_HPP
