// Fake SIMKL API (api.simkl.com): PIN and OAuth code flows, /sync/activities, /sync/all-items with
// date_from and the extended variants, add-to-list, history add/remove, ratings, playback,
// scrobble, users/settings, /search/id and /redirect, with SIMKL's error envelope
// {"error": "...", "code": N, "message": "..."}.
//
// Fixture (seed/state) shape:
//   {"catalog": {"movies": [{title, year, ids}], "shows": [{title, year, ids,
//                 "seasons": [{number, episodes: [{number, title?, tvdb: {season, episode}?}]}]}],
//                "anime": [{title, year, ids, anime_type, seasons: [...]}]},
//    "library": {"movies": [rows of /sync/all-items], "shows": [...], "anime": [...]},
//                 (a show/anime row may carry "seasons" with the watched episodes)
//    "playback": [rows of GET /sync/playback], "activities": <GET /sync/activities>,
//    "settings": <POST /users/settings>,
//    "auth": {"client_id", "client_secret", "access_token"},
//    "options": {"null_when_empty": true, "require_app_info": false,
//                "history_add_status": 201, "accept_unknown_ids": false,
//                "freeze_activities": false, "real_rate_limits": false}}
// Every key is optional; catalog entries are also collected from library and playback rows.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_simkl_fake();

}  // namespace cw::fakes
