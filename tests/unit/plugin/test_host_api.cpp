// The cw_host_api tables as a plugin sees them, driven through the C function pointers.
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <cw/plugin/host_api.hpp>
#include <cw/plugin/manifest.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/schemas.hpp>
#include <cw/services/kv/memory_kv_store.hpp>

using namespace cw;
using namespace cw::plugin;
using nlohmann::json;

namespace {

// Records what the binding asked for and answers with a scripted response or error.
class RecordingHttp final : public services::HttpService {
 public:
  std::vector<services::HttpRequest> requests;
  std::vector<services::HttpContext> contexts;
  std::optional<Error> fail;
  Result<services::HttpResponse> send(const services::HttpContext& ctx,
                                      const services::HttpRequest& request,
                                      const services::BodySink& sink) override {
    requests.push_back(request);
    contexts.push_back(ctx);
    if (fail) return *fail;
    services::HttpResponse r;
    r.status = 201;
    r.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}};
    r.attempts = 2;
    r.timing.total_ms = 12.5;
    if (sink) {
      sink("{\"ok\":");
      sink("true}");
    } else {
      r.body = "{\"ok\":true}";
    }
    return r;
  }
};

class MapSecrets final : public services::SecretStore {
 public:
  std::map<std::pair<std::string, std::string>, std::string> values;
  Result<std::string> get(const std::string& instance, const std::string& name) override {
    auto it = values.find({instance, name});
    if (it == values.end())
      return make_error("secret '" + name + "' of " + instance + " is not set",
                        ErrorKind::not_found);
    return it->second;
  }
  Status put(const std::string& instance, const std::string& name,
             const std::string& value) override {
    values[{instance, name}] = value;
    return ok_status();
  }
};

void append(void* ctx, const char* d, size_t n) { static_cast<std::string*>(ctx)->append(d, n); }
cw_sink sink_to(std::string& s) { return cw_sink{&s, &append}; }

class HostApiTest : public ::testing::Test {
 protected:
  std::ostringstream m_log;
  services::Logger m_logger{services::LogLevel::trace, services::LogFormat::text,
                            std::make_shared<spdlog::sinks::ostream_sink_mt>(m_log)};
  services::ManualClock m_clock{1'700'000'000'123};
  services::FlagCancelToken m_cancel;
  services::MemoryKvStore m_kv;
  MapSecrets m_secrets;
  RecordingHttp m_http;

  HostServices services(bool dry_run = false) {
    return HostServices{m_logger, m_clock, m_cancel, &m_kv, &m_secrets, &m_http, dry_run};
  }

  static cw_status http(const cw_host_api* api, const std::string& req, std::string& meta,
                        std::string& body) {
    return api->http(api->host_ctx, req.data(), req.size(), sink_to(meta), sink_to(body));
  }
};

TEST_F(HostApiTest, TableHeader) {
  HostBinding b(services(), "trakt", "trakt-main");
  const cw_host_api* api = b.table();
  EXPECT_EQ(api->struct_size, sizeof(cw_host_api));
  EXPECT_EQ(api->abi_major, CWSDK_VERSION_MAJOR);
  EXPECT_EQ(api->abi_minor, CWSDK_VERSION_MINOR);
  EXPECT_EQ(api->host_ctx, &b);
}

TEST_F(HostApiTest, LogNowAndCancel) {
  HostBinding b(services(), "trakt", "trakt-main");
  const cw_host_api* api = b.table();
  api->log(api->host_ctx, CW_LOG_WARN, "hello\nworld", 11);
  api->log(api->host_ctx, 99, "very bad", 8);
  EXPECT_NE(m_log.str().find("WARN  [trakt-main] hello\\nworld\n"), std::string::npos)
      << m_log.str();
  EXPECT_NE(m_log.str().find("ERROR [trakt-main] very bad\n"), std::string::npos);
  EXPECT_EQ(api->now(api->host_ctx), 1'700'000'000'123);
  m_clock.advance_ms(1000);
  EXPECT_EQ(api->now(api->host_ctx), 1'700'000'001'123);
  EXPECT_EQ(api->is_cancelled(api->host_ctx), 0);
  m_cancel.cancel();
  EXPECT_EQ(api->is_cancelled(api->host_ctx), 1);
}

