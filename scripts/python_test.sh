#!/usr/bin/env bash
# Builds the Python module into the virtual environment build/venv (scripts/python_venv.sh)
# and runs the pytest suite in tests/python. Fails when no test ran (pytest's exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/python_venv.sh)
status=0
"$python" -m pytest tests/python "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "python_test: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
