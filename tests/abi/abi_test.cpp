// Every way a plugin file can be refused, each with its exact one-line reason, plus the
// plain-C plugin doing real work through the loader. The test plugins live in
// CW_ABI_PLUGIN_DIR (built from tests/abi/plugins/).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <cw/plugin/checker.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cw;
using namespace cw::plugin;

namespace {

fs::path plugin_file(const std::string& name) {
  return fs::path(CW_ABI_PLUGIN_DIR) / ("cw-provider-" + name + ".so");
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    m_path = fs::temp_directory_path() /
             ("cw-abi-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

class AbiTest : public ::testing::Test {
 protected:
  std::ostringstream m_log_text;
  services::Logger m_logger{services::LogLevel::debug, services::LogFormat::text,
                            std::make_shared<spdlog::sinks::ostream_sink_mt>(m_log_text)};
  services::ManualClock m_clock{1'700'000'000'000};
  services::FlagCancelToken m_cancel;
  services::MemoryKvStore m_kv;
  HostServices m_services{m_logger, m_clock, m_cancel, &m_kv, nullptr, nullptr, false};

  std::string load_error(const fs::path& path) {
    auto lib = Library::load(path, m_services);
    EXPECT_FALSE(lib.ok()) << path << " loaded but should have been refused";
    return lib.ok() ? std::string() : lib.error().message;
  }
  std::string skipped(const fs::path& path, const std::string& reason) {
    return "skipped plugin " + path.string() + ": " + reason;
  }
};

TEST_F(AbiTest, MissingFileIsRefused) {
  const auto p = fs::path(CW_ABI_PLUGIN_DIR) / "cw-provider-absent.so";
  EXPECT_EQ(load_error(p), skipped(p, "file not found: check the path"));
}

TEST_F(AbiTest, TextFileIsNotALibrary) {
  TempDir dir;
  const auto p = dir.path() / "cw-provider-text.so";
  std::ofstream(p) << "this is a text file pretending to be a plugin, long enough for ELF\n";
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "not a loadable library (invalid ELF header): rebuild it as a shared "
                    "library with cwsdk_add_plugin()"));
}

TEST_F(AbiTest, EmptyFileIsNotALibrary) {
  TempDir dir;
  const auto p = dir.path() / "cw-provider-empty.so";
  std::ofstream{p};
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "not a loadable library (file too short): rebuild it as a shared "
                    "library with cwsdk_add_plugin()"));
}

TEST_F(AbiTest, DirectoryIsNotAPluginFile) {
  TempDir dir;
  const auto p = dir.path() / "cw-provider-folder.so";
  fs::create_directories(p);
  EXPECT_EQ(load_error(p), skipped(p, "not a regular file: point at a cw-provider-<name>.so file"));
}

TEST_F(AbiTest, UnreadableFileIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file; permissions cannot be tested";
  TempDir dir;
  const auto p = dir.path() / "cw-provider-locked.so";
  fs::copy_file(plugin_file("cplain"), p);
  fs::permissions(p, fs::perms::none);
  EXPECT_EQ(load_error(p), skipped(p,
                                   "cannot read the file (Permission denied): make it "
                                   "readable by the user running cw"));
}

TEST_F(AbiTest, MissingEntrySymbol) {
  const auto p = plugin_file("noentry");
  EXPECT_EQ(load_error(p), skipped(p,
                                   "no cwsdk_entry symbol: export it with CWSDK_PROVIDER(cls) "
                                   "or CWSDK_EXPORT and build with cwsdk_add_plugin()"));
}

TEST_F(AbiTest, EntryReturnsNullWithReason) {
  const auto p = plugin_file("nullentry");
  EXPECT_EQ(load_error(p),
            skipped(p, "cwsdk_entry returned NULL: licence file /etc/cw/licence missing"));
}

TEST_F(AbiTest, TableTooSmall) {
  const auto p = plugin_file("smalltable");
  EXPECT_EQ(load_error(p), skipped(p, "operation table is 16 bytes, ABI 1.0 needs at least " +
                                          std::to_string(k_provider_api_v1_0_size) +
                                          ": set struct_size = sizeof(cw_provider_api) and "
                                          "rebuild against the cwsdk headers"));
}

TEST_F(AbiTest, WrongMajor) {
  const auto p = plugin_file("major2");
  EXPECT_EQ(load_error(p),
            skipped(p, "ABI major 2, host speaks 1.1: rebuild the plugin against cwsdk 1.x"));
}

TEST_F(AbiTest, NewerMinor) {
  const auto p = plugin_file("minor9");
  EXPECT_EQ(load_error(p), skipped(p,
                                   "ABI 1.10 is newer than the host's 1.1: upgrade cw, or "
                                   "rebuild the plugin against cwsdk 1.1"));
}

