// Isolated plugins (host/src/plugin/plugin_process.hpp): a plugin that dies or hangs in
// its own process costs the host one plugin and one line, never the process; the child is
// reaped; an isolated well-behaved plugin answers exactly as it does in process, host
// services (HTTP, kv, secrets, log, clock) included.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <cwtest/fake_http_service.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cw/plugin/checker.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/services/secrets/secret_store.hpp>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cw;
using namespace cw::plugin;

namespace {

fs::path plugin_file(const std::string& name) {
  return fs::path(CW_ABI_PLUGIN_DIR) / ("cw-provider-" + name + ".so");
}

class MapSecrets final : public services::SecretStore {
 public:
  std::map<std::string, std::string> values;
  Result<std::string> get(const std::string& instance, const std::string& name) override {
    const auto it = values.find(instance + "/" + name);
    if (it == values.end()) return make_error("no secret " + name, ErrorKind::not_found);
    return it->second;
  }
  Status put(const std::string& instance, const std::string& name,
             const std::string& value) override {
    values[instance + "/" + name] = value;
    return ok_status();
  }
};

// True once `pid` is neither running nor a zombie waiting to be reaped.
bool reaped(pid_t pid) { return pid > 0 && ::kill(pid, 0) == -1 && errno == ESRCH; }

class IsolationTest : public ::testing::Test {
 protected:
  std::ostringstream m_log_text;
  services::Logger m_logger{services::LogLevel::debug, services::LogFormat::text,
                            std::make_shared<spdlog::sinks::ostream_sink_mt>(m_log_text)};
  services::ManualClock m_clock{1'700'000'000'000};
  services::FlagCancelToken m_cancel;
  services::MemoryKvStore m_kv;
  MapSecrets m_secrets;
  services::FakeHttpService m_http;
  HostServices m_services{m_logger, m_clock, m_cancel, &m_kv, &m_secrets, &m_http, false};

  static LoadOptions isolated(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    LoadOptions o;
    o.isolated = true;
    o.timeout = timeout;
    return o;
  }

  std::shared_ptr<Library> load(const std::string& name, const LoadOptions& options) {
    auto lib = Library::load(plugin_file(name), m_services, options);
    EXPECT_TRUE(lib.ok()) << (lib.ok() ? "" : lib.error().message);
    return lib.ok() ? *lib : nullptr;
  }

  std::unique_ptr<ProviderInstance> make(const std::shared_ptr<Library>& lib,
                                         const std::string& name = "inst") {
    auto inst = ProviderInstance::create(lib, name, json::object(), m_services);
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().message);
    return inst.ok() ? std::move(*inst) : nullptr;
  }

  // Loads `name` isolated, lets build_index kill it, and checks the one-line error, that
  // the library is lost for good and that the child was reaped.
  void expect_lost_in_index(const std::string& name, const std::string& what,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto lib = load(name, isolated(timeout));
    ASSERT_TRUE(lib);
    ASSERT_TRUE(lib->isolated());
    const pid_t pid = lib->child_pid();
    auto inst = make(lib);
    ASSERT_TRUE(inst);
    ASSERT_TRUE(inst->health().ok());
    auto idx = inst->build_index("watchlist", std::nullopt);
    ASSERT_FALSE(idx.ok());
    const std::string line = "plugin " + name + " " + what;
    EXPECT_EQ(idx.error().message, "provider inst (plugin " + name + ") build_index: " + line);
    EXPECT_EQ(idx.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(lib->lost(), line);
    EXPECT_TRUE(reaped(pid)) << "the plugin's process " << pid << " was not reaped";
    // Every later call fails at once with the same reason; destroying is harmless.
    auto again = inst->health();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().message, "provider inst (plugin " + name + ") health: " + line);
    inst.reset();
  }
};

TEST_F(IsolationTest, SegfaultInAnOperationIsOneLine) {
  expect_lost_in_index("segvindex", "crashed in build_index (signal 11, SIGSEGV)");
}

TEST_F(IsolationTest, AbortInAnOperationIsOneLine) {
  expect_lost_in_index("abortindex", "crashed in build_index (signal 6, SIGABRT)");
}

TEST_F(IsolationTest, HangIsKilledWhenTheTimeoutRunsOut) {
  expect_lost_in_index("hangindex", "timed out in build_index after 1 s; its process was killed",
                       std::chrono::seconds(1));
}

