// The plugin's one exported symbol; the provider is in simkl.hpp.
#include "simkl.hpp"

CWSDK_PROVIDER(simkl::Simkl)
