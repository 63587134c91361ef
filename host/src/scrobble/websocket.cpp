#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>

#include <cw/scrobble/websocket.hpp>
#include <cw/util/strings.hpp>

namespace cw::scrobble {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_max_header_bytes = 16 * 1024;

enum Opcode : std::uint8_t {
  op_continuation = 0x0,
  op_text = 0x1,
  op_binary = 0x2,
  op_close = 0x8,
  op_ping = 0x9,
  op_pong = 0xA,
};

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60000));
}

// The URL as libcurl connects to it (http/https), and what the request line and Host header
// need. The scheme is swapped by hand: this libcurl does not know ws:// at all.
struct Target {
  std::string connect_url, host_header, path_and_query, shown;
};

Result<Target> parse_target(const std::string& url) {
  std::string http = url;
  if (http.rfind("ws://", 0) == 0) http = "http://" + http.substr(5);
  if (http.rfind("wss://", 0) == 0) http = "https://" + http.substr(6);
  CURLU* h = curl_url();
  if (h == nullptr) return make_error("websocket: out of memory");
  Target t;
  auto part = [&](CURLUPart which, unsigned flags = 0) -> std::string {
    char* v = nullptr;
    if (curl_url_get(h, which, &v, flags) != CURLUE_OK || v == nullptr) return {};
    std::string s = v;
    curl_free(v);
    return s;
  };
  const bool ok = curl_url_set(h, CURLUPART_URL, http.c_str(), 0) == CURLUE_OK;
  const std::string scheme = ok ? part(CURLUPART_SCHEME) : "";
  if (ok && (scheme == "http" || scheme == "https")) {
    const std::string host = part(CURLUPART_HOST);
    const std::string port = part(CURLUPART_PORT);  // empty unless the URL names one
    const std::string path = part(CURLUPART_PATH);
    const std::string query = part(CURLUPART_QUERY);
    t.host_header = port.empty() ? host : host + ":" + port;
    t.path_and_query = (path.empty() ? "/" : path) + (query.empty() ? "" : "?" + query);
    t.shown = scheme + "://" + t.host_header + (path.empty() ? "/" : path);
    t.connect_url = scheme + "://" + t.host_header + "/";
  }
  curl_url_cleanup(h);
  if (t.connect_url.empty())
    return make_error("websocket: '" + url.substr(0, url.find('?')) +
                          "' is not a ws://, wss://, http:// or https:// URL",
                      ErrorKind::invalid_arg);
  return t;
}

}  // namespace

struct WebSocketClient::Impl {
  CURL* curl = nullptr;
  std::string shown;    // the URL for messages, without its query
  std::string in;       // bytes received and not yet consumed
  std::string message;  // a fragmented message being reassembled
  bool in_message = false;
  bool closed = false;

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  int socket() const {
    curl_socket_t s = CURL_SOCKET_BAD;
    curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &s);
    return static_cast<int>(s);
  }

  bool wait_for(short events, int ms) const {
    pollfd p{socket(), events, 0};
    return ::poll(&p, 1, ms) > 0;
  }

  Status send_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      std::size_t sent = 0;
      const CURLcode rc = curl_easy_send(curl, data.data(), data.size(), &sent);
      if (rc == CURLE_AGAIN) {
        if (remaining_ms(deadline) == 0)
          return make_error("websocket " + shown + ": sending timed out", ErrorKind::transient);
        wait_for(POLLOUT, remaining_ms(deadline));
        continue;
      }
      if (rc != CURLE_OK)
        return make_error("websocket " + shown + ": " + curl_easy_strerror(rc),
                          ErrorKind::transient);
      data.remove_prefix(sent);
    }
    return ok_status();
  }

  // Reads what has arrived into `in`, waiting until `deadline` for something. False with no
  // error when nothing came in time.
  Result<bool> fill(Clock::time_point deadline) {
    char buf[16384];
    while (true) {
      std::size_t n = 0;
      const CURLcode rc = curl_easy_recv(curl, buf, sizeof buf, &n);
      if (rc == CURLE_OK && n == 0) {
        closed = true;
        return make_error("websocket " + shown + ": the server closed the connection",
                          ErrorKind::transient);
      }
      if (rc == CURLE_OK) {
        in.append(buf, n);
        return true;
      }
      if (rc != CURLE_AGAIN) {
        closed = true;
        return make_error("websocket " + shown + ": " + curl_easy_strerror(rc),
                          ErrorKind::transient);
      }
      const int left = remaining_ms(deadline);
      if (left == 0 || !wait_for(POLLIN, left)) return false;
    }
  }

  // One client frame: always masked (RFC 6455 5.3), with a fresh mask.
  Status send_frame(std::uint8_t opcode, std::string_view payload) {
    std::string f;
    f += static_cast<char>(0x80 | opcode);
    if (payload.size() < 126) {
      f += static_cast<char>(0x80 | payload.size());
    } else if (payload.size() <= 0xffff) {
      f += static_cast<char>(0x80 | 126);
      f += static_cast<char>((payload.size() >> 8) & 0xff);
      f += static_cast<char>(payload.size() & 0xff);
    } else {
      f += static_cast<char>(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8)
        f += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xff);
    }
    unsigned char mask[4] = {0, 0, 0, 0};
    RAND_bytes(mask, sizeof mask);
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
      f += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
    return send_all(f, Clock::now() + std::chrono::seconds(5));
  }

  Error protocol_error(const std::string& what) {
    closed = true;
    return make_error("websocket " + shown + ": " + what, ErrorKind::internal);
  }
};

