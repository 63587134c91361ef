#include "store.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/time.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace cw::crosswatch {
namespace {

std::string errno_text() { return std::strerror(errno); }

[[noreturn]] void fail(const std::string& message) {
  throw cwsdk::Error(CW_STATUS_INTERNAL, message);
}

class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }
  int release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }

 private:
  int m_fd;
};

void write_all_fd(int fd, const char* data, size_t len, const fs::path& where) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write " + where.string() + ": " + errno_text());
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void sync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  // A folder that cannot be opened for fsync (some network filesystems) still holds the
  // renamed file; durability is then the filesystem's.
  if (fd.get() >= 0) ::fsync(fd.get());
}

void ensure_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create folder " + dir.string() + ": " + ec.message());
}

// Writes through `produce(fd)` into a temporary file next to `file`, then renames it over
// `file`. The temporary file is removed on any failure.
template <typename Produce>
void atomic_replace(const fs::path& file, Produce&& produce) {
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  ensure_dir(dir);
  static std::atomic<unsigned> counter{0};
  const fs::path tmp = dir / ("." + file.filename().string() + ".tmp-" +
                              std::to_string(::getpid()) + "-" + std::to_string(++counter));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail("cannot create " + tmp.string() + ": " + errno_text());
  try {
    produce(fd.get(), tmp);
    if (::fsync(fd.get()) != 0) fail("cannot fsync " + tmp.string() + ": " + errno_text());
    if (::close(fd.release()) != 0) fail("cannot close " + tmp.string() + ": " + errno_text());
    if (::rename(tmp.c_str(), file.c_str()) != 0)
      fail("cannot rename " + tmp.string() + " to " + file.string() + ": " + errno_text());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_dir(dir);
}

std::string read_whole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("cannot read " + file.string() + ": " + errno_text());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("cannot read " + file.string() + ": " + errno_text());
  return std::move(ss).str();
}

// Line and column (1-based) of byte offset `byte` in `text`.
std::pair<size_t, size_t> line_column(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < byte; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

// Dates are the provider kit's (cwsdk/support/time.hpp); only the snapshot file stem,
// RFC 3339 without its separators, is this plugin's own.
std::string iso_utc(std::int64_t epoch_ms) {
  std::string text = cwsdk::format_rfc3339(epoch_ms);
  // Always with milliseconds, so that stored timestamps have one width.
  if (text.size() == 20) text.insert(19, ".000");
  return text;
}

std::string snapshot_stamp(std::int64_t epoch_ms) {
  std::string stem;
  for (const char c : iso_utc(epoch_ms))
    if (c != '-' && c != ':') stem += c;
  return stem;  // YYYYMMDDTHHMMSS.mmmZ
}

std::optional<std::int64_t> parse_snapshot_stamp(std::string_view stem) {
  // YYYYMMDDTHHMMSS.mmmZ exactly: digits everywhere but the three markers.
  if (stem.size() != 20 || stem[8] != 'T' || stem[15] != '.' || stem[19] != 'Z')
    return std::nullopt;
  for (std::size_t i = 0; i < 19; ++i) {
    if (i == 8 || i == 15) continue;
    if (stem[i] < '0' || stem[i] > '9') return std::nullopt;
  }
  // Back to RFC 3339: YYYY-MM-DDTHH:MM:SS.mmmZ.
  std::string text(stem);
  text.insert(13, ":").insert(11, ":").insert(6, "-").insert(4, "-");
  return cwsdk::parse_rfc3339(text);
}

std::optional<std::int64_t> parse_iso_instant(std::string_view text) {
  // Naive date-times and bare dates are UTC, as this plugin has always stored them.
  return cwsdk::parse_naive(text, 0);
}

std::optional<FileStamp> stamp_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  FileStamp s;
  s.device = static_cast<std::uint64_t>(st.st_dev);
  s.inode = static_cast<std::uint64_t>(st.st_ino);
  s.size = static_cast<std::uint64_t>(st.st_size);
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

void write_file_atomic(const fs::path& file, std::string_view content) {
  atomic_replace(file, [&](int fd, const fs::path& tmp) {
    write_all_fd(fd, content.data(), content.size(), tmp);
  });
}

void copy_file_atomic(const fs::path& source, const fs::path& file) {
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) fail("cannot read " + source.string() + ": " + errno_text());
  atomic_replace(file, [&](int fd, const fs::path& tmp) {
    std::vector<char> buf(1 << 20);
    for (;;) {
      const ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot read " + source.string() + ": " + errno_text());
      }
      if (n == 0) break;
      write_all_fd(fd, buf.data(), static_cast<size_t>(n), tmp);
    }
  });
}

