#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cw/services/log/logger.hpp>
#include <cw/services/secrets/redactor.hpp>

namespace cw::services {

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "trace") return LogLevel::trace;
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn" || text == "warning") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  if (text == "off") return LogLevel::off;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::text;
  if (text == "json") return LogFormat::json;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "info";
}

namespace {

std::string iso_utc_ms(std::int64_t epoch_ms) {
  const std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  int ms = static_cast<int>(epoch_ms % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms < 0 ? 0 : ms);
  return buf;
}

std::string_view text_label(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return "TRACE";
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO ";
    case LogLevel::warn:
      return "WARN ";
    case LogLevel::error:
      return "ERROR";
    case LogLevel::off:
      break;
  }
  return "INFO ";
}

// A log line is one line: embedded newlines from a plugin's message would let it forge
// lines, so they become visible escapes.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else
      out += c;
  }
  return out;
}

std::shared_ptr<spdlog::logger> make_spdlog(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<spdlog::logger>("cw", std::move(sink));
  // Lines are fully formatted (and redacted) here; spdlog only serialises the writes.
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace

Logger::Logger(LogLevel level, LogFormat format)
    : Logger(level, format, std::make_shared<spdlog::sinks::stderr_sink_mt>()) {}

Logger::Logger(LogLevel level, LogFormat format, std::shared_ptr<spdlog::sinks::sink> sink)
    : m_level(level), m_format(format), m_out(make_spdlog(std::move(sink))) {}

Logger::~Logger() = default;

Result<std::unique_ptr<Logger>> Logger::from_options(std::string_view level,
                                                     std::string_view format) {
  const auto lvl = parse_log_level(level);
  if (!lvl)
    return make_error("--log-level: unknown level '" + std::string(level) +
                          "': use trace, debug, info, warn, error or off",
                      ErrorKind::invalid_arg);
  const auto fmt = parse_log_format(format);
  if (!fmt)
    return make_error(
        "--log-format: unknown format '" + std::string(format) + "': use text or json",
        ErrorKind::invalid_arg);
  return std::make_unique<Logger>(*lvl, *fmt);
}

// The logger keeps no list of its own: the process-wide Redactor is the one place that
// knows secrets (config, token store and HTTP credentials register there too).
void Logger::add_secret(std::string value) { register_secret(value); }

std::string Logger::redact(std::string_view text) const { return services::redact(text); }

std::string Logger::format_line(std::int64_t epoch_ms, LogLevel level, std::string_view source,
                                std::string_view message) const {
  const std::string msg = redact(message);
  if (m_format == LogFormat::json) {
    nlohmann::ordered_json line = {{"ts", iso_utc_ms(epoch_ms)},
                                   {"level", std::string(to_string(level))},
                                   {"source", std::string(source)},
                                   {"msg", msg}};
    // A plugin may hand us invalid UTF-8; replace it rather than lose the line.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = iso_utc_ms(epoch_ms);
  line += ' ';
  line += text_label(level);
  line += " [";
  line += source;
  line += "] ";
  line += one_line(msg);
  return line;
}

void Logger::log(LogLevel level, std::string_view source, std::string_view message) {
  if (!enabled(level)) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  m_out->info("{}", format_line(now, level, source, message));
}

}  // namespace cw::services
