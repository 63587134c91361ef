// The plugin's one exported symbol; the provider is in tmdb.hpp so that its tests drive the
// same class through the mock host.
#include "tmdb.hpp"

CWSDK_PROVIDER(tmdb::Tmdb)
