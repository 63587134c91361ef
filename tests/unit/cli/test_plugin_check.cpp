// `cw plugins check --base-url`: the SDK's HTTP example plugin (watchlog) checked against a
// small loopback Watchlog service, for real: health, every page of the index, an add and
// a remove round trip, the key sent as a header and never printed, and nothing sent
// anywhere but the base URL.
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cw/cli/exit_codes.hpp>

#include "cli_test_support.hpp"

using cw::test::cw_main;
using nlohmann::json;

namespace {

constexpr const char* k_key = "wl-check-key-5e1";

// The Watchlog API (sdk/examples/watchlog/README.md): a watchlist of movies and shows.
class WatchlogService {
 public:
  WatchlogService() {
    for (int i = 1; i <= 3; ++i)
      m_items.push_back({{"type", "movie"},
                         {"title", "Film " + std::to_string(i)},
                         {"year", 2000 + i},
                         {"ids", {{"imdb", "tt100000" + std::to_string(i)}}}});
    const auto authorised = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      m_keys.insert(req.get_header_value("X-Api-Key"));
      if (req.get_header_value("X-Api-Key") == k_key) return true;
      res.status = 401;
      res.set_content(R"({"error":"invalid api key"})", "application/json");
      return false;
    };
    m_server.Get("/v1/me", [=, this](const httplib::Request& req, httplib::Response& res) {
      if (authorised(req, res)) res.set_content(R"({"username":"checker"})", "application/json");
    });
    m_server.Get("/v1/watchlist", [=, this](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req, res)) return;
      std::lock_guard lock(m_mutex);
      const int page = req.has_param("page") ? std::stoi(req.get_param_value("page")) : 1;
      const int limit = 2;  // smaller pages than asked: the plugin must follow the headers
      json out = json::array();
      for (std::size_t i = static_cast<std::size_t>((page - 1) * limit);
           i < m_items.size() && out.size() < static_cast<std::size_t>(limit); ++i)
        out.push_back(m_items[i]);
      const auto pages = (m_items.size() + limit - 1) / limit;
      res.set_header("X-Pagination-Page-Count", std::to_string(pages == 0 ? 1 : pages));
      res.set_header("X-Pagination-Item-Count", std::to_string(m_items.size()));
      res.set_content(out.dump(), "application/json");
    });
    const auto write = [=, this](bool add) {
      return [=, this](const httplib::Request& req, httplib::Response& res) {
        if (!authorised(req, res)) return;
        std::lock_guard lock(m_mutex);
        const json body = json::parse(req.body, nullptr, false);
        int done = 0;
        for (const char* bucket : {"movies", "shows"}) {
          for (const auto& entry : body.value(bucket, json::array())) {
            const std::string imdb = entry["ids"].value("imdb", "");
            const auto it = std::find_if(m_items.begin(), m_items.end(), [&](const json& x) {
              return x["ids"].value("imdb", "") == imdb;
            });
            if (add && it == m_items.end()) {
              m_items.push_back({{"type", "movie"}, {"title", "Added"}, {"ids", entry["ids"]}});
              ++done;
            } else if (!add && it != m_items.end()) {
              m_items.erase(it);
              ++done;
            }
          }
        }
        ++m_writes;
        const json reply = add ? json{{"added", {{"movies", done}, {"shows", 0}}},
                                      {"existing", {{"movies", 0}, {"shows", 0}}},
                                      {"not_found", {{"movies", json::array()}}}}
                               : json{{"deleted", {{"movies", done}, {"shows", 0}}},
                                      {"not_found", {{"movies", json::array()}}}};
        res.set_content(reply.dump(), "application/json");
      };
    };
    m_server.Post("/v1/watchlist", write(true));
    m_server.Post("/v1/watchlist/remove", write(false));
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~WatchlogService() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::set<std::string> keys() {
    std::lock_guard lock(m_mutex);
    return m_keys;
  }
  int writes() {
    std::lock_guard lock(m_mutex);
    return m_writes;
  }
  std::size_t size() {
    std::lock_guard lock(m_mutex);
    return m_items.size();
  }

 private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<json> m_items;
  std::set<std::string> m_keys;
  int m_writes = 0;
};

const std::string k_plugin = std::string(CW_PLUGIN_OUT_DIR) + "/cw-provider-watchlog.so";

