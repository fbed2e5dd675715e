# Thin wrapper over CMake for the README's commands.
#   make run    install deps, build, run the main job (xuan pick on this machine)
#   make test   install deps, build, run the tests (Release, then ASan+UBSan)
#   make bench  benchmarks beside llama.cpp on the same files -> docs/perf.md
#   make fuzz   libFuzzer targets for a bounded time (FUZZ_SECONDS, default 60)
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CMAKE_ARGS ?=

.PHONY: all deps build build-asan build-clang peer run test test-release test-asan bench fuzz lint clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The sanitizer build is clang's, so it is also the check that clang builds
# the code warning-free (-Werror); gcc builds the Release tree.
$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DXUAN_SANITIZE=ON $(CMAKE_ARGS) >/dev/null

build-asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# A clang Release build (make test gets clang's -Werror from the sanitizer build).
CLANG_BUILD ?= build-clang
build-clang:
	CC=clang cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	cmake --build $(CLANG_BUILD) -j$(JOBS) >/dev/null
	@echo "clang build: ok (warnings are errors)"

run: deps build
	@bash scripts/run.sh $(BUILD)/xuan

test: deps
	@$(MAKE) --no-print-directory test-release test-asan lint

# The reference (node-llama-cpp and llama.cpp's tools, ~5 minutes to build)
# is set up once before the tests that compare with it, so no test spends
# its timeout waiting for the build.  Exit 3 (registry unreachable) lets the
# heavy tests report their own visible skip.
peer: build
	@bash scripts/peer.sh $(BUILD)/peer test-tools || [ $$? -eq 3 ]

test-release: build peer
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS) -LE heavy

bench: deps build
	@bash bench/run.sh $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXUAN_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

lint:
	@echo "cppcheck: src/ include/ (warnings are errors)"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --std=c11 -I include src

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(CLANG_BUILD)
