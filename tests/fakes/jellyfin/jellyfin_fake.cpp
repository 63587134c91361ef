#include "jellyfin/jellyfin_fake.hpp"

#include "jellyfin/mediabrowser_fake.hpp"

namespace cw::fakes {

std::unique_ptr<FakeService> make_jellyfin_fake() {
  return make_mediabrowser_fake(MediaBrowserFlavor::Jellyfin);
}

}  // namespace cw::fakes
