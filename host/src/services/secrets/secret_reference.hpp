#pragma once
// ${env:NAME} and ${file:PATH} references in configuration values. The config engineer's
// ConfigSecrets calls resolve_secret_reference() so that both parse them the same way.

#include <optional>
#include <string>
#include <string_view>

#include <cw/util/result.hpp>

namespace cw::services {

// True when the whole of `value` is a ${env:..} or ${file:..} reference.
bool is_secret_reference(std::string_view value);

// Resolves a reference. ${env:NAME}: the environment variable (not_found when unset or
// empty). ${file:PATH}: the file's contents without trailing newlines; a leading ~/ is the
// home directory; relative paths are relative to `base_dir` when given. A value that is not
// a reference is returned unchanged. Every resolved value is registered with the Redactor.
Result<std::string> resolve_secret_reference(std::string_view value,
                                             const std::string& base_dir = {});

}  // namespace cw::services
