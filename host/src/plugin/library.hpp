#pragma once
// Library: one loaded plugin file. Loading runs every check a plugin must pass before the
// host uses it: the file is a loadable library (Boost.DLL, rtld_now | rtld_local), it
// exports cwsdk_entry, the entry accepts the host and returns a table, the versions are
// compatible, the table is large enough and has every required operation, the manifest is
// valid JSON that passes the schema, names the file, and declares only operations the
// table has. Any failure is one line naming the file, the reason and the fix.
//
// A Library stays loaded as long as a shared_ptr to it exists; every ProviderInstance
// holds one, so an instance can never outlive the code it runs.
//
// An isolated library (LoadOptions::isolated) is loaded by a cw-plugin-runner child
// process instead (plugin_process.hpp): the same checks run on what the child reports,
// api() is a table of trampolines to the child, and lost() says when the child died or
// was killed. Nothing else in the host tells the two apart.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <cwsdk/cwsdk.h>

#include <cw/plugin/host_api.hpp>
#include <cw/plugin/manifest.hpp>
#include <cw/plugin/plugin_process.hpp>
#include <cw/util/result.hpp>

namespace boost::dll {
class shared_library;
}

namespace cw::plugin {

// Size of cw_provider_api as ABI 1.0 defines it; a table smaller than this is refused.
inline constexpr std::size_t k_provider_api_v1_0_size =
    offsetof(cw_provider_api, action) + sizeof(cw_operation_fn);

struct LoadOptions {
  // Run the plugin in a child process (see above).
  bool isolated = false;
  // The cw-plugin-runner executable; empty: default_runner_path().
  std::filesystem::path runner;
  // How long one operation (cwsdk_entry and create included) may take when isolated.
  std::chrono::milliseconds timeout = k_default_operation_timeout;
  // Isolated: how long a busy plugin still gets after a Ctrl-C, and how many times a lost
  // plugin is started again (plugin_process.hpp).
  std::chrono::milliseconds cancel_grace = k_default_cancel_grace;
  int restarts = k_default_restarts;
};

class Library {
 public:
  // Loads and checks `path`. The error message is the full one-line rejection:
  // "skipped plugin <path>: <reason>: <fix>". `services` must outlive the library.
  static Result<std::shared_ptr<Library>> load(const std::filesystem::path& path,
                                               const HostServices& services,
                                               const LoadOptions& options = {});
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  const std::string& name() const { return m_manifest.name; }
  const Manifest& manifest() const { return m_manifest; }
  // The plugin's table, copied; fields beyond the plugin's struct_size read as NULL.
  const cw_provider_api& api() const { return m_api; }
  uint16_t abi_major() const { return m_api.abi_major; }
  uint16_t abi_minor() const { return m_api.abi_minor; }
  const HostServices& services() const { return m_binding->services(); }

  // cw_provider_api.create, in process or in the child: always call create through here.
  cw_instance* create(const cw_host_api* host, const char* config, size_t len, cw_sink err) const;
  bool isolated() const { return m_process != nullptr; }
  // Isolated only: set once the child died or was killed (one line naming the plugin, the
  // operation and the signal or timeout); every later call fails with it until restart().
  std::optional<std::string> lost() const;
  // Isolated and lost: a fresh child with every live instance created again
  // (PluginProcess::restart): which restart of the run it was; the error is the lost()
  // line. In process: nothing to do (0).
  Result<int> restart() const;
  // Isolated: the child's process id while it runs (-1 in process or once reaped).
  pid_t child_pid() const { return m_process ? m_process->pid() : -1; }

 private:
  Library() = default;
  Result<const cw_provider_api*> open_in_process(std::string& entry_error);
  Result<const cw_provider_api*> open_isolated(const LoadOptions& options,
                                               std::string& entry_error);

  std::filesystem::path m_path;
  // Declared before m_dll so that it is destroyed after the unload: the library-wide table
  // must stay valid until the library is gone.
  std::unique_ptr<HostBinding> m_binding;
  std::unique_ptr<boost::dll::shared_library> m_dll;
  // Isolated: the child; declared after m_binding so that it goes first (its services
  // point at the binding's table).
  std::unique_ptr<PluginProcess> m_process;
  cw_provider_api m_remote_table{};
  cw_provider_api m_api{};
  Manifest m_manifest;
};

// "skipped plugin <path>: <reason>" — the one prefix every loader rejection shares.
std::string rejection_message(const std::filesystem::path& path, std::string_view reason);

}  // namespace cw::plugin
