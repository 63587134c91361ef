// Redaction, ${env:}/${file:} references, the token store and the chained SecretStore.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cw/services/secrets/host_secret_store.hpp>
#include <cw/services/secrets/redactor.hpp>
#include <cw/services/secrets/secret_reference.hpp>
#include <cw/services/secrets/token_store.hpp>

namespace cw::services {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    m_path = fs::temp_directory_path() /
             ("cw-secrets-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_path);
    fs::create_directories(m_path);
  }
  ~TempDir() { fs::remove_all(m_path); }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(Redactor, MasksRegisteredValuesEverywhere) {
  Redactor r;
  r.add_secret("s3cr3t-token-value");
  r.add_secret("abc");  // too short to mask safely: ignored
  EXPECT_EQ(r.redact("token s3cr3t-token-value in the middle"), "token [redacted] in the middle");
  EXPECT_EQ(r.redact("abc stays"), "abc stays");
  EXPECT_EQ(r.redact("twice s3cr3t-token-value s3cr3t-token-value"), "twice [redacted] [redacted]");
}

// A token stored as a JSON document: its inner access token once leaked into a log line
// on its own (issue 10). Every long string inside is masked too; short ones are not.
TEST(Redactor, ATokenStoredAsJsonIsMaskedFieldByField) {
  Redactor r;
  r.add_secret(
      R"({"access_token":"at-8f2a91c4d7e6","refresh_token":"rt-55b0e13a9c","token_type":"bearer","expires_in":7200})");
  EXPECT_EQ(r.redact("retrying with at-8f2a91c4d7e6 now"), "retrying with [redacted] now");
  EXPECT_EQ(r.redact("refresh with rt-55b0e13a9c"), "refresh with [redacted]");
  EXPECT_EQ(r.redact("token_type bearer"), "token_type bearer");
}

TEST(Redactor, LongestValueFirstSoNothingIsHalfMasked) {
  Redactor r;
  r.add_secret("token");
  r.add_secret("token-with-suffix");
  EXPECT_EQ(r.redact("x token-with-suffix y"), "x [redacted] y");
}

TEST(Redactor, SensitiveQueryValuesAndHeaderLines) {
  Redactor r;
  EXPECT_EQ(r.redact("GET https://api.mdblist.com/user?apikey=zzzz1234&page=2"),
            "GET https://api.mdblist.com/user?apikey=[redacted]&page=2");
  EXPECT_EQ(r.redact("http://plex:32400/library?X-Plex-Token=abcd"),
            "http://plex:32400/library?X-Plex-Token=[redacted]");
  EXPECT_EQ(r.redact("Authorization: Bearer eyJhbGciOi"), "Authorization: [redacted]");
  EXPECT_EQ(r.redact("{\"trakt-api-key\": \"abcdef\"}").find("abcdef"), std::string::npos);
  // cw's own vocabulary is left alone.
  EXPECT_EQ(r.redact("key=movie:tt0111161 status code=404"), "key=movie:tt0111161 status code=404");
  EXPECT_EQ(r.redact("monkey=banana"), "monkey=banana");
}

TEST(Redactor, GlobalFunctionsShareOneRegistry) {
  register_secret("global-secret-42");
  EXPECT_EQ(redact("see global-secret-42"), "see [redacted]");
  EXPECT_TRUE(Redactor::is_sensitive_header("X-PLEX-TOKEN"));
  EXPECT_TRUE(Redactor::is_sensitive_query("api_key"));
  EXPECT_FALSE(Redactor::is_sensitive_header("Content-Type"));
}

TEST(SecretReference, EnvironmentVariables) {
  ::setenv("CW_TEST_SECRET_ENV", "env-secret-value-1", 1);
  ::unsetenv("CW_TEST_UNSET_ENV");
  EXPECT_TRUE(is_secret_reference("${env:CW_TEST_SECRET_ENV}"));
  EXPECT_FALSE(is_secret_reference("plain"));
  EXPECT_FALSE(is_secret_reference("${vault:x}"));
  auto v = resolve_secret_reference("${env:CW_TEST_SECRET_ENV}");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "env-secret-value-1");
  EXPECT_EQ(redact("x env-secret-value-1"), "x [redacted]");  // registered on resolution
  auto missing = resolve_secret_reference("${env:CW_TEST_UNSET_ENV}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("CW_TEST_UNSET_ENV"), std::string::npos);
  EXPECT_EQ(*resolve_secret_reference("not a reference"), "not a reference");
  EXPECT_EQ(resolve_secret_reference("${env:}").error().kind, ErrorKind::invalid_arg);
}

TEST(SecretReference, FilesRelativeAbsoluteAndHome) {
  TempDir dir;
  { std::ofstream(dir.path() / "token.txt") << "file-secret-value-2\n\n"; }
  auto rel = resolve_secret_reference("${file:token.txt}", dir.path().string());
  ASSERT_TRUE(rel.ok()) << rel.error().message;
  EXPECT_EQ(*rel, "file-secret-value-2");
  auto abs = resolve_secret_reference("${file:" + (dir.path() / "token.txt").string() + "}");
  ASSERT_TRUE(abs.ok());
  const std::string old_home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "";
  ::setenv("HOME", dir.path().c_str(), 1);
  auto home = resolve_secret_reference("${file:~/token.txt}");
  ::setenv("HOME", old_home.c_str(), 1);
  ASSERT_TRUE(home.ok()) << home.error().message;
  EXPECT_EQ(*home, "file-secret-value-2");
  auto missing = resolve_secret_reference("${file:nope.txt}", dir.path().string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("nope.txt"), std::string::npos);
}

TEST(FileTokenStore, StoresWith0600In0700AndReadsBack) {
  TempDir dir;
  FileTokenStore store((dir.path() / "tokens").string());
  ASSERT_TRUE(store.put("trakt", "token", R"({"access_token":"at-123456","expires_at":1})").ok());
  ASSERT_TRUE(store.put("trakt", "refresh", "rt-654321").ok());
  EXPECT_EQ(mode_of(dir.path() / "tokens"), 0700u);
  EXPECT_EQ(mode_of(store.path_of("trakt")), 0600u);
  auto v = store.get("trakt", "refresh");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "rt-654321");
  EXPECT_FALSE(store.get("trakt", "other")->has_value());
  EXPECT_FALSE(store.get("simkl", "token")->has_value());
  EXPECT_EQ(*store.names("trakt"), (std::vector<std::string>{"refresh", "token"}));

