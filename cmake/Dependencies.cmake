# Every third-party dependency comes from Debian's packages (scripts/install-deps.sh).
# One place finds them all and turns each into an imported target.
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options filesystem)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)
find_package(RapidJSON REQUIRED)

# Debian's yaml-cpp 0.7 exports the plain `yaml-cpp` target.
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp INTERFACE IMPORTED)
  target_link_libraries(yaml-cpp::yaml-cpp INTERFACE yaml-cpp)
endif()

# RapidJSON ships a config file with variables only.
if(NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  target_include_directories(RapidJSON::RapidJSON SYSTEM INTERFACE ${RapidJSON_INCLUDE_DIRS}
                                                                    ${RAPIDJSON_INCLUDE_DIRS})
endif()

if(CW_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CW_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# cpp-httplib (with the OpenSSL and zlib it links) serves `cw serve` and the fake servers.
# Debian splits it into the header and libcpp-httplib.so (the header then declares what the
# library defines), so the library is linked here, once, whenever it is installed.
find_package(OpenSSL REQUIRED)
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(CW_CPP_HTTPLIB_LIBRARY NAMES cpp-httplib)
add_library(cw_httplib INTERFACE)
target_include_directories(cw_httplib SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
target_compile_definitions(cw_httplib INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT)
find_package(ZLIB REQUIRED)
target_link_libraries(cw_httplib INTERFACE OpenSSL::SSL OpenSSL::Crypto ZLIB::ZLIB Threads::Threads)
if(CW_CPP_HTTPLIB_LIBRARY)
  target_link_libraries(cw_httplib INTERFACE ${CW_CPP_HTTPLIB_LIBRARY})
endif()
