// `cw auth login` and `cw provider` build their context where `cw run` does (sync::Session):
// the configuration validated and its secrets marked, the `http:` block, and the plugin's
// persisted kv store. Driven through a real configuration and a probe plugin that reports
// what it was given.
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cw/cli/exit_codes.hpp>

#include "cli_test_support.hpp"

namespace fs = std::filesystem;
using cw::test::cw_main;
using cw::test::TempDir;
using nlohmann::json;

namespace {

constexpr const char* k_secret = "sk-probe-secret-7d41";

// A loopback server that answers /ping and remembers the User-Agent it was sent.
class PingServer {
 public:
  PingServer() {
    m_server.Get("/ping", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_user_agents.push_back(req.get_header_value("User-Agent"));
      res.set_content("pong", "text/plain");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~PingServer() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<std::string> user_agents() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_user_agents;
  }

 private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<std::string> m_user_agents;
};

struct ProbeConfig {
  TempDir dir;
  PingServer server;
  std::string config;

  explicit ProbeConfig(const std::string& url_value = "") {
    config = (dir.path / "cw.yaml").string();
    std::ofstream(config) << "state_dir: state\n"
                          << "http:\n  user_agent: cw-probe-test/1\n"
                          << "providers:\n  p:\n    plugin: probe\n"
                          << "    url: "
                          << (url_value.empty() ? "\"" + server.url() + "\"" : url_value)
                          << "\n    api_key: \"" << k_secret << "\"\n";
  }
  cw::test::Run cw(std::vector<std::string> args) const {
    args.insert(args.begin(),
                {"--log-level", "off", "--plugin-dir", CW_PROBE_PLUGIN_DIR, "--config", config});
    return cw_main(args);
  }
};

json action(const ProbeConfig& s) {
  const auto r = s.cw({"provider", "p", "probe", "--output", "text"});
  EXPECT_EQ(r.code, cw::cli::k_exit_ok) << r.err;
  EXPECT_EQ(r.out.find(k_secret), std::string::npos) << "the secret reached stdout: " << r.out;
  return json::parse(r.out, nullptr, false);
}

TEST(CompositionRoot, ProviderActionGetsTheConfiguredHttpAndItsPersistedKv) {
  ProbeConfig s;
  const json first = action(s);
  ASSERT_TRUE(first.is_object());
  EXPECT_EQ(first["action_calls"], 1);
  EXPECT_EQ(first["http_status"], 200);
  EXPECT_EQ(first["http_body"], "pong");
  // The `http:` block applies (before, `cw provider` built a default HTTP client).
  EXPECT_EQ(s.server.user_agents(), (std::vector<std::string>{"cw-probe-test/1"}));
  // The secret setting is marked: create() never sees it in clear.
  EXPECT_NE(first["api_key_in_settings"], k_secret);
  // Before, the plugin was given an in-memory kv store: every call was the first.
  EXPECT_EQ(action(s)["action_calls"], 2);
}

TEST(CompositionRoot, AuthLoginGetsTheSameContext) {
  ProbeConfig s;
  const auto login = s.cw({"auth", "login", "p", "--non-interactive", "--field", "username=alice"});
  ASSERT_EQ(login.code, cw::cli::k_exit_ok) << login.err;
  EXPECT_EQ(login.err.find(k_secret), std::string::npos);
  // What the sign-in wrote to its kv store is there for the next command.
  EXPECT_EQ(action(s)["auth_calls"], 1);
  const auto status = s.cw({"auth", "status", "p"});
  EXPECT_EQ(status.code, cw::cli::k_exit_ok);
  EXPECT_NE(status.out.find("token"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("token-of-alice"), std::string::npos) << "a token value was printed";
}

TEST(CompositionRoot, BothValidateTheSettingsAgainstThePluginSchema) {
  ProbeConfig s("5");  // url must be a string
  const auto login = s.cw({"auth", "login", "p", "--non-interactive", "--field", "username=a"});
  EXPECT_EQ(login.code, cw::cli::k_exit_config) << login.err;
  EXPECT_NE(login.err.find("providers.p"), std::string::npos) << login.err;
  EXPECT_EQ(s.cw({"provider", "p", "probe"}).code, cw::cli::k_exit_config);
}

TEST(CompositionRoot, AnUnknownInstanceIsAUsageError) {
  ProbeConfig s;
  const auto r = s.cw({"auth", "login", "nope", "--non-interactive"});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
  EXPECT_NE(r.err.find("no provider instance \"nope\""), std::string::npos) << r.err;
  EXPECT_EQ(s.cw({"provider", "nope", "probe"}).code, cw::cli::k_exit_usage);
}

}  // namespace
