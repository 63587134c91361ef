#include <cwtest/fake_http_service.hpp>

#include <cw/services/http/http_policy.hpp>

namespace cw::services {

void FakeHttpService::expect(std::string method, std::string url_prefix, ScriptedReply reply,
                             bool sticky) {
  std::lock_guard lock(m_mutex);
  for (auto& r : m_rules)
    if (r.method == method && r.prefix == url_prefix) {
      r.replies.push_back(std::move(reply));
      r.sticky = r.sticky || sticky;
      return;
    }
  Rule rule{std::move(method), std::move(url_prefix), {}, sticky};
  rule.replies.push_back(std::move(reply));
  m_rules.push_back(std::move(rule));
}

void FakeHttpService::respond(std::string method, std::string url_prefix, int status,
                              std::string body, HeaderList headers, bool sticky) {
  HttpResponse resp;
  resp.status = status;
  resp.body = std::move(body);
  resp.headers = std::move(headers);
  expect(std::move(method), std::move(url_prefix), ScriptedReply{resp, std::nullopt, 0}, sticky);
}

void FakeHttpService::fail(std::string method, std::string url_prefix, Error error, bool sticky) {
  expect(std::move(method), std::move(url_prefix), ScriptedReply{std::nullopt, std::move(error), 0},
         sticky);
}

void FakeHttpService::set_fallback(ScriptedReply reply) {
  std::lock_guard lock(m_mutex);
  m_fallback = std::move(reply);
  m_has_fallback = true;
}

Result<HttpResponse> FakeHttpService::send(const HttpContext& ctx, const HttpRequest& request,
                                           const BodySink& body_sink) {
  ScriptedReply reply;
  {
    std::lock_guard lock(m_mutex);
    RecordedRequest rec{ctx, request};
    rec.context.cancel = nullptr;
    m_requests.push_back(std::move(rec));
    if (auto st = check_dry_run(ctx, request); !st) return st.error();
    if (ctx.cancel != nullptr && ctx.cancel->cancelled())
      return make_error(ctx.instance + ": cancelled", ErrorKind::cancelled);
    const std::string url = full_url(request);
    bool found = false;
    // The longest matching prefix wins, so a specific rule beats a catch-all.
    Rule* best = nullptr;
    for (auto& r : m_rules) {
      if (r.replies.empty()) continue;
      if (r.method != "*" && r.method != request.method) continue;
      if (url.rfind(r.prefix, 0) != 0) continue;
      if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
    }
    if (best != nullptr) {
      found = true;
      reply = best->replies.front();
      if (best->replies.size() > 1 || !best->sticky) best->replies.pop_front();
    }
    if (!found) {
      if (m_has_fallback) {
        reply = m_fallback;
      } else {
        HttpResponse resp;
        resp.status = 404;
        resp.body = "fake: no scripted reply for " + request.method + " " + url;
        reply.response = resp;
      }
    }
  }
  if (reply.error) return *reply.error;
  HttpResponse resp = reply.response.value_or(HttpResponse{});
  if (body_sink) {
    const std::string body = std::move(resp.body);
    resp.body.clear();
    const std::size_t step = reply.chunk == 0 ? std::max<std::size_t>(body.size(), 1) : reply.chunk;
    for (std::size_t off = 0; off < body.size(); off += step)
      body_sink(std::string_view(body).substr(off, step));
  }
  return resp;
}

std::vector<RecordedRequest> FakeHttpService::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

std::size_t FakeHttpService::count(const std::string& method, const std::string& url_prefix) const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& r : m_requests)
    if ((method == "*" || r.request.method == method) &&
        full_url(r.request).rfind(url_prefix, 0) == 0)
      ++n;
  return n;
}

std::size_t FakeHttpService::unused() const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& r : m_rules)
    n += r.sticky && !r.replies.empty() ? r.replies.size() - 1 : r.replies.size();
  return n;
}

void FakeHttpService::clear() {
  std::lock_guard lock(m_mutex);
  m_rules.clear();
  m_requests.clear();
  m_has_fallback = false;
}

}  // namespace cw::services
