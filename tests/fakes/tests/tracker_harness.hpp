// Test harness for the tracker fakes: one SandboxServer on a free loopback port, a client, and
// readers for the reference data in ../shared/api-reference (tests skip when it is absent).
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/fake_service.hpp"

namespace cw::fakes::testing {

using nlohmann::json;

class Harness {
 public:
  explicit Harness(std::unique_ptr<FakeService> service)
      : m_server(std::make_unique<SandboxServer>(std::move(service))) {
    m_server->start();
    m_client = std::make_unique<httplib::Client>("127.0.0.1", m_server->port());
    // Generous: seeding a 10k-play universe under sanitizers on a shared, loaded machine can
    // take most of a minute; a hung fake still fails the test.
    m_client->set_read_timeout(180, 0);
  }

  SandboxServer& server() { return *m_server; }
  httplib::Client& client() { return *m_client; }

  void seed(const json& fixture) {
    auto r = m_client->Post("/__sandbox/seed", fixture.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  void fault(const json& spec) {
    auto r = m_client->Post("/__sandbox/faults", spec.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  void advance_clock(std::int64_t ms) {
    auto r =
        m_client->Post("/__sandbox/clock", json{{"advance_ms", ms}}.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  json state() {
    auto r = m_client->Get("/__sandbox/state");
    return r ? json::parse(r->body) : json();
  }

  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    return m_client->Get(path, headers);
  }
  httplib::Result post(const std::string& path, const json& body,
                       const httplib::Headers& headers = {}) {
    return m_client->Post(path, headers, body.dump(), "application/json");
  }
  httplib::Result post_form(const std::string& path, const httplib::Params& form) {
    return m_client->Post(path, form);
  }
  httplib::Result del(const std::string& path, const httplib::Headers& headers = {}) {
    return m_client->Delete(path, headers);
  }

 private:
  std::unique_ptr<SandboxServer> m_server;
  std::unique_ptr<httplib::Client> m_client;
};

inline json body_of(const httplib::Result& r) {
  if (!r || r->body.empty()) return json();
  return json::parse(r->body, nullptr, false);
}

inline std::filesystem::path shared_dir() { return std::filesystem::path(CW_FAKES_SHARED_DIR); }

// The text of ../shared/<rel>, or nullopt when the file is absent.
inline std::optional<std::string> read_shared(const std::string& rel) {
  std::ifstream in(shared_dir() / rel, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::optional<json> read_shared_json(const std::string& rel) {
  auto text = read_shared(rel);
  if (!text) return std::nullopt;
  return json::parse(*text);
}

#define CW_REQUIRE_SHARED(var, rel)                       \
  auto var = ::cw::fakes::testing::read_shared_json(rel); \
  if (!var) GTEST_SKIP() << "../shared/" << (rel) << " is absent; reference data needed"

}  // namespace cw::fakes::testing
