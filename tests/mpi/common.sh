# Sourced by the tests/mpi scripts, whose arguments are DRIFTREC DRIFTREC_MPI MPIRUN
# DATA_DIR (DRIFTREC_MPI, MPIRUN: "none" when not built): sets driftrec, mpi, mpirun, data
# and a work directory removed on exit; exits 77 (CTest: skipped) when driftrec-mpi was
# not built.
set -euo pipefail
driftrec=$1 mpi=$2 mpirun=$3 data=$4
if [ "$mpi" = none ] || [ ! -x "$mpi" ] || [ "$mpirun" = none ]; then
  echo "driftrec-mpi not built (configure with MPI and a parallel HDF5): skipped"
  exit 77
fi
# CI runs as root; more ranks than cores share them.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check_failed_rank JOB NP RANK PERIOD [options...]: `driftrec-mpi JOB` on a copy of
# $work/base.h5 with rank RANK failing in period PERIOD (DRIFTREC_MPI_FAIL_RANK,
# DRIFTREC_MPI_FAIL_PERIOD) must end non-zero, name the rank and the injected fault, and
# leave the store byte for byte as it was, with no temporary file beside it.
check_failed_rank() {
  local job=$1 np=$2 rank=$3 period=$4 rc
  shift 4
  cp "$work/base.h5" "$work/fail.h5"
  cp "$work/fail.h5" "$work/fail.copy"
  set +e
  DRIFTREC_MPI_FAIL_RANK=$rank DRIFTREC_MPI_FAIL_PERIOD=$period "$mpirun" --oversubscribe -np "$np" \
    -x DRIFTREC_MPI_FAIL_RANK -x DRIFTREC_MPI_FAIL_PERIOD "$mpi" "$job" "$work/fail.h5" --quiet --threads 1 "$@" \
    >"$work/fail.out" 2>"$work/fail.err"
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || { echo "FAIL: $job: a failed rank ended with exit 0"; exit 1; }
  grep -q "rank $rank of $np: fault injected by DRIFTREC_MPI_FAIL_RANK in period $period" "$work/fail.err" ||
    { echo "FAIL: $job: the message does not name rank $rank and the fault:"; cat "$work/fail.err"; exit 1; }
  cmp -s "$work/fail.h5" "$work/fail.copy" || { echo "FAIL: $job: the store changed after a failed rank"; exit 1; }
  if ls -a "$work" | grep -q '\.fail\.h5\.tmp-'; then echo "FAIL: $job: a temporary file was left"; exit 1; fi
  echo "ok: $job with rank $rank of $np failing in period $period ends with exit $rc, names the rank, leaves the store unchanged"
}
