#include "anilist/anilist_fake.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "anilist/graphql_doc.hpp"
#include "anilist/graphql_schema.hpp"
#include "trakt/tracker_util.hpp"

namespace cw::fakes {

namespace {

using nlohmann::json;
using Req = httplib::Request;
using Res = httplib::Response;
namespace tk = tracker;
namespace gql = graphql;

constexpr const char* k_default_access = "cw-sandbox-anilist-access-token";
constexpr const char* k_default_client_id = "4242";
constexpr const char* k_default_client_secret = "cw-sandbox-anilist-client-secret";

json error_entry(const std::string& message, int status, int line = 0, int column = 0) {
  json e = {{"message", message}, {"status", status}};
  if (line > 0) e["locations"] = json::array({{{"line", line}, {"column", column}}});
  return e;
}

// AniList's score conversions from the raw 0-100 value.
json score_in_format(int raw, const std::string& format) {
  if (format == "POINT_100") return raw;
  if (format == "POINT_10_DECIMAL") return std::round(raw) / 10.0;
  if (format == "POINT_10") return static_cast<int>(std::lround(raw / 10.0));
  if (format == "POINT_5") return static_cast<int>(std::lround(raw / 20.0));
  if (format == "POINT_3") return raw == 0 ? 0 : raw <= 35 ? 1 : raw <= 60 ? 2 : 3;
  return raw;
}

int raw_from_format(double score, const std::string& format) {
  if (format == "POINT_100") return static_cast<int>(std::lround(score));
  if (format == "POINT_10_DECIMAL" || format == "POINT_10")
    return static_cast<int>(std::lround(score * 10));
  if (format == "POINT_5") return static_cast<int>(std::lround(score * 20));
  if (format == "POINT_3") return score <= 0 ? 0 : score <= 1 ? 35 : score <= 2 ? 60 : 85;
  return static_cast<int>(std::lround(score));
}

const char* group_name(const std::string& status) {
  if (status == "CURRENT") return "Watching";
  if (status == "PLANNING") return "Planning";
  if (status == "COMPLETED") return "Completed";
  if (status == "DROPPED") return "Dropped";
  if (status == "PAUSED") return "Paused";
  if (status == "REPEATING") return "Rewatching";
  return "Custom";
}

const std::vector<std::string>& statuses() {
  static const std::vector<std::string> k{"CURRENT", "PLANNING", "COMPLETED",
                                          "DROPPED", "PAUSED",   "REPEATING"};
  return k;
}

// AniList's schema, parsed once from the SDL compiled into the sandbox.
const gql::Schema& schema() {
  static const gql::Schema k_schema = [] {
    gql::ParseError err;
    auto parsed = gql::parse_schema(gql::anilist_schema_sdl(), err);
    if (!parsed) {
      throw std::runtime_error("anilist fake: the compiled-in schema does not parse: " +
                               err.message + " at line " + std::to_string(err.line));
    }
    return *parsed;
  }();
  return k_schema;
}

// Thrown by resolvers to fail the whole request with an HTTP status (401, 400).
struct RequestError {
  int http;
  json error;
};

class AnilistFake final : public FakeService {
 public:
  AnilistFake() { reset_locked(); }

  std::string name() const override { return "anilist"; }
  void register_routes(httplib::Server& srv, Context& ctx) override;

