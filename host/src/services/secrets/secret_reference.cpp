#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <cw/services/secrets/redactor.hpp>
#include <cw/services/secrets/secret_reference.hpp>

namespace cw::services {
namespace {

std::optional<std::pair<std::string_view, std::string_view>> split_reference(
    std::string_view value) {
  if (value.size() < 4 || value.substr(0, 2) != "${" || value.back() != '}') return std::nullopt;
  const std::string_view inner = value.substr(2, value.size() - 3);
  const auto colon = inner.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = inner.substr(0, colon);
  if (scheme != "env" && scheme != "file") return std::nullopt;
  return std::make_pair(scheme, inner.substr(colon + 1));
}

}  // namespace

bool is_secret_reference(std::string_view value) { return split_reference(value).has_value(); }

Result<std::string> resolve_secret_reference(std::string_view value, const std::string& base_dir) {
  const auto ref = split_reference(value);
  if (!ref) return std::string(value);
  const auto [scheme, arg] = *ref;
  if (arg.empty())
    return make_error("secret reference ${" + std::string(scheme) +
                          ":} names nothing; write ${env:NAME} or ${file:PATH}",
                      ErrorKind::invalid_arg);
  if (scheme == "env") {
    const std::string name(arg);
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0')
      return make_error("environment variable " + name +
                            " is not set; export it or change the ${env:" + name + "} reference",
                        ErrorKind::not_found);
    register_secret(v);
    return std::string(v);
  }
  namespace fs = std::filesystem;
  std::string path(arg);
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home != nullptr) path = std::string(home) + path.substr(1);
  }
  fs::path p(path);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  std::ifstream in(p, std::ios::binary);
  if (!in)
    return make_error("cannot read secret file " + p.string() + "; check the ${file:" +
                          std::string(arg) + "} reference and the file's permissions",
                      ErrorKind::not_found);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string content = buf.str();
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
  if (content.empty())
    return make_error("secret file " + p.string() + " is empty", ErrorKind::not_found);
  register_secret(content);
  return content;
}

}  // namespace cw::services
