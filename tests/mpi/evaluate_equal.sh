#!/usr/bin/env bash
# driftrec-mpi evaluate under mpirun -np 1, 2 and 3 against `driftrec evaluate` on the same
# store (MovieLens by year): the JSON reports must be equal value for value once the timing
# fields (seconds, cpu_seconds: each rank's own, and wall_seconds) are removed, since every
# row is fitted and scored by one rank exactly as the single process does it and rank 0
# runs the same bootstrap on the gathered per-pair values (mpi/evaluate_job.hpp). The
# stdout table must be the single process's too, up to the timing lines. To stay short,
# one test period and a subset of the rows: baselines, tuned models (als, temporal_als,
# label_propagation), and the sequence rows that share one GRU fit (sequence_gru, hybrid,
# mixture; they must stay on one rank). Then a rank with no rows (-np 2, one row), and a
# failing rank (DRIFTREC_MPI_FAIL_RANK): non-zero exit naming the rank, no report written.
# Usage: evaluate_equal.sh DRIFTREC DRIFTREC_MPI MPIRUN DATA_DIR (DRIFTREC_MPI, MPIRUN: "none" when not built)
# Exits 77 (CTest: skipped) when driftrec-mpi was not built.
source "$(dirname "$0")/common.sh"
"$driftrec" ingest "$data/ratings.csv" --labels "$data/movies.csv" --slice year -o "$work/base.h5" >/dev/null

same_report() {  # same_report A.json B.json: equal without the timing fields
  python3 - "$1" "$2" <<'PY'
import json, sys
def load(path):
    r = json.load(open(path))
    for k in ("seconds", "cpu_seconds", "wall_seconds"):
        r.pop(k)
    return r
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("differs:", k, file=sys.stderr)
    sys.exit(1)
PY
}
untimed() { grep -v -e '^seconds per model' -e '^evaluated in' "$1"; }

check() {  # check NP THREADS [options...]: equal to the single process with those options
  local np=$1 threads=$2
  shift 2
  "$driftrec" evaluate "$work/base.h5" --quiet --threads 1 --json "$work/one.json" "$@" >"$work/one.txt"
  "$mpirun" --oversubscribe -np "$np" "$mpi" evaluate "$work/base.h5" --quiet --threads "$threads" \
    --json "$work/many.json" "$@" >"$work/many.txt"
  grep -q "^on $np ranks" "$work/many.txt" || { echo "FAIL: unexpected summary: $(cat "$work/many.txt")"; exit 1; }
  if ! same_report "$work/one.json" "$work/many.json"; then
    echo "FAIL: -np $np x $threads threads $*: the report differs from the single process's"
    exit 1
  fi
  if ! diff <(untimed "$work/one.txt") <(untimed "$work/many.txt" | sed '/^on [0-9]* ranks/,$d'); then
    echo "FAIL: -np $np x $threads threads $*: the table differs from the single process's"
    exit 1
  fi
  echo "ok: -np $np x $threads threads $* equals the single process"
}
rows=popularity,ewma,als,temporal_als,label_propagation,sequence_gru,hybrid,mixture
check 1 1 --test-periods 1 --models "$rows"
check 2 1 --test-periods 1 --models "$rows" --k 5,10 --seed 3
check 3 2 --test-periods 1 --models "$rows"
check 2 1 --test-periods 2 --models ewma   # rank 1 has no rows

# A failed rank: non-zero, the rank named, no report written.
set +e
DRIFTREC_MPI_FAIL_RANK=1 "$mpirun" --oversubscribe -np 2 -x DRIFTREC_MPI_FAIL_RANK "$mpi" evaluate "$work/base.h5" \
  --quiet --threads 1 --test-periods 1 --models ewma,als --json "$work/failed.json" >"$work/fail.out" 2>"$work/fail.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || { echo "FAIL: a failed rank ended with exit 0"; exit 1; }
grep -q "rank 1 of 2: fault injected by DRIFTREC_MPI_FAIL_RANK" "$work/fail.err" ||
  { echo "FAIL: the message does not name rank 1 and the fault:"; cat "$work/fail.err"; exit 1; }
[ ! -e "$work/failed.json" ] || { echo "FAIL: a report was written after a failed rank"; exit 1; }
echo "ok: evaluate with rank 1 of 2 failing ends with exit $rc, names the rank, writes no report"