  void seed(const json& fixture) override {
    std::lock_guard lock(m_mutex);
    reset_locked();
    load_locked(fixture);
  }
  void seed_universe(const json& u) override { seed(universe_fixture(u)); }
  json state() const override {
    std::lock_guard lock(m_mutex);
    json media = json::array();
    for (const auto& [id, m] : m_media) media.push_back(m);
    return {{"viewer", m_viewer},
            {"media", media},
            {"entries", m_entries},
            {"auth",
             {{"access_token", m_access_token},
              {"client_id", m_client_id},
              {"client_secret", m_client_secret}}},
            {"options",
             {{"rate_limit", m_rate_limit}, {"window_s", m_window_s}, {"lockout_s", m_lockout_s}}}};
  }
  void reset() override {
    std::lock_guard lock(m_mutex);
    reset_locked();
  }
  json credentials() const override {
    std::lock_guard lock(m_mutex);
    return {{"access_token", m_access_token},
            {"client_id", m_client_id},
            {"client_secret", m_client_secret},
            {"user", {{"id", m_viewer.value("id", 0)}, {"name", m_viewer.value("name", "")}}}};
  }
  std::string provider_yaml(const std::string& base_url) const override {
    std::lock_guard lock(m_mutex);
    return "  anilist:\n    plugin: anilist\n    url: " + base_url +
           "\n    access_token: " + m_access_token + "\n";
  }
  void fault_response(int status, const Req& /*req*/, Res& res) const override {
    if (status == 429) {
      res.set_header("X-RateLimit-Limit", std::to_string(m_rate_limit > 0 ? m_rate_limit : 90));
      res.set_header("X-RateLimit-Remaining", "0");
      send_json(
          res,
          {{"data", nullptr}, {"errors", json::array({error_entry("Too Many Requests.", 429)})}},
          429);
      return;
    }
    if (status == 401) {
      send_json(res,
                {{"data", nullptr}, {"errors", json::array({error_entry("Invalid token", 401)})}},
                401);
      return;
    }
    send_json(res,
              {{"data", nullptr},
               {"errors", json::array({error_entry(
                              status >= 500 ? "Internal Server Error" : "Bad Request", status)})}},
              status);
  }

 private:
  void reset_locked() {
    m_viewer = {{"id", 424242},
                {"name", "sandbox"},
                {"mediaListOptions", {{"scoreFormat", "POINT_10"}, {"rowOrder", "score"}}},
                {"siteUrl", "https://anilist.co/user/sandbox"}};
    m_media.clear();
    m_entries = json::array();
    m_next_entry = 300000001;
    m_access_token = k_default_access;
    m_client_id = k_default_client_id;
    m_client_secret = k_default_client_secret;
    m_rate_limit = 90;
    m_window_s = 60;
    m_lockout_s = 60;
    m_window_start = 0;
    m_window_count = 0;
    m_locked_until = 0;
    m_auth_codes.clear();
    if (m_ctx) m_ctx->set_valid_tokens({m_access_token});
  }

  void load_locked(const json& f) {
    if (!f.is_object()) return;
    if (auto it = f.find("viewer"); it != f.end() && it->is_object()) {
      for (const auto& [k, v] : it->items()) m_viewer[k] = v;
    }
    for (const auto& m : tk::array_or_empty(f, "media")) {
      if (m.contains("id")) m_media[m["id"].get<std::int64_t>()] = m;
    }
    for (const auto& e : tk::array_or_empty(f, "entries")) {
      json entry = e;
      if (!entry.contains("id")) entry["id"] = m_next_entry++;
      if (entry["id"].get<std::int64_t>() >= m_next_entry)
        m_next_entry = entry["id"].get<std::int64_t>() + 1;
      if (!entry.contains("userId")) entry["userId"] = m_viewer["id"];
      if (!entry.contains("scoreRaw")) entry["scoreRaw"] = 0;
      for (const char* k : {"progress", "repeat", "priority"}) {
        if (!entry.contains(k)) entry[k] = 0;
      }
      if (!entry.contains("private")) entry["private"] = false;
      if (!entry.contains("notes")) entry["notes"] = nullptr;
      for (const char* k : {"startedAt", "completedAt"}) {
        if (!entry.contains(k))
          entry[k] = {{"year", nullptr}, {"month", nullptr}, {"day", nullptr}};
      }
      for (const char* k : {"updatedAt", "createdAt"}) {
        if (!entry.contains(k)) entry[k] = 0;
      }
      m_entries.push_back(entry);
    }
    if (auto it = f.find("auth"); it != f.end() && it->is_object()) {
      m_access_token = it->value("access_token", m_access_token);
      m_client_id = it->value("client_id", m_client_id);
      m_client_secret = it->value("client_secret", m_client_secret);
    }
    if (auto it = f.find("options"); it != f.end() && it->is_object()) {
      m_rate_limit = it->value("rate_limit", m_rate_limit);
      m_window_s = it->value("window_s", m_window_s);
      m_lockout_s = it->value("lockout_s", m_lockout_s);
    }
    if (m_ctx) m_ctx->set_valid_tokens({m_access_token});
  }

