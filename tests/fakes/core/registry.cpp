#include "core/registry.hpp"

// CMake defines CW_FAKE_HAS_<SERVICE> for each service folder that holds sources, so that the
// registry builds while services are being added.
#ifdef CW_FAKE_HAS_PLEX
#include "plex/plex_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_JELLYFIN
#include "jellyfin/jellyfin_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_EMBY
#include "emby/emby_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_TAUTULLI
#include "tautulli/tautulli_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_TRAKT
#include "trakt/trakt_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_SIMKL
#include "simkl/simkl_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_MDBLIST
#include "mdblist/mdblist_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_ANILIST
#include "anilist/anilist_fake.hpp"
#endif
#ifdef CW_FAKE_HAS_TMDB
#include "tmdb/tmdb_fake.hpp"
#endif

namespace cw::fakes {

const std::vector<FakeFactory>& all_fakes() {
  static const std::vector<FakeFactory> k_fakes = {
#ifdef CW_FAKE_HAS_PLEX
      {"plex", &make_plex_fake},
#endif
#ifdef CW_FAKE_HAS_JELLYFIN
      {"jellyfin", &make_jellyfin_fake},
#endif
#ifdef CW_FAKE_HAS_EMBY
      {"emby", &make_emby_fake},
#endif
#ifdef CW_FAKE_HAS_TAUTULLI
      {"tautulli", &make_tautulli_fake},
#endif
#ifdef CW_FAKE_HAS_TRAKT
      {"trakt", &make_trakt_fake},
#endif
#ifdef CW_FAKE_HAS_SIMKL
      {"simkl", &make_simkl_fake},
#endif
#ifdef CW_FAKE_HAS_MDBLIST
      {"mdblist", &make_mdblist_fake},
#endif
#ifdef CW_FAKE_HAS_ANILIST
      {"anilist", &make_anilist_fake},
#endif
#ifdef CW_FAKE_HAS_TMDB
      {"tmdb", &make_tmdb_fake},
#endif
  };
  return k_fakes;
}

std::unique_ptr<FakeService> make_fake(std::string_view name) {
  for (const auto& f : all_fakes()) {
    if (f.name == name) return f.make();
  }
  return nullptr;
}

std::vector<std::string> fake_names() {
  std::vector<std::string> out;
  for (const auto& f : all_fakes()) out.push_back(f.name);
  return out;
}

}  // namespace cw::fakes
