#!/usr/bin/env bash
# `driftrec evaluate` (1 process x 2 threads) against `driftrec-mpi evaluate` (2 ranks x 1
# thread) on the bundled MovieLens by year, every row, back to back; checks that the two
# reports are equal without their timing fields. Writes results/<date>-evaluate-<tag>.json:
# the load average before, between and after, each run's wall time, and its per-row wall
# and CPU seconds.
# Usage: bench/mpi/evaluate.sh [BUILD_DIR] [TAG] [extra evaluate options...]
set -euo pipefail
build=${1:-build}
tag=${2:-run}
shift 2 || true
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../../data/movielens-latest-small
out=$here/results/$(date -u +%F)-evaluate-$tag.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$build/cli/driftrec" ingest "$data/ratings.csv" --labels "$data/movies.csv" --slice year -o "$work/ml.h5" >/dev/null
load() { cut -d' ' -f1-3 /proc/loadavg; }
l0=$(load)
"$build/cli/driftrec" evaluate "$work/ml.h5" --quiet --threads 2 --json "$work/single.json" "$@" >/dev/null
l1=$(load)
mpirun --oversubscribe --bind-to none -np 2 "$build/mpi/driftrec-mpi" evaluate "$work/ml.h5" --quiet --threads 1 \
  --json "$work/mpi.json" "$@" >"$work/mpi.txt"
l2=$(load)
python3 - "$work/single.json" "$work/mpi.json" "$work/mpi.txt" "$l0" "$l1" "$l2" "$out" "$*" <<'PY'
import json, sys
single, mpi = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
timing = ("seconds", "cpu_seconds", "wall_seconds")
strip = lambda r: {k: v for k, v in r.items() if k not in timing}
ranks = [l.strip() for l in open(sys.argv[3]) if l.startswith("  rank ")]
res = {
    "data": "MovieLens latest-small by year", "options": sys.argv[8],
    "load_before": sys.argv[4], "load_between": sys.argv[5], "load_after": sys.argv[6],
    "single_1x2": {k: single[k] for k in timing},
    "mpi_2x1": {**{k: mpi[k] for k in timing}, "ranks": ranks},
    "speedup_mpi_over_single": single["wall_seconds"] / mpi["wall_seconds"],
    "reports_equal_without_timings": strip(single) == strip(mpi),
}
json.dump(res, open(sys.argv[7], "w"), indent=2)
print(json.dumps({k: res[k] for k in ("load_before", "load_after", "speedup_mpi_over_single",
                                      "reports_equal_without_timings")}),
      single["wall_seconds"], mpi["wall_seconds"])
PY