FeatureDoc parse_feature_document(std::string_view text, std::string_view feature,
                                  const std::string& where) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    const auto [line, col] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string detail = e.what();
    // nlohmann's text repeats the position; keep only what went wrong.
    if (const auto at = detail.find(": ", detail.find("parse error")); at != std::string::npos)
      detail = detail.substr(at + 2);
    fail(where + ": invalid JSON at line " + std::to_string(line) + ", column " +
         std::to_string(col) + " (" + one_line(detail) +
         "); fix the file or restore a snapshot (cw provider <instance> snapshot.restore); "
         "cw does not overwrite it");
  }
  const auto shape_error = [&](const std::string& what) {
    fail(where + ": " + what + "; fix the file or restore a snapshot");
  };
  if (!doc.is_object()) shape_error("expected a JSON object with \"format\" and \"items\"");
  if (doc.value("format", std::string()) != k_format_name)
    shape_error("\"format\" is not \"" + std::string(k_format_name) + "\"");
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer())
    shape_error("\"version\" is missing or not an integer");
  if (version->get<std::int64_t>() > k_format_version)
    fail(where + ": written by a newer cw (format version " + version->dump() +
         ", this plugin reads " + std::to_string(k_format_version) + "); upgrade cw");
  if (version->get<std::int64_t>() < 1) shape_error("\"version\" must be 1");
  if (doc.contains("feature") && doc["feature"] != feature)
    shape_error("holds feature " + doc["feature"].dump() + ", expected \"" + std::string(feature) +
                "\"");
  const auto items = doc.find("items");
  if (items == doc.end() || !items->is_array()) shape_error("\"items\" is missing or not a list");
  FeatureDoc out;
  out.existed = true;
  out.items.reserve(items->size());
  size_t index = 0;
  for (auto& item : *items) {
    if (!item.is_object()) shape_error("items[" + std::to_string(index) + "] is not an object");
    out.items.push_back(std::move(item));
    ++index;
  }
  return out;
}

namespace {

// Re-writes the items of a feature document compactly as the parser meets them, and checks
// what parse_feature_document checks, without building the document: a read of 25k items
// then costs the parse, not a tree of every item and its serialisation. Any problem ends
// the pass; the caller then reads the file the checked way, which names the problem.
class ItemsWriter final : public nlohmann::json_sax<json> {
 public:
  ItemsWriter(std::string_view feature, std::string& out) : m_feature(feature), m_out(out) {}

