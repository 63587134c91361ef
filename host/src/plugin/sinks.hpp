#pragma once
// The host's two uses of a cw_sink (cwsdk.h), on both sides of the ABI and of the isolation
// socket: writing a document into a sink a plugin or the host gave, and the callback of a
// sink that collects what is written into a std::string.

#include <cstddef>
#include <string>
#include <string_view>

#include <cwsdk/cwsdk.h>

namespace cw::plugin {

// Writes `s` into `sink`; nothing for an empty text or a sink without a write function.
inline void write_to_sink(cw_sink sink, std::string_view s) {
  if (sink.write != nullptr && !s.empty()) sink.write(sink.ctx, s.data(), s.size());
}

// A cw_sink write function whose ctx is the std::string to append to.
inline void append_to_string(void* ctx, const char* data, size_t len) {
  if (data != nullptr) static_cast<std::string*>(ctx)->append(data, len);
}

}  // namespace cw::plugin
