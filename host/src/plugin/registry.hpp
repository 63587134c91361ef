#pragma once
// Registry: every plugin found on the search path, loaded and checked, plus the list of
// files that were refused and why. Loading one bad file never stops the others.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <cw/plugin/discovery.hpp>
#include <cw/plugin/library.hpp>

namespace cw::plugin {

struct Rejection {
  std::filesystem::path path;
  std::string message;     // the full one-line message ("skipped plugin <path>: ...")
  bool duplicate = false;  // a second plugin of a name already loaded: an error, not a skip
};

class Registry {
 public:
  explicit Registry(const HostServices& services) : m_services(services) {}

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
  std::vector<std::shared_ptr<Library>> m_plugins;
  std::vector<Rejection> m_rejections;
  std::vector<std::filesystem::path> m_seen;  // canonical paths already handled
};

}  // namespace cw::plugin
