#pragma once
// A websocket client (RFC 6455) for notification feeds such as Plex's
// /:/websockets/notifications. Debian 12's libcurl is built without its websocket API, so
// libcurl only connects (CURLOPT_CONNECT_ONLY: TCP, and TLS for wss/https) and this class
// speaks the protocol over curl_easy_send/curl_easy_recv: the upgrade handshake with its
// Sec-WebSocket-Accept check, masked client frames, fragmented messages, ping/pong and the
// closing handshake. It mostly receives: it sends text messages (subscriptions,
// keep-alives), pongs and a close.
//
//   auto ws = WebSocketClient::connect("http://127.0.0.1:32400/:/websockets/notifications",
//                                      {"X-Plex-Token: " + token});
//   while (auto msg = (*ws)->receive(1000)) {   // an error ends the loop: closed, broken
//     if (*msg) handle(**msg);                  // nullopt: nothing arrived within 1 s
//   }
//
// Every byte from the server is untrusted: a frame over the size limit, a masked server
// frame, a reserved opcode or a broken handshake is an error that names what was wrong.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cw/util/result.hpp>

namespace cw::scrobble {

class WebSocketClient {
 public:
  static constexpr std::size_t k_max_message = 1 << 20;  // bytes, after reassembly

  // Connects to `url` (ws://, wss://, http:// or https://) and completes the handshake.
  // `headers` are sent with the upgrade request ("Name: value"); errors name the URL
  // without its query (where a token could be).
  static Result<std::unique_ptr<WebSocketClient>> connect(const std::string& url,
                                                          const std::vector<std::string>& headers,
                                                          int timeout_ms = 10000);
  ~WebSocketClient();  // sends a close frame (best effort) and disconnects
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // The next text or binary message, or nullopt when none completed within `wait_ms`; an
  // error once the connection is over (the server closed it, or it broke).
  Result<std::optional<std::string>> receive(int wait_ms);
  // Sends one text message (a subscription, a keep-alive).
  Status send_text(std::string_view text);

  // The handshake's key and the Sec-WebSocket-Accept a server must answer it with.
  static std::string accept_for(std::string_view key);

 private:
  struct Impl;
  explicit WebSocketClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace cw::scrobble