  static json universe_fixture(const json& u) {
    json media = json::array();
    json entries = json::array();
    std::map<std::string, std::int64_t> ids;  // universe key -> anilist id
    auto add = [&](const json& item, const char* format, int episodes) {
      const json src = item.value("ids", json::object());
      if (!src.contains("anilist")) return;
      const std::int64_t id = std::atoll(tk::id_text(src["anilist"]).c_str());
      json m = {{"id", id},
                {"idMal",
                 src.contains("mal") ? json(std::atoll(tk::id_text(src["mal"]).c_str())) : json()},
                {"type", "ANIME"},
                {"format", format},
                {"title",
                 {{"romaji", item.value("title", "")},
                  {"english", item.value("title", "")},
                  {"native", nullptr}}},
                {"seasonYear", item.value("year", json())},
                {"startDate",
                 {{"year", item.value("year", json())}, {"month", nullptr}, {"day", nullptr}}},
                {"episodes", episodes}};
      media.push_back(m);
      ids[tk::universe_key(item)] = id;
    };
    for (const auto& m : tk::array_or_empty(u, "movies")) {
      if (m.value("anime", false)) add(m, "MOVIE", 1);
    }
    for (const auto& s : tk::array_or_empty(u, "shows")) {
      if (!s.value("anime", false)) continue;
      int eps = 0;
      for (const auto& se : tk::array_or_empty(s, "seasons"))
        eps += static_cast<int>(tk::array_or_empty(se, "episodes").size());
      add(s, "TV", eps);
    }
    std::map<std::int64_t, json> by_media;
    std::int64_t next = 1;
    auto entry_for = [&](std::int64_t media_id, const std::string& status) -> json& {
      auto it = by_media.find(media_id);
      if (it != by_media.end()) return it->second;
      json e = {{"id", next++},
                {"mediaId", media_id},
                {"status", status},
                {"scoreRaw", 0},
                {"progress", 0}};
      return by_media.emplace(media_id, e).first->second;
    };
    auto epoch = [](const json& iso) {
      return tk::parse_iso(iso.is_string() ? iso.get<std::string>() : "").value_or(0) / 1000;
    };
    for (const auto& w : tk::array_or_empty(u, "watchlist")) {
      auto it = ids.find(tk::universe_key(w));
      if (it == ids.end()) continue;
      json& e = entry_for(it->second, "PLANNING");
      e["createdAt"] = epoch(w.value("listed_at", json()));
      e["updatedAt"] = e["createdAt"];
    }
    for (const auto& h : tk::array_or_empty(u, "history")) {
      json ref = h;
      if (h.value("type", "") == "episode") {
        ref = h.value("show", json::object());
        ref["type"] = "show";
      }
      auto it = ids.find(tk::universe_key(ref));
      if (it == ids.end()) continue;
      json& e = entry_for(it->second, "CURRENT");
      if (e["status"] == "PLANNING") e["status"] = "CURRENT";
      e["progress"] = e["progress"].get<int>() + 1;
      e["updatedAt"] =
          std::max(e.value("updatedAt", std::int64_t{0}), epoch(h.value("watched_at", json())));
    }
    for (const auto& r : tk::array_or_empty(u, "ratings")) {
      auto it = ids.find(tk::universe_key(r));
      if (it == ids.end()) continue;
      json& e = entry_for(it->second, "COMPLETED");
      e["scoreRaw"] = r.value("rating", 0) * 10;
      e["updatedAt"] =
          std::max(e.value("updatedAt", std::int64_t{0}), epoch(r.value("rated_at", json())));
    }
    for (auto& [mid, e] : by_media) entries.push_back(e);
    return {{"media", media}, {"entries", entries}};
  }

