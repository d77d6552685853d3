#!/usr/bin/env bash
# Top-50 recommendations for every user at 64 factors over 10^5 items: driftrec's batch
# kernel (export_bench) against implicit's batch recommend (compare.py) on the same random
# factors and seen items, the same thread count, in one run; 10^5 and 10^6 users.
# Prints one JSON object: both users/s figures, their ratio, and each side's peak RSS.
# Needs build/bench/export/export_bench (cmake -DDRIFTREC_BUILD_BENCH=ON, target
# export_bench) and build/bench-venv with implicit (pip install implicit threadpoolctl).
# Env: USERS ("100000 1000000"), ITEMS (100000), THREADS (2), SEEN (20), IMPLICIT_SECONDS
# (0: implicit scores every user; N: it stops after the chunk passing N seconds and its
# users/s is over the users it did, for a loaded machine where 10^6 users take an hour).
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=build/bench/export/export_bench
py=build/bench-venv/bin/python
users_list=${USERS:-"100000 1000000"}
items=${ITEMS:-100000}
threads=${THREADS:-2}
seen=${SEEN:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "{"
echo "  \"load_average_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
echo "  \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\","
echo "  \"runs\": ["
sep=""
for users in $users_list; do
  args=(--users "$users" --items "$items" --factors 64 --k 50 --seen "$seen" --threads "$threads")
  "$bench" "${args[@]}" --dump "$work"
  ours=$("$bench" "${args[@]}")
  theirs=$("$py" bench/export/compare.py --dir "$work" --users "$users" --items "$items" --factors 64 --k 50 \
           --threads "$threads" --max-seconds "${IMPLICIT_SECONDS:-0}")
  ratio=$("$py" -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(round(a['users_per_second']/b['users_per_second'], 3))" "$ours" "$theirs")
  printf '%s    {"users": %s, "driftrec": %s, "implicit": %s, "ratio_driftrec_over_implicit": %s}\n' \
    "$sep" "$users" "$ours" "$theirs" "$ratio"
  sep=","
  rm -f "$work"/*
done
echo "  ],"
echo "  \"load_average_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\""
echo "}"
