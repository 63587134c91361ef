// cwsdk/support/oauth.hpp: device-code and PIN login, stored tokens, refresh on 401.
//
// Login (`cw auth login <instance>` calls auth_start once, then auth_poll every
// interval_ms until a final state). The plugin does the service's two requests; the kit
// keeps the state machine: interval, slow_down, expiry, denial, storing the token.
//
//   cwsdk::Reply auth_start(std::string_view request) {
//     auto reply = m_api.json(cwsdk::http::Request::post("/oauth/device/code")
//                                 .json({{"client_id", m_client_id}}));
//     if (!reply) return reply.error().reply();
//     cwsdk::DeviceCode code;                          // fill from the reply
//     code.device_code = cwsdk::get<std::string>(*reply, "device_code").value();
//     ...
//     return m_login.started(code);                    // m_login: cwsdk::DeviceFlow
//   }
//   cwsdk::Reply auth_poll(std::string_view) {
//     return m_login.poll([&](const cwsdk::DeviceCode& code) -> cwsdk::Result<cwsdk::PollResult> {
//       auto reply = m_api.send(cwsdk::http::Request::post("/oauth/device/token")...);
//       if (!reply) return reply.error();
//       if (reply->status == 400) return cwsdk::PollResult::pending();
//       if (reply->status == 429) return cwsdk::PollResult::slow_down();
//       if (reply->status == 418) return cwsdk::PollResult::denied("the user said no");
//       if (reply->status == 410) return cwsdk::PollResult::expired();
//       auto token = cwsdk::Token::from_reply(*reply->json(), m_host.now_ms());
//       if (!token) return token.error();
//       return cwsdk::PollResult::done(*token);
//     });
//   }
//
// DeviceFlow::poll answers "pending" without calling the service when it is asked sooner
// than the interval; "slow_down" adds 5 s to the interval; past expires_in it answers
// "expired" without a request; a transient or rate-limited failure is "pending" (a 429
// also slows down); on "done" it stores the token JSON with put_secret under its secret
// name and the flow ends. Any other failure ends the flow with that failure.
//
// Using the token: an OAuthSession is the http::Client's Authenticator. It reads the token
// (get_secret) on first use, sends "Authorization: Bearer <access_token>", renews it
// before it expires (60 s margin) and after a 401, through the plugin's refresh function,
// and stores the rotated token with put_secret. No stored token, or a refused refresh, is
// CW_STATUS_AUTH with a message that says to log in again.
#ifndef CWSDK_SUPPORT_OAUTH_HPP
#define CWSDK_SUPPORT_OAUTH_HPP

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/http.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/result.hpp>

namespace cwsdk {

struct Token {
  std::string access_token;
  std::string refresh_token;  // "" when the service gives none
  std::string token_type = "Bearer";
  std::optional<std::int64_t> expires_at_ms;  // none: does not expire
  std::string scope;

  // The stored form: {"access_token","refresh_token","token_type","expires_at_ms","scope"}.
  Json to_json() const {
    Json j{{"access_token", access_token}, {"token_type", token_type}};
    if (!refresh_token.empty()) j["refresh_token"] = refresh_token;
    if (expires_at_ms) j["expires_at_ms"] = *expires_at_ms;
    if (!scope.empty()) j["scope"] = scope;
    return j;
  }

  // A token endpoint's reply (RFC 6749 §5.1: access_token, token_type, expires_in seconds,
  // refresh_token, scope; `created_at` epoch seconds when the service sends it, else
  // `now_ms`) or the stored form. access_token is required.
  static Result<Token> from_reply(const Json& reply, std::int64_t now_ms) {
    Token t;
    auto access = cwsdk::get<std::string>(reply, "access_token");
    if (!access || access->empty())
      return Failure::of(CW_STATUS_AUTH, "token reply: /access_token: missing");
    t.access_token = std::move(*access);
    t.refresh_token = get_or(reply, "refresh_token", "");
    t.token_type = get_or(reply, "token_type", "Bearer");
    if (t.token_type.empty() || detail::iequals(t.token_type, "bearer")) t.token_type = "Bearer";
    t.scope = get_or(reply, "scope", "");
    if (auto at = get_optional<std::int64_t>(reply, "expires_at_ms"); at && *at) {
      t.expires_at_ms = **at;
    } else if (auto in = get_optional<std::int64_t>(reply, "expires_in"); in && *in && **in > 0) {
      const auto created = get_optional<std::int64_t>(reply, "created_at");
      const std::int64_t base = created && *created ? **created * 1000 : now_ms;
      t.expires_at_ms = base + **in * 1000;
    }
    return t;
  }

