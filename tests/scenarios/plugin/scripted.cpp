// The scripted provider of the scenario suite: a provider whose capabilities, health,
// inventory, completeness and per-key write behaviour come from files that the scenario
// runner writes (tests/scenarios/README.md describes them). It applies the writes it
// confirms to its inventory and keeps that inventory in a state file between runs, and it
// appends every call it receives to a call log, so the runner can check what cw did.
//
// One source is built several times under different names (cw-provider-scripted-a.so,
// -b, ...) because a manifest is per library: each scenario provider gets its own copy
// and so its own capabilities.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cwsdk/provider.hpp>

#ifndef CW_SCRIPTED_NAME
#error "CW_SCRIPTED_NAME must name the plugin (set by tests/scenarios/CMakeLists.txt)"
#endif

using nlohmann::json;

namespace {

const char* const k_features[] = {"watchlist", "history", "ratings", "progress"};

json default_manifest() {
  json features = json::object();
  for (const char* f : k_features) {
    json feat = {{"types", {"movie", "show", "season", "episode"}},
                 {"index_semantics", "present"},
                 {"add", true},
                 {"remove", true},
                 {"update", true},
                 {"observes_deletes", true},
                 {"provides_ids", true},
                 {"chunk_size", 100}};
    if (std::string(f) == "history") {
      feat["writes_watch_date"] = true;
      feat["rewatches"] = true;
    }
    if (std::string(f) == "ratings") feat["rating_scale"] = {{"min", 1}, {"max", 10}, {"step", 1}};
    features[f] = feat;
  }
  return json{{"name", CW_SCRIPTED_NAME},
              {"version", "1.0.0"},
              {"display_name", "Scripted scenario provider"},
              {"description", "Test provider driven by scenario files (tests/scenarios)."},
              {"features", features},
              {"capabilities", {{"auth", "none"}, {"scrobble", false}}},
              {"config",
               {{"type", "object"},
                {"properties", {{"script", {{"type", "string"}}}}},
                {"required", {"script"}}}}};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes through a temporary file and rename so that a crash (the "crash" write rule
// calls abort()) never leaves a half-written state file behind.
void write_file_atomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw cwsdk::Error(CW_STATUS_INTERNAL, "scripted: cannot write " + tmp);
    out << data;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw cwsdk::Error(CW_STATUS_INTERNAL, "scripted: cannot rename " + tmp);
}

std::string id_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return v.dump();
}

bool share_id(const json& a, const json& b) {
  if (!a.is_object() || !b.is_object()) return false;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (it.value().is_null()) continue;
    auto other = b.find(it.key());
    if (other != b.end() && !other->is_null() && id_string(*other) == id_string(it.value()))
      return true;
  }
  return false;
}

// Same item: same kind and a shared id; episodes and seasons by show and numbers; items
// without ids by title and year.
bool same_item(const json& a, const json& b) {
  const std::string kind = a.value("type", "movie");
  if (kind != b.value("type", "movie")) return false;
  if (kind == "episode" || kind == "season") {
    const json sa = a.value("show", json::object()).value("ids", json::object());
    const json sb = b.value("show", json::object()).value("ids", json::object());
    if (share_id(sa, sb) || (sa.empty() && sb.empty() &&
                             a.value("show", json::object()).value("title", "") ==
                                 b.value("show", json::object()).value("title", ""))) {
      if (a.value("season", -1) != b.value("season", -1)) return false;
      return kind == "season" || a.value("episode", -1) == b.value("episode", -1);
    }
    return false;
  }
  const json ia = a.value("ids", json::object());
  const json ib = b.value("ids", json::object());
  if (share_id(ia, ib)) return true;
  if (ia.empty() || ib.empty())
    return a.value("title", "") == b.value("title", "") &&
           a.value("year", json()) == b.value("year", json());
  return false;
}

bool rule_matches_item(const json& match, const json& item) {
  if (!match.is_object() || match.empty()) return true;
  if (match.contains("title") && item.value("title", "") != match["title"].get<std::string>())
    return false;
  if (match.contains("key") && item.value("key", "") != match["key"].get<std::string>())
    return false;
  if (match.contains("ids") && !share_id(match["ids"], item.value("ids", json::object())))
    return false;
  return true;
}

// The provider-private handle of an inventory item, sent in `extra` and handed back by
// the host on removes and updates, the way a real server's own item id is.
std::string handle_of(const json& item) {
  json copy = item;
  copy.erase("extra");
  copy.erase("key");
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : copy.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return std::to_string(h);
}

