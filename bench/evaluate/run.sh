#!/usr/bin/env bash
# driftrec evaluate at growing user counts (issue 18, item 4): the generated log of the issue
# (1e5 users, 2e4 items, 30 labels, 24 periods, 5e6 events, seed 9) scaled in users, items and
# events together; per scale, the wall and CPU seconds of every row, the total wall time, the
# peak resident memory and the load average before and after (the machine is shared: compare
# CPU seconds when the load is above the core count).
#
#   bench/evaluate/run.sh [DRIFTREC] [SCALES...]     default: build/cli/driftrec 10000 100000
#   OUT=dir LABEL=after bench/evaluate/run.sh build/cli/driftrec 10000
#   ARGS="--train-users 2000 --models sequence_gru" LABEL=cap bench/evaluate/run.sh ...   (extra evaluate options)
#   ITEMS=20000 bench/evaluate/run.sh build/cli/driftrec 10000 1000000   (a fixed catalogue:
#     every row's full-catalogue scoring is users x items, so only at fixed items can time
#     grow linearly in users)
#
# Writes $OUT/evaluate_<LABEL>_<users>.json (the evaluate report) and appends one summary
# object per scale to $OUT/results_<LABEL>.json.
set -euo pipefail
bin=${1:-build/cli/driftrec}
shift || true
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(10000 100000)
work=${WORK:-/tmp/driftrec_bench_evaluate}
out=${OUT:-$work/out}
label=${LABEL:-run}
mkdir -p "$out" "$work"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }

for users in "${scales[@]}"; do
  items=${ITEMS:-$((users / 5))}; events=$((users * 50))
  g=$work/g$users
  [ -z "${ITEMS:-}" ] || g=$work/g${users}_items$items
  if [ ! -f "$g.h5" ]; then
    "$bin" generate -o "$g" --users "$users" --items "$items" --labels 30 --periods 24 --events "$events" --seed 9 --force >/dev/null
    "$bin" ingest "$g/events.csv" --labels "$g/labels.csv" --slice 2592000s -o "$g.h5" --force >/dev/null
  fi
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  report=$out/evaluate_${label}_$users.json
  /usr/bin/time -v "$bin" evaluate "$g.h5" --test-periods 3 --truth "$g/truth.csv" --json "$report" ${ARGS:-} \
    >"$out/evaluate_${label}_$users.txt" 2>"$out/evaluate_${label}_$users.err"
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  python3 - "$report" "$out/evaluate_${label}_$users.err" "$out/results_$label.json" "$users" "$items" "$events" \
    "$load_before" "$load_after" "$label" "${ARGS:-}" <<'PY'
import json, os, re, sys
report, err, results, users, items, events, lb, la, label, args = sys.argv[1:]
r = json.load(open(report))
text = open(err).read()
def field(name):
    m = re.search(re.escape(name) + r": (.*)", text)
    return m.group(1).strip() if m else None
def wall(s):
    parts = [float(x) for x in s.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
entry = {
    "label": label, "args": args, "users": int(users), "items": int(items), "events": int(events),
    "wall_seconds": wall(field("Elapsed (wall clock) time (h:mm:ss or m:ss)")),
    "cpu_seconds": float(field("User time (seconds)")) + float(field("System time (seconds)")),
    "peak_rss_mib": int(field("Maximum resident set size (kbytes)")) / 1024,
    "load_average_before": [float(x) for x in lb.split()],
    "load_average_after": [float(x) for x in la.split()],
    "cores": os.cpu_count(),
    "row_wall_seconds": r.get("seconds", {}),
    "row_cpu_seconds": r.get("cpu_seconds", {}),
    "anchor": "issue 18: 1e5 users took 1004 s wall, 2.5 GB peak on 2 cores; goal <= 200 s",
}
all_ = json.load(open(results)) if os.path.exists(results) else []
all_.append(entry)
json.dump(all_, open(results, "w"), indent=2)
print(json.dumps(entry, indent=2))
PY
done
