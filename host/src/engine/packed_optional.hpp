#pragma once
// PackedOptional<T>: std::optional's interface in sizeof(T) bytes, for the optional numbers
// of Item. std::optional<std::int64_t> takes 16 bytes; an Item has six such fields and an
// Index holds 100,000 Items, so the flag alone cost ~5 MiB per index.
//
// "No value" is a sentinel that is never a meaningful value: INT64_MIN for integers (an
// instant or a duration of -2^63), NaN for doubles (a rating that is not a number).
// Storing the sentinel yields an empty optional.

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <type_traits>

namespace cw::engine {

template <typename T>
class PackedOptional {
  static_assert(std::is_arithmetic_v<T>, "PackedOptional holds numbers only");

 public:
  using value_type = T;

  constexpr PackedOptional() noexcept = default;
  constexpr PackedOptional(std::nullopt_t) noexcept {}
  template <typename U,
            typename = std::enable_if_t<std::is_arithmetic_v<U> && !std::is_same_v<U, bool>>>
  constexpr PackedOptional(U v) noexcept : m_v(static_cast<T>(v)) {}
  constexpr PackedOptional(const std::optional<T>& o) noexcept : m_v(o ? *o : none()) {}
  constexpr operator std::optional<T>() const noexcept {
    return has_value() ? std::optional<T>(m_v) : std::nullopt;
  }

  constexpr PackedOptional& operator=(std::nullopt_t) noexcept {
    m_v = none();
    return *this;
  }

  constexpr bool has_value() const noexcept {
    if constexpr (std::is_floating_point_v<T>)
      return !std::isnan(m_v);
    else
      return m_v != none();
  }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr const T& operator*() const noexcept { return m_v; }
  constexpr T& operator*() noexcept { return m_v; }
  constexpr const T* operator->() const noexcept { return &m_v; }
  constexpr const T& value() const {
    if (!has_value()) throw std::bad_optional_access();
    return m_v;
  }
  template <typename U>
  constexpr T value_or(U fallback) const noexcept {
    return has_value() ? m_v : static_cast<T>(fallback);
  }
  constexpr void reset() noexcept { m_v = none(); }
  constexpr T& emplace(T v) noexcept {
    m_v = v;
    return m_v;
  }

  // Same ordering as std::optional: empty compares equal to empty and below any value.
  friend constexpr bool operator==(const PackedOptional& a, const PackedOptional& b) noexcept {
    if (a.has_value() != b.has_value()) return false;
    return !a.has_value() || a.m_v == b.m_v;
  }
  friend constexpr bool operator<(const PackedOptional& a, const PackedOptional& b) noexcept {
    if (!b.has_value()) return false;
    if (!a.has_value()) return true;
    return a.m_v < b.m_v;
  }
  friend constexpr bool operator>(const PackedOptional& a, const PackedOptional& b) noexcept {
    return b < a;
  }
  friend constexpr bool operator<=(const PackedOptional& a, const PackedOptional& b) noexcept {
    return !(b < a);
  }
  friend constexpr bool operator>=(const PackedOptional& a, const PackedOptional& b) noexcept {
    return !(a < b);
  }
  friend constexpr bool operator==(const PackedOptional& a, std::nullopt_t) noexcept {
    return !a.has_value();
  }
  friend constexpr bool operator==(const PackedOptional& a, const std::optional<T>& b) noexcept {
    return a == PackedOptional(b);
  }
  template <typename U, typename = std::enable_if_t<std::is_arithmetic_v<U>>>
  friend constexpr bool operator==(const PackedOptional& a, const U& b) noexcept {
    return a.has_value() && a.m_v == b;
  }
  friend std::ostream& operator<<(std::ostream& os, const PackedOptional& a) {
    if (a.has_value()) return os << a.m_v;
    return os << "nullopt";
  }

 private:
  static constexpr T none() noexcept {
    if constexpr (std::is_floating_point_v<T>)
      return std::numeric_limits<T>::quiet_NaN();
    else
      return std::numeric_limits<T>::min();
  }
  T m_v = none();
};

}  // namespace cw::engine
