// Jellyfin and Emby share the MediaBrowser data model (BaseItemDto, UserItemDataDto, the
// MediaBrowser auth header); one implementation serves both, with a Flavor for the places they
// differ (routes, id format, login body, AnyProviderIdEquals, date formats, error bodies).
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

enum class MediaBrowserFlavor { Jellyfin, Emby };

std::unique_ptr<FakeService> make_mediabrowser_fake(MediaBrowserFlavor flavor);

// 2024-03-01T20:11:42.0000000Z: the 7-digit fraction both servers write.
std::string mediabrowser_date(std::int64_t ms);
// Accepts yyyyMMddHHmmss (UTC, Emby's and Jellyfin's legacy binder) and ISO-8601.
std::optional<std::int64_t> mediabrowser_parse_date(const std::string& s);

}  // namespace cw::fakes