  // ---------- rate limit ----------
  // Returns false (and answers 429) when the token's per-minute budget is spent.
  bool rate_gate(Res& res) {
    if (m_rate_limit <= 0) return true;
    const std::int64_t now = m_ctx->now_ms();
    if (now < m_locked_until) {
      reject_rate(res, now);
      return false;
    }
    if (now - m_window_start >= m_window_s * 1000) {
      m_window_start = now;
      m_window_count = 0;
    }
    if (m_window_count >= m_rate_limit) {
      m_locked_until = now + m_lockout_s * 1000;
      reject_rate(res, now);
      return false;
    }
    ++m_window_count;
    res.set_header("X-RateLimit-Limit", std::to_string(m_rate_limit));
    res.set_header("X-RateLimit-Remaining", std::to_string(m_rate_limit - m_window_count));
    return true;
  }

  void reject_rate(Res& res, std::int64_t now) {
    const std::int64_t wait_s = std::max<std::int64_t>(1, (m_locked_until - now + 999) / 1000);
    res.set_header("Retry-After", std::to_string(wait_s));
    res.set_header("X-RateLimit-Reset", std::to_string(m_locked_until / 1000));
    fault_response(429, Req{}, res);
  }

  // ---------- execution ----------
  struct Exec {
    const gql::Document* doc = nullptr;
    const gql::Operation* op = nullptr;
    json vars = json::object();
    bool authed = false;
    json errors = json::array();
    int http = 200;
  };

  std::optional<json> arg(const Exec& ex, const gql::Field& f, const char* name) const {
    auto it = f.args.find(name);
    if (it == f.args.end()) return std::nullopt;
    auto v = gql::resolve_value(it->second, ex.vars, *ex.op);
    if (!v || v->is_null()) return std::nullopt;
    return v;
  }

  std::string score_format() const {
    return m_viewer.value("mediaListOptions", json::object()).value("scoreFormat", "POINT_10");
  }

  const json* entry_by_media(std::int64_t media_id) const {
    for (const auto& e : m_entries) {
      if (e.value("mediaId", std::int64_t{-1}) == media_id) return &e;
    }
    return nullptr;
  }

  // Answers the selection over `src`, typed by the schema: fields the source lacks get the value
  // the schema allows for what the fake does not model (never null for an object, list or
  // Boolean the schema promises).
  json project(Exec& ex, const json& src, const std::string& type,
               const std::vector<gql::Selection>& sels) const {
    if (src.is_null()) return nullptr;
    if (src.is_array()) {
      json out = json::array();
      for (const auto& item : src) out.push_back(project(ex, item, type, sels));
      return out;
    }
    json out = json::object();
    for (const gql::Field* f : gql::collect_fields(sels, *ex.doc, ex.vars, *ex.op, type)) {
      if (f->name == "__typename") {
        out[f->key()] = type;
        continue;
      }
      const gql::FieldDef* def = schema().field(type, f->name);
      json value;
      if (auto computed = computed_field(ex, src, type, *f)) {
        value = *computed;
      } else if (auto it = src.find(f->name); src.is_object() && it != src.end()) {
        value = *it;
      } else if (def) {
        value = gql::unmodelled_value(schema(), *def->type);
      }
      if (def && f->has_selection_set && (value.is_object() || value.is_array())) {
        value = project(ex, value, def->type->named(), f->selections);
      }
      out[f->key()] = value;
    }
    return out;
  }

  std::optional<json> computed_field(Exec& ex, const json& src, const std::string& type,
                                     const gql::Field& f) const {
    if (type == "MediaList") {
      if (f.name == "score") {
        auto format = arg(ex, f, "format");
        return score_in_format(src.value("scoreRaw", 0),
                               format ? format->get<std::string>() : score_format());
      }
      if (f.name == "media") {
        auto it = m_media.find(src.value("mediaId", std::int64_t{0}));
        return it == m_media.end() ? json() : it->second;
      }
      if (f.name == "user") return m_viewer;
    }
    if (type == "Media" && f.name == "mediaListEntry") {
      if (!ex.authed) return json();
      const json* e = entry_by_media(src.value("id", std::int64_t{0}));
      return e ? *e : json();
    }
    return std::nullopt;
  }

