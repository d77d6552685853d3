#!/usr/bin/env bash
# A driftrec command that does not use a GPU loads none of the CUDA libraries the backends
# open at first use (core/cuda/shared_library.hpp): the dynamic loader, asked to list every
# library it looks for (LD_DEBUG=libs), names none of them for `driftrec --version` or
# `driftrec --help`. Usage: cli_libraries.sh DRIFTREC
set -euo pipefail
driftrec=$1
for args in "--version" "--help"; do
  # shellcheck disable=SC2086
  log=$(LD_DEBUG=libs "$driftrec" $args 2>&1 >/dev/null || true)
  if ! grep -q "find library=libc.so" <<<"$log"; then
    echo "FAILED: LD_DEBUG=libs printed no library search for driftrec $args"
    exit 1
  fi
  for lib in libcusparse libcublas libcublasLt libcusolver libnvJitLink; do
    if grep -q "find library=$lib" <<<"$log"; then
      echo "FAILED: driftrec $args loads $lib"
      exit 1
    fi
  done
done
echo "driftrec --version and --help load no cuSPARSE, cuBLAS, cuSOLVER or nvJitLink"
