// Shared bits of the media-server fake tests: start one fake, talk to it over loopback.
#pragma once

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/fake_service.hpp"
#include "core/generator.hpp"
#include "core/registry.hpp"

namespace cw::fakes::testing {

using nlohmann::json;

inline std::filesystem::path shared_dir() { return CW_FAKES_SHARED_DIR; }

inline std::optional<json> read_shared_json(const std::string& rel) {
  std::ifstream in(shared_dir() / rel, std::ios::binary);
  if (!in) return std::nullopt;
  return json::parse(in);
}

class ServerTest : public ::testing::Test {
 protected:
  void start(const std::string& service) {
    m_server = std::make_unique<SandboxServer>(make_fake(service));
    ASSERT_NE(m_server->port(), -1);
    m_server->start();
    m_client = std::make_unique<httplib::Client>("127.0.0.1", m_server->port());
    m_client->set_read_timeout(20, 0);
  }
  void seed(const json& fixture) {
    auto r = m_client->Post("/__sandbox/seed", fixture.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  void seed_universe(const json& universe) {
    auto r = m_client->Post("/__sandbox/universe", universe.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  void fault(const json& spec) {
    auto r = m_client->Post("/__sandbox/faults", spec.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  json state() { return json::parse(m_client->Get("/__sandbox/state")->body); }
  json requests() { return json::parse(m_client->Get("/__sandbox/requests")->body); }
  static json body(const httplib::Result& r) {
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_TRUE(json::accept(r->body)) << r->body.substr(0, 300);
    return json::accept(r->body) ? json::parse(r->body) : json(nullptr);
  }

  std::unique_ptr<SandboxServer> m_server;
  std::unique_ptr<httplib::Client> m_client;
};

inline json small_universe() {
  GenerateOptions o;
  o.movies = 30;
  o.shows = 3;
  o.seasons_per_show = 2;
  o.episodes_per_season = 4;
  o.plays = 40;
  o.ratings = 10;
  o.watchlist = 6;
  o.progress = 4;
  o.no_server_ids_share = 0.2;
  o.legacy_plex_share = 0.3;
  return generate_universe(o);
}

}  // namespace cw::fakes::testing
