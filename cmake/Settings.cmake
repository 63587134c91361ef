# Language level, output layout and the few global switches every target shares.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_C_STANDARD 99)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

include(GNUInstallDirs)

# Plugins land next to each other so that the host finds the bundled ones without
# configuration, both in the build tree and after `cmake --install`.
set(CW_PLUGIN_OUTPUT_DIR "${CMAKE_BINARY_DIR}/plugins-out")
set(CW_PLUGIN_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cw/plugins")
