#!/usr/bin/env bash
# driftrec-mpi propagate --method p3alpha|rp3beta|ppr under mpirun -np 1, 2 and 3 against
# `driftrec propagate --method ...` on the same store (MovieLens by year: 610 users, 9724
# items, so the items' 4096-row residual blocks straddle the ranks' boundaries): the
# /results/<name> groups must be equal value for value, attributes (iterations, residual)
# included (h5diff with no tolerance), since
# every similarity row, every user's scores and every PageRank iterate is summed in the
# single process's order, and PageRank's residual too (mpi/pagerank.hpp), so each block of
# users stops at the same iteration. Then a rank that fails (DRIFTREC_MPI_FAIL_RANK) while
# the history is built must end the job non-zero, name the rank, and leave the store byte
# for byte as it was, with no temporary file beside it.
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
