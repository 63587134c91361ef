#include <algorithm>

#include <nlohmann/json.hpp>

#include <cw/services/http/accounting.hpp>
#include <cw/services/http/http_json.hpp>
#include <cw/services/secrets/redactor.hpp>
#include <cw/util/strings.hpp>

namespace cw::services {
namespace {

using nlohmann::json;

Error bad(const std::string& what) {
  return make_error("http request: " + what, ErrorKind::invalid_arg);
}

Result<std::string> scalar_text(const json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return v.dump();
  return bad(where + ": expected a string, number or boolean");
}

Result<HeaderList> read_pairs(const json& doc, const char* key) {
  HeaderList out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return out;
  if (it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_array()) {  // repeated query parameter: ?id=1&id=2
        for (const auto& e : v) {
          auto t = scalar_text(e, std::string(key) + "." + k);
          if (!t) return t.error();
          out.emplace_back(k, std::move(*t));
        }
        continue;
      }
      auto t = scalar_text(v, std::string(key) + "." + k);
      if (!t) return t.error();
      out.emplace_back(k, std::move(*t));
    }
    return out;
  }
  if (it->is_array()) {  // [[name, value], ...] keeps order and duplicates
    for (const auto& e : *it) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_string())
        return bad(std::string(key) + ": expected an object or a list of [name, value] pairs");
      auto t = scalar_text(e[1], std::string(key) + "." + e[0].get<std::string>());
      if (!t) return t.error();
      out.emplace_back(e[0].get<std::string>(), std::move(*t));
    }
    return out;
  }
  return bad(std::string(key) + ": expected an object");
}

}  // namespace

Result<HttpRequest> parse_http_request(std::string_view text) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return bad("expected a JSON object");
  HttpRequest req;

  if (auto it = doc.find("method"); it != doc.end()) {
    if (!it->is_string() || it->get<std::string>().empty())
      return bad("method: expected a string such as \"GET\"");
    req.method = it->get<std::string>();
    std::transform(req.method.begin(), req.method.end(), req.method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!std::all_of(req.method.begin(), req.method.end(),
                     [](unsigned char c) { return std::isupper(c) != 0; }))
      return bad("method: '" + req.method + "' is not an HTTP method");
  }
  auto url = doc.find("url");
  if (url == doc.end() || !url->is_string()) return bad("url: missing; expected an absolute URL");
  req.url = url->get<std::string>();
  if (!util::starts_with_icase(req.url, "http://") && !util::starts_with_icase(req.url, "https://"))
    return bad("url: expected an absolute http:// or https:// URL, got '" +
               redact(req.url.substr(0, 80)) + "'");
  if (req.url.find_first_of(" \r\n\t") != std::string::npos)
    return bad("url: contains whitespace; URL-encode it or pass parameters in \"query\"");

  auto q = read_pairs(doc, "query");
  if (!q) return q.error();
  req.query = std::move(*q);
  auto h = read_pairs(doc, "headers");
  if (!h) return h.error();
  req.headers = std::move(*h);
  for (const auto& [k, v] : req.headers)
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos)
      return bad("headers." + k +
                 ": header names and values must not contain ':', spaces or line breaks");

  if (auto it = doc.find("body"); it != doc.end() && !it->is_null()) {
    if (it->is_string())
      req.body = it->get<std::string>();
    else
      req.body = it->dump();  // a JSON body given as a document
  }
  if (auto it = doc.find("timeout_ms"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      return bad("timeout_ms: expected a non-negative integer");
    req.timeout_ms = it->get<std::int64_t>();
  }
  const bool safe_method = req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS";
  req.read = safe_method;
  if (auto it = doc.find("read"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad("read: expected true or false");
    req.read = it->get<bool>();
  }
  if (auto it = doc.find("retry_safe"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad("retry_safe: expected true or false");
    req.retry_safe = it->get<bool>();
  }
  if (auto it = doc.find("endpoint"); it != doc.end() && !it->is_null()) {
    if (!it->is_string()) return bad("endpoint: expected a string such as \"/sync/history\"");
    req.endpoint = it->get<std::string>();
  }
  if (req.endpoint.empty()) req.endpoint = endpoint_template(req.url);
  return req;
}

std::string http_response_meta_json(const HttpResponse& response) {
  json headers = json::object();
  for (const auto& [k, v] : response.headers) {
    if (k == "set-cookie") continue;
    auto it = headers.find(k);
    if (it == headers.end())
      headers[k] = v;
    else
      *it = it->get<std::string>() + ", " + v;
  }
  json doc = {{"status", response.status},
              {"headers", std::move(headers)},
              {"timing",
               {{"total_ms", response.timing.total_ms},
                {"connect_ms", response.timing.connect_ms},
                {"first_byte_ms", response.timing.first_byte_ms}}},
              {"attempts", response.attempts}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string http_error_json(const Error& error) {
  json doc = {{"message", redact(error.message)}};
  if (error.retry_after_ms >= 0) doc["retry_after_ms"] = error.retry_after_ms;
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace cw::services
