#pragma once
// Result<T>: the error convention inside the host. A function that can fail for reasons
// the caller must handle returns Result<T>; exceptions are kept for fatal configuration
// errors that main() turns into an exit code. Error carries a one-line, user-facing
// message that says what failed and where.

#include <string>
#include <utility>
#include <variant>

namespace cw {

// What kind of failure an Error is. Mirrors the ABI's cw_status so that an error can
// cross the plugin boundary in either direction without losing its meaning.
enum class ErrorKind {
  invalid_arg,
  unsupported,
  auth,
  not_found,
  rate_limited,
  transient,
  internal,
  cancelled,
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::internal;
  long long retry_after_ms = -1;  // set with rate_limited/transient when known
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(m_v); }

 private:
  std::variant<T, Error> m_v;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

inline Error make_error(std::string message, ErrorKind kind = ErrorKind::internal) {
  return Error{std::move(message), kind};
}

}  // namespace cw
