#include <algorithm>
#include <cstdlib>
#include <system_error>

#include <cw/plugin/discovery.hpp>

namespace cw::plugin {
namespace fs = std::filesystem;

namespace {
constexpr std::string_view k_prefix = "cw-provider-";
constexpr std::string_view k_suffix = ".so";

// True when `path` is `root` or inside it (both normalised).
bool is_within(const fs::path& path, const fs::path& root) {
  const auto rel = path.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

fs::path normal(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  fs::path canon = fs::weakly_canonical(abs, ec);
  return ec ? abs.lexically_normal() : canon;
}
}  // namespace

std::vector<fs::path> plugin_search_path(const SearchPathOptions& options) {
  std::vector<fs::path> out;
  auto add = [&out](const fs::path& p) {
    if (p.empty()) return;
    const fs::path n = normal(p);
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& d : options.plugin_dirs) add(d);
  std::string env;
  if (options.env_plugin_path) {
    env = *options.env_plugin_path;
  } else if (const char* e = std::getenv("CW_PLUGIN_PATH")) {
    env = e;
  }
  std::size_t start = 0;
  while (start <= env.size()) {
    const std::size_t end = std::min(env.find(':', start), env.size());
    add(env.substr(start, end - start));
    start = end + 1;
  }
  if (auto bundled = bundled_plugin_dir(options)) add(*bundled);
  return out;
}

std::optional<fs::path> bundled_plugin_dir(const SearchPathOptions& options) {
  fs::path exe;
  if (options.executable) {
    exe = normal(*options.executable);
  } else {
    std::error_code ec;
    exe = fs::read_symlink("/proc/self/exe", ec);
  }
  bool in_build_tree = false;
#if defined(CW_BUILD_ROOT) && defined(CW_PLUGIN_BUILD_DIR)
  in_build_tree = !exe.empty() && is_within(exe, normal(CW_BUILD_ROOT));
  if (in_build_tree && options.include_build_dir) {
    std::error_code ec;
    if (fs::is_directory(CW_PLUGIN_BUILD_DIR, ec)) return normal(CW_PLUGIN_BUILD_DIR);
  }
#endif
  if (!in_build_tree && !exe.empty() && options.include_install_dir)
    return normal(installed_plugin_dir(exe));
  return std::nullopt;
}

fs::path installed_plugin_dir(const fs::path& executable) {
#ifdef CW_PLUGIN_INSTALL_RELDIR
  return (executable.parent_path() / CW_PLUGIN_INSTALL_RELDIR).lexically_normal();
#else
  return (executable.parent_path() / "../lib/cw/plugins").lexically_normal();
#endif
}

std::optional<std::string> plugin_name_from_filename(const fs::path& file) {
  const std::string f = file.filename().string();
  if (f.size() <= k_prefix.size() + k_suffix.size()) return std::nullopt;
  if (f.compare(0, k_prefix.size(), k_prefix) != 0) return std::nullopt;
  if (f.compare(f.size() - k_suffix.size(), k_suffix.size(), k_suffix) != 0) return std::nullopt;
  return f.substr(k_prefix.size(), f.size() - k_prefix.size() - k_suffix.size());
}

std::vector<fs::path> discover_plugins(const std::vector<fs::path>& folders) {
  std::vector<fs::path> out;
  for (const auto& folder : folders) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<fs::path> here;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      if (!plugin_name_from_filename(it->path())) continue;
      std::error_code tec;
      // Symlinks count (distributions link plugins into place); folders do not.
      if (fs::is_directory(it->path(), tec)) continue;
      here.push_back(it->path());
    }
    std::sort(here.begin(), here.end());
    out.insert(out.end(), here.begin(), here.end());
  }
  return out;
}

}  // namespace cw::plugin
