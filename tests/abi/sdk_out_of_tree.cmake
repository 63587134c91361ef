# Builds plugins the way a third party would: install the SDK component of this build into
# a temporary prefix, then configure against it with CMAKE_PREFIX_PATH: the minimal
# example, a plugin written in C (LANGUAGES C), and the HTTP example with its tests; `cw
# plugins check` on each plugin.
#   cmake -DCW_BUILD_DIR=.. -DCW_SOURCE_DIR=.. -DCW_EXE=.. -DWORK_DIR=.. -P sdk_out_of_tree.cmake
foreach(var CW_BUILD_DIR CW_SOURCE_DIR CW_EXE WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "sdk_out_of_tree.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install the SDK component"
  "${CMAKE_COMMAND}" --install "${CW_BUILD_DIR}" --component sdk --prefix "${prefix}")
if(NOT EXISTS "${prefix}/include/cwsdk/cwsdk.h" OR NOT EXISTS "${prefix}/share/cwsdk/schema/manifest.schema.json")
  message(FATAL_ERROR "the installed SDK lacks cwsdk.h or the schemas under ${prefix}")
endif()
# The example must find the installed SDK, not the source tree's.
run_step("configure the example against the installed SDK"
  "${CMAKE_COMMAND}" -S "${CW_SOURCE_DIR}/sdk/examples/minimal" -B "${build}" -G Ninja
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
file(STRINGS "${build}/CMakeCache.txt" sdk_dir REGEX "^cwsdk_DIR:")
if(NOT sdk_dir MATCHES "${prefix}")
  message(FATAL_ERROR "the example found the SDK elsewhere: ${sdk_dir}")
endif()
run_step("build the example" "${CMAKE_COMMAND}" --build "${build}")
if(NOT EXISTS "${build}/cw-provider-minimal.so")
  message(FATAL_ERROR "the build did not produce cw-provider-minimal.so in ${build}")
endif()
run_step("cw plugins check"
  "${CW_EXE}" --log-level warn plugins check "${build}/cw-provider-minimal.so")
message(STATUS "${step_output}")
if(NOT step_output MATCHES "\nPASS \\(")
  message(FATAL_ERROR "cw plugins check did not pass:\n${step_output}")
endif()

# A plugin written in C, from the C template of docs/plugin-authors.md (LANGUAGES C): the
# installed package must work without a C++ compiler being enabled.
set(c_src "${WORK_DIR}/c-plugin")
file(MAKE_DIRECTORY "${c_src}/src")
file(COPY "${CW_SOURCE_DIR}/tests/abi/plugins/c_plugin.c" DESTINATION "${c_src}/src")
file(WRITE "${c_src}/CMakeLists.txt" "cmake_minimum_required(VERSION 3.25)
project(cw_provider_cexample LANGUAGES C)
find_package(cwsdk 1.0 REQUIRED)
cwsdk_add_plugin(cplain SOURCES src/c_plugin.c)
target_compile_definitions(cw-provider-cplain PRIVATE PLUGIN_NAME=\"cplain\")
")
run_step("configure a C plugin against the installed SDK"
  "${CMAKE_COMMAND}" -S "${c_src}" -B "${WORK_DIR}/c-build" -G Ninja
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror")
run_step("build the C plugin" "${CMAKE_COMMAND}" --build "${WORK_DIR}/c-build")
run_step("cw plugins check (C)"
  "${CW_EXE}" --log-level warn plugins check "${WORK_DIR}/c-build/cw-provider-cplain.so")
if(NOT step_output MATCHES "\nPASS \\(")
  message(FATAL_ERROR "cw plugins check did not pass for the C plugin:\n${step_output}")
endif()

# The HTTP example on the installed provider kit, with its own tests (GoogleTest from the
# system, the mock host from the SDK).
run_step("configure the watchlog example against the installed SDK"
  "${CMAKE_COMMAND}" -S "${CW_SOURCE_DIR}/sdk/examples/watchlog" -B "${WORK_DIR}/watchlog" -G Ninja
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
run_step("build the watchlog example" "${CMAKE_COMMAND}" --build "${WORK_DIR}/watchlog")
run_step("test the watchlog example" "${CMAKE_CTEST_COMMAND}" --test-dir "${WORK_DIR}/watchlog"
  --output-on-failure)
