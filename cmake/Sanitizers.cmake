# CW_SANITIZE=ON builds everything (host, plugins, tests) with ASan and UBSan so that a
# plugin that leaks or scribbles is caught in the contract suite.
option(CW_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(CW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
