#include <algorithm>
#include <system_error>

#include <cw/plugin/registry.hpp>

namespace cw::plugin {
namespace fs = std::filesystem;

std::optional<IsolationPolicy::Mode> isolation_mode_from_string(std::string_view text) {
  if (text == "none") return IsolationPolicy::Mode::none;
  if (text == "untrusted") return IsolationPolicy::Mode::untrusted;
  if (text == "all") return IsolationPolicy::Mode::all;
  return std::nullopt;
}

const char* to_string(IsolationPolicy::Mode mode) {
  switch (mode) {
    case IsolationPolicy::Mode::none:
      return "none";
    case IsolationPolicy::Mode::untrusted:
      return "untrusted";
    case IsolationPolicy::Mode::all:
      return "all";
  }
  return "untrusted";
}

LoadOptions IsolationPolicy::options_for(const fs::path& file) const {
  LoadOptions o;
  o.runner = runner;
  const auto name = plugin_name_from_filename(file);
  o.timeout = timeout;
  o.cancel_grace = cancel_grace;
  o.restarts = restarts;
  if (name) {
    if (const auto it = timeouts.find(*name); it != timeouts.end()) o.timeout = it->second;
    if (in_process.count(*name)) return o;
  }
  if (mode == Mode::all) {
    o.isolated = true;
  } else if (mode == Mode::untrusted) {
    std::error_code ec;
    fs::path folder = fs::weakly_canonical(fs::absolute(file, ec).parent_path(), ec);
    bool trusted = false;
    for (const auto& dir : trusted_dirs) {
      std::error_code dec;
      trusted = trusted || fs::weakly_canonical(dir, dec) == folder;
    }
    o.isolated = !trusted;
  }
  return o;
}

void Registry::load_folders(const std::vector<fs::path>& folders) {
  for (const auto& file : discover_plugins(folders)) load_file(file);
}

bool Registry::load_file(const fs::path& file) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(fs::absolute(file, ec), ec);
  if (ec) canon = file;
  // The same file reached twice (a folder given twice, a symlinked folder) is one plugin.
  if (std::find(m_seen.begin(), m_seen.end(), canon) != m_seen.end()) return true;
  m_seen.push_back(canon);

  // Two files for one name: the name is decided by the file name (the manifest must
  // match it), so the second is refused before it is even loaded.
  if (const auto name = plugin_name_from_filename(file)) {
    if (const auto first = find(*name)) {
      m_rejections.push_back(
          {file,
           rejection_message(file, "plugin name '" + *name + "' is already provided by " +
                                       first->path().string() +
                                       ": remove one of the two files or drop one folder "
                                       "from the plugin path"),
           true});
      return false;
    }
  }
  auto lib = Library::load(file, m_services, m_policy.options_for(file));
  if (!lib) {
    m_rejections.push_back({file, lib.error().message, false});
    return false;
  }
  m_plugins.push_back(std::move(*lib));
  return true;
}

bool Registry::has_duplicates() const {
  return std::any_of(m_rejections.begin(), m_rejections.end(),
                     [](const Rejection& r) { return r.duplicate; });
}

std::shared_ptr<Library> Registry::find(std::string_view name) const {
  for (const auto& p : m_plugins)
    if (p->name() == name) return p;
  return nullptr;
}

Result<std::shared_ptr<Library>> Registry::get(std::string_view name) const {
  if (auto p = find(name)) return p;
  std::string names;
  for (const auto& p : m_plugins) names += (names.empty() ? "" : ", ") + p->name();
  return make_error("no plugin named '" + std::string(name) +
                        "' (loaded: " + (names.empty() ? std::string("none") : names) +
                        "): install cw-provider-" + std::string(name) +
                        ".so in a plugin folder or add its folder with --plugin-dir",
                    ErrorKind::not_found);
}

void Registry::log_rejections() const {
  for (const auto& r : m_rejections) {
    if (r.duplicate)
      m_services.logger.error("plugins", r.message);
    else
      m_services.logger.warn("plugins", r.message);
  }
}

}  // namespace cw::plugin
