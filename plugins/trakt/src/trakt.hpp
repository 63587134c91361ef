// The Trakt provider (api.trakt.tv, API version 2), on the provider kit.
//
// Features: watchlist (movies, shows), history (plays of movies and episodes, each with its
// Trakt history id), ratings (1-10; movies, shows, seasons, episodes) and playback progress
// (movies, episodes). Every list is read page by page (page/limit with the X-Pagination-*
// headers); writes are one request per chunk with exact per-key outcomes. Sign-in is
// Trakt's device-code flow (`cw auth login <instance>`); tokens from the configuration work
// too. The README in this folder describes the configuration and every quirk handled.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cwsdk/provider.hpp>
#include <cwsdk/support/all.hpp>

namespace trakt {

using cwsdk::Json;

// The access token and its renewal (see TraktAuth in trakt.cpp for the rules).
class TraktAuth final : public cwsdk::http::Authenticator {
 public:
  TraktAuth(cwsdk::Host host, std::string base_url, std::string client_id, bool config_tokens);

  cwsdk::Status authorize(cwsdk::http::Request& request) override;
  cwsdk::Status refresh() override;

  // Stores a token obtained by the device-code login (with this configuration's mark).
  cwsdk::Status adopt(const cwsdk::Token& token);
  // The configured client secret (read at the moment of use); empty when none.
  std::string client_secret() const;

 private:
  cwsdk::Status load();
  cwsdk::Status store(const cwsdk::Token& token);
  std::string config_mark() const;

  cwsdk::Host m_host;
  std::string m_base;
  std::string m_client_id;
  bool m_config_tokens;
  std::optional<cwsdk::Token> m_token;
};

struct Config {
  std::string url = "https://api.trakt.tv";
  std::string client_id;
  bool has_client_secret = false;
  bool has_tokens = false;  // access_token (and refresh_token) in the configuration
  int page_limit = 100;     // entries per page (Trakt clamps at 250)
  double cache_hours = 24;  // serve an unchanged feature from the kv copy this long; 0: never
  static Config parse(std::string_view text);
};

class Trakt {
 public:
  static const char* manifest();

  Trakt(cwsdk::Host host, std::string_view config);

  cwsdk::Reply health(std::string_view request);
  cwsdk::Reply build_index(std::string_view request, cwsdk::Output& out);
  cwsdk::Reply add(std::string_view request);
  cwsdk::Reply remove(std::string_view request);
  cwsdk::Reply update(std::string_view request);
  // /scrobble/start|pause|stop (sdk/ABI.md "scrobble").
  cwsdk::Reply scrobble(std::string_view request);
  cwsdk::Reply auth_start(std::string_view request);
  cwsdk::Reply auth_poll(std::string_view request);

 private:
  // One index read (every page) into `sink`; the rows that cannot be read are counted.
  struct Read {
    cwsdk::Completeness completeness;
    std::int64_t left_out = 0;
  };
  template <typename Sink>
  Read read_pages(const std::string& path, bool full, Sink&& sink);

  // The /sync/last_activities stamp that changes whenever `feature` changes; nullopt when
  // it cannot be had (the index is then read in full and not cached).
  std::optional<std::string> activity_stamp(const std::string& feature, cwsdk::Failure& auth);
  std::optional<std::vector<cwsdk::Item>> cached_index(const std::string& feature,
                                                       const std::string& stamp);
  void store_cache(const std::string& feature, const std::string& stamp,
                   const std::vector<Json>& items);
  void drop_cache(const std::string& feature);

  struct Snapshot {
    std::vector<cwsdk::Item> items;
    bool complete = false;
    std::optional<cwsdk::Failure> failure;
  };
  Snapshot snapshot(const std::string& feature);
  std::map<std::string, std::string> find_ids(const cwsdk::WriteRequest& req,
                                              const char* extra_name, cwsdk::Outcomes& outcomes);

  cwsdk::Reply write(std::string_view request, std::string_view op);
  cwsdk::Reply write_batch(const cwsdk::WriteRequest& req, std::string_view op);
  cwsdk::Reply remove_history(const cwsdk::WriteRequest& req);
  cwsdk::Reply write_progress(const cwsdk::WriteRequest& req);
  cwsdk::Reply remove_progress(const cwsdk::WriteRequest& req);

  cwsdk::Host m_host;
  Config m_cfg;
  cwsdk::http::Client m_plain;  // no token: OAuth endpoints
  TraktAuth m_auth;
  cwsdk::http::Client m_api;  // with the token
  cwsdk::DeviceFlow m_login;
};

// ----- pure helpers, exposed for the unit tests -----

// A Trakt row (watchlist, history, ratings, playback) as an item, or why it is not one.
// `feature` selects the row's extra fields (history id, rating, progress).
cwsdk::Result<cwsdk::Item> item_from_row(const Json& row, std::string_view feature);

// The ids object Trakt accepts in a write body (trakt, tmdb, tvdb as integers; imdb, slug).
Json write_ids(const cwsdk::Ids& ids);

// Minute precision: Trakt keeps watched_at to the minute.
std::int64_t floor_minute(std::int64_t ms);

}  // namespace trakt
