#!/usr/bin/env bash
# Installs the Debian packages driftrec builds and tests with (skips what is installed).
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config libdeflate-dev
  libhdf5-dev hdf5-tools libeigen3-dev libboost-graph-dev
  catch2 libcli11-dev nlohmann-json3-dev libfmt-dev
  libcpp-httplib-dev  # driftrec serve: cpp-httplib (header and shared library)
  python3 python3-h5py python3-numpy
  python3-venv python3-dev ccache  # scripts/python_test.sh: the venv and the extension module
  libgraphblas-dev  # the GraphBLAS anchor of bench/propagation (optional at build time)
  libxml2-utils  # xmllint: the report's SVG is checked well-formed (tests/python/test_report.py)
  chromium  # headless rendering of the report in tests/python/test_report.py (about 35 s to install here)
  clang libclang-rt-14-dev libomp-14-dev  # scripts/fuzz.sh: libFuzzer, clang's sanitizers and OpenMP
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev  # driftrec-mpi (mpi/): OpenMPI and parallel HDF5
)
# Not from apt: the CUDA toolkit (nvcc, cuSPARSE, cuBLAS, cuSOLVER) is optional. Where the
# machine image has it (/usr/local/cuda, on PATH or not) CMake finds it and builds the CUDA
# backends (cmake/Cuda.cmake; -DDRIFTREC_CUDA=OFF leaves them out); their tests report
# SKIPPED where there is no GPU.
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
