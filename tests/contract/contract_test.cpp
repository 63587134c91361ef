// One suite, run against every plugin in CW_CONTRACT_PLUGIN_DIR through the real loader:
// the manifest is valid, operations are present as declared, malformed requests get
// INVALID_ARG (not a crash, not an exception), every response has its documented shape,
// and create/destroy are clean (run under ASan+UBSan in CI).
//
// Plugins need configuration to be created. The suite builds one from the manifest's config
// schema: every required key gets a harmless value of its type (URLs point at a closed port
// on 127.0.0.1, secrets are "${secret}"), so create() sees a plausible config and no
// network is ever reached (the host's http service is absent here: UNSUPPORTED).
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/schemas.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cw;
using namespace cw::plugin;

namespace {

std::vector<std::string> plugin_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(CW_CONTRACT_PLUGIN_DIR, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.rfind("cw-provider-", 0) == 0 && f.size() > 3 && f.substr(f.size() - 3) == ".so")
      out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string().substr(12);
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

json sample_value(const std::string& key, const json& schema) {
  if (schema.contains("default")) return schema["default"];
  if (schema.contains("enum") && !schema["enum"].empty()) return schema["enum"][0];
  std::string type = "string";
  if (schema.contains("type"))
    type = schema["type"].is_array() ? schema["type"][0].get<std::string>()
                                     : schema["type"].get<std::string>();
  if (type == "integer" || type == "number") return schema.value("minimum", 1);
  if (type == "boolean") return false;
  if (type == "array") return json::array();
  if (type == "object") return json::object();
  if (key.find("url") != std::string::npos || key.find("server") != std::string::npos ||
      key.find("host") != std::string::npos)
    return "http://127.0.0.1:9";
  return "contract-test";
}

// A config that satisfies the schema's required keys (top level).
json sample_config(const Manifest& m) {
  json config = json::object();
  const json& schema = m.config_schema;
  if (!schema.contains("required")) return config;
  const json props = schema.value("properties", json::object());
  for (const auto& key : schema["required"]) {
    const std::string k = key.get<std::string>();
    config[k] = sample_value(k, props.value(k, json::object()));
  }
  return mask_secrets(config, m.secrets);
}

bool known_status(cw_status s) { return s >= CW_STATUS_OK && s <= CW_STATUS_CANCELLED; }

// An error document is a JSON object with a string "message", or non-empty plain text.
::testing::AssertionResult is_error_document(const std::string& body) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    if (doc.contains("message") && doc["message"].is_string()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "error document without a string \"message\": " << body;
  }
  if (!body.empty() && body.front() != '{' && body.front() != '[')
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no usable error document: '" << body << "'";
}

class Contract : public ::testing::TestWithParam<std::string> {
 protected:
  services::Logger m_logger{services::LogLevel::trace, services::LogFormat::text,
                            std::make_shared<spdlog::sinks::null_sink_mt>()};
  services::ManualClock m_clock{1'700'000'000'000};
  services::FlagCancelToken m_cancel;
  services::MemoryKvStore m_kv;
  HostServices m_services{m_logger, m_clock, m_cancel, &m_kv, nullptr, nullptr, false};
  std::shared_ptr<Library> m_lib;

  void SetUp() override {
    auto lib = Library::load(GetParam(), m_services);
    ASSERT_TRUE(lib.ok()) << lib.error().message;
    m_lib = *lib;
  }

  std::unique_ptr<ProviderInstance> instance() {
    auto inst =
        ProviderInstance::create(m_lib, "contract", sample_config(m_lib->manifest()), m_services);
    if (!inst.ok()) {
      ADD_FAILURE() << "create with a schema-derived config failed: " << inst.error().message
                    << " (config: " << sample_config(m_lib->manifest()).dump() << ")";
      return nullptr;
    }
    return std::move(*inst);
  }

  std::vector<std::string> operations() const {
    std::vector<std::string> ops = {"build_index", "add", "remove"};
    const auto& api = m_lib->api();
    if (api.update) ops.push_back("update");
    if (api.scrobble) ops.push_back("scrobble");
    if (api.auth_start) ops.push_back("auth_start");
    if (api.action) ops.push_back("action");
    return ops;
  }
};

TEST_P(Contract, ManifestIsValidAndStable) {
  const auto& api = m_lib->api();
  size_t len1 = 0, len2 = 0;
  const char* a = api.manifest(&len1);
  const char* b = api.manifest(&len2);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(std::string(a, len1), std::string(b, len2)) << "manifest() must not change";
  EXPECT_TRUE(
      validate_against_schema(k_manifest_schema_json, std::string_view(a, len1), "manifest").ok());
  const Manifest& m = m_lib->manifest();
  EXPECT_EQ("cw-provider-" + m.name + ".so", fs::path(GetParam()).filename().string());
  EXPECT_FALSE(m.features.empty());
  // The config schema must itself be usable by the host's validator.
  const auto st = validate_against_schema(m.config_schema.dump(), "{}", "config");
  EXPECT_TRUE(st.ok() || st.error().kind != ErrorKind::internal)
      << "config schema does not compile: " << st.error().message;
}

