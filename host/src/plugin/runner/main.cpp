// cw-plugin-runner: the process an isolated plugin runs in. cw starts it with one end of a
// socket pair on fd 3 (host/src/plugin/ipc.hpp), then asks it to load one plugin file and
// to call the plugin's functions; every cw_host_api service the plugin calls becomes a
// request to cw, answered before the service returns. Whatever the plugin does to this
// process (a segfault, abort(), an endless loop) costs cw one plugin, not the run.
//
// The messages are documented in sdk/ABI.md ("Isolated plugins"). This program knows
// nothing of cw beyond the ABI header and the framing.

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cwsdk/cwsdk.h>

#include <cw/plugin/ipc.hpp>
#include <cw/plugin/sinks.hpp>

// A plugin that crashes must die of its signal, so that cw can name it: the address
// sanitizer's own handlers (in a sanitized build) would turn a SIGSEGV into a report and
// exit code 1. Without the sanitizer this function is never called.
extern "C" const char* __asan_default_options();  // NOLINT: the sanitizer's hook
extern "C" const char* __asan_default_options() {
  return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0";
}

namespace {

using cw::plugin::ipc::Channel;
using cw::plugin::ipc::ReadStatus;
using nlohmann::json;

Channel g_channel(cw::plugin::ipc::k_child_fd);
// A plugin may call services from several threads: one request and its reply at a time.
std::mutex g_io;

[[noreturn]] void host_gone() {
  // cw closed its end or died (its death signal follows): nothing is left to answer.
  std::_Exit(0);
}

struct HostCtx {
  std::uint64_t id = 0;  // 0: the library-wide table given to cwsdk_entry
  cw_host_api api{};
};

// Sends a service request and waits for its reply; the reply's payload goes to `payload`.
json request(const json& head, std::string_view a, std::string_view b, std::string* payload) {
  std::lock_guard lock(g_io);
  if (!g_channel.send(head, a, b)) host_gone();
  json reply;
  std::uint64_t len = 0;
  if (g_channel.read_head(reply, len) != ReadStatus::ok) host_gone();
  std::string sink;
  if (g_channel.read_payload(len, payload != nullptr ? *payload : sink) != ReadStatus::ok)
    host_gone();
  return reply;
}

std::uint64_t id_of(void* ctx) { return static_cast<HostCtx*>(ctx)->id; }

cw_status status_of(const json& reply) { return reply.value("status", CW_STATUS_INTERNAL); }

void svc_log(void* ctx, int32_t level, const char* msg, size_t len) {
  std::lock_guard lock(g_io);
  // No reply: a log line costs one write, not a round trip.
  if (!g_channel.send(json{{"m", "log"}, {"i", id_of(ctx)}, {"level", level}},
                      msg == nullptr ? std::string_view{} : std::string_view(msg, len)))
    host_gone();
}

cw_status svc_http(void* ctx, const char* req, size_t len, cw_sink meta, cw_sink body) {
  std::string payload;
  const json reply =
      request(json{{"m", "http"}, {"i", id_of(ctx)}},
              req == nullptr ? std::string_view{} : std::string_view(req, len), {}, &payload);
  cw::plugin::write_to_sink(body, payload);
  cw::plugin::write_to_sink(meta, reply.value("meta", std::string()));
  return status_of(reply);
}

int64_t svc_now(void* ctx) {
  return request(json{{"m", "now"}, {"i", id_of(ctx)}}, {}, {}, nullptr).value("value", 0LL);
}

int32_t svc_is_cancelled(void* ctx) {
  return request(json{{"m", "is_cancelled"}, {"i", id_of(ctx)}}, {}, {}, nullptr).value("value", 0);
}

cw_status get_value(const char* m, void* ctx, const char* key, size_t key_len, cw_sink value) {
  std::string payload;
  const json reply =
      request(json{{"m", m}, {"i", id_of(ctx)}},
              key == nullptr ? std::string_view{} : std::string_view(key, key_len), {}, &payload);
  cw::plugin::write_to_sink(value, payload);
  return status_of(reply);
}

cw_status put_value(const char* m, void* ctx, const char* key, size_t key_len, const char* value,
                    size_t value_len) {
  if ((key == nullptr && key_len != 0) || (value == nullptr && value_len != 0))
    return CW_STATUS_INVALID_ARG;
  const json reply =
      request(json{{"m", m}, {"i", id_of(ctx)}, {"key_len", key_len}},
              key == nullptr ? std::string_view{} : std::string_view(key, key_len),
              value == nullptr ? std::string_view{} : std::string_view(value, value_len), nullptr);
  return status_of(reply);
}

cw_status svc_kv_get(void* ctx, const char* key, size_t len, cw_sink value) {
  return get_value("kv_get", ctx, key, len, value);
}
cw_status svc_kv_put(void* ctx, const char* key, size_t len, const char* v, size_t vlen) {
  return put_value("kv_put", ctx, key, len, v, vlen);
}
cw_status svc_get_secret(void* ctx, const char* name, size_t len, cw_sink value) {
  return get_value("get_secret", ctx, name, len, value);
}
cw_status svc_put_secret(void* ctx, const char* name, size_t len, const char* v, size_t vlen) {
  return put_value("put_secret", ctx, name, len, v, vlen);
}

std::unique_ptr<HostCtx> make_host(std::uint64_t id, uint16_t major, uint16_t minor) {
  auto h = std::make_unique<HostCtx>();
  h->id = id;
  h->api.struct_size = sizeof(cw_host_api);
  h->api.abi_major = major;
  h->api.abi_minor = minor;
  h->api.host_ctx = h.get();
  h->api.log = &svc_log;
  h->api.http = &svc_http;
  h->api.now = &svc_now;
  h->api.is_cancelled = &svc_is_cancelled;
  h->api.kv_get = &svc_kv_get;
  h->api.kv_put = &svc_kv_put;
  h->api.get_secret = &svc_get_secret;
  h->api.put_secret = &svc_put_secret;
  return h;
}

void append(void* ctx, const char* data, size_t len) {
  if (data != nullptr) static_cast<std::string*>(ctx)->append(data, len);
}

// Every reply of the runner goes through here, under the same lock as service requests
// (a plugin thread could still be calling a service).
void reply(const json& head, std::string_view payload = {}) {
  std::lock_guard lock(g_io);
  if (!g_channel.send(head, payload)) host_gone();
}

// An operation's reply, streamed: what the plugin writes to its sink goes to cw as
// "chunk" frames once at least k_chunk bytes are pending (a large write straight from the
// plugin's memory); the rest travels with the result. The runner never holds a reply
// whole, so a 30 MB index costs no copy here.
constexpr std::size_t k_chunk = std::size_t{1} << 20;
struct ReplyStream {
  std::string pending;
};

void stream_write(void* ctx, const char* data, size_t len) {
  auto& s = *static_cast<ReplyStream*>(ctx);
  if (data == nullptr || len == 0) return;
  if (s.pending.size() + len < k_chunk) {
    s.pending.append(data, len);
    return;
  }
  std::lock_guard lock(g_io);
  if (!g_channel.send({{"m", "chunk"}}, s.pending, std::string_view(data, len))) host_gone();
  s.pending.clear();
}

struct Plugin {
  boost::dll::shared_library dll;
  std::unique_ptr<HostCtx> library_host;
  cw_provider_api api{};
  std::map<std::uint64_t, std::pair<std::unique_ptr<HostCtx>, cw_instance*>> instances;
  uint16_t host_major = CWSDK_VERSION_MAJOR;
  uint16_t host_minor = CWSDK_VERSION_MINOR;
};

// The facts of a load, for the host to judge with the same checks as an in-process load.
json load(Plugin& p, const json& head) {
  const std::string path = head.value("path", std::string());
  p.host_major = head.value("major", static_cast<uint16_t>(CWSDK_VERSION_MAJOR));
  p.host_minor = head.value("minor", static_cast<uint16_t>(CWSDK_VERSION_MINOR));
  boost::dll::fs::error_code ec;
  p.dll.load(boost::dll::fs::path(path),
             boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !p.dll.is_loaded()) {
    const char* why = ::dlerror();
    return {{"m", "loaded"}, {"stage", "dlopen"}, {"detail", why != nullptr ? why : ec.message()}};
  }
  if (!p.dll.has(CWSDK_ENTRY_SYMBOL)) return {{"m", "loaded"}, {"stage", "symbol"}};
  auto& entry = p.dll.get<std::remove_pointer_t<cwsdk_entry_fn>>(CWSDK_ENTRY_SYMBOL);
  p.library_host = make_host(0, p.host_major, p.host_minor);
  std::string err;
  const cw_provider_api* table = nullptr;
  try {
    table = entry(p.host_major, p.host_minor, &p.library_host->api, cw_sink{&err, &append});
  } catch (const std::exception& e) {
    return {{"m", "loaded"}, {"stage", "threw"}, {"detail", e.what()}};
  } catch (...) {
    return {{"m", "loaded"}, {"stage", "threw"}};
  }
  if (table == nullptr) return {{"m", "loaded"}, {"stage", "null"}, {"detail", err}};
  json out = {{"m", "loaded"}, {"stage", "ok"}, {"struct_size", table->struct_size}};
  constexpr std::size_t k_header = offsetof(cw_provider_api, abi_minor) + sizeof(uint16_t);
  if (table->struct_size < k_header) return out;
  std::memcpy(&p.api, table, std::min<std::size_t>(table->struct_size, sizeof(cw_provider_api)));
  out["abi_major"] = p.api.abi_major;
  out["abi_minor"] = p.api.abi_minor;
  const std::pair<const char*, bool> ops[] = {
      {"manifest", p.api.manifest != nullptr},       {"create", p.api.create != nullptr},
      {"destroy", p.api.destroy != nullptr},         {"health", p.api.health != nullptr},
      {"build_index", p.api.build_index != nullptr}, {"add", p.api.add != nullptr},
      {"remove", p.api.remove != nullptr},           {"update", p.api.update != nullptr},
      {"scrobble", p.api.scrobble != nullptr},       {"auth_start", p.api.auth_start != nullptr},
      {"auth_poll", p.api.auth_poll != nullptr},     {"action", p.api.action != nullptr},
      {"lookup", p.api.lookup != nullptr},           {"resolve_ids", p.api.resolve_ids != nullptr}};
  out["ops"] = json::array();
  for (const auto& [name, present] : ops)
    if (present) out["ops"].push_back(name);
  return out;
}

cw_operation_fn operation(const cw_provider_api& api, const std::string& op) {
  if (op == "health") return api.health;
  if (op == "build_index") return api.build_index;
  if (op == "add") return api.add;
  if (op == "remove") return api.remove;
  if (op == "update") return api.update;
  if (op == "scrobble") return api.scrobble;
  if (op == "auth_start") return api.auth_start;
  if (op == "auth_poll") return api.auth_poll;
  if (op == "action") return api.action;
  if (op == "lookup") return api.lookup;
  if (op == "resolve_ids") return api.resolve_ids;
  return nullptr;
}

void serve(Plugin& p) {
  for (;;) {
    json head;
    std::uint64_t len = 0;
    std::string payload;
    if (g_channel.read_head(head, len) != ReadStatus::ok) return;
    if (g_channel.read_payload(len, payload) != ReadStatus::ok) return;
    const std::string m = head.value("m", std::string());
    const std::uint64_t id = head.value("i", std::uint64_t{0});
    if (m == "load") {
      reply(load(p, head));
    } else if (m == "manifest") {
      size_t n = 0;
      const char* text = nullptr;
      try {
        text = p.api.manifest != nullptr ? p.api.manifest(&n) : nullptr;
      } catch (...) {
        reply({{"m", "manifest"}, {"threw", true}});
        continue;
      }
      reply({{"m", "manifest"}, {"ok", text != nullptr}},
            text != nullptr ? std::string_view(text, n) : std::string_view{});
    } else if (m == "create") {
      auto host = make_host(id, p.host_major, p.host_minor);
      std::string err;
      cw_instance* inst = nullptr;
      try {
        inst = p.api.create(&host->api, payload.data(), payload.size(), cw_sink{&err, &append});
      } catch (const std::exception& e) {
        reply({{"m", "created"}, {"threw", true}, {"what", e.what()}});
        continue;
      } catch (...) {
        reply({{"m", "created"}, {"threw", true}});
        continue;
      }
      if (inst != nullptr) p.instances[id] = {std::move(host), inst};
      reply({{"m", "created"}, {"ok", inst != nullptr}}, err);
    } else if (m == "call") {
      const auto it = p.instances.find(id);
      const cw_operation_fn fn = operation(p.api, head.value("op", std::string()));
      if (it == p.instances.end() || fn == nullptr) {
        reply({{"m", "result"}, {"status", CW_STATUS_UNSUPPORTED}},
              R"({"message":"no such instance or operation in the plugin runner"})");
        continue;
      }
      ReplyStream out;
      cw_status st = CW_STATUS_INTERNAL;
      try {
        st = fn(it->second.second, payload.data(), payload.size(), cw_sink{&out, &stream_write});
      } catch (...) {
        reply({{"m", "result"}, {"threw", true}});
        continue;
      }
      reply({{"m", "result"}, {"status", st}}, out.pending);
    } else if (m == "destroy") {
      const auto it = p.instances.find(id);
      if (it != p.instances.end()) {
        try {
          p.api.destroy(it->second.second);
        } catch (...) {
          // destroy "never fails"; the host does not care whether it threw.
        }
        p.instances.erase(it);
      }
      reply({{"m", "destroyed"}});
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // cw gives its pid: the runner dies with it (a killed cw leaves no plugin behind), and
  // a cw that died before this line is noticed.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 2 || std::to_string(::getppid()) != argv[1]) return 70;
  // A crash is reported by cw in one line: no core file in the user's folder.
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  // Cancellation reaches the plugin through is_cancelled; the terminal's SIGINT goes to cw.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  // Freed memory stays with the process for the next call: a plugin builds its large
  // replies (an index of tens of MB) in the same pages each time, as it would in cw's warm
  // heap, instead of in fresh ones that cost a page fault every 4 KiB.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::setenv(cw::plugin::ipc::k_isolated_env, "1", 1);
  Plugin plugin;
  serve(plugin);
  // Instances cw did not destroy (it died, or closed the socket): destroy them now, so a
  // plugin flushes what it holds, as it would in cw's process.
  for (auto& [id, inst] : plugin.instances) {
    try {
      plugin.api.destroy(inst.second);
    } catch (...) {
      // as above
    }
  }
  plugin.instances.clear();
  return 0;
}
