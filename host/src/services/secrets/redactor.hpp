#pragma once
// Redactor: the one place that knows which strings must never reach a log line, a report,
// a plan or the state database. It holds every secret value the host has resolved or
// stored (SecretStore registers them) and the header and query names that always carry
// credentials. The logger passes every line through cw::services::redact().

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cw::services {

inline constexpr std::string_view k_redacted = "[redacted]";

class Redactor {
 public:
  // The process-wide instance.
  static Redactor& global();

  // Remembers `value` as secret. Values shorter than 4 bytes are ignored: masking "ok" or
  // "1" everywhere would destroy logs and they carry no meaningful secret.
  void add_secret(std::string_view value);
  // Forgets every registered value (tests).
  void clear();

  // Replaces every known secret value, every value of a sensitive query parameter
  // (`apikey=...`) and every sensitive header value written as `Name: value` in `text`.
  std::string redact(std::string_view text) const;

  // Header names (any case) whose values are always secret: Authorization, X-Plex-Token...
  static bool is_sensitive_header(std::string_view name);
  // Query parameter names whose values are always secret: apikey, api_key, token...
  static bool is_sensitive_query(std::string_view name);

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_values;  // longest first, so a prefix never masks half a value
};

// Shorthand for Redactor::global().redact(text); what the logger calls.
std::string redact(std::string_view text);
// Shorthand for Redactor::global().add_secret(value).
void register_secret(std::string_view value);

}  // namespace cw::services
