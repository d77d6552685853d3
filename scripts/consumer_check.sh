#!/usr/bin/env bash
# The installed C++ package works for a consumer: installs build/ into build/install,
# builds examples/cpp against it (which also compiles every installed header without
# HDF5's headers) and runs both examples on a store of the bundled data.
# Usage: scripts/consumer_check.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
prefix=$PWD/$build/install
rm -rf "$prefix" "$build/examples-cpp"
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S examples/cpp -B "$build/examples-cpp" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build/examples-cpp" -j2 >/dev/null
store=$(mktemp -d)/ml.h5
trap 'rm -rf "$(dirname "$store")"' EXIT
"$prefix/bin/driftrec" ingest data/movielens-latest-small/ratings.csv \
  --labels data/movielens-latest-small/movies.csv --slice quarter -o "$store" >/dev/null
out=$("$build/examples-cpp/user_interests" "$store" 414)
echo "$out"
grep -q "^period .*converged" <<<"$out" || { echo "consumer check: unexpected output" >&2; exit 1; }
"$build/examples-cpp/store_job" "$store" | grep -q '"method": "rp3beta"' ||
  { echo "consumer check: store_job did not report its rp3beta run" >&2; exit 1; }
"$prefix/bin/driftrec" info "$store" | grep -q rp3beta ||
  { echo "consumer check: the store has no rp3beta result after store_job" >&2; exit 1; }
echo "consumer check: examples/cpp built against the installed package and ran"
