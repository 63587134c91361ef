// Fake MDBList API (api.mdblist.com): apikey query parameter or OAuth device-code bearer tokens,
// a daily request quota, /user, /watchlist/items[/add|/remove] with offset paging and has_more,
// /sync/last_activities, /sync/journal, /sync/ratings[/remove], /sync/watched[/remove,
// /plays/remove] (plays=all, report_added), /sync/playback, /scrobble/pause|clear, static lists
// and /sync/dropped. MDBList publishes no machine-readable description of these endpoints; the
// shapes follow ../shared/reference/providers-trackers.md §3 and mdblist/NOTES.md, and stay
// lenient where clients differ.
//
// Fixture (seed/state) shape:
//   {"catalog": {"movies": [{title, year, ids: {imdb, tmdb, tvdb, trakt, mdblist}}],
//                "shows": [{title, year, ids, seasons: [{number, episodes: [{number}]}]}]},
//    "watchlist": [{"type": "movie"|"show", "ids": {...}, "added_at"}],
//    "ratings": [{"type": "movie"|"show"|"season"|"episode", "ids" (the show's for season and
//                 episode), "season", "episode", "rating", "rated_at"}],
//    "plays": [{"id", "type": "movie"|"episode", "ids", "season", "episode", "watched_at"}],
//    "playback": [rows of GET /sync/playback], "lists": [{"id", "name", "private", "items":
//    [{"type", "ids"}]}], "dropped": [{"type": "show", "ids", "dropped_at"}], "user": <GET /user>,
//    "auth": {"api_key", "access_token", "refresh_token", "client_id"},
//    "options": {"daily_limit": 1000, "not_found_as_count": false, "freeze_activities": false,
//                "accept_unknown_ids": false, "html_errors": false}}
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_mdblist_fake();

}  // namespace cw::fakes
