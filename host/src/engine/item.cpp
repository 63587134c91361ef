#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include <cwsdk/support/ids.hpp>

#include <cw/engine/identity.hpp>
#include <cw/engine/item.hpp>
#include <cw/engine/sdk_ids.hpp>
#include <cw/util/strings.hpp>

namespace cw::engine {
namespace {

std::optional<std::int64_t> int_value(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d)) return static_cast<std::int64_t>(std::llround(d));
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto s = util::trim(v.get_ref<const std::string&>());
    if (s.empty()) return std::nullopt;
    std::int64_t out = 0;
    bool neg = false;
    std::size_t i = 0;
    if (s[0] == '-') {
      neg = true;
      i = 1;
    }
    if (i == s.size()) return std::nullopt;
    for (; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      out = out * 10 + (s[i] - '0');
    }
    return neg ? -out : out;
  }
  return std::nullopt;
}

std::optional<double> number_value(const nlohmann::json& v) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (std::isfinite(d)) return d;
    return std::nullopt;
  }
  if (v.is_string()) {
    const std::string s(util::trim(v.get_ref<const std::string&>()));
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::optional<Instant> time_value(const nlohmann::json& v) {
  if (v.is_string()) return parse_time(v.get_ref<const std::string&>());
  if (v.is_number()) {
    const auto i = int_value(v);
    if (!i || *i <= 0) return std::nullopt;
    return *i >= 100'000'000'000LL ? *i / 1000 : *i;  // milliseconds when too large
  }
  return std::nullopt;
}

const nlohmann::json* member(const nlohmann::json& j, std::string_view name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

// Ids objects (Jellyfin/Emby `ProviderIds` keys any case, nested or not) and Plex GUID
// lists are walked by the SDK kit, so plugins and the engine read them alike.
void read_ids(const nlohmann::json& obj, Ids& ids) {
  cwsdk::for_each_id(obj, [&ids](std::string_view key, const std::string& text) {
    if (auto kind = id_kind_from_string(key))
      ids.set(*kind, text);
    else
      ids.set_other(key, util::trim(text));
  });
}

void read_guids(const nlohmann::json& j, Ids& ids) {
  cwsdk::for_each_guid(j, [&ids](std::string_view guid) { parse_guid(guid, ids); });
}

void write_ids(const Ids& ids, nlohmann::json& out) {
  out = nlohmann::json::object();
  for (const auto& e : ids.entries()) {
    if (e.kind == IdKind::other) {
      const auto colon = e.value.find(':');
      out[std::string(e.value.substr(0, colon))] = std::string(e.value.substr(colon + 1));
    } else {
      out[std::string(to_string(e.kind))] = std::string(e.value);
    }
  }
}

void put_number(nlohmann::json& j, const char* name, double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    j[name] = static_cast<std::int64_t>(v);
  else
    j[name] = v;
}

}  // namespace

bool is_server_local(IdKind kind) { return kind == IdKind::jellyfin || kind == IdKind::emby; }

std::string_view to_string(ItemKind kind) {
  switch (kind) {
    case ItemKind::movie:
      return "movie";
    case ItemKind::show:
      return "show";
    case ItemKind::season:
      return "season";
    case ItemKind::episode:
      return "episode";
  }
  return "movie";
}

std::optional<ItemKind> item_kind_from_string(std::string_view s) {
  const std::string l = util::to_lower(util::trim(s));
  if (l.empty() || l == "movie" || l == "movies" || l == "film") return ItemKind::movie;
  if (l == "show" || l == "shows" || l == "series" || l == "tv" || l == "anime")
    return ItemKind::show;
  if (l == "season" || l == "seasons") return ItemKind::season;
  if (l == "episode" || l == "episodes" || l == "ep") return ItemKind::episode;
  return std::nullopt;
}

std::string_view to_string(IdKind kind) {
  return kind == IdKind::other ? "other" : cwsdk::id_kind_name(detail::to_kit(kind));
}

std::optional<IdKind> id_kind_from_string(std::string_view s) {
  const auto kind = cwsdk::id_kind_from_name(s);
  if (!kind) return std::nullopt;
  return detail::from_kit(*kind);
}

bool Ids::set_other(std::string_view name, std::string_view value) {
  if (name.empty() || name.size() > 40 || value.empty() ||
      name.size() + 1 + value.size() > k_max_value)
    return false;
  std::string entry;
  entry.reserve(name.size() + 1 + value.size());
  for (const char c : name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-' || l == '.'))
      return false;
    entry += l;
  }
  entry += ':';
  entry += value;
  set_normalised(IdKind::other, entry);
  return true;
}

bool Ids::set(IdKind kind, std::string_view raw) {
  if (kind == IdKind::other) {
    const auto colon = raw.find(':');
    return colon != std::string_view::npos &&
           set_other(raw.substr(0, colon), util::trim(raw.substr(colon + 1)));
  }
  auto id = cwsdk::read_id(detail::to_kit(kind), raw);
  if (!id || id->value.size() > k_max_value) return false;
  set_normalised(detail::from_kit(id->kind), id->value);
  return true;
}

// Per-entry memory of an Index is mostly sizeof(Item) (README "Performance").
static_assert(sizeof(Ids) == 32, "Ids must stay one 32-byte inline buffer");
static_assert(sizeof(Item) <= 216 || sizeof(std::string) > 32, "Item grew; see item.hpp");

Ids::Ids(const Ids& o) { *this = o; }

Ids::Ids(Ids&& o) noexcept {
  std::memcpy(m_buf, o.m_buf, k_inline);
  m_size = o.m_size;
  m_cap = o.m_cap;
  o.m_size = 0;
  o.m_cap = k_inline;
}

Ids& Ids::operator=(const Ids& o) {
  if (this == &o) return *this;
  splice(0, m_size, std::string_view(o.data(), o.m_size));
  return *this;
}

Ids& Ids::operator=(Ids&& o) noexcept {
  if (this == &o) return *this;
  if (on_heap()) delete[] heap_ptr();
  std::memcpy(m_buf, o.m_buf, k_inline);
  m_size = o.m_size;
  m_cap = o.m_cap;
  o.m_size = 0;
  o.m_cap = k_inline;
  return *this;
}

Ids::~Ids() {
  if (on_heap()) delete[] heap_ptr();
}

void Ids::splice(std::size_t pos, std::size_t old_len, std::string_view bytes) {
  const std::size_t new_size = m_size - old_len + bytes.size();
  if (new_size > m_cap) {
    // Exact growth: ids rarely change after parsing, and slack costs per item.
    std::size_t cap = std::max<std::size_t>(new_size, 2u * k_inline);
    char* fresh = new char[cap];
    const char* old = data();
    std::memcpy(fresh, old, pos);
    std::memcpy(fresh + pos, bytes.data(), bytes.size());
    std::memcpy(fresh + pos + bytes.size(), old + pos + old_len, m_size - pos - old_len);
    if (on_heap()) delete[] heap_ptr();
    std::memcpy(m_buf, &fresh, sizeof fresh);
    m_cap = static_cast<std::uint16_t>(cap);
  } else {
    char* d = data();
    std::memmove(d + pos + bytes.size(), d + pos + old_len, m_size - pos - old_len);
    if (!bytes.empty()) std::memcpy(d + pos, bytes.data(), bytes.size());
  }
  m_size = static_cast<std::uint16_t>(new_size);
}

void Ids::set_normalised(IdKind kind, std::string_view value) {
  if (value.size() > k_max_value) return;
  const auto* d = reinterpret_cast<const unsigned char*>(data());
  const auto k = static_cast<unsigned char>(kind);
  std::size_t pos = 0;
  while (pos < m_size && d[pos] < k) pos += 2u + d[pos + 1];
  std::size_t old_len = pos < m_size && d[pos] == k ? 2u + d[pos + 1] : 0u;
  if (kind == IdKind::other) {
    // Several entries, sorted by "<name>:<value>"; the one with this name is replaced.
    const std::string_view name = value.substr(0, value.find(':') + 1);
    old_len = 0;
    std::size_t insert_at = m_size;
    for (std::size_t p = pos; p < m_size; p += 2u + d[p + 1]) {
      const std::string_view v(reinterpret_cast<const char*>(d + p + 2), d[p + 1]);
      if (v.starts_with(name)) {
        insert_at = p;
        old_len = 2u + d[p + 1];
        break;
      }
      if (insert_at == m_size && v > value) insert_at = p;
    }
    pos = insert_at;
    if (old_len == 0 && others() >= k_max_other) return;
    if (old_len != 0) {
      // Remove the old entry first, then insert in order.
      splice(pos, old_len, {});
      return set_normalised(kind, value);
    }
  }
  // A hostile reply can carry thousands of ids; the packed size is a 16-bit count.
  if (m_size - old_len + 2 + value.size() > k_max_bytes) return;
  char buf[2 + k_max_value];
  buf[0] = static_cast<char>(kind);
  buf[1] = static_cast<char>(static_cast<unsigned char>(value.size()));
  std::memcpy(buf + 2, value.data(), value.size());
  splice(pos, old_len, std::string_view(buf, 2 + value.size()));
}

std::size_t Ids::others() const {
  std::size_t n = 0;
  for (const auto e : entries()) n += e.kind == IdKind::other ? 1 : 0;
  return n;
}

void Ids::erase(IdKind kind) {
  const auto* d = reinterpret_cast<const unsigned char*>(data());
  for (std::size_t pos = 0; pos < m_size; pos += 2u + d[pos + 1]) {
    if (d[pos] == static_cast<unsigned char>(kind)) {
      splice(pos, 2u + d[pos + 1], {});
      return;
    }
  }
}

std::optional<std::string_view> Ids::get(IdKind kind) const {
  for (const auto e : entries()) {
    if (e.kind == kind) return e.value;
    if (e.kind > kind) break;
  }
  return std::nullopt;
}

std::size_t Ids::size() const {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

void Ids::merge_from(const Ids& newer) {
  if (this == &newer) return;
  for (const auto e : newer.entries()) set_normalised(e.kind, e.value);
}

bool Ids::intersects(const Ids& other) const {
  auto a = begin();
  auto b = other.begin();
  const auto ae = end();
  const auto be = other.end();
  while (a != ae && b != be) {
    const Entry x = *a;
    const Entry y = *b;
    if (x.kind < y.kind) {
      ++a;
    } else if (y.kind < x.kind) {
      ++b;
    } else if (x.kind == IdKind::other) {
      // Several per Ids, sorted by "<name>:<value>": a merge walk over both lists.
      if (x.value == y.value) return true;
      if (x.value < y.value)
        ++a;
      else
        ++b;
    } else {
      if (!is_server_local(x.kind) && x.value == y.value) return true;
      ++a;
      ++b;
    }
  }
  return false;
}

namespace {

// Whether `j` written as JSON would take more than `limit` bytes. Counted while walking and
// stopped as soon as it is past, so a huge document costs no more than the limit; it counts
// a little less than dump() (numbers as 1 byte, no escapes), which only makes it lenient.
bool json_larger_than(const nlohmann::json& j, std::size_t limit) {
  std::size_t size = 0;
  std::vector<const nlohmann::json*> todo{&j};
  while (!todo.empty()) {
    const nlohmann::json* v = todo.back();
    todo.pop_back();
    if (v->is_string()) {
      size += v->get_ref<const std::string&>().size() + 2;
    } else if (v->is_object()) {
      size += 2;
      for (const auto& [key, member] : v->items()) {
        size += key.size() + 4;
        todo.push_back(&member);
      }
    } else if (v->is_array()) {
      size += 2;
      for (const auto& member : *v) {
        size += 1;
        todo.push_back(&member);
      }
    } else {
      size += 1;
    }
    if (size > limit) return true;
  }
  return false;
}

// A text field of an item: refused past the limit, with the field's name.
Result<std::string> text_field(const nlohmann::json& v, const char* name,
                               const ItemLimits& limits) {
  const auto& text = v.get_ref<const std::string&>();
  if (text.size() > limits.max_text)
    return make_error(std::string("item ") + name + " is " + std::to_string(text.size()) +
                          " bytes; at most " + std::to_string(limits.max_text) +
                          " are kept (plugins.max_field)",
                      ErrorKind::invalid_arg);
  return text;
}

}  // namespace

Result<Item> item_from_json(const nlohmann::json& j, const ItemLimits& limits) {
  if (!j.is_object()) return make_error("item is not a JSON object", ErrorKind::invalid_arg);
  Item item;
  // The ABI's four names exactly (item.schema.json): "anime", "series" or a missing type
  // are not guessed at; the item is left out and reported.
  const auto* t = member(j, "type");
  if (t == nullptr || t->is_null())
    return make_error("item has no 'type'; expected movie, show, season or episode",
                      ErrorKind::invalid_arg);
  if (!t->is_string())
    return make_error("item field 'type' is not a string", ErrorKind::invalid_arg);
  const auto& type_name = t->get_ref<const std::string&>();
  const auto kind = item_kind_from_string(type_name);
  if (!kind || to_string(*kind) != type_name)
    return make_error("item type '" + type_name.substr(0, 40) +
                          "' is unknown; expected movie, show, season or episode",
                      ErrorKind::invalid_arg);
  item.kind = *kind;
  if (const auto* v = member(j, "title"); v && v->is_string()) {
    auto title = text_field(*v, "title", limits);
    if (!title) return title.error();
    item.title = std::move(title).value();
  }
  if (const auto* v = member(j, "year")) {
    if (auto y = int_value(*v); y && *y > 0 && *y < 10000) item.year = static_cast<int>(*y);
  }
  if (const auto* v = member(j, "ids")) read_ids(*v, item.ids);
  if (const auto* v = member(j, "ProviderIds")) read_ids(*v, item.ids);
  read_guids(j, item.ids);

  if (const auto* s = member(j, "show"); s && s->is_object()) {
    if (const auto* v = member(*s, "title"); v && v->is_string()) {
      auto title = text_field(*v, "show title", limits);
      if (!title) return title.error();
      item.show_title = std::move(title).value();
    }
    if (const auto* v = member(*s, "year")) {
      if (auto y = int_value(*v); y && *y > 0 && *y < 10000) item.show_year = static_cast<int>(*y);
    }
    if (const auto* v = member(*s, "ids")) read_ids(*v, item.show_ids);
  }
  if (const auto* v = member(j, "show_ids")) read_ids(*v, item.show_ids);
  if (item.show_title.empty()) {
    if (const auto* v = member(j, "series_title"); v && v->is_string()) {
      auto title = text_field(*v, "series_title", limits);
      if (!title) return title.error();
      item.show_title = std::move(title).value();
    }
  }
  for (const char* name : {"season", "season_number"}) {
    if (const auto* v = member(j, name)) {
      if (auto n = int_value(*v); n && *n >= 0 && *n < 1'000'000) {
        item.season = static_cast<int>(*n);
        break;
      }
    }
  }
  for (const char* name : {"episode", "episode_number"}) {
    if (const auto* v = member(j, name)) {
      if (auto n = int_value(*v); n && *n >= 0 && *n < 1'000'000) {
        item.episode = static_cast<int>(*n);
        break;
      }
    }
  }
  if (const auto* v = member(j, "watched_at")) item.watched_at = time_value(*v);
  if (const auto* v = member(j, "rating"); v && !v->is_null()) {
    // cw's scale is 0-10 whatever the service uses (the plugin converts); anything else is
    // a plugin bug that must not reach another service as given (150, 85, 10.5).
    const auto r = number_value(*v);
    if (!r || *r < 0 || *r > 10)
      return make_error("item rating " + v->dump().substr(0, 40) + " is outside 0-10",
                        ErrorKind::invalid_arg);
    if (*r > 0) item.rating = *r;
  }
  if (const auto* v = member(j, "rated_at")) item.rated_at = time_value(*v);
  if (const auto* v = member(j, "progress_ms")) {
    if (auto n = int_value(*v); n && *n >= 0) item.progress_ms = *n;
  }
  if (const auto* v = member(j, "duration_ms")) {
    if (auto n = int_value(*v); n && *n > 0) item.duration_ms = *n;
  }
  if (const auto* v = member(j, "progress_at")) item.progress_at = time_value(*v);
  if (const auto* v = member(j, "progress_percent"); v && !v->is_null()) {
    const auto p = number_value(*v);
    if (!p || *p < 0 || *p > 100)
      return make_error("item progress_percent " + v->dump().substr(0, 40) + " is outside 0-100",
                        ErrorKind::invalid_arg);
    item.progress_bp = static_cast<std::int16_t>(std::lround(*p * 100));
  }
  for (auto [name, field] : {std::pair{"episode_end", &Item::episode_end},
                             std::pair{"absolute_episode", &Item::absolute_episode}}) {
    if (const auto* v = member(j, name)) {
      if (auto n = int_value(*v); n && *n >= 0 && *n < 32767)
        item.*field = static_cast<std::int16_t>(*n);
    }
  }
  if (const auto* v = member(j, "extra")) {
    // Passed back to the plugin with every write of the item and kept in its baseline.
    if (json_larger_than(*v, limits.max_extra))
      return make_error("item extra is more than " + std::to_string(limits.max_extra) +
                            " bytes as JSON (plugins.max_extra)",
                        ErrorKind::invalid_arg);
    item.extra = *v;
  }
  return item;
}

nlohmann::json item_to_json(const Item& item, std::string_view key) {
  nlohmann::json j = nlohmann::json::object();
  j["type"] = std::string(to_string(item.kind));
  if (!item.title.empty()) j["title"] = item.title;
  if (item.year > 0) j["year"] = item.year;
  write_ids(item.ids, j["ids"]);
  if (item.kind == ItemKind::season || item.kind == ItemKind::episode || !item.show_ids.empty() ||
      !item.show_title.empty()) {
    nlohmann::json show = nlohmann::json::object();
    if (!item.show_title.empty()) show["title"] = item.show_title;
    if (item.show_year > 0) show["year"] = item.show_year;
    write_ids(item.show_ids, show["ids"]);
    j["show"] = std::move(show);
  }
  if (item.season >= 0) j["season"] = item.season;
  if (item.episode >= 0) j["episode"] = item.episode;
  if (item.watched_at) j["watched_at"] = format_time(*item.watched_at);
  if (item.rating) put_number(j, "rating", *item.rating);
  if (item.rated_at) j["rated_at"] = format_time(*item.rated_at);
  if (item.progress_ms) j["progress_ms"] = *item.progress_ms;
  if (item.duration_ms) j["duration_ms"] = *item.duration_ms;
  if (item.progress_at) j["progress_at"] = format_time(*item.progress_at);
  if (item.progress_bp) put_number(j, "progress_percent", *item.progress_bp / 100.0);
  if (item.episode_end) j["episode_end"] = *item.episode_end;
  if (item.absolute_episode) j["absolute_episode"] = *item.absolute_episode;
  if (!key.empty()) j["key"] = std::string(key);
  if (!item.extra.is_null()) j["extra"] = item.extra;
  return j;
}

std::string describe(const Item& item) {
  std::string out;
  const bool child = item.kind == ItemKind::season || item.kind == ItemKind::episode;
  const std::string& title = child && !item.show_title.empty() ? item.show_title : item.title;
  const int year = child && item.show_year > 0 ? item.show_year : item.year;
  out = title.empty() ? std::string("(untitled ") + std::string(to_string(item.kind)) + ")" : title;
  if (year > 0) out += " (" + std::to_string(year) + ")";
  char buf[48];
  if (item.kind == ItemKind::episode) {
    std::snprintf(buf, sizeof buf, " S%02dE%02d", std::max(item.season, 0),
                  std::max(item.episode, 0));
    out += buf;
  } else if (item.kind == ItemKind::season) {
    std::snprintf(buf, sizeof buf, " S%02d", std::max(item.season, 0));
    out += buf;
  }
  return out;
}

}  // namespace cw::engine
