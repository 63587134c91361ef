# The two commands of the README, plus benchmarks. Each one installs what is missing
# (scripts/install-deps.sh), configures, builds and runs: nothing else is needed on a
# fresh Debian 12 machine.
#
#   make demo    sync the bundled example library and show that a second run has nothing to do
#   make test    build once (preset `ci`: ASan + UBSan) and run every test suite
#   make bench   build the `release` preset and run the benchmarks

PRESET ?= ci
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test demo bench format clean

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

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

bench: deps
	cmake --preset release
	cmake --build build/release -j $(JOBS)
	@bash scripts/bench.sh build/release

format:
	git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf build