  bool media_matches(const Exec& ex, const gql::Field& f, const json& m) const {
    if (auto v = arg(ex, f, "id"); v && m.value("id", json()) != *v) return false;
    if (auto v = arg(ex, f, "idMal"); v && m.value("idMal", json()) != *v) return false;
    if (auto v = arg(ex, f, "type"); v && m.value("type", "ANIME") != *v) return false;
    if (auto v = arg(ex, f, "format"); v && m.value("format", json()) != *v) return false;
    if (auto v = arg(ex, f, "seasonYear"); v && m.value("seasonYear", json()) != *v) return false;
    if (auto v = arg(ex, f, "id_in"); v && v->is_array()) {
      if (std::find(v->begin(), v->end(), m.value("id", json())) == v->end()) return false;
    }
    if (auto v = arg(ex, f, "idMal_in"); v && v->is_array()) {
      if (std::find(v->begin(), v->end(), m.value("idMal", json())) == v->end()) return false;
    }
    if (auto v = arg(ex, f, "search"); v && v->is_string()) {
      const std::string needle = lower(v->get<std::string>());
      bool hit = false;
      const json title = m.value("title", json::object());
      for (const char* k : {"romaji", "english", "native", "userPreferred"}) {
        if (title.contains(k) && title[k].is_string() &&
            lower(title[k].get<std::string>()).find(needle) != std::string::npos) {
          hit = true;
        }
      }
      for (const auto& s : m.value("synonyms", json::array())) {
        if (s.is_string() && lower(s.get<std::string>()).find(needle) != std::string::npos)
          hit = true;
      }
      if (!hit) return false;
    }
    return true;
  }

  bool entry_matches(const Exec& ex, const gql::Field& f, const json& e) const {
    if (auto v = arg(ex, f, "id"); v && e.value("id", json()) != *v) return false;
    if (auto v = arg(ex, f, "mediaId"); v && e.value("mediaId", json()) != *v) return false;
    if (auto v = arg(ex, f, "userId"); v && m_viewer.value("id", json()) != *v) return false;
    if (auto v = arg(ex, f, "userName"); v && m_viewer.value("name", json()) != *v) return false;
    if (auto v = arg(ex, f, "status"); v && e.value("status", json()) != *v) return false;
    if (auto v = arg(ex, f, "status_in"); v && v->is_array()) {
      if (std::find(v->begin(), v->end(), e.value("status", json())) == v->end()) return false;
    }
    if (auto v = arg(ex, f, "status_not_in"); v && v->is_array()) {
      if (std::find(v->begin(), v->end(), e.value("status", json())) != v->end()) return false;
    }
    if (auto v = arg(ex, f, "type"); v) {
      auto it = m_media.find(e.value("mediaId", std::int64_t{0}));
      const std::string type = it == m_media.end() ? "ANIME" : it->second.value("type", "ANIME");
      if (type != *v) return false;
    }
    return true;
  }

  void require_auth(const Exec& ex, const gql::Field& f) const {
    if (!ex.authed) throw RequestError{401, error_entry("Unauthorized.", 401, f.line, f.column)};
  }

