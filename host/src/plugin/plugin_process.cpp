#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cw/plugin/plugin_process.hpp>
#include <cw/plugin/reply_buffer.hpp>
#include <cw/plugin/sinks.hpp>

extern char** environ;  // NOLINT: POSIX

namespace cw::plugin {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

fs::path default_runner_path() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
#if defined(CW_BUILD_ROOT) && defined(CW_PLUGIN_RUNNER_BUILD_PATH)
  // Same rule as the plugin folder (discovery.hpp): inside the build tree, the build's.
  const auto rel = exe.lexically_relative(fs::weakly_canonical(CW_BUILD_ROOT, ec));
  if (!exe.empty() && !rel.empty() && *rel.begin() != "..") return CW_PLUGIN_RUNNER_BUILD_PATH;
#endif
  return exe.parent_path() / "cw-plugin-runner";
}

namespace {

// One instance in the child, as the host's ProviderInstance holds it (its cw_instance*).
struct RemoteInstance {
  PluginProcess* process;
  std::uint64_t id;
};

RemoteInstance* remote(cw_instance* self) { return reinterpret_cast<RemoteInstance*>(self); }

constexpr const char* k_ops[] = {"health", "build_index", "add",        "remove",
                                 "update", "scrobble",    "auth_start", "auth_poll",
                                 "action", "lookup",      "resolve_ids"};

template <int N>
cw_status trampoline(cw_instance* self, const char* request, size_t len, cw_sink out) {
  return remote(self)->process->call(remote(self)->id, k_ops[N], request, len, out);
}

void destroy_trampoline(cw_instance* self) {
  std::unique_ptr<RemoteInstance> r(remote(self));
  r->process->destroy(r->id);
}

// Markers: the loader asks PluginProcess for these two, never through the table.
const char* manifest_marker(size_t* len) {
  *len = 0;
  return nullptr;
}
cw_instance* create_marker(const cw_host_api*, const char*, size_t, cw_sink) { return nullptr; }

void append(void* ctx, const char* data, size_t len) {
  if (data != nullptr) static_cast<std::string*>(ctx)->append(data, len);
}

cw_sink string_sink(std::string& s) { return cw_sink{&s, &append}; }
constexpr cw_sink k_discard{nullptr, nullptr};

std::string signal_text(int sig) {
  std::string name;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* abbrev = ::sigabbrev_np(sig)) name = std::string(", SIG") + abbrev;
#endif
  return "signal " + std::to_string(sig) + name;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  const auto n = ms.count();
  if (n % 1000 == 0) return std::to_string(n / 1000) + " s";
  return std::to_string(n) + " ms";
}

}  // namespace

Result<std::unique_ptr<PluginProcess>> PluginProcess::start(const fs::path& runner,
                                                            std::string plugin,
                                                            const ProcessLimits& limits,
                                                            services::CancelToken& cancel) {
  std::unique_ptr<PluginProcess> p(new PluginProcess());
  p->m_runner = runner;
  p->m_plugin = std::move(plugin);
  p->m_limits = limits;
  p->m_cancel = &cancel;
  if (auto st = p->spawn(); !st) return st.error();
  return p;
}

