#include "crosswatch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include <unistd.h>

#include "ids.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cw::crosswatch {
namespace {

constexpr std::array<std::string_view, 4> k_features = {"watchlist", "history", "ratings",
                                                        "progress"};

// Serialises every change to files in this process. The host never overlaps calls on one
// instance, but two instances (two pairs, or a pair and `cw provider`) may share a root and
// run on different threads; each re-reads a file that changed behind it (load()), which is
// only sound when a read-modify-write is not interleaved with another.
std::mutex& write_mutex() {
  static std::mutex m;
  return m;
}

[[noreturn]] void fail(cw_status status, const std::string& message) {
  throw cwsdk::Error(status, message);
}

json parse_object(std::string_view text, const char* what) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    fail(CW_STATUS_INVALID_ARG, std::string("crosswatch: ") + what + " is not a JSON object");
  return doc;
}

std::string checked_feature(const json& doc, const char* where) {
  const auto it = doc.find("feature");
  if (it == doc.end() || !it->is_string())
    fail(CW_STATUS_INVALID_ARG,
         std::string("crosswatch: ") + where + ": \"feature\" is missing or not a string");
  const std::string feature = it->get<std::string>();
  if (std::find(k_features.begin(), k_features.end(), feature) == k_features.end())
    fail(CW_STATUS_UNSUPPORTED, "crosswatch: unknown feature \"" + feature +
                                    "\" (expected watchlist, history, ratings or progress)");
  return feature;
}

bool type_allowed(const std::string& feature, const std::string& type) {
  if (feature == "history" || feature == "progress") return type == "movie" || type == "episode";
  return type == "movie" || type == "show" || type == "season" || type == "episode";
}

// The instant of a timestamp field at one-second resolution, or the raw text when it does
// not parse, so that "…:05Z" and "…:05.000+00:00" are the same play.
std::string instant_key(const json& item, const char* field) {
  const auto it = item.find(field);
  if (it == item.end() || !it->is_string()) return {};
  const std::string text = it->get<std::string>();
  if (const auto ms = parse_iso_instant(text)) {
    const std::int64_t s = *ms >= 0 ? *ms / 1000 : (*ms - 999) / 1000;
    return "@" + std::to_string(s);
  }
  return "raw:" + text;
}

json outcome(const std::string& key, const char* status, const char* reason = nullptr,
             const std::string& message = {}) {
  json o = {{"key", key}, {"status", status}};
  if (reason != nullptr) o["reason"] = reason;
  if (!message.empty()) o["message"] = message;
  return o;
}

bool same_number(const json& a, const json& b) {
  if (!a.is_number() || !b.is_number()) return false;
  return std::fabs(a.get<double>() - b.get<double>()) < 1e-9;
}

// A rating or other number as JSON: an integer when it is one, so files read "8", not
// "8.0".
json number_json(double v) {
  const double r = std::round(v);
  if (std::fabs(v - r) < 1e-9) return static_cast<std::int64_t>(r);
  return v;
}

std::string expand_home(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0') return std::string(home) + path.substr(1);
  }
  return path;
}

}  // namespace

