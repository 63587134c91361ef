# CW_SANITIZE=ON builds everything (host, plugins, tests) with ASan and UBSan so that a
# plugin that leaks or scribbles is caught in the contract suite.
option(CW_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(CW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # Executables are linked without PIE: a sanitized PIE binary of cw is ~180 MB with 2.5
  # million relative relocations, and applying them cost ~40 % of every start. The tests
  # start cw thousands of times (scenarios, e2e, CLI tests), so this is minutes of CI.
  add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-no-pie>)
endif()

# CW_TSAN=ON (preset `tsan`, `make tsan`): ThreadSanitizer instead of ASan + UBSan (they
# cannot be combined). The ABI lets a host drive several instances of a plugin from several
# threads, and the HTTP service, the kv store and `cw serve` share state across threads.
option(CW_TSAN "Build with ThreadSanitizer" OFF)
if(CW_TSAN)
  if(CW_SANITIZE)
    message(FATAL_ERROR "CW_TSAN and CW_SANITIZE cannot be combined")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# Test code is compiled with ASan only: cw_sanitize_tests_address_only(<dir>) walks the
# targets of <dir> and below and turns UBSan off for every GoogleTest executable and every
# target under tests/ (the fakes, cw-sandbox, the scenario runner, the misbehaving test
# plugins). UBSan instrumentation of test sources (nlohmann/json literals, gtest macros,
# cpp-httplib handlers) cost more compile time than anything else in `make test`:
# jellyfin_test.cpp compiles in 16 s plain, 22 s with ASan, 28 s with ASan + UBSan. What it
# would check there is the tests' own code. The host, the plugins and the SDK kit as the
# plugins compile it keep both sanitizers; ASan still sees every test's memory errors.
function(cw_sanitize_tests_address_only dir)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(libraries ${target} LINK_LIBRARIES)
    get_target_property(source_dir ${target} SOURCE_DIR)
    string(FIND "${source_dir}/" "${PROJECT_SOURCE_DIR}/tests/" tests_at)
    if("${libraries}" MATCHES "GTest::" OR tests_at EQUAL 0)
      target_compile_options(${target} PRIVATE -fno-sanitize=undefined)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    cw_sanitize_tests_address_only("${subdirectory}")
  endforeach()
endfunction()

# CW_FUZZ=ON (preset `fuzz`, clang): every target is instrumented for libFuzzer's coverage
# (fuzzer-no-link) under ASan and UBSan; the fuzz/ targets link libFuzzer's main.
option(CW_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)
if(CW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CW_FUZZ needs clang (libFuzzer): use the preset `fuzz` (make fuzz)")
  endif()
  # pointer-overflow is recoverable only so that fuzz/ubsan.supp can name one third-party
  # header; scripts/fuzz.sh sets halt_on_error, so any other report still stops the run.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow)
  add_link_options(-fsanitize=address,undefined)
endif()
