// `cw serve`: the scheduler, status page, API, metrics and webhooks of host/src/serve, wired
// to the rest of cw here: each run is one sync cycle through sync::Session (the run lock is
// taken per run, so a `cw run` from cron shares the state directory safely), the access
// secrets come from files or the environment (never the command line, where `ps` shows
// them), and SIGINT/SIGTERM let the run in flight finish its chunk and commit, then exit 0.
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <cw/cli/commands.hpp>
#include <cw/cli/exit_codes.hpp>
#include <cw/cli/scrobble_bridge.hpp>
#include <cw/cli/sync_cycle.hpp>
#include <cw/config/config.hpp>
#include <cw/serve/server.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/log/logger.hpp>

namespace cw::cli {
namespace {

// The first line of a secret file, without its line end.
Result<std::string> read_secret_file(const std::string& path, const char* option) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line))
    return make_error(std::string(option) + ": cannot read " + path, ErrorKind::invalid_arg);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty())
    return make_error(std::string(option) + ": " + path + " is empty", ErrorKind::invalid_arg);
  return line;
}

serve::RunResult result_of(sync::RunStatus status) {
  switch (status) {
    case sync::RunStatus::ok:
      return serve::RunResult::ok;
    case sync::RunStatus::partial:
      return serve::RunResult::partial;
    case sync::RunStatus::cancelled:
      return serve::RunResult::cancelled;
    case sync::RunStatus::drifted:
    case sync::RunStatus::failed:
      break;
  }
  return serve::RunResult::failed;
}

