// `cw auth login`'s flow against a scripted provider: device code, PIN, password prompts,
// non-interactive fields, denial, expiry and cancellation.
#include <deque>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include <cw/services/secrets/auth_flow.hpp>
#include <cw/services/secrets/redactor.hpp>

namespace cw::services {
namespace {

class ScriptedAuthProvider final : public AuthProvider {
 public:
  ScriptedAuthProvider(std::string kind, std::vector<AuthPrompt> prompts, nlohmann::json start,
                       std::deque<std::string> poll_states)
      : m_kind(std::move(kind)),
        m_prompts(std::move(prompts)),
        m_start(std::move(start)),
        m_states(std::move(poll_states)) {}
  const std::string& instance() const override { return m_instance; }
  std::string auth_kind() const override { return m_kind; }
  std::vector<AuthPrompt> prompts() const override { return m_prompts; }
  bool has_auth_operations() const override { return m_has_ops; }
  Result<nlohmann::json> auth_start(const nlohmann::json& request) override {
    start_request = request;
    return m_start;
  }
  Result<nlohmann::json> auth_poll(const nlohmann::json&) override {
    ++polls;
    if (m_states.empty()) return make_error("poll called too often", ErrorKind::internal);
    const std::string s = m_states.front();
    m_states.pop_front();
    return nlohmann::json{{"state", s}, {"message", s == "done" ? "as user@example" : ""}};
  }

  nlohmann::json start_request;
  int polls = 0;
  bool m_has_ops = true;

 private:
  std::string m_instance = "trakt";
  std::string m_kind;
  std::vector<AuthPrompt> m_prompts;
  nlohmann::json m_start;
  std::deque<std::string> m_states;
};

struct TestIo {
  std::ostringstream out;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> answers;
  std::vector<std::int64_t> sleeps;
  std::vector<std::string> asked;
  bool cancel_on_sleep = false;
  AuthIo io() {
    AuthIo io;
    io.out = &out;
    io.ask = [this](const AuthPrompt& p, std::string& answer) {
      asked.push_back(p.name);
      auto it = answers.find(p.name);
      if (it == answers.end()) return false;
      answer = it->second;
      return true;
    };
    io.getenv = [this](const std::string& name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    };
    io.sleep = [this](std::int64_t ms) {
      sleeps.push_back(ms);
      return !cancel_on_sleep;
    };
    return io;
  }
};

const nlohmann::json k_device_start = {{"kind", "device_code"},
                                       {"user_code", "7QX2KP9M"},
                                       {"verification_url", "https://trakt.tv/activate"},
                                       {"interval_ms", 5000},
                                       {"expires_in_ms", 600000}};

TEST(AuthFlow, DeviceCodeShowsTheCodeAndPollsAtTheInterval) {
  ScriptedAuthProvider p("device_code", {}, k_device_start, {"pending", "pending", "done"});
  TestIo t;
  AuthIo io = t.io();
  auto st = run_auth_login(p, {}, io);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(p.polls, 3);
  EXPECT_EQ(t.sleeps, (std::vector<std::int64_t>{5000, 5000}));
  const std::string out = t.out.str();
  EXPECT_NE(out.find("https://trakt.tv/activate"), std::string::npos) << out;
  EXPECT_NE(out.find("7QX2KP9M"), std::string::npos) << out;
  EXPECT_NE(out.find("Logged in: trakt"), std::string::npos) << out;
}

TEST(AuthFlow, DeniedAndExpiredAreAuthErrors) {
  for (const char* state : {"denied", "expired"}) {
    ScriptedAuthProvider p("device_code", {}, k_device_start, {"pending", state});
    TestIo t;
    AuthIo io = t.io();
    auto st = run_auth_login(p, {}, io);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().kind, ErrorKind::auth);
    EXPECT_NE(st.error().message.find(state), std::string::npos);
  }
}

TEST(AuthFlow, GivesUpWhenTheCodeExpiresWithoutAnAnswer) {
  nlohmann::json start = k_device_start;
  start["expires_in_ms"] = 12000;
  ScriptedAuthProvider p("pin", {}, start, std::deque<std::string>(10, "pending"));
  TestIo t;
  AuthIo io = t.io();
  auto st = run_auth_login(p, {}, io);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::auth);
  EXPECT_EQ(t.sleeps.size(), 2u);  // 5 s + 5 s fit in 12 s, a third would not
}

