#pragma once
// Discovery: which folders to search for plugins, and which files in them are candidates.
// Order (first wins when a name is found twice; the registry reports the duplicate):
//   1. each --plugin-dir, in the order given;
//   2. each entry of $CW_PLUGIN_PATH (colon-separated);
//   3. where cw runs from: a cw inside its build tree (CW_BUILD_ROOT) searches the build
//      tree's plugin folder (CW_PLUGIN_BUILD_DIR); any other cw is an installed one and
//      searches its install's plugin folder, found relative to its own executable
//      (CW_PLUGIN_INSTALL_RELDIR, e.g. ../lib/cw/plugins), so that a staged or relocated
//      install finds its own plugins and never the folder it was built in.

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
  std::optional<std::filesystem::path> executable;  // the running cw; nullopt: /proc/self/exe
};

// The install's plugin folder for a cw installed at `executable`.
std::filesystem::path installed_plugin_dir(const std::filesystem::path& executable);

// The bundled plugin folder this cw uses (the build tree's or the install's); plugins
// found there are trusted (run in process) by default. nullopt when it has none.
std::optional<std::filesystem::path> bundled_plugin_dir(const SearchPathOptions& options = {});

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
