#pragma once
// FakeHttpService: an in-memory HttpService for tests and contract suites. It records every
// request (with its context) and answers from a script: responses queued for a method and
// URL prefix, consumed in order, or a fallback. It applies the same dry-run rule as the
// real service, so a plugin that writes during a dry run fails the same way.

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <cw/services/http/http_service.hpp>

namespace cw::services {

struct RecordedRequest {
  HttpContext context;  // `cancel` is not kept
  HttpRequest request;
};

// One scripted answer: a response, or an error (rate_limited, transient...).
struct ScriptedReply {
  std::optional<HttpResponse> response;
  std::optional<Error> error;
  // Chunk size for streaming the body to a BodySink (0: one chunk).
  std::size_t chunk = 0;
};

class FakeHttpService final : public HttpService {
 public:
  // Queues a reply for requests whose method equals `method` ("*" for any) and whose URL
  // (with query) starts with `url_prefix`. Replies for the same pattern are used in order;
  // the last one stays when `sticky` is set.
  void expect(std::string method, std::string url_prefix, ScriptedReply reply, bool sticky = false);
  // Shorthands.
  void respond(std::string method, std::string url_prefix, int status, std::string body,
               HeaderList headers = {}, bool sticky = false);
  void fail(std::string method, std::string url_prefix, Error error, bool sticky = false);
  // What unmatched requests get; default: status 404, body "fake: no scripted reply".
  void set_fallback(ScriptedReply reply);

  Result<HttpResponse> send(const HttpContext& ctx, const HttpRequest& request,
                            const BodySink& body_sink) override;

  std::vector<RecordedRequest> requests() const;
  std::size_t count(const std::string& method, const std::string& url_prefix) const;
  // Scripted replies never used: a test can assert that every expectation was met.
  std::size_t unused() const;
  void clear();

 private:
  struct Rule {
    std::string method;
    std::string prefix;
    std::deque<ScriptedReply> replies;
    bool sticky = false;
  };
  mutable std::mutex m_mutex;
  std::vector<Rule> m_rules;
  ScriptedReply m_fallback;
  bool m_has_fallback = false;
  std::vector<RecordedRequest> m_requests;
};

}  // namespace cw::services
