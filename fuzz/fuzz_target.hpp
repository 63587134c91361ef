#pragma once
// A fuzz target over one parser of untrusted input:
//
//   CW_FUZZ_TARGET(item) { ...use data, size...; return 0; }
//
// Each target file is built two ways (fuzz/CMakeLists.txt):
//   - libFuzzer (preset `fuzz`, clang; `make fuzz`): one executable per target, the macro
//     defining LLVMFuzzerTestOneInput, coverage-guided for as long as it is given;
//   - replay (every test build): all targets in one executable, cw_fuzz_replay, that runs a
//     target over its seed corpus and a fixed number of seeded mutations of it under the
//     build's sanitizers (CTest fuzz_<target> in `make test`: briefly, deterministic).
// A target fails by crashing: a sanitizer report, an uncaught exception, or CW_FUZZ_CHECK.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#ifdef CW_FUZZ_LIBFUZZER
#define CW_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#else
namespace cw::fuzz {
using Target = int (*)(const std::uint8_t* data, std::size_t size);
// Called from a static initialiser per target file; the replay driver finds targets by name.
bool register_target(const char* name, Target target);
}  // namespace cw::fuzz
#define CW_FUZZ_TARGET(name)                                             \
  static int cw_fuzz_##name(const std::uint8_t* data, std::size_t size); \
  [[maybe_unused]] static const bool cw_fuzz_registered_##name =         \
      ::cw::fuzz::register_target(#name, &cw_fuzz_##name);               \
  static int cw_fuzz_##name(const std::uint8_t* data, std::size_t size)
#endif

// A property the parsed result must have; a violation is a finding like a crash.
#define CW_FUZZ_CHECK(cond)                                                              \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
