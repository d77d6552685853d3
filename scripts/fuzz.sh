#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang, ASan + UBSan) into build-fuzz and runs
# each for a bounded time, failing on any crash, sanitizer report, leak or timeout.
#   scripts/fuzz.sh [SECONDS]   seconds per harness (default: $FUZZ_SECONDS, else 60)
#   FUZZ_RUNS=N                 stop each harness after N inputs instead (0: no limit)
#   FUZZ_HARNESSES="a b"        a subset of: event_reader label_reader time_parse store_reader
#   FUZZ_WORK=DIR               where inputs, crashes and logs go (default build-fuzz/run)
#   FUZZ_JOBS=N                 harnesses run side by side (default 2)
#   FUZZ_SEED=N                 libFuzzer's random seed (default 1; 0: a new one each run)
# With a fixed seed a run is nearly repeatable: the same commit mutates the same seeds (the
# store seeds are byte-identical from run to run) in almost the same order, so an input CI
# found is very likely found again by the same command here (docs/contributing.md).
# FUZZ_SEED=0 explores anew.
# Each harness starts from the committed seeds in fuzz/corpus/<harness> (the store seeds
# are written by fuzz_make_store_seeds); inputs found during the run go to
# build-fuzz/run/<harness>, crashing ones to build-fuzz/run/<harness>-crash-*, and the
# final statistics to build-fuzz/run/<harness>.log. The committed corpus is never changed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${FUZZ_SECONDS:-60}}
runs=${FUZZ_RUNS:-0}
seed=${FUZZ_SEED:-1}
harnesses=${FUZZ_HARNESSES:-"event_reader label_reader time_parse store_reader"}
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 1; }
export CCACHE_BASEDIR=$PWD
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1 -g1: line tables only, enough for file and line in a crash's stack (as in the
# sanitizer pass of scripts/test.sh); full -g about doubles the build.
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
  -DDRIFTREC_BUILD_FUZZERS=ON -DDRIFTREC_BUILD_TESTS=OFF -DDRIFTREC_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j2 --target fuzzers

work=${FUZZ_WORK:-build-fuzz/run}
rm -rf "$work"
mkdir -p "$work"
build-fuzz/fuzz/fuzz_make_store_seeds "$work/store_seeds"
# The harnesses write each input to a file: on tmpfs, not a disk that syncs on every
# truncate-and-rewrite (ext4 does, 8x slower here).
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
# HDF5 keeps library-lifetime allocations (as in the sanitizer pass of scripts/test.sh).
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# No shadow-byte legend: a failure's report is its stack, printed whole below.
export ASAN_OPTIONS=abort_on_error=1:print_legend=0
runs_arg=-1  # libFuzzer: no limit
((runs)) && runs_arg=$runs
jobs=${FUZZ_JOBS:-2}
fuzz_one() {  # fuzz_one HARNESS: runs it; its exit status is the harness's verdict
  local h=$1
  local seeds=()
  mkdir -p "$work/$h"
  [ -d "fuzz/corpus/$h" ] && seeds+=("fuzz/corpus/$h")
  [ "$h" = store_reader ] && seeds+=("$work/store_seeds")
  build-fuzz/fuzz/fuzz_"$h" -seed="$seed" -max_total_time="$seconds" -runs="$runs_arg" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/$h-" "$work/$h" "${seeds[@]}" >"$work/$h.log" 2>&1
}
# libFuzzer runs one input at a time: $jobs harnesses (default 2, one a core) run side by
# side, each for the full $seconds; their verdicts are printed in the order of the list.
pids=()
names=()
status=0
report() {  # waits for the running harnesses and prints their verdicts
  local i
  for i in "${!pids[@]}"; do
    local h=${names[$i]}
    if ! wait "${pids[$i]}"; then
      echo "fuzz: $h FAILED (seed $seed); the input is $(ls "$work/$h"-* 2>/dev/null | head -1); log $work/$h.log:" >&2
      # The report from its first line (sanitizer, libFuzzer or UBSan) on, without progress lines.
      awk '/^==[0-9]+==|runtime error/ {on=1} on && !/^#[0-9]/' "$work/$h.log" | head -150 >&2
      status=1
    fi
    echo "fuzz: $h ran ${seconds}s$( ((runs)) && echo " or $runs inputs")"
    grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/$h.log" | tail -1 || true
    grep -E '^stat::number_of_executed_units' "$work/$h.log" || true
  done
  pids=()
  names=()
}
for h in $harnesses; do
  fuzz_one "$h" &
  pids+=($!)
  names+=("$h")
  if ((${#pids[@]} >= jobs)); then report; fi
done
report
exit $status