// A short description of an item for the call log.
json log_item(const json& item) {
  json out = json::object();
  for (const char* k : {"type", "title", "year", "ids", "key", "season", "episode", "watched_at",
                        "rating", "rated_at", "progress_ms", "duration_ms"}) {
    if (item.contains(k)) out[k] = item[k];
  }
  if (item.contains("show")) out["show"] = item["show"].value("title", "");
  return out;
}

// How the "crash" family of rules ends the process: abort(), a real segmentation fault,
// or never returning (the host's timeout must end it).
[[noreturn]] void die(const std::string& how) {
  if (how == "segfault") {
    // An unmapped address read through a volatile, so that no compiler or sanitizer turns
    // it into anything but a SIGSEGV.
    volatile std::uintptr_t address = 16;
    *reinterpret_cast<volatile int*>(address) = 1;
  }
  if (how == "hang")
    for (;;) pause();
  std::abort();
}

bool dies(const std::string& result) {
  return result == "crash" || result == "segfault" || result == "hang";
}

// Lets a case script a failure of the whole operation: {"status": "crash|segfault|hang"}
// ends the process instead of answering.
void maybe_die(const json& spec) {
  const std::string kind =
      spec.is_string() ? spec.get<std::string>() : spec.value("status", std::string());
  if (dies(kind)) die(kind == "crash" ? "abort" : kind);
}

class Scripted {
 public:
  static const char* manifest() {
    // Read once per process; the host requires the same manifest on every call.
    static const std::string k_manifest = [] {
      const char* dir = std::getenv("CW_SCENARIO_DIR");
      if (dir != nullptr) {
        const std::string text =
            read_file(std::string(dir) + "/" + CW_SCRIPTED_NAME + ".manifest.json");
        if (!text.empty()) return text;
      }
      return default_manifest().dump();
    }();
    return k_manifest.c_str();
  }