Config parse_config(std::string_view config_json) {
  const json cfg = parse_object(config_json, "configuration");
  Config c;
  const auto bad = [](const std::string& message) {
    fail(CW_STATUS_INVALID_ARG, "crosswatch: " + message);
  };
  for (const auto& [key, value] : cfg.items()) {
    (void)value;
    // "plugin" names this plugin in the providers table; the host may pass it through.
    if (key != "root" && key != "snapshots" && key != "rating_step" && key != "read_only" &&
        key != "plugin")
      bad("unknown configuration key \"" + key +
          "\" (expected root, snapshots, rating_step, read_only)");
  }
  const auto root = cfg.find("root");
  if (root == cfg.end()) bad("root: required; set it to the folder that holds the files");
  if (!root->is_string() || root->get<std::string>().empty())
    bad("root: expected a folder path (a non-empty string)");
  c.root = fs::path(expand_home(root->get<std::string>())).lexically_normal();
  if (const auto snaps = cfg.find("snapshots"); snaps != cfg.end()) {
    if (!snaps->is_object()) bad("snapshots: expected an object {keep, max_age_days}");
    for (const auto& [key, value] : snaps->items()) {
      if (key == "keep") {
        if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
            value.get<std::int64_t>() > 100000)
          bad("snapshots.keep: expected a whole number from 0 (keep all) to 100000");
        c.retention.keep = value.get<int>();
      } else if (key == "max_age_days") {
        if (!value.is_number() || value.get<double>() < 0)
          bad("snapshots.max_age_days: expected a number >= 0 (0 keeps snapshots forever)");
        c.retention.max_age_days = value.get<double>();
      } else {
        bad("snapshots: unknown key \"" + key + "\" (expected keep, max_age_days)");
      }
    }
  }
  if (const auto step = cfg.find("rating_step"); step != cfg.end()) {
    if (!step->is_number() || step->get<double>() <= 0 || step->get<double>() > 10)
      bad("rating_step: expected a number greater than 0 and at most 10 (for example 1 or 0.5)");
    c.rating_step = step->get<double>();
  }
  if (const auto ro = cfg.find("read_only"); ro != cfg.end()) {
    if (!ro->is_boolean()) bad("read_only: expected true or false");
    c.read_only = ro->get<bool>();
  }
  return c;
}

const char* Crosswatch::manifest() {
  return R"json({
  "name": "crosswatch",
  "version": "1.0.0",
  "display_name": "CrossWatch local tracker",
  "description": "Keeps watchlist, history, ratings and progress in JSON files in a local folder, with timestamped snapshots of every earlier version.",
  "features": {
    "watchlist": {"types": ["movie", "show", "season", "episode"], "index_semantics": "present",
                  "add": true, "remove": true, "update": false, "observes_deletes": true,
                  "provides_ids": true, "chunk_size": 5000},
    "history": {"types": ["movie", "episode"], "index_semantics": "present",
                "add": true, "remove": true, "update": false, "observes_deletes": true,
                "provides_ids": true, "chunk_size": 5000,
                "writes_watch_date": true, "rewatches": true},
    "ratings": {"types": ["movie", "show", "season", "episode"], "index_semantics": "present",
                "add": true, "remove": true, "update": true, "observes_deletes": true,
                "provides_ids": true, "chunk_size": 5000,
                "rating_scale": {"min": 0, "max": 10, "step": 1}},
    "progress": {"types": ["movie", "episode"], "index_semantics": "present",
                 "add": true, "remove": true, "update": true, "observes_deletes": true,
                 "provides_ids": true, "chunk_size": 5000}
  },
  "rate_limits": [],
  "capabilities": {"auth": "none", "scrobble": false},
  "auth_prompts": [],
  "secrets": [],
  "actions": [
    {"name": "snapshot.list", "description": "List each feature's snapshots (timestamps, item counts). Args: {\"feature\"?}"},
    {"name": "snapshot.restore", "description": "Restore a feature file from a snapshot, snapshotting the current file first. Args: {\"feature\", \"timestamp\" (or \"latest\")}"},
    {"name": "snapshot.prune", "description": "Apply snapshot retention now. Args: {\"feature\"?}"}
  ],
  "config": {
    "type": "object",
    "required": ["root"],
    "additionalProperties": false,
    "properties": {
      "root": {"type": "string", "minLength": 1, "description": "Folder holding watchlist.json, history.json, ratings.json, progress.json and snapshots/; created on first write."},
      "snapshots": {"type": "object", "additionalProperties": false, "properties": {
        "keep": {"type": "integer", "minimum": 0, "default": 10, "description": "Snapshots kept per feature; 0 keeps any number."},
        "max_age_days": {"type": "number", "minimum": 0, "default": 30, "description": "Snapshots older than this are deleted; 0 keeps them forever."}}},
      "rating_step": {"type": "number", "minimum": 0, "maximum": 10, "default": 1, "description": "Ratings are stored on 0-10 rounded to this step; greater than 0."},
      "read_only": {"type": "boolean", "default": false, "description": "Refuse every write and snapshot change."}
    }
  }
})json";
}

