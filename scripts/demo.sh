#!/usr/bin/env bash
# Sets up, builds and runs `driftrec demo` on the bundled MovieLens data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDRIFTREC_BUILD_TESTS=OFF >/dev/null
cmake --build build -j2 --target driftrec
build/cli/driftrec demo "$@"
