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