  // One root field of a query or mutation; `out` receives data[key].
  void root_field(Exec& ex, const gql::Field& f, json& data) {
    const std::string& n = f.name;
    auto not_found = [&]() {
      ex.errors.push_back(error_entry("Not Found.", 404, f.line, f.column));
      ex.http = 404;
      data[f.key()] = nullptr;
    };
    if (ex.op->type == "mutation") {
      require_auth(ex, f);
      if (n == "SaveMediaListEntry") {
        data[f.key()] = project(ex, save_entry(ex, f), "MediaList", f.selections);
        return;
      }
      if (n == "DeleteMediaListEntry") {
        auto id = arg(ex, f, "id");
        bool deleted = false;
        if (id) {
          const std::size_t before = m_entries.size();
          json kept = json::array();
          for (auto& e : m_entries) {
            if (e.value("id", json()) != *id) kept.push_back(std::move(e));
          }
          m_entries = std::move(kept);
          deleted = m_entries.size() != before;
        }
        data[f.key()] = project(ex, json{{"deleted", deleted}}, "Deleted", f.selections);
        return;
      }
      // Valid against the schema, but beyond what a list-sync sandbox models.
      throw RequestError{400, error_entry("The sandbox does not model the mutation \"" + n + "\".",
                                          400, f.line, f.column)};
    }
    if (n == "Viewer") {
      require_auth(ex, f);
      data[f.key()] = project(ex, m_viewer, "User", f.selections);
      return;
    }
    if (n == "User") {
      auto id = arg(ex, f, "id");
      auto name = arg(ex, f, "name");
      if ((id && *id != m_viewer.value("id", json())) ||
          (name && *name != m_viewer.value("name", json()))) {
        not_found();
        return;
      }
      data[f.key()] = project(ex, m_viewer, "User", f.selections);
      return;
    }
    if (n == "Media") {
      for (const auto& [id, m] : m_media) {
        if (media_matches(ex, f, m)) {
          data[f.key()] = project(ex, m, "Media", f.selections);
          return;
        }
      }
      not_found();
      return;
    }
    if (n == "MediaList") {
      for (const auto& e : m_entries) {
        if (entry_matches(ex, f, e)) {
          data[f.key()] = project(ex, e, "MediaList", f.selections);
          return;
        }
      }
      not_found();
      return;
    }
    if (n == "MediaListCollection") {
      if (!arg(ex, f, "userId") && !arg(ex, f, "userName")) {
        throw RequestError{
            400, error_entry("Either userId or userName is required.", 400, f.line, f.column)};
      }
      auto uid = arg(ex, f, "userId");
      auto uname = arg(ex, f, "userName");
      if ((uid && *uid != m_viewer.value("id", json())) ||
          (uname && *uname != m_viewer.value("name", json()))) {
        not_found();
        return;
      }
      json lists = json::array();
      for (const auto& status : statuses()) {
        json entries = json::array();
        for (const auto& e : m_entries) {
          if (e.value("status", "") == status && entry_matches(ex, f, e)) entries.push_back(e);
        }
        if (entries.empty()) continue;
        lists.push_back({{"name", group_name(status)},
                         {"isCustomList", false},
                         {"isSplitCompletedList", false},
                         {"status", status},
                         {"entries", entries}});
      }
      json coll = {{"lists", lists}, {"user", m_viewer}, {"hasNextChunk", false}};
      data[f.key()] = project(ex, coll, "MediaListCollection", f.selections);
      return;
    }
    if (n == "Page") {
      data[f.key()] = page(ex, f);
      return;
    }
    // Other root fields exist in the schema but hold nothing here: AniList's answer for an
    // unknown record.
    not_found();
  }

  json page(Exec& ex, const gql::Field& f) {
    const int page_no = std::max<int>(1, arg(ex, f, "page").value_or(json(1)).get<int>());
    const int per_page =
        std::clamp<int>(arg(ex, f, "perPage").value_or(json(50)).get<int>(), 1, 50);
    std::size_t total = 0;
    json out = json::object();
    const auto fields = gql::collect_fields(f.selections, *ex.doc, ex.vars, *ex.op, "Page");
    for (const gql::Field* c : fields) {
      json items = json::array();
      std::string type;
      if (c->name == "media") {
        type = "Media";
        for (const auto& [id, m] : m_media) {
          if (media_matches(ex, *c, m)) items.push_back(m);
        }
      } else if (c->name == "mediaList") {
        type = "MediaList";
        for (const auto& e : m_entries) {
          if (entry_matches(ex, *c, e)) items.push_back(e);
        }
      } else {
        if (c->name != "pageInfo" && c->name != "__typename") {
          if (const gql::FieldDef* def = schema().field("Page", c->name)) {
            out[c->key()] = gql::unmodelled_value(schema(), *def->type);  // [] for the lists
          }
        }
        continue;
      }
      total = items.size();
      json slice = json::array();
      const std::size_t start =
          static_cast<std::size_t>(page_no - 1) * static_cast<std::size_t>(per_page);
      for (std::size_t i = start;
           i < items.size() && i < start + static_cast<std::size_t>(per_page); ++i) {
        slice.push_back(items[i]);
      }
      out[c->key()] = project(ex, slice, type, c->selections);
    }
    const int last =
        std::max<int>(1, static_cast<int>((total + static_cast<std::size_t>(per_page) - 1) /
                                          static_cast<std::size_t>(per_page)));
    const json info = {{"total", total},
                       {"perPage", per_page},
                       {"currentPage", page_no},
                       {"lastPage", last},
                       {"hasNextPage", page_no < last}};
    for (const gql::Field* c : fields) {
      if (c->name == "pageInfo") out[c->key()] = project(ex, info, "PageInfo", c->selections);
      if (c->name == "__typename") out[c->key()] = "Page";
    }
    return out;
  }

