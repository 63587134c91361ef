// The plugin's one exported symbol; kept apart so that the tests link the provider
// without exporting an entry point of their own.
#include "crosswatch.hpp"

CWSDK_PROVIDER(cw::crosswatch::Crosswatch)
