// Fake Tautulli (API v2, as of v2.17.2): GET /api/v2?apikey=…&cmd=… with the
// {"response":{"result","message","data"}} envelope; history, users, server info, metadata.
#pragma once

#include <memory>

#include "core/fake_service.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_tautulli_fake();

}  // namespace cw::fakes