TEST(AuthFlow, CancelledWhileWaiting) {
  ScriptedAuthProvider p("device_code", {}, k_device_start, {"pending", "pending"});
  TestIo t;
  t.cancel_on_sleep = true;
  AuthIo io = t.io();
  auto st = run_auth_login(p, {}, io);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::cancelled);
}

TEST(AuthFlow, PasswordPromptsAreAskedAndPassedToAuthStart) {
  ScriptedAuthProvider p("password",
                         {{"username", "User name", false}, {"password", "Password", true}},
                         {{"kind", "password"}}, {"done"});
  TestIo t;
  t.answers = {{"username", "alice"}, {"password", "pw-correct-horse"}};
  AuthIo io = t.io();
  auto st = run_auth_login(p, {}, io);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(t.asked, (std::vector<std::string>{"username", "password"}));
  EXPECT_EQ(p.start_request["fields"]["username"], "alice");
  EXPECT_EQ(p.start_request["fields"]["password"], "pw-correct-horse");
  EXPECT_TRUE(t.sleeps.empty());
  EXPECT_EQ(t.out.str().find("pw-correct-horse"), std::string::npos);
  EXPECT_EQ(redact("pw-correct-horse"), "[redacted]");  // a secret answer is registered
}

TEST(AuthFlow, NonInteractiveTakesFlagsThenEnvironmentAndNeverAsks) {
  ScriptedAuthProvider p("password",
                         {{"username", "User name", false}, {"password", "Password", true}},
                         {{"kind", "password"}}, {"done"});
  TestIo t;
  t.env = {{"CW_AUTH_TRAKT_PASSWORD", "env-password-1"}};
  t.answers = {{"username", "asked"}};
  AuthLoginOptions opts;
  opts.non_interactive = true;
  opts.fields = {{"username", "bob"}};
  AuthIo io = t.io();
  auto st = run_auth_login(p, opts, io);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(t.asked.empty());
  EXPECT_EQ(p.start_request["fields"]["username"], "bob");
  EXPECT_EQ(p.start_request["fields"]["password"], "env-password-1");
}

TEST(AuthFlow, NonInteractiveMissingFieldSaysHowToGiveIt) {
  ScriptedAuthProvider p("password", {{"home-pin", "PIN", true}}, {{"kind", "password"}}, {"done"});
  TestIo t;
  AuthLoginOptions opts;
  opts.non_interactive = true;
  AuthIo io = t.io();
  auto st = run_auth_login(p, opts, io);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_arg);
  EXPECT_NE(st.error().message.find("--field home-pin="), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("CW_AUTH_TRAKT_HOME_PIN"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(p.polls, 0);
}

TEST(AuthFlow, PluginsWithoutAuthOperationsAreUnsupported) {
  ScriptedAuthProvider p("api_key", {}, {}, {});
  p.m_has_ops = false;
  TestIo t;
  AuthIo io = t.io();
  auto st = run_auth_login(p, {}, io);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::unsupported);
}

TEST(AuthFlow, AnUnknownPollStateIsAnInternalError) {
  ScriptedAuthProvider p("device_code", {}, k_device_start, {"maybe"});
  TestIo t;
  AuthIo io = t.io();
  auto st = run_auth_login(p, {}, io);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::internal);
}

TEST(AuthFlow, EnvNames) { EXPECT_EQ(auth_env_name("plex-home", "pin"), "CW_AUTH_PLEX_HOME_PIN"); }

}  // namespace
}  // namespace cw::services
