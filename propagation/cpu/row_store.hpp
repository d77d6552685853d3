// Internal to the CPU kernels (spmm.cpp, blocked.cpp): what one gather pass reads and
// writes, and the one tail that turns a row's sum into its output. Shared so that every
// kernel makes the same bits from the same sums (this library compiles with
// -ffp-contract=off, so equal expressions round equally).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "graph/csr.hpp"

namespace driftrec::propagation::cpu::detail {

using graph::Index;
using graph::Offset;

// Everything one pass reads and writes; a null pointer means "absent" (scale 1, no seed).
struct Pass {
  const Offset* indptr;
  const Index* indices;
  const float* values;
  const float* x;
  const std::uint16_t* xb;  // the bfloat16 operand (in_scale folded in), or null
  std::size_t ldx;          // elements between rows of xb
  const float* in_scale;
  const float* out_scale;
  float alpha;
  const float* seed;
  float seed_coef;
  float* y;
  Index k;
  bool want_change;
  Offset nnz;  // bounds the prefetch
};

// A row's sum acc (k floats, clobbered) to its output: y_r <- alpha * out_r * acc + seed_coef
// * seed_r, the change |y_new - y_old| kept per column in max_change and NaN caught in probe.
// The one tail of the gather (run_rows) and of the scatter (finish_rows), so that both make
// the same bits from the same sums.
[[gnu::always_inline]] inline void store_row(const Pass& p, Index r, std::size_t k, float* acc, float* max_change,
                      float& probe) {
  const float row_scale = p.out_scale ? p.alpha * p.out_scale[r] : p.alpha;
  if (p.seed) {
    const float* sr = p.seed + static_cast<std::size_t>(r) * k;
    for (std::size_t c = 0; c < k; ++c) acc[c] = row_scale * acc[c] + p.seed_coef * sr[c];
  } else {
    for (std::size_t c = 0; c < k; ++c) acc[c] = row_scale * acc[c];
  }
  float* yr = p.y + static_cast<std::size_t>(r) * k;
  if (p.want_change) {
    for (std::size_t c = 0; c < k; ++c) {
      const float d = std::fabs(acc[c] - yr[c]);
      max_change[c] = d > max_change[c] ? d : max_change[c];
      probe += d - d;
    }
  }
  for (std::size_t c = 0; c < k; ++c) yr[c] = acc[c];
}

// Keeps NaN sticky across ranges: once a NaN change is seen the result stays NaN.
inline void note_change(float d, float& change) {
  if (d > change || d != d) change = d;
}

}  // namespace driftrec::propagation::cpu::detail
