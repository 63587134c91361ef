#pragma once
// A minimal cw_host_api for driving the provider through its C operation table: a clock
// the test sets, a log it can read, and no network, kv or secrets.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <cwsdk/cwsdk.h>

#include "crosswatch.hpp"

namespace cw::crosswatch::testing {

struct FakeHost {
  std::int64_t now_ms = 1767225600000;  // 2026-01-01T00:00:00Z
  std::mutex log_mutex;                 // the real host's log is thread-safe; so is this one
  std::vector<std::string> log_lines;
  cw_host_api api{};

  FakeHost() {
    api.struct_size = sizeof(cw_host_api);
    api.abi_major = CWSDK_VERSION_MAJOR;
    api.abi_minor = CWSDK_VERSION_MINOR;
    api.host_ctx = this;
    api.log = [](void* ctx, int32_t, const char* msg, size_t len) {
      auto* self = static_cast<FakeHost*>(ctx);
      const std::lock_guard guard(self->log_mutex);
      self->log_lines.emplace_back(msg, len);
    };
    api.http = [](void*, const char*, size_t, cw_sink meta, cw_sink) -> cw_status {
      const std::string m = R"({"message":"no network in tests"})";
      meta.write(meta.ctx, m.data(), m.size());
      return CW_STATUS_UNSUPPORTED;
    };
    api.now = [](void* ctx) { return static_cast<FakeHost*>(ctx)->now_ms; };
    api.is_cancelled = [](void*) -> int32_t { return 0; };
    api.kv_get = [](void*, const char*, size_t, cw_sink) -> cw_status {
      return CW_STATUS_NOT_FOUND;
    };
    api.kv_put = [](void*, const char*, size_t, const char*, size_t) -> cw_status {
      return CW_STATUS_OK;
    };
    api.get_secret = [](void*, const char*, size_t, cw_sink) -> cw_status {
      return CW_STATUS_NOT_FOUND;
    };
    api.put_secret = [](void*, const char*, size_t, const char*, size_t) -> cw_status {
      return CW_STATUS_OK;
    };
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
};

// The result of one call through the table.
struct Call {
  cw_status status = CW_STATUS_OK;
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

inline void append_sink(void* ctx, const char* data, size_t len) {
  static_cast<std::string*>(ctx)->append(data, len);
}

// One provider instance created through the C ABI, destroyed with the object.
class Instance {
 public:
  Instance(const cw_provider_api* api, FakeHost& host, const nlohmann::json& config) : m_api(api) {
    const std::string cfg = config.dump();
    m_self = api->create(&host.api, cfg.data(), cfg.size(), cw_sink{&m_create_error, &append_sink});
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance() {
    if (m_self != nullptr) m_api->destroy(m_self);
  }
  bool ok() const { return m_self != nullptr; }
  const std::string& create_error() const { return m_create_error; }

  Call call(cw_operation_fn fn, const nlohmann::json& request) {
    Call c;
    const std::string req = request.dump();
    c.status = fn(m_self, req.data(), req.size(), cw_sink{&c.body, &append_sink});
    return c;
  }
  Call health() { return call(m_api->health, nlohmann::json::object()); }
  Call index(const std::string& feature) {
    return call(m_api->build_index, {{"feature", feature}, {"watermark", nullptr}});
  }
  Call add(const std::string& feature, const std::vector<nlohmann::json>& items) {
    return call(m_api->add, {{"feature", feature}, {"items", nlohmann::json(items)}});
  }
  Call remove(const std::string& feature, const std::vector<nlohmann::json>& items) {
    return call(m_api->remove, {{"feature", feature}, {"items", nlohmann::json(items)}});
  }
  Call update(const std::string& feature, const std::vector<nlohmann::json>& items) {
    return call(m_api->update, {{"feature", feature}, {"items", nlohmann::json(items)}});
  }
  Call action(const std::string& name, const nlohmann::json& args) {
    return call(m_api->action, {{"action", name}, {"args", args}});
  }

 private:
  const cw_provider_api* m_api;
  cw_instance* m_self = nullptr;
  std::string m_create_error;
};

// A fresh folder under the system temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    m_path = std::filesystem::temp_directory_path() /
             ("cw-crosswatch-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(m_path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

}  // namespace cw::crosswatch::testing
