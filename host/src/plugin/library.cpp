#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <type_traits>

#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>

#include <cw/plugin/discovery.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/sinks.hpp>
#include <cw/util/strings.hpp>

namespace cw::plugin {
namespace fs = std::filesystem;

std::string rejection_message(const fs::path& path, std::string_view reason) {
  return "skipped plugin " + path.string() + ": " + std::string(reason);
}

namespace {

// The schema as an author has it: installed with the SDK (cw-dev), not in cw's sources.
std::string manifest_schema_path() {
  return std::string(CW_SDK_SCHEMA_INSTALL_DIR) + "/manifest.schema.json";
}

Error reject(const fs::path& path, std::string_view reason,
             ErrorKind kind = ErrorKind::invalid_arg) {
  return make_error(rejection_message(path, reason), kind);
}

std::string version_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

}  // namespace

Library::~Library() = default;

std::optional<std::string> Library::lost() const {
  return m_process ? m_process->lost() : std::nullopt;
}

Result<int> Library::restart() const {
  if (!m_process) return 0;
  if (auto st = m_process->restart(); !st) return st.error();
  return m_process->restarts();
}

cw_instance* Library::create(const cw_host_api* host, const char* config, size_t len,
                             cw_sink err) const {
  if (m_process) return m_process->create(host, config, len, err);
  return m_api.create(host, config, len, err);
}

namespace {

const char* const k_entry_threw =
    "cwsdk_entry threw an exception: catch every exception at the ABI edge (CWSDK_PROVIDER "
    "does)";

std::string not_loadable(std::string detail, const fs::path& path) {
  const std::string prefix = path.string() + ": ";
  if (detail.rfind(prefix, 0) == 0) detail.erase(0, prefix.size());
  return "not a loadable library (" + util::one_line(detail, 300) +
         "): rebuild it as a shared library with cwsdk_add_plugin()";
}

const char* const k_no_entry =
    "no cwsdk_entry symbol: export it with CWSDK_PROVIDER(cls) or CWSDK_EXPORT and build with "
    "cwsdk_add_plugin()";

std::string entry_refused(const std::string& entry_error) {
  return "cwsdk_entry returned NULL: " + (entry_error.empty()
                                              ? std::string("the plugin gave no reason")
                                              : util::one_line(entry_error, 300));
}

}  // namespace

Result<const cw_provider_api*> Library::open_in_process(std::string& entry_error) {
  boost::dll::fs::error_code ec;
  m_dll = std::make_unique<boost::dll::shared_library>();
  m_dll->load(boost::dll::fs::path(m_path.string()),
              boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !m_dll->is_loaded()) {
    // Boost.DLL reports only "bad file descriptor"; dlerror() still holds the loader's
    // reason ("invalid ELF header", "undefined symbol: x").
    const char* why = ::dlerror();
    return reject(m_path, not_loadable(why != nullptr ? why : ec.message(), m_path));
  }

  if (!m_dll->has(CWSDK_ENTRY_SYMBOL)) return reject(m_path, k_no_entry);
  auto& entry = m_dll->get<std::remove_pointer_t<cwsdk_entry_fn>>(CWSDK_ENTRY_SYMBOL);

  const cw_provider_api* table = nullptr;
  try {
    table = entry(CWSDK_VERSION_MAJOR, CWSDK_VERSION_MINOR, m_binding->table(),
                  cw_sink{&entry_error, &append_to_string});
  } catch (const std::exception& e) {
    return reject(m_path, "cwsdk_entry threw an exception (" + util::one_line(e.what(), 300) +
                              "): catch every exception at the ABI edge (CWSDK_PROVIDER does)");
  } catch (...) {
    return reject(m_path, k_entry_threw);
  }
  return table;
}

Result<const cw_provider_api*> Library::open_isolated(const LoadOptions& options,
                                                      std::string& entry_error) {
  const fs::path runner = options.runner.empty() ? default_runner_path() : options.runner;
  const ProcessLimits limits{options.timeout, options.cancel_grace, options.restarts};
  auto process =
      PluginProcess::start(runner, m_binding->plugin(), limits, m_binding->services().cancel);
  if (!process)
    return reject(m_path, process.error().message +
                              ": reinstall cw (the runner belongs next to the cw executable) "
                              "or run the plugin in process (plugins.in_process)");
  m_process = std::move(process).value();
  auto loaded = m_process->load(m_path, m_binding->table());
  // One line naming the plugin, the operation and the signal or the timeout.
  if (!loaded) return reject(m_path, loaded.error().message);
  if (loaded->stage == "dlopen") return reject(m_path, not_loadable(loaded->detail, m_path));
  if (loaded->stage == "symbol") return reject(m_path, k_no_entry);
  if (loaded->stage == "threw")
    return reject(m_path, loaded->detail.empty()
                              ? std::string(k_entry_threw)
                              : "cwsdk_entry threw an exception (" +
                                    util::one_line(loaded->detail, 300) +
                                    "): catch every exception at the ABI edge (CWSDK_PROVIDER "
                                    "does)");
  if (loaded->stage != "ok") {
    entry_error = loaded->detail;
    return static_cast<const cw_provider_api*>(nullptr);
  }
  m_remote_table = loaded->table;
  return static_cast<const cw_provider_api*>(&m_remote_table);
}

Result<std::shared_ptr<Library>> Library::load(const fs::path& path, const HostServices& services,
                                               const LoadOptions& options) {
  std::error_code fec;
  if (!fs::exists(path, fec))
    return reject(path, "file not found: check the path", ErrorKind::not_found);
  if (!fs::is_regular_file(path, fec))
    return reject(path, "not a regular file: point at a cw-provider-<name>.so file");
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe)
      return reject(path, std::string("cannot read the file (") + std::strerror(errno) +
                              "): make it readable by the user running cw");
  }

  std::shared_ptr<Library> lib(new Library());
  lib->m_path = path;
  const std::string file_name = path.filename().string();
  const auto name_from_file = plugin_name_from_filename(path);
  // The library-wide table must stay valid until unload, so it is made once, named after
  // the file (which the manifest's name must match).
  lib->m_binding = std::make_unique<HostBinding>(services, name_from_file.value_or(file_name));

  std::string entry_error;
  auto opened = options.isolated ? lib->open_isolated(options, entry_error)
                                 : lib->open_in_process(entry_error);
  if (!opened) return opened.error();
  const cw_provider_api* table = *opened;
  if (table == nullptr) return reject(path, entry_refused(entry_error));

  constexpr std::size_t k_header_size = offsetof(cw_provider_api, abi_minor) + sizeof(uint16_t);
  if (table->struct_size < k_header_size)
    return reject(path, "operation table is " + std::to_string(table->struct_size) +
                            " bytes, ABI 1.0 needs at least " +
                            std::to_string(k_provider_api_v1_0_size) +
                            ": set struct_size = sizeof(cw_provider_api) and rebuild against "
                            "the cwsdk headers");
  const unsigned major = table->abi_major;
  const unsigned minor = table->abi_minor;
  const std::string host_version = version_text(CWSDK_VERSION_MAJOR, CWSDK_VERSION_MINOR);
  if (major != CWSDK_VERSION_MAJOR)
    return reject(path, "ABI major " + std::to_string(major) + ", host speaks " + host_version +
                            ": rebuild the plugin against cwsdk " +
                            std::to_string(CWSDK_VERSION_MAJOR) + ".x");
  if (minor > CWSDK_VERSION_MINOR)
    return reject(path, "ABI " + version_text(major, minor) + " is newer than the host's " +
                            host_version + ": upgrade cw, or rebuild the plugin against cwsdk " +
                            host_version);
  if (table->struct_size < k_provider_api_v1_0_size)
    return reject(path, "operation table is " + std::to_string(table->struct_size) +
                            " bytes, ABI 1.0 needs at least " +
                            std::to_string(k_provider_api_v1_0_size) +
                            ": set struct_size = sizeof(cw_provider_api) and rebuild against "
                            "the cwsdk headers");
  // Fields the plugin did not know about stay NULL.
  std::memcpy(&lib->m_api, table,
              std::min<std::size_t>(table->struct_size, sizeof(cw_provider_api)));
  lib->m_api.struct_size = table->struct_size;
  const cw_provider_api& api = lib->m_api;

  const std::pair<const char*, bool> required[] = {{"manifest", api.manifest != nullptr},
                                                   {"create", api.create != nullptr},
                                                   {"destroy", api.destroy != nullptr},
                                                   {"health", api.health != nullptr},
                                                   {"build_index", api.build_index != nullptr},
                                                   {"add", api.add != nullptr},
                                                   {"remove", api.remove != nullptr}};
  for (const auto& [op, present] : required)
    if (!present)
      return reject(path, std::string("required operation '") + op +
                              "' is NULL: every plugin implements manifest, create, destroy, "
                              "health, build_index, add and remove");

  std::string manifest_owned;
  const char* manifest_text = nullptr;
  size_t manifest_len = 0;
  try {
    if (lib->m_process) {
      auto text = lib->m_process->manifest();
      if (!text) return reject(path, text.error().message);
      if (*text) {
        manifest_owned = std::move(**text);
        manifest_text = manifest_owned.data();
        manifest_len = manifest_owned.size();
      }
    } else {
      manifest_text = api.manifest(&manifest_len);
    }
  } catch (...) {
    return reject(path, "manifest() threw an exception: catch every exception at the ABI edge");
  }
  if (manifest_text == nullptr)
    return reject(path, "manifest() returned NULL: return the manifest JSON (see " +
                            manifest_schema_path() + ")");
  auto manifest = parse_manifest(std::string_view(manifest_text, manifest_len));
  if (!manifest)
    return reject(
        path, manifest.error().message + ": fix the manifest (see " + manifest_schema_path() + ")");
  lib->m_manifest = std::move(*manifest);
  const Manifest& m = lib->m_manifest;

  if (!name_from_file || *name_from_file != m.name)
    return reject(path, "manifest name '" + m.name + "' does not match the file name " + file_name +
                            ": name the file cw-provider-" + m.name +
                            ".so or fix the manifest's name");

  for (const auto& [feature, caps] : m.features)
    if (caps.update && api.update == nullptr)
      return reject(path, "manifest declares update for feature '" + feature +
                              "' but the update operation is NULL: implement update or set "
                              "\"update\": false");
  if (m.lookup && api.lookup == nullptr)
    return reject(path,
                  "manifest declares the lookup capability but the lookup operation is NULL: "
                  "implement lookup or set \"lookup\": false");
  if (m.resolve_ids && api.resolve_ids == nullptr)
    return reject(path,
                  "manifest declares the resolve_ids capability but the resolve_ids operation "
                  "is NULL: implement resolve_ids or set \"resolve_ids\": false");
  if (m.scrobble && api.scrobble == nullptr)
    return reject(path,
                  "manifest declares the scrobble capability but the scrobble operation "
                  "is NULL: implement scrobble or set \"scrobble\": false");
  if ((api.auth_start == nullptr) != (api.auth_poll == nullptr))
    return reject(path,
                  "auth_start and auth_poll must be both set or both NULL: implement the "
                  "missing one");
  if (m.auth != "none" && api.auth_start == nullptr)
    return reject(path, "manifest declares auth '" + m.auth +
                            "' but auth_start/auth_poll are NULL: implement both or set "
                            "\"auth\": \"none\"");
  if (!m.actions.empty() && api.action == nullptr)
    return reject(path,
                  "manifest lists actions but the action operation is NULL: implement "
                  "action or remove \"actions\"");

  return lib;
}

}  // namespace cw::plugin
