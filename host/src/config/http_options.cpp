#include <algorithm>
#include <set>

#include <cw/config/http_options.hpp>
#include <cw/util/strings.hpp>

namespace cw::config {
namespace {

using nlohmann::json;

Status check_keys(const json& doc, const std::string& where, const std::set<std::string>& known) {
  if (!doc.is_object()) return make_error(where + ": expected a mapping", ErrorKind::invalid_arg);
  for (const auto& [k, v] : doc.items())
    if (!known.count(k)) {
      std::string hint;
      std::size_t best = 3;
      for (const auto& cand : known)
        if (auto d = util::levenshtein(k, cand); d < best) {
          best = d;
          hint = cand;
        }
      return make_error(where + ": unknown key '" + k + "'" +
                            (hint.empty() ? "" : "; did you mean '" + hint + "'?"),
                        ErrorKind::invalid_arg);
    }
  return ok_status();
}

template <typename T>
Status read_int(const json& doc, const char* key, const std::string& where, T& out, T min) {
  auto it = doc.find(key);
  if (it == doc.end()) return ok_status();
  if (!it->is_number_integer() || it->get<std::int64_t>() < static_cast<std::int64_t>(min))
    return make_error(where + "." + key + ": expected an integer >= " + std::to_string(min),
                      ErrorKind::invalid_arg);
  out = static_cast<T>(it->get<std::int64_t>());
  return ok_status();
}

template <typename T>
Status read_opt_int(const json& doc, const char* key, const std::string& where,
                    std::optional<T>& out, T min) {
  if (!doc.contains(key)) return ok_status();
  T v{};
  if (auto st = read_int(doc, key, where, v, min); !st) return st;
  out = v;
  return ok_status();
}

Status read_string(const json& doc, const char* key, const std::string& where, std::string& out) {
  auto it = doc.find(key);
  if (it == doc.end()) return ok_status();
  if (!it->is_string())
    return make_error(where + "." + key + ": expected a string", ErrorKind::invalid_arg);
  out = it->get<std::string>();
  return ok_status();
}

Status read_opt_string(const json& doc, const char* key, const std::string& where,
                       std::optional<std::string>& out) {
  if (!doc.contains(key)) return ok_status();
  std::string v;
  if (auto st = read_string(doc, key, where, v); !st) return st;
  out = v;
  return ok_status();
}

Status read_bool(const json& doc, const char* key, const std::string& where, bool& out) {
  auto it = doc.find(key);
  if (it == doc.end()) return ok_status();
  if (!it->is_boolean())
    return make_error(where + "." + key + ": expected true or false", ErrorKind::invalid_arg);
  out = it->get<bool>();
  return ok_status();
}

Result<RateLimitSpec> parse_limit(const json& doc, const std::string& where) {
  if (auto st = check_keys(doc, where, {"name", "methods", "endpoints", "requests", "per_seconds"});
      !st)
    return st.error();
  RateLimitSpec spec;
  if (!doc.contains("name") || !doc["name"].is_string() || doc["name"].get<std::string>().empty())
    return make_error(where + ".name: expected a non-empty string", ErrorKind::invalid_arg);
  spec.name = doc["name"].get<std::string>();
  if (doc.contains("methods")) {
    if (!doc["methods"].is_array())
      return make_error(where + ".methods: expected a list such as [GET]", ErrorKind::invalid_arg);
    for (const auto& m : doc["methods"]) {
      if (!m.is_string())
        return make_error(where + ".methods: expected method names", ErrorKind::invalid_arg);
      std::string up = m.get<std::string>();
      std::transform(up.begin(), up.end(), up.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      spec.methods.push_back(up);
    }
  }
  if (doc.contains("endpoints")) {
    if (!doc["endpoints"].is_array())
      return make_error(where + ".endpoints: expected a list such as [\"/sync/*\"]",
                        ErrorKind::invalid_arg);
    for (const auto& e : doc["endpoints"]) {
      if (!e.is_string())
        return make_error(where + ".endpoints: expected endpoint templates",
                          ErrorKind::invalid_arg);
      spec.endpoints.push_back(e.get<std::string>());
    }
  }
  auto num = [&](const char* key, double& out) -> Status {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_number() || it->get<double>() <= 0)
      return make_error(where + "." + key + ": expected a number > 0", ErrorKind::invalid_arg);
    out = it->get<double>();
    return ok_status();
  };
  if (auto st = num("requests", spec.requests); !st) return st.error();
  if (auto st = num("per_seconds", spec.per_seconds); !st) return st.error();
  return spec;
}

}  // namespace

Result<InstanceHttpOptions> parse_instance_http_options(const json& doc, const std::string& where) {
  if (auto st = check_keys(
          doc, where,
          {"connect_timeout_ms", "timeout_ms", "max_attempts", "proxy", "ca_file", "ca_path",
           "verify_tls", "max_wait_ms", "rate_limits", "max_requests_per_run"});
      !st)
    return st.error();
  InstanceHttpOptions o;
  if (auto st =
          read_opt_int<std::int64_t>(doc, "connect_timeout_ms", where, o.connect_timeout_ms, 1);
      !st)
    return st.error();
  if (auto st = read_opt_int<std::int64_t>(doc, "timeout_ms", where, o.timeout_ms, 1); !st)
    return st.error();
  if (auto st = read_opt_int<int>(doc, "max_attempts", where, o.max_attempts, 1); !st)
    return st.error();
  if (auto st = read_opt_int<std::int64_t>(doc, "max_wait_ms", where, o.max_wait_ms, 0); !st)
    return st.error();
  if (auto st =
          read_opt_int<std::int64_t>(doc, "max_requests_per_run", where, o.max_requests_per_run, 0);
      !st)
    return st.error();
  if (auto st = read_opt_string(doc, "proxy", where, o.proxy); !st) return st.error();
  if (auto st = read_opt_string(doc, "ca_file", where, o.ca_file); !st) return st.error();
  if (auto st = read_opt_string(doc, "ca_path", where, o.ca_path); !st) return st.error();
  if (doc.contains("verify_tls")) {
    bool v = true;
    if (auto st = read_bool(doc, "verify_tls", where, v); !st) return st.error();
    o.verify_tls = v;
  }
  if (doc.contains("rate_limits")) {
    if (!doc["rate_limits"].is_array())
      return make_error(where + ".rate_limits: expected a list of {name, requests, per_seconds}",
                        ErrorKind::invalid_arg);
    std::size_t i = 0;
    for (const auto& l : doc["rate_limits"]) {
      auto spec = parse_limit(l, where + ".rate_limits[" + std::to_string(i++) + "]");
      if (!spec) return spec.error();
      o.rate_limits.push_back(std::move(*spec));
    }
  }
  return o;
}

Result<HttpOptions> parse_http_options(const json& doc, const std::string& where) {
  HttpOptions o;
  if (doc.is_null()) return o;
  if (auto st =
          check_keys(doc, where,
                     {"connect_timeout_ms", "timeout_ms", "max_attempts", "backoff_base_ms",
                      "backoff_max_ms", "max_wait_ms", "proxy", "ca_file", "ca_path", "verify_tls",
                      "reuse_connections", "http2", "user_agent", "max_body_bytes"});
      !st)
    return st.error();
  if (auto st = read_int<std::int64_t>(doc, "connect_timeout_ms", where, o.connect_timeout_ms, 1);
      !st)
    return st.error();
  if (auto st = read_int<std::int64_t>(doc, "timeout_ms", where, o.timeout_ms, 1); !st)
    return st.error();
  if (auto st = read_int<int>(doc, "max_attempts", where, o.max_attempts, 1); !st)
    return st.error();
  if (auto st = read_int<std::int64_t>(doc, "backoff_base_ms", where, o.backoff_base_ms, 0); !st)
    return st.error();
  if (auto st = read_int<std::int64_t>(doc, "backoff_max_ms", where, o.backoff_max_ms, 0); !st)
    return st.error();
  if (auto st = read_int<std::int64_t>(doc, "max_wait_ms", where, o.max_wait_ms, 0); !st)
    return st.error();
  if (auto st = read_int<std::int64_t>(doc, "max_body_bytes", where, o.max_body_bytes, 1); !st)
    return st.error();
  if (auto st = read_string(doc, "proxy", where, o.proxy); !st) return st.error();
  if (auto st = read_string(doc, "ca_file", where, o.ca_file); !st) return st.error();
  if (auto st = read_string(doc, "ca_path", where, o.ca_path); !st) return st.error();
  if (auto st = read_string(doc, "user_agent", where, o.user_agent); !st) return st.error();
  if (auto st = read_bool(doc, "verify_tls", where, o.verify_tls); !st) return st.error();
  if (auto st = read_bool(doc, "reuse_connections", where, o.reuse_connections); !st)
    return st.error();
  if (auto st = read_bool(doc, "http2", where, o.http2); !st) return st.error();
  return o;
}

Result<std::vector<RateLimitSpec>> rate_limits_from_manifest(const json& manifest) {
  std::vector<RateLimitSpec> out;
  auto it = manifest.find("rate_limits");
  if (it == manifest.end() || it->is_null()) return out;
  if (!it->is_array())
    return make_error("manifest.rate_limits: expected a list", ErrorKind::invalid_arg);
  std::size_t i = 0;
  for (const auto& l : *it) {
    auto spec = parse_limit(l, "manifest.rate_limits[" + std::to_string(i++) + "]");
    if (!spec) return spec.error();
    out.push_back(std::move(*spec));
  }
  return out;
}

std::vector<RateLimitSpec> merge_rate_limits(std::vector<RateLimitSpec> manifest,
                                             const std::vector<RateLimitSpec>& overrides) {
  for (const auto& o : overrides) {
    auto it = std::find_if(manifest.begin(), manifest.end(),
                           [&](const RateLimitSpec& m) { return m.name == o.name; });
    if (it == manifest.end()) {
      manifest.push_back(o);
    } else {
      // An override that names no methods keeps the manifest's methods.
      RateLimitSpec merged = o;
      if (merged.methods.empty()) merged.methods = it->methods;
      if (merged.endpoints.empty()) merged.endpoints = it->endpoints;
      *it = merged;
    }
  }
  return manifest;
}

}  // namespace cw::config
