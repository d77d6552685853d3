#!/usr/bin/env bash
# Quality bench (issue 13): `driftrec evaluate`, every row, on
#   bundled       data/movielens-latest-small, monthly slices, --test-periods 3 (evaluate's default);
#   movietweetings  $SHARED/movietweetings-2013-11, weekly slices, --test-periods 6;
#   steam         $SHARED/steam-au-reviews, quarterly slices, --test-periods 4;
#   generated     `driftrec generate` with planted drift (USERS users, 12 monthly periods),
#                 --test-periods 6, scored also against the planted interests (--truth).
# Every evaluate runs with its defaults otherwise (--k 10,20, --seed 0). SHARED is
# $DRIFTREC_SHARED_DATA, else ../shared/data beside the repository; the two data sets there
# are read in place, never copied (their terms), and a missing one is reported and skipped.
#
# Writes OUT (default bench/quality/results/latest.md): ONE markdown table, a row per
# (model, task, metric), a column per data set, each cell "mean [95% interval]"; then the
# pairs, the evaluate wall time and the rows' own seconds per data set, the load average
# before and after, and the goals of issue 13 checked on the numbers. The JSON reports are
# kept beside it (OUT without .md, plus -<data set>.json).
#
# Usage: bench/quality/run.sh [DRIFTREC] (default build/cli/driftrec)
# Environment: THREADS (0: all cores), USERS (300), TUNE_BUDGET (0: no tuning), ONLY (a
# space-separated subset of: bundled movietweetings steam generated).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
DRIFTREC=${1:-$root/build/cli/driftrec}
SHARED=${DRIFTREC_SHARED_DATA:-$root/../shared/data}
OUT=${OUT:-$root/bench/quality/results/latest.md}
THREADS=${THREADS:-0}
USERS=${USERS:-300}
TUNE_BUDGET=${TUNE_BUDGET:-0}
ONLY=${ONLY:-bundled movietweetings steam generated}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=${OUT%.md}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
missing=()
sets=()

want() { [[ " $ONLY " == *" $1 "* ]]; }

evaluate() {  # name store test_periods [extra args...]
  local name=$1 store=$2 tp=$3
  shift 3
  echo "== $name: driftrec evaluate $store --test-periods $tp $*" >&2
  "$DRIFTREC" evaluate "$store" --test-periods "$tp" --threads "$THREADS" --tune-budget "$TUNE_BUDGET" \
    --json "$prefix-$name.json" --quiet "$@" > "$work/$name.txt"
  sets+=("$name")
}

if want bundled; then
  "$DRIFTREC" ingest "$root/data/movielens-latest-small/ratings.csv" --labels "$root/data/movielens-latest-small/movies.csv" \
    --slice month -o "$work/bundled.h5" --threads "$THREADS" > /dev/null
  evaluate bundled "$work/bundled.h5" 3
fi
for spec in "movietweetings movietweetings-2013-11 week 6" "steam steam-au-reviews quarter 4"; do
  read -r name dir slice tp <<< "$spec"
  want "$name" || continue
  if [[ ! -f "$SHARED/$dir/events.csv" || ! -f "$SHARED/$dir/labels.csv" ]]; then
    echo "== $name: $SHARED/$dir/events.csv or labels.csv is missing; skipped (set DRIFTREC_SHARED_DATA)" >&2
    missing+=("$name ($SHARED/$dir)")
    continue
  fi
  "$DRIFTREC" ingest "$SHARED/$dir/events.csv" --labels "$SHARED/$dir/labels.csv" --slice "$slice" \
    -o "$work/$name.h5" --threads "$THREADS" > /dev/null
  evaluate "$name" "$work/$name.h5" "$tp"
done
if want generated; then
  "$DRIFTREC" generate --out "$work/gen" --users "$USERS" --items 2000 --periods 12 --seed 7 > /dev/null
  "$DRIFTREC" ingest "$work/gen/events.csv" --labels "$work/gen/labels.csv" --slice 2592000s \
    -o "$work/generated.h5" --threads "$THREADS" > /dev/null
  evaluate generated "$work/generated.h5" 6 --truth "$work/gen/truth.csv"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 "$root/bench/quality/summarize.py" "$prefix" "$load_before" "$load_after" "$(nproc)" \
  "$(IFS=';'; echo "${missing[*]:-}")" "${sets[@]}" > "$OUT"
echo "wrote $OUT" >&2
