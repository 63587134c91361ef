#include <algorithm>
#include <map>

#include <cwsdk/support/ids.hpp>

#include <cw/plugin/checker.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/plugin/schemas.hpp>
#include <cw/util/json.hpp>

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

namespace {

// The item used to round-trip a feature: one the index returned (minus what the host adds),
// else a film every tracker knows.
json probe_item(const json& index) {
  if (index.contains("items") && index["items"].is_array() && !index["items"].empty()) {
    json item = index["items"][0];
    item.erase("extra");
    return item;
  }
  return {{"type", "movie"},
          {"title", "The Shawshank Redemption"},
          {"year", 1994},
          {"ids", {{"imdb", "tt0111161"}, {"tmdb", "278"}}}};
}

// Whether an index holds an item sharing a normalised id (the kit's rules, the ones the
// engine matches by) or, when the probe has no ids, its title.
bool holds(const json& index, const json& probe) {
  if (!index.contains("items") || !index["items"].is_array()) return false;
  const auto ids_of = [](const json& item) {
    const auto it = item.find("ids");
    return it == item.end() ? cwsdk::Ids() : cwsdk::Ids::from_json(*it);
  };
  const cwsdk::Ids want = ids_of(probe);
  for (const auto& item : index["items"]) {
    if (!item.is_object()) continue;
    if (want.empty() ? util::string_member(item, "title") == util::string_member(probe, "title")
                     : ids_of(item).shares_id_with(want))
      return true;
  }
  return false;
}

// One write and its undo; `step(name, result, message)` records each.
template <typename Step>
void round_trip(ProviderInstance& p, const std::string& feature, const json& index, Step&& step) {
  json probe = probe_item(index);
  const bool had = holds(index, probe);
  probe["key"] = "cw-check-probe";
  const json items = json::array({probe});
  const char* const order[2][2] = {{"remove", "add"}, {"add", "remove"}};
  for (const char* op : order[had ? 0 : 1]) {
    const std::string name = std::string(op) + " " + feature;
    auto r = std::string_view(op) == "add" ? p.add(feature, items) : p.remove(feature, items);
    if (!r) {
      step(name, StepResult::fail, r.error().message);
      return;
    }
    const json& outcomes = (*r)["outcomes"];
    if (outcomes.size() != 1 || util::string_member(outcomes[0], "key") != "cw-check-probe") {
      step(name, StepResult::fail,
           "expected exactly one outcome for the key sent, got " + std::to_string(outcomes.size()));
      return;
    }
    const std::string status = util::string_member(outcomes[0], "status");
    if (status != "confirmed" && status != "skipped") {
      step(name, StepResult::fail,
           "outcome " + status + " (" + util::string_member(outcomes[0], "reason", "no reason") +
               "): " + util::string_member(outcomes[0], "message"));
      return;
    }
    auto after = p.build_index(feature, std::nullopt);
    const bool want = std::string_view(op) == "add";
    if (!after) {
      step(name, StepResult::fail, "index after the write failed: " + after.error().message);
      return;
    }
    // A service may show a write a little later: a stale index is a warning.
    const bool shown = holds(*after, probe) == want;
    step(name, shown ? StepResult::ok : StepResult::warn,
         util::string_member(probe, "title", "the probe item") + ": " + status +
             "; the next index " +
             (shown ? (want ? "has it" : "no longer has it")
                    : (want ? "does not have it yet" : "still has it")));
  }
}

// What a clean read of one feature gave: the yardstick of the drills.
struct CleanIndex {
  std::size_t items = 0;
  bool complete = false;
};

template <typename Step>
void run_drill(ProviderInstance& p, const Manifest& m, const CheckOptions& options,
               const std::map<std::string, CleanIndex>& clean, Step&& step) {
  const FaultDrill& drill = *options.drill;
  const std::string prefix = "fault " + drill.name + ": ";
  if (drill.needs_auth && m.secrets.empty() && m.auth == "none") {
    step(prefix + "skipped", StepResult::ok, "the plugin sends no credentials");
    return;
  }
  if (Status s = options.install_fault(&drill.spec); !s) {
    step(prefix + "install", StepResult::fail, s.error().message);
    return;
  }
  step(prefix + "install", StepResult::ok, drill.what);
  bool auth_seen = false;
  if (auto h = p.health()) {
    const std::string status = util::string_member(*h, "status");
    auth_seen = status == "auth_failed";
    step(prefix + "health", !drill.survivable || status == "ok" ? StepResult::ok : StepResult::fail,
         "status " + status);
  } else {
    auth_seen = h.error().kind == ErrorKind::auth;
    step(prefix + "health", drill.survivable ? StepResult::fail : StepResult::ok,
         h.error().message);
  }
  for (const auto& [feature, before] : clean) {
    const std::string name = prefix + "build_index " + feature;
    auto idx = p.build_index(feature, std::nullopt);
    if (!idx) {
      auth_seen = auth_seen || idx.error().kind == ErrorKind::auth;
      step(name, drill.survivable ? StepResult::fail : StepResult::ok,
           std::string(drill.survivable ? "the host's retry should have ridden it out: "
                                        : "failed as it may: ") +
               idx.error().message);
      continue;
    }
    const std::size_t n = (*idx)["items"].size();
    const bool complete = (*idx)["complete"] == true;
    const std::string counts = std::to_string(n) +
                               " items (clean: " + std::to_string(before.items) + "), complete " +
                               (complete ? "true" : "false");
    if (drill.survivable) {
      const bool same = n == before.items && complete == before.complete;
      step(name, same ? StepResult::ok : StepResult::fail,
           counts + (same ? "" : ": should equal the clean read"));
    } else {
      // Claiming completeness while items are missing would let the engine infer deletions.
      const bool lies = complete && n < before.items;
      step(name, lies ? StepResult::fail : StepResult::ok,
           counts + (lies ? ": complete while items are missing" : ""));
    }
  }
  if (drill.needs_auth) {
    step(prefix + "auth status", auth_seen ? StepResult::ok : StepResult::fail,
         auth_seen ? "an expired token was reported as an auth failure"
                   : "no health or index reply reported the expired token as an auth failure");
  }
  if (Status s = options.install_fault(nullptr); !s)
    step(prefix + "remove", StepResult::fail, s.error().message);
}

}  // namespace

