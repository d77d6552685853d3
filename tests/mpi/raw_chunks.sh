#!/usr/bin/env bash
# driftrec-mpi reads collectively by default, and falls back to independent reads for the
# datasets of a store that has raw chunks (filter mask not 0: stores of driftrec before
# mask-0 chunks), which HDF5 1.10's collective reads cannot read (mpi/parallel_store.hpp).
# A small store (every 400th MovieLens rating: slices of a few entries, whose chunks do
# not compress) is ingested twice: as driftrec writes stores now (every chunk mask 0: the
# reads are collective, with no note) and as an old driftrec did (DRIFTREC_TEST_RAW_CHUNKS=1:
# the note on stderr, independent reads of those datasets). Both must give, at -np 2,
# propagate and factorize results equal to the single process (h5diff, no tolerance).
# Usage: raw_chunks.sh DRIFTREC DRIFTREC_MPI MPIRUN DATA_DIR (DRIFTREC_MPI, MPIRUN: "none" when not built)
# Exits 77 (CTest: skipped) when driftrec-mpi was not built.
source "$(dirname "$0")/common.sh"
awk 'NR == 1 || NR % 400 == 0' "$data/ratings.csv" >"$work/small.csv"
"$driftrec" ingest "$work/small.csv" --labels "$data/movies.csv" --slice year -o "$work/new.h5" >/dev/null
DRIFTREC_TEST_RAW_CHUNKS=1 "$driftrec" ingest "$work/small.csv" --labels "$data/movies.csv" --slice year \
  -o "$work/old.h5" >/dev/null
note="read with independent transfers"

check() {  # check STORE JOB NOTE(yes|no) [env...]: -np 2 equals the single process
  local store=$1 job=$2 expect=$3
  shift 3
  cp "$work/$store.h5" "$work/one.h5"
  cp "$work/$store.h5" "$work/many.h5"
  "$driftrec" "$job" "$work/one.h5" --quiet --name r >/dev/null
  env "$@" "$mpirun" --oversubscribe -np 2 -x DRIFTREC_MPI_COLLECTIVE_READS "$mpi" "$job" "$work/many.h5" --quiet \
    --threads 1 --name r >"$work/out.txt" 2>"$work/err.txt" ||
    { echo "FAIL: $store $job $*: exit $?"; cat "$work/err.txt"; exit 1; }
  if [ "$expect" = yes ]; then
    grep -q "$note" "$work/err.txt" || { echo "FAIL: $store $job: no note of independent reads"; cat "$work/err.txt"; exit 1; }
  elif grep -q "$note" "$work/err.txt"; then
    echo "FAIL: $store $job: independent reads of a store without raw chunks"; cat "$work/err.txt"; exit 1
  fi
  h5diff "$work/one.h5" "$work/many.h5" /results/r /results/r ||
    { echo "FAIL: $store $job $*: /results/r differs from the single process"; exit 1; }
  echo "ok: $store store, $job at -np 2 $* equals the single process (note of independent reads: $expect)"
}
for job in propagate factorize; do
  check new "$job" no DRIFTREC_MPI_COLLECTIVE_READS=
  check new "$job" no DRIFTREC_MPI_COLLECTIVE_READS=1
  check old "$job" yes DRIFTREC_MPI_COLLECTIVE_READS=
done
