#!/usr/bin/env bash
# Sets up, builds and runs every test: once optimised, once under AddressSanitizer +
# UndefinedBehaviorSanitizer; between them the installed C++ package is built against
# (examples/cpp) and the Python module is built and its pytest suite run.
# Pass --no-sanitize to skip the second pass. Last, scripts/fuzz.sh builds the libFuzzer
# harnesses (clang, build-fuzz/) and runs each for $FUZZ_SECONDS (default 60) seconds:
# about 2 minutes of fuzzing (two harnesses at a time) plus the build (about 10 minutes on 2 cores without ccache).
# Both configure lines turn the tests on themselves (scripts/demo.sh configures build/
# with them off, and a reused cache would keep that), and ctest fails a pass that finds
# no test instead of passing it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
sanitize=1
[ "${1:-}" = "--no-sanitize" ] && sanitize=0
# ccache lets the Python extension (scripts/python_test.sh) reuse build/'s objects instead of
# compiling every library a second time: that needs the same flags (position-independent
# code, which the extension module requires) and the same absolute source paths, so no
# CCACHE_BASEDIR (it rewrites paths relative to each build folder, and the two differ).
export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDRIFTREC_BUILD_TESTS=ON -DCMAKE_POSITION_INDEPENDENT_CODE=ON >/dev/null
cmake --build build -j2
(cd build && ctest -j2 --output-on-failure --no-tests=error)
scripts/consumer_check.sh build
scripts/python_test.sh

if ((sanitize)); then
  # -g1 (line tables) instead of Debug's -g: sanitizer reports keep file and line, and the
  # build takes about half as long (temporal/gru.cpp: 115 s with -g, 61 s with -g1).
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDRIFTREC_SANITIZE=ON -DDRIFTREC_BUILD_TESTS=ON -DDRIFTREC_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" >/dev/null
  cmake --build build-asan -j2
  # HDF5 keeps library-lifetime allocations; leak checking is for our code, so it stays on,
  # with HDF5's one-time allocations suppressed.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest -j2 --output-on-failure --no-tests=error)
fi

scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
