// ${env:..} and ${file:..} secrets: replaced by "${secret}" for the plugin, resolved only
// when asked, never cached.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cw/config/config.hpp>
#include <cw/services/secrets/config_secret_store.hpp>

namespace cw::config {
namespace {

class FakeTokenStore final : public services::SecretStore {
 public:
  Result<std::string> get(const std::string& instance, const std::string& name) override {
    auto it = values.find(instance + "/" + name);
    if (it == values.end()) return make_error("no token", ErrorKind::not_found);
    return it->second;
  }
  Status put(const std::string& instance, const std::string& name,
             const std::string& value) override {
    values[instance + "/" + name] = value;
    return ok_status();
  }
  std::map<std::string, std::string> values;
};

class ConfigSecrets : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() /
            ("cw-secrets-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(m_dir);
    unsetenv("CW_TEST_SECRET_TOKEN");
  }
  void TearDown() override {
    std::filesystem::remove_all(m_dir);
    unsetenv("CW_TEST_SECRET_TOKEN");
  }
  Config parse(const std::string& yaml) {
    ConfigParse p = parse_config(yaml, "cw.yaml", m_dir);
    for (const auto& e : p.errors) ADD_FAILURE() << e.to_string();
    return p.config ? *p.config : Config{};
  }
  std::filesystem::path m_dir;
};

const char* const k_yaml = R"(
providers:
  plex:
    plugin: plex
    token: ${env:CW_TEST_SECRET_TOKEN}
    auth: { password: "${file:secrets/pw.txt}" }
    url: http://127.0.0.1:32400
)";

TEST_F(ConfigSecrets, PluginSeesPlaceholderAndKeysAreRecorded) {
  Config c = parse(k_yaml);
  const auto& p = c.providers.at(0);
  EXPECT_EQ(p.settings["token"], k_secret_placeholder);
  EXPECT_EQ(p.settings["auth"]["password"], k_secret_placeholder);
  EXPECT_EQ(p.settings["url"], "http://127.0.0.1:32400");
  ASSERT_EQ(p.secrets.size(), 2u);
  EXPECT_EQ(p.secrets.at("token").kind, SecretRef::Kind::env);
  EXPECT_EQ(p.secrets.at("token").ref, "CW_TEST_SECRET_TOKEN");
  EXPECT_EQ(p.secrets.at("auth.password").kind, SecretRef::Kind::file);
  EXPECT_EQ(p.secrets.at("auth.password").ref, (m_dir / "secrets/pw.txt").string());
  EXPECT_EQ(p.secrets.at("token").pos.to_string(), "cw.yaml:5:12");
}

TEST_F(ConfigSecrets, ResolvedLazilyEveryTime) {
  Config c = parse(k_yaml);
  services::ConfigSecretStore store(c);
  // Not set at load time: the store only fails when asked.
  auto missing = store.get("plex", "token");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("environment variable CW_TEST_SECRET_TOKEN is not set"),
            std::string::npos);
  EXPECT_NE(missing.error().message.find("cw.yaml:5:12"), std::string::npos);

  setenv("CW_TEST_SECRET_TOKEN", "tok-1", 1);
  auto v1 = store.get("plex", "token");
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(*v1, "tok-1");
  setenv("CW_TEST_SECRET_TOKEN", "tok-2", 1);  // rotated: seen by the next request
  EXPECT_EQ(*store.get("plex", "token"), "tok-2");

  std::filesystem::create_directories(m_dir / "secrets");
  std::ofstream(m_dir / "secrets/pw.txt") << "hunter2\n";
  auto pw = store.get("plex", "auth.password");
  ASSERT_TRUE(pw) << pw.error().message;
  EXPECT_EQ(*pw, "hunter2");  // trailing newline dropped

  auto lookup = store.lookup("plex", "auth.password");
  ASSERT_TRUE(lookup);
  EXPECT_EQ(lookup->value_or(""), "hunter2");
  auto undefined = store.lookup("plex", "nope");
  ASSERT_TRUE(undefined);
  EXPECT_FALSE(undefined->has_value());
}

TEST_F(ConfigSecrets, CheckListsUnresolvableReferencesWithoutValues) {
  Config c = parse(k_yaml);
  services::ConfigSecretStore store(c);
  auto problems = store.check();
  ASSERT_EQ(problems.size(), 2u);
  setenv("CW_TEST_SECRET_TOKEN", "value-that-must-not-leak", 1);
  problems = store.check();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("cannot read secret file"), std::string::npos);
  EXPECT_EQ(problems[0].find("value-that-must-not-leak"), std::string::npos);
}

TEST_F(ConfigSecrets, FallbackForRuntimeTokens) {
  Config c = parse(k_yaml);
  FakeTokenStore tokens;
  services::ConfigSecretStore store(c, &tokens);
  ASSERT_TRUE(store.put("plex", "oauth", "{\"access\":\"x\"}"));
  EXPECT_EQ(*store.get("plex", "oauth"), "{\"access\":\"x\"}");
  // A configuration secret cannot be overwritten at run time.
  auto refused = store.put("plex", "token", "other");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::unsupported);
  EXPECT_TRUE(store.defines("plex", "token"));
  EXPECT_FALSE(store.defines("plex", "oauth"));
  services::ConfigSecretStore alone(c);
  EXPECT_EQ(alone.get("plex", "oauth").error().kind, ErrorKind::not_found);
  EXPECT_EQ(alone.put("plex", "oauth", "x").error().kind, ErrorKind::unsupported);
}

TEST_F(ConfigSecrets, SecretValuesNeverEnterTheConfig) {
  setenv("CW_TEST_SECRET_TOKEN", "s3cr3t-value", 1);
  Config c = parse(k_yaml);
  EXPECT_EQ(c.providers.at(0).settings.dump().find("s3cr3t-value"), std::string::npos);
}

TEST_F(ConfigSecrets, EmptySecretFileIsAnError) {
  Config c = parse(k_yaml);
  std::filesystem::create_directories(m_dir / "secrets");
  std::ofstream(m_dir / "secrets/pw.txt") << "\n";
  services::ConfigSecretStore store(c);
  auto v = store.get("plex", "auth.password");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("is empty"), std::string::npos);
}

}  // namespace
}  // namespace cw::config
