#!/usr/bin/env bash
# What AVX2/FMA gives the sequence model's training kernel (gru_kernel.cpp): the same source
# compiled for baseline x86-64 (the default build) and for x86-64-v3, run alternately
# (the machine is shared: alternate runs see the same load), with the load average.
#   bench/evaluate/gru_kernel.sh [RUNS]      default 3
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for v in baseline x86-64-v3; do
  flags=""
  [ "$v" = x86-64-v3 ] && flags="-march=x86-64-v3"
  g++ -std=c++20 -O3 -DNDEBUG $flags -I"$root" -I/usr/include/eigen3 "$root/bench/evaluate/gru_kernel.cpp" -o "$dir/$v"
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "${1:-3}"); do
  for v in baseline x86-64-v3; do echo "$v: $("$dir/$v")"; done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
