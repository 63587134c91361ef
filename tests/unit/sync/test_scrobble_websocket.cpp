// The websocket client (host/src/scrobble/websocket.cpp) against a raw TCP server on
// loopback that writes exactly the bytes each case needs: fragments, control frames and
// the closing handshake, then a broken handshake and hostile frames.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cw/scrobble/websocket.hpp>

namespace cw::scrobble {
namespace {

// One connection: reads the upgrade request, then hands the socket and the client's key to
// `script` on its own thread.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd, const std::string& key)> script) {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    ::listen(m_listen, 1);
    m_thread = std::thread([this, script = std::move(script)] {
      const int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      char c = 0;
      while (request.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1) request += c;
      m_request = request;
      const std::string name = "Sec-WebSocket-Key: ";
      const auto at = request.find(name);
      const std::string key =
          at == std::string::npos
              ? ""
              : request.substr(at + name.size(), request.find("\r\n", at) - at - name.size());
      script(fd, key);
      ::close(fd);
    });
  }
  ~RawServer() {
    ::shutdown(m_listen, SHUT_RDWR);
    m_thread.join();
    ::close(m_listen);
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(m_port) + "/feed?k=secret"; }
  const std::string& request() const { return m_request; }  // read after the client is done

 private:
  int m_listen = -1;
  int m_port = 0;
  std::string m_request;
  std::thread m_thread;
};

void write_all(int fd, const std::string& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::string frame(unsigned char first, const std::string& payload) {
  std::string f(1, static_cast<char>(first));
  if (payload.size() < 126) {
    f += static_cast<char>(payload.size());
  } else {
    f += static_cast<char>(126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  }
  return f + payload;
}

std::string upgraded(const std::string& key) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         WebSocketClient::accept_for(key) + "\r\n\r\n";
}

// A frame the client sent: its opcode and unmasked payload (client frames must be masked).
struct ClientFrame {
  int opcode = -1;
  std::string payload;
};

ClientFrame read_client_frame(int fd) {
  unsigned char head[2];
  if (::read(fd, head, 2) != 2) return {};
  ClientFrame f;
  f.opcode = head[0] & 0x0f;
  EXPECT_TRUE(head[1] & 0x80) << "a client frame without a mask";
  const std::size_t size = head[1] & 0x7f;
  unsigned char mask[4];
  EXPECT_EQ(::read(fd, mask, 4), 4);
  f.payload.resize(size);
  if (size > 0) {
    EXPECT_EQ(::read(fd, f.payload.data(), size), static_cast<ssize_t>(size));
  }
  for (std::size_t i = 0; i < size; ++i)
    f.payload[i] = static_cast<char>(static_cast<unsigned char>(f.payload[i]) ^ mask[i % 4]);
  return f;
}

TEST(WebSocket, AcceptMatchesTheRfcExample) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(WebSocketClient::accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, ReassemblesFragmentsAnswersPingsAndClosesAsAsked) {
  ClientFrame pong, close;
  auto server = std::make_unique<RawServer>([&](int fd, const std::string& key) {
    write_all(fd, upgraded(key) + frame(0x89, "p1") + frame(0x01, "hel"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a message split in time too
    write_all(fd, frame(0x80, "lo") + frame(0x81, std::string(300, 'x')) +
                      frame(0x88, std::string("\x03\xe9", 2) + "going away"));
    pong = read_client_frame(fd);
    close = read_client_frame(fd);
  });
  auto ws = WebSocketClient::connect(server->url(), {"X-Plex-Token: abc"});
  ASSERT_TRUE(ws) << ws.error().message;
  auto first = (*ws)->receive(5000);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(*first);
  EXPECT_EQ(**first, "hello");
  auto second = (*ws)->receive(5000);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->size(), 300u);
  auto end = (*ws)->receive(5000);
  ASSERT_FALSE(end);
  EXPECT_NE(end.error().message.find("code 1001"), std::string::npos) << end.error().message;
  EXPECT_FALSE((*ws)->receive(10));  // over
  server.reset();                    // joins: the frames the client sent have been read
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "p1");
  EXPECT_EQ(close.opcode, 0x8);
  EXPECT_EQ(close.payload, std::string("\x03\xe9", 2));
}

TEST(WebSocket, SendsTheUpgradeRequestWithItsHeadersAndWaitsQuietly) {
  RawServer server([&](int fd, const std::string& key) {
    write_all(fd, upgraded(key));
    char c;
    (void)::read(fd, &c, 1);  // until the client closes
  });
  {
    auto ws = WebSocketClient::connect(server.url(), {"X-Plex-Token: abc"});
    ASSERT_TRUE(ws) << ws.error().message;
    auto nothing = (*ws)->receive(50);
    ASSERT_TRUE(nothing);
    EXPECT_FALSE(*nothing);  // no message, no error
  }
  const std::string& req = server.request();
  EXPECT_EQ(req.rfind("GET /feed?k=secret HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Upgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(req.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(req.find("X-Plex-Token: abc\r\n"), std::string::npos);
}

TEST(WebSocket, RefusesBrokenHandshakesAndHostileFrames) {
  struct Case {
    const char* name;
    std::function<std::string(const std::string& key)> reply;
    const char* error;
  };
  const std::string big(WebSocketClient::k_max_message + 1, 'x');
  const Case cases[] = {
      {"wrong accept",
       [](const std::string&) {
         return std::string(
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             "Sec-WebSocket-Accept: bm9wZQ==\r\n\r\n");
       },
       "Sec-WebSocket-Accept does not match"},
      {"refused",
       [](const std::string&) { return std::string("HTTP/1.1 401 Unauthorized\r\n\r\n"); },
       "HTTP 401"},
      {"masked server frame",
       [](const std::string& key) { return upgraded(key) + "\x81\x81" + "abcdz"; }, "masked frame"},
      {"oversized",
       [](const std::string& key) {
         std::string f = upgraded(key) + "\x81\x7f";
         for (int shift = 56; shift >= 0; shift -= 8)
           f += static_cast<char>(
               (static_cast<std::uint64_t>(WebSocketClient::k_max_message + 1) >> shift) & 0xff);
         return f;
       },
       "exceeds"},
      {"reserved opcode", [](const std::string& key) { return upgraded(key) + frame(0x83, "x"); },
       "reserved opcode 3"},
      {"stray continuation",
       [](const std::string& key) { return upgraded(key) + frame(0x80, "x"); },
       "continuation frame"},
      {"cut off", [](const std::string& key) { return upgraded(key) + "\x81\x05he"; },
       "closed the connection"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RawServer server([&](int fd, const std::string& key) { write_all(fd, c.reply(key)); });
    auto ws = WebSocketClient::connect(server.url(), {});
    std::string error;
    if (!ws) {
      error = ws.error().message;
    } else {
      auto msg = (*ws)->receive(5000);
      ASSERT_FALSE(msg);
      error = msg.error().message;
    }
    EXPECT_NE(error.find(c.error), std::string::npos) << error;
    EXPECT_EQ(error.find("secret"), std::string::npos) << "the query is not shown: " << error;
  }
  auto bad = WebSocketClient::connect("ftp://127.0.0.1/", {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_arg);
}

}  // namespace
}  // namespace cw::scrobble
