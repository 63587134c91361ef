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

#include <filesystem>
#include <memory>
#include <string>

#include <cwsdk/cwsdk.h>

#include <cw/plugin/host_api.hpp>
#include <cw/plugin/manifest.hpp>
#include <cw/util/result.hpp>

namespace boost::dll {
class shared_library;
}

namespace cw::plugin {

// Size of cw_provider_api as ABI 1.0 defines it; a table smaller than this is refused.
inline constexpr std::size_t k_provider_api_v1_0_size =
    offsetof(cw_provider_api, action) + sizeof(cw_operation_fn);

class Library {
 public:
  // Loads and checks `path`. The error message is the full one-line rejection:
  // "skipped plugin <path>: <reason>: <fix>". `services` must outlive the library.
  static Result<std::shared_ptr<Library>> load(const std::filesystem::path& path,
                                               const HostServices& services);
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

 private:
  Library() = default;

  std::filesystem::path m_path;
  // Declared before m_dll so that it is destroyed after the unload: the library-wide table
  // must stay valid until the library is gone.
  std::unique_ptr<HostBinding> m_binding;
  std::unique_ptr<boost::dll::shared_library> m_dll;
  cw_provider_api m_api{};
  Manifest m_manifest;
};

// "skipped plugin <path>: <reason>" — the one prefix every loader rejection shares.
std::string rejection_message(const std::filesystem::path& path, std::string_view reason);

}  // namespace cw::plugin
