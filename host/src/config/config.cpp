#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include <cw/config/config.hpp>
#include <cw/config/config_schema.hpp>
#include <cw/engine/identity.hpp>
#include <cw/engine/time.hpp>
#include <cw/util/cron.hpp>
#include <cw/util/json_schema.hpp>
#include <cw/util/strings.hpp>

namespace cw::config {

using engine::Feature;
using engine::PairMode;
using engine::RemovalMode;

std::string SourcePos::to_string() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string ConfigError::to_string() const {
  std::string out = pos.to_string() + ": ";
  if (!path.empty()) out += path + ": ";
  // One line whatever the file held: keys, values and the YAML parser's own messages
  // quote the text they found, line breaks and control bytes included.
  return util::one_line(out + message, 2000);
}

const ProviderConfig* Config::provider(const std::string& name) const {
  for (const auto& p : providers)
    if (p.name == name) return &p;
  return nullptr;
}

config::HttpOptions Config::http_options() const {
  config::HttpOptions out = http;
  for (const auto& p : providers)
    if (p.http) out.instances[p.name] = *p.http;
  return out;
}

const PairConfig* Config::pair(const std::string& name) const {
  for (const auto& p : pairs)
    if (p.policy.name == name) return &p;
  return nullptr;
}

const char* to_string(Feature feature) {
  switch (feature) {
    case Feature::watchlist:
      return "watchlist";
    case Feature::history:
      return "history";
    case Feature::ratings:
      return "ratings";
    case Feature::progress:
      return "progress";
  }
  return "?";
}

std::optional<Feature> feature_from_string(const std::string& name) {
  for (Feature f : {Feature::watchlist, Feature::history, Feature::ratings, Feature::progress})
    if (name == to_string(f)) return f;
  return std::nullopt;
}

const char* to_string(PairMode mode) { return mode == PairMode::one_way ? "one-way" : "two-way"; }

const char* to_string(RemovalMode mode) {
  return mode == RemovalMode::source_deletes ? "source_deletes" : "mirror";
}

// ---------------------------------------------------------------------------------------
// Durations, sizes and paths

std::optional<std::int64_t> parse_size(const std::string& text_in) {
  const std::string text(util::trim(text_in));
  std::size_t j = 0;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  if (j == 0 || j > 12) return std::nullopt;  // 12 digits keep n << 30 far from overflowing
  const std::int64_t n = std::stoll(text.substr(0, j));
  const std::string unit(util::trim(text.substr(j)));
  if (unit.empty() || unit == "B") return n;
  if (unit == "KiB") return n << 10;
  if (unit == "MiB") return n << 20;
  if (unit == "GiB") return n << 30;
  return std::nullopt;
}

std::optional<std::int64_t> parse_duration(const std::string& text_in) {
  const std::string text(util::trim(text_in));
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  bool any_unit = false;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i) return std::nullopt;
    if (j - i > 12) return std::nullopt;  // keeps the sum far from overflowing
    const std::int64_t n = std::stoll(text.substr(i, j - i));
    if (j == text.size()) {
      if (any_unit) return std::nullopt;  // "1h30" is ambiguous
      return n;
    }
    std::int64_t unit = 0;
    switch (text[j]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = engine::k_day_s;
        break;
      case 'w':
        unit = 7 * engine::k_day_s;
        break;
      default:
        return std::nullopt;
    }
    total += n * unit;
    any_unit = true;
    i = j + 1;
  }
  return total;
}

std::string format_duration(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  struct Unit {
    std::int64_t size;
    char name;
  };
  // Days are the largest unit: "30d" reads better than "4w2d".
  static constexpr Unit k_units[] = {{engine::k_day_s, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  std::string out;
  std::int64_t rest = seconds < 0 ? -seconds : seconds;
  for (const auto& u : k_units) {
    if (rest >= u.size) {
      out += std::to_string(rest / u.size) + u.name;
      rest %= u.size;
    }
  }
  return seconds < 0 ? "-" + out : out;
}

std::filesystem::path default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
    return std::filesystem::path(xdg) / "cw";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".local" / "state" /
         "cw";
}

std::filesystem::path resolve_path(const std::string& path, const std::filesystem::path& base_dir) {
  std::filesystem::path p;
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    p = std::filesystem::path(home != nullptr ? home : "") /
        (path.size() > 2 ? path.substr(2) : "");
  } else {
    p = path;
  }
  if (p.is_relative()) p = base_dir / p;
  return p.lexically_normal();
}

// ---------------------------------------------------------------------------------------
// Provider settings

std::string ProviderConfig::where(const std::string& json_pointer) const {
  auto it = positions.find(json_pointer);
  std::string key = "providers." + name;
  // "/a/0/b" -> ".a[0].b"
  std::size_t i = 0;
  while (i < json_pointer.size()) {
    std::size_t j = json_pointer.find('/', i + 1);
    std::string part = json_pointer.substr(i + 1, j == std::string::npos ? j : j - i - 1);
    const bool index = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
    key += index ? "[" + part + "]" : "." + part;
    if (j == std::string::npos) break;
    i = j;
  }
  return (it != positions.end() ? it->second : pos).to_string() + ": " + key;
}

void ProviderConfig::mark_secret_keys(const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    if (secrets.count(key) != 0) continue;
    nlohmann::json* node = &settings;
    std::string pointer;
    for (const auto& part : util::split(key, '.')) {
      if (!node->is_object() || !node->contains(part)) {
        node = nullptr;
        break;
      }
      node = &(*node)[part];
      pointer += "/" + part;
    }
    if (node == nullptr || !node->is_string() || *node == k_secret_placeholder) continue;
    SecretRef ref;
    ref.kind = SecretRef::Kind::literal;
    ref.ref = node->get<std::string>();
    if (auto it = positions.find(pointer); it != positions.end()) ref.pos = it->second;
    secrets[key] = std::move(ref);
    *node = k_secret_placeholder;
  }
}

namespace {

// ---------------------------------------------------------------------------------------
// The checker: walks the YAML tree, collects errors, never throws.

class Checker {
 public:
  Checker(std::string file, std::filesystem::path base_dir)
      : m_file(std::move(file)), m_base_dir(std::move(base_dir)) {}

  std::vector<ConfigError>& errors() { return m_errors; }

  SourcePos pos(const YAML::Node& n) const {
    SourcePos p;
    p.file = m_file;
    if (n.IsDefined() && n.Mark().line >= 0 && !n.Mark().is_null()) {
      p.line = n.Mark().line + 1;
      p.column = n.Mark().column + 1;
    }
    return p;
  }

  void error(const SourcePos& p, std::string path, std::string message) {
    m_errors.push_back(ConfigError{p, std::move(path), std::move(message)});
  }
  void error(const YAML::Node& n, std::string path, std::string message) {
    error(pos(n), std::move(path), std::move(message));
  }

  static std::string describe(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    return "\"" + util::one_line(n.Scalar(), 200) + "\"";
  }

  // One entry of a mapping, with the key's node kept for positions.
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    SourcePos value_pos;  // the value's position, or the key's for an empty value
  };