TEST_F(HostApiTest, KvIsPerInstanceAndDryRunStoresNothing) {
  HostBinding a(services(), "p", "one");
  HostBinding b(services(), "p", "two");
  HostBinding dry(services(true), "p", "one");
  const auto* ta = a.table();
  EXPECT_EQ(ta->kv_put(ta->host_ctx, "wm", 2, "v1", 2), CW_STATUS_OK);
  std::string v;
  EXPECT_EQ(ta->kv_get(ta->host_ctx, "wm", 2, sink_to(v)), CW_STATUS_OK);
  EXPECT_EQ(v, "v1");
  std::string other;
  EXPECT_EQ(b.table()->kv_get(b.table()->host_ctx, "wm", 2, sink_to(other)), CW_STATUS_NOT_FOUND);
  EXPECT_EQ(dry.table()->kv_put(dry.table()->host_ctx, "wm", 2, "v2", 2), CW_STATUS_OK);
  v.clear();
  EXPECT_EQ(dry.table()->kv_get(dry.table()->host_ctx, "wm", 2, sink_to(v)), CW_STATUS_OK);
  EXPECT_EQ(v, "v1") << "a dry run must not store";
  EXPECT_EQ(ta->kv_put(ta->host_ctx, "wm", 2, "", 0), CW_STATUS_OK);
  v.clear();
  EXPECT_EQ(ta->kv_get(ta->host_ctx, "wm", 2, sink_to(v)), CW_STATUS_NOT_FOUND);
  EXPECT_EQ(ta->kv_get(ta->host_ctx, "", 0, sink_to(v)), CW_STATUS_INVALID_ARG);
}

