# onair - top-level entry points. See README.md.
#
#   make          build build/onair (release with debug info)
#   make run      install missing Debian packages, build, start the server
#   make test     build everything and run every test (unit, integration,
#                 sanitizers); ends with the test runner's closing line
#   make deps     install missing Debian packages only
#   make asan     build with AddressSanitizer + UBSan into build-asan/
#   make bench    run bench/run (see bench/README.md)

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

DEB_PACKAGES = build-essential cmake pkg-config clang clang-format \
	libevent-dev libsqlite3-dev libssl-dev libjansson-dev libcmocka-dev \
	libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev \
	libswresample-dev libavutil-dev libx264-dev \
	ffmpeg nodejs npm curl

.PHONY: all build run test deps asan bench clean format format-check

all: build

deps:
	@scripts/install-deps $(DEB_PACKAGES)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DSANITIZE=address,undefined $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	$(BUILD)/onair $(ARGS)

test: deps
	@tests/run

bench: build
	bench/run $(ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
