#include <string>

#include "plex/plex_fake.hpp"

namespace cw::fakes {

namespace {

void append_escaped(std::string& out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "&#10;";
        break;
      default:
        out += c;
    }
  }
}

// Plex's XML writes integers as they are, booleans as 1/0 and floats with their fraction.
void append_scalar(std::string& out, const nlohmann::json& v) {
  if (v.is_string()) {
    append_escaped(out, v.get_ref<const std::string&>());
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "1" : "0";
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", d);
    if (std::stod(buf) != d) std::snprintf(buf, sizeof buf, "%g", d);
    out += buf;
  } else if (!v.is_null()) {
    out += v.dump();
  }
}

std::string child_tag(const std::string& key, const nlohmann::json& element) {
  if (key == "Metadata") {
    const std::string type = element.value("type", "");
    if (type == "movie" || type == "episode" || type == "clip") return "Video";
    if (type == "track") return "Track";
    if (type == "photo") return "Photo";
    return "Directory";
  }
  return key;
}

void append_element(std::string& out, const std::string& tag, const nlohmann::json& obj) {
  out += '<';
  out += tag;
  bool has_children = false;
  for (const auto& [key, value] : obj.items()) {
    if (value.is_object() || value.is_array()) {
      has_children = true;
      continue;
    }
    out += ' ';
    out += key;
    out += "=\"";
    append_scalar(out, value);
    out += '"';
  }
  if (!has_children) {
    out += "/>\n";
    return;
  }
  out += ">\n";
  for (const auto& [key, value] : obj.items()) {
    if (value.is_array()) {
      for (const auto& element : value) {
        if (element.is_object()) append_element(out, child_tag(key, element), element);
      }
    } else if (value.is_object()) {
      append_element(out, key, value);
    }
  }
  out += "</";
  out += tag;
  out += ">\n";
}

}  // namespace

std::string plex_json_to_xml(const std::string& root_tag, const nlohmann::json& container) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  append_element(out, root_tag, container);
  return out;
}

}  // namespace cw::fakes
