#!/usr/bin/env bash
# Builds the Python module into a virtual environment at build/venv (Debian's python3;
# nanobind, scikit-build-core, numpy, scipy, pandas, h5py (tests), matplotlib (driftrec report) and
# pytest from PyPI). Rebuilds reuse build/python/<wheel tag> and ccache. Used by
# scripts/python_test.sh and scripts/demo.sh; prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2  # python3-venv, python3-dev, ccache among the rest
venv=build/venv
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install -q --upgrade pip >&2
"$venv/bin/python" -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.0" numpy scipy pandas h5py pytest \
  "matplotlib>=3.6" >&2
# ccache (CMakeLists.txt) reuses the objects of build/ when scripts/test.sh or demo.sh built
# them position-independent; it keys on absolute paths, so no CCACHE_BASEDIR.
unset CCACHE_BASEDIR
# No build isolation: the build tools above are the ones the cached build folder knows.
"$venv/bin/python" -m pip install -q --no-build-isolation . >&2
echo "$PWD/$venv/bin/python"
