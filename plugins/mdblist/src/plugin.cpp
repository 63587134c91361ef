// The plugin's one exported symbol; the provider is in mdblist.hpp.
#include "mdblist.hpp"

CWSDK_PROVIDER(mdblist::Mdblist)