const std::vector<FaultDrill>& fault_drills() {
  static const std::vector<FaultDrill> drills = {
      {"429",
       {{"status", 429}, {"retry_after_s", 1}, {"count", 1}},
       "one 429 with Retry-After: 1",
       true,
       false},
      {"5xx-burst", {{"status", 503}, {"count", 1}}, "one 503", true, false},
      {"5xx-down", {{"status", 502}, {"count", -1}}, "every request answered 502", false, false},
      {"page-cap",
       {{"page_cap", 1}, {"count", -1}},
       "pages silently capped at 1 item while totals stay",
       false,
       false},
      {"malformed",
       {{"malformed_body", true}, {"count", -1}},
       "every body corrupted",
       false,
       false},
      {"truncated",
       {{"truncate_body", true}, {"count", -1}},
       "every body cut in half",
       false,
       false},
      {"expired-token",
       {{"expire_token", true}, {"count", -1}},
       "every token check fails",
       false,
       true},
  };
  return drills;
}

const FaultDrill* find_fault_drill(std::string_view name) {
  for (const auto& d : fault_drills())
    if (d.name == name) return &d;
  return nullptr;
}

CheckReport check_plugin(const std::filesystem::path& path, const json& config,
                         const HostServices& services, const CheckOptions& options) {
  CheckReport report;
  const auto soft = [&options](ErrorKind k) {
    return !options.network && environmental(k) ? StepResult::warn : StepResult::fail;
  };
  report.path = path;
  auto step = [&report](std::string name, StepResult r, std::string message) {
    report.steps.push_back({std::move(name), r, std::move(message)});
  };

  // Load covers the handshake, the manifest and the operations; report them separately
  // so an author sees which part passed.
  auto lib = Library::load(path, services, options.load);
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
    step("health", soft(h.error().kind), h.error().message);
  }

  std::map<std::string, CleanIndex> clean;
  for (const auto& [feature, caps] : m.features) {
    const std::string name = "build_index " + feature;
    auto idx = p.build_index(feature, std::nullopt);
    if (!idx) {
      step(name, soft(idx.error().kind), idx.error().message);
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
    clean[feature] = {n, (*idx)["complete"] == true};
    if (options.writes && caps.add && caps.remove) round_trip(p, feature, *idx, step);
  }

  if (options.drill != nullptr && options.install_fault) run_drill(p, m, options, clean, step);

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
