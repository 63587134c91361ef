#pragma once
// Logger: the host's one log, behind cw_host_api.log and used by the host itself. Lines go
// to stderr through spdlog, as text
//   2026-11-24T02:30:00.123Z INFO  [trakt] message
// or as JSON lines {"ts":"..","level":"info","source":"trakt","msg":".."}. Every line is
// scrubbed by cw::services::redact() (secret values, credential headers and query
// parameters) before it is written, so a
// token that reaches a message by accident (an echoed URL, an error body) never reaches
// the terminal or a log file.

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <cw/util/result.hpp>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace cw::services {

enum class LogLevel { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };
enum class LogFormat { text, json };

// "trace|debug|info|warn|error|off" (also "warning"); nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
// "text|json"; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view text);
std::string_view to_string(LogLevel level);

class Logger {
 public:
  // Writes to stderr.
  Logger(LogLevel level, LogFormat format);
  // Writes to `sink` (tests pass an ostream sink).
  Logger(LogLevel level, LogFormat format, std::shared_ptr<spdlog::sinks::sink> sink);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Builds a stderr logger from the --log-level/--log-format strings; an error names the
  // option and the accepted values.
  static Result<std::unique_ptr<Logger>> from_options(std::string_view level,
                                                      std::string_view format);

  bool enabled(LogLevel level) const {
    return level != LogLevel::off && level >= m_level.load(std::memory_order_relaxed);
  }
  void set_level(LogLevel level) { m_level.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return m_level.load(std::memory_order_relaxed); }
  LogFormat format() const { return m_format; }

  // One line from `source` (a plugin instance, "cw", "plugin-loader"...). Thread-safe.
  void log(LogLevel level, std::string_view source, std::string_view message);
  void trace(std::string_view source, std::string_view m) { log(LogLevel::trace, source, m); }
  void debug(std::string_view source, std::string_view m) { log(LogLevel::debug, source, m); }
  void info(std::string_view source, std::string_view m) { log(LogLevel::info, source, m); }
  void warn(std::string_view source, std::string_view m) { log(LogLevel::warn, source, m); }
  void error(std::string_view source, std::string_view m) { log(LogLevel::error, source, m); }

  // Registers a secret value with the process-wide Redactor; from then on it is replaced
  // by "[redacted]" in every line. Values shorter than 4 characters are ignored (they would
  // mangle ordinary words). Thread-safe.
  void add_secret(std::string value);
  // `text` as it will be written: cw::services::redact(text).
  std::string redact(std::string_view text) const;

  // The line as it would be written (without the newline); exposed for tests.
  std::string format_line(std::int64_t epoch_ms, LogLevel level, std::string_view source,
                          std::string_view message) const;

 private:
  std::atomic<LogLevel> m_level;
  LogFormat m_format;
  std::shared_ptr<spdlog::logger> m_out;
};

}  // namespace cw::services
