// Two ways a C++ plugin can fail in create():
//  - cw-provider-throwcreate: a hand-written table whose create lets an exception escape
//    (a contract violation the host must survive);
//  - cw-provider-helperthrow: a CWSDK_PROVIDER class whose constructor throws, which the
//    helper must turn into NULL plus the exception's message.
#include <stdexcept>
#include <string>

#include <cwsdk/provider.hpp>

#ifndef PLUGIN_NAME
#error PLUGIN_NAME must be defined
#endif

namespace {

const char* manifest_text() {
  return "{\"name\":\"" PLUGIN_NAME
         "\",\"version\":\"0.1.0\",\"features\":{\"history\":{\"types\":[\"movie\"],"
         "\"index_semantics\":\"delta\",\"add\":true,\"remove\":false}},"
         "\"capabilities\":{\"auth\":\"none\"},\"config\":{\"type\":\"object\"}}";
}

#if defined(RAW_THROW)
const char* raw_manifest(size_t* len) {
  static const std::string k_text = manifest_text();
  *len = k_text.size();
  return k_text.c_str();
}
// Deliberately not noexcept: the exception crosses the ABI, which the host must survive.
cw_instance* raw_create(const cw_host_api*, const char*, size_t, cw_sink) {
  throw std::runtime_error("boom in create");
}
void raw_destroy(cw_instance*) {}
cw_status raw_op(cw_instance*, const char*, size_t, cw_sink) { return CW_STATUS_INTERNAL; }

const cw_provider_api k_api = {sizeof(cw_provider_api),
                               CWSDK_VERSION_MAJOR,
                               CWSDK_VERSION_MINOR,
                               raw_manifest,
                               raw_create,
                               raw_destroy,
                               raw_op,
                               raw_op,
                               raw_op,
                               raw_op,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr};
}  // namespace

extern "C" CWSDK_EXPORT const cw_provider_api* cwsdk_entry(uint16_t, uint16_t, const cw_host_api*,
                                                           cw_sink) {
  return &k_api;
}
#else
class Thrower {
 public:
  static const char* manifest() { return manifest_text(); }
  Thrower(cwsdk::Host, std::string_view) {
    throw cwsdk::Error(CW_STATUS_INVALID_ARG, "token: expected a 40-character hex string");
  }
  cwsdk::Reply health(std::string_view) { return cwsdk::Reply::ok("{}"); }
  cwsdk::Reply build_index(std::string_view) { return cwsdk::Reply::ok("{}"); }
  cwsdk::Reply add(std::string_view) { return cwsdk::Reply::ok("{}"); }
  cwsdk::Reply remove(std::string_view) { return cwsdk::Reply::ok("{}"); }
};
}  // namespace
CWSDK_PROVIDER(Thrower)
#endif
