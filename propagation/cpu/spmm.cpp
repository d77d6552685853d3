// CPU/OpenMP kernels of propagation/cpu/spmm.hpp: one row-gather loop, instantiated for
// the common widths k, behind the spmm / fused_spmm entry points (and the CpuBackend of
// cpu_backend.cpp).
#include "propagation/cpu/spmm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/parallel.hpp"

namespace driftrec::propagation::cpu {
namespace {

using graph::Index;
using graph::Offset;

constexpr int kRangesPerThread = 8;  // dynamic schedule over edge-balanced row ranges
// Edges ahead whose x row is prefetched. The gather of x rows is latency-bound; on the
// 2^20 x 2^18 R-MAT at k = 20 (one thread, this 2-core machine, noisy) prefetching 16 or
// 32 edges ahead took a half-step from about 150-240 ms to 90-190 ms; 16 and 32 were
// within the noise of each other.
constexpr Offset kPrefetchEdges = 32;

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

// Rows [r0, r1). K > 0 fixes k at compile time (accumulators in registers); K == 0 reads
// k from the pass and keeps its k accumulators and k change maxima in `scratch` (2k floats).
// The change is kept per column, as a select the compiler turns into maxps, and NaN or
// infinity is caught by a probe sum d - d (0 for a finite d), both vectorised (a scalar
// running max with a NaN branch took the users half-step from about 150 to 190 ms).
inline float bf16_to_float(std::uint16_t h) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

// Round to nearest even; NaN stays NaN (the quiet bit is set so it cannot become inf).
inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

template <int K, bool kInScale, bool kBf16 = false>
float run_rows(const Pass& p, Index r0, Index r1, float* scratch) {
  const std::size_t k = K > 0 ? static_cast<std::size_t>(K) : static_cast<std::size_t>(p.k);
  float local_acc[K > 0 ? K : 1], local_max[K > 0 ? K : 1];
  float* acc = K > 0 ? local_acc : scratch;
  float* max_change = K > 0 ? local_max : scratch + k;
  for (std::size_t c = 0; c < k; ++c) max_change[c] = 0;
  float probe = 0;
  for (Index r = r0; r < r1; ++r) {
    for (std::size_t c = 0; c < k; ++c) acc[c] = 0;
    const Offset end = p.indptr[r + 1];
    for (Offset e = p.indptr[r]; e < end; ++e) {
      if (e + kPrefetchEdges < p.nnz) {  // a later edge's x row (every line) and in_scale
        const Index j_ahead = p.indices[e + kPrefetchEdges];
        if constexpr (kBf16) {
          const std::uint16_t* ahead = p.xb + static_cast<std::size_t>(j_ahead) * p.ldx;
          for (std::size_t c = 0; c < k; c += 32) __builtin_prefetch(ahead + c);
        } else {
          const float* ahead = p.x + static_cast<std::size_t>(j_ahead) * k;
          for (std::size_t c = 0; c < k; c += 16) __builtin_prefetch(ahead + c);
          __builtin_prefetch(ahead + k - 1);
        }
        if constexpr (kInScale) __builtin_prefetch(p.in_scale + j_ahead);
      }
      const Index j = p.indices[e];
      float w = p.values[e];
      if constexpr (kInScale) w *= p.in_scale[j];
      if constexpr (kBf16) {
        const std::uint16_t* xj = p.xb + static_cast<std::size_t>(j) * p.ldx;
        for (std::size_t c = 0; c < k; ++c) acc[c] += w * bf16_to_float(xj[c]);
      } else {
        const float* xj = p.x + static_cast<std::size_t>(j) * k;
        for (std::size_t c = 0; c < k; ++c) acc[c] += w * xj[c];
      }
    }
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
  float change = probe;  // NaN if any change was NaN or infinite, else 0
  for (std::size_t c = 0; c < k; ++c) change = std::max(change, max_change[c]);
  return probe != probe ? std::numeric_limits<float>::quiet_NaN() : change;
}

// Keeps NaN sticky across ranges: once a NaN change is seen the result stays NaN.
inline void note_change(float d, float& change) {
  if (d > change || d != d) change = d;
}

template <int K, bool kInScale, bool kBf16>
float run_parallel(const Pass& p, const std::vector<Index>& bounds, int threads) {
  const int parts = static_cast<int>(bounds.size()) - 1;
  std::vector<float> change(static_cast<std::size_t>(parts), 0.0f);
  // One scratch row pair per thread for K == 0 (the fixed widths keep theirs in registers).
  core::parallel_for_with_state(
      parts, {threads, core::Schedule::dynamic, 1},
      [&] { return std::vector<float>(K > 0 ? 0 : 2 * static_cast<std::size_t>(p.k)); },
      [&](std::int64_t i, std::vector<float>& scratch) {
        change[i] = run_rows<K, kInScale, kBf16>(p, bounds[i], bounds[i + 1], scratch.data());
      });
  float total = 0;
  for (float c : change) note_change(c, total);
  return total;
}

template <int K>
float run_width(const Pass& p, const std::vector<Index>& bounds, int threads) {
  if (p.xb) return run_parallel<K, false, true>(p, bounds, threads);
  return p.in_scale ? run_parallel<K, true, false>(p, bounds, threads)
                    : run_parallel<K, false, false>(p, bounds, threads);
}

float run(const graph::CsrMatrix& a, const Pass& p, int threads) {
  if (a.n_rows == 0 || p.k == 0) return 0;
  const Offset work = a.nnz() + a.n_rows;
  threads = static_cast<int>(std::clamp<Offset>(work / kMinWorkPerThread, 1, std::max(threads, 1)));
  const auto bounds = partition_rows(a.indptr, threads * kRangesPerThread);
  switch (p.k) {
    case 1: return run_width<1>(p, bounds, threads);
    case 8: return run_width<8>(p, bounds, threads);
    case 16: return run_width<16>(p, bounds, threads);
    case 20: return run_width<20>(p, bounds, threads);
    case 32: return run_width<32>(p, bounds, threads);
    default: return run_width<0>(p, bounds, threads);
  }
}

Pass plain_pass(const graph::CsrMatrix& a, ConstDenseView x, DenseView y) {
  return Pass{a.indptr.data(), a.indices.data(), a.data.data(), x.data, nullptr,
              static_cast<std::size_t>(y.cols), nullptr, nullptr, 1.0f, nullptr, 0.0f, y.data,
              y.cols, false, a.nnz()};
}

}  // namespace

std::size_t bf16_row_stride(Index k) {
  const auto uk = static_cast<std::size_t>(std::max<Index>(k, 1));
  return uk <= 32 ? std::bit_ceil(uk) : (uk + 31) / 32 * 32;
}

void pack_bf16(ConstDenseView x, std::span<const float> scale, std::uint16_t* out, int threads) {
  const std::size_t k = static_cast<std::size_t>(x.cols), ld = bf16_row_stride(x.cols);
  core::parallel_for(x.rows, {std::max(threads, 1)}, [&](std::int64_t r) {
    const float s = scale.empty() ? 1.0f : scale[r];
    const float* xr = x.data + static_cast<std::size_t>(r) * k;
    std::uint16_t* o = out + static_cast<std::size_t>(r) * ld;
    for (std::size_t c = 0; c < k; ++c) o[c] = float_to_bf16(s * xr[c]);
    for (std::size_t c = k; c < ld; ++c) o[c] = 0;
  });
}

float fused_spmm_bf16(const graph::CsrMatrix& a, const FusedScales& s, ConstDenseView x,
                      DenseView y, int threads, std::vector<std::uint16_t>& scratch) {
  const std::size_t need = static_cast<std::size_t>(x.rows) * bf16_row_stride(x.cols);
  if (scratch.size() < need) scratch.resize(need);
  threads = std::max(threads, 1);
  if (x.rows > 0 && x.cols > 0) pack_bf16(x, s.in_scale, scratch.data(), threads);
  Pass p = plain_pass(a, x, y);
  p.xb = scratch.data();
  p.ldx = bf16_row_stride(x.cols);
  p.out_scale = s.out_scale.empty() ? nullptr : s.out_scale.data();
  p.alpha = s.alpha;
  p.seed = s.seed.data;
  p.seed_coef = s.seed_coef;
  p.want_change = true;
  return run(a, p, threads);
}

std::vector<Index> partition_rows(std::span<const Offset> indptr, int parts) {
  const Index rows = indptr.empty() ? 0 : static_cast<Index>(indptr.size() - 1);
  parts = std::max(parts, 1);
  std::vector<Index> bounds(static_cast<std::size_t>(parts) + 1, rows);
  bounds[0] = 0;
  if (rows == 0) return bounds;
  // cost(r) = indptr[r] + r is the cost of rows [0, r): non-decreasing, so each boundary
  // is a binary search for the first row whose prefix cost reaches p / parts of the total.
  const Offset total = indptr[rows] + rows;
  for (int p = 1; p < parts; ++p) {
    const Offset target = total / parts * p + total % parts * p / parts;
    Index lo = bounds[p - 1], hi = rows;
    while (lo < hi) {
      const Index mid = lo + (hi - lo) / 2;
      if (indptr[mid] + mid < target) lo = mid + 1;
      else hi = mid;
    }
    bounds[p] = lo;
  }
  return bounds;
}

void spmm(const graph::CsrMatrix& a, ConstDenseView x, DenseView y, int threads) {
  run(a, plain_pass(a, x, y), threads);
}

float fused_spmm(const graph::CsrMatrix& a, const FusedScales& s, ConstDenseView x, DenseView y,
                 int threads) {
  Pass p = plain_pass(a, x, y);
  p.in_scale = s.in_scale.empty() ? nullptr : s.in_scale.data();
  p.out_scale = s.out_scale.empty() ? nullptr : s.out_scale.data();
  p.alpha = s.alpha;
  p.seed = s.seed.data;
  p.seed_coef = s.seed_coef;
  p.want_change = true;
  return run(a, p, threads);
}

}  // namespace driftrec::propagation::cpu
