#pragma once
// The local tracker provider: watch state kept in JSON files in a folder the user names,
// with snapshots of every earlier version. See plugins/crosswatch/README.md.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include <cwsdk/provider.hpp>

#include "store.hpp"

namespace cw::crosswatch {

struct Config {
  std::filesystem::path root;
  Retention retention;
  double rating_step = 1.0;
  bool read_only = false;
};

// Parses and checks the instance configuration; throws cwsdk::Error(INVALID_ARG) with a
// one-line message naming the key.
Config parse_config(std::string_view config_json);

class Crosswatch {
 public:
  static const char* manifest();

  Crosswatch(cwsdk::Host host, std::string_view config_json);

  cwsdk::Reply health(std::string_view request);
  cwsdk::Reply build_index(std::string_view request);
  cwsdk::Reply add(std::string_view request);
  cwsdk::Reply remove(std::string_view request);
  cwsdk::Reply update(std::string_view request);
  cwsdk::Reply action(std::string_view request);

  const Config& config() const { return m_config; }

 private:
  enum class Op { add, remove, update };

  // The feature file written last, held in memory between calls (one at a time, see
  // load()) and reused while the file on disk is the one we read or wrote last (same
  // inode, size and mtime).
  struct Loaded {
    FileStamp stamp;
    bool existed = false;
    std::vector<nlohmann::json> items;  // null entries are removed items, until saved
    // items[i] serialised, or "" until needed or after items[i] changed: a write batch
    // then re-serialises only what it touched, not the whole file.
    std::vector<std::string> lines;
    std::unordered_map<std::string, std::vector<size_t>> index;  // alias -> entries
    bool index_built = false;
  };

  std::filesystem::path feature_path(std::string_view feature) const;
  Loaded* cached(const std::string& feature);     // the held file, if still current
  Loaded read(const std::string& feature) const;  // from disk, not held
  Loaded& load(const std::string& feature);       // held, read if needed
  void build_alias_index(Loaded& loaded);
  static const std::string& line_of(Loaded& loaded, size_t i);
  void save(const std::string& feature, Loaded& loaded);
  cwsdk::Reply write(std::string_view request, Op op);

  nlohmann::json snapshot_list(const nlohmann::json& args);
  nlohmann::json snapshot_restore(const nlohmann::json& args);
  nlohmann::json snapshot_prune(const nlohmann::json& args);

  cwsdk::Host m_host;
  Config m_config;
  // Behind a pointer so that the provider stays cheap to move (the SDK moves it once).
  std::unique_ptr<std::map<std::string, Loaded>> m_cache;
};

}  // namespace cw::crosswatch