  bool expires_within(std::int64_t now_ms, std::int64_t margin_ms) const {
    return expires_at_ms && *expires_at_ms - margin_ms <= now_ms;
  }
};

// Reads and writes a Token as a host secret (JSON text).
inline Result<Token> load_token(const Host& host, std::string_view secret_name) {
  const auto text = host.secret(secret_name);
  if (!text || text->empty())
    return Failure::of(CW_STATUS_AUTH, "no token stored as '" + std::string(secret_name) +
                                           "': log in with `cw auth login <instance>`");
  auto doc = parse_json(*text, "stored token");
  if (!doc)
    return Failure::of(CW_STATUS_AUTH, "the stored token '" + std::string(secret_name) +
                                           "' is not token JSON: log in again");
  auto token = Token::from_reply(*doc, host.now_ms());
  if (!token)
    return Failure::of(CW_STATUS_AUTH, "the stored token '" + std::string(secret_name) +
                                           "' has no access_token: log in again");
  return token;
}
inline Status store_token(const Host& host, std::string_view secret_name, const Token& token) {
  const cw_status st = host.put_secret(secret_name, token.to_json().dump());
  if (st != CW_STATUS_OK)
    return Failure::of(CW_STATUS_INTERNAL, "the host could not store the token '" +
                                               std::string(secret_name) + "' (status " +
                                               std::string(status_name(st)) + ")");
  return {};
}

// The Authenticator for OAuth bearer tokens (see the top).
class OAuthSession final : public http::Authenticator {
 public:
  // Renews `current` (its refresh_token) at the service; a refusal is a failure.
  using RefreshFn = std::function<Result<Token>(const Token& current)>;

  OAuthSession(Host host, RefreshFn refresh, std::string secret_name = "token",
               std::int64_t margin_ms = 60000)
      : m_host(host),
        m_refresh(std::move(refresh)),
        m_name(std::move(secret_name)),
        m_margin_ms(margin_ms) {}

  Status authorize(http::Request& request) override {
    if (!m_token) {
      auto t = load_token(m_host, m_name);
      if (!t) return t.error();
      m_token = std::move(*t);
    }
    if (m_token->expires_within(m_host.now_ms(), m_margin_ms) && !m_token->refresh_token.empty()) {
      Status st = refresh();
      if (!st) return st;
    }
    request.header("Authorization", m_token->token_type + " " + m_token->access_token);
    return {};
  }

  Status refresh() override {
    if (!m_token) {
      auto t = load_token(m_host, m_name);
      if (!t) return t.error();
      m_token = std::move(*t);
    }
    if (m_token->refresh_token.empty())
      return Failure::of(CW_STATUS_AUTH, "the token '" + m_name +
                                             "' was refused and cannot be refreshed: log in "
                                             "again with `cw auth login <instance>`");
    auto fresh =
        m_refresh ? m_refresh(*m_token) : Result<Token>(Failure::internal("no refresh function"));
    if (!fresh) {
      Failure f = fresh.error().context("token refresh");
      if (f.status != CW_STATUS_TRANSIENT && f.status != CW_STATUS_RATE_LIMITED &&
          f.status != CW_STATUS_CANCELLED) {
        f.status = CW_STATUS_AUTH;
        f.message += ": log in again with `cw auth login <instance>`";
      }
      return f;
    }
    Token next = std::move(*fresh);
    if (next.refresh_token.empty()) next.refresh_token = m_token->refresh_token;
    Status stored = store_token(m_host, m_name, next);
    m_token = std::move(next);
    return stored;
  }

  const std::optional<Token>& token() const { return m_token; }

 private:
  Host m_host;
  RefreshFn m_refresh;
  std::string m_name;
  std::int64_t m_margin_ms;
  std::optional<Token> m_token;
};

// What the service issued at auth_start.
struct DeviceCode {
  std::string device_code;       // what the plugin polls with (a PIN flow: the pin's id)
  std::string user_code;         // what the user enters
  std::string verification_url;  // where the user enters it
  std::int64_t interval_ms = 5000;
  std::int64_t expires_in_ms = 600000;
  std::string message;  // shown to the user; a default names the URL and code
};

enum class PollState { pending, slow_down, done, denied, expired };

struct PollResult {
  PollState state = PollState::pending;
  Token token;  // for done
  std::string message;

