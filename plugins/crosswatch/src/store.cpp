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

namespace fs = std::filesystem;
using nlohmann::json;

namespace cw::crosswatch {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm), so that
// no time zone or locale is involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day, hour, minute, second, milli;
};

Civil civil_from_ms(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  std::int64_t rest = ms - days * 86400000;
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  Civil c{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d, 0, 0, 0, 0};
  c.hour = static_cast<unsigned>(rest / 3600000);
  rest %= 3600000;
  c.minute = static_cast<unsigned>(rest / 60000);
  rest %= 60000;
  c.second = static_cast<unsigned>(rest / 1000);
  c.milli = static_cast<unsigned>(rest % 1000);
  return c;
}

std::string format_civil(std::int64_t ms, bool basic) {
  const Civil c = civil_from_ms(ms);
  char buf[64];
  if (basic) {
    std::snprintf(buf, sizeof buf, "%04lld%02u%02uT%02u%02u%02u.%03uZ",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second,
                  c.milli);
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                  static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second,
                  c.milli);
  }
  return buf;
}

// Reads exactly `n` digits at `pos`; advances `pos`.
bool read_digits(std::string_view s, size_t& pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

std::optional<std::int64_t> instant_of(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                                       unsigned se, unsigned ms) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000 + ms;
}

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

std::string iso_utc(std::int64_t epoch_ms) { return format_civil(epoch_ms, false); }
std::string snapshot_stamp(std::int64_t epoch_ms) { return format_civil(epoch_ms, true); }

std::optional<std::int64_t> parse_snapshot_stamp(std::string_view stem) {
  // YYYYMMDDTHHMMSS.mmmZ
  size_t pos = 0;
  unsigned y, mo, d, h, mi, se, ms;
  if (!read_digits(stem, pos, 4, y) || !read_digits(stem, pos, 2, mo) ||
      !read_digits(stem, pos, 2, d) || !expect(stem, pos, 'T') || !read_digits(stem, pos, 2, h) ||
      !read_digits(stem, pos, 2, mi) || !read_digits(stem, pos, 2, se) || !expect(stem, pos, '.') ||
      !read_digits(stem, pos, 3, ms) || !expect(stem, pos, 'Z') || pos != stem.size())
    return std::nullopt;
  return instant_of(y, mo, d, h, mi, se, ms);
}

std::optional<std::int64_t> parse_iso_instant(std::string_view s) {
  size_t pos = 0;
  unsigned y, mo, d, h = 0, mi = 0, se = 0, ms = 0;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, d))
    return std::nullopt;
  if (pos == s.size()) return instant_of(y, mo, d, 0, 0, 0, 0);
  if (!expect(s, pos, 'T') && !expect(s, pos, ' ') && !expect(s, pos, 't')) return std::nullopt;
  if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi))
    return std::nullopt;
  if (expect(s, pos, ':') && !read_digits(s, pos, 2, se)) return std::nullopt;
  if (expect(s, pos, '.') || expect(s, pos, ',')) {
    unsigned scale = 100;
    bool any = false;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += static_cast<unsigned>(s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      any = true;
    }
    if (!any) return std::nullopt;
  }
  std::int64_t offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      unsigned oh, om = 0;
      if (!read_digits(s, pos, 2, oh)) return std::nullopt;
      expect(s, pos, ':');
      if (pos < s.size() && !read_digits(s, pos, 2, om)) return std::nullopt;
      offset_min = sign * static_cast<std::int64_t>(oh * 60 + om);
    }
  }
  if (pos != s.size()) return std::nullopt;
  const auto base = instant_of(y, mo, d, h, mi, se, ms);
  if (!base) return std::nullopt;
  return *base - offset_min * 60000;
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
