// The plugin's one exported symbol; the provider itself is in tautulli.hpp so that its unit
// tests drive the same class through the mock host.
#include "tautulli.hpp"

CWSDK_PROVIDER(tautulli::Tautulli)