  // The entries of a mapping in file order. Reports non-scalar and duplicate keys, and
  // keys outside `allowed` (unless allowed is empty) with a "did you mean" hint.
  std::vector<Entry> entries(const YAML::Node& map, const std::string& path,
                             const std::vector<std::string>& allowed) {
    std::vector<Entry> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      const std::string child = path.empty() ? std::string() : path + ".";
      if (!key.IsScalar()) {
        error(key, path, "expected a plain key, got " + describe(key));
        continue;
      }
      const std::string name = key.Scalar();
      if (!seen.insert(name).second) {
        error(key, child + name, "duplicate key; each key may appear once in a mapping");
        continue;
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        error(
            key, child + name,
            "unknown key" + hint(name, allowed) + "; expected one of " + util::join(allowed, ", "));
        continue;
      }
      Entry e{name, key, it->second, pos(it->second)};
      if (e.value_pos.line == 0) e.value_pos = pos(key);
      out.push_back(std::move(e));
    }
    return out;
  }

  static std::string hint(const std::string& name, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::numeric_limits<std::size_t>::max();
    for (const auto& c : candidates) {
      const std::size_t d = util::levenshtein(util::to_lower(name), c);
      if (d < best_d) {
        best_d = d;
        best = c;
      }
    }
    // A suggestion must keep most of what was typed: "b" is not a typo of "a".
    if (best.empty() || best_d > 2 || best_d * 2 >= name.size()) return "";
    return " (did you mean \"" + best + "\"?)";
  }

  bool expect_map(const Entry& e, const std::string& path) {
    if (e.value.IsMap()) return true;
    error(e.value_pos, path, "expected a mapping, got " + describe(e.value));
    return false;
  }

  std::optional<std::string> string_value(const Entry& e, const std::string& path) {
    if (e.value.IsScalar() && !e.value.Scalar().empty()) return e.value.Scalar();
    error(e.value_pos, path, "expected a string, got " + describe(e.value));
    return std::nullopt;
  }

  std::optional<bool> bool_value(const Entry& e, const std::string& path) {
    if (e.value.IsScalar()) {
      const std::string s = e.value.Scalar();
      if (e.value.Tag() != "!") {
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
      }
    }
    error(e.value_pos, path, "expected true or false, got " + describe(e.value));
    return std::nullopt;
  }

  std::optional<double> number_value(const Entry& e, const std::string& path, double min,
                                     double max) {
    if (e.value.IsScalar() && e.value.Tag() != "!") {
      const std::string s = e.value.Scalar();
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(v)) {
        if (v >= min && v <= max) return v;
        std::ostringstream msg;
        msg << "expected a number from " << min << " to " << max << ", got " << s;
        error(e.value_pos, path, msg.str());
        return std::nullopt;
      }
    }
    error(e.value_pos, path, "expected a number, got " + describe(e.value));
    return std::nullopt;
  }

  std::optional<std::int64_t> int_value(const Entry& e, const std::string& path, std::int64_t min,
                                        std::int64_t max) {
    if (e.value.IsScalar() && e.value.Tag() != "!") {
      static const std::regex k_int("[-+]?[0-9]{1,15}");
      const std::string s = e.value.Scalar();
      if (std::regex_match(s, k_int)) {
        const std::int64_t v = std::stoll(s);
        if (v >= min && v <= max) return v;
        error(e.value_pos, path,
              "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", got " + s);
        return std::nullopt;
      }
    }
    error(e.value_pos, path, "expected a whole number, got " + describe(e.value));
    return std::nullopt;
  }

  std::optional<std::int64_t> duration_value(const Entry& e, const std::string& path) {
    if (e.value.IsScalar()) {
      if (auto d = parse_duration(e.value.Scalar())) return d;
    }
    error(e.value_pos, path,
          "expected a duration such as 30d, 12h, 90s or a number of seconds, got " +
              describe(e.value));
    return std::nullopt;
  }

  std::optional<std::string> choice_value(const Entry& e, const std::string& path,
                                          const std::vector<std::string>& choices) {
    if (e.value.IsScalar()) {
      const std::string s = e.value.Scalar();
      if (std::find(choices.begin(), choices.end(), s) != choices.end()) return s;
    }
    error(e.value_pos, path,
          "expected one of " + util::join(choices, ", ") + ", got " + describe(e.value) +
              (e.value.IsScalar() ? hint(e.value.Scalar(), choices) : ""));
    return std::nullopt;
  }

  // ---- provider settings: YAML to JSON, secrets lifted out ------------------------------

  nlohmann::json to_json(const YAML::Node& n, const SourcePos& p, const std::string& dotted,
                         const std::string& pointer, ProviderConfig& provider) {
    provider.positions[pointer] = p;
    if (!n.IsDefined() || n.IsNull()) return nullptr;
    if (n.IsMap()) {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& e : entries(n, "providers." + provider.name + dotted_path(dotted), {})) {
        obj[e.key] = to_json(e.value, e.value_pos, dotted.empty() ? e.key : dotted + "." + e.key,
                             pointer + "/" + escape_pointer(e.key), provider);
      }
      return obj;
    }
    if (n.IsSequence()) {
      nlohmann::json arr = nlohmann::json::array();
      std::size_t i = 0;
      for (const auto& child : n) {
        SourcePos cp = pos(child);
        if (cp.line == 0) cp = p;
        arr.push_back(to_json(child, cp, dotted + "[" + std::to_string(i) + "]",
                              pointer + "/" + std::to_string(i), provider));
        ++i;
      }
      return arr;
    }
    const std::string& s = n.Scalar();
    if (s.find("${") != std::string::npos) {
      return secret(s, p, dotted, provider);
    }
    if (n.Tag() == "!") return s;
    return typed_scalar(s);
  }

  static std::string dotted_path(const std::string& dotted) {
    return dotted.empty() ? std::string() : "." + dotted;
  }

  static std::string escape_pointer(const std::string& key) {
    std::string out;
    for (char c : key) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }

  nlohmann::json secret(const std::string& s, const SourcePos& p, const std::string& dotted,
                        ProviderConfig& provider) {
    static const std::regex k_ref(R"(\$\{(env|file):([^}]+)\})");
    const std::string path = "providers." + provider.name + dotted_path(dotted);
    std::smatch m;
    if (!std::regex_match(s, m, k_ref)) {
      error(p, path,
            "expected the whole value to be ${env:NAME} or ${file:PATH}, got \"" + redact_hint(s) +
                "\"");
      return nullptr;
    }
    SecretRef ref;
    ref.pos = p;
    if (m[1] == "env") {
      static const std::regex k_env("[A-Za-z_][A-Za-z0-9_]*");
      ref.kind = SecretRef::Kind::env;
      ref.ref = m[2];
      if (!std::regex_match(ref.ref, k_env)) {
        error(p, path,
              "expected an environment variable name in ${env:NAME}, got \"" + ref.ref + "\"");
        return nullptr;
      }
    } else {
      ref.kind = SecretRef::Kind::file;
      ref.ref = resolve_path(std::string(util::trim(m[2].str())), m_base_dir).string();
    }
    provider.secrets[dotted] = std::move(ref);
    return k_secret_placeholder;
  }

  // Shows the shape of a malformed reference without the text around it, which may be a
  // pasted secret.
  static std::string redact_hint(const std::string& s) {
    const auto start = s.find("${");
    const auto end = s.find('}', start);
    if (end == std::string::npos) return "...${...";
    return (start > 0 ? "..." : "") + s.substr(start, end - start + 1) +
           (end + 1 < s.size() ? "..." : "");
  }

  // YAML 1.2 core schema for plain scalars.
  static nlohmann::json typed_scalar(const std::string& s) {
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    static const std::regex k_int("[-+]?[0-9]+");
    static const std::regex k_float(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
    if (std::regex_match(s, k_int)) {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (errno == 0) return v;
      return s;  // too large for an integer: keep the digits
    }
    if (std::regex_match(s, k_float)) return std::strtod(s.c_str(), nullptr);
    if (s.rfind("0x", 0) == 0 && s.size() > 2 &&
        s.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos)
      return std::strtoll(s.c_str() + 2, nullptr, 16);
    return s;
  }

  // YAML to JSON for blocks whose semantics a service parser owns (`http:`). Records, per
  // dotted key path ("http.rate_limits[0].requests"), where each value is and how it was
  // written, so that parser's "path: expected ..." errors get a file position.
  struct Spot {
    SourcePos pos;
    std::string shown;
  };
  nlohmann::json plain_json(const YAML::Node& n, const SourcePos& p, const std::string& path,
                            std::map<std::string, Spot>& spots) {
    spots[path] = Spot{p, describe(n)};
    if (!n.IsDefined() || n.IsNull()) return nullptr;
    if (n.IsMap()) {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& e : entries(n, path, {}))
        obj[e.key] = plain_json(e.value, e.value_pos, path + "." + e.key, spots);
      return obj;
    }
    if (n.IsSequence()) {
      nlohmann::json arr = nlohmann::json::array();
      std::size_t i = 0;
      for (const auto& child : n) {
        SourcePos cp = pos(child);
        if (cp.line == 0) cp = p;
        arr.push_back(plain_json(child, cp, path + "[" + std::to_string(i++) + "]", spots));
      }
      return arr;
    }
    if (n.Tag() == "!") return n.Scalar();
    return typed_scalar(n.Scalar());
  }

  // The whole file as JSON for the schema (docs/cw.schema.json), with where each JSON
  // pointer's value and key were written. Plain scalars are typed as YAML 1.2's core schema
  // types them, quoted ones stay strings; secret references stay as written.
  struct NodeSpot {
    SourcePos value;
    SourcePos key;  // the key's position for a member, else the value's
  };
  nlohmann::json document(const YAML::Node& n, const NodeSpot& spot, const std::string& pointer,
                          std::map<std::string, NodeSpot>& spots) const {
    spots[pointer] = spot;
    if (!n.IsDefined() || n.IsNull()) return nullptr;
    if (n.IsMap()) {
      nlohmann::json obj = nlohmann::json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!it->first.IsScalar()) continue;  // reported by entries()
        const std::string& key = it->first.Scalar();
        if (obj.contains(key)) continue;  // a duplicate: reported by entries(), the first counts
        NodeSpot child{pos(it->second), pos(it->first)};
        if (child.value.line == 0) child.value = child.key;
        obj[key] = document(it->second, child, pointer + "/" + escape_pointer(key), spots);
      }
      return obj;
    }
    if (n.IsSequence()) {
      nlohmann::json arr = nlohmann::json::array();
      std::size_t i = 0;
      for (const auto& el : n) {
        NodeSpot child{pos(el), pos(el)};
        if (child.value.line == 0) child = NodeSpot{spot.value, spot.value};
        arr.push_back(document(el, child, pointer + "/" + std::to_string(i++), spots));
      }
      return arr;
    }
    if (n.Tag() == "!") return n.Scalar();
    return typed_scalar(n.Scalar());
  }

  const std::filesystem::path& base_dir() const { return m_base_dir; }

 private:
  std::string m_file;
  std::filesystem::path m_base_dir;
  std::vector<ConfigError> m_errors;
};