  json save_entry(Exec& ex, const gql::Field& f) {
    auto id = arg(ex, f, "id");
    auto media_id = arg(ex, f, "mediaId");
    json* entry = nullptr;
    if (id) {
      for (auto& e : m_entries) {
        if (e.value("id", json()) == *id) entry = &e;
      }
      if (!entry) throw RequestError{404, error_entry("Not Found.", 404, f.line, f.column)};
    } else if (media_id) {
      if (!m_media.count(media_id->get<std::int64_t>())) {
        throw RequestError{404, error_entry("Not Found.", 404, f.line, f.column)};
      }
      for (auto& e : m_entries) {
        if (e.value("mediaId", json()) == *media_id) entry = &e;
      }
    } else {
      json err = error_entry("validation", 400, f.line, f.column);
      err["validation"] = {
          {"mediaId", json::array({"The media id field is required when id is not present."})}};
      throw RequestError{400, err};
    }
    const std::int64_t now = m_ctx->now_s();
    if (auto status = arg(ex, f, "status")) {
      const auto& all = statuses();
      if (!status->is_string() ||
          std::find(all.begin(), all.end(), status->get<std::string>()) == all.end()) {
        throw RequestError{
            400, error_entry("Variable \"$status\" got invalid value.", 400, f.line, f.column)};
      }
    }
    if (!entry) {
      // A new entry with no status given starts as CURRENT (AniList's default is undocumented).
      m_entries.push_back(
          {{"id", m_next_entry++},
           {"userId", m_viewer["id"]},
           {"mediaId", *media_id},
           {"status", "CURRENT"},
           {"scoreRaw", 0},
           {"progress", 0},
           {"repeat", 0},
           {"priority", 0},
           {"private", false},
           {"notes", nullptr},
           {"startedAt", {{"year", nullptr}, {"month", nullptr}, {"day", nullptr}}},
           {"completedAt", {{"year", nullptr}, {"month", nullptr}, {"day", nullptr}}},
           {"updatedAt", now},
           {"createdAt", now}});
      entry = &m_entries.back();
    }
    json& e = *entry;
    if (auto v = arg(ex, f, "status")) e["status"] = *v;
    if (auto v = arg(ex, f, "scoreRaw"); v && v->is_number())
      e["scoreRaw"] = std::clamp(v->get<int>(), 0, 100);
    if (auto v = arg(ex, f, "score"); v && v->is_number()) {
      e["scoreRaw"] = std::clamp(raw_from_format(v->get<double>(), score_format()), 0, 100);
    }
    for (const char* k : {"progress", "repeat", "priority", "private", "notes", "startedAt",
                          "completedAt", "hiddenFromStatusLists"}) {
      if (auto v = arg(ex, f, k)) e[k] = *v;
    }
    e["updatedAt"] = now;
    return e;
  }

