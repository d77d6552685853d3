#!/usr/bin/env bash
# Sets up, builds and runs `driftrec demo` on the bundled MovieLens data. The demo's HTML
# report is drawn by the Python module (driftrec.report, matplotlib): it is built into the
# virtual environment build/venv first (scripts/python_venv.sh; packages from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDRIFTREC_BUILD_TESTS=OFF >/dev/null
cmake --build build -j2 --target driftrec
python=$(scripts/python_venv.sh)
DRIFTREC_PYTHON="$python" build/cli/driftrec demo "$@"
