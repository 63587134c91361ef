#include "core/websocket_feed.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>

#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>

namespace cw::fakes {
namespace {

bool has_token(const std::string& header, const std::string& token) {
  std::string h = header;
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h.find(token) != std::string::npos;
}

int port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The server's end of the request's connection, found by its local and remote ports (the
// client's end, when it is in this process too, has them the other way round).
int connection_fd(const httplib::Request& req) {
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (port_of(local) == req.local_port && port_of(peer) == req.remote_port) return fd;
  }
  return -1;
}

std::string frame(std::uint8_t opcode, std::string_view payload) {
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    f += static_cast<char>(payload.size());
  } else if (payload.size() <= 0xffff) {
    f += static_cast<char>(126);
    f += static_cast<char>((payload.size() >> 8) & 0xff);
    f += static_cast<char>(payload.size() & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      f += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xff);
  }
  f += payload;
  return f;
}

}  // namespace

std::string NotificationFeed::accept_for(std::string_view key) {
  const std::string text = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string NotificationFeed::text_frame(std::string_view text) { return frame(0x1, text); }

// Reads what the client sent and answers it: its text messages go to on_message, a ping
// gets its pong, a close (or the connection's end) ends the stream. Called with `lock` held;
// releases it around on_message.
void NotificationFeed::read_client(Stream& stream, std::unique_lock<std::mutex>& lock) {
  char buf[4096];
  const ssize_t n = ::recv(stream.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) stream.gone = true;
  if (n <= 0) return;
  stream.in.append(buf, static_cast<std::size_t>(n));
  while (stream.in.size() >= 2 && !stream.gone) {
    const auto b0 = static_cast<unsigned char>(stream.in[0]);
    const auto b1 = static_cast<unsigned char>(stream.in[1]);
    std::size_t header = 2;
    std::uint64_t size = b1 & 0x7f;
    if (size == 126) header = 4;
    if (size == 127) header = 10;
    if ((b1 & 0x80) == 0 || stream.in.size() < header + 4) {
      if ((b1 & 0x80) == 0) stream.gone = true;  // RFC 6455: a client frame is masked
      return;
    }
    if (header > 2) {
      size = 0;
      for (std::size_t i = 2; i < header; ++i)
        size = (size << 8) | static_cast<unsigned char>(stream.in[i]);
    }
    if (size > (1u << 20)) {
      stream.gone = true;
      return;
    }
    if (stream.in.size() < header + 4 + size) return;
    const std::string mask = stream.in.substr(header, 4);
    std::string payload = stream.in.substr(header + 4, static_cast<std::size_t>(size));
    stream.in.erase(0, header + 4 + static_cast<std::size_t>(size));
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    const std::uint8_t opcode = b0 & 0x0f;
    if (opcode == 0x8) {
      stream.frames.push_back(frame(0x8, payload.substr(0, 2)));
      stream.gone = true;  // after the close is written back
    } else if (opcode == 0x9) {
      stream.frames.push_back(frame(0xA, payload));
    } else if (opcode == 0x1 && stream.on_message) {
      std::set<std::string> topics = stream.topics;
      lock.unlock();
      const auto replies = stream.on_message(payload, topics);
      lock.lock();
      stream.topics = std::move(topics);
      for (const auto& r : replies) stream.frames.push_back(text_frame(r));
    }
  }
}

void NotificationFeed::serve(const httplib::Request& req, httplib::Response& res,
                             OnMessage on_message, std::vector<std::string> greeting) {
  const std::string key = req.get_header_value("Sec-WebSocket-Key");
  if (!has_token(req.get_header_value("Upgrade"), "websocket") ||
      !has_token(req.get_header_value("Connection"), "upgrade") || key.empty() ||
      req.get_header_value("Sec-WebSocket-Version") != "13") {
    res.status = 400;
    res.set_content("Not a websocket upgrade request", "text/plain");
    return;
  }
  auto stream = std::make_shared<Stream>();
  stream->fd = connection_fd(req);
  stream->on_message = std::move(on_message);
  for (const auto& g : greeting) stream->frames.push_back(text_frame(g));
  {
    std::lock_guard lock(m_state->mutex);
    if (m_state->closed) {
      res.status = 503;
      return;
    }
    m_state->streams.push_back(stream);
  }
  res.status = 101;
  res.set_header("Upgrade", "websocket");
  res.set_header("Connection", "Upgrade");
  res.set_header("Sec-WebSocket-Accept", accept_for(key));
  // Runs on the connection's thread after the handler returned (outside the service's
  // lock) for as long as the stream lives; returning false drops the connection.
  res.set_content_provider(
      "application/octet-stream", [state = m_state, stream](std::size_t, httplib::DataSink& sink) {
        if (stream->fd >= 0) {
          pollfd p{stream->fd, POLLIN, 0};
          ::poll(&p, 1, 50);
        }
        std::unique_lock lock(state->mutex);
        if (stream->fd >= 0) {
          read_client(*stream, lock);
        } else {
          state->cv.wait_for(lock, std::chrono::milliseconds(250),
                             [&] { return state->closed || !stream->frames.empty(); });
        }
        while (!state->closed && !stream->frames.empty()) {
          const std::string f = std::move(stream->frames.front());
          stream->frames.pop_front();
          lock.unlock();
          const bool ok = sink.write(f.data(), f.size());
          lock.lock();
          if (!ok) stream->gone = true;
        }
        if (state->closed || stream->gone || !sink.is_writable()) {
          auto& all = state->streams;
          all.erase(std::remove(all.begin(), all.end(), stream), all.end());
          return false;
        }
        return true;
      });
}

void NotificationFeed::publish(const std::string& text, const std::string& topic) {
  {
    std::lock_guard lock(m_state->mutex);
    for (auto& s : m_state->streams)
      if (topic.empty() || s->topics.count(topic)) s->frames.push_back(text_frame(text));
  }
  m_state->cv.notify_all();
}

void NotificationFeed::close() {
  {
    std::lock_guard lock(m_state->mutex);
    m_state->closed = true;
  }
  m_state->cv.notify_all();
}

std::size_t NotificationFeed::streams() const {
  std::lock_guard lock(m_state->mutex);
  return m_state->streams.size();
}

}  // namespace cw::fakes
