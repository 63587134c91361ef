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
