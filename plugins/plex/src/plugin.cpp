// The plex provider's exported entry point.
#include "plex.hpp"

CWSDK_PROVIDER(plex::Plex)
