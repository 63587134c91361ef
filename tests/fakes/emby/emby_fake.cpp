#include "emby/emby_fake.hpp"

#include "jellyfin/mediabrowser_fake.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_emby_fake() {
  return make_mediabrowser_fake(MediaBrowserFlavor::Emby);
}

}  // namespace cw::fakes
