#!/usr/bin/env bash
# driftrec-mpi propagate --method p3alpha|rp3beta|ppr under mpirun -np 1, 2 and 3 against
# `driftrec propagate --method ...` on the same store (MovieLens by year: 610 users, 9724
# items, so the items' 4096-row residual blocks straddle the ranks' boundaries): the
# /results/<name> groups must be equal value for value, attributes (iterations, residual)
# included (h5diff with no tolerance), since
# every similarity row, every user's scores and every PageRank iterate is summed in the
# single process's order, and PageRank's residual too (mpi/pagerank.hpp), so each block of
# users stops at the same iteration. Each rank writes its own rows of the result
# collectively (mpi/result_file.hpp), so this also checks those writes. Then a rank that
# fails (DRIFTREC_MPI_FAIL_RANK) while the history is built must end the job non-zero, name
# the rank, and leave the store byte for byte as it was, with no temporary file beside it;
# and a decayed history that overflows float must fail as the single process fails.
# Usage: walk_equal.sh DRIFTREC DRIFTREC_MPI MPIRUN DATA_DIR (DRIFTREC_MPI, MPIRUN: "none" when not built)
# Exits 77 (CTest: skipped) when driftrec-mpi was not built.
source "$(dirname "$0")/common.sh"
"$driftrec" ingest "$data/ratings.csv" --slice year -o "$work/base.h5" >/dev/null

mpi_only=()  # options of driftrec-mpi alone
check() {  # check NAME NP THREADS [options...]: equal to the single process with those options
  local name=$1 np=$2 threads=$3
  shift 3
  cp "$work/base.h5" "$work/one.h5"
  cp "$work/base.h5" "$work/many.h5"
  "$driftrec" propagate "$work/one.h5" --quiet --threads 2 --name "$name" "$@" >/dev/null
  "$mpirun" --oversubscribe -np "$np" "$mpi" propagate "$work/many.h5" --quiet --threads "$threads" --name "$name" \
    "$@" "${mpi_only[@]}" >"$work/out.txt"
  grep -q "on $np ranks" "$work/out.txt" || { echo "FAIL: unexpected summary: $(cat "$work/out.txt")"; exit 1; }
  if ! h5diff "$work/one.h5" "$work/many.h5" "/results/$name" "/results/$name"; then
    echo "FAIL: -np $np $*: /results/$name differs from the single process"
    h5diff -r "$work/one.h5" "$work/many.h5" "/results/$name" "/results/$name" | head -20
    exit 1
  fi
  echo "ok: -np $np x $threads threads $* equals the single process"
}
for np in 1 2 3; do
  check rp3 "$np" 1 --method rp3beta
  check p3 "$np" 1 --method p3alpha
  check ppr "$np" 1 --method ppr
done
check rp3b 3 2 --method rp3beta --alpha 0.8 --beta 0.3 --neighbours 20 --top 7 --gamma 0
check p3b 2 2 --method p3alpha --alpha 1.5 --neighbours 5 --gamma 0.9
check pprb 3 2 --method ppr --restart 0.3 --tolerance 1e-4 --top 5 --gamma 0
check pprc 2 1 --method ppr --max-iterations 3
mpi_only=(--exchange allgather)
check ppra 3 1 --method ppr --restart 0.2

# A failed rank: non-zero, named, store unchanged, no temporary file left.
check_failed_rank propagate 3 1 2 --method ppr
check_failed_rank propagate 2 1 0 --method rp3beta

# A decayed history beyond float (3e38 in two years at gamma 0.9, in the last user's row):
# exit 2 with the single process's message, naming the same row and column, from a rank
# other than 0 (so the row is counted globally); the store unchanged, no temporary file.
{
  echo "userId,movieId,rating,timestamp"
  for u in 1 2 3; do
    for year in 964982703 996518703; do
      echo "$u,1,$([ "$u" = 3 ] && echo 3e38 || echo 1),$year"
      echo "$u,$((u + 1)),2,$year"
    done
  done
} >"$work/overflow.csv"
"$driftrec" ingest "$work/overflow.csv" --slice year -o "$work/overflow.h5" >/dev/null
check_overflow() {  # check_overflow NP [options...]
  local np=$1 rc=0 one many
  shift
  cp "$work/overflow.h5" "$work/over.h5"
  "$driftrec" propagate "$work/overflow.h5" --quiet --gamma 0.9 "$@" 2>"$work/one.err" && rc=0 || rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: driftrec $*: exit $rc on an overflowing history"; cat "$work/one.err"; exit 1; }
  one=$(sed -n 's/^driftrec: error: //p' "$work/one.err")
  case "$one" in "decayed history: the value at row 2, column 0 is inf;"*) ;;
    *) echo "FAIL: driftrec $*: unexpected message: $one"; exit 1 ;; esac
  "$mpirun" --oversubscribe -np "$np" "$mpi" propagate "$work/over.h5" --quiet --threads 1 --gamma 0.9 "$@" \
    >/dev/null 2>"$work/many.err" && rc=0 || rc=$?
  [ "$rc" -eq 2 ] || { echo "FAIL: -np $np $*: exit $rc on an overflowing history"; cat "$work/many.err"; exit 1; }
  many=$(sed -n 's/^driftrec-mpi: error: //p' "$work/many.err")
  [[ "$many" =~ ^rank\ [1-9][0-9]*\ of\ $np:\ (.*)$ ]] && [ "${BASH_REMATCH[1]}" = "$one" ] ||
    { echo "FAIL: -np $np $*: '$many' is not a rank's report of '$one'"; exit 1; }
  cmp -s "$work/over.h5" "$work/overflow.h5" || { echo "FAIL: -np $np $*: the store changed"; exit 1; }
  if ls -a "$work" | grep -q '\.over\.h5\.tmp-'; then echo "FAIL: -np $np $*: a temporary file was left"; exit 1; fi
  echo "ok: -np $np $* on an overflowing history: exit 2, $many"
}
check_overflow 2 --method rp3beta
check_overflow 3 --method ppr
check_overflow 2 --method p3alpha
