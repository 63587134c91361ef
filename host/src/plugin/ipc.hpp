#pragma once
// The wire between cw and an isolated plugin's process (cw-plugin-runner): one Unix stream
// socket pair, the child's end on file descriptor 3. Both directions carry frames:
//
//   u32 header length | header: a JSON object | u64 payload length | payload: raw bytes
//
// lengths little-endian. The header says what the frame is ("m") and carries small values;
// documents (requests, replies, HTTP bodies, kv values) travel raw in the payload, never
// escaped into JSON. The messages are listed in sdk/ABI.md ("Isolated plugins").
//
// Shared by the host (plugin_process.cpp) and the runner, so it depends on nothing but
// POSIX and nlohmann/json.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cw::plugin::ipc {

// The child's end of the socket.
inline constexpr int k_child_fd = 3;
// Limits a reader enforces before it allocates: a header is a few small values.
inline constexpr std::uint32_t k_max_header_bytes = 1u << 20;
inline constexpr std::uint64_t k_max_payload_bytes = std::uint64_t{2} << 30;

// Set in the child's environment: a plugin may look at it, it never needs to.
inline constexpr const char* k_isolated_env = "CW_PLUGIN_ISOLATED";

enum class ReadStatus { ok, eof, timeout, bad_frame };

// One end of the socket. Not thread-safe: the runner serialises its writers, the host has
// one caller at a time per plugin.
class Channel {
 public:
  explicit Channel(int fd) : m_fd(fd) {}

  // Sends one frame whose payload is `a` followed by `b`. False when the peer is gone.
  bool send(const nlohmann::json& head, std::string_view a = {}, std::string_view b = {});

  // Called while a read waits; returns the milliseconds it may still wait (<= 0: give up
  // with ReadStatus::timeout). Without one, reads wait for ever.
  using WaitBudget = std::function<long long()>;
  void set_wait_budget(WaitBudget budget) { m_budget = std::move(budget); }

  // Reads the next frame's header and the length of its payload, which the caller must
  // then consume with read_payload (or skip_payload).
  ReadStatus read_head(nlohmann::json& head, std::uint64_t& payload_len);
  // Reads `len` payload bytes, handing them to `sink` in chunks.
  ReadStatus read_payload(std::uint64_t len,
                          const std::function<void(const char*, std::size_t)>& sink);
  ReadStatus read_payload(std::uint64_t len, std::string& out);
  // Reads `len` payload bytes into `out`, which has room for them: what is buffered is
  // copied, the rest is read from the socket straight into `out` (no second copy).
  ReadStatus read_payload_into(std::uint64_t len, char* out);

 private:
  ReadStatus wait_readable();  // the budget's poll; ok at once without a budget
  ReadStatus fill();           // at least one more byte into the buffer
  ReadStatus read_exact(char* out, std::size_t n);

  int m_fd;
  WaitBudget m_budget;
  std::string m_buf;  // bytes read but not consumed: [m_pos, m_end)
  std::size_t m_pos = 0;
  std::size_t m_end = 0;
};

}  // namespace cw::plugin::ipc