Crosswatch::Crosswatch(cwsdk::Host host, std::string_view config_json)
    : m_host(host),
      m_config(parse_config(config_json)),
      m_cache(std::make_unique<std::map<std::string, Loaded>>()) {}

fs::path Crosswatch::feature_path(std::string_view feature) const {
  return m_config.root / (std::string(feature) + ".json");
}

Crosswatch::Loaded* Crosswatch::cached(const std::string& feature) {
  const auto stamp = stamp_of(feature_path(feature));
  auto& cache = *m_cache;
  const auto it = cache.find(feature);
  if (it == cache.end()) return nullptr;
  const Loaded& l = it->second;
  if ((stamp && l.existed && l.stamp == *stamp) || (!stamp && !l.existed)) return &it->second;
  cache.erase(it);
  return nullptr;
}

Crosswatch::Loaded Crosswatch::read(const std::string& feature) const {
  const fs::path path = feature_path(feature);
  const auto stamp = stamp_of(path);
  FeatureDoc doc = read_feature_file(path, feature);
  Loaded loaded;
  loaded.existed = doc.existed;
  if (stamp) loaded.stamp = *stamp;
  loaded.items = std::move(doc.items);
  loaded.lines.resize(loaded.items.size());
  return loaded;
}

Crosswatch::Loaded& Crosswatch::load(const std::string& feature) {
  if (Loaded* l = cached(feature)) return *l;
  // One feature file in hand at a time: the host writes feature by feature, so the file
  // just read is the one the next writes need, while keeping every file read would hold
  // the whole library in memory for the rest of the run.
  m_cache->clear();
  return (*m_cache)[feature] = read(feature);
}

void Crosswatch::build_alias_index(Loaded& loaded) {
  if (loaded.index_built) return;
  loaded.index.clear();
  loaded.index.reserve(loaded.items.size() * 2);
  for (size_t i = 0; i < loaded.items.size(); ++i) {
    if (loaded.items[i].is_null()) continue;
    for (auto& alias : identity_aliases(loaded.items[i]))
      loaded.index[std::move(alias)].push_back(i);
  }
  loaded.index_built = true;
}

const std::string& Crosswatch::line_of(Loaded& loaded, size_t i) {
  std::string& line = loaded.lines[i];
  if (line.empty()) line = loaded.items[i].dump(-1, ' ', false, json::error_handler_t::replace);
  return line;
}

void Crosswatch::save(const std::string& feature, Loaded& loaded) {
  const bool holes = std::any_of(loaded.items.begin(), loaded.items.end(),
                                 [](const json& j) { return j.is_null(); });
  if (holes) {
    std::vector<json> kept;
    std::vector<std::string> kept_lines;
    kept.reserve(loaded.items.size());
    kept_lines.reserve(loaded.items.size());
    for (size_t i = 0; i < loaded.items.size(); ++i) {
      if (loaded.items[i].is_null()) continue;
      kept.push_back(std::move(loaded.items[i]));
      kept_lines.push_back(std::move(loaded.lines[i]));
    }
    loaded.items = std::move(kept);
    loaded.lines = std::move(kept_lines);
    loaded.index_built = false;
    loaded.index.clear();
  }
  const std::int64_t now = m_host.now_ms();
  const std::string snap = take_snapshot(m_config.root, feature, now);
  const fs::path path = feature_path(feature);
  std::vector<std::string_view> lines;
  lines.reserve(loaded.items.size());
  for (size_t i = 0; i < loaded.items.size(); ++i) lines.push_back(line_of(loaded, i));
  write_file_atomic(path, serialise_lines(feature, lines, now));
  const auto stamp = stamp_of(path);
  if (stamp) loaded.stamp = *stamp;
  loaded.existed = stamp.has_value();
  const auto pruned = prune_snapshots(m_config.root, feature, m_config.retention, now);
  m_host.debug("crosswatch: wrote " + path.string() + " (" + std::to_string(loaded.items.size()) +
               " items); previous version in snapshot " + snap + "; pruned " +
               std::to_string(pruned.size()) + " old snapshots");
}

