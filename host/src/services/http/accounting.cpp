#include <algorithm>
#include <cctype>

#include <cw/services/http/accounting.hpp>
#include <cw/util/strings.hpp>

namespace cw::services {
namespace {

bool looks_like_id(std::string_view seg) {
  if (seg.empty()) return false;
  const bool all_digits =
      std::all_of(seg.begin(), seg.end(), [](unsigned char c) { return std::isdigit(c); });
  if (all_digits) return true;
  if (seg.size() > 2 && (seg[0] == 't' && seg[1] == 't') &&
      std::all_of(seg.begin() + 2, seg.end(), [](unsigned char c) { return std::isdigit(c); }))
    return true;  // IMDb
  const bool hexish = std::all_of(seg.begin(), seg.end(),
                                  [](unsigned char c) { return std::isxdigit(c) || c == '-'; });
  if (hexish && seg.size() >= 16) return true;  // UUIDs, Jellyfin/Emby ids, hashes
  std::size_t digits = 0;
  for (unsigned char c : seg) digits += std::isdigit(c) ? 1 : 0;
  // Slugs are words; an id-like token mixes many digits with letters ("5d776b59ad5437001f79c6f8").
  return seg.size() >= 12 && digits * 3 >= seg.size();
}

}  // namespace

std::string endpoint_template(std::string_view url) {
  std::string_view rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
    const auto slash = rest.find('/');
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  if (auto q = rest.find_first_of("?#"); q != std::string_view::npos) rest = rest.substr(0, q);
  std::string out;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    const auto next = rest.find('/', pos + 1);
    const std::string_view seg =
        rest.substr(pos + 1, (next == std::string_view::npos ? rest.size() : next) - pos - 1);
    if (pos < rest.size() && rest[pos] == '/') {
      out += '/';
      out += looks_like_id(seg) ? std::string(":id") : std::string(seg);
    }
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return out.empty() ? "/" : out;
}

void HttpAccounting::record(const std::string& instance, const std::string& endpoint,
                            const std::string& method, const std::string& outcome,
                            std::int64_t bytes_in, std::int64_t bytes_out, double latency_ms) {
  std::lock_guard lock(m_mutex);
  auto& s = m_stats[{instance, endpoint, method, outcome}];
  ++s.count;
  s.bytes_in += bytes_in;
  s.bytes_out += bytes_out;
  s.total_ms += latency_ms;
  s.max_ms = std::max(s.max_ms, latency_ms);
  for (std::size_t i = 0; i < k_latency_bounds_ms.size(); ++i) {
    if (latency_ms <= k_latency_bounds_ms[i]) {
      ++s.latency_buckets[i];
      break;
    }
  }
}

nlohmann::json HttpAccounting::to_json() const {
  std::lock_guard lock(m_mutex);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, s] : m_stats) {
    const auto& [instance, endpoint, method, outcome] = key;
    nlohmann::json cumulative = nlohmann::json::array();
    std::int64_t running = 0;
    for (auto n : s.latency_buckets) cumulative.push_back(running += n);
    out[instance].push_back(
        {{"endpoint", endpoint},
         {"method", method},
         {"outcome", outcome},
         {"count", s.count},
         {"bytes_in", s.bytes_in},
         {"bytes_out", s.bytes_out},
         {"total_ms", s.total_ms},
         {"avg_ms", s.count > 0 ? s.total_ms / static_cast<double>(s.count) : 0.0},
         {"max_ms", s.max_ms},
         {"latency_buckets", cumulative}});
  }
  return out;
}

HttpStat HttpAccounting::get(const std::string& instance, const std::string& endpoint,
                             const std::string& method, const std::string& outcome) const {
  std::lock_guard lock(m_mutex);
  auto it = m_stats.find({instance, endpoint, method, outcome});
  return it == m_stats.end() ? HttpStat{} : it->second;
}

void HttpAccounting::clear() {
  std::lock_guard lock(m_mutex);
  m_stats.clear();
}

}  // namespace cw::services