std::map<std::string, json> steps_of(const std::string& out) {
  std::map<std::string, json> steps;
  const json report = json::parse(out, nullptr, false);
  if (!report.is_object()) return steps;
  for (const auto& s : report.value("checks", json::array())) steps[s.value("name", "")] = s;
  return steps;
}

}  // namespace

TEST(PluginsCheckBaseUrl, RunsTheHttpPathsAndRoundTripsWrites) {
  WatchlogService service;
  const auto r =
      cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--base-url", service.url(),
               "--config-json", json{{"api_key", k_key}}.dump(), "--output", "json"});
  ASSERT_EQ(r.code, cw::cli::k_exit_ok) << r.out << r.err;
  auto steps = steps_of(r.out);
  for (const char* name :
       {"health", "build_index watchlist", "remove watchlist", "add watchlist"}) {
    ASSERT_TRUE(steps.count(name)) << name << "\n" << r.out;
    EXPECT_EQ(steps[name]["result"], "ok") << steps[name];
  }
  EXPECT_NE(steps["build_index watchlist"]["message"].get<std::string>().find("3 items"),
            std::string::npos);
  EXPECT_EQ(service.writes(), 2);  // remove, then add back: the account is as it was
  EXPECT_EQ(service.size(), 3u);
  EXPECT_EQ(service.keys(), std::set<std::string>{k_key});
  EXPECT_EQ(r.out.find(k_key), std::string::npos);  // the key is never printed
}

TEST(PluginsCheckBaseUrl, ARefusedKeyFailsInsteadOfWarning) {
  WatchlogService service;
  const auto r =
      cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--base-url", service.url(),
               "--config-json", R"({"api_key":"wrong"})", "--output", "json"});
  EXPECT_EQ(r.code, cw::cli::k_exit_failure) << r.out;
  auto steps = steps_of(r.out);
  EXPECT_EQ(steps["build_index watchlist"]["result"], "fail") << r.out;
  EXPECT_EQ(service.writes(), 0);
}

TEST(PluginsCheckBaseUrl, NothingIsSentAnywhereElse) {
  WatchlogService service;
  const auto r =
      cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--base-url", service.url(),
               "--config-json", json{{"api_key", k_key}, {"url", "http://127.0.0.2:9"}}.dump(),
               "--output", "json"});
  EXPECT_EQ(r.code, cw::cli::k_exit_failure) << r.out;
  EXPECT_NE(r.out.find("was not sent"), std::string::npos) << r.out;
  EXPECT_TRUE(service.keys().empty());
}

TEST(PluginsCheckBaseUrl, WithoutABaseUrlHttpIsOnlyAWarning) {
  const auto r = cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--config-json",
                          R"({"url":"http://127.0.0.1:9","api_key":"k"})", "--output", "json"});
  EXPECT_EQ(r.code, cw::cli::k_exit_ok) << r.out;
  EXPECT_EQ(steps_of(r.out)["health"]["result"], "ok") << r.out;  // down, reported as health
}

TEST(PluginsCheckFault, NeedsAKnownDrillAndASandbox) {
  auto r = cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--fault", "429"});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
  EXPECT_NE(r.err.find("needs --base-url"), std::string::npos) << r.err;
  r = cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--base-url",
               "http://127.0.0.1:9", "--fault", "flood"});
  EXPECT_EQ(r.code, cw::cli::k_exit_usage);
  EXPECT_NE(r.err.find("use one of 429, 5xx-burst"), std::string::npos) << r.err;
}

TEST(PluginsCheckFault, AServiceWithoutFaultControlFailsTheDrill) {
  // The Watchlog service here is not a cw-sandbox fake: installing the fault fails loudly
  // instead of the drill passing without a fault.
  WatchlogService service;
  const auto r = cw_main({"--log-level", "off", "plugins", "check", k_plugin, "--base-url",
                          service.url(), "--config-json", json{{"api_key", k_key}}.dump(),
                          "--fault", "5xx-down", "--output", "json"});
  EXPECT_EQ(r.code, cw::cli::k_exit_failure) << r.out;
  EXPECT_EQ(steps_of(r.out)["fault 5xx-down: install"]["result"], "fail") << r.out;
  EXPECT_EQ(service.writes(), 0);  // a drill never writes
}
