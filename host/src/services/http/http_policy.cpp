#include <curl/curl.h>

#include <cw/services/http/http_policy.hpp>
#include <cw/services/secrets/redactor.hpp>

namespace cw::services {

bool is_idempotent_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE";
}

bool may_repeat(const HttpRequest& request) {
  return request.read || request.retry_safe || is_idempotent_method(request.method);
}

Status check_dry_run(const HttpContext& ctx, const HttpRequest& request) {
  if (!ctx.dry_run || request.read) return ok_status();
  return make_error(ctx.instance + ": dry run refused " + request.method + " " +
                        (request.endpoint.empty() ? std::string("request") : request.endpoint) +
                        ": it is not marked as a read (set \"read\": true only for queries)",
                    ErrorKind::unsupported);
}

bool is_retryable_status(int status) {
  return status == 408 || status == 425 || status == 429 || status == 500 || status == 502 ||
         status == 503 || status == 504;
}

void register_request_secrets(const HttpRequest& request) {
  for (const auto& [k, v] : request.headers) {
    if (!Redactor::is_sensitive_header(k)) continue;
    register_secret(v);
    // "Bearer abc", "MediaBrowser Token=\"abc\"": the credential part on its own as well.
    if (auto sp = v.find(' '); sp != std::string::npos) register_secret(v.substr(sp + 1));
    if (auto tok = v.find("Token=\""); tok != std::string::npos) {
      const auto start = tok + 7;
      const auto end = v.find('"', start);
      if (end != std::string::npos) register_secret(v.substr(start, end - start));
    }
  }
  for (const auto& [k, v] : request.query)
    if (Redactor::is_sensitive_query(k)) register_secret(v);
}

std::string full_url(const HttpRequest& request) {
  if (request.query.empty()) return request.url;
  std::string out = request.url;
  out += request.url.find('?') == std::string::npos ? '?' : '&';
  bool first = true;
  auto escape = [](const std::string& s) {
    char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
    std::string r = e != nullptr ? e : "";
    curl_free(e);
    return r;
  };
  for (const auto& [k, v] : request.query) {
    if (!first) out += '&';
    first = false;
    out += escape(k);
    out += '=';
    out += escape(v);
  }
  return out;
}

}  // namespace cw::services
