// Fake TMDb API v3 (api.themoviedb.org/3): request-token/session flow, account, account
// watchlist and rated lists (20 per page), watchlist writes, movie/tv/episode rating POST and
// DELETE, external_ids and /find, with TMDb's error body
// {"success": false, "status_code": N, "status_message": "..."}.
//
// Fixture (seed/state) shape:
//   {"catalog": {"movies": [TMDb movie list objects + optional "external_ids": {imdb_id}],
//                "tv": [TMDb tv list objects + optional "external_ids": {imdb_id, tvdb_id}],
//                "episodes": [rated-episode objects without "rating": {show_id, season_number,
//                             episode_number, id, name, ...}]},
//    "watchlist": {"movies": [id | object], "tv": [id | object]},
//    "rated": {"movies": [object with "rating"], "tv": [...], "episodes": [...]},
//    "account": <GET /3/account/{id}>,
//    "auth": {"api_key", "read_access_token", "session_id"},
//    "options": {"page_size": 20, "accept_unknown_ids": false}}
// Objects given in watchlist/rated join the catalog; "external_ids" is never served in lists.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_tmdb_fake();

}  // namespace cw::fakes