TEST_F(AbiTest, RequiredOperationNull) {
  const auto p = plugin_file("nullhealth");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "required operation 'health' is NULL: every plugin implements manifest, "
                    "create, destroy, health, build_index, add and remove"));
}

// Load errors point at the schema where the SDK installs it, never at cw's sources.
const std::string k_schema = std::string(CW_SDK_SCHEMA_INSTALL_DIR) + "/manifest.schema.json";

TEST_F(AbiTest, ManifestNull) {
  const auto p = plugin_file("nullmanifest");
  EXPECT_EQ(load_error(p), skipped(p, "manifest() returned NULL: return the manifest JSON (see " +
                                          k_schema + ")"));
}

TEST_F(AbiTest, ManifestNotJson) {
  const auto p = plugin_file("badjson");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest is not valid JSON: Missing a name for object member. at offset "
                    "20: fix the manifest (see " +
                        k_schema + ")"));
}

TEST_F(AbiTest, ManifestFailsSchemaNamingTheField) {
  const auto p = plugin_file("badschema");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest field /features/watchlist/index_semantics: value \"both\" is "
                    "not one of present, delta: fix the manifest (see " +
                        k_schema + ")"));
}

TEST_F(AbiTest, ManifestNameDiffersFromFileName) {
  const auto p = plugin_file("misnamed");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest name 'othername' does not match the file name "
                    "cw-provider-misnamed.so: name the file cw-provider-othername.so or fix "
                    "the manifest's name"));
}

TEST_F(AbiTest, ManifestDeclaresUpdateWithoutOperation) {
  const auto p = plugin_file("lyingupdate");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest declares update for feature 'watchlist' but the update "
                    "operation is NULL: implement update or set \"update\": false"));
}

TEST_F(AbiTest, ManifestDeclaresScrobbleWithoutOperation) {
  const auto p = plugin_file("lyingscrobble");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest declares the scrobble capability but the scrobble operation is "
                    "NULL: implement scrobble or set \"scrobble\": false"));
}

TEST_F(AbiTest, ManifestDeclaresAuthWithoutOperations) {
  const auto p = plugin_file("lyingauth");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest declares auth 'device_code' but auth_start/auth_poll are NULL: "
                    "implement both or set \"auth\": \"none\""));
}

TEST_F(AbiTest, ManifestListsActionsWithoutOperation) {
  const auto p = plugin_file("lyingactions");
  EXPECT_EQ(load_error(p),
            skipped(p,
                    "manifest lists actions but the action operation is NULL: implement "
                    "action or remove \"actions\""));
}

TEST_F(AbiTest, CreateReturningNullFailsAtInstanceCreationNotLoad) {
  auto lib = Library::load(plugin_file("createfails"), m_services);
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  auto inst = ProviderInstance::create(*lib, "home", json::object(), m_services);
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.error().message,
            "provider home (plugin createfails): create failed: url: expected "
            "http(s)://host:port");
  EXPECT_EQ(inst.error().kind, ErrorKind::invalid_arg);
}

TEST_F(AbiTest, CreateThrowingAcrossTheAbiIsCaught) {
  auto lib = Library::load(plugin_file("throwcreate"), m_services);
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  auto inst = ProviderInstance::create(*lib, "x", json::object(), m_services);
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.error().message,
            "provider x (plugin throwcreate): create failed: create threw an exception (boom in "
            "create): the plugin must catch every exception at the ABI edge");
}

TEST_F(AbiTest, HelperTurnsConstructorExceptionIntoReason) {
  auto lib = Library::load(plugin_file("helperthrow"), m_services);
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  auto inst = ProviderInstance::create(*lib, "x", json::object(), m_services);
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.error().message,
            "provider x (plugin helperthrow): create failed: token: expected a 40-character hex "
            "string");
}

TEST_F(AbiTest, DuplicateNameAcrossFoldersIsAnErrorNamingBothPaths) {
  TempDir a, b;
  fs::copy_file(plugin_file("cplain"), a.path() / "cw-provider-cplain.so");
  fs::copy_file(plugin_file("cplain"), b.path() / "cw-provider-cplain.so");
  Registry registry(m_services);
  registry.load_folders({a.path(), b.path()});
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0]->path(), a.path() / "cw-provider-cplain.so");
  ASSERT_EQ(registry.rejections().size(), 1u);
  EXPECT_TRUE(registry.rejections()[0].duplicate);
  EXPECT_TRUE(registry.has_duplicates());
  const auto second = b.path() / "cw-provider-cplain.so";
  EXPECT_EQ(registry.rejections()[0].message,
            skipped(second, "plugin name 'cplain' is already provided by " +
                                (a.path() / "cw-provider-cplain.so").string() +
                                ": remove one of the two files or drop one folder from the "
                                "plugin path"));
}

