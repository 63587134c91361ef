#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include <termios.h>
#include <unistd.h>

#include <cw/services/clock/clock.hpp>
#include <cw/services/secrets/auth_flow.hpp>
#include <cw/services/secrets/redactor.hpp>

namespace cw::services {

std::string auth_env_name(std::string_view instance, std::string_view field) {
  std::string out = "CW_AUTH_";
  auto add = [&out](std::string_view s) {
    for (char c : s)
      out += std::isalnum(static_cast<unsigned char>(c))
                 ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                 : '_';
  };
  add(instance);
  out += '_';
  add(field);
  return out;
}

namespace {

std::string str_field(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::int64_t int_field(const nlohmann::json& doc, const char* key, std::int64_t fallback) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_number() ? it->get<std::int64_t>() : fallback;
}

}  // namespace

Status run_auth_login(AuthProvider& provider, const AuthLoginOptions& options, AuthIo& io) {
  const std::string& instance = provider.instance();
  std::ostream& out = io.out != nullptr ? *io.out : std::cerr;
  if (!provider.has_auth_operations())
    return make_error("provider " + instance + " (auth: " + provider.auth_kind() +
                          ") has no login flow; put its credentials in the configuration",
                      ErrorKind::unsupported);

  nlohmann::json fields = nlohmann::json::object();
  for (const auto& prompt : provider.prompts()) {
    std::string value;
    if (auto it = options.fields.find(prompt.name); it != options.fields.end()) {
      value = it->second;
    } else if (const char* env =
                   io.getenv ? io.getenv(auth_env_name(instance, prompt.name)) : nullptr;
               env != nullptr && *env != '\0') {
      value = env;
    } else if (!options.non_interactive && io.ask && io.ask(prompt, value)) {
      // answered at the terminal
    } else {
      return make_error("cw auth login " + instance + ": no value for '" + prompt.name +
                            "'; pass --field " + prompt.name + "=... or set " +
                            auth_env_name(instance, prompt.name),
                        ErrorKind::invalid_arg);
    }
    if (prompt.secret) register_secret(value);
    fields[prompt.name] = value;
  }

  auto started = provider.auth_start(nlohmann::json{{"fields", fields}});
  if (!started) return started.error();
  const nlohmann::json& start = *started;
  const std::string kind = str_field(start, "kind");
  const std::string message = str_field(start, "message");
  const std::string url = str_field(start, "verification_url");
  const std::string code = str_field(start, "user_code");
  if (kind == "device_code" || kind == "pin") {
    out << "To authorise cw for " << instance << ", open "
        << (url.empty() ? "the provider's site" : url) << " and enter the code: " << code << "\n";
  }
  if (!message.empty()) out << redact(message) << "\n";

  const bool waits = kind == "device_code" || kind == "pin";
  const std::int64_t interval =
      std::max<std::int64_t>(0, int_field(start, "interval_ms", waits ? 5000 : 0));
  std::int64_t budget = int_field(start, "expires_in_ms", options.max_wait_ms);
  if (budget <= 0) budget = options.max_wait_ms;
  if (waits) out << "Waiting for the authorisation";
  out.flush();
  std::int64_t waited = 0;
  for (;;) {
    auto polled = provider.auth_poll(nlohmann::json::object());
    if (!polled) {
      if (waits) out << "\n";
      return polled.error();
    }
    const std::string state = str_field(*polled, "state");
    const std::string pmsg = str_field(*polled, "message");
    if (state == "done") {
      if (waits) out << "\n";
      out << "Logged in: " << instance << (pmsg.empty() ? "" : " (" + redact(pmsg) + ")") << "\n";
      return ok_status();
    }
    if (state == "denied" || state == "expired") {
      if (waits) out << "\n";
      return make_error("cw auth login " + instance + ": the authorisation was " + state +
                            (pmsg.empty() ? "" : " (" + redact(pmsg) + ")") +
                            "; run the command again",
                        ErrorKind::auth);
    }
    if (state != "pending") {
      if (waits) out << "\n";
      return make_error("cw auth login " + instance +
                            ": the plugin answered auth_poll with state '" + state +
                            "'; expected pending, done, denied or expired",
                        ErrorKind::internal);
    }
    const std::int64_t step = std::max<std::int64_t>(interval, 1);
    if (waited + step > budget) {
      if (waits) out << "\n";
      return make_error("cw auth login " + instance + ": no answer within " +
                            std::to_string(budget / 1000) + " s; run the command again",
                        ErrorKind::auth);
    }
    if (io.sleep && !io.sleep(step)) {
      if (waits) out << "\n";
      return make_error("cw auth login " + instance + ": cancelled", ErrorKind::cancelled);
    }
    waited += step;
    if (waits) out << "." << std::flush;
  }
}

AuthIo terminal_auth_io(std::ostream& out) {
  AuthIo io;
  io.out = &out;
  io.ask = [&out](const AuthPrompt& prompt, std::string& answer) {
    if (!::isatty(STDIN_FILENO)) return false;
    out << (prompt.label.empty() ? prompt.name : prompt.label) << ": " << std::flush;
    termios old{};
    const bool hide = prompt.secret && ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (hide) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    const bool got = static_cast<bool>(std::getline(std::cin, answer));
    if (hide) {
      ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
      out << "\n";
    }
    return got && !answer.empty();
  };
  io.getenv = [](const std::string& name) { return std::getenv(name.c_str()); };
  io.sleep = [](std::int64_t ms) {
    static const SystemClock clock;
    return clock.sleep_ms(ms, nullptr);
  };
  return io;
}

}  // namespace cw::services
