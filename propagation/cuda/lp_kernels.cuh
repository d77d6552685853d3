// Internal to the CUDA propagation backend: the launchers of the half-step kernels of
// lp_kernels.cu. Plain C++ (no project or Eigen headers), so nvcc compiles only the kernels
// and the backend (cuda_backend.cpp) stays ordinary C++. All pointers are device pointers.
#pragma once
#include <cstdint>

namespace driftrec::propagation::cuda {

// y_r <- alpha * out_scale_r * sum_e (a_e * in_scale_c(e)) x_c(e) + seed_coef * seed_r
// over the segments of a RowSplit (row_split.hpp), the CPU kernel's formula (cpu/spmm.hpp)
// with the same rounding per term (no fused multiply-add), so a row of one segment equals
// the CPU's bit for bit. Null in_scale / out_scale: ones; null seed: none. With
// want_change, max |y_new - y_old| goes to *max_bits (a float's bits, atomicMax; start it
// at 0) and *non_finite is set to 1 when some change is NaN or infinite (start it at 0).
struct HalfStepArgs {
  // The graph's segments (RowSplit) and CSR arrays.
  const std::int64_t* seg_begin;
  const std::int64_t* seg_end;
  const std::int32_t* seg_row;
  const std::int64_t* seg_slot;
  std::int64_t segments;
  const std::int32_t* split_row;
  const std::int64_t* split_slot_begin;
  std::int64_t split_rows;
  const std::int32_t* indices;
  const float* values;
  // The operands.
  const float* x;  // columns of A x k
  const float* in_scale;
  const float* out_scale;
  float alpha;
  const float* seed;  // rows of A x k
  float seed_coef;
  float* y;        // rows of A x k
  std::int32_t k;
  float* partial;  // slots x k floats (heavy rows' partial sums)
  bool want_change;
  unsigned* max_bits;
  int* non_finite;
};

// Both kernels of one half-step, on the default stream; returns the launch status
// (cudaError_t as int) without synchronising.
int launch_half_step(const HalfStepArgs& args);

}  // namespace driftrec::propagation::cuda
