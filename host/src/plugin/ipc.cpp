#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cw/plugin/ipc.hpp>

namespace cw::plugin::ipc {

namespace {

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

// MSG_NOSIGNAL: a peer that died must be an error here, not a SIGPIPE that kills cw.
bool send_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

constexpr std::size_t k_read_chunk = std::size_t{256} << 10;

}  // namespace

bool Channel::send(const nlohmann::json& head, std::string_view a, std::string_view b) {
  const std::string h = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Small frames go out in one write; a large payload is written from where it lies.
  std::string frame;
  frame.reserve(12 + h.size() + (a.size() + b.size() < 65536 ? a.size() + b.size() : 0));
  put_le(frame, h.size(), 4);
  frame += h;
  put_le(frame, a.size() + b.size(), 8);
  if (a.size() + b.size() < 65536) {
    frame.append(a);
    frame.append(b);
    return send_all(m_fd, frame.data(), frame.size());
  }
  return send_all(m_fd, frame.data(), frame.size()) && send_all(m_fd, a.data(), a.size()) &&
         send_all(m_fd, b.data(), b.size());
}

ReadStatus Channel::wait_readable() {
  if (!m_budget) return ReadStatus::ok;
  for (;;) {
    const long long wait = m_budget();
    if (wait <= 0) return ReadStatus::timeout;
    pollfd p{m_fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(wait, 250)));
    if (r < 0 && errno != EINTR) return ReadStatus::eof;
    if (r > 0) return ReadStatus::ok;
    // Timed out or interrupted: the budget is asked again, it may have run out.
  }
}

ReadStatus Channel::fill() {
  // Called only when everything buffered was consumed.
  m_pos = m_end = 0;
  if (m_buf.size() < k_read_chunk) m_buf.resize(k_read_chunk);
  for (;;) {
    if (const ReadStatus s = wait_readable(); s != ReadStatus::ok) return s;
    const ssize_t n = ::read(m_fd, m_buf.data(), m_buf.size());
    if (n > 0) {
      m_end = static_cast<std::size_t>(n);
      return ReadStatus::ok;
    }
    if (n < 0 && errno == EINTR) continue;
    return ReadStatus::eof;
  }
}

ReadStatus Channel::read_exact(char* out, std::size_t n) {
  while (n > 0) {
    if (m_pos == m_end && n >= k_read_chunk) {
      // Nothing buffered and much to read: straight into `out`.
      if (const ReadStatus s = wait_readable(); s != ReadStatus::ok) return s;
      const ssize_t got = ::read(m_fd, out, n);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return ReadStatus::eof;
      out += got;
      n -= static_cast<std::size_t>(got);
      continue;
    }
    if (m_pos == m_end)
      if (const ReadStatus s = fill(); s != ReadStatus::ok) return s;
    const std::size_t take = std::min(n, m_end - m_pos);
    std::memcpy(out, m_buf.data() + m_pos, take);
    m_pos += take;
    out += take;
    n -= take;
  }
  return ReadStatus::ok;
}

ReadStatus Channel::read_head(nlohmann::json& head, std::uint64_t& payload_len) {
  char len4[4];
  if (const ReadStatus s = read_exact(len4, 4); s != ReadStatus::ok) return s;
  const auto hlen = static_cast<std::uint32_t>(get_le(len4, 4));
  if (hlen > k_max_header_bytes) return ReadStatus::bad_frame;
  std::string text(hlen, '\0');
  if (const ReadStatus s = read_exact(text.data(), hlen); s != ReadStatus::ok) return s;
  char len8[8];
  if (const ReadStatus s = read_exact(len8, 8); s != ReadStatus::ok) return s;
  payload_len = get_le(len8, 8);
  if (payload_len > k_max_payload_bytes) return ReadStatus::bad_frame;
  head = nlohmann::json::parse(text, nullptr, false);
  if (head.is_discarded() || !head.is_object()) return ReadStatus::bad_frame;
  return ReadStatus::ok;
}

ReadStatus Channel::read_payload(std::uint64_t len,
                                 const std::function<void(const char*, std::size_t)>& sink) {
  while (len > 0) {
    if (m_pos == m_end)
      if (const ReadStatus s = fill(); s != ReadStatus::ok) return s;
    const std::size_t take = static_cast<std::size_t>(
        std::min<std::uint64_t>(len, static_cast<std::uint64_t>(m_end - m_pos)));
    sink(m_buf.data() + m_pos, take);
    m_pos += take;
    len -= take;
  }
  return ReadStatus::ok;
}

ReadStatus Channel::read_payload(std::uint64_t len, std::string& out) {
  out.clear();
  // A request or a host reply, from a peer that announced its length; beyond 64 MiB it is
  // taken piece by piece, so that a lying length cannot make this allocate 2 GiB at once.
  if (len > (std::uint64_t{64} << 20))
    return read_payload(len, [&out](const char* p, std::size_t n) { out.append(p, n); });
  out.resize(static_cast<std::size_t>(len));
  return read_exact(out.data(), out.size());
}

ReadStatus Channel::read_payload_into(std::uint64_t len, char* out) {
  return read_exact(out, static_cast<std::size_t>(len));
}

}  // namespace cw::plugin::ipc
