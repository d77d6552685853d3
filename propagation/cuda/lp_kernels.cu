// The CUDA half-step of label propagation (lp_kernels.cuh): one warp per segment of at
// most RowSplit's max_edges edges (row_split.hpp), so a hub row of a skewed graph is
// spread over many warps and no warp idles behind it.
// - A warp's 32 lanes first load 32 consecutive edges (column id and a_e * in_scale_c
//   each), then walk them one by one, taking them from the lanes by shuffle; for each
//   edge, lane l adds column c0 + l of x's row, so a row of x is read coalesced (k <= 32:
//   one pass; larger k: a pass per 32 columns).
// - Light rows (one segment) are finished by their warp; heavy rows write per-segment
//   partial sums into slots, which split_finish_kernel adds in slot order.
// - The change max |y_new - y_old| is reduced per warp (shuffles), per block (shared
//   memory), then one atomicMax per block on the float's bits (changes are >= 0, so their
//   bit patterns order as the floats do); NaN or infinity raises a flag instead.
// Every product and sum is rounded separately (__fmul_rn, __fadd_rn: no contraction into
// FMA) in the CPU kernel's order, so a light row is the CPU's result bit for bit.
#include <cuda_runtime.h>

#include "propagation/cuda/lp_kernels.cuh"

namespace driftrec::propagation::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kBlock = 256;  // 8 warps
constexpr unsigned kFull = 0xffffffffu;

// y_rc from the row's sum, and the lane's running change.
__device__ void finish(const HalfStepArgs& a, std::int32_t r, int c, float acc, float& lane_max,
                       bool& lane_non_finite) {
  const float row_scale = a.out_scale ? __fmul_rn(a.alpha, a.out_scale[r]) : a.alpha;
  const std::size_t at = static_cast<std::size_t>(r) * a.k + c;
  float v = __fmul_rn(row_scale, acc);
  if (a.seed) v = __fadd_rn(v, __fmul_rn(a.seed_coef, a.seed[at]));
  if (a.want_change) {
    const float d = fabsf(v - a.y[at]);
    if (!isfinite(d)) lane_non_finite = true;
    else lane_max = fmaxf(lane_max, d);
  }
  a.y[at] = v;
}

// Every thread of the block calls this once (no early returns in the kernels).
__device__ void report_change(const HalfStepArgs& a, float lane_max, bool lane_non_finite) {
  __shared__ float warp_max[kBlock / kWarp];
  __shared__ int block_non_finite;
  if (threadIdx.x == 0) block_non_finite = 0;
  __syncthreads();
  for (int o = kWarp / 2; o > 0; o /= 2) lane_max = fmaxf(lane_max, __shfl_xor_sync(kFull, lane_max, o));
  if (lane_non_finite) block_non_finite = 1;
  if ((threadIdx.x & (kWarp - 1)) == 0) warp_max[threadIdx.x / kWarp] = lane_max;
  __syncthreads();
  if (threadIdx.x == 0) {
    float m = 0;
    for (int w = 0; w < kBlock / kWarp; ++w) m = fmaxf(m, warp_max[w]);
    if (m > 0) atomicMax(a.max_bits, __float_as_uint(m));
    if (block_non_finite) atomicExch(a.non_finite, 1);
  }
}

__global__ void __launch_bounds__(kBlock) segment_kernel(HalfStepArgs a) {
  const std::int64_t s = (static_cast<std::int64_t>(blockIdx.x) * kBlock + threadIdx.x) / kWarp;
  const int lane = threadIdx.x & (kWarp - 1);
  float lane_max = 0;
  bool lane_non_finite = false;
  if (s < a.segments) {  // the same for every lane of the warp: the shuffles below are warp-uniform
    const std::int64_t begin = a.seg_begin[s], end = a.seg_end[s];
    const std::int32_t r = a.seg_row[s];
    const std::int64_t slot = a.seg_slot[s];
    for (int c0 = 0; c0 < a.k; c0 += kWarp) {
      const int c = c0 + lane;
      float acc = 0;
      for (std::int64_t e0 = begin; e0 < end; e0 += kWarp) {
        std::int32_t j = 0;
        float w = 0;
        if (e0 + lane < end) {
          j = a.indices[e0 + lane];
          w = a.values[e0 + lane];
          if (a.in_scale) w = __fmul_rn(w, a.in_scale[j]);
        }
        const int n = end - e0 < kWarp ? static_cast<int>(end - e0) : kWarp;
        for (int t = 0; t < n; ++t) {
          const std::int32_t jt = __shfl_sync(kFull, j, t);
          const float wt = __shfl_sync(kFull, w, t);
          if (c < a.k) acc = __fadd_rn(acc, __fmul_rn(wt, a.x[static_cast<std::size_t>(jt) * a.k + c]));
        }
      }
      if (c < a.k) {
        if (slot < 0) finish(a, r, c, acc, lane_max, lane_non_finite);
        else a.partial[static_cast<std::size_t>(slot) * a.k + c] = acc;
      }
    }
  }
  if (a.want_change) report_change(a, lane_max, lane_non_finite);
}

__global__ void __launch_bounds__(kBlock) split_finish_kernel(HalfStepArgs a) {
  const std::int64_t i = (static_cast<std::int64_t>(blockIdx.x) * kBlock + threadIdx.x) / kWarp;
  const int lane = threadIdx.x & (kWarp - 1);
  float lane_max = 0;
  bool lane_non_finite = false;
  if (i < a.split_rows) {
    const std::int32_t r = a.split_row[i];
    for (int c = lane; c < a.k; c += kWarp) {
      float acc = 0;
      for (std::int64_t s = a.split_slot_begin[i]; s < a.split_slot_begin[i + 1]; ++s)
        acc = __fadd_rn(acc, a.partial[static_cast<std::size_t>(s) * a.k + c]);
      finish(a, r, c, acc, lane_max, lane_non_finite);
    }
  }
  if (a.want_change) report_change(a, lane_max, lane_non_finite);
}

unsigned blocks_for_warps(std::int64_t warps) {
  return static_cast<unsigned>((warps + kBlock / kWarp - 1) / (kBlock / kWarp));
}

}  // namespace

int launch_half_step(const HalfStepArgs& a) {
  if (a.segments > 0 && a.k > 0) segment_kernel<<<blocks_for_warps(a.segments), kBlock>>>(a);
  if (a.split_rows > 0 && a.k > 0) split_finish_kernel<<<blocks_for_warps(a.split_rows), kBlock>>>(a);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace driftrec::propagation::cuda
