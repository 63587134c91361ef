// cw-sandbox: starts fake servers of the services cw talks to on loopback and prints the
// `providers:` YAML that points cw at them. Stops cleanly on SIGINT/SIGTERM.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "core/fake_service.hpp"
#include "core/generator.hpp"
#include "core/registry.hpp"
#include "core/webhook_sender.hpp"

namespace {

using cw::fakes::SandboxServer;
using nlohmann::json;

constexpr const char* k_usage = R"(usage: cw-sandbox [options]
Starts fake servers of the services cw talks to on 127.0.0.1 and prints a providers: YAML
snippet with valid test credentials. Runs until SIGINT or SIGTERM.

  --services LIST        comma list of services, or "all" (default: all)
                         known: %s
  --port SERVICE=PORT    fixed port for a service (repeatable; default: a free port)
  --fixtures DIR         seed each service from DIR/<service>.json, and every service from
                         DIR/universe.json when present (a generated universe)
  --generate SPEC        generate a universe and seed every service with it, SPEC like
                         movies=1000,shows=20,seasons=2,episodes=10,plays=5000,ratings=200,
                         watchlist=50,progress=20,seed=42 (anime=PERCENT: the
                         share of anime titles, default 10)
  --write-universe FILE  also write the generated universe to FILE
  --empty LIST           comma list of services whose account starts empty: they know the
                         universe's titles, but its watchlist, history, ratings and progress
                         are not theirs (a tracker that a media server syncs into)
  --info FILE            write {"<service>":{"base_url":..,"credentials":..,"config":..}} to FILE once
                         every server is up (tests wait for this file)
  --yaml FILE            write the providers: snippet to FILE as well as stdout
  --send-webhook SOURCE  do not start servers: post SOURCE's webhook (plex, jellyfin, emby,
                         tautulli) to a running cw serve, as that server sends it, and exit
    --to URL             cw serve's base URL (default http://127.0.0.1:8787)
    --token SECRET       the endpoint's secret (sent as ?token=)
    --action A           play | pause | resume | stop | watched | progress (default play)
    --item JSON          the item: {"type":"movie","title":..,"year":..,"ids":{"imdb":..}}
                         or an episode with show {title}, season, episode
    --progress P         percent (default 0); --user U, --library L, --session S
    --count N            send N events: playbacks of N/4 distinct generated movies, each
                         play 0 %%, pause 40 %%, resume 40 %%, watched 95 %% (exactly N/4 plays)
    --rate R             events per second for --count (default: as fast as answered)
                         prints {"sent":N,"statuses":{"202":n,..}}; exit 1 if any was not 2xx
  --list                 print the known services and exit
  --help                 this text
)";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool write_file(const std::string& path, const std::string& content) {
  // Write then rename so that a watcher never reads a half-written file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return false;
    out << content;
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

std::optional<json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return json::parse(in);
}

int fail(const std::string& message) {
  std::cerr << "cw-sandbox: " << message << "\n";
  return 2;
}

}  // namespace

namespace {

// The providers: entry as JSON, the form `cw plugins check --config-json` and the
// conformance kit take: the one-key mapping's value, without its `plugin` key.
json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& v : node) out.push_back(yaml_to_json(v));
      return out;
    }
    case YAML::NodeType::Scalar: {
      // Plain scalars keep YAML's meaning (numbers, booleans); quoted ones stay strings.
      const std::string text = node.Scalar();
      if (node.Tag() != "!") {
        if (text == "true" || text == "false") return text == "true";
        json number = json::parse(text, nullptr, false);
        if (!number.is_discarded() && number.is_number()) return number;
      }
      return text;
    }
    default:
      return nullptr;
  }
}

