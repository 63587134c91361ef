#pragma once
// The host services lent to plugins by commands that load plugins without a run (`plugins
// list|check`, `config validate`): a logger, the clock, the signal cancel token and an
// in-memory kv store. Nothing durable, no network unless the command adds it.

#include <memory>

#include <cw/cli/command_line.hpp>
#include <cw/plugin/discovery.hpp>
#include <cw/plugin/host_api.hpp>
#include <cw/plugin/registry.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/util/result.hpp>

namespace cw::cli {

struct PluginServices {
  std::unique_ptr<services::Logger> logger;
  services::SystemClock clock;
  services::MemoryKvStore kv;
  std::unique_ptr<plugin::HostServices> host;
};

// Fails only when the global logging options are bad.
Result<std::unique_ptr<PluginServices>> make_plugin_services(const GlobalOptions& global);

// Which plugins these commands isolate, as a run does: `mode` (the configuration's
// plugins.isolation, or "untrusted" without one) unless --plugin-isolation says otherwise;
// --in-process names run in process. The error is a bad --plugin-isolation value.
Result<plugin::IsolationPolicy> isolation_policy(const GlobalOptions& global,
                                                 const plugin::SearchPathOptions& sp,
                                                 const std::string& mode = "untrusted");

}  // namespace cw::cli