// The `sync` block, global or per pair: every value optional, merged later.
struct SyncSpec {
  std::optional<bool> dry_run;
  std::optional<bool> drop_guard;
  std::optional<double> drop_guard_ratio;
  std::optional<std::int64_t> drop_guard_min_baseline;
  std::optional<double> mass_delete_max_ratio;
  std::optional<std::int64_t> mass_delete_max_count;
  std::optional<std::int64_t> blackbox_failures;
  std::optional<std::int64_t> blackbox_ttl_s;
  std::optional<std::int64_t> tombstone_ttl_s;
  std::optional<std::int64_t> pending_ttl_s;
  std::optional<RemovalMode> removal;
  std::optional<bool> include_observed_deletes;
  std::optional<std::int64_t> year_tolerance;  // matching.year_tolerance (R1.4)
  std::optional<bool> propagate_rated_at;

  void apply_to(engine::GuardPolicy& g) const {
    if (drop_guard) g.drop_guard = *drop_guard;
    if (drop_guard_ratio) g.drop_guard_ratio = *drop_guard_ratio;
    if (drop_guard_min_baseline)
      g.drop_guard_min_baseline = static_cast<std::size_t>(*drop_guard_min_baseline);
    if (mass_delete_max_ratio) g.mass_delete_max_ratio = *mass_delete_max_ratio;
    if (mass_delete_max_count)
      g.mass_delete_max_count = static_cast<std::size_t>(*mass_delete_max_count);
    if (blackbox_failures) g.blackbox_failures = static_cast<int>(*blackbox_failures);
    if (blackbox_ttl_s) g.blackbox_ttl_s = *blackbox_ttl_s;
    if (tombstone_ttl_s) g.tombstone_ttl_s = *tombstone_ttl_s;
    if (pending_ttl_s) g.pending_ttl_s = *pending_ttl_s;
  }
  void override_with(const SyncSpec& o) {
    auto take = [](auto& mine, const auto& theirs) {
      if (theirs) mine = theirs;
    };
    take(dry_run, o.dry_run);
    take(drop_guard, o.drop_guard);
    take(drop_guard_ratio, o.drop_guard_ratio);
    take(drop_guard_min_baseline, o.drop_guard_min_baseline);
    take(mass_delete_max_ratio, o.mass_delete_max_ratio);
    take(mass_delete_max_count, o.mass_delete_max_count);
    take(blackbox_failures, o.blackbox_failures);
    take(blackbox_ttl_s, o.blackbox_ttl_s);
    take(tombstone_ttl_s, o.tombstone_ttl_s);
    take(pending_ttl_s, o.pending_ttl_s);
    take(removal, o.removal);
    take(include_observed_deletes, o.include_observed_deletes);
    take(year_tolerance, o.year_tolerance);
    take(propagate_rated_at, o.propagate_rated_at);
  }
};

const std::vector<std::string> k_top_keys = {"version",     "state_dir", "providers",
                                             "pairs",       "sync",      "http",
                                             "id_resolver", "plugins",   "scrobble"};
const std::vector<std::string> k_scrobble_keys = {
    "sinks",        "threshold", "users",   "libraries", "remove_from_watchlist",
    "replay_after", "webhooks",  "watchers"};
const std::vector<std::string> k_plugins_keys = {"isolation", "in_process",   "timeout",
                                                 "timeouts",  "cancel_grace", "restarts",
                                                 "max_reply", "max_field",    "max_extra"};
const std::vector<std::string> k_sync_keys = {
    "dry_run",       "drop_guard",        "mass_delete", "blackbox",
    "tombstone_ttl", "pending_ttl",       "removal",     "include_observed_deletes",
    "matching",      "propagate_rated_at"};
const std::vector<std::string> k_pair_keys = {"name",    "source",   "target",          "mode",
                                              "enabled", "features", "source_of_truth", "sync",
                                              "schedule"};
const std::vector<std::string> k_feature_names = {"watchlist", "history", "ratings", "progress"};
const std::vector<std::string> k_feature_keys = {
    "enabled",   "add",       "remove", "update",    "removal",    "include_observed_deletes",
    "rewatches", "tolerance", "types",  "from_date", "min_rating", "exclude"};
const std::vector<std::string> k_scope_types = {"movies", "shows", "seasons", "episodes"};
const std::int64_t k_max_ttl_s = 10LL * 365 * engine::k_day_s;

// The keys config::parse_http_options / config::parse_instance_http_options accept (docs/http.md):
// checked here first so that unknown keys get this file's "did you mean" hint and position.
const std::vector<std::string> k_http_keys = {
    "connect_timeout_ms", "timeout_ms", "max_attempts", "backoff_base_ms", "backoff_max_ms",
    "max_wait_ms",        "proxy",      "ca_file",      "ca_path",         "verify_tls",
    "reuse_connections",  "http2",      "user_agent",   "max_body_bytes"};
const std::vector<std::string> k_instance_http_keys = {"connect_timeout_ms",
                                                       "timeout_ms",
                                                       "max_attempts",
                                                       "proxy",
                                                       "ca_file",
                                                       "ca_path",
                                                       "verify_tls",
                                                       "max_wait_ms",
                                                       "rate_limits",
                                                       "max_requests_per_run"};
const std::vector<std::string> k_rate_limit_keys = {"name", "methods", "endpoints", "requests",
                                                    "per_seconds"};

// Checks the keys of an `http:` block (global or an instance's); false when it reported.
bool check_http_keys(Checker& c, const Checker::Entry& e, const std::string& path, bool instance) {
  const std::size_t before = c.errors().size();
  if (!c.expect_map(e, path)) return false;
  for (const auto& k : c.entries(e.value, path, instance ? k_instance_http_keys : k_http_keys)) {
    if (k.key != "rate_limits" || !k.value.IsSequence()) continue;
    std::size_t i = 0;
    for (const auto& limit : k.value) {
      const std::string lp = path + ".rate_limits[" + std::to_string(i++) + "]";
      if (limit.IsMap()) c.entries(limit, lp, k_rate_limit_keys);
    }
  }
  return c.errors().size() == before;
}

// Reports a services parser's "key.path: message" error at the position of that value (or
// of its nearest enclosing one).
void report_http_error(Checker& c, const std::string& message, const SourcePos& block_pos,
                       const std::map<std::string, Checker::Spot>& spots) {
  const auto colon = message.find(": ");
  std::string path = colon == std::string::npos ? std::string() : message.substr(0, colon);
  std::string text = colon == std::string::npos ? message : message.substr(colon + 2);
  for (std::string probe = path; !probe.empty();) {
    if (auto it = spots.find(probe); it != spots.end()) {
      if (probe == path && text.find(", got ") == std::string::npos)
        text += ", got " + it->second.shown;
      c.error(it->second.pos, path, text);
      return;
    }
    const auto cut = probe.find_last_of(".[");
    probe = cut == std::string::npos ? std::string() : probe.substr(0, cut);
  }
  c.error(block_pos, path, text);
}

// Files named in an `http:` block are relative to the configuration file, like state_dir.
void resolve_http_paths(std::string& path, const std::filesystem::path& base_dir) {
  if (!path.empty()) path = resolve_path(path, base_dir).string();
}

std::optional<config::HttpOptions> parse_http(Checker& c, const Checker::Entry& e) {
  if (!check_http_keys(c, e, "http", false)) return std::nullopt;
  std::map<std::string, Checker::Spot> spots;
  auto parsed =
      config::parse_http_options(c.plain_json(e.value, e.value_pos, "http", spots), "http");
  if (!parsed) {
    report_http_error(c, parsed.error().message, e.value_pos, spots);
    return std::nullopt;
  }
  resolve_http_paths(parsed->ca_file, c.base_dir());
  resolve_http_paths(parsed->ca_path, c.base_dir());
  return std::move(*parsed);
}

std::optional<config::InstanceHttpOptions> parse_instance_http(Checker& c, const Checker::Entry& e,
                                                               const std::string& path) {
  if (!check_http_keys(c, e, path, true)) return std::nullopt;
  std::map<std::string, Checker::Spot> spots;
  auto parsed =
      config::parse_instance_http_options(c.plain_json(e.value, e.value_pos, path, spots), path);
  if (!parsed) {
    report_http_error(c, parsed.error().message, e.value_pos, spots);
    return std::nullopt;
  }
  if (parsed->ca_file) resolve_http_paths(*parsed->ca_file, c.base_dir());
  if (parsed->ca_path) resolve_http_paths(*parsed->ca_path, c.base_dir());
  return std::move(*parsed);
}

