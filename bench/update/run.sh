#!/usr/bin/env bash
# Cost of `driftrec update` against the full recompute, on a generated log.
#
# A `driftrec generate` log of PERIODS periods (default 24) is split at the start of its
# last period. Full recompute = ingest of the whole log + propagate (label) + factorize,
# timed end to end. Update = `driftrec update` of a store that holds the first PERIODS-1
# periods with both results already computed (that preparation is not timed), given the
# last period's events. Prints one JSON object: both timings, their ratio (goal <= 0.10),
# the sizes, the load average before and after, and the update's own summary.
#
# SEQUENCE=1 also trains a sequence model on the store before the update (untimed, with
# SEQUENCE_EPOCHS epochs, 2 by default: the step's cost does not depend on them), so the
# update steps it forward: its seconds are in update_summary.results. A from-scratch
# recompute of a store holding a sequence result includes training it, so the full store
# is then trained too, with the same options, and timed on its own: `ratio` stays the
# update against ingest + propagate + factorize, `ratio_with_train` is the update against
# ingest + propagate + factorize + train (full_recompute_with_train_seconds).
# SEQUENCE_TRAIN_ARGS adds train options (e.g. "--cell attention" or "--interests mixture":
# train's defaults otherwise, which serve the mixture when it wins on the last period).
#
# Usage: bench/update/run.sh [DRIFTREC] (default build/cli/driftrec)
# Sizes: USERS (10000), ITEMS (5000), PERIODS (24), EVENTS_PER_PERIOD (5), THREADS (0).
set -euo pipefail
DRIFTREC=${1:-build/cli/driftrec}
USERS=${USERS:-10000}
ITEMS=${ITEMS:-5000}
PERIODS=${PERIODS:-24}
EVENTS_PER_PERIOD=${EVENTS_PER_PERIOD:-5}
THREADS=${THREADS:-0}
SEQUENCE=${SEQUENCE:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

"$DRIFTREC" generate --out "$work/gen" --users "$USERS" --items "$ITEMS" --periods "$PERIODS" \
  --events-per-period "$EVENTS_PER_PERIOD" --threads "$THREADS" > /dev/null
period=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['period_seconds'])" "$work/gen/meta.json" 2>/dev/null || echo 2592000)
# Split at the start of the last period: old.csv = periods 0..P-2, new.csv = period P-1.
awk -F, -v p="$period" -v n="$PERIODS" -v old="$work/old.csv" -v new="$work/new.csv" '
  NR == 1 { print > old; print > new; next }
  { t[NR] = $3; line[NR] = $0; if (min == "" || $3 < min) min = $3 }
  END {
    first = min - min % p; cut = first + (n - 1) * p
    for (k = 2; k <= NR; ++k) print line[k] > (t[k] < cut ? old : new)
  }' "$work/gen/events.csv"

now() { date +%s.%N; }
run_results() {  # the recompute after an ingest: label propagation and temporal ALS
  "$DRIFTREC" propagate "$1" --threads "$THREADS" > /dev/null
  "$DRIFTREC" factorize "$1" --threads "$THREADS" > /dev/null
}

t0=$(now)
"$DRIFTREC" ingest "$work/old.csv" "$work/new.csv" --labels "$work/gen/labels.csv" --slice "${period}s" \
  -o "$work/full.h5" --threads "$THREADS" > /dev/null
run_results "$work/full.h5"
t1=$(now)
train() {  # SEQUENCE=1: the sequence model, with the bench's train options
  # shellcheck disable=SC2086 # SEQUENCE_TRAIN_ARGS is a list of options
  "$DRIFTREC" train "$1" --epochs "${SEQUENCE_EPOCHS:-2}" --threads "$THREADS" --quiet \
    ${SEQUENCE_TRAIN_ARGS:-} > /dev/null
}
train_full=0
if [ "$SEQUENCE" = 1 ]; then
  tt=$(now)
  train "$work/full.h5"
  train_full=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$tt" "$(now)")
fi

"$DRIFTREC" ingest "$work/old.csv" --labels "$work/gen/labels.csv" --slice "${period}s" -o "$work/up.h5" \
  --threads "$THREADS" > /dev/null
run_results "$work/up.h5"
if [ "$SEQUENCE" = 1 ]; then train "$work/up.h5"; fi
t2=$(now)
"$DRIFTREC" update "$work/up.h5" "$work/new.csv" --labels "$work/gen/labels.csv" --threads "$THREADS" --json \
  > "$work/update.json"
t3=$(now)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$t0" "$t1" "$t2" "$t3" "$work/update.json" "$USERS" "$ITEMS" "$PERIODS" "$EVENTS_PER_PERIOD" \
  "$THREADS" "$load_before" "$load_after" "$(wc -l < "$work/gen/events.csv")" "$SEQUENCE" "${SEQUENCE_TRAIN_ARGS:-}" \
  "$train_full" "${SEQUENCE_EPOCHS:-2}" <<'PY'
import json, sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
summary = json.load(open(sys.argv[5]))
full, update = t1 - t0, t3 - t2
train = float(sys.argv[16])
sequence = sys.argv[14] == "1"
with_train = {}
if sequence:
    with_train = {
        "train_seconds": round(train, 3),
        "train_epochs": int(sys.argv[17]),
        "full_recompute_with_train_seconds": round(full + train, 3),
        "ratio_with_train": round(update / (full + train), 4),
    }
print(json.dumps({
    "full_recompute_seconds": round(full, 3),
    "update_seconds": round(update, 3),
    "ratio": round(update / full, 4),
    "goal_ratio": 0.10,
    **with_train,
    "users": int(sys.argv[6]), "items": int(sys.argv[7]), "periods": int(sys.argv[8]),
    "events_per_period": float(sys.argv[9]), "threads": int(sys.argv[10]),
    "events": int(sys.argv[13]) - 1, "events_appended": summary["events_added"],
    "loadavg_before": sys.argv[11], "loadavg_after": sys.argv[12],
    "sequence_model_stepped": sequence,
    "sequence_train_args": sys.argv[15],
    "update_summary": summary,
}, indent=2))
PY
