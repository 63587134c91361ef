#pragma once
// A server-to-client websocket feed on cpp-httplib, which (0.11) has no websocket support:
// the upgrade request is answered 101 with its Sec-WebSocket-Accept, and the connection is
// then held by a content provider that writes each published message as a text frame.
// What the client sends after the handshake is not read (a notification feed needs none;
// a client's close is seen when the next write fails). Plex's /:/websockets/notifications
// is served on it.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

namespace cw::fakes {

class NotificationFeed {
 public:
  NotificationFeed() = default;
  ~NotificationFeed() { close(); }
  NotificationFeed(const NotificationFeed&) = delete;
  NotificationFeed& operator=(const NotificationFeed&) = delete;

  // Answers a websocket upgrade on `res` and streams every message published from now on;
  // a request that is not a websocket upgrade gets 400.
  void serve(const httplib::Request& req, httplib::Response& res);
  // Queues `text` for every open stream.
  void publish(const std::string& text);
  // Ends every stream (the server is stopping); serve() after it answers 503.
  void close();
  std::size_t streams() const;

  static std::string accept_for(std::string_view key);   // Sec-WebSocket-Accept
  static std::string text_frame(std::string_view text);  // unmasked, FIN set

 private:
  struct Stream {
    std::deque<std::string> queued;
    bool gone = false;  // the client went away
  };
  // Shared with the streams' content providers, which httplib may still run while the
  // service that owns the feed is being destroyed.
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::shared_ptr<Stream>> streams;
    bool closed = false;
  };
  std::shared_ptr<State> m_state = std::make_shared<State>();
};

}  // namespace cw::fakes
