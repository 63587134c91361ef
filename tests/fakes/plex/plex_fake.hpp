// Fake Plex: the Plex Media Server, plex.tv (PIN login, account, resources, home users) and the
// Discover/Metadata hosts (watchlist, metadata, matches, search), served from one port and
// routed by path. JSON or XML by the Accept header, as Plex does.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_plex_fake();

// Plex's XML for a MediaContainer-shaped JSON value: scalars become attributes, arrays of
// objects become child elements ("Metadata" rows become Video or Directory by their type).
// The rating keys and GUIDs the Plex fake gives the items of a generated universe, keyed like
// "movie:<tmdb>", "show:<tmdb>" and "show:<tmdb>#<season>x<episode>": {"rk", "parent_rk",
// "grandparent_rk", "guid", "guids", "year", "duration_s", "show_title", "show_guid",
// "show_guids"}. Tautulli's fake uses it so that its history points into the Plex library.
nlohmann::json plex_universe_index(const nlohmann::json& universe);

std::string plex_json_to_xml(const std::string& root_tag, const nlohmann::json& container);

}  // namespace cw::fakes