  Scripted(cwsdk::Host host, std::string_view config) : m_host(host) {
    const json cfg = json::parse(config.begin(), config.end(), nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object() || !cfg.contains("script") ||
        !cfg["script"].is_string())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "script: expected the path of a script file");
    m_script_path = cfg["script"].get<std::string>();
    std::string base = m_script_path;
    if (base.size() > 12 && base.compare(base.size() - 12, 12, ".script.json") == 0)
      base.resize(base.size() - 12);
    m_state_path = base + ".state.json";
    m_calls_path = base + ".calls.jsonl";
    const std::string text = read_file(m_script_path);
    m_script = json::parse(text, nullptr, false);
    if (text.empty() || m_script.is_discarded() || !m_script.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "script: cannot read JSON from " + m_script_path);
    m_manifest = json::parse(manifest());
    // A careless plugin: it logs its credential and echoes it in health messages. The host
    // must redact both (the secret-leak scenario checks every output and file).
    if (cfg.contains("token")) {
      m_token = m_host.secret("token").value_or("");
      m_host.debug("scripted: authenticating with token " + m_token);
    }
  }

  cwsdk::Reply health(std::string_view) {
    log_call(json{{"op", "health"}});
    if (m_script.contains("health_error")) maybe_die(m_script["health_error"]);
    if (m_script.contains("health_error"))
      return error_reply(m_script["health_error"], "health check failed");
    json h = m_script.value("health", json{{"status", "ok"}});
    if (!m_token.empty()) h["message"] = "signed in with token " + m_token;
    if (!h.contains("features")) {
      h["features"] = json::object();
      for (auto it = m_manifest["features"].begin(); it != m_manifest["features"].end(); ++it)
        h["features"][it.key()] = true;
    }
    return cwsdk::Reply::ok(h.dump());
  }

  cwsdk::Reply build_index(std::string_view request) {
    const json req = parse(request);
    const std::string feature = req.value("feature", "");
    log_call(json{{"op", "build_index"},
                  {"feature", feature},
                  {"watermark", req.value("watermark", json())}});
    if (!m_manifest["features"].contains(feature))
      throw cwsdk::Error(CW_STATUS_UNSUPPORTED, "scripted: feature " + feature + " not declared");
    const json fs = m_script.value("features", json::object()).value(feature, json::object());
    if (fs.contains("index_error")) maybe_die(fs["index_error"]);
    if (fs.contains("index_error")) return error_reply(fs["index_error"], "index failed");
    // `interrupt: true`: the user presses Ctrl-C while cw reads this index; it answers.
    if (fs.value("interrupt", false)) interrupt_host();
    const json state = load_state();
    json items = json::array();
    const std::string semantics =
        fs.value("semantics", m_manifest["features"][feature].value("index_semantics", "present"));
    if (semantics == "delta" && fs.contains("delta_items")) {
      items = fs["delta_items"];
    } else {
      const json hide = fs.value("hide", json::array());
      for (const auto& item : state["inventory"].value(feature, json::array())) {
        bool hidden = false;
        for (const auto& h : hide)
          hidden = hidden || item.value("title", "") == h.get<std::string>();
        if (hidden) continue;
        json copy = item;
        copy["extra"] = {{"handle", handle_of(item)}};
        items.push_back(std::move(copy));
      }
    }
    const auto n = items.size();
    json resp = {{"items", std::move(items)},
                 {"complete", fs.value("complete", true)},
                 {"expected_total", fs.value("expected_total", json(n))},
                 {"received", fs.value("received", json(n))},
                 {"watermark", fs.value("watermark", json())},
                 {"semantics", semantics}};
    // ABI 1.1: a delta reply's list of what the service removed since the watermark.
    if (semantics == "delta" && fs.contains("delta_removed")) resp["removed"] = fs["delta_removed"];
    return cwsdk::Reply::ok(resp.dump());
  }

  // ABI 1.1 lookup: whether the inventory holds each item now (a history item: that play).
  // The host uses it only when the case's manifest declares capabilities.lookup.
  cwsdk::Reply lookup(std::string_view request) {
    const json req = parse(request);
    const std::string feature = req.value("feature", "");
    log_call(json{{"op", "lookup"}, {"feature", feature}});
    const json state = load_state();
    json results = json::array();
    for (const auto& item : req.value("items", json::array())) {
      bool present = false;
      for (const auto& have : state["inventory"].value(feature, json::array())) {
        if (!same_item(have, item)) continue;
        if (feature == "history" && item.contains("watched_at") &&
            have.value("watched_at", json()) != item["watched_at"])
          continue;
        present = true;
        break;
      }
      results.push_back({{"key", item.value("key", "")}, {"present", present}});
    }
    return cwsdk::Reply::ok(json{{"results", std::move(results)}}.dump());
  }

  // ABI 1.1 resolve_ids: the script's "resolve" list maps ids to ids; an item that shares
  // an id with an entry's `match` gets that entry's `ids`. Used when the case's manifest
  // declares capabilities.resolve_ids and the configuration names this id_resolver.
  cwsdk::Reply resolve_ids(std::string_view request) {
    const json req = parse(request);
    const json items = req.value("items", json::array());
    log_call(json{{"op", "resolve_ids"}, {"count", items.size()}});
    json results = json::array();
    for (const auto& item : items) {
      for (const auto& entry : m_script.value("resolve", json::array())) {
        if (share_id(entry.value("match", json::object()), item.value("ids", json::object()))) {
          results.push_back(
              {{"key", item.value("key", "")}, {"ids", entry.value("ids", json::object())}});
          break;
        }
      }
    }
    return cwsdk::Reply::ok(json{{"results", std::move(results)}}.dump());
  }

  cwsdk::Reply add(std::string_view request) { return write("add", request); }
  cwsdk::Reply remove(std::string_view request) { return write("remove", request); }
  cwsdk::Reply update(std::string_view request) { return write("update", request); }

 private:
  static json parse(std::string_view request) {
    json req = json::parse(request.begin(), request.end(), nullptr, false);
    if (req.is_discarded() || !req.is_object())
      throw cwsdk::Error(CW_STATUS_INVALID_ARG, "request is not a JSON object");
    return req;
  }

  static cwsdk::Reply error_reply(const json& spec, const std::string& fallback) {
    const std::string kind =
        spec.is_string() ? spec.get<std::string>() : spec.value("status", "transient");
    const std::string message = spec.is_object() ? spec.value("message", fallback) : fallback;
    const long long retry = spec.is_object() ? spec.value("retry_after_ms", -1LL) : -1LL;
    cw_status st = CW_STATUS_TRANSIENT;
    if (kind == "rate_limited")
      st = CW_STATUS_RATE_LIMITED;
    else if (kind == "auth")
      st = CW_STATUS_AUTH;
    else if (kind == "internal")
      st = CW_STATUS_INTERNAL;
    else if (kind == "invalid_arg")
      st = CW_STATUS_INVALID_ARG;
    else if (kind == "not_found")
      st = CW_STATUS_NOT_FOUND;
    return cwsdk::Reply{st, cwsdk::Reply::error_document(message, retry)};
  }

  json load_state() const {
    const std::string text = read_file(m_state_path);
    json state = text.empty() ? json::object() : json::parse(text, nullptr, false);
    if (state.is_discarded() || !state.is_object())
      throw cwsdk::Error(CW_STATUS_INTERNAL,
                         "scripted: state file " + m_state_path + " is not JSON");
    if (!state.contains("inventory")) state["inventory"] = json::object();
    if (!state.contains("rule_hits") ||
        state.value("run", json()) != m_script.value("run", json())) {
      // Rule counters ("times") count within one run of the scenario.
      state["rule_hits"] = json::object();
      state["run"] = m_script.value("run", json());
    }
    return state;
  }

  void save_state(const json& state) const { write_file_atomic(m_state_path, state.dump(1)); }

  void log_call(json entry) const {
    entry["run"] = m_script.value("run", json());
    std::ofstream out(m_calls_path, std::ios::app);
    out << entry.dump() << "\n";
  }

  // The first rule for this op and feature that matches `item` and still has uses left.
  int find_rule(const json& state, const std::string& op, const std::string& feature,
                const json& item) const {
    const json rules = m_script.value("writes", json::array());
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const json& r = rules[i];
      const std::string rop = r.value("op", "any");
      const std::string rfeat = r.value("feature", "any");
      if (rop != "any" && rop != op) continue;
      if (rfeat != "any" && rfeat != feature) continue;
      if (!rule_matches_item(r.value("match", json::object()), item)) continue;
      if (r.contains("times")) {
        const int used = state["rule_hits"].value(std::to_string(i), 0);
        if (used >= r["times"].get<int>()) continue;
      }
      return static_cast<int>(i);
    }
    return -1;
  }

  static void count_hit(json& state, int rule) {
    const std::string k = std::to_string(rule);
    state["rule_hits"][k] = state["rule_hits"].value(k, 0) + 1;
  }

  // Applies one confirmed write to the inventory; false when it changed nothing.
  bool apply(json& inv, const std::string& op, const std::string& feature, json item) const {
    item.erase("key");
    std::string handle;
    if (item.contains("extra") && item["extra"].is_object())
      handle = item["extra"].value("handle", "");
    item.erase("extra");
    json& list = inv[feature];
    if (!list.is_array()) list = json::array();
    const bool history = feature == "history";
    auto same = [&](const json& existing) {
      if (!handle.empty() && op != "add") return handle_of(existing) == handle;
      if (!same_item(existing, item)) return false;
      if (history && item.contains("watched_at") && existing.contains("watched_at"))
        return existing["watched_at"] == item["watched_at"];
      return true;
    };
    if (op == "remove") {
      bool removed = false;
      for (std::size_t i = list.size(); i-- > 0;) {
        if (same(list[i])) {
          list.erase(i);
          removed = true;
        }
      }
      return removed;
    }
    if (history && op == "add" &&
        !m_manifest["features"]["history"].value("writes_watch_date", true))
      item.erase("watched_at");
    for (auto& existing : list) {
      if (!same(existing)) continue;
      if (op == "add" && (feature == "watchlist" || history)) return false;
      json merged = existing;
      for (auto it = item.begin(); it != item.end(); ++it) merged[it.key()] = it.value();
      if (merged == existing) return false;
      existing = merged;
      return true;
    }
    if (op == "update" && feature != "ratings" && feature != "progress") return false;
    list.push_back(item);
    return true;
  }

  cwsdk::Reply write(const std::string& op, std::string_view request) {
    const json req = parse(request);
    const std::string feature = req.value("feature", "");
    const json items = req.value("items", json::array());
    json logged = json::array();
    for (const auto& item : items) logged.push_back(log_item(item));
    log_call(json{{"op", op}, {"feature", feature}, {"items", logged}});

    json state = load_state();
    // Whole-request failures first: a transient or rate-limited rule that matches any item
    // fails the request, and nothing in it is applied.
    for (const auto& item : items) {
      const int r = find_rule(state, op, feature, item);
      if (r < 0) continue;
      const json& rule = m_script["writes"][static_cast<std::size_t>(r)];
      const std::string result = rule.value("result", "confirmed");
      if (result == "transient" || result == "rate_limited" || result == "fail") {
        count_hit(state, r);
        // `apply: true`: the request landed but its answer was lost (a timeout after the
        // provider wrote), the case a blind retry would turn into a duplicate.
        if (rule.value("apply", false))
          for (const auto& it : items) apply(state["inventory"], op, feature, it);
        save_state(state);
        json spec = {{"status", result == "fail" ? rule.value("status", "internal") : result},
                     {"message", rule.value("message", "scripted " + result)}};
        if (rule.contains("retry_after_ms")) spec["retry_after_ms"] = rule["retry_after_ms"];
        return error_reply(spec, "scripted failure");
      }
    }

    json outcomes = json::array();
    int done = 0;
    for (const auto& item : items) {
      const std::string key = item.value("key", "");
      const int r = find_rule(state, op, feature, item);
      const json rule = r >= 0 ? m_script["writes"][static_cast<std::size_t>(r)] : json::object();
      const std::string result = rule.value("result", "confirmed");
      if (r >= 0) count_hit(state, r);
      if (dies(result) && done >= rule.value("after", 0)) {
        // The process dies (or hangs) mid-batch: what was applied so far is kept, nothing
        // answers.
        save_state(state);
        log_call(json{{"op", result}, {"feature", feature}, {"after", done}});
        die(result == "crash" ? "abort" : result);
      }
      if (result == "wait") wait_for_release();
      if (result == "interrupt" || result == "interrupt_hang") interrupt_host();
      // A plugin that ignores the cancellation: it never asks is_cancelled, never returns.
      if (result == "interrupt_hang") {
        save_state(state);
        log_call(json{{"op", result}, {"feature", feature}, {"after", done}});
        die("hang");
      }
      ++done;
      json outcome = {{"key", key}};
      if (result == "unresolved") {
        outcome["status"] = "unresolved";
        outcome["reason"] = rule.value("reason", "unknown");
        outcome["message"] = rule.value("message", "scripted unresolved");
      } else if (result == "skipped") {
        outcome["status"] = "skipped";
      } else if (result == "no_outcome") {
        if (rule.value("apply", false)) apply(state["inventory"], op, feature, item);
        continue;
      } else {
        const bool changed = apply(state["inventory"], op, feature, item);
        outcome["status"] = changed ? "confirmed" : "skipped";
      }
      outcomes.push_back(outcome);
    }
    save_state(state);
    return cwsdk::Reply::ok(json{{"outcomes", std::move(outcomes)}}.dump());
  }

  // Holds the write until the runner creates `release` next to the script, so that the
  // runner can start a second cw while this one is busy (the run lock, R6.5).
  // The user's Ctrl-C reaches cw; an isolated plugin runs in cw's child.
  static void interrupt_host() {
    if (std::getenv("CW_PLUGIN_ISOLATED") != nullptr)
      ::kill(::getppid(), SIGINT);
    else
      std::raise(SIGINT);
  }

  void wait_for_release() const {
    const std::string dir = m_script_path.substr(0, m_script_path.find_last_of('/') + 1);
    const std::string marker = dir + CW_SCRIPTED_NAME + ".waiting";
    { std::ofstream(marker) << "waiting\n"; }
    for (int i = 0; i < 600 && read_file(dir + "release").empty() &&
                    access((dir + "release").c_str(), F_OK) != 0;
         ++i)
      usleep(100 * 1000);
  }

  cwsdk::Host m_host;
  std::string m_script_path;
  std::string m_token;  // from get_secret("token") when configured
  std::string m_state_path;
  std::string m_calls_path;
  json m_script;
  json m_manifest;
};

}  // namespace

// CWSDK_PROVIDER(Scripted), plus one fault: $CW_SCRIPTED_CRASH_ENTRY naming this plugin
// makes cwsdk_entry itself die with a segmentation fault.
extern "C" CWSDK_EXPORT const cw_provider_api* cwsdk_entry(uint16_t host_major, uint16_t host_minor,
                                                           const cw_host_api* host, cw_sink err) {
  const char* crash = std::getenv("CW_SCRIPTED_CRASH_ENTRY");
  if (crash != nullptr && std::string(crash) == CW_SCRIPTED_NAME) die("segfault");
  try {
    if (!::cwsdk::detail::check_host_version(host_major, host_minor, host, err)) return nullptr;
    return ::cwsdk::detail::provider_table<Scripted>();
  } catch (...) {
    ::cwsdk::detail::write_all(err, "exception in cwsdk_entry");
    return nullptr;
  }
}