SyncSpec parse_sync(Checker& c, const YAML::Node& node, const std::string& path) {
  SyncSpec s;
  for (const auto& e : c.entries(node, path, k_sync_keys)) {
    const std::string p = path + "." + e.key;
    if (e.key == "dry_run") {
      s.dry_run = c.bool_value(e, p);
    } else if (e.key == "drop_guard") {
      if (e.value.IsMap()) {
        s.drop_guard = true;
        for (const auto& g : c.entries(e.value, p, {"enabled", "ratio", "min_baseline"})) {
          const std::string gp = p + "." + g.key;
          if (g.key == "enabled") s.drop_guard = c.bool_value(g, gp);
          if (g.key == "ratio") s.drop_guard_ratio = c.number_value(g, gp, 0.0, 1.0);
          if (g.key == "min_baseline")
            s.drop_guard_min_baseline = c.int_value(g, gp, 0, 1'000'000'000);
        }
      } else {
        s.drop_guard = c.bool_value(e, p);
      }
    } else if (e.key == "mass_delete") {
      if (!c.expect_map(e, p)) continue;
      for (const auto& g : c.entries(e.value, p, {"max_ratio", "max_count"})) {
        const std::string gp = p + "." + g.key;
        if (g.key == "max_ratio") s.mass_delete_max_ratio = c.number_value(g, gp, 0.0, 1.0);
        if (g.key == "max_count") s.mass_delete_max_count = c.int_value(g, gp, 0, 1'000'000'000);
      }
    } else if (e.key == "blackbox") {
      if (!c.expect_map(e, p)) continue;
      for (const auto& g : c.entries(e.value, p, {"failures", "ttl"})) {
        const std::string gp = p + "." + g.key;
        if (g.key == "failures") s.blackbox_failures = c.int_value(g, gp, 1, 1000);
        if (g.key == "ttl") s.blackbox_ttl_s = c.duration_value(g, gp);
      }
    } else if (e.key == "tombstone_ttl") {
      s.tombstone_ttl_s = c.duration_value(e, p);
    } else if (e.key == "pending_ttl") {
      s.pending_ttl_s = c.duration_value(e, p);
    } else if (e.key == "removal") {
      if (auto v = c.choice_value(e, p, {"source_deletes", "mirror"}))
        s.removal = *v == "mirror" ? RemovalMode::mirror : RemovalMode::source_deletes;
    } else if (e.key == "include_observed_deletes") {
      s.include_observed_deletes = c.bool_value(e, p);
    } else if (e.key == "propagate_rated_at") {
      s.propagate_rated_at = c.bool_value(e, p);
    } else if (e.key == "matching") {
      if (!c.expect_map(e, p)) continue;
      for (const auto& g : c.entries(e.value, p, {"year_tolerance"})) {
        // Off by one at most: a wider window would match remakes with their originals.
        if (g.key == "year_tolerance") s.year_tolerance = c.int_value(g, p + "." + g.key, 0, 1);
      }
    }
  }
  for (auto* ttl : {&s.tombstone_ttl_s, &s.pending_ttl_s, &s.blackbox_ttl_s}) {
    if (*ttl && (**ttl <= 0 || **ttl > k_max_ttl_s)) {
      c.error(c.pos(node), path,
              "time to live must be between 1s and 3650d, got " + format_duration(**ttl));
      ttl->reset();
    }
  }
  return s;
}

void parse_providers(Checker& c, const YAML::Node& node, Config& cfg) {
  static const std::regex k_name("[A-Za-z0-9][A-Za-z0-9_.-]*");
  for (const auto& e : c.entries(node, "providers", {})) {
    const std::string p = "providers." + e.key;
    if (!std::regex_match(e.key, k_name)) {
      c.error(c.pos(e.key_node), p,
              "instance names use letters, digits, '_', '-' and '.', starting with a letter "
              "or digit");
      continue;
    }
    if (!c.expect_map(e, p)) continue;
    ProviderConfig provider;
    provider.name = e.key;
    provider.pos = c.pos(e.key_node);
    bool has_plugin = false;
    for (const auto& s : c.entries(e.value, p, {})) {
      if (s.key == "plugin") {
        if (auto v = c.string_value(s, p + ".plugin")) {
          if (!std::regex_match(*v, k_name)) {
            c.error(s.value_pos, p + ".plugin", "expected a plugin name, got \"" + *v + "\"");
          } else {
            provider.plugin = *v;
            has_plugin = true;
          }
        } else {
          has_plugin = true;  // reported already
        }
        continue;
      }
      if (s.key == "http") {
        provider.http = parse_instance_http(c, s, p + ".http");
        continue;
      }
      provider.settings[s.key] =
          c.to_json(s.value, s.value_pos, s.key, "/" + Checker::escape_pointer(s.key), provider);
    }
    if (!has_plugin) {
      c.error(provider.pos, p,
              "missing key \"plugin\": which plugin this instance uses (plex, trakt, ...)");
      continue;
    }
    if (!provider.plugin.empty()) cfg.providers.push_back(std::move(provider));
  }
}

// `schedule: 30m`, `schedule: "*/15 * * * *"` or `schedule: {every|cron: .., jitter: ..}`.
std::optional<ScheduleConfig> parse_schedule(Checker& c, const Checker::Entry& e,
                                             const std::string& path) {
  ScheduleConfig s;
  s.pos = e.value_pos;
  const auto set_when = [&](const std::string& text, const SourcePos& pos,
                            const std::string& p) -> bool {
    if (auto d = parse_duration(text)) {
      if (*d < 60) {
        c.error(pos, p, "expected an interval of at least 1m, got \"" + text + "\"");
        return false;
      }
      s.every_s = *d;
      return true;
    }
    auto cron = util::CronExpr::parse(text);
    if (!cron) {
      c.error(pos, p,
              "expected an interval (30m, 6h) or a cron expression: " + cron.error().message);
      return false;
    }
    s.cron = text;
    return true;
  };
  if (e.value.IsScalar()) {
    if (!set_when(e.value.Scalar(), e.value_pos, path)) return std::nullopt;
    return s;
  }
  if (!c.expect_map(e, path)) return std::nullopt;
  bool ok = true, has_when = false;
  for (const auto& k : c.entries(e.value, path, {"every", "cron", "jitter"})) {
    const std::string kp = path + "." + k.key;
    if (k.key == "every" || k.key == "cron") {
      if (has_when) {
        c.error(k.value_pos, kp, "give either every or cron, not both");
        ok = false;
        continue;
      }
      has_when = true;
      auto v = c.string_value(k, kp);
      if (!v) {
        ok = false;
      } else if (k.key == "every" && !parse_duration(*v)) {
        c.error(k.value_pos, kp, "expected an interval such as 30m or 6h, got \"" + *v + "\"");
        ok = false;
      } else if (k.key == "cron" && parse_duration(*v)) {
        c.error(k.value_pos, kp,
                "expected a cron expression, got the interval \"" + *v +
                    "\" (use every: for intervals)");
        ok = false;
      } else {
        ok = set_when(*v, k.value_pos, kp) && ok;
      }
    } else if (k.key == "jitter") {
      if (auto j = c.duration_value(k, kp))
        s.jitter_s = *j;
      else
        ok = false;
    }
  }
  if (!has_when && ok) {
    c.error(e.value_pos, path, "missing key \"every\" or \"cron\": when to run the pair");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return s;
}

struct PairDraft {
  PairConfig pair;
  SyncSpec sync;
  // Which features the file mentions, with positions, and whether each set `removal`
  // or `include_observed_deletes` itself (else the sync defaults apply).
  std::map<Feature, SourcePos> feature_pos;
  std::set<Feature> explicit_removal;
  std::set<Feature> explicit_observed;
  std::string index;  // "pairs[0]"
  bool valid = true;
};

// The entries of a YAML list, each with its own position (the list's for a flow list
// without marks); reports a value that is not a list.
std::optional<std::vector<Checker::Entry>> list_entries(Checker& c, const Checker::Entry& e,
                                                        const std::string& path) {
  if (!e.value.IsSequence()) {
    c.error(e.value_pos, path, "expected a list, got " + Checker::describe(e.value));
    return std::nullopt;
  }
  std::vector<Checker::Entry> out;
  std::size_t i = 0;
  for (const auto& child : e.value) {
    SourcePos p = c.pos(child);
    if (p.line == 0) p = e.value_pos;
    out.push_back(Checker::Entry{"[" + std::to_string(i++) + "]", child, child, p});
  }
  return out;
}

// features.<f>.types, from_date, min_rating, exclude: what the feature covers.
void parse_scope_key(Checker& c, const Checker::Entry& k, const std::string& p, Feature f,
                     engine::Scope& scope) {
  if (k.key == "types") {
    auto list = list_entries(c, k, p);
    if (!list) return;
    if (list->empty()) {
      c.error(k.value_pos, p, "expected at least one of " + util::join(k_scope_types, ", "));
      return;
    }
    std::uint8_t bits = 0;
    for (const auto& t : *list) {
      if (auto v = c.choice_value(t, p + t.key, k_scope_types)) {
        const auto at = std::find(k_scope_types.begin(), k_scope_types.end(), *v);
        bits |= static_cast<std::uint8_t>(1U << (at - k_scope_types.begin()));
      }
    }
    scope.types = bits;
  } else if (k.key == "from_date") {
    if (f != Feature::history && f != Feature::ratings) {
      c.error(k.value_pos, p, "only history (plays) and ratings have dates to filter by");
      return;
    }
    const auto t = k.value.IsScalar() ? engine::parse_time(k.value.Scalar()) : std::nullopt;
    // Digit strings parse as epoch times; a date is what a user means here.
    if (!t || k.value.Scalar().find('-') == std::string::npos) {
      c.error(k.value_pos, p,
              "expected a date such as 2020-01-01 or 2020-01-01T18:00:00Z (UTC unless an "
              "offset is given), got " +
                  Checker::describe(k.value));
      return;
    }
    scope.from_date = *t;
  } else if (k.key == "min_rating") {
    if (f != Feature::ratings) {
      c.error(k.value_pos, p, "only the ratings feature has a minimum rating");
      return;
    }
    if (auto v = c.number_value(k, p, 0.0, 10.0)) scope.min_rating = *v;
  } else if (k.key == "exclude") {
    if (!c.expect_map(k, p)) return;
    for (const auto& x : c.entries(k.value, p, {"ids", "titles"})) {
      const std::string xp = p + "." + x.key;
      auto list = list_entries(c, x, xp);
      if (!list) continue;
      for (const auto& el : *list) {
        auto v = c.string_value(el, xp + el.key);
        if (!v) continue;
        if (x.key == "titles") {
          const std::string t = util::to_lower(util::trim(*v));
          if (t.empty())
            c.error(el.value_pos, xp + el.key, "expected a title, got an empty string");
          else
            scope.exclude_titles.push_back(t);
          continue;
        }
        // ids: "<kind>:<value>", normalised as ids are on every read (R1.2).
        const auto colon = v->find(':');
        const auto kind = colon == std::string::npos
                              ? std::nullopt
                              : engine::id_kind_from_string(v->substr(0, colon));
        const auto value = kind && *kind != engine::IdKind::other
                               ? engine::normalize_id(*kind, v->substr(colon + 1))
                               : std::nullopt;
        if (!value) {
          c.error(el.value_pos, xp + el.key,
                  "expected an id as kind:value (imdb:tt0111161, tmdb:603, tvdb:81189, ...), "
                  "got \"" +
                      *v + "\"");
          continue;
        }
        scope.exclude_ids.push_back(std::string(engine::to_string(*kind)) + ":" + *value);
      }
    }
  }
}

void parse_feature(Checker& c, const Checker::Entry& e, const std::string& path, Feature f,
                   PairDraft& d) {
  engine::FeaturePolicy fp;
  if (e.value.IsMap()) {
    fp.enabled = true;
    for (const auto& k : c.entries(e.value, path, k_feature_keys)) {
      const std::string p = path + "." + k.key;
      if (k.key == "enabled") {
        if (auto v = c.bool_value(k, p)) fp.enabled = *v;
      } else if (k.key == "add") {
        if (auto v = c.bool_value(k, p)) fp.add = *v;
      } else if (k.key == "remove") {
        if (auto v = c.bool_value(k, p)) fp.remove = *v;
      } else if (k.key == "update") {
        if (auto v = c.bool_value(k, p)) fp.update = *v;
      } else if (k.key == "removal") {
        if (auto v = c.choice_value(k, p, {"source_deletes", "mirror"})) {
          fp.removal = *v == "mirror" ? RemovalMode::mirror : RemovalMode::source_deletes;
          d.explicit_removal.insert(f);
        }
      } else if (k.key == "include_observed_deletes") {
        if (auto v = c.bool_value(k, p)) {
          fp.include_observed_deletes = *v;
          d.explicit_observed.insert(f);
        }
      } else if (k.key == "rewatches") {
        if (f != Feature::history) {
          c.error(k.value_pos, p, "only the history feature has rewatches (event mode)");
        } else if (auto v = c.bool_value(k, p)) {
          fp.rewatches = *v;
        }
      } else if (k.key == "types" || k.key == "from_date" || k.key == "min_rating" ||
                 k.key == "exclude") {
        parse_scope_key(c, k, p, f, fp.scope);
      } else if (k.key == "tolerance") {
        if (f != Feature::history) {
          c.error(k.value_pos, p, "only the history feature has a play-matching tolerance");
        } else if (auto v = c.duration_value(k, p)) {
          if (*v < 0 || *v > engine::k_day_s)
            c.error(k.value_pos, p,
                    "expected a tolerance from 0s to 1d, got " + format_duration(*v));
          else
            fp.event_tolerance_s = *v;
        }
      }
    }
  } else if (e.value.IsScalar()) {
    // `watchlist: true` enables the feature with adds only, as in the reference.
    if (auto v = c.bool_value(e, path)) fp.enabled = *v;
  } else {
    c.error(e.value_pos, path,
            "expected true, false or a mapping of enabled, add, remove, update, ..., got " +
                Checker::describe(e.value));
  }
  d.feature_pos[f] = e.value_pos;
  d.pair.policy.features[f] = fp;
}

PairDraft parse_pair(Checker& c, const YAML::Node& node, std::size_t index, const Config& cfg) {
  PairDraft d;
  d.index = "pairs[" + std::to_string(index) + "]";
  d.pair.pos = c.pos(node);
  const std::size_t errors_before = c.errors().size();
  if (!node.IsMap()) {
    c.error(
        node, d.index,
        "expected a mapping with name, source, target, features, got " + Checker::describe(node));
    d.valid = false;
    return d;
  }
  auto& policy = d.pair.policy;
  std::optional<SourcePos> source_pos, target_pos, truth_pos;
  bool has_features = false;
  for (const auto& e : c.entries(node, d.index, k_pair_keys)) {
    const std::string p = d.index + "." + e.key;
    if (e.key == "name") {
      if (auto v = c.string_value(e, p)) policy.name = *v;
    } else if (e.key == "source" || e.key == "target") {
      auto v = c.string_value(e, p);
      if (!v) continue;
      if (cfg.provider(*v) == nullptr) {
        std::vector<std::string> names;
        for (const auto& pr : cfg.providers) names.push_back(pr.name);
        c.error(e.value_pos, p,
                "no provider instance named \"" + *v + "\"" + Checker::hint(*v, names) +
                    (names.empty() ? "; define it under providers"
                                   : "; defined: " + util::join(names, ", ")));
        continue;
      }
      (e.key == "source" ? policy.source : policy.target) = *v;
      (e.key == "source" ? source_pos : target_pos) = e.value_pos;
    } else if (e.key == "mode") {
      if (auto v = c.choice_value(e, p, {"one-way", "two-way"}))
        policy.mode = *v == "two-way" ? PairMode::two_way : PairMode::one_way;
    } else if (e.key == "enabled") {
      if (auto v = c.bool_value(e, p)) d.pair.enabled = *v;
    } else if (e.key == "features") {
      has_features = true;
      if (!c.expect_map(e, p)) continue;
      for (const auto& fe : c.entries(e.value, p, k_feature_names))
        parse_feature(c, fe, p + "." + fe.key, *feature_from_string(fe.key), d);
    } else if (e.key == "source_of_truth") {
      if (auto v = c.string_value(e, p)) {
        policy.source_of_truth = *v;
        truth_pos = e.value_pos;
      }
    } else if (e.key == "sync") {
      if (!c.expect_map(e, p)) continue;
      d.sync = parse_sync(c, e.value, p);
    } else if (e.key == "schedule") {
      d.pair.schedule = parse_schedule(c, e, p);
    }
  }
  const bool clean = c.errors().size() == errors_before;
  if (!source_pos && clean) c.error(d.pair.pos, d.index, "missing key \"source\"");
  if (!target_pos && clean) c.error(d.pair.pos, d.index, "missing key \"target\"");
  if (source_pos && target_pos && policy.source == policy.target)
    c.error(*target_pos, d.index + ".target",
            "source and target are the same instance \"" + policy.source +
                "\"; a pair syncs two different provider instances");
  if (policy.name.empty() && !policy.source.empty() && !policy.target.empty())
    policy.name = policy.source + "-to-" + policy.target;
  if (truth_pos && !policy.source.empty() && !policy.target.empty() &&
      policy.source_of_truth != policy.source && policy.source_of_truth != policy.target)
    c.error(*truth_pos, d.index + ".source_of_truth",
            "expected the pair's source or target (" + policy.source + " or " + policy.target +
                "), got \"" + policy.source_of_truth + "\"");
  if (!has_features && clean)
    c.error(d.pair.pos, d.index,
            "missing key \"features\": which of watchlist, history, ratings, progress to sync");
  for (const auto& [f, fp] : policy.features) {
    if (policy.mode == PairMode::two_way && d.explicit_removal.count(f) &&
        fp.removal == RemovalMode::mirror)
      c.error(d.feature_pos[f], d.index + ".features." + to_string(f) + ".removal",
              "mirror removal applies to one-way pairs; a two-way pair propagates observed "
              "deletions (remove it or use mode: one-way)");
  }
  d.valid = c.errors().size() == errors_before;
  return d;
}

// A configuration is small; aliases nested into each other (a "billion laughs" document)
// load as shared nodes but expand exponentially when walked. Counting visits with a budget
// stops such a walk at once.
constexpr std::size_t k_max_yaml_nodes = 200'000;

bool within_node_budget(const YAML::Node& n, std::size_t& budget) {
  if (budget == 0) return false;
  --budget;
  if (n.IsMap()) {
    for (const auto& kv : n)
      if (!within_node_budget(kv.first, budget) || !within_node_budget(kv.second, budget))
        return false;
  } else if (n.IsSequence()) {
    for (const auto& child : n)
      if (!within_node_budget(child, budget)) return false;
  }
  return true;
}

// One-way pairs that propagate removals must not form a ring (a -> b -> c -> a): a deletion
// would travel around it forever, written again every run. Refused with the pairs named.
void check_removal_rings(Checker& c, const Config& cfg) {
  for (const Feature f :
       {Feature::watchlist, Feature::history, Feature::ratings, Feature::progress}) {
    // source -> [(target, pair index)] for enabled one-way pairs with removals on.
    std::map<std::string, std::vector<std::pair<std::string, std::size_t>>> edges;
    for (std::size_t i = 0; i < cfg.pairs.size(); ++i) {
      const auto& p = cfg.pairs[i];
      const auto it = p.policy.features.find(f);
      if (!p.enabled || p.policy.mode != engine::PairMode::one_way ||
          it == p.policy.features.end() || !it->second.enabled || !it->second.remove)
        continue;
      edges[p.policy.source].push_back({p.policy.target, i});
    }
    // Depth-first search for a back edge; the path on the stack is the ring.
    std::map<std::string, int> state;  // 0 unseen, 1 on the stack, 2 done
    std::vector<std::size_t> path;
    std::vector<std::size_t> ring;
    std::function<bool(const std::string&)> visit = [&](const std::string& node) {
      state[node] = 1;
      for (const auto& [next, pair] : edges[node]) {
        path.push_back(pair);
        if (state[next] == 1) {
          // The ring is the part of the path from the pair leaving `next`.
          std::size_t start = 0;
          while (cfg.pairs[path[start]].policy.source != next) ++start;
          ring.assign(path.begin() + static_cast<std::ptrdiff_t>(start), path.end());
          return true;
        }
        if (state[next] == 0 && visit(next)) return true;
        path.pop_back();
      }
      state[node] = 2;
      return false;
    };
    for (const auto& [node, out] : edges) {
      if (state[node] == 0 && visit(node)) break;
    }
    if (ring.empty()) continue;
    std::string names, route = cfg.pairs[ring.front()].policy.source;
    for (const std::size_t i : ring) {
      names += (names.empty() ? "" : ", ") + cfg.pairs[i].policy.name;
      route += " -> " + cfg.pairs[i].policy.target;
    }
    const std::size_t last = *std::max_element(ring.begin(), ring.end());
    c.error(cfg.pairs[last].pos, "pairs[" + std::to_string(last) + "]",
            "one-way pairs " + names + " propagate " + std::string(to_string(f)) +
                " removals in a ring (" + route +
                "): a deletion would go round it forever; set remove: false on one of them, "
                "or join two providers with one two-way pair");
  }
}

std::optional<std::int64_t> plugin_timeout(Checker& c, const Checker::Entry& e,
                                           const std::string& path) {
  auto v = c.duration_value(e, path);
  if (v && *v < 1) {
    c.error(e.value_pos, path, "expected a duration of at least 1s, got " + e.value.Scalar());
    return std::nullopt;
  }
  return v;
}

// A size in bytes (512MiB, 64KiB, 4096) from `min` to `max`; `range` says them in words.
std::optional<std::int64_t> size_value(Checker& c, const Checker::Entry& e, const std::string& path,
                                       std::int64_t min, std::int64_t max, const char* range) {
  const auto v = e.value.IsScalar() ? parse_size(e.value.Scalar()) : std::nullopt;
  if (!v) {
    c.error(e.value_pos, path,
            "expected a size such as 512MiB, 64KiB, 1GiB or a number of bytes, got " +
                Checker::describe(e.value));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    c.error(e.value_pos, path,
            std::string("expected a size from ") + range + ", got " + e.value.Scalar());
    return std::nullopt;
  }
  return v;
}

void parse_plugins(Checker& c, const Checker::Entry& e, PluginsOptions& out) {
  if (!c.expect_map(e, "plugins")) return;
  for (const auto& k : c.entries(e.value, "plugins", k_plugins_keys)) {
    const std::string p = "plugins." + k.key;
    if (k.key == "isolation") {
      if (auto v = c.choice_value(k, p, {"none", "untrusted", "all"})) out.isolation = *v;
    } else if (k.key == "in_process") {
      if (!k.value.IsSequence()) {
        c.error(k.value_pos, p,
                "expected a list of plugin names, got " + Checker::describe(k.value));
        continue;
      }
      std::size_t i = 0;
      for (const auto& name : k.value) {
        if (name.IsScalar() && !name.Scalar().empty())
          out.in_process.push_back(name.Scalar());
        else
          c.error(name, p + "[" + std::to_string(i) + "]",
                  "expected a plugin name, got " + Checker::describe(name));
        ++i;
      }
    } else if (k.key == "timeout") {
      if (auto v = plugin_timeout(c, k, p)) out.timeout_s = *v;
    } else if (k.key == "timeouts") {
      if (!c.expect_map(k, p)) continue;
      for (const auto& t : c.entries(k.value, p, {}))
        if (auto v = plugin_timeout(c, t, p + "." + t.key)) out.timeouts_s[t.key] = *v;
    } else if (k.key == "cancel_grace") {
      if (auto v = plugin_timeout(c, k, p)) out.cancel_grace_s = *v;
    } else if (k.key == "restarts") {
      if (auto v = c.int_value(k, p, 0, 100)) out.restarts = *v;
    } else if (k.key == "max_reply") {
      if (auto v = size_value(c, k, p, std::int64_t{1} << 20, k_max_reply_limit,
                              "1MiB to 2GiB (what one frame of the plugin runner carries)"))
        out.max_reply_bytes = *v;
    } else if (k.key == "max_field") {
      if (auto v = size_value(c, k, p, 256, std::int64_t{1} << 20, "256B to 1MiB"))
        out.max_field_bytes = *v;
    } else if (k.key == "max_extra") {
      if (auto v =
              size_value(c, k, p, std::int64_t{1} << 10, std::int64_t{16} << 20, "1KiB to 16MiB"))
        out.max_extra_bytes = *v;
    }
  }
}

// A list of non-empty names (scrobble.sinks, users, libraries).
std::vector<std::string> name_list(Checker& c, const Checker::Entry& e, const std::string& path) {
  std::vector<std::string> out;
  if (!e.value.IsSequence()) {
    c.error(e.value_pos, path, "expected a list of names, got " + Checker::describe(e.value));
    return out;
  }
  std::size_t i = 0;
  for (const auto& n : e.value) {
    if (n.IsScalar() && !n.Scalar().empty())
      out.push_back(n.Scalar());
    else
      c.error(n, path + "[" + std::to_string(i) + "]",
              "expected a name, got " + Checker::describe(n));
    ++i;
  }
  return out;
}

// A scrobble secret written as ${env:NAME} or ${file:PATH} (a file relative to cw.yaml's
// folder), or nothing when `v` is written any other way: the caller says what it expected,
// without echoing `v`, which may be a pasted secret.
std::optional<SecretRef> scrobble_secret_ref(const std::string& v, const SourcePos& pos,
                                             const std::filesystem::path& base_dir) {
  static const std::regex k_ref(R"(\$\{(env|file):([^}]+)\})");
  std::smatch m;
  if (!std::regex_match(v, m, k_ref)) return std::nullopt;
  SecretRef ref;
  ref.pos = pos;
  ref.kind = m[1] == "env" ? SecretRef::Kind::env : SecretRef::Kind::file;
  ref.ref = m[1] == "env" ? m[2].str()
                          : resolve_path(std::string(util::trim(m[2].str())), base_dir).string();
  return ref;
}

void parse_scrobble(Checker& c, const Checker::Entry& e, Config& cfg) {
  ScrobbleOptions& out = cfg.scrobble;
  out.enabled = true;
  out.pos = e.value_pos;
  if (!c.expect_map(e, "scrobble")) return;
  bool have_sinks = false;
  for (const auto& k : c.entries(e.value, "scrobble", k_scrobble_keys)) {
    const std::string p = "scrobble." + k.key;
    if (k.key == "sinks") {
      out.sinks = name_list(c, k, p);
      have_sinks = true;
      for (std::size_t i = 0; i < out.sinks.size(); ++i)
        if (cfg.provider(out.sinks[i]) == nullptr)
          c.error(k.value_pos, p + "[" + std::to_string(i) + "]",
                  "no provider named \"" + out.sinks[i] +
                      "\"; name a tracker under providers: whose plugin scrobbles (trakt, simkl)");
    } else if (k.key == "threshold") {
      if (auto v = c.number_value(k, p, 1, 100)) out.threshold = *v;
    } else if (k.key == "users") {
      out.users = name_list(c, k, p);
    } else if (k.key == "libraries") {
      out.libraries = name_list(c, k, p);
    } else if (k.key == "remove_from_watchlist") {
      if (auto v = c.bool_value(k, p)) out.remove_from_watchlist = *v;
    } else if (k.key == "replay_after") {
      if (auto v = c.duration_value(k, p)) out.replay_after_s = *v;
    } else if (k.key == "watchers") {
      if (!k.value.IsSequence()) {
        c.error(k.value_pos, p, "expected a list of watchers, got " + Checker::describe(k.value));
        continue;
      }
      std::size_t i = 0;
      for (const auto& node : k.value) {
        const std::string wp = p + "[" + std::to_string(i++) + "]";
        if (!node.IsMap()) {
          c.error(node, wp, "expected a mapping with type, url and token");
          continue;
        }
        WatcherOptions w;
        w.pos = c.pos(node);
        for (const auto& f :
             c.entries(node, wp, {"type", "url", "token", "interval", "websocket"})) {
          const std::string fp = wp + "." + f.key;
          if (f.key == "type") {
            if (auto v = c.choice_value(f, fp, {"plex", "jellyfin", "emby"})) w.type = *v;
          } else if (f.key == "url") {
            if (auto v = c.string_value(f, fp)) w.url = *v;
          } else if (f.key == "websocket") {
            if (auto v = c.bool_value(f, fp)) w.websocket = *v;
          } else if (f.key == "interval") {
            if (auto v = c.duration_value(f, fp)) {
              if (*v < 1)
                c.error(f.value_pos, fp, "expected at least 1s");
              else
                w.interval_s = *v;
            }
          } else if (f.key == "token") {
            auto v = c.string_value(f, fp);
            if (!v) continue;
            w.token = scrobble_secret_ref(*v, f.value_pos, cfg.base_dir);
            if (!w.token)
              c.error(f.value_pos, fp,
                      "expected ${env:NAME} or ${file:PATH} (an API key or Plex token); a "
                      "secret is not "
                      "written in the file itself");
          }
        }
        if (w.type.empty() || w.url.empty() || !w.token)
          c.error(node, wp, "expected type (plex, jellyfin or emby), url and token");
        else
          out.watchers.push_back(std::move(w));
      }
    } else if (k.key == "webhooks") {
      if (!c.expect_map(k, p)) continue;
      for (const auto& w : c.entries(k.value, p, {"plex", "jellyfin", "emby", "tautulli"})) {
        const std::string wp = p + "." + w.key;
        WebhookOptions hook;
        hook.pos = w.value_pos;
        if (!c.expect_map(w, wp)) continue;
        bool have_secret = false;
        for (const auto& f : c.entries(w.value, wp, {"secret"})) {
          auto v = c.string_value(f, wp + ".secret");
          if (!v) continue;
          have_secret = true;
          if (*v == "none") {
            hook.open = true;
          } else if (auto ref = scrobble_secret_ref(*v, f.value_pos, cfg.base_dir)) {
            hook.secret = std::move(ref);
          } else {
            c.error(f.value_pos, wp + ".secret",
                    "expected ${env:NAME}, ${file:PATH} or none (no secret: loopback only); "
                    "a secret is not written in the file itself");
          }
        }
        if (!have_secret)
          c.error(w.value_pos, wp,
                  "expected secret: ${env:NAME}, ${file:PATH} or none; every webhook endpoint "
                  "is protected by its own secret");
        out.webhooks[w.key] = std::move(hook);
      }
    }
  }
  if (!have_sinks)
    c.error(e.value_pos, "scrobble.sinks",
            "missing: name the tracker instances that receive the plays (sinks: [trakt])");
}

void parse_root(Checker& c, const YAML::Node& root, Config& cfg) {
  if (!root.IsDefined() || root.IsNull()) {
    c.error(SourcePos{"", 0, 0}, "",
            "the file is empty; expected a mapping with providers, pairs and sync");
    return;
  }
  if (!root.IsMap()) {
    c.error(root, "",
            "expected a mapping with providers, pairs and sync at the top, got " +
                Checker::describe(root));
    return;
  }
  YAML::Node providers, pairs, sync;
  std::optional<Checker::Entry> scrobble;
  SourcePos resolver_pos;
  for (const auto& e : c.entries(root, "", k_top_keys)) {
    if (e.key == "version") {
      if (auto v = c.int_value(e, "version", 1, 1000); v && *v != 1)
        c.error(e.value_pos, "version",
                "this cw reads configuration version 1, got " + std::to_string(*v));
    } else if (e.key == "state_dir") {
      if (auto v = c.string_value(e, "state_dir")) cfg.state_dir = resolve_path(*v, cfg.base_dir);
    } else if (e.key == "providers") {
      if (c.expect_map(e, "providers")) providers = e.value;
    } else if (e.key == "pairs") {
      if (e.value.IsSequence())
        pairs = e.value;
      else if (!e.value.IsNull())
        c.error(e.value_pos, "pairs",
                "expected a list of pairs, got " + Checker::describe(e.value));
    } else if (e.key == "sync") {
      if (c.expect_map(e, "sync")) sync = e.value;
    } else if (e.key == "http") {
      if (auto http = parse_http(c, e)) cfg.http = std::move(*http);
    } else if (e.key == "plugins") {
      parse_plugins(c, e, cfg.plugins);
    } else if (e.key == "scrobble") {
      scrobble = e;
    } else if (e.key == "id_resolver") {
      if (auto v = c.string_value(e, "id_resolver")) {
        cfg.id_resolver = *v;
        resolver_pos = e.value_pos;
      }
    }
  }
  if (providers) parse_providers(c, providers, cfg);
  if (scrobble) parse_scrobble(c, *scrobble, cfg);
  if (!cfg.id_resolver.empty() && cfg.provider(cfg.id_resolver) == nullptr)
    c.error(resolver_pos, "id_resolver",
            "no provider named \"" + cfg.id_resolver +
                "\"; name a provider under providers: whose plugin resolves ids (tmdb)");
  SyncSpec global;
  if (sync) global = parse_sync(c, sync, "sync");
  cfg.sync.dry_run = global.dry_run.value_or(false);
  global.apply_to(cfg.sync.guards);

  if (!pairs) return;
  std::map<std::string, std::string> names;  // pair name -> "pairs[i]"
  // (feature, provider a, provider b) -> pair index: one pair per feature and provider pair
  std::map<std::tuple<Feature, std::string, std::string>, std::string> claimed;
  std::size_t index = 0;
  for (const auto& node : pairs) {
    PairDraft d = parse_pair(c, node, index++, cfg);
    if (!d.valid) continue;
    auto& policy = d.pair.policy;
    if (auto [it, fresh] = names.emplace(policy.name, d.index); !fresh) {
      c.error(d.pair.pos, d.index + ".name",
              "duplicate pair name \"" + policy.name + "\" (also " + it->second +
                  "); pair names key the state, give each pair its own name");
      continue;
    }
    SyncSpec merged = global;
    merged.override_with(d.sync);
    d.pair.dry_run = merged.dry_run.value_or(false);
    policy.guards = engine::GuardPolicy{};
    merged.apply_to(policy.guards);
    policy.year_tolerance = static_cast<int>(merged.year_tolerance.value_or(0));
    policy.propagate_rated_at = merged.propagate_rated_at.value_or(false);
    for (auto& [f, fp] : policy.features) {
      if (!d.explicit_removal.count(f) && merged.removal) fp.removal = *merged.removal;
      if (!d.explicit_observed.count(f) && merged.include_observed_deletes)
        fp.include_observed_deletes = *merged.include_observed_deletes;
      if (!fp.enabled || !d.pair.enabled) continue;
      const auto& [a, b] = std::minmax(policy.source, policy.target);
      auto [it, fresh] = claimed.emplace(std::make_tuple(f, a, b), d.index);
      if (!fresh) {
        c.error(d.feature_pos[f], d.index + ".features." + to_string(f),
                std::string(to_string(f)) + " between " + a + " and " + b +
                    " is already enabled in " + it->second +
                    "; enable a feature once per provider pair (mode: two-way syncs both ways)");
      }
    }
    cfg.pairs.push_back(std::move(d.pair));
  }
  check_removal_rings(c, cfg);
}

// "pairs[0].features.watchlist" -> "/pairs/0/features/watchlist": the checker's paths as
// JSON pointers, to tell whether it reported what the schema reported.
std::string dotted_to_pointer(const std::string& dotted) {
  std::string out;
  for (char ch : dotted) {
    if (ch == '.' || ch == '[')
      out += '/';
    else if (ch != ']')
      out += ch;
  }
  return out.empty() || out.front() == '/' ? out : "/" + out;
}

// A file's schema violations, found one at a time: rapidjson reports the first rule a
// document breaks, so the value that broke it is taken out and the rest checked again.
// Pointers are reported as in the file, although list entries taken out shift the others.
class SchemaFindings {
 public:
  struct Finding {
    std::string pointer;  // the failing value (a missing key's own pointer)
    std::string at;       // where it is reported: the value, or the mapping lacking a key
    util::SchemaViolation violation;
  };

  explicit SchemaFindings(nlohmann::json doc) : m_doc(std::move(doc)) {}

  // Up to `limit` findings; an error only when the built-in schema does not parse.
  Result<std::vector<Finding>> find(std::size_t limit) {
    std::vector<Finding> out;
    for (std::size_t round = 0; round < limit; ++round) {
      auto found = util::find_schema_violation(
          k_config_schema_json,
          m_doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      if (!found) return found.error();
      if (!*found) break;
      const util::SchemaViolation& v = **found;
      // A missing key is reported at (and taken out with) the mapping that lacks it.
      const bool missing = v.keyword == "required";
      const std::string target = missing ? parent(v.pointer) : v.pointer;
      Finding f{original(v.pointer), original(target), v};
      // A rule of a mapping or list that only broke because a value was taken out of it
      // (a key that had the wrong type is now missing) is not reported again.
      const bool follows = std::any_of(m_taken.begin(), m_taken.end(), [&](const std::string& t) {
        return t.size() > f.at.size() && t.compare(0, f.at.size() + 1, f.at + "/") == 0;
      });
      if (!follows) out.push_back(f);
      if (target.empty() || !take_out(target)) break;  // the root itself: nothing left to check
      m_taken.insert(f.at);
    }
    return out;
  }

 private:
  static std::string parent(const std::string& pointer) {
    return pointer.substr(0, pointer.rfind('/') == std::string::npos ? 0 : pointer.rfind('/'));
  }

  static std::string unescape(const std::string& token) {
    std::string out;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        out += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        out += token[i];
      }
    }
    return out;
  }

  // The pointer in the current document as the file wrote it (list indices before any
  // entry was taken out).
  std::string original(const std::string& pointer) const {
    std::string out;
    const nlohmann::json* node = &m_doc;
    std::size_t i = 0;
    while (i < pointer.size()) {
      const std::size_t end = std::min(pointer.find('/', i + 1), pointer.size());
      const std::string token = pointer.substr(i + 1, end - i - 1);
      i = end;
      if (node != nullptr && node->is_array() &&
          token.find_first_not_of("0123456789") == std::string::npos && !token.empty()) {
        const std::size_t index = std::stoul(token);
        const auto it = m_alive.find(out);
        out += "/" + std::to_string(it != m_alive.end() && index < it->second.size()
                                        ? it->second[index]
                                        : index);
        node = index < node->size() ? &(*node)[index] : nullptr;
      } else {
        out += "/" + token;
        const std::string key = unescape(token);
        node =
            node != nullptr && node->is_object() && node->contains(key) ? &(*node)[key] : nullptr;
      }
    }
    return out;
  }

  bool take_out(const std::string& pointer) {
    const std::string up = parent(pointer);
    const std::string token = pointer.substr(up.size() + 1);
    nlohmann::json* container = nullptr;
    try {
      container = &m_doc.at(nlohmann::json::json_pointer(up));
    } catch (const nlohmann::json::exception&) {
      return false;
    }
    if (container->is_object()) return container->erase(unescape(token)) == 1;
    if (!container->is_array() || token.empty() ||
        token.find_first_not_of("0123456789") != std::string::npos)
      return false;
    const std::size_t index = std::stoul(token);
    if (index >= container->size()) return false;
    auto& alive = m_alive[original(up)];
    if (alive.empty())
      for (std::size_t k = 0; k < container->size(); ++k) alive.push_back(k);
    alive.erase(alive.begin() + static_cast<std::ptrdiff_t>(index));
    container->erase(index);
    return true;
  }

  nlohmann::json m_doc;
  std::map<std::string, std::vector<std::size_t>> m_alive;  // list -> its entries' indices
  std::set<std::string> m_taken;
};

// cw.yaml against docs/cw.schema.json (compiled in), through the validator that checks
// manifests and plugin replies: what an editor checks is what cw enforces. Each value that
// breaks a rule is one line, "cw.yaml:L:C: <what is wrong> (at /json/pointer)", at the value
// (the key, for an unknown key; the mapping, for a missing key). Where the checker above
// found the same thing, its line is used with the pointer added (its words speak YAML and
// give hints) and its other lines on that value dropped; its other findings (rules the schema
// cannot say, such as references between pairs and providers) stay as they are.
void check_against_schema(Checker& c, const YAML::Node& root) {
  if (!root.IsMap()) return;  // the checker says what the top of the file must be
  std::map<std::string, Checker::NodeSpot> spots;
  const SourcePos top = c.pos(root);
  SchemaFindings schema(c.document(root, Checker::NodeSpot{top, top}, "", spots));
  auto findings = schema.find(50);
  if (!findings) {
    c.error(top, "", "internal: docs/cw.schema.json as built into cw: " + findings.error().message);
    return;
  }
  std::vector<ConfigError> checked = std::move(c.errors());
  std::vector<ConfigError> out;
  for (const auto& f : *findings) {
    const util::SchemaViolation& v = f.violation;
    std::string at = f.at;
    while (!at.empty() && spots.count(at) == 0) at = at.substr(0, at.rfind('/'));
    const Checker::NodeSpot& spot = spots.count(at) ? spots[at] : spots[""];
    const SourcePos where =
        v.keyword == "additionalProperties" && at == f.pointer ? spot.key : spot.value;
    const std::string missing =
        v.keyword == "required" ? f.pointer.substr(f.pointer.rfind('/') + 1) : std::string();
    const auto same_finding = [&](const ConfigError& e) {
      const std::string p = dotted_to_pointer(e.path);
      if (p == f.pointer) return true;
      // At a mapping that lacks a key, only the checker's word on that key.
      if (!missing.empty()) return p == f.at && e.message.find(missing) != std::string::npos;
      // A mapping that matches none of its forms (every or cron, not both): the checker
      // names the key that breaks it.
      if (v.keyword == "oneOf" || v.keyword == "anyOf")
        if (p.rfind(f.pointer + "/", 0) == 0) return true;
      return e.pos.line == where.line && e.pos.column == where.column;
    };
    const std::string pointer = " (at " + (f.pointer.empty() ? std::string("/") : f.pointer) + ")";
    const auto first = std::find_if(checked.begin(), checked.end(), same_finding);
    if (first != checked.end())
      out.push_back(ConfigError{first->pos, first->path, first->message + pointer});
    else
      out.push_back(ConfigError{where, "", v.detail + pointer});
    checked.erase(std::remove_if(checked.begin(), checked.end(), same_finding), checked.end());
  }
  for (auto& e : checked) out.push_back(std::move(e));
  c.errors() = std::move(out);
}

}  // namespace

ConfigParse parse_config(const std::string& text, const std::string& file,
                         const std::filesystem::path& base_dir) {
  ConfigParse out;
  // Bytes that are not UTF-8 would pass here and end the run later, inside JSON.
  if (const auto bad = util::first_invalid_utf8(text); bad != std::string_view::npos) {
    const std::string_view before(text.data(), bad);
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const std::size_t nl = before.rfind('\n');
    const std::size_t column = bad - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(text[bad]));
    out.errors.push_back(
        ConfigError{SourcePos{file, static_cast<int>(line), static_cast<int>(column)}, "",
                    std::string("invalid UTF-8 (byte ") + hex + "): save the file as UTF-8"});
    return out;
  }
  Checker checker(file, base_dir);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    SourcePos p{file, e.mark.line + 1, e.mark.column + 1};
    if (e.mark.is_null()) p.line = 0;
    out.errors.push_back(ConfigError{p, "", "invalid YAML: " + e.msg});
    return out;
  } catch (const YAML::Exception& e) {
    out.errors.push_back(
        ConfigError{SourcePos{file, 0, 0}, "", std::string("invalid YAML: ") + e.what()});
    return out;
  }
  if (std::size_t budget = k_max_yaml_nodes; !within_node_budget(root, budget)) {
    out.errors.push_back(
        ConfigError{SourcePos{file, 1, 1}, "",
                    "the document expands to more than " + std::to_string(k_max_yaml_nodes) +
                        " values (YAML anchors and aliases repeated into each other?): refused"});
    return out;
  }
  Config cfg;
  cfg.path = file;
  cfg.base_dir = base_dir;
  cfg.state_dir = default_state_dir();
  try {
    parse_root(checker, root, cfg);
    check_against_schema(checker, root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed trees (e.g. bad conversions); keep it one line.
    checker.errors().push_back(
        ConfigError{SourcePos{file, e.mark.line + 1, e.mark.column + 1}, "", e.msg});
  }
  out.errors = std::move(checker.errors());
  std::stable_sort(out.errors.begin(), out.errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
  });
  if (out.errors.empty()) out.config = std::move(cfg);
  return out;
}

ConfigParse parse_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigParse out;
    out.errors.push_back(
        ConfigError{SourcePos{path, 0, 0}, "",
                    "cannot read the configuration file; pass its path with --config FILE"});
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  return parse_config(text.str(), path, base);
}

Result<Config> load_config(const std::string& path) {
  ConfigParse parsed = parse_config_file(path);
  if (parsed.config) return std::move(*parsed.config);
  std::vector<std::string> lines;
  for (const auto& e : parsed.errors) lines.push_back(e.to_string());
  return make_error(util::join(lines, "\n"), ErrorKind::invalid_arg);
}

Result<std::filesystem::path> locate_state_dir(const std::string& config_path,
                                               const std::string& override_dir) {
  if (!override_dir.empty()) return resolve_path(override_dir, std::filesystem::current_path());
  auto cfg = load_config(config_path.empty() ? "cw.yaml" : config_path);
  if (!cfg) return cfg.error();
  return cfg->state_dir;
}

}  // namespace cw::config
