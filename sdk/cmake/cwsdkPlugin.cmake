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

# cwsdk_add_tests(<target> [SHARDS n] [TIMEOUT seconds] [LABELS label...])
#
# Registers a GoogleTest executable (a plugin's mock-host tests) with CTest.
# By default every test case becomes its own CTest test, so `ctest -R Suite.Case` runs one
# case. That starts the executable once per case; under sanitizers a start costs 0.2-0.8 s,
# which for a few hundred cases is more than the cases themselves. A build that sets
# CWSDK_TEST_PER_CASE to OFF instead runs the executable as SHARDS CTest tests (default 2)
# through GoogleTest's own sharding (GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX): parallel
# across cores, one start per shard. A failing shard names its failing cases; run them
# alone with the executable's --gtest_filter.
include(GoogleTest)
function(cwsdk_add_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SHARDS;TIMEOUT" "LABELS")
  if(NOT arg_SHARDS)
    set(arg_SHARDS 2)
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  set(properties TIMEOUT ${arg_TIMEOUT})
  if(arg_LABELS)
    list(APPEND properties LABELS "${arg_LABELS}")
  endif()
  if(NOT DEFINED CWSDK_TEST_PER_CASE OR CWSDK_TEST_PER_CASE)
    gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST PROPERTIES ${properties})
    return()
  endif()
  math(EXPR last "${arg_SHARDS} - 1")
  foreach(index RANGE ${last})
    set(name "${target}.shard-${index}-of-${arg_SHARDS}")
    add_test(NAME ${name} COMMAND ${target} --gtest_brief=1)
    set_tests_properties(${name} PROPERTIES
      ENVIRONMENT "GTEST_TOTAL_SHARDS=${arg_SHARDS};GTEST_SHARD_INDEX=${index}" ${properties})
  endforeach()
endfunction()