cwsdk::Reply Crosswatch::health(std::string_view) {
  std::string status = "ok";
  std::string message;
  std::error_code ec;
  const fs::path& root = m_config.root;
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) {
      status = "down";
      message = "root " + root.string() + " is not a folder; point root at a folder";
    } else if (!m_config.read_only && ::access(root.c_str(), W_OK) != 0) {
      status = "degraded";
      message = "root " + root.string() + " is not writable; writes will fail";
    } else {
      message = "root " + root.string() + (m_config.read_only ? " (read only)" : "");
    }
  } else {
    fs::path parent = fs::absolute(root, ec).parent_path();
    while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.root_path())
      parent = parent.parent_path();
    if (!m_config.read_only && ::access(parent.c_str(), W_OK) != 0) {
      status = "degraded";
      message = "root " + root.string() + " does not exist and " + parent.string() +
                " is not writable; create the folder";
    } else {
      message = "root " + root.string() + " does not exist yet; it is created on first write";
    }
  }
  json features = json::object();
  for (const auto f : k_features) features[std::string(f)] = true;
  return cwsdk::Reply::ok(
      json{{"status", status}, {"message", message}, {"features", features}}.dump());
}

cwsdk::Reply Crosswatch::build_index(std::string_view request) {
  const json req = parse_object(request, "build_index request");
  const std::string feature = checked_feature(req, "build_index");
  // A read keeps nothing (only writes fill the cache): the host holds the items while it
  // plans, and a no-change run writes nothing, so holding them here too would only double
  // the memory of the run.
  Loaded* held = cached(feature);
  std::string out = "{\"items\":[";
  size_t n = 0;
  if (held != nullptr) {
    // Built as text: a 100k-item index would otherwise be copied into one more json tree.
    for (size_t i = 0; i < held->items.size(); ++i) {
      if (held->items[i].is_null()) continue;
      if (n++ > 0) out += ',';
      out += line_of(*held, i);
    }
  } else if (auto items = read_items_text(feature_path(feature), feature)) {
    // The file's items re-written as they are parsed, without a tree of them.
    out += items->text;
    n = items->count;
  } else {
    // Not a sound file: the checked read throws the error that names what is wrong.
    Loaded checked = read(feature);
    for (const auto& item : checked.items) {
      if (n++ > 0) out += ',';
      out += item.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  out += "],\"complete\":true,\"expected_total\":" + std::to_string(n) +
         ",\"received\":" + std::to_string(n) + ",\"watermark\":null,\"semantics\":\"present\"}";
  return cwsdk::Reply::ok(std::move(out));
}

cwsdk::Reply Crosswatch::add(std::string_view request) { return write(request, Op::add); }
cwsdk::Reply Crosswatch::remove(std::string_view request) { return write(request, Op::remove); }
cwsdk::Reply Crosswatch::update(std::string_view request) { return write(request, Op::update); }

cwsdk::Reply Crosswatch::write(std::string_view request, Op op) {
  const char* op_name = op == Op::add ? "add" : op == Op::remove ? "remove" : "update";
  const json req = parse_object(request, "write request");
  const std::string feature = checked_feature(req, op_name);
  if (op == Op::update && (feature == "watchlist" || feature == "history"))
    fail(CW_STATUS_UNSUPPORTED,
         "crosswatch: update is not supported for " + feature + " (only ratings and progress)");
  if (m_config.read_only)
    fail(CW_STATUS_UNSUPPORTED, "crosswatch: instance with root " + m_config.root.string() +
                                    " is read_only; set read_only: false to allow writes");
  const auto items_it = req.find("items");
  if (items_it == req.end() || !items_it->is_array())
    fail(CW_STATUS_INVALID_ARG,
         "crosswatch: " + std::string(op_name) + ": \"items\" is missing or not a list");

  const std::lock_guard guard(write_mutex());
  Loaded& loaded = load(feature);
  build_alias_index(loaded);
  bool changed = false;
  json outcomes = json::array();
  const std::int64_t now = m_host.now_ms();

  try {
    size_t position = 0;
    for (const auto& item : *items_it) {
      const size_t at = position++;
      if (!item.is_object()) {
        outcomes.push_back(outcome("#" + std::to_string(at), "unresolved", "rejected",
                                   "item is not a JSON object"));
        continue;
      }
      const auto key_it = item.find("key");
      const auto type_it = item.find("type");
      const std::string type =
          type_it != item.end() && type_it->is_string() ? type_it->get<std::string>() : "";
      if (!type_allowed(feature, type)) {
        const std::string shown = key_it != item.end() && key_it->is_string()
                                      ? key_it->get<std::string>()
                                      : "#" + std::to_string(at);
        outcomes.push_back(outcome(shown, "unresolved", "rejected",
                                   "type \"" + type + "\" is not kept in " + feature));
        continue;
      }
      const std::vector<std::string> aliases = identity_aliases(item);
      const std::string key = key_it != item.end() && key_it->is_string()
                                  ? key_it->get<std::string>()
                                  : aliases.front();

      std::vector<size_t> matches;
      for (const auto& alias : aliases) {
        const auto hit = loaded.index.find(alias);
        if (hit == loaded.index.end()) continue;
        for (size_t i : hit->second)
          if (!loaded.items[i].is_null() &&
              std::find(matches.begin(), matches.end(), i) == matches.end())
            matches.push_back(i);
      }
      std::sort(matches.begin(), matches.end());

      const auto append = [&](json stored) {
        stored.erase("key");
        stored.erase("extra");
        const size_t index = loaded.items.size();
        for (auto& alias : identity_aliases(stored))
          loaded.index[std::move(alias)].push_back(index);
        loaded.items.push_back(std::move(stored));
        loaded.lines.emplace_back();
        changed = true;
      };
      const auto erase_all = [&](const std::vector<size_t>& which) {
        for (size_t i : which) {
          loaded.items[i] = nullptr;
          loaded.lines[i].clear();
        }
        changed = changed || !which.empty();
      };

      if (feature == "history") {
        const std::string when = instant_key(item, "watched_at");
        if (op == Op::add && when.empty()) {
          outcomes.push_back(outcome(key, "unresolved", "rejected",
                                     "history add needs watched_at (ISO 8601, UTC)"));
          continue;
        }
        std::vector<size_t> plays;
        for (size_t i : matches)
          if (when.empty() || instant_key(loaded.items[i], "watched_at") == when)
            plays.push_back(i);
        if (op == Op::add) {
          if (!plays.empty()) {
            outcomes.push_back(outcome(key, "skipped", nullptr, "this play is already recorded"));
          } else {
            append(item);
            outcomes.push_back(outcome(key, "confirmed"));
          }
        } else {
          if (plays.empty()) {
            outcomes.push_back(outcome(key, "skipped", nullptr, "no such play"));
          } else {
            erase_all(plays);
            outcomes.push_back(outcome(key, "confirmed"));
          }
        }
        continue;
      }

      if (op == Op::remove) {
        if (matches.empty()) {
          outcomes.push_back(outcome(key, "skipped", nullptr, "already absent"));
        } else {
          erase_all(matches);
          outcomes.push_back(outcome(key, "confirmed"));
        }
        continue;
      }

      if (feature == "watchlist") {
        if (!matches.empty()) {
          for (size_t i : matches) {
            if (!merge_ids(loaded.items[i], item)) continue;
            loaded.lines[i].clear();
            changed = true;
          }
          outcomes.push_back(outcome(key, "skipped", nullptr, "already on the watchlist"));
        } else {
          append(item);
          outcomes.push_back(outcome(key, "confirmed"));
        }
        continue;
      }

      // ratings and progress: a value that is added, or replaced when it differs.
      json incoming = item;
      const char* field = feature == "ratings" ? "rating" : "progress_ms";
      const char* at_field = feature == "ratings" ? "rated_at" : "progress_at";
      const auto value = item.find(field);
      if (feature == "ratings") {
        if (value == item.end() || !value->is_number() || value->get<double>() < 0 ||
            value->get<double>() > 10) {
          outcomes.push_back(
              outcome(key, "unresolved", "rejected", "rating must be a number from 0 to 10"));
          continue;
        }
        const double step = m_config.rating_step;
        incoming["rating"] =
            number_json(std::min(10.0, std::round(value->get<double>() / step) * step));
      } else {
        if (value == item.end() || !value->is_number_integer() || value->get<std::int64_t>() < 0) {
          outcomes.push_back(outcome(key, "unresolved", "rejected",
                                     "progress_ms must be a whole number of milliseconds >= 0"));
          continue;
        }
      }
      if (!incoming.contains(at_field) || !incoming[at_field].is_string())
        incoming[at_field] = iso_utc(now);

      if (matches.empty()) {
        if (op == Op::update) {
          outcomes.push_back(
              outcome(key, "unresolved", "not_found", "not in " + feature + "; send it as an add"));
        } else {
          append(std::move(incoming));
          outcomes.push_back(outcome(key, "confirmed"));
        }
        continue;
      }
      bool differs = false;
      for (size_t i : matches) {
        const json& stored = loaded.items[i];
        differs = differs || !stored.contains(field) ||
                  !same_number(stored[field], incoming[field]) ||
                  (feature == "progress" && incoming.contains("duration_ms") &&
                   stored.value("duration_ms", json()) != incoming["duration_ms"]);
      }
      if (!differs) {
        outcomes.push_back(outcome(key, "skipped", nullptr, "already has this value"));
        continue;
      }
      for (size_t i : matches) {
        json& stored = loaded.items[i];
        loaded.lines[i].clear();
        stored[field] = incoming[field];
        stored[at_field] = incoming[at_field];
        if (feature == "progress" && incoming.contains("duration_ms"))
          stored["duration_ms"] = incoming["duration_ms"];
        merge_ids(stored, incoming);
      }
      changed = true;
      outcomes.push_back(outcome(key, "confirmed"));
    }

    if (changed) save(feature, loaded);
  } catch (...) {
    // The in-memory copy may hold changes that never reached the disk.
    m_cache->erase(feature);
    throw;
  }
  return cwsdk::Reply::ok(json{{"outcomes", std::move(outcomes)}}.dump());
}

cwsdk::Reply Crosswatch::action(std::string_view request) {
  const json req = parse_object(request, "action request");
  const std::string name = req.value("action", std::string());
  json args = req.contains("args") && !req["args"].is_null() ? req["args"] : json::object();
  if (!args.is_object()) fail(CW_STATUS_INVALID_ARG, "crosswatch: args must be a JSON object");
  if (name == "snapshot.list") return cwsdk::Reply::ok(snapshot_list(args).dump());
  if (name == "snapshot.restore") return cwsdk::Reply::ok(snapshot_restore(args).dump());
  if (name == "snapshot.prune") return cwsdk::Reply::ok(snapshot_prune(args).dump());
  fail(CW_STATUS_UNSUPPORTED, "crosswatch: unknown action \"" + name +
                                  "\" (expected snapshot.list, snapshot.restore, snapshot.prune)");
}

namespace {
std::vector<std::string> features_of(const json& args) {
  if (!args.contains("feature")) return {k_features.begin(), k_features.end()};
  return {checked_feature(args, "args")};
}
}  // namespace

json Crosswatch::snapshot_list(const json& args) {
  json features = json::object();
  for (const auto& feature : features_of(args)) {
    json entry = json::object();
    try {
      const Loaded& loaded = load(feature);
      entry["current_items"] = std::count_if(loaded.items.begin(), loaded.items.end(),
                                             [](const json& j) { return !j.is_null(); });
    } catch (const cwsdk::Error& e) {
      entry["current_items"] = nullptr;
      entry["current_error"] = e.what();
    }
    json snaps = json::array();
    for (const auto& s : list_snapshots(m_config.root, feature)) {
      json row = {
          {"timestamp", s.timestamp}, {"taken_at", iso_utc(s.taken_ms)}, {"bytes", s.bytes}};
      try {
        row["items"] = read_feature_file(s.path, feature).items.size();
      } catch (const cwsdk::Error& e) {
        row["items"] = nullptr;
        row["error"] = e.what();
      }
      snaps.push_back(std::move(row));
    }
    entry["snapshots"] = std::move(snaps);
    features[feature] = std::move(entry);
  }
  return json{{"root", m_config.root.string()}, {"features", std::move(features)}};
}

json Crosswatch::snapshot_restore(const json& args) {
  if (!args.contains("feature") || !args.contains("timestamp") || !args["timestamp"].is_string())
    fail(CW_STATUS_INVALID_ARG,
         "crosswatch: snapshot.restore needs args {\"feature\": ..., \"timestamp\": ...} "
         "(timestamps from snapshot.list, or \"latest\")");
  const std::string feature = checked_feature(args, "args");
  if (m_config.read_only)
    fail(CW_STATUS_UNSUPPORTED,
         "crosswatch: instance is read_only; set read_only: false to restore");
  const std::lock_guard guard(write_mutex());
  const std::string wanted = args["timestamp"].get<std::string>();
  const auto snaps = list_snapshots(m_config.root, feature);
  const SnapshotInfo* chosen = nullptr;
  if (wanted == "latest") {
    if (!snaps.empty()) chosen = &snaps.back();
  } else {
    for (const auto& s : snaps)
      if (s.timestamp == wanted) chosen = &s;
  }
  if (chosen == nullptr)
    fail(CW_STATUS_NOT_FOUND, "crosswatch: no snapshot \"" + wanted + "\" of " + feature + " in " +
                                  (m_config.root / "snapshots" / feature).string() +
                                  "; list them with snapshot.list");
  const SnapshotInfo source = *chosen;
  // A damaged snapshot must not replace the live file.
  const size_t count = read_feature_file(source.path, feature).items.size();
  const std::int64_t now = m_host.now_ms();
  m_cache->erase(feature);
  const std::string previous = take_snapshot(m_config.root, feature, now);
  copy_file_atomic(source.path, feature_path(feature));
  const auto pruned = prune_snapshots(m_config.root, feature, m_config.retention, now);
  m_host.info("crosswatch: restored " + feature_path(feature).string() + " from snapshot " +
              source.timestamp + " (" + std::to_string(count) + " items); previous version in " +
              previous);
  return json{{"feature", feature},
              {"restored", source.timestamp},
              {"items", count},
              {"previous_snapshot", previous},
              {"pruned", pruned}};
}

json Crosswatch::snapshot_prune(const json& args) {
  if (m_config.read_only)
    fail(CW_STATUS_UNSUPPORTED, "crosswatch: instance is read_only; set read_only: false to prune");
  const std::lock_guard guard(write_mutex());
  json removed = json::object();
  const std::int64_t now = m_host.now_ms();
  for (const auto& feature : features_of(args))
    removed[feature] = prune_snapshots(m_config.root, feature, m_config.retention, now);
  return json{{"removed", std::move(removed)},
              {"keep", m_config.retention.keep},
              {"max_age_days", m_config.retention.max_age_days}};
}

}  // namespace cw::crosswatch
