#include <atomic>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cwsdk/cwsdk.h>

#include <cw/cli/app.hpp>
#include <cw/cli/exit_codes.hpp>

#include "cli_test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using cw::test::cw_main;
using cw::test::TempDir;

std::string abi_plugin(const std::string& name) {
  return (fs::path(CW_ABI_PLUGIN_DIR) / ("cw-provider-" + name + ".so")).string();
}

TEST(Cli, Version) {
  const auto r = cw_main({"--version"});
  EXPECT_EQ(r.code, cw::cli::k_exit_ok);
  EXPECT_NE(r.out.find("(plugin ABI " + std::to_string(CWSDK_VERSION_MAJOR) + "." +
                       std::to_string(CWSDK_VERSION_MINOR) + ")"),
            std::string::npos)
      << r.out;
}

TEST(Cli, NoCommandIsUsageError) {
  const auto r = cw_main({});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
  EXPECT_NE(r.err.find("usage: cw"), std::string::npos);
}

TEST(Cli, UnknownCommandAndOption) {
  EXPECT_EQ(cw_main({"frobnicate"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"--log-level"}).code, cw::cli::k_exit_usage);
}

TEST(Cli, HelpForPlugins) {
  const auto r = cw_main({"help", "plugins"});
  EXPECT_EQ(r.code, cw::cli::k_exit_ok);
  EXPECT_EQ(r.out.rfind("usage: cw plugins list", 0), 0u) << r.out;
  EXPECT_EQ(cw_main({"plugins", "--help"}).out, r.out);
  EXPECT_EQ(cw_main({"help", "nothing"}).code, cw::cli::k_exit_usage);
}

TEST(Cli, BadGlobalLogOptions) {
  auto r = cw_main({"--log-level", "loud", "plugins", "list"});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
  EXPECT_EQ(r.err,
            "cw: --log-level: unknown level 'loud': use trace, debug, info, warn, error "
            "or off\n");
  r = cw_main({"--log-format", "xml", "plugins", "list"});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
}

TEST(Cli, PluginsArgumentErrors) {
  EXPECT_EQ(cw_main({"plugins"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"plugins", "explode"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"plugins", "list", "--output", "xml"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"plugins", "list", "extra"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"plugins", "check"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"plugins", "check", "a.so", "b.so"}).code, cw::cli::k_exit_usage);
  EXPECT_EQ(cw_main({"plugins", "list", "--bogus"}).code, cw::cli::k_exit_usage);
  const auto r = cw_main({"plugins", "check", abi_plugin("cplain"), "--config-json", "[1]"});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
  EXPECT_NE(r.err.find("--config-json must be a JSON object"), std::string::npos);
}

TEST(Cli, PluginsListJsonShowsPluginsFromPluginDir) {
  TempDir dir;
  fs::copy_file(abi_plugin("cplain"), dir.path / "cw-provider-cplain.so");
  fs::copy_file(abi_plugin("major2"), dir.path / "cw-provider-major2.so");
  const auto r = cw_main({"--log-level", "off", "--plugin-dir", dir.path.string(), "plugins",
                          "list", "--output", "json"});
  ASSERT_EQ(r.code, cw::cli::k_exit_ok) << r.err;
  const json doc = json::parse(r.out);
  bool found = false;
  for (const auto& p : doc["plugins"]) {
    if (p["name"] != "cplain") continue;
    found = true;
    EXPECT_EQ(p["version"], "0.1.0");
    EXPECT_EQ(p["abi"], "1.1");
    EXPECT_EQ(p["path"], (fs::canonical(dir.path) / "cw-provider-cplain.so").string());
    EXPECT_TRUE(p["features"].contains("watchlist"));
    EXPECT_EQ(p["capabilities"]["auth"], "none");
  }
  EXPECT_TRUE(found) << r.out;
  ASSERT_FALSE(doc["rejected"].empty());
  bool major2 = false;
  for (const auto& rej : doc["rejected"])
    if (rej["message"].get<std::string>().find("ABI major 2") != std::string::npos) major2 = true;
  EXPECT_TRUE(major2) << r.out;
}

TEST(Cli, PluginsListTextAndDuplicateExitCode) {
  TempDir a, b;
  fs::copy_file(abi_plugin("cplain"), a.path / "cw-provider-cplain.so");
  auto r = cw_main({"--log-level", "off", "--plugin-dir", a.path.string(), "plugins", "list"});
  EXPECT_EQ(r.code, cw::cli::k_exit_ok);
  EXPECT_NE(r.out.find("cplain 0.1.0 (ABI 1.1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("features:     watchlist(present;add,remove)"), std::string::npos);
  fs::copy_file(abi_plugin("cplain"), b.path / "cw-provider-cplain.so");
  r = cw_main({"--log-level", "off", "--plugin-dir", a.path.string(), "--plugin-dir",
               b.path.string(), "plugins", "list"});
  EXPECT_EQ(r.code, cw::cli::k_exit_failure);
}

TEST(Cli, PluginsCheckPassesAndFails) {
  auto r = cw_main({"--log-level", "off", "plugins", "check", abi_plugin("cplain")});
  EXPECT_EQ(r.code, cw::cli::k_exit_ok) << r.out;
  EXPECT_NE(r.out.find("\nPASS ("), std::string::npos) << r.out;
  r = cw_main({"--log-level", "off", "plugins", "check", abi_plugin("major2"), "--output", "json"});
  EXPECT_EQ(r.code, cw::cli::k_exit_failure);
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["passed"], false);
  EXPECT_EQ(doc["checks"][0]["name"], "load");
  EXPECT_EQ(doc["checks"][0]["result"], "fail");
}

}  // namespace
