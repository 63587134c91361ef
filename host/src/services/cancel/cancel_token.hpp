#pragma once
// CancelToken: "the user asked us to stop" (cw_host_api.is_cancelled). The process-wide
// token is set by SIGINT/SIGTERM; tests use FlagCancelToken and set it themselves.

#include <atomic>

namespace cw::services {

class CancelToken {
 public:
  virtual ~CancelToken() = default;
  virtual bool cancelled() const = 0;
};

// A token the owner sets. Thread-safe.
class FlagCancelToken final : public CancelToken {
 public:
  bool cancelled() const override { return m_flag.load(std::memory_order_relaxed); }
  void cancel() { m_flag.store(true, std::memory_order_relaxed); }
  void reset() { m_flag.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> m_flag{false};
};

// The process-wide token, set from the signal handlers that install_signal_handlers()
// installs. The first SIGINT/SIGTERM sets the flag so the run can commit what is settled
// and stop; a second one of the same kind terminates the process at once (the default
// action), for a user who does not want to wait.
class SignalCancelToken final : public CancelToken {
 public:
  static SignalCancelToken& instance();
  bool cancelled() const override;
  // Idempotent. Call once from main before any work starts.
  static void install_signal_handlers();
  // Clears the flag (tests; a long-lived process between runs).
  static void reset();
  // What the handler does, callable from tests without raising a signal.
  static void request();

 private:
  SignalCancelToken() = default;
};

}  // namespace cw::services
