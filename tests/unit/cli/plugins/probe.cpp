// A provider that reports what the host gave it, for the tests of `cw auth login` and
// `cw provider`: its `probe` action counts its calls in the kv store (so a test sees
// whether kv persists between commands), GETs `<url>/ping` through the host (so a test
// sees whether the configuration's `http:` block applies), and says whether its secret
// setting reached create() in clear. Its password sign-in stores a token and counts too.

#include <string>

#include <nlohmann/json.hpp>

#include <cwsdk/provider.hpp>

using nlohmann::json;

namespace {

class Probe {
 public:
  static const char* manifest() {
    return R"json({
      "name": "probe",
      "version": "1.0.0",
      "display_name": "Probe (tests)",
      "description": "Reports the services the host lends it; used by the CLI tests.",
      "features": {
        "watchlist": {"types": ["movie"], "index_semantics": "present", "add": false,
                      "remove": false, "update": false}
      },
      "capabilities": {"auth": "password", "scrobble": false},
      "auth_prompts": [{"name": "username", "label": "User name"}],
      "secrets": ["api_key"],
      "actions": [{"name": "probe", "description": "report what the host lent"}],
      "config": {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string"}, "api_key": {"type": "string"}},
        "additionalProperties": false
      }
    })json";
  }

  Probe(cwsdk::Host host, std::string_view config) : m_host(host) {
    const json cfg = json::parse(config.begin(), config.end(), nullptr, false);
    if (!cfg.is_object() || !cfg.contains("url") || !cfg["url"].is_string())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "url: expected a string");
    m_url = cfg["url"].get<std::string>();
    m_api_key_seen = cfg.value("api_key", std::string());
  }

  cwsdk::Reply health(std::string_view) { return cwsdk::Reply::ok(R"({"status":"ok"})"); }
  // A read-only, always empty watchlist: the manifest needs one feature.
  cwsdk::Reply build_index(std::string_view request) {
    if (!json::parse(request.begin(), request.end(), nullptr, false).is_object())
      return cwsdk::Reply::error(CW_STATUS_INVALID_ARG, "request is not a JSON object");
    return cwsdk::Reply::ok(
        R"({"items":[],"complete":true,"expected_total":0,"received":0,"watermark":null,)"
        R"("semantics":"present"})");
  }
  cwsdk::Reply add(std::string_view) {
    return cwsdk::Reply::error(CW_STATUS_UNSUPPORTED, "probe is read-only");
  }
  cwsdk::Reply remove(std::string_view) { return add({}); }

  cwsdk::Reply action(std::string_view) {
    const int calls = bump("action_calls");
    const auto r = m_host.http(json{
        {"method", "GET"},
        {"url", m_url + "/ping"},
        {"read", true},
        {"endpoint", "/ping"}}.dump());
    const json meta = json::parse(r.meta, nullptr, false);
    return cwsdk::Reply::ok(
        json{{"action_calls", calls},
             {"http_status", meta.is_object() ? meta.value("status", 0) : 0},
             {"http_body", r.body},
             {"auth_calls", std::stoi(m_host.kv_get("auth_calls").value_or("0"))},
             {"api_key_in_settings", m_api_key_seen},
             {"api_key_secret", m_host.secret("api_key").value_or("")}}
            .dump());
  }

  cwsdk::Reply auth_start(std::string_view request) {
    const json req = json::parse(request.begin(), request.end(), nullptr, false);
    const std::string user = req.is_object() && req.contains("fields") && req["fields"].is_object()
                                 ? req["fields"].value("username", std::string())
                                 : std::string();
    bump("auth_calls");
    m_host.put_secret("token", "token-of-" + user);
    return cwsdk::Reply::ok(json{{"kind", "password"}, {"message", "signed in"}}.dump());
  }
  cwsdk::Reply auth_poll(std::string_view) {
    return cwsdk::Reply::ok(R"({"state":"done","message":"signed in"})");
  }

 private:
  int bump(const char* key) {
    const int n = std::stoi(m_host.kv_get(key).value_or("0")) + 1;
    m_host.kv_put(key, std::to_string(n));
    return n;
  }

  cwsdk::Host m_host;
  std::string m_url;
  std::string m_api_key_seen;
};

}  // namespace

CWSDK_PROVIDER(Probe)
