// Fake AniList GraphQL API (graphql.anilist.co): one POST route that parses GraphQL documents
// (graphql_doc.hpp) and serves Viewer, User, Media, MediaList, MediaListCollection, Page
// (media, mediaList, pageInfo) and the SaveMediaListEntry / DeleteMediaListEntry mutations with
// AniList's response and error shapes ({"errors": [{message, status, locations}], "data": ...}),
// score formats (POINT_100, POINT_10_DECIMAL, POINT_10, POINT_5, POINT_3), and its rate limit:
// X-RateLimit-Limit/Remaining on every reply, 429 + Retry-After + X-RateLimit-Reset and a
// one-minute lock-out once the per-minute budget is spent.
//
// Fixture (seed/state) shape:
//   {"viewer": {"id", "name", "mediaListOptions": {"scoreFormat": "POINT_10"}, ...},
//    "media": [Media objects as AniList returns them (id, idMal, type, format, title, ...)],
//    "entries": [{"id", "mediaId", "status", "scoreRaw" (0-100), "progress", "repeat",
//                 "private", "notes", "startedAt", "completedAt", "updatedAt", "createdAt"}],
//    "auth": {"access_token", "client_id", "client_secret"},
//    "options": {"rate_limit": 90, "window_s": 60, "lockout_s": 60}}
// rate_limit 0 turns the limiter off; 30 models the "degraded" period.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_anilist_fake();

}  // namespace cw::fakes
