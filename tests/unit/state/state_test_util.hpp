#pragma once
// Helpers shared by the state tests: a fresh directory per test, file hashing, records.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cw/state/state_store.hpp>

namespace cw::state::test {

inline std::filesystem::path fresh_dir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir =
      std::filesystem::temp_directory_path() / ("cw-state-" + std::to_string(getpid()) + "-" + tag +
                                                "-" + info->test_suite_name() + "-" + info->name());
  std::filesystem::remove_all(dir);
  return dir;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// FNV-1a 64 of a file: enough to tell "byte-identical" in a test message.
inline std::uint64_t hash_file(const std::filesystem::path& p) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : read_file(p)) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

inline nlohmann::json item(const std::string& title, int tmdb) {
  return {{"type", "movie"},
          {"title", title},
          {"year", 2000 + tmdb % 20},
          {"ids", {{"tmdb", std::to_string(tmdb)}}}};
}

inline PairFeatureRecord sample_record() {
  PairFeatureRecord r;
  r.baselines["plex"]["tmdb:movie:1"] = item("One", 1);
  r.baselines["plex"]["tmdb:movie:2"] = item("Two", 2);
  r.baselines["trakt"]["tmdb:movie:1"] = item("One", 1);
  r.tombstones.push_back({"tmdb:movie:9", 100, 200, {{"tokens", {"tmdb:9"}}}});
  r.pending.push_back({"trakt", "tmdb:movie:3", "mass_delete", 150, false, item("Three", 3)});
  r.flaps.push_back({"trakt", "tmdb:movie:4", 2, "not_found", 160});
  r.blackbox.push_back({"trakt", "tmdb:movie:5", "flapper:consecutive>=3", 170, 170 + 30 * 86400});
  r.unresolved.push_back(
      {"trakt", "tmdb:movie:4", "not_found", "no match for tmdb 4", 160, 160, 2, item("Four", 4)});
  r.meta = {{"watermarks", {{"plex", "2024-01-01T00:00:00Z"}}}};
  r.last_run_id = "run-1";
  r.last_commit_at = 1000;
  return r;
}

}  // namespace cw::state::test
