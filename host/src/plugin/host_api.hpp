#pragma once
// The host side of cw_host_api: builds the service tables a plugin receives, from the
// host's services. One library-wide table per loaded library (given to cwsdk_entry: log,
// now and is_cancelled work; the instance services answer CW_STATUS_UNSUPPORTED) and one
// per provider instance (given to create: kv, secrets and http are that instance's).
//
// Every callback catches everything: nothing the host does may unwind into a plugin.

#include <string>

#include <cwsdk/cwsdk.h>

#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/http/http_service.hpp>
#include <cw/services/kv/kv_store.hpp>
#include <cw/services/log/logger.hpp>
#include <cw/services/secrets/secret_store.hpp>
#include <cw/util/result.hpp>

namespace cw::plugin {

// What the host lends to plugins. The referenced services must outlive every library and
// instance built from this struct. NULL pointers make the matching host call answer
// CW_STATUS_UNSUPPORTED.
struct HostServices {
  services::Logger& logger;
  services::Clock& clock;
  services::CancelToken& cancel;
  services::KvStore* kv = nullptr;
  services::SecretStore* secrets = nullptr;
  services::HttpService* http = nullptr;
  // A dry run writes nothing: kv_put succeeds and stores nothing, HTTP requests not marked
  // `read` are refused with CW_STATUS_UNSUPPORTED.
  bool dry_run = false;
};

cw_status to_status(ErrorKind kind);
// Unknown values (a newer plugin's statuses) read as ErrorKind::internal.
ErrorKind to_error_kind(cw_status status);
const char* status_name(cw_status status);

// Owns one cw_host_api table whose host_ctx points back at this object, so it is neither
// copyable nor movable; keep it behind a unique_ptr.
class HostBinding {
 public:
  // Library-wide table: `source` is the plugin name used in log lines.
  HostBinding(const HostServices& services, std::string plugin);
  // Instance table: kv, secrets and http are bound to `instance`.
  HostBinding(const HostServices& services, std::string plugin, std::string instance);
  HostBinding(const HostBinding&) = delete;
  HostBinding& operator=(const HostBinding&) = delete;

  const cw_host_api* table() const { return &m_api; }
  const std::string& plugin() const { return m_plugin; }
  const std::string& instance() const { return m_instance; }
  bool instance_bound() const { return m_instance_bound; }
  const HostServices& services() const { return m_services; }

 private:
  void fill();

  HostServices m_services;
  std::string m_plugin;
  std::string m_instance;
  bool m_instance_bound;
  cw_host_api m_api{};
};

}  // namespace cw::plugin