Status PluginProcess::spawn() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return make_error(std::string("cannot create a socket pair: ") + std::strerror(errno));
  int child_end = fds[1];
  if (child_end == ipc::k_child_fd) {
    // dup2 onto itself would keep close-on-exec set.
    child_end = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
    ::close(fds[1]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end, ipc::k_child_fd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // A plugin's prints must not mix into cw's standard output (`--output json`).
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  const std::string exe = m_runner.string();
  const std::string parent = std::to_string(::getpid());
  char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>(parent.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(child_end);
  if (rc != 0) {
    ::close(fds[0]);
    return make_error("cannot start the plugin runner " + exe + " (" + std::strerror(rc) + ")");
  }
  m_pid = pid;
  m_fd = fds[0];
  m_wait_status = 0;
  m_channel = std::make_unique<ipc::Channel>(fds[0]);
  m_channel->set_wait_budget([this]() -> long long {
    const auto now = Clock::now();
    auto left = m_limits.timeout - m_spent -
                std::chrono::duration_cast<std::chrono::milliseconds>(now - m_wait_since);
    if (m_cancel->cancelled()) {
      if (!m_cancel_seen) m_cancel_seen = now;
      const auto grace =
          m_limits.cancel_grace -
          std::chrono::duration_cast<std::chrono::milliseconds>(now - *m_cancel_seen);
      if (grace < left) {
        left = grace;
        m_cancel_expired = grace.count() <= 0;
      }
    }
    return left.count();
  });
  return ok_status();
}

Status PluginProcess::restart() {
  std::lock_guard lock(m_mutex);
  if (!m_lost) return ok_status();
  if (m_restarts >= m_limits.restarts) {
    // Said once, in the line every later call and skipped pair repeats.
    if (!m_given_up && m_limits.restarts > 0)
      *m_lost += "; not restarted again (" + std::to_string(m_restarts) +
                 (m_restarts == 1 ? " restart" : " restarts") +
                 " this run, the most plugins.restarts allows)";
    m_given_up = true;
    return make_error(*m_lost, ErrorKind::internal);
  }
  if (m_cancel->cancelled() || m_path.empty()) return make_error(*m_lost, ErrorKind::internal);
  ++m_restarts;
  const std::string before = *m_lost;
  if (auto st = spawn(); !st) return make_error(before + "; " + st.error().message);
  m_lost.reset();
  auto reply = transact("cwsdk_entry",
                        {{"m", "load"},
                         {"path", m_path.string()},
                         {"major", m_library_host->abi_major},
                         {"minor", m_library_host->abi_minor}},
                        {}, k_discard);
  if (!reply) return reply.error();
  // The file loaded before; a plugin that now refuses to load is as good as crashed.
  const auto refused = [&](const std::string& why) {
    reap(true);
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    m_lost = "plugin " + m_plugin + " could not be restarted: " + why;
    return make_error(*m_lost, ErrorKind::internal);
  };
  if (reply->value("stage", std::string()) != "ok")
    return refused("cwsdk_entry failed (" + reply->value("stage", std::string("null")) + ")");
  for (const auto& [id, inst] : m_instances) {
    std::string reason;
    auto created =
        transact("create", {{"m", "create"}, {"i", id}}, inst.config, string_sink(reason));
    if (!created) return created.error();
    if (created->value("threw", false) || !created->value("ok", false))
      return refused("create failed for an instance it had created before" +
                     (reason.empty() ? std::string() : " (" + reason + ")"));
  }
  return ok_status();
}

PluginProcess::~PluginProcess() {
  if (m_fd >= 0) ::close(m_fd);  // the runner reads end-of-file and exits
  if (m_pid > 0 && !m_lost) reap(false);
}

void PluginProcess::reap(bool kill_first) {
  if (m_pid <= 0) return;
  if (kill_first) ::kill(m_pid, SIGKILL);
  // A child that closed its end may still be on its way out: give it a moment, then kill.
  for (int i = 0; i < 200; ++i) {
    const pid_t r = ::waitpid(m_pid, &m_wait_status, WNOHANG);
    if (r == m_pid || (r < 0 && errno != EINTR)) {
      m_pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(m_pid, SIGKILL);
  while (::waitpid(m_pid, &m_wait_status, 0) < 0 && errno == EINTR) {
  }
  m_pid = -1;
}

Error PluginProcess::lose(const char* op, ipc::ReadStatus why) {
  std::string what;
  if (why == ipc::ReadStatus::timeout) {
    reap(true);
    what = m_cancel_expired ? "plugin " + m_plugin + " did not return from " + op + " within " +
                                  seconds_text(m_limits.cancel_grace) +
                                  " of the cancellation; its process was killed"
                            : "plugin " + m_plugin + " timed out in " + op + " after " +
                                  seconds_text(m_limits.timeout) + "; its process was killed";
  } else if (why == ipc::ReadStatus::bad_frame) {
    reap(true);
    what =
        "plugin " + m_plugin + " broke the runner's protocol in " + op + "; its process was killed";
  } else {
    reap(false);
    if (WIFSIGNALED(m_wait_status))
      what = "plugin " + m_plugin + " crashed in " + op + " (" +
             signal_text(WTERMSIG(m_wait_status)) + ")";
    else if (WIFEXITED(m_wait_status))
      what = "plugin " + m_plugin + " exited in " + op + " (exit status " +
             std::to_string(WEXITSTATUS(m_wait_status)) + ")";
    else
      what = "plugin " + m_plugin + " stopped answering in " + op;
  }
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  m_lost = what;
  return make_error(what, ErrorKind::internal);
}

ipc::ReadStatus PluginProcess::receive(std::uint64_t len, cw_sink out) {
  if (ReplyBuffer* buffer = as_reply_buffer(out)) {
    if (!buffer->make_room(static_cast<std::size_t>(std::min<std::uint64_t>(len, SIZE_MAX))))
      return m_channel->read_payload(len, [](const char*, std::size_t) {});
    const std::size_t at = buffer->body.size();
    buffer->body.resize(at + static_cast<std::size_t>(len));
    return m_channel->read_payload_into(len, buffer->body.data() + at);
  }
  return m_channel->read_payload(len, [&out](const char* p, std::size_t n) {
    if (out.write != nullptr) out.write(out.ctx, p, n);
  });
}

Result<json> PluginProcess::transact(const char* op, const json& head, std::string_view payload,
                                     cw_sink out) {
  if (m_lost) return make_error(*m_lost, ErrorKind::internal);
  m_spent = std::chrono::milliseconds(0);
  m_cancel_seen.reset();
  m_cancel_expired = false;
  m_wait_since = Clock::now();
  // A failed send means the child is gone: the read below reports how.
  m_channel->send(head, payload);
  for (;;) {
    json msg;
    std::uint64_t len = 0;
    if (const auto s = m_channel->read_head(msg, len); s != ipc::ReadStatus::ok) return lose(op, s);
    const std::string m = msg.value("m", std::string());
    // Part of the reply, streamed while the plugin writes it (the runner holds no reply
    // whole); the plugin's clock runs on.
    if (m == "chunk") {
      if (const auto s = receive(len, out); s != ipc::ReadStatus::ok) return lose(op, s);
      continue;
    }
    const bool service = m == "log" || m == "http" || m == "now" || m == "is_cancelled" ||
                         m == "kv_get" || m == "kv_put" || m == "get_secret" || m == "put_secret";
    if (!service) {
      if (const auto s = receive(len, out); s != ipc::ReadStatus::ok) return lose(op, s);
      return msg;
    }
    std::string body;
    if (const auto s = m_channel->read_payload(len, body); s != ipc::ReadStatus::ok)
      return lose(op, s);
    const auto now = Clock::now();
    m_spent += std::chrono::duration_cast<std::chrono::milliseconds>(now - m_wait_since);
    serve(msg, body);
    m_wait_since = Clock::now();
  }
}

void PluginProcess::serve(const json& head, const std::string& payload) {
  const std::string m = head.value("m", std::string());
  const auto id = head.value("i", std::uint64_t{0});
  const cw_host_api* host = m_library_host;
  if (id != 0) {
    const auto it = m_instances.find(id);
    host = it == m_instances.end() ? nullptr : it->second.host;
  }
  if (m == "log") {
    if (host != nullptr)
      host->log(host->host_ctx, head.value("level", CW_LOG_INFO), payload.data(), payload.size());
    return;
  }
  if (host == nullptr) {
    m_channel->send({{"m", "reply"}, {"status", CW_STATUS_UNSUPPORTED}, {"value", 0}});
    return;
  }
  void* ctx = host->host_ctx;
  if (m == "now") {
    m_channel->send({{"m", "reply"}, {"value", host->now(ctx)}});
  } else if (m == "is_cancelled") {
    m_channel->send({{"m", "reply"}, {"value", host->is_cancelled(ctx)}});
  } else if (m == "http") {
    std::string meta, body;
    const cw_status st = host->http(ctx, payload.data(), payload.size(), cw_sink{&meta, &append},
                                    cw_sink{&body, &append});
    m_channel->send({{"m", "reply"}, {"status", st}, {"meta", meta}}, body);
  } else if (m == "kv_get" || m == "get_secret") {
    std::string value;
    const auto fn = m == "kv_get" ? host->kv_get : host->get_secret;
    const cw_status st = fn(ctx, payload.data(), payload.size(), cw_sink{&value, &append});
    m_channel->send({{"m", "reply"}, {"status", st}}, value);
  } else {  // kv_put, put_secret: the payload is the key, then the value
    const auto key_len =
        std::min<std::size_t>(head.value("key_len", std::size_t{0}), payload.size());
    const auto fn = m == "kv_put" ? host->kv_put : host->put_secret;
    const cw_status st =
        fn(ctx, payload.data(), key_len, payload.data() + key_len, payload.size() - key_len);
    m_channel->send({{"m", "reply"}, {"status", st}});
  }
}

Result<RemoteLoad> PluginProcess::load(const fs::path& path, const cw_host_api* library_host) {
  std::lock_guard lock(m_mutex);
  m_library_host = library_host;
  m_path = path;
  auto reply = transact("cwsdk_entry",
                        {{"m", "load"},
                         {"path", path.string()},
                         {"major", library_host->abi_major},
                         {"minor", library_host->abi_minor}},
                        {}, k_discard);
  if (!reply) return reply.error();
  RemoteLoad out;
  out.stage = reply->value("stage", std::string("null"));
  out.detail = reply->value("detail", std::string());
  if (out.stage != "ok") return out;
  cw_provider_api& t = out.table;
  t.struct_size = reply->value("struct_size", std::uint32_t{0});
  t.abi_major = reply->value("abi_major", std::uint16_t{0});
  t.abi_minor = reply->value("abi_minor", std::uint16_t{0});
  for (const auto& op : reply->value("ops", json::array())) {
    const std::string name = op.is_string() ? op.get<std::string>() : std::string();
    if (name == "manifest") t.manifest = &manifest_marker;
    if (name == "create") t.create = &create_marker;
    if (name == "destroy") t.destroy = &destroy_trampoline;
    if (name == "health") t.health = &trampoline<0>;
    if (name == "build_index") t.build_index = &trampoline<1>;
    if (name == "add") t.add = &trampoline<2>;
    if (name == "remove") t.remove = &trampoline<3>;
    if (name == "update") t.update = &trampoline<4>;
    if (name == "scrobble") t.scrobble = &trampoline<5>;
    if (name == "auth_start") t.auth_start = &trampoline<6>;
    if (name == "auth_poll") t.auth_poll = &trampoline<7>;
    if (name == "action") t.action = &trampoline<8>;
    if (name == "lookup") t.lookup = &trampoline<9>;
    if (name == "resolve_ids") t.resolve_ids = &trampoline<10>;
  }
  return out;
}

Result<std::optional<std::string>> PluginProcess::manifest() {
  std::lock_guard lock(m_mutex);
  std::string text;
  auto reply = transact("manifest", {{"m", "manifest"}}, {}, string_sink(text));
  if (!reply) return reply.error();
  if (reply->value("threw", false)) throw std::runtime_error("manifest() threw an exception");
  if (!reply->value("ok", false)) return std::optional<std::string>();
  return std::optional<std::string>(std::move(text));
}

cw_instance* PluginProcess::create(const cw_host_api* host, const char* config, size_t len,
                                   cw_sink err) {
  std::lock_guard lock(m_mutex);
  const std::uint64_t id = m_next_id++;
  // Kept so that a restarted child can create the instance again.
  m_instances[id] = Instance{host, config == nullptr ? std::string() : std::string(config, len)};
  std::string reason;
  auto reply = transact("create", {{"m", "create"}, {"i", id}},
                        std::string_view(config, config == nullptr ? 0 : len), string_sink(reason));
  if (!reply) {
    m_instances.erase(id);
    write_to_sink(err, reply.error().message);
    return nullptr;
  }
  if (reply->value("threw", false)) {
    m_instances.erase(id);
    throw std::runtime_error(reply->value("what", std::string("an exception")));
  }
  if (!reply->value("ok", false)) {
    m_instances.erase(id);
    write_to_sink(err, reason);
    return nullptr;
  }
  return reinterpret_cast<cw_instance*>(new RemoteInstance{this, id});
}

cw_status PluginProcess::call(std::uint64_t instance, const char* op, const char* request,
                              size_t len, cw_sink out) {
  std::lock_guard lock(m_mutex);
  auto reply = transact(op, {{"m", "call"}, {"i", instance}, {"op", op}},
                        std::string_view(request, request == nullptr ? 0 : len), out);
  if (!reply) {
    // A reply cut short by the plugin's end is no reply: only the reason remains.
    if (ReplyBuffer* buffer = as_reply_buffer(out)) {
      buffer->body.clear();
      buffer->overflow = false;
    }
    write_to_sink(out, json{{"message", reply.error().message}}.dump(
                           -1, ' ', false, json::error_handler_t::replace));
    return CW_STATUS_INTERNAL;
  }
  // The plugin threw across the ABI: the host's callers report that as they do in process.
  if (reply->value("threw", false)) throw std::runtime_error("the operation threw");
  return reply->value("status", CW_STATUS_INTERNAL);
}

void PluginProcess::destroy(std::uint64_t instance) {
  std::lock_guard lock(m_mutex);
  if (!m_lost) (void)transact("destroy", {{"m", "destroy"}, {"i", instance}}, {}, k_discard);
  m_instances.erase(instance);
}

}  // namespace cw::plugin
