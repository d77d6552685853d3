#!/usr/bin/env bash
# driftrec-mpi propagate under mpirun -np 1, 2 and 3 against `driftrec propagate` on the
# same store: the /results/<name> groups must be equal value for value (h5diff with no
# tolerance: bit for bit up to NaN, which a result never holds), since each rank sums its
# rows' edges in the single process's order: in id order (MovieLens by year, about 10^5
# edges, is below the size the single process orders by degree), and with --reorder on in
# the degree order, decayed from period to period (ties by the previous order) or fresh
# each period (--gamma 0). Then a rank that fails
# (DRIFTREC_MPI_FAIL_RANK) must end the job non-zero, name the rank, and leave the store
# byte for byte as it was, with no temporary file beside it.
# Usage: propagate_equal.sh DRIFTREC DRIFTREC_MPI MPIRUN DATA_DIR (DRIFTREC_MPI, MPIRUN: "none" when not built)
# Exits 77 (CTest: skipped) when driftrec-mpi was not built.
source "$(dirname "$0")/common.sh"
"$driftrec" ingest "$data/ratings.csv" --labels "$data/movies.csv" --slice year -o "$work/base.h5" >/dev/null

mpi_only=()  # options of driftrec-mpi alone
mpirun_opts=()  # options of mpirun
check() {  # check NAME NP [options...]: equal to the single process with those options
  local name=$1 np=$2
  shift 2
  cp "$work/base.h5" "$work/one.h5"
  cp "$work/base.h5" "$work/many.h5"
  "$driftrec" propagate "$work/one.h5" --quiet --name "$name" "$@" >/dev/null
  "$mpirun" --oversubscribe "${mpirun_opts[@]}" -np "$np" "$mpi" propagate "$work/many.h5" --quiet --threads 1 --name "$name" "$@" "${mpi_only[@]}" \
    >"$work/out.txt"
  grep -q "on $np ranks" "$work/out.txt" || { echo "FAIL: unexpected summary: $(cat "$work/out.txt")"; exit 1; }
  if ! h5diff "$work/one.h5" "$work/many.h5" "/results/$name" "/results/$name"; then
    echo "FAIL: -np $np $*: /results/$name differs from the single process"
    h5diff -r "$work/one.h5" "$work/many.h5" "/results/$name" "/results/$name" | head -20
    exit 1
  fi
  # The rest of the store is the single process's too.
  h5diff "$work/one.h5" "$work/many.h5" /slices /slices >/dev/null
  echo "ok: -np $np $* equals the single process"
}
# The default exchange (alltoall: the ghost rows each rank reads), then shared (one node's
# ranks read each other's rows in MPI-3 shared windows), then shared on emulated nodes of 2
# ranks (DRIFTREC_MPI_NODE_RANKS: ranks 0-1 share, rank 2 exchanges with them), then allgather.
check label 1
check label 2
check label 3
check ordered 1 --reorder on
check ordered 2 --reorder on
check ordered 3 --reorder on
mpi_only=(--exchange shared)
check label 2
check ordered 3 --reorder on
mpirun_opts=(-x DRIFTREC_MPI_NODE_RANKS)
export DRIFTREC_MPI_NODE_RANKS=2
check ordered 3 --reorder on
unset DRIFTREC_MPI_NODE_RANKS
mpirun_opts=()
# The paths really taken: ghost bytes per run (--json, every period's summed) are 0 on one
# node with shared windows, and more than 0 with the exchange or across emulated nodes.
bytes() {  # bytes NP [mpirun options...] -- [driftrec-mpi options...]
  local np=$1 opts=()
  shift
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  cp "$work/base.h5" "$work/bytes.h5"
  "$mpirun" --oversubscribe "${opts[@]}" -np "$np" "$mpi" propagate "$work/bytes.h5" --quiet --threads 1 --json "$@" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["exchange_bytes"])'
}
[ "$(bytes 3 -- --exchange shared)" = 0 ] || { echo "FAIL: shared windows on one node sent ghost rows"; exit 1; }
alltoall=$(bytes 3 -- --exchange alltoall)
mixed=$(DRIFTREC_MPI_NODE_RANKS=2 bytes 3 -x DRIFTREC_MPI_NODE_RANKS -- --exchange shared)
[ "$alltoall" -gt "$mixed" ] && [ "$mixed" -gt 0 ] ||
  { echo "FAIL: bytes: alltoall $alltoall, shared across 2 emulated nodes $mixed (expected alltoall > mixed > 0)"; exit 1; }
echo "ok: ghost bytes at -np 3: shared 0, shared across emulated nodes $mixed, alltoall $alltoall"
mpi_only=(--exchange allgather)
check lp 3 --gamma 0 --mu 0.3 --alpha 0.7 --keep last:2
check lpo 2 --reorder on --gamma 0 --mu 0.3 --keep last:3

# A failed rank: non-zero, named, store unchanged, no temporary file left; in period 0, and
# in period 2, after the ranks have written periods 0 and 1 into the temporary file.
check_failed_rank propagate 2 1 0
check_failed_rank propagate 3 2 2