// A lost plugin comes back in a fresh process with every live instance created again under
// its configuration, as many times as the limit allows; then it stays lost, saying why.
TEST_F(IsolationTest, ALostPluginIsRestartedWithItsInstancesABoundedNumberOfTimes) {
  LoadOptions options = isolated();
  options.restarts = 2;
  auto lib = load("segvindex", options);
  ASSERT_TRUE(lib);
  auto crashing = make(lib, "crashing");
  auto bystander = make(lib, "bystander");
  ASSERT_TRUE(crashing && bystander);
  EXPECT_TRUE(lib->restart().ok()) << "nothing to restart: a no-op";
  const std::string line = "plugin segvindex crashed in build_index (signal 11, SIGSEGV)";
  for (int round = 1; round <= 2; ++round) {
    const pid_t before = lib->child_pid();
    ASSERT_FALSE(crashing->build_index("watchlist", std::nullopt).ok());
    EXPECT_EQ(lib->lost(), line);
    EXPECT_TRUE(reaped(before));
    EXPECT_FALSE(bystander->health().ok()) << "lost: every instance fails at once";
    const auto restarted = lib->restart();
    ASSERT_TRUE(restarted.ok()) << restarted.error().message;
    EXPECT_EQ(*restarted, round) << "which restart of the run, for the log line";
    EXPECT_FALSE(lib->lost());
    EXPECT_NE(lib->child_pid(), before);
    EXPECT_TRUE(bystander->health().ok()) << "round " << round;
    EXPECT_TRUE(crashing->health().ok()) << "round " << round;
  }
  ASSERT_FALSE(crashing->build_index("watchlist", std::nullopt).ok());
  const std::string given_up =
      line + "; not restarted again (2 restarts this run, the most plugins.restarts allows)";
  const auto third = lib->restart();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().message, given_up);
  EXPECT_EQ(lib->lost(), given_up);
  EXPECT_EQ(lib->restart().error().message, given_up) << "said once";
}

// A child killed from outside is lost like one that crashed; the restarted child creates
// the instance from the configuration it was first given (cplain refuses anything but a
// JSON object) and serves it with the instance's own services (its log line).
TEST_F(IsolationTest, ARestartedInstanceGetsItsConfigurationAndServicesBack) {
  LoadOptions options = isolated();
  options.restarts = 1;
  auto lib = load("cplain", options);
  ASSERT_TRUE(lib);
  auto inst = make(lib, "kept");
  ASSERT_TRUE(inst);
  ASSERT_EQ(::kill(lib->child_pid(), SIGKILL), 0);
  auto failed = inst->health();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(lib->lost(), "plugin cplain crashed in health (signal 9, SIGKILL)");
  const auto restarted = lib->restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  EXPECT_TRUE(inst->health().ok());
  // cplain logs "created" through the instance's own services: once per child.
  std::istringstream log(m_log_text.str());
  int created = 0;
  for (std::string line; std::getline(log, line);)
    if (line.find("kept") != std::string::npos && line.find("created") != std::string::npos)
      ++created;
  EXPECT_EQ(created, 2) << m_log_text.str();
}

TEST_F(IsolationTest, SegfaultInEntryIsOneRejection) {
  const auto path = plugin_file("segventry");
  auto lib = Library::load(path, m_services, isolated());
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.error().message, "skipped plugin " + path.string() +
                                     ": plugin segventry crashed in cwsdk_entry (signal 11, "
                                     "SIGSEGV)");
}

TEST_F(IsolationTest, RegistryLoadsTheOthersWhenOneCrashesInEntry) {
  IsolationPolicy policy;
  policy.mode = IsolationPolicy::Mode::all;
  Registry registry(m_services, policy);
  ASSERT_TRUE(registry.load_file(plugin_file("cplain")));
  EXPECT_FALSE(registry.load_file(plugin_file("segventry")));
  ASSERT_TRUE(registry.load_file(plugin_file("createfails")));
  EXPECT_EQ(registry.plugins().size(), 2u);
  ASSERT_EQ(registry.rejections().size(), 1u);
  EXPECT_NE(registry.rejections()[0].message.find("crashed in cwsdk_entry"), std::string::npos);
  EXPECT_TRUE(registry.find("cplain")->isolated());
}

TEST_F(IsolationTest, UntrustedModeIsolatesOnlyWhatIsOutsideTheTrustedFolders) {
  IsolationPolicy policy;
  policy.mode = IsolationPolicy::Mode::untrusted;
  EXPECT_TRUE(policy.options_for(plugin_file("cplain")).isolated);
  policy.trusted_dirs.push_back(CW_ABI_PLUGIN_DIR);
  EXPECT_FALSE(policy.options_for(plugin_file("cplain")).isolated);
  policy.mode = IsolationPolicy::Mode::all;
  EXPECT_TRUE(policy.options_for(plugin_file("cplain")).isolated);
  policy.in_process.insert("cplain");
  EXPECT_FALSE(policy.options_for(plugin_file("cplain")).isolated);
  policy.timeouts["cplain"] = std::chrono::seconds(7);
  EXPECT_EQ(policy.options_for(plugin_file("cplain")).timeout, std::chrono::seconds(7));
  EXPECT_EQ(policy.options_for(plugin_file("segventry")).timeout, k_default_operation_timeout);
}

