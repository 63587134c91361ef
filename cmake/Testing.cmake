# How GoogleTest executables become CTest tests: cwsdk_add_tests() of the SDK's CMake
# package (sdk/cmake/cwsdkPlugin.cmake), the same function plugin authors use, so the host's
# suites and the bundled plugins' suites are registered one way.
#
# CW_TEST_PER_CASE=ON (the default) registers every test case as its own CTest test, so
# `ctest -R Suite.Case` runs one case. It also starts the executable once per case, and
# under the sanitizers a start costs 0.2-0.8 s (ASan maps its shadow memory, the loader
# relocates a 50-200 MB binary): for the 1,400 cases of `make test` that was more time than
# the cases themselves. The `ci` preset turns it OFF: each executable then runs as a few
# GoogleTest shards, paying the start-up once per shard.
option(CW_TEST_PER_CASE "Register each GoogleTest case as its own CTest test" ON)
set(CWSDK_TEST_PER_CASE ${CW_TEST_PER_CASE})
