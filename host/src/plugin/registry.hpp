#pragma once
// Registry: every plugin found on the search path, loaded and checked, plus the list of
// files that were refused and why. Loading one bad file never stops the others.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <cw/plugin/discovery.hpp>
#include <cw/plugin/library.hpp>

namespace cw::plugin {

struct Rejection {
  std::filesystem::path path;
  std::string message;     // the full one-line message ("skipped plugin <path>: ...")
  bool duplicate = false;  // a second plugin of a name already loaded: an error, not a skip
};

// Which plugins run in a child process (docs/configuration.md, `plugins:`).
struct IsolationPolicy {
  enum class Mode {
    none,       // every plugin in cw's process
    untrusted,  // plugins found outside the bundled folder run isolated (cw's default)
    all,        // every plugin isolated
  };
  Mode mode = Mode::none;
  // Folders whose plugins are trusted in `untrusted` mode: the bundled plugin folder.
  std::vector<std::filesystem::path> trusted_dirs;
  // Plugin names that run in process whatever the mode.
  std::set<std::string> in_process;
  std::chrono::milliseconds timeout = k_default_operation_timeout;
  std::map<std::string, std::chrono::milliseconds> timeouts;  // per plugin name
  std::chrono::milliseconds cancel_grace = k_default_cancel_grace;
  int restarts = k_default_restarts;
  std::filesystem::path runner;  // empty: the default

  LoadOptions options_for(const std::filesystem::path& file) const;
};
std::optional<IsolationPolicy::Mode> isolation_mode_from_string(std::string_view text);
const char* to_string(IsolationPolicy::Mode mode);

class Registry {
 public:
  explicit Registry(const HostServices& services, IsolationPolicy policy = {})
      : m_services(services), m_policy(std::move(policy)) {}

  // Discovers and loads every candidate in `folders` (see discovery.hpp for the order).
  void load_folders(const std::vector<std::filesystem::path>& folders);
  // Loads one file. Returns false (and records the rejection) when it is refused.
  bool load_file(const std::filesystem::path& file);

  const std::vector<std::shared_ptr<Library>>& plugins() const { return m_plugins; }
  const std::vector<Rejection>& rejections() const { return m_rejections; }
  bool has_duplicates() const;
  // The plugin called `name`, or nullptr.
  std::shared_ptr<Library> find(std::string_view name) const;
  // Same, with a one-line error listing what is available.
  Result<std::shared_ptr<Library>> get(std::string_view name) const;

  // Logs every rejection: duplicates as errors, other refusals as warnings.
  void log_rejections() const;

 private:
  HostServices m_services;
  IsolationPolicy m_policy;
  std::vector<std::shared_ptr<Library>> m_plugins;
  std::vector<Rejection> m_rejections;
  std::vector<std::filesystem::path> m_seen;  // canonical paths already handled
};

}  // namespace cw::plugin
