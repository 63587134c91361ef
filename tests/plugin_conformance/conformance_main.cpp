// The conformance kit run on one bundled plugin against its cw-sandbox fake:
//   cw_plugin_conformance --plugin NAME [--service NAME] [--plugin-file PATH]
//                         [--config-from credentials] [--faults LIST|none] [--clean no]
//                         [--generate SPEC]
// The plugin is configured from the providers: entry the fake prints (`cw-sandbox --yaml`),
// which is what a user would paste. Exits 77 (CTest: skipped) when the plugin is not built.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/testing/conformance.hpp>

namespace {

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream s(list);
  for (std::string item; std::getline(s, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string plugin, service, file, config_from = "yaml", faults, clean = "yes", generate;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--plugin")
      plugin = value;
    else if (key == "--service")
      service = value;
    else if (key == "--plugin-file")
      file = value;
    else if (key == "--config-from")
      config_from = value;
    else if (key == "--faults")
      faults = value;
    else if (key == "--clean")
      clean = value;
    else if (key == "--generate")
      generate = value;
    else {
      std::cerr << "cw_plugin_conformance: unknown option " << key << "\n";
      return 2;
    }
  }
  if (plugin.empty()) {
    std::cerr << "cw_plugin_conformance: --plugin NAME is required\n";
    return 2;
  }
  if (service.empty()) service = plugin;
  if (file.empty()) file = std::string(CW_PLUGIN_DIR) + "/cw-provider-" + plugin + ".so";
  if (!std::filesystem::exists(file)) {
    std::cout << "SKIP: " << file << " is not built\n";
    return 77;
  }
  try {
    // The kit's default universe unless the plugin needs other data (AniList: anime).
    auto owned =
        generate.empty()
            ? std::make_unique<cwsdk::conformance::Sandbox>(CW_SANDBOX_BIN, service)
            : std::make_unique<cwsdk::conformance::Sandbox>(CW_SANDBOX_BIN, service, generate);
    cwsdk::conformance::Sandbox& sandbox = *owned;
    cwsdk::conformance::Target target;
    target.name = plugin;
    target.cw = CW_BIN;
    target.plugin = file;
    target.base_url = sandbox.base_url();
    if (config_from == "credentials") {
      // The kit's own test plugins take the fake's credentials and its URL.
      target.config = sandbox.credentials();
      target.config["url"] = target.base_url;
    } else {
      target.config = sandbox.config();
    }
    if (faults == "none")
      target.faults.clear();
    else if (!faults.empty())
      target.faults = split(faults);
    target.clean = clean != "no";
    cwsdk::conformance::register_suite(target);
    return RUN_ALL_TESTS();
  } catch (const std::exception& e) {
    std::cerr << "cw_plugin_conformance: " << e.what() << "\n";
    return 1;
  }
}
