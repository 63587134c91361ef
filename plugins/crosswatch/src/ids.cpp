#include "ids.hpp"

#include <algorithm>
#include <cctype>

#include <cwsdk/support/ids.hpp>

using nlohmann::json;

namespace cw::crosswatch {
namespace {

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

// A season or episode number's digits, without leading zeros ("01" and "1" agree).
std::string digits_of(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c >= '0' && c <= '9') out += c;
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? std::string() : out.substr(first);
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
  const std::string s = digits_of(cwsdk::id_text(*it).value_or(std::string()));
  return s.empty() ? "0" : s;
}

std::string title_term(const json& item) {
  std::string year;
  if (const auto it = item.find("year"); it != item.end())
    year = cwsdk::id_text(*it).value_or(std::string());
  const std::string title = item.contains("title") && item["title"].is_string()
                                ? lower(trim(item["title"].get<std::string>()))
                                : std::string();
  return "title:" + title + "|" + year;
}

}  // namespace

std::string normalise_id(std::string_view kind, const json& value) {
  // The project's one set of id rules (cwsdk/support/ids.hpp): placeholders dropped,
  // numeric kinds digits only, imdb "tt" + digits; kinds it does not name kept as text.
  const auto text = cwsdk::id_text(value);
  if (!text) return {};
  const auto known = cwsdk::id_kind_from_name(kind);
  return (known ? cwsdk::normalize_id(*known, *text) : cwsdk::normalize_unknown_id(*text))
      .value_or(std::string());
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
