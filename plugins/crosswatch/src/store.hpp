#pragma once
// The local tracker's files: one JSON document per feature, written atomically, and
// timestamped snapshots of earlier versions with retention. The format is documented in
// plugins/crosswatch/README.md. Errors are thrown as cwsdk::Error with a one-line message
// naming the file.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw::crosswatch {

inline constexpr std::string_view k_format_name = "cw-crosswatch";
inline constexpr int k_format_version = 1;

// "2024-01-02T03:04:05.678Z" for a UTC instant in milliseconds since the epoch.
std::string iso_utc(std::int64_t epoch_ms);
// "20240102T030405.678Z", the snapshot file stem.
std::string snapshot_stamp(std::int64_t epoch_ms);
// The instant of a snapshot stem, or nullopt when `stem` is not one.
std::optional<std::int64_t> parse_snapshot_stamp(std::string_view stem);
// The instant of an ISO 8601 date-time ("2024-01-02T03:04:05Z", fractions and offsets
// allowed, "T" or space), in milliseconds; nullopt when it does not parse.
std::optional<std::int64_t> parse_iso_instant(std::string_view text);

// What identifies one version of a file on disk, so that a cached parse is reused only
// while nobody else has replaced the file.
struct FileStamp {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
std::optional<FileStamp> stamp_of(const std::filesystem::path& file);

// Writes `content` to `file` atomically: a temporary file in the same folder, fsync,
// rename over `file`, fsync of the folder. Creates the folder (and parents) if missing.
void write_file_atomic(const std::filesystem::path& file, std::string_view content);
// The same, with the content read from `source` (copied in blocks).
void copy_file_atomic(const std::filesystem::path& source, const std::filesystem::path& file);

// One feature file, parsed.
struct FeatureDoc {
  std::vector<nlohmann::json> items;  // ABI item JSON, without "key"
  bool existed = false;               // false: the file was missing (an empty feature)
};

// Reads and checks a feature file (format name, version, feature, items). A missing file
// is an empty feature. Anything else that is wrong throws CW_STATUS_INTERNAL naming the
// file and, for JSON errors, the line and column.
FeatureDoc read_feature_file(const std::filesystem::path& file, std::string_view feature);
// The items of a feature file as the text of a JSON array's elements ("{..},{..}"), each
// re-written compactly, and their count, for a read that keeps nothing: nullopt when the
// file is not a sound feature document (read_feature_file then says what is wrong). A
// missing file has no items.
struct ItemsText {
  std::string text;
  std::size_t count = 0;
};
std::optional<ItemsText> read_items_text(const std::filesystem::path& file,
                                         std::string_view feature);
// Parses and checks a document already in memory; `where` names it in messages.
FeatureDoc parse_feature_document(std::string_view text, std::string_view feature,
                                  const std::string& where);
// The serialised document: a header and one item per line, so that files diff well.
std::string serialise_feature(std::string_view feature, const std::vector<nlohmann::json>& items,
                              std::int64_t now_ms);
// The same from items already serialised, one compact JSON object each.
std::string serialise_lines(std::string_view feature, const std::vector<std::string_view>& lines,
                            std::int64_t now_ms);

// One snapshot file of a feature.
struct SnapshotInfo {
  std::string timestamp;  // the file stem, "20240102T030405.678Z"
  std::int64_t taken_ms = 0;
  std::filesystem::path path;
  std::uint64_t bytes = 0;
};

// Snapshots of one feature, oldest first. Files that do not follow the naming scheme are
// not snapshots and are left alone.
std::vector<SnapshotInfo> list_snapshots(const std::filesystem::path& root,
                                         std::string_view feature);

// Copies the current feature file (or, when it is missing, an empty document) into
// `<root>/snapshots/<feature>/<stamp>.json` and returns the new snapshot's timestamp.
std::string take_snapshot(const std::filesystem::path& root, std::string_view feature,
                          std::int64_t now_ms);

struct Retention {
  int keep = 10;             // newest snapshots kept per feature; 0 keeps any number
  double max_age_days = 30;  // older snapshots are deleted; 0 keeps them at any age
};

// Applies retention to one feature's snapshots; returns the timestamps it deleted.
std::vector<std::string> prune_snapshots(const std::filesystem::path& root,
                                         std::string_view feature, const Retention& retention,
                                         std::int64_t now_ms);

}  // namespace cw::crosswatch
