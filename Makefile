# The two commands of the README, plus benchmarks. Each one installs what is missing
# (scripts/install-deps.sh), configures, builds and runs: nothing else is needed on a
# fresh Debian 12 machine.
#
#   make demo    build cw and the plugins the demo runs (preset `demo`), sync the bundled
#                example library and a fake Plex into a fake Trakt, and show that a second
#                run has nothing to do
#   make test    build once (preset `ci`: ASan + UBSan) and run every test suite; the
#                benchmarks are left to `make bench` (timing them under sanitizers means
#                nothing, and building them there cost CI about two minutes)
#   make bench   build the `release` preset and run the benchmarks
#   make fuzz    libFuzzer (clang) on every parser of untrusted input, FUZZ_SECONDS each
#   make tsan    ThreadSanitizer build of the suites that run threads
#   make package build the Debian packages cw and cw-dev (build/demo/*.deb)

PRESET ?= ci
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test demo bench package format format-check fuzz tsan clean soak

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake --preset $(PRESET)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --no-tests=error

# The demo builds only what it runs, optimised (preset `demo`: a unity build, cw-sandbox with
# the Plex and Trakt fakes only): cw, the crosswatch, plex and trakt plugins and cw-sandbox.
# A newcomer sees it run in minutes, not after every sanitizer-instrumented test suite is
# built; `cmake --build build/demo` builds the other plugins.
DEMO_TARGETS := cw cw-sandbox cw-provider-crosswatch cw-provider-plex cw-provider-trakt

demo:
	@bash scripts/install-deps.sh --build
	cmake --preset demo
	cmake --build build/demo -j $(JOBS) --target $(DEMO_TARGETS)
	@bash scripts/demo.sh build/demo

# Debian packages cw and cw-dev (cmake/Packaging.cmake) from the optimised `demo` build.
package:
	@bash scripts/install-deps.sh --build
	cmake --preset demo
	cmake --build build/demo -j $(JOBS)
	cd build/demo && cpack

bench: deps
	cmake --preset release
	cmake --build build/release -j $(JOBS)
	@bash scripts/bench.sh build/release

# libFuzzer on every parser of untrusted input (fuzz/), FUZZ_SECONDS a target (default 60).
# `make test` replays the same targets briefly (CTest fuzz_*) without clang.
fuzz:
	@bash scripts/install-deps.sh --fuzz
	@bash scripts/fuzz.sh

# ThreadSanitizer over the suites whose code runs threads: the HTTP service, the kv store,
# the SDK's mock host, the ABI (instances driven from several threads), cw serve.
# handle_segv=0: the isolation tests crash a plugin's process on purpose and expect it to
# die of SIGSEGV, as it does in production, not to exit through TSan's own handler (66).
tsan: deps
	cmake --preset tsan
	cmake --build build/tsan -j $(JOBS) --target cw_unit_http cw_unit_state cw_sdk_tests \
	  cw_abi_tests cw_unit_serve
	cd build/tsan && TSAN_OPTIONS=handle_segv=0 ctest --output-on-failure -j $(JOBS) \
	  -R '^(cw_unit_http|cw_unit_state|cw_sdk_tests|cw_abi_tests|cw_unit_serve)\.'

# The soak of `cw serve` at the size of issue 14: 10k webhook events at 200/s into cw serve,
# Trakt (cw-sandbox) down for a minute and failing 10 % of writes; every play delivered once,
# memory flat (CTest runs it scaled down). The plays drain at Trakt's write limit, one a
# second: about three hours.
soak: build
	cd tests/e2e && CW_BIN=$(CURDIR)/$(BUILD_DIR)/bin/cw CW_SANDBOX=$(CURDIR)/$(BUILD_DIR)/bin/cw-sandbox \
	  CW_PLUGIN_DIR=$(CURDIR)/$(BUILD_DIR)/plugins-out PYTHONDONTWRITEBYTECODE=1 \
	  CW_SOAK_EVENTS=10000 CW_SOAK_RATE=200 CW_SOAK_DOWN_S=60 python3 test_serve_scrobble.py

format:
	git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i

# What CTest's format_check runs: fails on any file `make format` would change.
format-check:
	@bash scripts/check-format.sh

clean:
	rm -rf build
