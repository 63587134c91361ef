#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include <cw/services/secrets/redactor.hpp>
#include <cw/util/strings.hpp>

namespace cw::services {
namespace {

constexpr std::array<std::string_view, 14> k_sensitive_headers = {
    "authorization",  "proxy-authorization", "x-plex-token",         "trakt-api-key",
    "simkl-api-key",  "x-api-key",           "x-emby-token",         "x-mediabrowser-token",
    "cookie",         "set-cookie",          "x-emby-authorization", "apikey",
    "x-tautulli-key", "x-auth-token"};

// Not "key" or "code": cw's own canonical item keys and status codes use those names.
constexpr std::array<std::string_view, 12> k_sensitive_queries = {
    "apikey",        "api_key",  "token",      "x-plex-token", "access_token", "refresh_token",
    "client_secret", "password", "session_id", "device_code",  "secret",       "request_token"};

bool in_list(std::string_view name, const auto& list) {
  const std::string lower = util::to_lower(name);
  return std::find(list.begin(), list.end(), lower) != list.end();
}

bool is_query_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Masks the value of `name=value` pairs (URLs, form bodies, log text) whose name is
// sensitive. The value ends at &, whitespace, a quote or the end of the text.
void mask_query_values(std::string& s) {
  std::size_t pos = 0;
  while ((pos = s.find('=', pos)) != std::string::npos) {
    std::size_t start = pos;
    while (start > 0 && is_query_name_char(s[start - 1])) --start;
    const std::string_view name(s.data() + start, pos - start);
    std::size_t end = pos + 1;
    while (end < s.size() && s[end] != '&' && s[end] != ' ' && s[end] != '"' && s[end] != '\'' &&
           s[end] != '\n' && s[end] != '\r' && s[end] != '\t' && s[end] != ',' && s[end] != ';')
      ++end;
    const bool delimited = start == 0 || !is_query_name_char(s[start - 1]);
    if (!name.empty() && delimited && end > pos + 1 && Redactor::is_sensitive_query(name) &&
        std::string_view(s.data() + pos + 1, end - pos - 1) != k_redacted) {
      s.replace(pos + 1, end - pos - 1, k_redacted);
      pos += 1 + k_redacted.size();
    } else {
      pos = end > pos ? end : pos + 1;
    }
  }
}

// Masks `Header-Name: value` up to the end of the line for sensitive header names, and the
// JSON form `"Header-Name": "value"` (a dumped header map).
void mask_header_lines(std::string& s) {
  std::size_t pos = 0;
  while ((pos = s.find(':', pos)) != std::string::npos) {
    std::size_t name_end = pos;
    const bool quoted = name_end > 0 && s[name_end - 1] == '"';
    if (quoted) --name_end;
    std::size_t start = name_end;
    while (start > 0 && is_query_name_char(s[start - 1])) --start;
    const std::string_view name(s.data() + start, name_end - start);
    if (name.empty() || !Redactor::is_sensitive_header(name)) {
      ++pos;
      continue;
    }
    std::size_t vstart = pos + 1;
    while (vstart < s.size() && s[vstart] == ' ') ++vstart;
    if (vstart < s.size() && s[vstart] == '"') ++vstart;
    std::size_t end = vstart;
    while (end < s.size() && s[end] != '\n' && s[end] != '\r' && s[end] != '"' &&
           (quoted || s[end] != ','))
      ++end;
    if (end > vstart && std::string_view(s.data() + vstart, end - vstart) != k_redacted) {
      s.replace(vstart, end - vstart, k_redacted);
      end = vstart + k_redacted.size();
    }
    pos = end;
  }
}

}  // namespace

Redactor& Redactor::global() {
  static Redactor instance;
  return instance;
}

namespace {

// The string leaves of a JSON document of at least `min` bytes (an OAuth token stored as
// {"access_token": ..., "refresh_token": ...}: a log line may quote one field alone).
void string_leaves(const nlohmann::json& j, std::size_t min, std::vector<std::string>& out) {
  if (j.is_string()) {
    if (j.get_ref<const std::string&>().size() >= min) out.push_back(j.get<std::string>());
  } else if (j.is_structured()) {
    for (const auto& child : j) string_leaves(child, min, out);
  }
}

}  // namespace

void Redactor::add_secret(std::string_view value) {
  if (value.size() < 4) return;
  if (!value.empty() && (value.front() == '{' || value.front() == '[')) {
    const auto doc = nlohmann::json::parse(value, nullptr, false);
    if (!doc.is_discarded() && doc.is_structured()) {
      // 8 bytes and more: "bearer" and scopes are not secrets, tokens are long.
      std::vector<std::string> leaves;
      string_leaves(doc, 8, leaves);
      for (const auto& leaf : leaves) add_secret(leaf);
    }
  }
  std::lock_guard lock(m_mutex);
  if (std::find(m_values.begin(), m_values.end(), value) != m_values.end()) return;
  m_values.emplace_back(value);
  std::sort(m_values.begin(), m_values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Redactor::clear() {
  std::lock_guard lock(m_mutex);
  m_values.clear();
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  {
    std::lock_guard lock(m_mutex);
    for (const auto& v : m_values) {
      std::size_t pos = 0;
      while ((pos = out.find(v, pos)) != std::string::npos) {
        out.replace(pos, v.size(), k_redacted);
        pos += k_redacted.size();
      }
    }
  }
  mask_query_values(out);
  mask_header_lines(out);
  return out;
}

bool Redactor::is_sensitive_header(std::string_view name) {
  return in_list(name, k_sensitive_headers);
}

bool Redactor::is_sensitive_query(std::string_view name) {
  return in_list(name, k_sensitive_queries);
}

std::string redact(std::string_view text) { return Redactor::global().redact(text); }

void register_secret(std::string_view value) { Redactor::global().add_secret(value); }

}  // namespace cw::services
