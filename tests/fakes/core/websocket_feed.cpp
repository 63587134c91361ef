#include "core/websocket_feed.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <openssl/evp.h>

namespace cw::fakes {
namespace {

bool has_token(const std::string& header, const std::string& token) {
  std::string h = header;
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h.find(token) != std::string::npos;
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

std::string NotificationFeed::text_frame(std::string_view text) {
  std::string f;
  f += static_cast<char>(0x81);
  if (text.size() < 126) {
    f += static_cast<char>(text.size());
  } else if (text.size() <= 0xffff) {
    f += static_cast<char>(126);
    f += static_cast<char>((text.size() >> 8) & 0xff);
    f += static_cast<char>(text.size() & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      f += static_cast<char>((static_cast<std::uint64_t>(text.size()) >> shift) & 0xff);
  }
  f += text;
  return f;
}

void NotificationFeed::serve(const httplib::Request& req, httplib::Response& res) {
  const std::string key = req.get_header_value("Sec-WebSocket-Key");
  if (!has_token(req.get_header_value("Upgrade"), "websocket") ||
      !has_token(req.get_header_value("Connection"), "upgrade") || key.empty() ||
      req.get_header_value("Sec-WebSocket-Version") != "13") {
    res.status = 400;
    res.set_content("Not a websocket upgrade request", "text/plain");
    return;
  }
  auto stream = std::make_shared<Stream>();
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
        std::unique_lock lock(state->mutex);
        state->cv.wait_for(lock, std::chrono::milliseconds(250),
                           [&] { return state->closed || !stream->queued.empty(); });
        while (!state->closed && !stream->queued.empty()) {
          const std::string frame = text_frame(stream->queued.front());
          stream->queued.pop_front();
          lock.unlock();
          const bool ok = sink.write(frame.data(), frame.size());
          lock.lock();
          if (!ok) stream->gone = true;
          if (stream->gone) break;
        }
        if (state->closed || stream->gone || !sink.is_writable()) {
          auto& all = state->streams;
          all.erase(std::remove(all.begin(), all.end(), stream), all.end());
          return false;
        }
        return true;
      });
}

void NotificationFeed::publish(const std::string& text) {
  {
    std::lock_guard lock(m_state->mutex);
    for (auto& s : m_state->streams) s->queued.push_back(text);
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
