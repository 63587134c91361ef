// The Emby provider: the shared MediaBrowser implementation (plugins/mediabrowser) with the
// Emby flavour. Its tests drive the same class through the SDK's mock host.
#include "mediabrowser.hpp"

CWSDK_PROVIDER(mediabrowser::Emby)
