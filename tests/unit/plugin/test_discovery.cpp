#include <atomic>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cw/plugin/discovery.hpp>

namespace fs = std::filesystem;
using namespace cw::plugin;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("cw-disc-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST(Discovery, NameFromFileName) {
  EXPECT_EQ(plugin_name_from_filename("/x/cw-provider-trakt.so"), "trakt");
  EXPECT_EQ(plugin_name_from_filename("cw-provider-my_plugin-2.so"), "my_plugin-2");
  EXPECT_FALSE(plugin_name_from_filename("cw-provider-.so"));
  EXPECT_FALSE(plugin_name_from_filename("libcw-provider-x.so"));
  EXPECT_FALSE(plugin_name_from_filename("cw-provider-x.so.1"));
  EXPECT_FALSE(plugin_name_from_filename("cw-provider-x.dll"));
}

TEST(Discovery, SearchPathOrderIsDirsThenEnvWithoutDuplicates) {
  TempDir a, b, c;
  SearchPathOptions o;
  o.plugin_dirs = {a.path, b.path};
  o.env_plugin_path = c.path.string() + "::" + a.path.string();
  o.include_build_dir = false;
  o.include_install_dir = false;
  const auto p = plugin_search_path(o);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], fs::canonical(a.path));
  EXPECT_EQ(p[1], fs::canonical(b.path));
  EXPECT_EQ(p[2], fs::canonical(c.path));
}

TEST(Discovery, AnInstalledCwSearchesItsOwnInstallNeverTheBuildTree) {
  TempDir stage;
  SearchPathOptions o;
  o.env_plugin_path = "";
  o.executable = stage.path / "usr" / "bin" / "cw";
  const auto p = plugin_search_path(o);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p.back(), installed_plugin_dir(fs::canonical(stage.path) / "usr" / "bin" / "cw"));
  EXPECT_EQ(p.back().lexically_relative(fs::canonical(stage.path)).begin()->string(), "usr");
  for (const auto& d : p) EXPECT_NE(d, fs::path(CW_PLUGIN_BUILD_DIR).lexically_normal());
}

TEST(Discovery, ACwInsideTheBuildTreeSearchesTheBuildsPluginFolderLast) {
  SearchPathOptions o;
  o.env_plugin_path = "";
  o.executable = fs::path(CW_BUILD_ROOT) / "bin" / "cw";
  const auto p = plugin_search_path(o);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p.back(), fs::canonical(CW_PLUGIN_BUILD_DIR));
}

TEST(Discovery, FindsOnlyPluginFilesSortedPerFolderInFolderOrder) {
  TempDir a, b;
  for (const char* f : {"cw-provider-zeta.so", "cw-provider-alpha.so", "libfoo.so", "notes.txt"})
    std::ofstream(a.path / f) << "x";
  fs::create_directories(a.path / "cw-provider-dir.so");
  std::ofstream(b.path / "cw-provider-beta.so") << "x";
  const auto files = discover_plugins({b.path, a.path / "missing", a.path});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "cw-provider-beta.so");
  EXPECT_EQ(files[1].filename(), "cw-provider-alpha.so");
  EXPECT_EQ(files[2].filename(), "cw-provider-zeta.so");
}

}  // namespace
