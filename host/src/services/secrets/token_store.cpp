#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cw/services/secrets/redactor.hpp>
#include <cw/services/secrets/token_store.hpp>

namespace cw::services {
namespace fs = std::filesystem;

namespace {

// Instance names become file names; anything that could escape the folder is refused.
Status check_instance_name(const std::string& instance) {
  if (instance.empty() || instance == "." || instance == ".." ||
      instance.find_first_of("/\\") != std::string::npos || instance[0] == '.')
    return make_error("token store: instance name '" + instance +
                          "' cannot name a file; use letters, digits, '-' and '_'",
                      ErrorKind::invalid_arg);
  return ok_status();
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Status TokenStore::put(const std::string& instance, const std::string& name,
                       const std::string& value) {
  if (!value.empty()) register_secret(value);
  auto st = do_put(instance, name, value);
  if (!st) return st;
  std::vector<ChangeHook> hooks;
  {
    std::lock_guard lock(m_hooks_mutex);
    hooks = m_change_hooks;
  }
  for (const auto& h : hooks) h(instance, name);
  return st;
}

void TokenStore::on_change(ChangeHook hook) {
  std::lock_guard lock(m_hooks_mutex);
  m_change_hooks.push_back(std::move(hook));
}

void TokenStore::set_refresh_hook(const std::string& instance, RefreshHook hook) {
  std::lock_guard lock(m_hooks_mutex);
  if (hook)
    m_refresh_hooks[instance] = std::move(hook);
  else
    m_refresh_hooks.erase(instance);
}

Status TokenStore::refresh(const std::string& instance) {
  RefreshHook hook;
  {
    std::lock_guard lock(m_hooks_mutex);
    auto it = m_refresh_hooks.find(instance);
    if (it != m_refresh_hooks.end()) hook = it->second;
  }
  if (!hook)
    return make_error(
        "provider " + instance + " cannot refresh its tokens; run `cw auth login " + instance + "`",
        ErrorKind::unsupported);
  return hook();
}

bool TokenStore::needs_refresh(const std::string& instance, const std::string& name,
                               std::int64_t now_s, std::int64_t margin_s) {
  auto v = get(instance, name);
  if (!v || !v.value()) return false;
  const auto doc = nlohmann::json::parse(**v, nullptr, false);
  if (!doc.is_object() || !doc.contains("expires_at") || !doc["expires_at"].is_number())
    return false;
  return doc["expires_at"].get<std::int64_t>() < now_s + margin_s;
}

// ---- FileTokenStore ----------------------------------------------------------------------

FileTokenStore::FileTokenStore(std::string dir) : m_dir(std::move(dir)) {}

std::string FileTokenStore::path_of(const std::string& instance) const {
  return (fs::path(m_dir) / (instance + ".json")).string();
}

Result<std::map<std::string, std::string>> FileTokenStore::load(const std::string& instance) const {
  std::map<std::string, std::string> out;
  const std::string path = path_of(instance);
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;  // no file: no tokens yet
  std::ostringstream buf;
  buf << in.rdbuf();
  const auto doc = nlohmann::json::parse(buf.str(), nullptr, false);
  if (!doc.is_object())
    return make_error("token file " + path +
                          " is not a JSON object; delete it and run `cw auth login " + instance +
                          "`",
                      ErrorKind::internal);
  for (const auto& [k, v] : doc.items()) {
    if (!v.is_string()) continue;
    out[k] = v.get<std::string>();
    register_secret(out[k]);
  }
  return out;
}

Result<std::optional<std::string>> FileTokenStore::get(const std::string& instance,
                                                       const std::string& name) {
  if (auto st = check_instance_name(instance); !st) return st.error();
  std::lock_guard lock(m_mutex);
  auto all = load(instance);
  if (!all) return all.error();
  auto it = all->find(name);
  if (it == all->end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

Result<std::vector<std::string>> FileTokenStore::names(const std::string& instance) {
  if (auto st = check_instance_name(instance); !st) return st.error();
  std::lock_guard lock(m_mutex);
  auto all = load(instance);
  if (!all) return all.error();
  std::vector<std::string> out;
  for (const auto& [k, v] : *all) out.push_back(k);
  return out;
}

Status FileTokenStore::erase(const std::string& instance) {
  if (auto st = check_instance_name(instance); !st) return st;
  std::lock_guard lock(m_mutex);
  std::error_code ec;
  fs::remove(path_of(instance), ec);
  if (ec)
    return make_error("token store: cannot delete " + path_of(instance) + ": " + ec.message(),
                      ErrorKind::internal);
  return ok_status();
}

Status FileTokenStore::do_put(const std::string& instance, const std::string& name,
                              const std::string& value) {
  if (auto st = check_instance_name(instance); !st) return st;
  std::lock_guard lock(m_mutex);
  auto all = load(instance);
  if (!all) return all.error();
  if (value.empty())
    all->erase(name);
  else
    (*all)[name] = value;

  if (::mkdir(m_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::error_code ec;
    fs::create_directories(m_dir, ec);
    if (ec)
      return make_error("token store: cannot create folder " + m_dir + ": " + ec.message(),
                        ErrorKind::internal);
    ::chmod(m_dir.c_str(), 0700);
  }
  const std::string path = path_of(instance);
  if (all->empty()) {
    std::error_code ec;
    fs::remove(path, ec);
    return ok_status();
  }
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [k, v] : *all) doc[k] = v;
  const std::string text = doc.dump(2) + "\n";

  // Written to a 0600 temporary in the same folder and renamed, so a crash never leaves a
  // half-written file and the token is never readable by others, not even for a moment.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error("token store: cannot write " + tmp + ": " + errno_text(),
                      ErrorKind::internal);
  ::fchmod(fd, 0600);
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error("token store: cannot write " + tmp + ": " + why, ErrorKind::internal);
    }
    off += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    return make_error("token store: cannot replace " + path + ": " + why, ErrorKind::internal);
  }
  return ok_status();
}

// ---- MemoryTokenStore --------------------------------------------------------------------

Result<std::optional<std::string>> MemoryTokenStore::get(const std::string& instance,
                                                         const std::string& name) {
  std::lock_guard lock(m_mutex);
  auto it = m_tokens.find(instance);
  if (it == m_tokens.end()) return std::optional<std::string>{};
  auto jt = it->second.find(name);
  if (jt == it->second.end()) return std::optional<std::string>{};
  return std::optional<std::string>{jt->second};
}

Result<std::vector<std::string>> MemoryTokenStore::names(const std::string& instance) {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  auto it = m_tokens.find(instance);
  if (it != m_tokens.end())
    for (const auto& [k, v] : it->second) out.push_back(k);
  return out;
}

Status MemoryTokenStore::erase(const std::string& instance) {
  std::lock_guard lock(m_mutex);
  m_tokens.erase(instance);
  return ok_status();
}

Status MemoryTokenStore::do_put(const std::string& instance, const std::string& name,
                                const std::string& value) {
  std::lock_guard lock(m_mutex);
  if (value.empty())
    m_tokens[instance].erase(name);
  else
    m_tokens[instance][name] = value;
  return ok_status();
}

std::string default_token_dir(const std::string& config_path) {
  if (const char* d = std::getenv("CW_CONFIG_DIR"); d != nullptr && *d != '\0')
    return (fs::path(d) / "tokens").string();
  if (!config_path.empty()) {
    fs::path parent = fs::path(config_path).parent_path();
    if (parent.empty()) parent = ".";
    return (parent / "tokens").string();
  }
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0')
    return (fs::path(x) / "cw" / "tokens").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr ? home : ".") / ".config" / "cw" / "tokens").string();
}

}  // namespace cw::services