TEST_F(HostApiTest, LibraryWideTableRefusesInstanceServices) {
  HostBinding lib(services(), "trakt");
  const auto* t = lib.table();
  std::string out;
  EXPECT_EQ(t->kv_get(t->host_ctx, "k", 1, sink_to(out)), CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(t->kv_put(t->host_ctx, "k", 1, "v", 1), CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(t->get_secret(t->host_ctx, "token", 5, sink_to(out)), CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(t->put_secret(t->host_ctx, "token", 5, "v", 1), CW_STATUS_UNSUPPORTED);
  std::string meta, body;
  EXPECT_EQ(http(t, R"({"url":"http://127.0.0.1/"})", meta, body), CW_STATUS_UNSUPPORTED);
  EXPECT_TRUE(m_http.requests.empty());
  EXPECT_EQ(json::parse(meta)["message"],
            "http is not available in cwsdk_entry; use it from an instance");
}

TEST_F(HostApiTest, MissingServicesAnswerUnsupported) {
  HostServices none{m_logger, m_clock, m_cancel, nullptr, nullptr, nullptr, false};
  HostBinding b(none, "p", "i");
  const auto* t = b.table();
  std::string out, meta, body;
  EXPECT_EQ(t->kv_get(t->host_ctx, "k", 1, sink_to(out)), CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(t->get_secret(t->host_ctx, "k", 1, sink_to(out)), CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(http(t, R"({"url":"http://127.0.0.1/"})", meta, body), CW_STATUS_UNSUPPORTED);
}

TEST_F(HostApiTest, HttpRequestIsParsedAndResponseDocumented) {
  HostBinding b(services(), "trakt", "trakt-main");
  std::string meta, body;
  const std::string req = R"({"method":"POST","url":"https://api.trakt.tv/sync/history",
      "query":{"limit":100,"type":"movies"},"headers":{"trakt-api-version":"2"},
      "body":"{}","timeout_ms":5000,"read":false,"retry_safe":true,"endpoint":"/sync/history"})";
  ASSERT_EQ(http(b.table(), req, meta, body), CW_STATUS_OK) << meta;
  ASSERT_EQ(m_http.requests.size(), 1u);
  const auto& r = m_http.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.trakt.tv/sync/history");
  EXPECT_EQ(r.query, (services::HeaderList{{"limit", "100"}, {"type", "movies"}}));
  EXPECT_EQ(r.headers, (services::HeaderList{{"trakt-api-version", "2"}}));
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(r.timeout_ms, 5000);
  EXPECT_FALSE(r.read);
  EXPECT_TRUE(r.retry_safe);
  EXPECT_EQ(r.endpoint, "/sync/history");
  EXPECT_EQ(m_http.contexts[0].instance, "trakt-main");
  EXPECT_EQ(m_http.contexts[0].plugin, "trakt");
  EXPECT_EQ(m_http.contexts[0].cancel, &m_cancel);
  EXPECT_EQ(body, "{\"ok\":true}");
  const json m = json::parse(meta);
  EXPECT_EQ(m["status"], 201);
  EXPECT_EQ(m["headers"]["content-type"], "application/json");
  EXPECT_EQ(m["headers"]["x-a"], "1, 2");
  EXPECT_EQ(m["attempts"], 2);
  EXPECT_EQ(m["timing"]["total_ms"], 12.5);
  // The documents agree with their schemas (sdk/schema/http_request, http_meta).
  EXPECT_TRUE(validate_against_schema(k_http_request_schema_json, req, "request").ok());
  const Status meta_ok = validate_against_schema(k_http_meta_schema_json, meta, "meta");
  EXPECT_TRUE(meta_ok.ok()) << meta_ok.error().message;
}

TEST_F(HostApiTest, HttpDefaultsReadFromMethod) {
  HostBinding b(services(), "p", "i");
  std::string meta, body;
  ASSERT_EQ(http(b.table(), R"({"url":"http://127.0.0.1:1/x"})", meta, body), CW_STATUS_OK);
  EXPECT_EQ(m_http.requests[0].method, "GET");
  EXPECT_TRUE(m_http.requests[0].read);
  ASSERT_EQ(http(b.table(), R"({"method":"DELETE","url":"http://127.0.0.1:1/x"})", meta, body),
            CW_STATUS_OK);
  EXPECT_FALSE(m_http.requests[1].read);
}

TEST_F(HostApiTest, MalformedHttpRequestsAreInvalidArg) {
  HostBinding b(services(), "p", "i");
  // The messages are those of services::parse_http_request (one parser for the ABI's
  // HTTP document); the binding passes them through unchanged.
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "http request: expected a JSON object"},
      {"{}", "http request: url: missing; expected an absolute URL"},
      {R"({"url":"ftp://x"})",
       "http request: url: expected an absolute http:// or https:// URL, got 'ftp://x'"},
      {R"({"url":"http://x","headers":5})", "http request: headers: expected an object"},
      {R"({"url":"http://x","query":{"a":{"b":1}}})",
       "http request: query.a: expected a string, number or boolean"},
      {R"({"url":"http://x","timeout_ms":-1})",
       "http request: timeout_ms: expected a non-negative integer"},
      {R"({"url":"http://x","read":"yes"})", "http request: read: expected true or false"},
  };
  for (const auto& [req, message] : cases) {
    std::string meta, body;
    EXPECT_EQ(http(b.table(), req, meta, body), CW_STATUS_INVALID_ARG) << req;
    EXPECT_EQ(json::parse(meta)["message"], message) << req;
    // The published schema refuses what the host refuses.
    EXPECT_FALSE(validate_against_schema(k_http_request_schema_json, req, "request").ok()) << req;
  }
  EXPECT_TRUE(m_http.requests.empty());
}

TEST_F(HostApiTest, DryRunRefusesWritesButAllowsReads) {
  HostBinding b(services(true), "trakt", "t");
  std::string meta, body;
  EXPECT_EQ(
      http(b.table(), R"({"method":"POST","url":"http://x/sync","endpoint":"/sync"})", meta, body),
      CW_STATUS_UNSUPPORTED);
  EXPECT_EQ(json::parse(meta)["message"], "dry run: POST /sync is a write and was not sent");
  EXPECT_TRUE(m_http.requests.empty());
  meta.clear();
  EXPECT_EQ(
      http(b.table(), R"({"method":"POST","url":"http://x/graphql","read":true})", meta, body),
      CW_STATUS_OK);
  EXPECT_TRUE(m_http.contexts.at(0).dry_run);
}

TEST_F(HostApiTest, HttpErrorsMapToStatusesWithErrorDocument) {
  HostBinding b(services(), "p", "i");
  m_http.fail = Error{"budget spent for trakt writes", ErrorKind::rate_limited, 30000};
  std::string meta, body;
  EXPECT_EQ(http(b.table(), R"({"url":"http://x/"})", meta, body), CW_STATUS_RATE_LIMITED);
  const json m = json::parse(meta);
  EXPECT_EQ(m["message"], "budget spent for trakt writes");
  EXPECT_EQ(m["retry_after_ms"], 30000);
  m_http.fail = Error{"connection refused", ErrorKind::transient};
  meta.clear();
  EXPECT_EQ(http(b.table(), R"({"url":"http://x/"})", meta, body), CW_STATUS_TRANSIENT);
  m_cancel.cancel();
  meta.clear();
  EXPECT_EQ(http(b.table(), R"({"url":"http://x/"})", meta, body), CW_STATUS_CANCELLED);
}

TEST_F(HostApiTest, SecretsAreScopedAndRedactedFromLogs) {
  m_secrets.values[{"trakt-main", "token"}] = "s3cr3t-token-value";
  HostBinding b(services(), "trakt", "trakt-main");
  const auto* t = b.table();
  std::string v;
  ASSERT_EQ(t->get_secret(t->host_ctx, "token", 5, sink_to(v)), CW_STATUS_OK);
  EXPECT_EQ(v, "s3cr3t-token-value");
  const std::string line = "Authorization: Bearer s3cr3t-token-value";
  t->log(t->host_ctx, CW_LOG_INFO, line.data(), line.size());
  EXPECT_EQ(m_log.str().find("s3cr3t"), std::string::npos) << m_log.str();
  EXPECT_NE(m_log.str().find("Authorization: [redacted]"), std::string::npos) << m_log.str();
  std::string missing;
  EXPECT_EQ(t->get_secret(t->host_ctx, "nope", 4, sink_to(missing)), CW_STATUS_NOT_FOUND);
  EXPECT_EQ(t->put_secret(t->host_ctx, "refresh", 7, "new-refresh-token", 17), CW_STATUS_OK);
  EXPECT_EQ((m_secrets.values[{"trakt-main", "refresh"}]), "new-refresh-token");
  // Even in a dry run a rotated token is kept: the old one is already invalid.
  HostBinding dry(services(true), "trakt", "trakt-main");
  EXPECT_EQ(dry.table()->put_secret(dry.table()->host_ctx, "refresh", 7, "rotated-again", 13),
            CW_STATUS_OK);
  EXPECT_EQ((m_secrets.values[{"trakt-main", "refresh"}]), "rotated-again");
}

TEST(StatusMapping, RoundTripsAndUnknownIsInternal) {
  for (ErrorKind k :
       {ErrorKind::invalid_arg, ErrorKind::unsupported, ErrorKind::auth, ErrorKind::not_found,
        ErrorKind::rate_limited, ErrorKind::transient, ErrorKind::internal, ErrorKind::cancelled})
    EXPECT_EQ(to_error_kind(to_status(k)), k);
  EXPECT_EQ(to_error_kind(1234), ErrorKind::internal);
  EXPECT_STREQ(status_name(CW_STATUS_RATE_LIMITED), "RATE_LIMITED");
  EXPECT_STREQ(status_name(77), "UNKNOWN");
}

TEST(MaskSecrets, ReplacesMarkedKeysOnly) {
  const json config = {{"url", "http://x"}, {"token", "abc"}, {"client_secret", nullptr}};
  const json masked = mask_secrets(config, {"token", "client_secret", "absent"});
  EXPECT_EQ(masked["url"], "http://x");
  EXPECT_EQ(masked["token"], "${secret}");
  EXPECT_TRUE(masked["client_secret"].is_null());
  EXPECT_FALSE(masked.contains("absent"));
}

}  // namespace