std::int64_t system_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int run_serve(const GlobalOptions& global, const Invocation& call) {
  auto listen = serve::parse_listen(call.value("listen", "127.0.0.1:8787"));
  if (!listen) {
    std::cerr << "cw serve: " << listen.error().message << "\n";
    return k_exit_usage;
  }
  serve::Access access;
  if (call.has("token-file")) {
    auto t = read_secret_file(call.value("token-file"), "--token-file");
    if (!t) {
      std::cerr << "cw serve: " << t.error().message << "\n";
      return k_exit_usage;
    }
    access.token = *t;
  } else if (const char* env = std::getenv("CW_SERVE_TOKEN"); env != nullptr && *env != '\0') {
    access.token = env;
  }
  if (call.has("basic-auth-file")) {
    auto t = read_secret_file(call.value("basic-auth-file"), "--basic-auth-file");
    const auto colon = t ? t->find(':') : std::string::npos;
    if (!t || colon == std::string::npos || colon == 0) {
      std::cerr << "cw serve: --basic-auth-file: expected one line USER:PASSWORD\n";
      return k_exit_usage;
    }
    access.user = t->substr(0, colon);
    access.password = t->substr(colon + 1);
  }
  if (auto st = serve::check_bind(*listen, access); !st) {
    std::cerr << "cw serve: " << st.error().message << "\n";
    return k_exit_usage;
  }

  const std::string config_path = global.config_path.empty() ? "cw.yaml" : global.config_path;
  auto cfg = config::load_config(config_path);
  if (!cfg) {
    std::cerr << cfg.error().message << "\n";
    return k_exit_config;
  }
  std::optional<std::int64_t> every;
  if (call.has("every")) {
    every = config::parse_duration(call.value("every"));
    if (!every || *every < 60) {
      std::cerr << "cw serve: --every: expected an interval of at least 1m (30m, 6h), got \""
                << call.value("every") << "\"\n";
      return k_exit_usage;
    }
  }
  auto logger = services::Logger::from_options(global.log_level, global.log_format);
  if (!logger) {
    std::cerr << "cw serve: " << logger.error().message << "\n";
    return k_exit_usage;
  }
  services::Logger& log = **logger;
  for (const auto* secret : {&access.token, &access.password})
    if (!secret->empty()) log.add_secret(*secret);

  serve::ServerOptions so;
  so.listen = *listen;
  so.access = access;
  so.state_dir = cfg->state_dir;
  so.config_path = cfg->path;
  for (const auto& pc : cfg->pairs) {
    if (!pc.enabled) continue;
    so.pairs.push_back(pc.policy.name);
    if (pc.schedule) {
      so.schedules[pc.policy.name] = *pc.schedule;
    } else if (every) {
      config::ScheduleConfig s;
      s.every_s = *every;
      so.schedules[pc.policy.name] = s;
    }
  }

  services::SignalCancelToken::install_signal_handlers();
  services::CancelToken& cancel = services::SignalCancelToken::instance();
  auto run = [&global](const std::string& pair) {
    sync::SessionOptions options;
    options.pair_filter = pair;
    CycleRequest request;
    request.command = "serve";
    request.pair = pair;
    CycleOutcome cycle = run_sync_cycle(with_globals(global, options), request, {});
    // The status page reads the state under a shared lock for a moment; a run that meets it
    // tries again shortly. A `cw run` from cron holds it longer: the scheduler retries later.
    for (int i = 0; i < 10 && cycle.session_error &&
                    cycle.session_error->cause == sync::SessionError::Cause::locked;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      cycle = run_sync_cycle(with_globals(global, options), request, {});
    }
    serve::RunOutcome out;
    if (cycle.session_error) {
      out.result = cycle.session_error->cause == sync::SessionError::Cause::locked
                       ? serve::RunResult::locked
                       : serve::RunResult::failed;
      out.message = cycle.session_error->message;
      return out;
    }
    out.result = result_of(cycle.result.status);
    for (const auto& e : cycle.result.errors) out.message += (out.message.empty() ? "" : "; ") + e;
    out.report = std::move(cycle.result.report);
    out.http = std::move(cycle.http);
    return out;
  };
  // Scrobbling (the `scrobble:` block): a session that lives as long as the server, with the
  // sink instances only and no run lock, and the service over it.
  std::unique_ptr<sync::Session> scrobble_session;
  std::unique_ptr<scrobble::Service> scrobble_service;
  std::unique_ptr<ScrobbleBridge> bridge;
  if (cfg->scrobble.enabled) {
    sync::SessionOptions options;
    options.purpose = sync::Purpose::scrobble;
    auto opened = sync::Session::open(with_globals(global, options));
    if (auto* err = std::get_if<sync::SessionError>(&opened)) {
      std::cerr << "cw serve: scrobbling: " << err->message << "\n";
      return exit_code_for(*err);
    }
    scrobble_session = std::move(std::get<std::unique_ptr<sync::Session>>(opened));
    auto service = scrobble::make_service(*scrobble_session);
    if (!service) {
      std::cerr << "cw serve: " << service.error().message << "\n";
      return k_exit_config;
    }
    scrobble_service = std::move(service).value();
    if (auto st = scrobble_service->start_watchers(); !st)
      log.warn("serve", "scrobble watchers did not start: " + st.error().message);
    bridge = std::make_unique<ScrobbleBridge>(*scrobble_service);
  }
  serve::Server server(so, run, system_now_s, log, cancel, bridge.get());
  auto port = server.start();
  if (!port) {
    std::cerr << "cw serve: " << port.error().message << "\n";
    return k_exit_failure;
  }
  std::cout << "cw serve: listening on http://"
            << serve::ListenAddress{listen->host, *port}.to_string() << "/ (" << so.pairs.size()
            << " pair(s), " << so.schedules.size() << " scheduled); stop with Ctrl-C or SIGTERM"
            << std::endl;
  // The signal handler only sets a flag; this thread turns it into an orderly stop.
  while (!cancel.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log.info("serve", "stopping: the run in flight finishes its chunk and commits");
  server.stop();
  if (scrobble_service) scrobble_service->stop_watchers();
  std::cout << "cw serve: stopped" << std::endl;
  return k_exit_ok;
}

void serve_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("listen", po::value<std::string>()->value_name("HOST:PORT"), "address to serve on (default 127.0.0.1:8787; port 0 picks a free one)")
      ("token-file", po::value<std::string>()->value_name("FILE"), "require `Authorization: Bearer TOKEN`, TOKEN being the file's first line (or set $CW_SERVE_TOKEN)")
      ("basic-auth-file", po::value<std::string>()->value_name("FILE"), "require HTTP basic auth, the file's first line being USER:PASSWORD")
      ("every", po::value<std::string>()->value_name("DURATION"), "run the pairs that have no schedule: every DURATION (else only on request)");
  // clang-format on
}

}  // namespace

const Command k_serve_command = {
    "serve",
    "run pairs on their schedules; status page, JSON API, metrics and webhooks",
    {{"",
      "",
      {},
      &serve_options,
      "Runs each pair on its `schedule:` (cw.yaml) and serves, on 127.0.0.1:8787 unless told\n"
      "otherwise: / the status page (runs, held deletions with approve/decline buttons,\n"
      "blackboxed and unresolved items, providers), /api/status and /api/runs (JSON),\n"
      "/metrics (Prometheus) and /webhook/SOURCE (scrobbling). Any address but loopback needs\n"
      "--token-file, $CW_SERVE_TOKEN or --basic-auth-file. Runs take the state directory's\n"
      "lock one at a time, so `cw run` from cron can share it. See docs/serve.md.\n"}},
    "SIGINT/SIGTERM: the run in flight finishes its chunk and commits; then exit 0.\n"
    "Exit: 0 stopped by a signal, 1 cannot listen, 2 bad command line, 3 bad config.\n",
    &run_serve};

}  // namespace cw::cli
