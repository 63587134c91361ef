// The plugin's one exported symbol; the provider itself is in watchlog.hpp so that its
// tests can drive the same class through the mock host.
#include "watchlog.hpp"

CWSDK_PROVIDER(watchlog::Watchlog)
