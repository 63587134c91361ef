#pragma once
// SecretStore: credentials of provider instances. Two sources: configuration values
// written as ${env:NAME} / ${file:PATH} (resolved when asked for, never stored), and tokens
// that plugins store at run time (OAuth, PIN flows) in the token store. Nothing that passes
// through here is ever logged, reported, planned or written to state in clear text.

#include <string>

#include <cw/util/result.hpp>

namespace cw::services {

class SecretStore {
 public:
  virtual ~SecretStore() = default;
  // The secret `name` of provider instance `instance`. ErrorKind::not_found when unknown.
  virtual Result<std::string> get(const std::string& instance, const std::string& name) = 0;
  // Stores (or, with an empty value, deletes) a runtime token of `instance`.
  virtual Status put(const std::string& instance, const std::string& name,
                     const std::string& value) = 0;
};

}  // namespace cw::services
