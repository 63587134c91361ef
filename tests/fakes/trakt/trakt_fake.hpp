// Fake Trakt API v2 (api.trakt.tv): OAuth device flow and refresh, /sync/last_activities,
// watchlist, history, ratings, playback, scrobble, users/settings, personal lists, hidden
// (dropped) shows, id search and season listings, with Trakt's paging headers, write bodies
// (added/existing/deleted/not_found/list) and auth errors.
//
// Fixture (seed/state) shape; every row is exactly what Trakt returns for that list, so recorded
// responses can be seeded as they are:
//   {"catalog":  {"movies": [{title, year, ids, ...}], "shows": [{title, year, ids, ...,
//                  "seasons": [{number, ids, episodes: [{season, number, title, ids, ...}]}]}]},
//    "watchlist": [rows of GET /sync/watchlist], "history": [rows of GET /sync/history],
//    "ratings": [rows of GET /sync/ratings], "playback": [rows of GET /sync/playback],
//    "collection": [rows], "dropped": [rows of GET /users/hidden/dropped],
//    "lists": [{"list": <list object>, "items": [rows]}],
//    "settings": <GET /users/settings>, "last_activities": <GET /sync/last_activities>,
//    "auth": {"client_id", "client_secret", "access_token", "refresh_token", "token_ttl_s"},
//    "options": {"unpaged_limit": 100, "max_limit": 250, "history_add_status": 200,
//                "history_duplicates": "add|updated|conflict", "legacy_history_reply": false,
//                "etag": true,
//                "freeze_activities": false, "accept_unknown_ids": false,
//                "omit_page_count": false, "empty_401_body": false,
//                "require_api_version": false, "real_rate_limits": false}}
// Every key is optional. Catalog entries are also collected from the rows; fields beyond the
// basic ones (title/year/ids, season/number/title/ids) are served only with extended=full.
// Writes resolve ids against the catalog; unknown ids land in not_found unless
// options.accept_unknown_ids is set.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_trakt_fake();

}  // namespace cw::fakes
