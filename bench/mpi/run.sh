#!/usr/bin/env bash
# The runs of README.md on the 2^24-edge R-MAT (2^20 users x 2^18 items, k = 20, 10
# iterations), back to back so that each pair saw about the same load: 1 process x 2
# threads (the single process with degree order off and on, and the distributed code on one
# rank), then 2 ranks x 1 thread in the degree order with the ghost exchange (alltoall) and
# with the on-node shared windows (--exchange shared), then (with --all) 2 ranks in id order
# and with the allgather exchange. Both sides are pinned alike, one thread or rank per core
# (OMP_PROC_BIND=close OMP_PLACES=cores; mpirun --bind-to core), as a cluster job would run.
# ROUNDS=N repeats the pair N times, alternating, and writes a summary with each round's
# ratio and their median: on a shared 2-core VM one pair's ratio moves by 0.2 from run to run.
# Writes results/<date>-<tag>[-rI]-{1x2,2x1,2x1-shared}.json (and -summary.json with ROUNDS).
# Usage: [ROUNDS=N] bench/mpi/run.sh [BUILD_DIR] [TAG] [--all]
set -euo pipefail
build=${1:-build}
tag=${2:-run}
rounds=${ROUNDS:-1}
bench=$build/bench/mpi/mpi_bench
out=$(dirname "$0")/results
day=$(date -u +%F)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
pair() {  # $1: file prefix
  OMP_PROC_BIND=close OMP_PLACES=cores \
    mpirun --oversubscribe -np 1 --bind-to none "$bench" --threads 2 --serial >"$1-1x2.json"
  mpirun --oversubscribe -np 2 --bind-to core --map-by core "$bench" --threads 1 --exchange alltoall >"$1-2x1.json"
  mpirun --oversubscribe -np 2 --bind-to core --map-by core "$bench" --threads 1 --exchange shared >"$1-2x1-shared.json"
}
if [ "$rounds" = 1 ]; then
  pair "$out/$day-$tag"
else
  for i in $(seq 1 "$rounds"); do pair "$out/$day-$tag-r$i"; done
  python3 - "$out/$day-$tag" "$rounds" >"$out/$day-$tag-summary.json" <<'PY'
import json, statistics, sys
prefix, n = sys.argv[1], int(sys.argv[2])
rounds = []
for i in range(1, n + 1):
    one = json.load(open(f"{prefix}-r{i}-1x2.json"))
    two = json.load(open(f"{prefix}-r{i}-2x1.json"))
    sh = json.load(open(f"{prefix}-r{i}-2x1-shared.json"))
    s, d, e = (one["serial_reorder_on_ms_per_iteration"], two["ms_per_iteration_first_removed"],
               sh["ms_per_iteration_first_removed"])
    rounds.append({"single_2_threads_ms": s, "two_ranks_ms": d, "ratio": s / d,
                   "two_ranks_shared_ms": e, "ratio_shared": s / e,
                   "load_before": one["load_before"], "load_after": sh["load_after"]})
med = lambda key: statistics.median(r[key] for r in rounds)
print(json.dumps({"rounds": rounds, "median_single_ms": med("single_2_threads_ms"),
                  "median_two_ranks_ms": med("two_ranks_ms"), "median_ratio": med("ratio"),
                  "median_two_ranks_shared_ms": med("two_ranks_shared_ms"),
                  "median_ratio_shared": med("ratio_shared")}, indent=1))
PY
  cat "$out/$day-$tag-summary.json"
fi
if [ "${3:-}" = --all ]; then
  mpirun --oversubscribe -np 2 --bind-to core --map-by core "$bench" --threads 1 --reorder 0 >"$out/$day-$tag-2x1-idorder.json"
  mpirun --oversubscribe -np 2 --bind-to core --map-by core "$bench" --threads 1 --exchange allgather >"$out/$day-$tag-2x1-allgather.json"
fi
