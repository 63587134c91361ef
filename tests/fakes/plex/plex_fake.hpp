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
std::string plex_json_to_xml(const std::string& root_tag, const nlohmann::json& container);

}  // namespace cw::fakes
