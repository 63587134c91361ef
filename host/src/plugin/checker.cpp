#include <algorithm>

#include <cw/plugin/checker.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/schemas.hpp>

namespace cw::plugin {

using nlohmann::json;
using StepResult = CheckStep::Result;

bool CheckReport::passed() const { return count(StepResult::fail) == 0 && !steps.empty(); }

std::size_t CheckReport::count(StepResult r) const {
  return static_cast<std::size_t>(
      std::count_if(steps.begin(), steps.end(), [r](const CheckStep& s) { return s.result == r; }));
}

namespace {
const char* result_name(StepResult r) {
  switch (r) {
    case StepResult::ok:
      return "ok";
    case StepResult::warn:
      return "warn";
    case StepResult::fail:
      return "fail";
  }
  return "fail";
}

// Statuses that say "the service could not be used here" rather than "the plugin is wrong".
bool environmental(ErrorKind k) {
  return k == ErrorKind::auth || k == ErrorKind::transient || k == ErrorKind::rate_limited ||
         k == ErrorKind::unsupported || k == ErrorKind::not_found || k == ErrorKind::invalid_arg;
}
}  // namespace

json CheckReport::to_json() const {
  json out = {{"path", path.string()}, {"passed", passed()}, {"checks", json::array()}};
  for (const auto& s : steps)
    out["checks"].push_back(
        {{"name", s.name}, {"result", result_name(s.result)}, {"message", s.message}});
  return out;
}

std::string CheckReport::to_text() const {
  std::string out = "checking " + path.string() + "\n";
  for (const auto& s : steps) {
    std::string label = result_name(s.result);
    label.resize(6, ' ');
    out += "  " + label + s.name + ": " + s.message + "\n";
  }
  out += passed() ? "PASS" : "FAIL";
  out += " (" + std::to_string(count(StepResult::ok)) + " ok, " +
         std::to_string(count(StepResult::warn)) + " warnings, " +
         std::to_string(count(StepResult::fail)) + " failed)\n";
  return out;
}

CheckReport check_plugin(const std::filesystem::path& path, const json& config,
                         const HostServices& services) {
  CheckReport report;
  report.path = path;
  auto step = [&report](std::string name, StepResult r, std::string message) {
    report.steps.push_back({std::move(name), r, std::move(message)});
  };

  // Load covers the handshake, the manifest and the operations; report them separately
  // so an author sees which part passed.
  auto lib = Library::load(path, services);
  if (!lib) {
    step("load", StepResult::fail, lib.error().message);
    return report;
  }
  const Library& l = **lib;
  const Manifest& m = l.manifest();
  step("load", StepResult::ok,
       "cwsdk_entry accepted host ABI " + std::to_string(CWSDK_VERSION_MAJOR) + "." +
           std::to_string(CWSDK_VERSION_MINOR) + "; plugin built for ABI " +
           std::to_string(l.abi_major()) + "." + std::to_string(l.abi_minor()));
  std::string features;
  for (const auto& [f, caps] : m.features) features += (features.empty() ? "" : ", ") + f;
  step("manifest", StepResult::ok,
       m.name + " " + m.version + " passes the schema; features: " + features);
  const auto& api = l.api();
  auto yes = [](const void* p) { return p != nullptr ? "yes" : "no"; };
  step("operations", StepResult::ok,
       std::string("required operations present; optional: update ") +
           yes(reinterpret_cast<const void*>(api.update)) + ", scrobble " +
           yes(reinterpret_cast<const void*>(api.scrobble)) + ", auth " +
           yes(reinterpret_cast<const void*>(api.auth_start)) + ", action " +
           yes(reinterpret_cast<const void*>(api.action)) + " (all consistent with the manifest)");

  if (Status s = validate_against_schema(m.config_schema.dump(), config.dump(), "config"); !s) {
    step("config", StepResult::warn, s.error().message + " (per the manifest's config schema)");
  }

  auto inst = ProviderInstance::create(*lib, "check", config, services);
  if (!inst) {
    step("create", config.empty() ? StepResult::warn : StepResult::fail,
         inst.error().message +
             (config.empty() ? " (pass a working configuration with --config-json)" : ""));
    return report;
  }
  // The configuration may hold credentials: name its keys, never its values.
  std::string keys;
  for (const auto& [k, v] : config.items()) keys += (keys.empty() ? "" : ", ") + k;
  step("create", StepResult::ok,
       "instance created from " + (keys.empty() ? std::string("{}") : "keys " + keys));
  ProviderInstance& p = **inst;

  if (auto h = p.health()) {
    step("health", StepResult::ok, "status " + h->value("status", std::string("?")));
  } else {
    step("health", environmental(h.error().kind) ? StepResult::warn : StepResult::fail,
         h.error().message);
  }

  for (const auto& [feature, caps] : m.features) {
    const std::string name = "build_index " + feature;
    auto idx = p.build_index(feature, std::nullopt);
    if (!idx) {
      step(name, environmental(idx.error().kind) ? StepResult::warn : StepResult::fail,
           idx.error().message);
      continue;
    }
    // Every item must pass the item schema, and carry only declared types.
    std::string bad;
    std::size_t n = 0;
    for (const auto& item : (*idx)["items"]) {
      if (Status s = validate_against_schema(k_item_schema_json, item.dump(),
                                             "items[" + std::to_string(n) + "]");
          !s) {
        bad = s.error().message;
        break;
      }
      const std::string type = item.value("type", "");
      if (std::find(caps.types.begin(), caps.types.end(), type) == caps.types.end()) {
        bad = "items[" + std::to_string(n) + "] has type " + type +
              ", which the manifest does not declare for " + feature;
        break;
      }
      ++n;
    }
    if (!bad.empty()) {
      step(name, StepResult::fail, bad);
      continue;
    }
    const auto received = (*idx)["received"];
    if (received.is_number_integer() && received.get<long long>() != static_cast<long long>(n)) {
      step(name, StepResult::fail,
           "\"received\" is " + received.dump() + " but " + std::to_string(n) +
               " items were returned");
      continue;
    }
    step(name, StepResult::ok,
         std::to_string(n) + " items, complete " + (*idx)["complete"].dump() + ", semantics " +
             (*idx)["semantics"].dump());
  }

  // A malformed request must be refused with INVALID_ARG and an error document.
  auto raw = p.call_raw("build_index", "{not json");
  if (!raw) {
    step("malformed request", StepResult::fail, raw.error().message);
  } else if (raw->status != CW_STATUS_INVALID_ARG) {
    step("malformed request", StepResult::fail,
         std::string("build_index with invalid JSON returned ") + status_name(raw->status) +
             ", expected INVALID_ARG");
  } else {
    step("malformed request", StepResult::ok, "build_index with invalid JSON: INVALID_ARG");
  }

  inst->reset();
  step("destroy", StepResult::ok, "instance destroyed");
  return report;
}

}  // namespace cw::plugin
