# Builds sdk/examples/minimal the way a third party would: install the SDK component of
# this build into a temporary prefix, configure the example against it with
# CMAKE_PREFIX_PATH, build it, and run `cw plugins check` on the result.
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
