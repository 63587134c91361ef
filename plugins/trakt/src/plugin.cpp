// The plugin's one exported symbol; the provider is in trakt.hpp/trakt.cpp so that the unit
// tests drive the same class through the SDK's mock host.
#include "trakt.hpp"

CWSDK_PROVIDER(trakt::Trakt)
