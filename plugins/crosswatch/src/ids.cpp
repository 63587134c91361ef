#include "ids.hpp"

#include <algorithm>
#include <array>
#include <cctype>

using nlohmann::json;

namespace cw::crosswatch {
namespace {

constexpr std::array<std::string_view, 8> k_numeric_kinds = {"tmdb", "tvdb",    "trakt", "simkl",
                                                             "mal",  "anilist", "kitsu", "anidb"};

constexpr std::array<std::string_view, 7> k_junk_values = {"",    "0",         "null",   "none",
                                                           "nan", "undefined", "unknown"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  size_t b = 0;
  size_t e = s.size();
  while (b < e && is_space(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && is_space(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string digits_of(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c >= '0' && c <= '9') out += c;
  // "007" and "7" are the same id; an all-zero value is no id.
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? std::string() : out.substr(first);
}

std::string scalar_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (d >= 0 && d < 9.0e15 && d == static_cast<double>(static_cast<std::int64_t>(d)))
      return std::to_string(static_cast<std::int64_t>(d));
  }
  return {};
}

bool is_numeric_kind(std::string_view kind) {
  return std::find(k_numeric_kinds.begin(), k_numeric_kinds.end(), kind) != k_numeric_kinds.end();
}

// "kind:value" for every usable id of an ids object, in a fixed order (sorted by kind).
std::vector<std::string> id_terms(const json& ids) {
  std::vector<std::string> out;
  if (!ids.is_object()) return out;
  for (const auto& [kind, value] : ids.items()) {
    const std::string k = lower(kind);
    const std::string v = normalise_id(k, value);
    if (!v.empty()) out.push_back(k + ":" + v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string number_text(const json& item, const char* field) {
  const auto it = item.find(field);
  if (it == item.end()) return "?";
  const std::string s = digits_of(scalar_text(*it));
  return s.empty() ? "0" : s;
}

std::string title_term(const json& item) {
  std::string year;
  if (const auto it = item.find("year"); it != item.end()) year = scalar_text(*it);
  const std::string title = item.contains("title") && item["title"].is_string()
                                ? lower(trim(item["title"].get<std::string>()))
                                : std::string();
  return "title:" + title + "|" + year;
}

}  // namespace

std::string normalise_id(std::string_view kind, const json& value) {
  const std::string text = trim(scalar_text(value));
  if (std::find(k_junk_values.begin(), k_junk_values.end(), lower(text)) != k_junk_values.end())
    return {};
  if (kind == "imdb") {
    const std::string d = digits_of(text);
    if (d.empty()) return {};
    // imdb ids are zero-padded to at least seven digits; keep that form.
    return "tt" + std::string(d.size() < 7 ? 7 - d.size() : 0, '0') + d;
  }
  if (is_numeric_kind(kind)) return digits_of(text);
  return text;
}

std::vector<std::string> identity_aliases(const json& item) {
  std::vector<std::string> out;
  const auto type_it = item.find("type");
  const std::string type =
      type_it != item.end() && type_it->is_string() ? type_it->get<std::string>() : "movie";
  const json empty = json::object();
  const json& own_ids = item.contains("ids") ? item["ids"] : empty;
  if (type == "season" || type == "episode") {
    const json& show = item.contains("show") && item["show"].is_object() ? item["show"] : empty;
    std::string numbers = "|" + number_text(item, "season");
    if (type == "episode") numbers += "|" + number_text(item, "episode");
    for (const auto& term : id_terms(show.contains("ids") ? show["ids"] : empty))
      out.push_back(type + "|show:" + term + numbers);
    if (out.empty()) {
      for (const auto& term : id_terms(own_ids)) out.push_back(type + "|" + term);
    }
    if (out.empty()) out.push_back(type + "|show" + title_term(show) + numbers);
    return out;
  }
  for (const auto& term : id_terms(own_ids)) out.push_back(type + "|" + term);
  if (out.empty()) out.push_back(type + "|" + title_term(item));
  return out;
}

bool merge_ids(json& stored, const json& incoming) {
  const auto in = incoming.find("ids");
  if (in == incoming.end() || !in->is_object()) return false;
  if (!stored.contains("ids") || !stored["ids"].is_object()) stored["ids"] = json::object();
  json& ids = stored["ids"];
  bool changed = false;
  for (const auto& [kind, value] : in->items()) {
    if (normalise_id(lower(kind), value).empty()) continue;
    const auto have = ids.find(kind);
    if (have != ids.end() && !normalise_id(lower(kind), *have).empty()) continue;
    ids[kind] = value;
    changed = true;
  }
  return changed;
}

}  // namespace cw::crosswatch
