#!/usr/bin/env bash
# bench/serve/run.sh [BUILD_DIR]: the figures of issue 14 item 3 as one JSON object.
#   bundled      recall@20 of int8 against float32 on the bundled MovieLens data (factorized
#                as `driftrec demo` does), every user
#   catalogue    10^6 items x 64 factors (ALS-like and i.i.d. Gaussian): recall@20 over
#                sampled users, and the scan's cost per query
#   latency      the Server on 127.0.0.1, one request in flight: 10^5 requests at 10^5
#                items (with resident memory before and after) and REQUESTS_1M at 10^6
# Needs the targets driftrec and serve_bench (cmake -DDRIFTREC_BUILD_BENCH=ON). The load
# average before and after is printed because the machine is shared.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
driftrec=$build/cli/driftrec
bench=$build/bench/serve/serve_bench
for b in "$driftrec" "$bench"; do
  [ -x "$b" ] || { echo "run.sh: $b missing: cmake --build $build --target driftrec serve_bench" >&2; exit 2; }
done
requests_100k=${REQUESTS_100K:-100000}
requests_1m=${REQUESTS_1M:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$root/data/movielens-latest-small

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "{"
echo "  \"nproc\": $(nproc), \"loadavg_before\": \"$(loadavg)\","
"$driftrec" ingest "$data/ratings.csv" --labels "$data/movies.csv" --slice month -o "$tmp/ml.h5" >/dev/null
"$driftrec" factorize "$tmp/ml.h5" --factors 32 --iterations 5 --eta 1 --gamma 0.5 --keep-users last:3 >/dev/null
echo "  \"bundled\": $("$bench" --store "$tmp/ml.h5"),"
echo "  \"catalogue_1m_gaussian\": $("$bench" --items 1000000 --factors 64 --shape gaussian --queries 200 --no-latency),"
echo "  \"catalogue_1m\": $("$bench" --items 1000000 --factors 64 --queries 200 --requests "$requests_1m"),"
echo "  \"catalogue_100k\": $("$bench" --items 100000 --factors 64 --queries 200 --requests "$requests_100k"),"
echo "  \"loadavg_after\": \"$(loadavg)\""
echo "}"
