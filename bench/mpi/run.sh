#!/usr/bin/env bash
# The runs of README.md on the 2^24-edge R-MAT (2^20 users x 2^18 items, k = 20, 10
# iterations): 1 process x 2 threads (the single process, reorder off and on, and the
# distributed code on one rank), 2 ranks x 1 thread with each exchange. Writes
# results/<date>-*.json. Usage: bench/mpi/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
bench=$build/bench/mpi/mpi_bench
out=$(dirname "$0")/results
day=$(date -u +%F)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np 1 --bind-to none "$bench" --threads 2 --serial >"$out/$day-1x2.json"
for ex in alltoall allgather; do
  mpirun --oversubscribe -np 2 --bind-to none "$bench" --threads 1 --exchange $ex >"$out/$day-2x1-$ex.json"
done
