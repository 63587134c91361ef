#pragma once
// Discovery: which folders to search for plugins, and which files in them are candidates.
// Order (first wins when a name is found twice; the registry reports the duplicate):
//   1. each --plugin-dir, in the order given;
//   2. each entry of $CW_PLUGIN_PATH (colon-separated);
//   3. the build tree's plugin folder (CW_PLUGIN_BUILD_DIR), when it exists;
//   4. the install's plugin folder (CW_PLUGIN_INSTALL_DIR).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cw::plugin {

struct SearchPathOptions {
  std::vector<std::filesystem::path> plugin_dirs;  // --plugin-dir
  std::optional<std::string> env_plugin_path;      // $CW_PLUGIN_PATH; nullopt: read it
  bool include_build_dir = true;
  bool include_install_dir = true;
};

// The folders to search, in order, without duplicates (compared after normalisation).
std::vector<std::filesystem::path> plugin_search_path(const SearchPathOptions& options);

// "cw-provider-<name>.so" -> "<name>"; nullopt when the file name does not follow the rule.
std::optional<std::string> plugin_name_from_filename(const std::filesystem::path& file);

// Every cw-provider-*.so directly in each folder (not recursive), sorted by file name within
// a folder, folders in the given order. Missing folders are skipped silently: the install
// folder of a build-tree cw usually does not exist.
std::vector<std::filesystem::path> discover_plugins(
    const std::vector<std::filesystem::path>& folders);

}  // namespace cw::plugin
