#include <cstring>

#include <cw/engine/item_codec.hpp>

namespace cw::engine {
namespace {

// Bits of the presence mask, one per optional field.
enum : std::uint32_t {
  k_title = 1U << 0,
  k_show_title = 1U << 1,
  k_year = 1U << 2,
  k_show_year = 1U << 3,
  k_season = 1U << 4,
  k_episode = 1U << 5,
  k_episode_end = 1U << 6,
  k_absolute_episode = 1U << 7,
  k_progress_bp = 1U << 8,
  k_ids = 1U << 9,
  k_show_ids = 1U << 10,
  k_watched_at = 1U << 11,
  k_rating = 1U << 12,
  k_rated_at = 1U << 13,
  k_progress_ms = 1U << 14,
  k_duration_ms = 1U << 15,
  k_progress_at = 1U << 16,
  k_extra = 1U << 17,
  k_known = (1U << 18) - 1,
};

class Writer {
 public:
  void byte(unsigned char b) { m_out.push_back(static_cast<char>(b)); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<unsigned char>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<unsigned char>(v));
  }
  void integer(std::int64_t v) {  // zigzag: small negatives stay small
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void text(std::string_view s) {
    varint(s.size());
    m_out.append(s);
  }
  void real(double d) {
    char b[8];
    std::memcpy(b, &d, 8);
    m_out.append(b, 8);
  }
  void ids(const Ids& ids) {
    varint(ids.size());
    for (const auto& e : ids) {
      byte(static_cast<unsigned char>(e.kind));
      text(e.value);
    }
  }
  std::string take() { return std::move(m_out); }

 private:
  std::string m_out;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : m_in(in) {}
  bool byte(unsigned char& b) {
    if (m_pos >= m_in.size()) return false;
    b = static_cast<unsigned char>(m_in[m_pos++]);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char b = 0;
      if (!byte(b)) return false;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool integer(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!varint(u)) return false;
    v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  template <typename T>
  bool narrow(T& out) {
    std::int64_t v = 0;
    if (!integer(v) || v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      return false;
    out = static_cast<T>(v);
    return true;
  }
  bool text(std::string_view& s) {
    std::uint64_t n = 0;
    if (!varint(n) || n > m_in.size() - m_pos) return false;
    s = m_in.substr(m_pos, n);
    m_pos += n;
    return true;
  }
  bool real(double& d) {
    if (m_in.size() - m_pos < 8) return false;
    std::memcpy(&d, m_in.data() + m_pos, 8);
    m_pos += 8;
    return true;
  }
  bool ids(Ids& out) {
    std::uint64_t n = 0;
    if (!varint(n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      unsigned char kind = 0;
      std::string_view value;
      if (!byte(kind) || !text(value)) return false;
      if (kind >= k_id_kind_count && kind != static_cast<unsigned char>(IdKind::other))
        return false;
      out.set_normalised(static_cast<IdKind>(kind), value);
    }
    return true;
  }
  bool at_end() const { return m_pos == m_in.size(); }

 private:
  std::string_view m_in;
  std::size_t m_pos = 0;
};

template <typename T>
void put_optional(Writer& w, const PackedOptional<T>& v) {
  if constexpr (std::is_floating_point_v<T>)
    w.real(*v);
  else
    w.integer(*v);
}

template <typename T>
bool get_optional(Reader& r, PackedOptional<T>& v) {
  if constexpr (std::is_floating_point_v<T>) {
    double d = 0;
    if (!r.real(d)) return false;
    v = d;
  } else {
    T x{};
    if (!r.narrow(x)) return false;
    v = x;
  }
  return v.has_value();  // a present field that reads as the sentinel is damage
}

}  // namespace

std::string encode_item(const Item& item) {
  std::uint32_t mask = 0;
  const auto bit = [&](bool present, std::uint32_t b) {
    if (present) mask |= b;
  };
  bit(!item.title.empty(), k_title);
  bit(!item.show_title.empty(), k_show_title);
  bit(item.year != 0, k_year);
  bit(item.show_year != 0, k_show_year);
  bit(item.season != -1, k_season);
  bit(item.episode != -1, k_episode);
  bit(item.episode_end.has_value(), k_episode_end);
  bit(item.absolute_episode.has_value(), k_absolute_episode);
  bit(item.progress_bp.has_value(), k_progress_bp);
  bit(!item.ids.empty(), k_ids);
  bit(!item.show_ids.empty(), k_show_ids);
  bit(item.watched_at.has_value(), k_watched_at);
  bit(item.rating.has_value(), k_rating);
  bit(item.rated_at.has_value(), k_rated_at);
  bit(item.progress_ms.has_value(), k_progress_ms);
  bit(item.duration_ms.has_value(), k_duration_ms);
  bit(item.progress_at.has_value(), k_progress_at);
  bit(!item.extra.is_null(), k_extra);

  Writer w;
  w.byte(k_item_codec_tag);
  w.byte(static_cast<unsigned char>(item.kind));
  w.varint(mask);
  if (mask & k_title) w.text(item.title);
  if (mask & k_show_title) w.text(item.show_title);
  if (mask & k_year) w.integer(item.year);
  if (mask & k_show_year) w.integer(item.show_year);
  if (mask & k_season) w.integer(item.season);
  if (mask & k_episode) w.integer(item.episode);
  if (mask & k_episode_end) put_optional(w, item.episode_end);
  if (mask & k_absolute_episode) put_optional(w, item.absolute_episode);
  if (mask & k_progress_bp) put_optional(w, item.progress_bp);
  if (mask & k_ids) w.ids(item.ids);
  if (mask & k_show_ids) w.ids(item.show_ids);
  if (mask & k_watched_at) put_optional(w, item.watched_at);
  if (mask & k_rating) put_optional(w, item.rating);
  if (mask & k_rated_at) put_optional(w, item.rated_at);
  if (mask & k_progress_ms) put_optional(w, item.progress_ms);
  if (mask & k_duration_ms) put_optional(w, item.duration_ms);
  if (mask & k_progress_at) put_optional(w, item.progress_at);
  if (mask & k_extra)
    w.text(item.extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return w.take();
}

Result<Item> decode_item(std::string_view bytes) {
  const auto bad = [](const char* what) {
    return make_error(std::string("stored item is damaged: ") + what, ErrorKind::internal);
  };
  if (!is_encoded_item(bytes)) return bad("not in the binary item format");
  Reader r(bytes.substr(1));
  Item item;
  unsigned char kind = 0;
  std::uint64_t mask = 0;
  if (!r.byte(kind) || kind > static_cast<unsigned char>(ItemKind::episode))
    return bad("unknown kind");
  item.kind = static_cast<ItemKind>(kind);
  if (!r.varint(mask) || (mask & ~std::uint64_t{k_known}) != 0) return bad("unknown fields");
  std::string_view s;
  if ((mask & k_title) && !(r.text(s) && (item.title = s, true))) return bad("title");
  if ((mask & k_show_title) && !(r.text(s) && (item.show_title = s, true)))
    return bad("show title");
  if ((mask & k_year) && !r.narrow(item.year)) return bad("year");
  if ((mask & k_show_year) && !r.narrow(item.show_year)) return bad("show year");
  if ((mask & k_season) && !r.narrow(item.season)) return bad("season");
  if ((mask & k_episode) && !r.narrow(item.episode)) return bad("episode");
  if ((mask & k_episode_end) && !get_optional(r, item.episode_end)) return bad("episode end");
  if ((mask & k_absolute_episode) && !get_optional(r, item.absolute_episode))
    return bad("absolute episode");
  if ((mask & k_progress_bp) && !get_optional(r, item.progress_bp)) return bad("progress");
  if ((mask & k_ids) && !r.ids(item.ids)) return bad("ids");
  if ((mask & k_show_ids) && !r.ids(item.show_ids)) return bad("show ids");
  if ((mask & k_watched_at) && !get_optional(r, item.watched_at)) return bad("watched_at");
  if ((mask & k_rating) && !get_optional(r, item.rating)) return bad("rating");
  if ((mask & k_rated_at) && !get_optional(r, item.rated_at)) return bad("rated_at");
  if ((mask & k_progress_ms) && !get_optional(r, item.progress_ms)) return bad("progress_ms");
  if ((mask & k_duration_ms) && !get_optional(r, item.duration_ms)) return bad("duration_ms");
  if ((mask & k_progress_at) && !get_optional(r, item.progress_at)) return bad("progress_at");
  if (mask & k_extra) {
    if (!r.text(s)) return bad("extra");
    item.extra = nlohmann::json::parse(s, nullptr, false);
    if (item.extra.is_discarded()) return bad("extra is not JSON");
  }
  if (!r.at_end()) return bad("bytes after the last field");
  return item;
}

}  // namespace cw::engine
