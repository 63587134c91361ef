#pragma once
// A websocket feed on cpp-httplib, which (0.11) has no websocket support: the upgrade
// request is answered 101 with its Sec-WebSocket-Accept, and the connection is then held by
// a content provider that writes each published message as a text frame and reads what the
// client sends (httplib does not hand handlers the socket, so the feed finds it by the
// connection's two ports). Plex's /:/websockets/notifications (server to client only) and
// Jellyfin's /socket and Emby's /embywebsocket (the client subscribes with SessionsStart and
// keeps the connection alive) are served on it.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

namespace cw::fakes {

class NotificationFeed {
 public:
  // Called with each text message a client sends and the topics its stream subscribes to
  // (which it may change); what it returns is sent to that client. Runs on the connection's
  // thread with no lock of the feed held, so it may take the service's own.
  using OnMessage = std::function<std::vector<std::string>(const std::string& text,
                                                           std::set<std::string>& topics)>;

  NotificationFeed() = default;
  ~NotificationFeed() { close(); }
  NotificationFeed(const NotificationFeed&) = delete;
  NotificationFeed& operator=(const NotificationFeed&) = delete;

  // Answers a websocket upgrade on `res` and streams from now on: `greeting` first, then
  // every message published to all streams or to a topic the stream subscribes to. A
  // request that is not a websocket upgrade gets 400.
  void serve(const httplib::Request& req, httplib::Response& res, OnMessage on_message = {},
             std::vector<std::string> greeting = {});
  // Queues `text` for every open stream, or for those subscribed to `topic`.
  void publish(const std::string& text, const std::string& topic = "");
  // Ends every stream (the server is stopping); serve() after it answers 503.
  void close();
  std::size_t streams() const;

  static std::string accept_for(std::string_view key);   // Sec-WebSocket-Accept
  static std::string text_frame(std::string_view text);  // unmasked, FIN set

 private:
  struct Stream {
    std::deque<std::string> frames;  // ready to write
    std::set<std::string> topics;
    std::string in;  // bytes from the client not yet parsed
    int fd = -1;     // the connection's socket (-1: not found; the client is not read)
    bool gone = false;
    OnMessage on_message;
  };
  // Shared with the streams' content providers, which httplib may still run while the
  // service that owns the feed is being destroyed.
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::shared_ptr<Stream>> streams;
    bool closed = false;
  };
  static void read_client(Stream& stream, std::unique_lock<std::mutex>& lock);
  std::shared_ptr<State> m_state = std::make_shared<State>();
};

}  // namespace cw::fakes
