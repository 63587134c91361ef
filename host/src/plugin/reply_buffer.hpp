#pragma once
// ReplyBuffer: where the host collects one reply of a plugin operation (ProviderInstance),
// capped: a plugin that writes without end must not take the host's memory with it. What
// lies past the cap is dropped and the reply refused.
//
// It is a cw_sink like any other (reply_buffer_sink), so an in-process plugin writes to it
// directly. An isolated plugin's reply arrives over the runner's socket, and
// PluginProcess::call recognises this sink and reads the frames straight into the buffer
// (read_into) instead of through a second buffer and the sink's callback: a 100k-item
// index is about 30 MB, and every extra copy of it is time a run sees.

#include <cstddef>
#include <string>

#include <cwsdk/cwsdk.h>

namespace cw::plugin {

struct ReplyBuffer {
  std::string body;
  std::size_t cap = 0;
  bool overflow = false;

  // Room for `n` more bytes within the cap; false (and overflow set) when they do not fit.
  bool make_room(std::size_t n) {
    if (overflow || body.size() + n > cap) {
      overflow = true;
      return false;
    }
    return true;
  }
};

inline void reply_buffer_write(void* ctx, const char* data, size_t len) {
  auto& b = *static_cast<ReplyBuffer*>(ctx);
  if (data == nullptr || !b.make_room(len)) return;
  b.body.append(data, len);
}

inline cw_sink reply_buffer_sink(ReplyBuffer& b) { return cw_sink{&b, &reply_buffer_write}; }

// The ReplyBuffer behind `sink`, or nullptr when it is some other sink.
inline ReplyBuffer* as_reply_buffer(cw_sink sink) {
  return sink.write == &reply_buffer_write ? static_cast<ReplyBuffer*>(sink.ctx) : nullptr;
}

}  // namespace cw::plugin
