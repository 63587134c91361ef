#pragma once
// The rules `cw serve` enforces before any route runs (docs/serve.md "Security"):
//  - it binds 127.0.0.1 by default and refuses any other address unless a token or basic
//    auth protects it;
//  - on a loopback bind, the Host header must name a loopback address, so a web page cannot
//    reach the server through a DNS name rebound to 127.0.0.1;
//  - every state-changing request (forms and the JSON API; not webhooks, which carry their
//    own secrets) carries the CSRF token of this process, which only a page served by it
//    knows;
//  - webhooks are rate limited per source; request bodies are size limited.
// Pure helpers here (times are parameters); the server applies them.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <cw/util/result.hpp>

namespace cw::serve {

struct ListenAddress {
  std::string host = "127.0.0.1";
  int port = 8787;
  std::string to_string() const;
};

// "127.0.0.1:8787", "0.0.0.0:80", "[::1]:8787", "localhost:9000", ":8787" (loopback).
Result<ListenAddress> parse_listen(const std::string& text);
bool is_loopback_host(const std::string& host);

// Who may use the server. Empty token and user: anyone who can connect (loopback only).
struct Access {
  std::string token;  // "Authorization: Bearer TOKEN"
  std::string user;   // basic auth
  std::string password;
  bool protected_access() const { return !token.empty() || !user.empty(); }
  // Whether an Authorization header value grants access (constant time in the secret).
  bool allows(const std::string& authorization) const;
};

// Refuses a non-loopback bind without protection: the one-line reason, or ok.
Status check_bind(const ListenAddress& listen, const Access& access);

// Whether a Host header is acceptable on a loopback bind (127.0.0.1, localhost, [::1], with
// or without the port).
bool loopback_host_header(const std::string& host_header);

// Compares without an early exit, so the time taken says nothing about the secret.
bool constant_time_equal(const std::string& a, const std::string& b);

// A random token (hex) from the kernel's generator.
std::string random_token(std::size_t bytes = 24);

// A token bucket per key: `rate` requests per second, bursts of up to `burst`.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : m_rate(rate), m_burst(burst) {}
  bool allow(const std::string& key, std::int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
    bool fresh = true;
  };
  std::mutex m_mutex;
  double m_rate;
  double m_burst;
  std::map<std::string, Bucket> m_buckets;
};

// application/x-www-form-urlencoded body -> fields (the last value of a repeated name wins).
std::map<std::string, std::string> parse_form(const std::string& body);

}  // namespace cw::serve
