// Fake Jellyfin (10.9+): modern user-less routes with userId as a query parameter, plus the
// legacy /Users/{uid}/… forms, QuickConnect, and the MediaBrowser auth header forms.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_jellyfin_fake();

}  // namespace cw::fakes