  bool null() override {
    if (top_value()) return false;
    return scalar([&] { m_out += "null"; });
  }
  bool boolean(bool v) override {
    if (top_value()) return false;
    return scalar([&] { m_out += v ? "true" : "false"; });
  }
  bool number_integer(number_integer_t v) override {
    if (m_depth == 1) return top_integer(v);
    return scalar([&] { m_out += std::to_string(v); });
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (m_depth == 1 && m_key == "version")
      return v <= static_cast<number_unsigned_t>(k_format_version) &&
             top_integer(static_cast<number_integer_t>(v));
    if (m_depth == 1) return !top_value();
    return scalar([&] { m_out += std::to_string(v); });
  }
  bool number_float(number_float_t, const string_t& text) override {
    if (top_value()) return false;
    return scalar([&] { m_out += text; });  // the number as written, which is valid JSON
  }
  bool string(string_t& v) override {
    if (m_depth == 1) return top_string(v);
    return scalar([&] { quote(v); });
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return open('{', true); }
  bool end_object() override { return close('}'); }
  bool start_array(std::size_t) override {
    if (m_depth == 1 && m_key == "items") {
      if (m_saw_items) return false;  // a second list: the checked read keeps the last
      m_in_items = m_saw_items = true;
      ++m_depth;
      return true;
    }
    return open('[', false);
  }
  bool end_array() override {
    if (m_in_items && m_depth == 2) {
      m_in_items = false;
      --m_depth;
      return true;
    }
    return close(']');
  }
  bool key(string_t& k) override {
    if (m_depth == 1) {
      m_key = k;
      return true;
    }
    if (writing()) {
      separate();
      quote(k);
      m_out += ':';
      m_after_key = true;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

  bool complete() const { return m_format_ok && m_version_ok && m_saw_items && m_feature_ok; }
  std::size_t count() const { return m_count; }

 private:
  bool writing() const { return m_in_items && m_depth > 2; }
  // A value of a top-level member other than the ones checked below: skipped, unless it
  // is one of those with the wrong type.
  bool top_value() const {
    return m_depth == 1 &&
           (m_key == "format" || m_key == "version" || m_key == "feature" || m_key == "items");
  }
  bool top_integer(number_integer_t v) {
    if (m_key == "version") {
      m_version_ok = v >= 1 && v <= k_format_version;
      return m_version_ok;
    }
    return !top_value();
  }
  bool top_string(const std::string& v) {
    if (m_key == "format") return (m_format_ok = v == k_format_name);
    if (m_key == "feature") return (m_feature_ok = v == m_feature);
    return !top_value();
  }
  void separate() {
    if (m_after_key) {
      m_after_key = false;
      return;
    }
    if (!m_first.back()) m_out += ',';
    m_first.back() = false;
  }
  template <typename Write>
  bool scalar(Write write) {
    if (m_in_items && m_depth == 2) return false;  // an item that is not an object
    if (!writing()) return m_depth > 0;
    separate();
    write();
    return true;
  }
  bool open(char c, bool object) {
    if (m_depth == 0) {
      ++m_depth;
      return object;  // the document is an object
    }
    if (m_in_items && m_depth == 2) {
      if (!object) return false;
      if (m_count++ > 0) m_out += ',';
    } else if (writing()) {
      separate();
    } else {
      if (top_value()) return false;  // format, version, feature given as a container
      ++m_depth;
      return true;
    }
    m_out += c;
    m_first.push_back(true);
    ++m_depth;
    return true;
  }
  bool close(char c) {
    --m_depth;
    if (m_in_items && m_depth >= 2) {
      m_out += c;
      m_first.pop_back();
    }
    return true;
  }
  void quote(std::string_view v) {
    static constexpr char k_hex[] = "0123456789abcdef";
    m_out += '"';
    for (const char ch : v) {
      const auto u = static_cast<unsigned char>(ch);
      switch (ch) {
        case '"':
          m_out += "\\\"";
          break;
        case '\\':
          m_out += "\\\\";
          break;
        case '\n':
          m_out += "\\n";
          break;
        case '\r':
          m_out += "\\r";
          break;
        case '\t':
          m_out += "\\t";
          break;
        default:
          if (u < 0x20) {
            m_out += "\\u00";
            m_out += k_hex[u >> 4];
            m_out += k_hex[u & 15];
          } else {
            m_out += ch;
          }
      }
    }
    m_out += '"';
  }

  std::string_view m_feature;
  std::string& m_out;
  std::string m_key;  // the top-level member being read
  int m_depth = 0;    // containers open; the items array is depth 2
  bool m_in_items = false;
  bool m_after_key = false;
  std::vector<bool> m_first;  // per container being written: nothing written in it yet
  std::size_t m_count = 0;
  bool m_format_ok = false;
  bool m_version_ok = false;
  bool m_feature_ok = true;  // "feature" may be absent
  bool m_saw_items = false;
};

}  // namespace

std::optional<ItemsText> read_items_text(const fs::path& file, std::string_view feature) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return ItemsText{};
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  const std::string text = read_whole(file);
  ItemsText out;
  out.text.reserve(text.size());
  ItemsWriter writer(feature, out.text);
  if (!json::sax_parse(text.begin(), text.end(), &writer) || !writer.complete())
    return std::nullopt;
  out.count = writer.count();
  return out;
}

FeatureDoc read_feature_file(const fs::path& file, std::string_view feature) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return FeatureDoc{};
  if (!fs::is_regular_file(file, ec)) fail(file.string() + ": not a regular file");
  return parse_feature_document(read_whole(file), feature, file.string());
}

