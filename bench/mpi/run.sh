#!/usr/bin/env bash
# The runs of README.md on the 2^24-edge R-MAT (2^20 users x 2^18 items, k = 20, 10
# iterations), back to back so that each pair saw about the same load: 1 process x 2
# threads (the single process with degree order off and on, and the distributed code on one
# rank), then 2 ranks x 1 thread in the degree order, then (with --all) 2 ranks in id order
# and with the allgather exchange. Writes results/<date>-<tag>-*.json.
# Usage: bench/mpi/run.sh [BUILD_DIR] [TAG] [--all]
set -euo pipefail
build=${1:-build}
tag=${2:-run}
bench=$build/bench/mpi/mpi_bench
out=$(dirname "$0")/results
day=$(date -u +%F)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np 1 --bind-to none "$bench" --threads 2 --serial >"$out/$day-$tag-1x2.json"
mpirun --oversubscribe -np 2 --bind-to none "$bench" --threads 1 >"$out/$day-$tag-2x1.json"
if [ "${3:-}" = --all ]; then
  mpirun --oversubscribe -np 2 --bind-to none "$bench" --threads 1 --reorder 0 >"$out/$day-$tag-2x1-idorder.json"
  mpirun --oversubscribe -np 2 --bind-to none "$bench" --threads 1 --exchange allgather >"$out/$day-$tag-2x1-allgather.json"
fi