TEST_F(AbiTest, BadFilesDoNotStopGoodOnesAndEachRejectionIsLoggedOnOneLine) {
  TempDir dir;
  for (const char* n : {"cplain", "major2", "badschema", "noentry", "lyingauth"})
    fs::copy_file(plugin_file(n), dir.path() / ("cw-provider-" + std::string(n) + ".so"));
  std::ofstream(dir.path() / "cw-provider-junk.so") << "junk junk junk junk junk junk junk junk\n";
  std::ofstream(dir.path() / "README.txt") << "not a candidate\n";
  Registry registry(m_services);
  registry.load_folders({dir.path()});
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0]->name(), "cplain");
  EXPECT_EQ(registry.rejections().size(), 5u);
  EXPECT_FALSE(registry.has_duplicates());
  registry.log_rejections();
  const std::string log = m_log_text.str();
  for (const auto& r : registry.rejections()) {
    EXPECT_NE(log.find("WARN  [plugins] " + r.message + "\n"), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find('\n'), std::string::npos);
  }
}

TEST_F(AbiTest, PlainCPluginWorksThroughTheLoader) {
  auto lib = Library::load(plugin_file("cplain"), m_services);
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  EXPECT_EQ((*lib)->name(), "cplain");
  EXPECT_EQ((*lib)->manifest().features.count("watchlist"), 1u);
  auto inst = ProviderInstance::create(*lib, "c1", json::object(), m_services);
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  auto& p = **inst;

  auto health = p.health();
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ((*health)["status"], "ok");

  const json items =
      json::array({{{"type", "movie"}, {"ids", {{"imdb", "tt0111161"}}}, {"key", "a"}},
                   {{"type", "movie"}, {"ids", {{"imdb", "tt0068646"}}}, {"key", "b"}}});
  auto added = p.add("watchlist", items);
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_EQ((*added)["outcomes"].size(), 2u);
  EXPECT_EQ((*added)["outcomes"][0]["status"], "confirmed");

  auto index = p.build_index("watchlist", std::nullopt);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ((*index)["items"].size(), 2u);
  EXPECT_EQ((*index)["received"], 2);
  EXPECT_EQ((*index)["complete"], true);

  auto removed = p.remove("watchlist", json::array({items[0]}));
  ASSERT_TRUE(removed.ok());
  auto after = p.build_index("watchlist", std::nullopt);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ((*after)["items"].size(), 1u);
  EXPECT_EQ((*after)["items"][0]["ids"]["imdb"], "tt0068646");

  auto raw = p.call_raw("build_index", "not json at all");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->status, CW_STATUS_INVALID_ARG);

  // Log lines from the plugin carry the instance's name; entry's carry the plugin's.
  EXPECT_NE(m_log_text.str().find("DEBUG [c1] created"), std::string::npos);
  EXPECT_NE(m_log_text.str().find("DEBUG [cplain] entry"), std::string::npos);
}

TEST_F(AbiTest, UndeclaredOperationsAreRefusedBeforeReachingThePlugin) {
  auto lib = Library::load(plugin_file("cplain"), m_services);
  ASSERT_TRUE(lib.ok());
  auto inst = ProviderInstance::create(*lib, "c1", json::object(), m_services);
  ASSERT_TRUE(inst.ok());
  auto r = (*inst)->build_index("ratings", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unsupported);
  EXPECT_EQ(r.error().message,
            "provider c1 (plugin cplain) build_index: feature 'ratings' is "
            "not in the plugin's manifest");
  auto u = (*inst)->update("watchlist", json::array());
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().kind, ErrorKind::unsupported);
}

TEST_F(AbiTest, InstancePinsItsLibrary) {
  std::unique_ptr<ProviderInstance> inst;
  {
    Registry registry(m_services);
    ASSERT_TRUE(registry.load_file(plugin_file("cplain")));
    auto created =
        ProviderInstance::create(registry.find("cplain"), "pinned", json::object(), m_services);
    ASSERT_TRUE(created.ok());
    inst = std::move(*created);
  }
  // The registry is gone; the instance's shared_ptr keeps the code mapped.
  auto h = inst->health();
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)["status"], "ok");
  inst.reset();  // destroy runs while the library is still loaded (ASan would say otherwise)
}

TEST_F(AbiTest, PlainCPluginPassesPluginsCheck) {
  const auto report = check_plugin(plugin_file("cplain"), json::object(), m_services);
  EXPECT_TRUE(report.passed()) << report.to_text();
  EXPECT_EQ(report.count(CheckStep::Result::warn), 0u) << report.to_text();
}

TEST_F(AbiTest, CheckReportsTheRejectionAsAFailedLoad) {
  const auto report = check_plugin(plugin_file("major2"), json::object(), m_services);
  EXPECT_FALSE(report.passed());
  ASSERT_EQ(report.steps.size(), 1u);
  EXPECT_EQ(report.steps[0].name, "load");
  EXPECT_NE(report.steps[0].message.find("ABI major 2"), std::string::npos);
}

}  // namespace
