#pragma once
// PluginProcess: an isolated plugin. The plugin file is loaded by a cw-plugin-runner child
// process, and this object is the host's side of it: it presents the plugin's operations
// as an ordinary cw_provider_api table (trampolines that send each call over the socket,
// see ipc.hpp) and, while a call is in flight, serves the child's service requests with
// the real cw_host_api table the host gave to cwsdk_entry or create(). Library and
// ProviderInstance use that table as if the plugin were in cw's process.
//
// What isolation adds: a call that does not return within the timeout (the plugin's own
// time; time spent in host services such as HTTP does not count) kills the child, and a
// child that dies (a signal, an exit) is reaped. Either way the plugin is *lost*: every
// later call fails at once with the same one-line reason, which names the plugin, the
// operation and the signal or the timeout, until restart() starts a fresh child (the
// sync runner asks for it before the next pair, a bounded number of times per process).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <cwsdk/cwsdk.h>

#include <cw/plugin/ipc.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/util/result.hpp>

namespace cw::plugin {

// How long one operation of an isolated plugin may run (config `plugins.timeout`).
inline constexpr std::chrono::milliseconds k_default_operation_timeout = std::chrono::minutes(5);
// After the run is cancelled, how long a plugin still gets to return before it is killed
// (config `plugins.cancel_grace`).
inline constexpr std::chrono::milliseconds k_default_cancel_grace = std::chrono::seconds(5);
// How many times a lost plugin is started again in one process (config `plugins.restarts`).
inline constexpr int k_default_restarts = 3;

// What bounds an isolated plugin's process.
struct ProcessLimits {
  std::chrono::milliseconds timeout = k_default_operation_timeout;  // one operation
  std::chrono::milliseconds cancel_grace = k_default_cancel_grace;
  int restarts = k_default_restarts;  // fresh children after a loss; 0: lost for good
};

// The runner next to the running executable; inside the build tree, the build's runner.
std::filesystem::path default_runner_path();

// What the runner reported of cwsdk_entry, for the loader to judge.
struct RemoteLoad {
  // ok | dlopen (not loadable) | symbol (no cwsdk_entry) | threw | null (entry refused)
  std::string stage;
  std::string detail;  // dlerror(), the exception's what(), the plugin's reason
  // stage ok: a table of trampolines for the operations the plugin's table has, with the
  // plugin's struct_size and versions. `create` and `manifest` are markers only: use
  // PluginProcess::create and ::manifest.
  cw_provider_api table{};
};

class PluginProcess {
 public:
  // Starts the runner. `plugin` names the plugin in messages (the file's name part).
  static Result<std::unique_ptr<PluginProcess>> start(const std::filesystem::path& runner,
                                                      std::string plugin,
                                                      const ProcessLimits& limits,
                                                      services::CancelToken& cancel);
  ~PluginProcess();
  PluginProcess(const PluginProcess&) = delete;
  PluginProcess& operator=(const PluginProcess&) = delete;

  // Loads the file in the child and calls cwsdk_entry there; `library_host` serves the
  // services the plugin calls from it. An error means the child died or timed out.
  Result<RemoteLoad> load(const std::filesystem::path& path, const cw_host_api* library_host);
  // The manifest text; nullopt when manifest() returned NULL. Throws std::runtime_error
  // when the plugin threw (as a call in process would).
  Result<std::optional<std::string>> manifest();
  // create() in the child, with `host` serving that instance's services. Same contract as
  // cw_provider_api.create; throws std::runtime_error when the plugin threw.
  cw_instance* create(const cw_host_api* host, const char* config, size_t len, cw_sink err);

  // Set once the child died or was killed: one line naming the plugin and what happened.
  std::optional<std::string> lost() const {
    std::lock_guard lock(m_mutex);
    return m_lost;
  }
  pid_t pid() const {
    std::lock_guard lock(m_mutex);
    return m_pid;
  }

  // For a lost plugin: starts a fresh child, loads the file in it and creates every live
  // instance again under its id with the configuration and services it was created with,
  // so the instances the host holds work again (what a plugin kept in memory is gone; what
  // it stored through kv is not). Fails, staying lost, when the restarts are used up (the
  // lost() line then says so), the run is cancelled, or the new child fails as well.
  Status restart();
  int restarts() const {
    std::lock_guard lock(m_mutex);
    return m_restarts;
  }

  // For the trampolines.
  cw_status call(std::uint64_t instance, const char* op, const char* request, size_t len,
                 cw_sink out);
  void destroy(std::uint64_t instance);

 private:
  PluginProcess() = default;
  Status spawn();

  // Sends one request and serves service requests until the child answers; the reply's
  // bytes (the "chunk" frames, then the answer's payload) go to `out`. The error is the
  // lost() line.
  Result<nlohmann::json> transact(const char* op, const nlohmann::json& head,
                                  std::string_view payload, cw_sink out);
  // One frame's payload into `out`: straight into the memory of a ReplyBuffer.
  ipc::ReadStatus receive(std::uint64_t len, cw_sink out);
  void serve(const nlohmann::json& head, const std::string& payload);
  Error lose(const char* op, ipc::ReadStatus why);
  void reap(bool kill_first);

  // Every instance of the plugin shares this one child and its socket, while the ABI lets
  // the host drive different instances from different threads at once: each public entry
  // holds the lock for its whole exchange, so the instances of an isolated plugin are
  // served one at a time. Recursive: restart() creates the instances again through it.
  mutable std::recursive_mutex m_mutex;
  std::filesystem::path m_runner;
  std::filesystem::path m_path;  // the plugin file, once load() was asked
  std::string m_plugin;
  ProcessLimits m_limits;
  int m_restarts = 0;
  bool m_given_up = false;
  services::CancelToken* m_cancel = nullptr;
  pid_t m_pid = -1;
  int m_fd = -1;
  int m_wait_status = 0;
  std::unique_ptr<ipc::Channel> m_channel;
  std::optional<std::string> m_lost;
  const cw_host_api* m_library_host = nullptr;
  // Every live instance by id: its services and the configuration it was created with.
  struct Instance {
    const cw_host_api* host = nullptr;
    std::string config;
  };
  std::map<std::uint64_t, Instance> m_instances;
  std::uint64_t m_next_id = 1;
  // The current call's clock: the plugin's own time, host services excluded.
  std::chrono::steady_clock::time_point m_wait_since;
  std::chrono::milliseconds m_spent{};
  std::optional<std::chrono::steady_clock::time_point> m_cancel_seen;
  bool m_cancel_expired = false;
};

}  // namespace cw::plugin