// Every host service through the socket gives what it gives in process.
TEST_F(IsolationTest, HostServicesAnswerAsInProcess) {
  std::string messages[2];
  for (int mode = 0; mode < 2; ++mode) {
    m_http.clear();
    m_http.respond("GET", "http://svc.test/items", 200, "items-body");
    m_secrets.values = {{"inst/token", "s3cret"}};
    LoadOptions options;
    if (mode == 1) options = isolated();
    auto lib = load("services", options);
    ASSERT_TRUE(lib);
    EXPECT_EQ(lib->isolated(), mode == 1);
    auto inst = make(lib);
    ASSERT_TRUE(inst);
    auto h = inst->health();
    ASSERT_TRUE(h.ok()) << h.error().message;
    messages[mode] = (*h)["message"].get<std::string>();
    const auto requests = m_http.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].context.instance, "inst");
    EXPECT_EQ(requests[0].context.plugin, "services");
    EXPECT_EQ(m_secrets.values["inst/refresh"], "r-1");
    auto kv = m_kv.get("inst", "wm");
    ASSERT_TRUE(kv.ok());
    EXPECT_EQ(kv->value_or(""), "w-7");
  }
  EXPECT_EQ(messages[0],
            "now=1700000000000 cancelled=0 kv_put=0 kv_get=0:w-7 get_secret=0:s3cret "
            "put_secret=0 http=0:200:items-body");
  EXPECT_EQ(messages[1], messages[0]);
  EXPECT_NE(m_log_text.str().find("services probed"), std::string::npos);
}

// The plain-C plugin's whole contract, isolated: the same documents as in process.
TEST_F(IsolationTest, OperationsAnswerAsInProcess) {
  const json items = json::array({{{"key", "k1"}, {"type", "movie"}, {"ids", {{"imdb", "tt1"}}}},
                                  {{"key", "k2"}, {"type", "movie"}, {"ids", {{"imdb", "tt2"}}}}});
  json replies[2];
  for (int mode = 0; mode < 2; ++mode) {
    auto lib = load("cplain", mode == 1 ? isolated() : LoadOptions{});
    ASSERT_TRUE(lib);
    auto inst = make(lib);
    ASSERT_TRUE(inst);
    json& r = replies[mode];
    r["add"] = inst->add("watchlist", items).value();
    r["index"] = inst->build_index("watchlist", std::nullopt).value();
    r["remove"] = inst->remove("watchlist", json::array({items[0]})).value();
    r["after"] = inst->build_index("watchlist", std::nullopt).value();
    auto raw = inst->call_raw("build_index", "{not json");
    ASSERT_TRUE(raw.ok());
    r["malformed"] = {{"status", raw->status}, {"body", raw->body}};
  }
  EXPECT_EQ(replies[1], replies[0]);
  EXPECT_EQ(replies[0]["after"]["items"].size(), 1u);
}

TEST_F(IsolationTest, CheckReportsTheCrashAsAFailedStep) {
  CheckOptions options;
  options.load = isolated();
  const auto report = check_plugin(plugin_file("segvindex"), json::object(), m_services, options);
  EXPECT_FALSE(report.passed());
  bool seen = false;
  for (const auto& step : report.steps) {
    if (step.name != "build_index watchlist") continue;
    seen = true;
    EXPECT_EQ(step.result, CheckStep::Result::fail);
    EXPECT_NE(step.message.find("plugin segvindex crashed in build_index (signal 11, SIGSEGV)"),
              std::string::npos)
        << step.message;
  }
  EXPECT_TRUE(seen);
}

}  // namespace

// ABI.md "Threads": operations on different instances of one plugin may run at the same
// time on different threads, and create and destroy may run on any thread. Four threads,
// each with its own instance of the plain-C plugin, add, read and remove at once, in
// process and isolated (where the instances share the plugin's one child process and its
// socket): each sees only its own item every time. `make tsan` runs it under
// ThreadSanitizer.
TEST_F(IsolationTest, InstancesOfOnePluginServeSeveralThreadsAtOnce) {
  for (const bool isolate : {false, true}) {
    SCOPED_TRACE(isolate ? "isolated" : "in process");
    auto lib = load("cplain", isolate ? isolated() : LoadOptions{});
    ASSERT_TRUE(lib);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        auto inst =
            ProviderInstance::create(lib, "t" + std::to_string(t), json::object(), m_services);
        if (!inst) {
          ++failures;
          return;
        }
        for (int round = 0; round < 20; ++round) {
          const json item = {{"type", "movie"},
                             {"ids", {{"imdb", "tt" + std::to_string(1000000 + t * 100 + round)}}},
                             {"key", "k"}};
          const auto added = (*inst)->add("watchlist", json::array({item}));
          const auto index = (*inst)->build_index("watchlist", std::nullopt);
          const auto removed = (*inst)->remove("watchlist", json::array({item}));
          if (!added || !index || !removed || (*index)["items"].size() != 1 ||
              (*index)["items"][0]["ids"] != item["ids"])
            ++failures;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures, 0);
  }
}
