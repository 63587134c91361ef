#pragma once
// Runs cw's command line in-process, capturing what it prints; shared by the CLI tests.
#include <atomic>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <cw/cli/app.hpp>

namespace cw::test {

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs cw::cli::main with `args` (without the program name), capturing stdout and stderr.
// The logger writes to the real stderr through spdlog, not std::cerr; tests that need log
// lines use --log-level off or check the exit code and stdout instead.
inline Run cw_main(std::vector<std::string> args) {
  args.insert(args.begin(), "cw");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  Run r;
  r.code = cw::cli::main(static_cast<int>(args.size()), argv.data());
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path() /
           ("cw-cli-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace cw::test
