#!/usr/bin/env bash
# driftrec-mpi factorize under mpirun -np 1, 2 and 3 against `driftrec factorize` on the
# same store (MovieLens by year): the /results/<name> groups must be equal value for value
# (h5diff with no tolerance), since each rank solves its rows with the single process's
# kernel on the same entries and fixed rows, and Y^T Y is summed over the single process's
# row blocks in its order (mpi/als.hpp). Both solvers, with and without decay and drift.
# Then a rank that fails (DRIFTREC_MPI_FAIL_RANK) must end the job non-zero, name the rank,
# and leave the store byte for byte as it was, with no temporary file beside it.
# Usage: factorize_equal.sh DRIFTREC DRIFTREC_MPI MPIRUN DATA_DIR (DRIFTREC_MPI, MPIRUN: "none" when not built)
# Exits 77 (CTest: skipped) when driftrec-mpi was not built.
source "$(dirname "$0")/common.sh"
"$driftrec" ingest "$data/ratings.csv" --slice year -o "$work/base.h5" >/dev/null

check() {  # check NAME NP THREADS [options...]: equal to the single process with those options
  local name=$1 np=$2 threads=$3
  shift 3
  cp "$work/base.h5" "$work/one.h5"
  cp "$work/base.h5" "$work/many.h5"
  "$driftrec" factorize "$work/one.h5" --quiet --threads 2 --name "$name" "$@" >/dev/null
  "$mpirun" --oversubscribe -np "$np" "$mpi" factorize "$work/many.h5" --quiet --threads "$threads" --name "$name" "$@" \
    >"$work/out.txt"
  grep -q "on $np ranks" "$work/out.txt" || { echo "FAIL: unexpected summary: $(cat "$work/out.txt")"; exit 1; }
  if ! h5diff "$work/one.h5" "$work/many.h5" "/results/$name" "/results/$name"; then
    echo "FAIL: -np $np $*: /results/$name differs from the single process"
    h5diff -r "$work/one.h5" "$work/many.h5" "/results/$name" "/results/$name" | head -20
    exit 1
  fi
  echo "ok: -np $np x $threads threads $* equals the single process"
}
fast=(--factors 16 --iterations 4)
check als 1 1 "${fast[@]}"
check als 2 1 "${fast[@]}" --keep-items all
check als 3 2 "${fast[@]}" --gamma 0.5 --eta 1 --keep-users last:3
check exact 3 1 --factors 8 --iterations 2 --solver cholesky --gamma 0.5 --eta 0.5

# A failed rank: in period 0, and in period 1, after the ranks have written period 0's factors
# into the temporary file.
check_failed_rank factorize 2 1 0 "${fast[@]}"
check_failed_rank factorize 3 0 1 "${fast[@]}"