  // A second store on the same folder (the next run) sees the same tokens.
  FileTokenStore again((dir.path() / "tokens").string());
  EXPECT_EQ(**again.get("trakt", "refresh"), "rt-654321");

  ASSERT_TRUE(store.put("trakt", "refresh", "").ok());  // empty deletes
  EXPECT_FALSE(store.get("trakt", "refresh")->has_value());
  ASSERT_TRUE(store.erase("trakt").ok());
  EXPECT_FALSE(fs::exists(store.path_of("trakt")));
  EXPECT_TRUE(store.names("trakt")->empty());
}

TEST(FileTokenStore, RefusesInstanceNamesThatEscapeTheFolder) {
  TempDir dir;
  FileTokenStore store(dir.path().string());
  for (const char* bad : {"../x", "a/b", "", ".hidden", ".."}) {
    auto st = store.put(bad, "token", "value-1234");
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().kind, ErrorKind::invalid_arg);
  }
}

TEST(FileTokenStore, ACorruptFileIsAnErrorThatSaysWhatToDo) {
  TempDir dir;
  FileTokenStore store(dir.path().string());
  std::ofstream(store.path_of("simkl")) << "not json";
  auto v = store.get("simkl", "token");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("cw auth login simkl"), std::string::npos);
}

TEST(TokenStore, ChangeHooksSeeNamesNeverValues) {
  MemoryTokenStore store;
  std::vector<std::string> seen;
  store.on_change([&](const std::string& instance, const std::string& name) {
    seen.push_back(instance + "/" + name);
  });
  ASSERT_TRUE(store.put("anilist", "token", "anilist-token-value").ok());
  EXPECT_EQ(seen, std::vector<std::string>{"anilist/token"});
  EXPECT_EQ(redact("anilist-token-value"), "[redacted]");  // stored values are secrets
}

TEST(TokenStore, RefreshHooksAndExpiry) {
  MemoryTokenStore store;
  ASSERT_TRUE(
      store.put("trakt", "token", R"({"access_token":"old-access-1","expires_at":1000})").ok());
  EXPECT_TRUE(store.needs_refresh("trakt", "token", 900, 120));
  EXPECT_FALSE(store.needs_refresh("trakt", "token", 500, 120));
  EXPECT_FALSE(store.needs_refresh("trakt", "missing", 900));
  auto none = store.refresh("trakt");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::unsupported);
  EXPECT_NE(none.error().message.find("cw auth login trakt"), std::string::npos);
  store.set_refresh_hook("trakt", [&]() -> Status {
    return store.put("trakt", "token", R"({"access_token":"new-access-2","expires_at":99999})");
  });
  ASSERT_TRUE(store.refresh("trakt").ok());
  EXPECT_FALSE(store.needs_refresh("trakt", "token", 900, 120));
}

TEST(HostSecretStore, ConfigurationFirstThenTokens) {
  MemoryTokenStore tokens;
  ASSERT_TRUE(tokens.put("trakt", "token", "runtime-token-77").ok());
  ASSERT_TRUE(tokens.put("trakt", "client_id", "shadowed-by-config").ok());
  int lookups = 0;
  HostSecretStore store(
      [&](const std::string& instance,
          const std::string& name) -> Result<std::optional<std::string>> {
        ++lookups;
        if (instance == "trakt" && name == "client_id")
          return std::optional<std::string>{"config-client-88"};
        if (name == "broken")
          return make_error("environment variable X is not set", ErrorKind::not_found);
        return std::optional<std::string>{};
      },
      tokens);
  EXPECT_EQ(*store.get("trakt", "client_id"), "config-client-88");
  EXPECT_EQ(*store.get("trakt", "token"), "runtime-token-77");
  auto missing = store.get("trakt", "nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("cw auth login trakt"), std::string::npos);
  EXPECT_FALSE(store.get("trakt", "broken").ok());
  ASSERT_TRUE(store.put("trakt", "token", "rotated-token-99").ok());
  EXPECT_EQ(**tokens.get("trakt", "token"), "rotated-token-99");
  EXPECT_EQ(redact("config-client-88 rotated-token-99"), "[redacted] [redacted]");
  EXPECT_GE(lookups, 4);
}

}  // namespace
}  // namespace cw::services