WebSocketClient::WebSocketClient(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

WebSocketClient::~WebSocketClient() {
  if (m_impl && !m_impl->closed) {
    const char normal[2] = {0x03, static_cast<char>(0xE8)};  // 1000: normal closure
    (void)m_impl->send_frame(op_close, std::string_view(normal, 2));
  }
}

std::string WebSocketClient::accept_for(std::string_view key) {
  static constexpr std::string_view k_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const std::string text = std::string(key) + std::string(k_guid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
  return base64(digest, size);
}

Result<std::unique_ptr<WebSocketClient>> WebSocketClient::connect(
    const std::string& url, const std::vector<std::string>& headers, int timeout_ms) {
  auto target = parse_target(url);
  if (!target) return target.error();
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto impl = std::make_unique<Impl>();
  impl->shown = target->shown;
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return make_error("websocket: curl_easy_init failed");
  curl_easy_setopt(impl->curl, CURLOPT_URL, target->connect_url.c_str());
  curl_easy_setopt(impl->curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(impl->curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(impl->curl, CURLOPT_NOSIGNAL, 1L);
  if (const CURLcode rc = curl_easy_perform(impl->curl); rc != CURLE_OK)
    return make_error("websocket " + impl->shown + ": " + curl_easy_strerror(rc),
                      ErrorKind::transient);

  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return make_error("websocket: no random bytes");
  const std::string key = base64(nonce, sizeof nonce);
  std::string request = "GET " + target->path_and_query +
                        " HTTP/1.1\r\nHost: " + target->host_header +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: " +
                        key + "\r\nSec-WebSocket-Version: 13\r\n";
  for (const auto& h : headers) request += h + "\r\n";
  request += "\r\n";
  if (auto sent = impl->send_all(request, deadline); !sent) return sent.error();

  std::size_t end = std::string::npos;
  while ((end = impl->in.find("\r\n\r\n")) == std::string::npos) {
    if (impl->in.size() > k_max_header_bytes)
      return impl->protocol_error("the handshake reply's headers exceed 16 KiB");
    auto got = impl->fill(deadline);
    if (!got) return got.error();
    if (!*got)
      return make_error("websocket " + impl->shown + ": no handshake reply within " +
                            std::to_string(timeout_ms) + " ms",
                        ErrorKind::transient);
  }
  const std::string head = impl->in.substr(0, end);
  impl->in.erase(0, end + 4);  // what follows is already frames
  const std::string status_line = head.substr(0, head.find("\r\n"));
  const auto sp = status_line.find(' ');
  const int status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
  if (status != 101) {
    const ErrorKind kind = status == 401 || status == 403 ? ErrorKind::auth
                           : status == 404                ? ErrorKind::not_found
                                                          : ErrorKind::transient;
    impl->closed = true;
    return make_error("websocket " + impl->shown + ": HTTP " + std::to_string(status) +
                          " instead of 101 Switching Protocols",
                      kind);
  }
  std::string upgrade, accept;
  for (std::size_t at = head.find("\r\n"); at != std::string::npos;) {
    const std::size_t next = head.find("\r\n", at + 2);
    const std::string line =
        head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      const std::string name = util::to_lower(util::trim(line.substr(0, colon)));
      if (name == "upgrade") upgrade = util::to_lower(util::trim(line.substr(colon + 1)));
      if (name == "sec-websocket-accept") accept = util::trim(line.substr(colon + 1));
    }
    at = next;
  }
  if (upgrade != "websocket")
    return impl->protocol_error("the handshake reply does not upgrade to websocket");
  if (accept != accept_for(key))
    return impl->protocol_error("the handshake reply's Sec-WebSocket-Accept does not match");
  return std::unique_ptr<WebSocketClient>(new WebSocketClient(std::move(impl)));
}

Status WebSocketClient::send_text(std::string_view text) {
  if (m_impl->closed)
    return make_error("websocket " + m_impl->shown + ": closed", ErrorKind::transient);
  return m_impl->send_frame(op_text, text);
}

Result<std::optional<std::string>> WebSocketClient::receive(int wait_ms) {
  Impl& s = *m_impl;
  if (s.closed) return make_error("websocket " + s.shown + ": closed", ErrorKind::transient);
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(wait_ms, 0));
  while (true) {
    // A whole frame in `in`?
    if (s.in.size() >= 2) {
      const auto b0 = static_cast<unsigned char>(s.in[0]);
      const auto b1 = static_cast<unsigned char>(s.in[1]);
      const bool fin = (b0 & 0x80) != 0;
      const std::uint8_t opcode = b0 & 0x0f;
      std::size_t header = 2;
      std::uint64_t size = b1 & 0x7f;
      if ((b0 & 0x70) != 0) return s.protocol_error("a frame sets reserved bits");
      if ((b1 & 0x80) != 0) return s.protocol_error("the server sent a masked frame");
      if (size == 126) header = 4;
      if (size == 127) header = 10;
      if (s.in.size() >= header) {
        if (header > 2) {
          size = 0;
          for (std::size_t i = 2; i < header; ++i)
            size = (size << 8) | static_cast<unsigned char>(s.in[i]);
        }
        const bool control = (opcode & 0x8) != 0;
        if (control && (size > 125 || !fin))
          return s.protocol_error("a control frame is fragmented or longer than 125 bytes");
        if ((s.in_message ? s.message.size() : 0) + size > k_max_message)
          return s.protocol_error("a message exceeds " + std::to_string(k_max_message) + " bytes");
        if (s.in.size() >= header + size) {
          std::string payload = s.in.substr(header, static_cast<std::size_t>(size));
          s.in.erase(0, header + static_cast<std::size_t>(size));
          switch (opcode) {
            case op_ping:
              if (auto r = s.send_frame(op_pong, payload); !r) return r.error();
              continue;
            case op_pong:
              continue;
            case op_close: {
              const int code = payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8) |
                                                         static_cast<unsigned char>(payload[1])
                                                   : 1005;
              (void)s.send_frame(op_close,
                                 payload.substr(0, std::min<std::size_t>(2, payload.size())));
              s.closed = true;
              return make_error("websocket " + s.shown + ": the server closed the stream (code " +
                                    std::to_string(code) + ")",
                                ErrorKind::transient);
            }
            case op_text:
            case op_binary:
              if (s.in_message)
                return s.protocol_error("a new message began inside a fragmented one");
              s.message = std::move(payload);
              s.in_message = true;
              break;
            case op_continuation:
              if (!s.in_message)
                return s.protocol_error("a continuation frame arrived outside a message");
              s.message += payload;
              break;
            default:
              return s.protocol_error("a frame has the reserved opcode " + std::to_string(opcode));
          }
          if (fin) {
            s.in_message = false;
            return std::optional<std::string>(std::move(s.message));
          }
          continue;
        }
      }
    }
    auto got = s.fill(deadline);
    if (!got) return got.error();
    if (!*got) return std::optional<std::string>();
  }
}

}  // namespace cw::scrobble
