#include <algorithm>
#include <cctype>
#include <fstream>

#include <arpa/inet.h>

#include <cw/serve/security.hpp>

namespace cw::serve {
namespace {

std::string base64_decode(const std::string& in) {
  static const std::string k_chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    if (c == '=') break;
    const auto pos = k_chars.find(static_cast<char>(c));
    if (pos == std::string::npos) return "";
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string ListenAddress::to_string() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

Result<ListenAddress> parse_listen(const std::string& text) {
  ListenAddress a;
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("--listen: expected [IPV6]:PORT, got \"" + text + "\"",
                        ErrorKind::invalid_arg);
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return make_error("--listen: expected HOST:PORT (127.0.0.1:8787), got \"" + text + "\"",
                        ErrorKind::invalid_arg);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (!host.empty()) a.host = host;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoi(port) > 65535)
    return make_error("--listen: the port must be a number from 0 to 65535, got \"" + port + "\"",
                      ErrorKind::invalid_arg);
  a.port = std::stoi(port);
  return a;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as an address: "127.0.0.1.example.com" is a name like any other.
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool Access::allows(const std::string& authorization) const {
  if (!protected_access()) return true;
  if (!token.empty() && authorization.rfind("Bearer ", 0) == 0 &&
      constant_time_equal(authorization.substr(7), token))
    return true;
  if (!user.empty() && authorization.rfind("Basic ", 0) == 0)
    return constant_time_equal(base64_decode(authorization.substr(6)), user + ":" + password);
  return false;
}

Status check_bind(const ListenAddress& listen, const Access& access) {
  if (is_loopback_host(listen.host) || access.protected_access()) return ok_status();
  return make_error("refusing to listen on " + listen.to_string() +
                        " without protection: anyone who can reach it could approve deletions; "
                        "set a token (--token-file, $CW_SERVE_TOKEN) or basic auth "
                        "(--basic-auth-file), or listen on 127.0.0.1",
                    ErrorKind::invalid_arg);
}

bool loopback_host_header(const std::string& host_header) {
  std::string host = host_header;
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return is_loopback_host(host);
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < b.size(); ++i)
    diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ b[i]);
  return diff == 0;
}

std::string random_token(std::size_t bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  urandom.read(raw.data(), static_cast<std::streamsize>(bytes));
  static const char* k_hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  }
  return out;
}

bool RateLimiter::allow(const std::string& key, std::int64_t now_ms) {
  std::lock_guard lock(m_mutex);
  auto& b = m_buckets[key];
  if (b.fresh) {
    b.tokens = m_burst;
    b.at_ms = now_ms;
    b.fresh = false;
  }
  if (now_ms > b.at_ms) {
    b.tokens =
        std::min(m_burst, b.tokens + static_cast<double>(now_ms - b.at_ms) * m_rate / 1000.0);
    b.at_ms = now_ms;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto amp = body.find('&', pos);
    if (amp == std::string::npos) amp = body.size();
    const std::string part = body.substr(pos, amp - pos);
    if (!part.empty()) {
      const auto eq = part.find('=');
      out[url_decode(part.substr(0, eq))] =
          eq == std::string::npos ? std::string() : url_decode(part.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return out;
}

}  // namespace cw::serve
