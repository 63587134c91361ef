// The plugin's one exported symbol; the provider is in anilist.hpp so that its tests drive
// the same class through the mock host.
#include "anilist.hpp"

CWSDK_PROVIDER(anilist::Anilist)