  static PollResult pending() { return PollResult{}; }
  static PollResult slow_down() { return PollResult{PollState::slow_down, Token{}, ""}; }
  static PollResult done(Token token) { return PollResult{PollState::done, std::move(token), ""}; }
  static PollResult denied(std::string message = "the login was denied") {
    return PollResult{PollState::denied, Token{}, std::move(message)};
  }
  static PollResult expired() { return PollResult{PollState::expired, Token{}, ""}; }
};

enum class AuthKind { device_code, pin };

// The login state machine (see the top). One per instance; not thread-safe (the host never
// calls two operations of one instance at once).
class DeviceFlow {
 public:
  explicit DeviceFlow(Host host, std::string secret_name = "token",
                      AuthKind kind = AuthKind::device_code)
      : m_host(host), m_name(std::move(secret_name)), m_kind(kind) {}

  bool active() const { return m_code.has_value(); }
  std::int64_t interval_ms() const { return m_interval_ms; }

  // Remembers the code and answers auth_start.
  Reply started(const DeviceCode& code) {
    if (code.device_code.empty() || code.user_code.empty())
      return Failure::internal("auth_start: the service issued no device or user code").reply();
    m_code = code;
    m_interval_ms = code.interval_ms > 0 ? code.interval_ms : 5000;
    m_started_ms = m_host.now_ms();
    m_last_poll_ms.reset();
    Json doc{{"kind", m_kind == AuthKind::pin ? "pin" : "device_code"},
             {"user_code", code.user_code},
             {"verification_url", code.verification_url},
             {"interval_ms", m_interval_ms},
             {"expires_in_ms", code.expires_in_ms}};
    doc["message"] = code.message.empty()
                         ? "Open " + code.verification_url + " and enter the code " + code.user_code
                         : code.message;
    return Reply::ok(doc.dump());
  }

  // Answers auth_poll; `poll(const DeviceCode&) -> Result<PollResult>` asks the service.
  template <typename PollFn>
  Reply poll(PollFn&& poll_service) {
    if (!m_code)
      return Failure::invalid_arg("auth_poll: no login in progress; call auth_start first").reply();
    const std::int64_t now = m_host.now_ms();
    if (now - m_started_ms >= m_code->expires_in_ms)
      return finish("expired", "the code expired; start again");
    if (m_last_poll_ms && now - *m_last_poll_ms < m_interval_ms)
      return answer("pending", "waiting for the user");
    m_last_poll_ms = now;
    Result<PollResult> r = poll_service(static_cast<const DeviceCode&>(*m_code));
    if (!r) {
      const Failure& f = r.error();
      if (f.status == CW_STATUS_RATE_LIMITED) m_interval_ms += 5000;
      if (f.status == CW_STATUS_TRANSIENT || f.status == CW_STATUS_RATE_LIMITED)
        return answer("pending", f.message + "; still waiting");
      m_code.reset();
      return f.reply();
    }
    switch (r->state) {
      case PollState::pending:
        return answer("pending", r->message.empty() ? "waiting for the user" : r->message);
      case PollState::slow_down:
        m_interval_ms += 5000;
        return answer("pending", "the service asked to poll less often: every " +
                                     std::to_string(m_interval_ms / 1000) + " s");
      case PollState::denied:
        return finish("denied", r->message.empty() ? "the login was denied" : r->message);
      case PollState::expired:
        return finish("expired", r->message.empty() ? "the code expired; start again" : r->message);
      case PollState::done: {
        Status st = store_token(m_host, m_name, r->token);
        m_code.reset();
        if (!st) return st.error().reply();
        return answer("done", r->message.empty() ? "logged in" : r->message);
      }
    }
    return answer("pending", "");
  }

 private:
  static Reply answer(const char* state, const std::string& message) {
    Json doc{{"state", state}};
    if (!message.empty()) doc["message"] = message;
    return Reply::ok(doc.dump());
  }
  Reply finish(const char* state, const std::string& message) {
    m_code.reset();
    return answer(state, message);
  }

  Host m_host;
  std::string m_name;
  AuthKind m_kind;
  std::optional<DeviceCode> m_code;
  std::int64_t m_interval_ms = 5000;
  std::int64_t m_started_ms = 0;
  std::optional<std::int64_t> m_last_poll_ms;
};

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_OAUTH_HPP
