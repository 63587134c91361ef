# How GoogleTest executables become CTest tests.
#
# CW_TEST_PER_CASE=ON (the default) registers every test case as its own CTest test, so
# `ctest -R Suite.Case` runs one case. It also starts the executable once per case, and
# under the sanitizers a start costs 0.2-0.8 s (ASan maps its shadow memory, the loader
# relocates a 50-200 MB binary): for the 1,100 cases of `make test` that was more time than
# the cases themselves. The `ci` preset turns it OFF: each executable is then run as SHARDS
# CTest tests using GoogleTest's own sharding (GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX), which
# keeps the suites parallel across cores while paying the start-up once per shard. A failing
# shard prints the failing cases by name; run them alone with the executable's
# --gtest_filter.
include(GoogleTest)
option(CW_TEST_PER_CASE "Register each GoogleTest case as its own CTest test" ON)

# cw_add_gtests(<target> [SHARDS n] [TIMEOUT seconds] [LABELS label...])
function(cw_add_gtests target)
  cmake_parse_arguments(arg "" "SHARDS;TIMEOUT" "LABELS" ${ARGN})
  if(NOT arg_SHARDS)
    set(arg_SHARDS 2)
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  if(CW_TEST_PER_CASE)
    set(properties TIMEOUT ${arg_TIMEOUT})
    if(arg_LABELS)
      list(APPEND properties LABELS "${arg_LABELS}")
    endif()
    gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST PROPERTIES ${properties})
    return()
  endif()
  math(EXPR last "${arg_SHARDS} - 1")
  foreach(index RANGE ${last})
    set(name "${target}.shard-${index}-of-${arg_SHARDS}")
    add_test(NAME ${name} COMMAND ${target} --gtest_brief=1)
    set_tests_properties(${name} PROPERTIES
      ENVIRONMENT "GTEST_TOTAL_SHARDS=${arg_SHARDS};GTEST_SHARD_INDEX=${index}"
      TIMEOUT ${arg_TIMEOUT})
    if(arg_LABELS)
      set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}")
    endif()
  endforeach()
endfunction()
