# cw_warnings: an interface target that every first-party target links to get the
# project's warning set. Third-party headers come in as SYSTEM and stay quiet.
add_library(cw_warnings INTERFACE)
target_compile_options(cw_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wimplicit-fallthrough
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Woverloaded-virtual>)
# GCC 12 at -O2, above all with ASan, reports maybe-uninitialized inside libstdc++'s own
# <regex> and <optional>, and restrict on std::string concatenation (GCC bug 105329);
# those reports are false positives we cannot fix at the source.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(cw_warnings INTERFACE -Wno-maybe-uninitialized -Wno-restrict)
endif()
# The CI preset turns warnings into errors so that they are fixed where they appear.
option(CW_WERROR "Treat warnings as errors" OFF)
if(CW_WERROR)
  target_compile_options(cw_warnings INTERFACE -Werror)
endif()