TEST_P(Contract, OperationsPresentExactlyAsDeclared) {
  const auto& api = m_lib->api();
  const Manifest& m = m_lib->manifest();
  EXPECT_EQ(m.declares_update(), api.update != nullptr)
      << "update is implemented iff some feature declares \"update\": true";
  EXPECT_EQ(m.scrobble, api.scrobble != nullptr);
  EXPECT_EQ(m.auth != "none", api.auth_start != nullptr);
  EXPECT_EQ(api.auth_start != nullptr, api.auth_poll != nullptr);
  EXPECT_EQ(!m.actions.empty(), api.action != nullptr);
  EXPECT_GE(api.struct_size, k_provider_api_v1_0_size);
  for (const auto& [name, f] : m.features) {
    EXPECT_GE(f.chunk_size, 1) << name;
    if (f.rating_scale) {
      EXPECT_LT(f.rating_scale->min, f.rating_scale->max) << name;
    }
  }
}

TEST_P(Contract, CreateDestroyIsCleanAndRepeatable) {
  for (int i = 0; i < 3; ++i) {
    auto inst = instance();
    ASSERT_NE(inst, nullptr);
  }
  // Non-object configurations are refused by the host before reaching the plugin; an
  // object of the wrong shape reaches it and must be refused with a reason or accepted.
  auto bad =
      ProviderInstance::create(m_lib, "contract", json::object({{"no_such_key", 1}}), m_services);
  if (!bad.ok()) {
    EXPECT_FALSE(bad.error().message.empty());
  }
}

TEST_P(Contract, MalformedRequestsGetInvalidArg) {
  auto inst = instance();
  ASSERT_NE(inst, nullptr);
  for (const auto& op : operations()) {
    for (const std::string request : {"{not json", "[]", "", "42", "{\"feature\":"}) {
      auto raw = inst->call_raw(op, request);
      ASSERT_TRUE(raw.ok()) << op << ": " << raw.error().message;
      EXPECT_EQ(raw->status, CW_STATUS_INVALID_ARG)
          << op << " with request '" << request << "' returned " << status_name(raw->status) << ": "
          << raw->body;
      EXPECT_TRUE(is_error_document(raw->body)) << op;
    }
  }
}

TEST_P(Contract, UnknownFeatureIsRefused) {
  auto inst = instance();
  ASSERT_NE(inst, nullptr);
  for (const char* op : {"build_index", "add", "remove"}) {
    auto raw = inst->call_raw(op, R"({"feature":"no_such_feature","watermark":null,"items":[]})");
    ASSERT_TRUE(raw.ok());
    EXPECT_TRUE(raw->status == CW_STATUS_INVALID_ARG || raw->status == CW_STATUS_UNSUPPORTED)
        << op << " returned " << status_name(raw->status) << ": " << raw->body;
    EXPECT_TRUE(is_error_document(raw->body)) << op;
  }
}

TEST_P(Contract, ResponsesHaveTheDocumentedShape) {
  auto inst = instance();
  ASSERT_NE(inst, nullptr);
  // Without network the plugin may fail, but only with a known status and an error document;
  // whatever it returns with OK must have the documented shape (the host checks it).
  auto raw = inst->call_raw("health", "{}");
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(known_status(raw->status)) << raw->status;
  if (raw->status == CW_STATUS_OK) {
    auto h = inst->health();
    EXPECT_TRUE(h.ok()) << h.error().message;
  } else {
    EXPECT_TRUE(is_error_document(raw->body));
  }
  for (const auto& [feature, caps] : m_lib->manifest().features) {
    auto idx = inst->build_index(feature, std::nullopt);
    if (!idx.ok()) {
      EXPECT_EQ(idx.error().message.find("response"), std::string::npos)
          << "malformed build_index response: " << idx.error().message;
      continue;
    }
    std::size_t n = 0;
    for (const auto& item : (*idx)["items"]) {
      auto st = validate_against_schema(k_item_schema_json, item.dump(), "item");
      EXPECT_TRUE(st.ok()) << feature << " items[" << n << "]: " << st.error().message;
      ++n;
    }
    // Writing nothing must be harmless: OK with no outcomes, or a known status.
    if (caps.add) {
      auto added = inst->add(feature, json::array());
      if (added.ok()) {
        EXPECT_TRUE((*added)["outcomes"].empty()) << feature;
      } else {
        EXPECT_EQ(added.error().message.find("response"), std::string::npos)
            << added.error().message;
      }
    }
  }
}

TEST_P(Contract, LoadingTwiceIsIndependent) {
  auto again = Library::load(GetParam(), m_services);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->name(), m_lib->name());
}

INSTANTIATE_TEST_SUITE_P(Plugins, Contract, ::testing::ValuesIn(plugin_files()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Contract);

}  // namespace
