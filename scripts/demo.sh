#!/usr/bin/env bash
# Sets up, builds and runs `driftrec demo` on the bundled MovieLens data. The demo's HTML
# report is drawn by the Python module (driftrec.report, matplotlib): it is built into the
# virtual environment build/venv first (scripts/python_venv.sh; packages from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Position-independent code and ccache, as in scripts/test.sh: the Python extension built
# next reuses these objects.
export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDRIFTREC_BUILD_TESTS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON >/dev/null
cmake --build build -j2 --target driftrec
python=$(scripts/python_venv.sh)
DRIFTREC_PYTHON="$python" build/cli/driftrec demo "$@"
