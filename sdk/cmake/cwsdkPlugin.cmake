# cwsdk_add_plugin(<name> SOURCES <src>... [OUTPUT_DIRECTORY <dir>])
#
# Builds a cw provider plugin `cw-provider-<name>.so` from the sources, linked against the
# cwsdk headers, with everything the ABI rules ask for:
#   - hidden visibility: only cwsdk_entry is exported (CWSDK_EXPORT),
#   - -Wl,--exclude-libs,ALL: static libraries linked in do not leak symbols,
#   - -Wl,-z,defs: an unresolved symbol is a link error, not a load-time surprise,
#   - no "lib" prefix, output name cw-provider-<name>.
# Used unchanged in the cw tree and from an installed SDK (find_package(cwsdk 1.0)).
function(cwsdk_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_DIRECTORY" "SOURCES")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "cwsdk_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^[a-z][a-z0-9_-]*$")
    message(FATAL_ERROR "cwsdk_add_plugin(${name}): the name must match [a-z][a-z0-9_-]*")
  endif()
  set(target "cw-provider-${name}")
  add_library(${target} MODULE ${arg_SOURCES})
  target_link_libraries(${target} PRIVATE cwsdk::headers)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "cw-provider-${name}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(NOT CMAKE_CXX_STANDARD)
    target_compile_features(${target} PRIVATE cxx_std_17)
  endif()
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL" "LINKER:-z,defs")
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${arg_OUTPUT_DIRECTORY}")
  endif()
endfunction()
