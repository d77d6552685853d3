#!/usr/bin/env bash
# The one-shot device check of the CUDA backends (bench/gpu/README.md), for a short loan of
# one GPU machine: configure + build (Release, CUDA ON), the CUDA correctness tests, then
# gpu_bench, writing everything under OUT_DIR (default $OUT, else bench/gpu/out).
# Designed for one H200 with 16 cores in under 8 minutes; every step has a time limit so
# that what finished is kept.
# Usage: bench/gpu/run.sh [OUT_DIR]      (env: BUILD_DIR, JOBS, BENCH_ARGS, BENCH_TIMEOUT)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-bench/gpu/out}}
build=${BUILD_DIR:-build-gpu}
jobs=${JOBS:-$(nproc)}
mkdir -p "$out"
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "cores: $(nproc)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv 2>&1 || echo "nvidia-smi: not found"
} > "$out/machine.txt"

export PATH=$PATH:/usr/local/cuda/bin
launch=()
if command -v ccache >/dev/null; then
  launch=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
if ! timeout 120 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDRIFTREC_CUDA=ON -DDRIFTREC_BUILD_BENCH=ON \
    -DDRIFTREC_BUILD_TESTS=ON -DDRIFTREC_BUILD_PYTHON=OFF "${launch[@]}" > "$out/configure.log" 2>&1; then
  echo "run.sh: configure failed after $(elapsed) s; see $out/configure.log" | tee "$out/summary.txt"
  tail -20 "$out/configure.log"
  exit 1
fi
if ! timeout 300 cmake --build "$build" -j"$jobs" --target driftrec_cuda_tests gpu_bench > "$out/build.log" 2>&1; then
  echo "run.sh: build failed after $(elapsed) s; see $out/build.log" | tee "$out/summary.txt"
  grep -E "error|Error" "$out/build.log" | head -20
  exit 1
fi
echo "build done at $(elapsed) s" | tee "$out/summary.txt"

# Correctness: the CUDA backends against the CPU ones (exit 77 would mean no GPU).
timeout 120 "$build/tests/driftrec_cuda_tests" --durations yes > "$out/cuda_tests.log" 2>&1
tests_rc=$?
echo "cuda tests: exit $tests_rc ($( [ $tests_rc -eq 0 ] && echo passed || { [ $tests_rc -eq 77 ] && echo SKIPPED: no GPU || echo FAILED; } )) at $(elapsed) s" | tee -a "$out/summary.txt"
tail -4 "$out/cuda_tests.log"

# The bench: JSON rewritten after every figure, so a timeout keeps what was measured.
# shellcheck disable=SC2086
timeout "${BENCH_TIMEOUT:-330}" "$build/bench/gpu/gpu_bench" --threads "$(nproc)" --json-out "$out/gpu_bench.json" \
  ${BENCH_ARGS:-} > /dev/null 2> "$out/gpu_bench.log"
bench_rc=$?
echo "gpu_bench: exit $bench_rc at $(elapsed) s$( [ $bench_rc -eq 124 ] && echo ' (timed out: gpu_bench.json holds the figures done)')" | tee -a "$out/summary.txt"
cat "$out/gpu_bench.log"
[ $tests_rc -eq 0 ] && [ $bench_rc -eq 0 ]