std::optional<json> provider_config(const std::string& entry) {
  try {
    const YAML::Node doc = YAML::Load(entry);
    if (!doc.IsMap() || doc.size() != 1) return std::nullopt;
    json config = yaml_to_json(doc.begin()->second);
    if (!config.is_object()) return std::nullopt;
    config.erase("plugin");
    return config;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

namespace {

// --send-webhook: one event, or --count events of generated playbacks, posted to cw serve.
int send_webhooks(const std::map<std::string, std::string>& opt) {
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = opt.find(k);
    return it == opt.end() ? def : it->second;
  };
  cw::fakes::WebhookEvent base;
  base.source = get("--send-webhook", "");
  base.action = get("--action", "play");
  base.progress = std::stod(get("--progress", "0"));
  base.user = get("--user", base.user);
  base.library = get("--library", base.library);
  base.session = get("--session", base.session);
  base.item = json::parse(get("--item", R"({"type":"movie","title":"Inception","year":2010,)"
                                        R"("ids":{"imdb":"tt1375666","tmdb":"27205"}})"));
  const std::string to = get("--to", "http://127.0.0.1:8787");
  const std::string token = get("--token", "");
  const long count = std::stol(get("--count", "0"));
  const double rate = std::stod(get("--rate", "0"));
  std::map<std::string, long> statuses;
  long sent = 0;
  bool all_ok = true;
  auto post = [&](const cw::fakes::WebhookEvent& e) {
    const int status = cw::fakes::send_webhook(to, e, token);
    ++statuses[std::to_string(status)];
    ++sent;
    all_ok = all_ok && status >= 200 && status < 300;
  };
  if (count <= 0) {
    post(base);
  } else {
    static const std::pair<const char*, double> k_steps[] = {
        {"play", 0}, {"pause", 40}, {"resume", 40}, {"watched", 95}};
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
      cw::fakes::WebhookEvent e = base;
      const long n = i / 4;
      char imdb[32];
      std::snprintf(imdb, sizeof imdb, "tt9%07ld", n);
      e.item = {{"type", "movie"},
                {"title", "Sandbox Movie " + std::to_string(n)},
                {"year", 2000 + n % 25},
                {"ids", {{"imdb", imdb}}}};
      e.item_ref = std::to_string(500000 + n);
      e.session = "soak-" + std::to_string(n);
      e.action = k_steps[i % 4].first;
      e.progress = k_steps[i % 4].second;
      if (rate > 0)
        std::this_thread::sleep_until(
            start + std::chrono::microseconds(static_cast<long long>(i * 1e6 / rate)));
      post(e);
    }
  }
  json out = {{"sent", sent}, {"statuses", statuses}};
  std::cout << out.dump() << "\n";
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto known = cw::fakes::fake_names();
  std::vector<std::string> services = known;
  std::map<std::string, int> ports;
  std::string fixtures, generate, universe_out, info_out, yaml_out;
  std::vector<std::string> empty;
  std::map<std::string, std::string> send;  // --send-webhook and its options
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* opt) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(opt) + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--help" || arg == "-h") {
        std::printf(k_usage, join(known, ", ").c_str());
        return 0;
      } else if (arg == "--list") {
        for (const auto& n : known) std::cout << n << "\n";
        return 0;
      } else if (arg == "--services") {
        const std::string v = value("--services");
        services = v == "all" ? known : split(v, ',');
      } else if (arg == "--port") {
        const std::string v = value("--port");
        const auto eq = v.find('=');
        if (eq == std::string::npos) throw std::invalid_argument("--port expects SERVICE=PORT");
        ports[v.substr(0, eq)] = std::stoi(v.substr(eq + 1));
      } else if (arg == "--send-webhook" || arg == "--to" || arg == "--token" ||
                 arg == "--action" || arg == "--item" || arg == "--progress" || arg == "--user" ||
                 arg == "--library" || arg == "--session" || arg == "--count" || arg == "--rate") {
        send[arg] = value(arg.c_str());
      } else if (arg == "--fixtures") {
        fixtures = value("--fixtures");
      } else if (arg == "--generate") {
        generate = value("--generate");
      } else if (arg == "--empty") {
        empty = split(value("--empty"), ',');
      } else if (arg == "--write-universe") {
        universe_out = value("--write-universe");
      } else if (arg == "--info") {
        info_out = value("--info");
      } else if (arg == "--yaml") {
        yaml_out = value("--yaml");
      } else {
        throw std::invalid_argument("unknown option '" + arg + "' (see --help)");
      }
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  if (!send.empty()) {
    if (!send.count("--send-webhook"))
      return fail("--to, --token, --action...: need --send-webhook");
    try {
      return send_webhooks(send);
    } catch (const std::exception& e) {
      return fail(std::string("--send-webhook: ") + e.what());
    }
  }
  for (const auto& s : empty) {
    if (std::find(services.begin(), services.end(), s) == services.end()) {
      return fail("--empty: '" + s + "' is not one of the services started");
    }
  }
  for (const auto& s : services) {
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      return fail("unknown service '" + s + "' (known: " + join(known, ", ") + ")");
    }
  }

  // Block the stop signals before any server thread starts, so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::optional<json> universe;
  try {
    if (!generate.empty()) {
      universe = cw::fakes::generate_universe(cw::fakes::parse_generate_options(generate));
      if (!universe_out.empty() && !write_file(universe_out, universe->dump())) {
        return fail("cannot write the universe to '" + universe_out + "'");
      }
    } else if (!fixtures.empty()) {
      // Hand-written universes mark unknown fields with null; generated ones have none.
      if (auto read = read_json(fixtures + "/universe.json")) {
        universe = cw::fakes::without_nulls(*read);
      }
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  std::vector<std::unique_ptr<SandboxServer>> servers;
  json info = json::object();
  std::string yaml = "providers:\n";
  for (const auto& name : services) {
    auto server = std::make_unique<SandboxServer>(cw::fakes::make_fake(name));
    try {
      const bool starts_empty = std::find(empty.begin(), empty.end(), name) != empty.end();
      if (universe)
        server->service().seed_universe(starts_empty ? cw::fakes::without_user_state(*universe)
                                                     : *universe);
      if (!fixtures.empty() && !starts_empty) {
        if (auto fixture = read_json(fixtures + "/" + name + ".json")) {
          server->service().seed(*fixture);
        }
      }
      const int port = server->start(ports.count(name) ? ports[name] : 0);
      (void)port;
    } catch (const std::exception& e) {
      return fail(name + ": " + e.what());
    }
    const std::string entry = server->service().provider_yaml(server->base_url());
    yaml += entry;
    auto config = provider_config(entry);
    if (!config) return fail(name + ": its providers: snippet is not a YAML mapping");
    info[name] = {{"base_url", server->base_url()},
                  {"credentials", server->service().credentials()},
                  {"config", *config}};
    servers.push_back(std::move(server));
  }
  std::cout << yaml << std::flush;
  if (!yaml_out.empty() && !write_file(yaml_out, yaml)) {
    return fail("cannot write '" + yaml_out + "'");
  }
  if (!info_out.empty() && !write_file(info_out, info.dump(2))) {
    return fail("cannot write '" + info_out + "'");
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  for (auto& s : servers) s->stop();
  std::cerr << "cw-sandbox: stopped on signal " << sig << "\n";
  return 0;
}
