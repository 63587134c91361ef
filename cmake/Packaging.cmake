# `make package`: Debian packages with CPack, one per install component:
#   cw      the `cw` executable, the bundled plugins (lib/cw/plugins), cw(1), bash completion
#   cw-dev  the plugin SDK: headers, schemas, ABI.md and the cwsdk CMake package
set(CPACK_PACKAGE_NAME cw)
set(CPACK_PACKAGE_VENDOR "cw developers")
set(CPACK_PACKAGE_CONTACT "cw developers <cw-dev@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cw sdk)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_CW_PACKAGE_NAME cw)
set(CPACK_DEBIAN_CW_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_CW_PACKAGE_SHLIBDEPS ON)  # dependencies read from the binaries (dpkg-shlibdeps)
set(CPACK_DEBIAN_SDK_PACKAGE_NAME cw-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3.11)")
set(CPACK_COMPONENT_CW_DESCRIPTION "Keeps watch state in step between media servers and trackers")
set(CPACK_COMPONENT_SDK_DESCRIPTION "SDK to build cw provider plugins out of tree")

include(CPack)
