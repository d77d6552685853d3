#!/usr/bin/env bash
# Builds the Python module into a virtual environment at build/venv (Debian's python3;
# nanobind, scikit-build-core, numpy, scipy, pandas, h5py and pytest from PyPI) and runs the
# pytest suite in tests/python. Fails when no test ran (pytest's exit code 5).
# Rebuilds reuse build/python/<wheel tag> and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh  # python3-venv, python3-dev, ccache among the rest
venv=build/venv
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.0" numpy scipy pandas pytest h5py
# ccache keys on paths relative to the checkout, so clones in other folders share objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
# No build isolation: the build tools above are the ones the cached build folder knows.
"$venv/bin/python" -m pip install -q --no-build-isolation .
status=0
"$venv/bin/python" -m pytest tests/python "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "python_test: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
