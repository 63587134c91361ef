// The C++ helper (sdk/include/cwsdk/provider.hpp) at its ABI edge: the table it builds and
// how exceptions become statuses. Uses provider_table<T>() directly, since CWSDK_PROVIDER
// may appear only once per library.
#include <new>
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/provider.hpp>

namespace {

class Helper {
 public:
  static const char* manifest() { return "{\"name\":\"helper\"}"; }
  Helper(cwsdk::Host, std::string_view config) {
    if (config == "throw") throw std::runtime_error("config rejected");
  }
  cwsdk::Reply health(std::string_view) { return cwsdk::Reply::ok("{\"status\":\"ok\"}"); }
  cwsdk::Reply build_index(std::string_view req) {
    if (req == "std") throw std::runtime_error("parse error at 1");
    if (req == "cw") throw cwsdk::Error(CW_STATUS_AUTH, "token expired");
    if (req == "alloc") throw std::bad_alloc();
    if (req == "int") throw 42;
    return cwsdk::Reply::error(CW_STATUS_INVALID_ARG, "bad \"request\"\n");
  }
  cwsdk::Reply add(std::string_view) { return cwsdk::Reply::ok("{}"); }
  cwsdk::Reply remove(std::string_view) { return cwsdk::Reply::ok("{}"); }
  cwsdk::Reply action(std::string_view) { return cwsdk::Reply::ok("[]"); }
};

class Minimal {
 public:
  static const char* manifest() { return "{}"; }
  Minimal(cwsdk::Host, std::string_view) {}
  cwsdk::Reply health(std::string_view) { return {}; }
  cwsdk::Reply build_index(std::string_view) { return {}; }
  cwsdk::Reply add(std::string_view) { return {}; }
  cwsdk::Reply remove(std::string_view) { return {}; }
};

void append(void* ctx, const char* d, size_t n) { static_cast<std::string*>(ctx)->append(d, n); }

struct Call {
  cw_status status;
  std::string body;
};

Call call(const cw_provider_api* api, cw_instance* inst, const std::string& req) {
  Call c{};
  c.status = api->build_index(inst, req.data(), req.size(), cw_sink{&c.body, &append});
  return c;
}

TEST(ProviderHelper, TableHasRequiredAndOnlyDefinedOptionalOperations) {
  const cw_provider_api* api = cwsdk::detail::provider_table<Helper>();
  EXPECT_EQ(api->struct_size, sizeof(cw_provider_api));
  EXPECT_EQ(api->abi_major, CWSDK_VERSION_MAJOR);
  EXPECT_NE(api->action, nullptr);
  EXPECT_EQ(api->update, nullptr);
  EXPECT_EQ(api->auth_start, nullptr);
  const cw_provider_api* min = cwsdk::detail::provider_table<Minimal>();
  EXPECT_EQ(min->action, nullptr);
  size_t len = 0;
  EXPECT_EQ(std::string(api->manifest(&len)), "{\"name\":\"helper\"}");
  EXPECT_EQ(len, 17u);
}

TEST(ProviderHelper, ExceptionsBecomeStatusesWithErrorDocuments) {
  const cw_provider_api* api = cwsdk::detail::provider_table<Helper>();
  std::string err;
  cw_instance* inst = api->create(nullptr, "{}", 2, cw_sink{&err, &append});
  ASSERT_NE(inst, nullptr) << err;
  auto c = call(api, inst, "std");
  EXPECT_EQ(c.status, CW_STATUS_INTERNAL);
  EXPECT_EQ(c.body, "{\"message\":\"unhandled exception: parse error at 1\"}");
  c = call(api, inst, "cw");
  EXPECT_EQ(c.status, CW_STATUS_AUTH);
  EXPECT_EQ(c.body, "{\"message\":\"token expired\"}");
  c = call(api, inst, "alloc");
  EXPECT_EQ(c.status, CW_STATUS_INTERNAL);
  EXPECT_EQ(c.body, "{\"message\":\"out of memory\"}");
  c = call(api, inst, "int");
  EXPECT_EQ(c.status, CW_STATUS_INTERNAL);
  EXPECT_EQ(c.body, "{\"message\":\"unhandled non-standard exception\"}");
  c = call(api, inst, "other");
  EXPECT_EQ(c.status, CW_STATUS_INVALID_ARG);
  EXPECT_EQ(c.body, "{\"message\":\"bad \\\"request\\\"\\n\"}");
  api->destroy(inst);
}

TEST(ProviderHelper, ThrowingConstructorMakesCreateReturnNullWithReason) {
  const cw_provider_api* api = cwsdk::detail::provider_table<Helper>();
  std::string err;
  EXPECT_EQ(api->create(nullptr, "throw", 5, cw_sink{&err, &append}), nullptr);
  EXPECT_EQ(err, "config rejected");
}

TEST(ProviderHelper, HandshakeRefusesOtherMajorsAndOlderMinors) {
  cw_host_api host{};
  std::string err;
  EXPECT_FALSE(
      cwsdk::detail::check_host_version(CWSDK_VERSION_MAJOR + 1, 0, &host, cw_sink{&err, &append}));
  EXPECT_EQ(err, "plugin built for cwsdk ABI 1.x, host speaks 2.0");
  err.clear();
  EXPECT_FALSE(
      cwsdk::detail::check_host_version(CWSDK_VERSION_MAJOR, 0, nullptr, cw_sink{&err, &append}));
  EXPECT_EQ(err, "host passed no services table");
  EXPECT_TRUE(cwsdk::detail::check_host_version(CWSDK_VERSION_MAJOR, CWSDK_VERSION_MINOR + 3, &host,
                                                cw_sink{&err, &append}));
}

}  // namespace
