// cwsdk/support/result.hpp: the provider kit's one error convention.
//
// Every kit function that can fail returns `cwsdk::Result<T>`: a value, or a `Failure`
// that carries what the ABI needs to report it (a cw_status, a one-line message, the
// host's retry_after_ms) plus the per-item outcome reason the failure stands for when it
// hits a write (`not_found`, `rate_limited`, `rejected`, `quota`, `unknown`).
//
//   cwsdk::Result<cwsdk::Json> doc = cwsdk::parse_json(body, "watchlist reply");
//   if (!doc) return doc.error().reply();      // the status and error document
//   use(*doc);
//
// `value()` on a failure throws `cwsdk::Error` with the failure's status, message and
// retry_after_ms, which CWSDK_PROVIDER turns into the operation's status at the ABI edge:
// a plugin may simply write `auto doc = cwsdk::parse_json(body, "reply").value();`.
//
// Header-only, C++17, standard library and <cwsdk/provider.hpp> only.
#ifndef CWSDK_SUPPORT_RESULT_HPP
#define CWSDK_SUPPORT_RESULT_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <cwsdk/cwsdk.h>
#include <cwsdk/provider.hpp>

namespace cwsdk {

// Why one item of a write was not done (the "reason" of an unresolved outcome).
enum class Reason { not_found, rate_limited, rejected, quota, unknown };

inline std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::not_found:
      return "not_found";
    case Reason::rate_limited:
      return "rate_limited";
    case Reason::rejected:
      return "rejected";
    case Reason::quota:
      return "quota";
    case Reason::unknown:
      return "unknown";
  }
  return "unknown";
}

// The name of a status as the documents write it ("rate_limited"), for messages.
inline std::string_view status_name(cw_status s) {
  switch (s) {
    case CW_STATUS_OK:
      return "ok";
    case CW_STATUS_INVALID_ARG:
      return "invalid_arg";
    case CW_STATUS_UNSUPPORTED:
      return "unsupported";
    case CW_STATUS_AUTH:
      return "auth";
    case CW_STATUS_NOT_FOUND:
      return "not_found";
    case CW_STATUS_RATE_LIMITED:
      return "rate_limited";
    case CW_STATUS_TRANSIENT:
      return "transient";
    case CW_STATUS_INTERNAL:
      return "internal";
    case CW_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

// The outcome reason a failed call stands for when it fails the items of a write.
inline Reason reason_for_status(cw_status s) {
  switch (s) {
    case CW_STATUS_NOT_FOUND:
      return Reason::not_found;
    case CW_STATUS_RATE_LIMITED:
      return Reason::rate_limited;
    case CW_STATUS_INVALID_ARG:
      return Reason::rejected;
    default:
      return Reason::unknown;
  }
}

struct Failure {
  cw_status status = CW_STATUS_INTERNAL;
  std::string message;
  std::int64_t retry_after_ms = -1;  // >= 0: the caller should wait that long
  Reason reason = Reason::unknown;   // for per-item outcomes of a write
  int http_status = 0;               // the HTTP status it came from, 0 when none

  // A failure whose reason follows from its status.
  static Failure of(cw_status status, std::string message, std::int64_t retry_after_ms = -1) {
    Failure f;
    f.status = status;
    f.message = std::move(message);
    f.retry_after_ms = retry_after_ms;
    f.reason = reason_for_status(status);
    return f;
  }
  static Failure invalid_arg(std::string message) {
    return of(CW_STATUS_INVALID_ARG, std::move(message));
  }
  static Failure internal(std::string message) {
    return of(CW_STATUS_INTERNAL, std::move(message));
  }

  // The same failure with "<prefix>: " in front of the message.
  Failure context(std::string_view prefix) const {
    Failure f = *this;
    f.message = std::string(prefix) + ": " + message;
    return f;
  }
  // The operation's answer: this status with {"message","retry_after_ms"}.
  Reply reply() const { return Reply::error(status, message, retry_after_ms); }
  [[noreturn]] void raise() const { throw Error(status, message, retry_after_ms); }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  static_assert(!std::is_same<T, Failure>::value, "Result<Failure> is not a thing");
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}            // NOLINT: implicit
  Result(Failure failure) : m_v(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }

  // The value; on a failure, throws cwsdk::Error (see the top of this file).
  T& value() & {
    if (!ok()) error().raise();
    return std::get<0>(m_v);
  }
  const T& value() const& {
    if (!ok()) error().raise();
    return std::get<0>(m_v);
  }
  T&& value() && {
    if (!ok()) error().raise();
    return std::get<0>(std::move(m_v));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(m_v) : static_cast<T>(std::forward<U>(fallback));
  }

  // Only on a failure (checked: calling it on a value is a bug, reported as one).
  const Failure& error() const {
    if (ok()) throw Error(CW_STATUS_INTERNAL, "cwsdk::Result::error() called on a value");
    return std::get<1>(m_v);
  }

 private:
  std::variant<T, Failure> m_v;
};

// Success or a Failure, for steps that produce no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure failure) : m_failure(std::move(failure)), m_failed(true) {}  // NOLINT
  bool ok() const { return !m_failed; }
  explicit operator bool() const { return ok(); }
  void value() const {
    if (m_failed) m_failure.raise();
  }
  const Failure& error() const {
    if (!m_failed) throw Error(CW_STATUS_INTERNAL, "cwsdk::Result::error() called on success");
    return m_failure;
  }

 private:
  Failure m_failure;
  bool m_failed = false;
};

using Status = Result<void>;

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_RESULT_HPP
