#!/usr/bin/env bash
# Ingest against DuckDB and polars on the same generated CSV, in the same run.
#
# For each size in EVENTS (default "10000000 100000000") a log is generated with
# `driftrec generate --users 500000 --items 200000 --labels 50 --periods 24 --events N`
# (about 28 bytes a line), then three jobs read that file, each in its own process on
# THREADS threads (default 2), the file in the page cache:
#   driftrec  `driftrec ingest events.csv --labels labels.csv --slice 2592000s -o store.h5`
#             (parse, map ids, sort by (time, user, item), slice, compress, write HDF5)
#   duckdb    read_csv -> ORDER BY time -> COPY TO zstd Parquet
#   polars    scan_csv -> sort("time") -> sink_parquet(compression="zstd")
# Each job's wall time and peak resident memory (wait4's ru_maxrss) are measured; the
# order of the jobs rotates between repeats (REPEATS, default 1) and the best time of
# each is kept. Prints one JSON object: per size, seconds, MB/s, events/s, peak bytes per
# event, and driftrec's throughput ratio to each tool (tool seconds / driftrec seconds;
# the goal is >= 1.5, with <= 30 bytes per event), and the load average around each run.
#
# DuckDB and polars come from PyPI into the bench's own venv (VENV, default
# build/bench-ingest-venv); they are not dependencies of driftrec. The generated files
# (about 2.8 GB at 10^8 events) live in WORK (default a temporary folder under /tmp) and
# are deleted at the end.
#
# Usage: bench/ingest/run.sh [DRIFTREC]   (default build/cli/driftrec)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DRIFTREC=$(realpath "${1:-build/cli/driftrec}")
VENV=${VENV:-build/bench-ingest-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb polars >&2
fi
work=${WORK:-$(mktemp -d /tmp/driftrec-ingest-bench.XXXXXX)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
"$VENV/bin/python" "$here/ingest_bench.py" --driftrec "$DRIFTREC" --work "$work" \
  --events ${EVENTS:-10000000 100000000} --threads "${THREADS:-2}" --repeats "${REPEATS:-1}"
