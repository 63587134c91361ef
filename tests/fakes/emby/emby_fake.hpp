// Fake Emby (4.8): legacy user-scoped routes, numeric item ids, form-encoded login,
// AnyProviderIdEquals, DatePlayed=yyyyMMddHHmmss, collections that cannot start empty.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_emby_fake();

}  // namespace cw::fakes