  void graphql(const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    if (!rate_gate(res)) return;
    const std::string token = bearer_token(req);
    Exec ex;
    if (!token.empty()) {
      if (!m_ctx->token_valid(req, token)) {
        fault_response(401, req, res);
        return;
      }
      ex.authed = true;
    }
    auto body = tk::parse_json_body(req);
    std::string query;
    if (body && body->is_object() && (*body)["query"].is_string()) {
      query = (*body)["query"].get<std::string>();
      const json vars = body->value("variables", json::object());
      if (vars.is_string()) {
        ex.vars = json::parse(vars.get<std::string>(), nullptr, false);
        if (ex.vars.is_discarded()) ex.vars = json::object();
      } else if (vars.is_object()) {
        ex.vars = vars;
      }
    } else if (req.has_param("query")) {
      query = req.get_param_value("query");
    }
    if (query.empty()) {
      send_json(res,
                {{"errors", json::array({error_entry("Must provide query string.", 400)})},
                 {"data", nullptr}},
                400);
      return;
    }
    gql::ParseError perr;
    auto doc = gql::parse(query, perr);
    if (!doc) {
      send_json(res,
                {{"errors", json::array({error_entry(perr.message, 400, perr.line, perr.column)})},
                 {"data", nullptr}},
                400);
      return;
    }
    const std::string op_name = body && body->is_object() ? body->value("operationName", "") : "";
    const gql::Operation* op = &doc->operations.front();
    for (const auto& o : doc->operations) {
      if (!op_name.empty() && o.name == op_name) op = &o;
    }
    ex.doc = &*doc;
    ex.op = op;
    // AniList validates the whole document before it runs any of it: HTTP 400, data null.
    const auto invalid = gql::validate(schema(), *doc, *op, ex.vars);
    if (!invalid.empty()) {
      json errors = json::array();
      for (const auto& e : invalid) errors.push_back(error_entry(e.message, 400, e.line, e.column));
      send_json(res, {{"errors", errors}, {"data", nullptr}}, 400);
      return;
    }
    json data = json::object();
    try {
      for (const gql::Field* f : gql::collect_fields(op->selections, *doc, ex.vars, *op)) {
        root_field(ex, *f, data);
      }
    } catch (const RequestError& e) {
      send_json(res, {{"errors", json::array({e.error})}, {"data", nullptr}}, e.http);
      return;
    }
    json out = {{"data", data}};
    if (!ex.errors.empty()) out["errors"] = ex.errors;
    send_json(res, out, ex.http);
  }

  mutable std::mutex m_mutex;
  Context* m_ctx = nullptr;
  json m_viewer;
  std::map<std::int64_t, json> m_media;
  json m_entries;
  std::int64_t m_next_entry = 1;
  std::string m_access_token, m_client_id, m_client_secret;
  std::vector<std::string> m_auth_codes;
  int m_rate_limit = 90;
  int m_window_s = 60;
  int m_lockout_s = 60;
  std::int64_t m_window_start = 0;
  int m_window_count = 0;
  std::int64_t m_locked_until = 0;
};

void AnilistFake::register_routes(httplib::Server& srv, Context& ctx) {
  {
    std::lock_guard lock(m_mutex);
    m_ctx = &ctx;
    m_ctx->set_valid_tokens({m_access_token});
  }
  srv.Post("/", [this](const Req& req, Res& res) { graphql(req, res); });
  srv.Get("/", [this](const Req& req, Res& res) { graphql(req, res); });
  // The OAuth token endpoint lives on anilist.co; the sandbox serves it on the same port.
  srv.Post("/api/v2/oauth/token", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    // client_id arrives as a number or a string.
    if (!body || tk::id_text(body->value("client_id", json())) != m_client_id ||
        body->value("client_secret", "") != m_client_secret) {
      send_json(res, {{"error", "invalid_client"}, {"message", "Client authentication failed"}},
                401);
      return;
    }
    auto it = std::find(m_auth_codes.begin(), m_auth_codes.end(), body->value("code", ""));
    if (body->value("grant_type", "") != "authorization_code" || it == m_auth_codes.end()) {
      send_json(res,
                {{"error", "invalid_request"}, {"message", "The authorization code is invalid"}},
                400);
      return;
    }
    m_auth_codes.erase(it);
    send_json(
        res, {{"token_type", "Bearer"}, {"expires_in", 31536000}, {"access_token", m_access_token}},
        200);
  });
  srv.Post("/__sandbox/oauth/approve", [this](const Req& req, Res& res) {
    std::lock_guard lock(m_mutex);
    auto body = tk::parse_json_body(req);
    if (!body || !body->contains("code")) {
      send_json(res, {{"error", "expected {\"code\": \"...\"}"}}, 400);
      return;
    }
    m_auth_codes.push_back(body->value("code", ""));
    send_json(res, {{"ok", true}}, 200);
  });
  // Only "/" is GraphQL; anything else gets AniList's error object.
  tk::serve_unrouted(srv, [](const Req&, Res& res) {
    send_json(res, {{"data", nullptr}, {"errors", json::array({error_entry("Not Found.", 404)})}},
              404);
  });
}

}  // namespace

std::unique_ptr<FakeService> make_anilist_fake() { return std::make_unique<AnilistFake>(); }

}  // namespace cw::fakes
