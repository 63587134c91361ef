#pragma once
// The contract checks `cw plugins check PATH` runs on one plugin file: what a third party
// needs to pass before shipping. Load and handshake, manifest, operations against the
// manifest, create (with {} or a given config), health, build_index of every declared
// feature with response-shape checks, a malformed request (must be INVALID_ARG, not a
// crash), destroy. No network: the http service answers UNSUPPORTED, so statuses that mean
// "could not reach the service" (auth, transient, rate_limited, unsupported) are warnings.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <cw/plugin/host_api.hpp>
#include <cw/plugin/library.hpp>

namespace cw::plugin {

struct CheckStep {
  enum class Result { ok, warn, fail };
  std::string name;
  Result result = Result::ok;
  std::string message;
};

struct CheckReport {
  std::filesystem::path path;
  std::vector<CheckStep> steps;
  bool passed() const;
  std::size_t count(CheckStep::Result r) const;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

struct CheckOptions {
  // In process or isolated (cw plugins check isolates a plugin found outside the bundled
  // folder, as a run would).
  LoadOptions load;
  // The host services reach a real service (`--base-url`): a status that means "could not
  // reach it" (auth, transient, rate limited, not found) fails the step instead of warning.
  bool network = false;
  // Round-trip every feature that declares add and remove: remove then add back an item
  // the index returned (or add then remove a well-known film when the index is empty),
  // checking one valid outcome per item and that the next index shows the change.
  bool writes = false;
  // A fault drill (`--fault`): after the clean pass, the fault is installed on the service
  // (a cw-sandbox fake) through `install_fault`, health and every index are read again and
  // judged by what the drill allows, and the fault is removed (install_fault(nullptr)).
  const struct FaultDrill* drill = nullptr;
  std::function<Status(const nlohmann::json* spec)> install_fault;
};

// A fault the conformance kit puts a plugin through, against a cw-sandbox fake. Drills the
// host's one retry rides out must leave every index exactly as it was without them; the
// others may make reads fail or come back incomplete, but never `complete` with items
// missing, and never crash the process.
struct FaultDrill {
  std::string name;
  nlohmann::json spec;      // a cw-sandbox fault (docs/sandbox.md, "Faults")
  std::string what;         // one line for the report and the help
  bool survivable = false;  // indexes must equal the clean pass
  bool needs_auth = false;  // only for plugins that send credentials; an auth error is due
};
const std::vector<FaultDrill>& fault_drills();
const FaultDrill* find_fault_drill(std::string_view name);

CheckReport check_plugin(const std::filesystem::path& path, const nlohmann::json& config,
                         const HostServices& services, const CheckOptions& options = {});

}  // namespace cw::plugin
