#include <csignal>

#include <cw/services/cancel/cancel_token.hpp>

namespace cw::services {
namespace {

// Lock-free, so reading and writing it from a signal handler is async-signal-safe.
std::atomic<bool> g_cancel_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void cw_on_cancel_signal(int sig) {
  if (g_cancel_requested.exchange(true)) {
    // Second signal: give the user the default behaviour (terminate now). signal() and
    // raise() are async-signal-safe.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

SignalCancelToken& SignalCancelToken::instance() {
  static SignalCancelToken token;
  return token;
}

bool SignalCancelToken::cancelled() const { return g_cancel_requested.load(); }

void SignalCancelToken::install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = &cw_on_cancel_signal;
  sigemptyset(&action.sa_mask);
  // Restart interrupted system calls; the flag is polled, not waited on.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void SignalCancelToken::reset() { g_cancel_requested.store(false); }

void SignalCancelToken::request() { g_cancel_requested.store(true); }

}  // namespace cw::services