std::string serialise_lines(std::string_view feature, const std::vector<std::string_view>& lines,
                            std::int64_t now_ms) {
  size_t total = 160;
  for (const auto& l : lines) total += l.size() + 2;
  std::string out;
  out.reserve(total);
  out += "{\"format\":\"";
  out += k_format_name;
  out += "\",\"version\":" + std::to_string(k_format_version) + ",\"feature\":\"";
  out += feature;
  out += "\",\"updated_at\":\"" + iso_utc(now_ms) + "\",\"count\":" + std::to_string(lines.size()) +
         ",\"items\":[";
  bool first = true;
  for (const auto& line : lines) {
    out += first ? "\n" : ",\n";
    first = false;
    out += line;
  }
  out += "\n]}\n";
  return out;
}

std::string serialise_feature(std::string_view feature, const std::vector<json>& items,
                              std::int64_t now_ms) {
  std::vector<std::string> dumped;
  dumped.reserve(items.size());
  for (const auto& item : items)
    dumped.push_back(item.dump(-1, ' ', false, json::error_handler_t::replace));
  return serialise_lines(feature, std::vector<std::string_view>(dumped.begin(), dumped.end()),
                         now_ms);
}

std::vector<SnapshotInfo> list_snapshots(const fs::path& root, std::string_view feature) {
  std::vector<SnapshotInfo> out;
  const fs::path dir = root / "snapshots" / std::string(feature);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".json") continue;
    const std::string stem = entry.path().stem().string();
    const auto taken = parse_snapshot_stamp(stem);
    if (!taken) continue;
    out.push_back(SnapshotInfo{stem, *taken, entry.path(), entry.file_size(ec)});
  }
  if (ec) fail("cannot list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return a.taken_ms != b.taken_ms ? a.taken_ms < b.taken_ms : a.timestamp < b.timestamp;
  });
  return out;
}

std::string take_snapshot(const fs::path& root, std::string_view feature, std::int64_t now_ms) {
  const fs::path dir = root / "snapshots" / std::string(feature);
  ensure_dir(dir);
  // Names have millisecond resolution; two snapshots in one millisecond (a fast batch or
  // a frozen test clock) get the next free millisecond rather than overwrite each other.
  std::int64_t t = now_ms;
  for (const auto& s : list_snapshots(root, feature)) t = std::max(t, s.taken_ms + 1);
  std::error_code ec;
  while (fs::exists(dir / (snapshot_stamp(t) + ".json"), ec)) ++t;
  const std::string stamp = snapshot_stamp(t);
  const fs::path target = dir / (stamp + ".json");
  const fs::path current = root / (std::string(feature) + ".json");
  if (fs::exists(current, ec)) {
    copy_file_atomic(current, target);
  } else {
    write_file_atomic(target, serialise_feature(feature, {}, now_ms));
  }
  return stamp;
}

std::vector<std::string> prune_snapshots(const fs::path& root, std::string_view feature,
                                         const Retention& retention, std::int64_t now_ms) {
  std::vector<std::string> removed;
  std::vector<SnapshotInfo> snaps = list_snapshots(root, feature);
  const auto drop = [&](const SnapshotInfo& s) {
    std::error_code ec;
    fs::remove(s.path, ec);
    if (ec) fail("cannot delete snapshot " + s.path.string() + ": " + ec.message());
    removed.push_back(s.timestamp);
  };
  std::vector<SnapshotInfo> kept;
  if (retention.max_age_days > 0) {
    const auto max_age_ms = static_cast<std::int64_t>(retention.max_age_days * 86400000.0);
    for (const auto& s : snaps) {
      if (now_ms - s.taken_ms > max_age_ms) {
        drop(s);
      } else {
        kept.push_back(s);
      }
    }
  } else {
    kept = std::move(snaps);
  }
  if (retention.keep > 0 && kept.size() > static_cast<size_t>(retention.keep)) {
    const size_t excess = kept.size() - static_cast<size_t>(retention.keep);
    for (size_t i = 0; i < excess; ++i) drop(kept[i]);
  }
  return removed;
}

}  // namespace cw::crosswatch
