// Internal to the CUDA ALS backend: the launchers of als_kernels.cu. Plain C++ (no project
// or Eigen headers). All pointers are device pointers; factor matrices are row-major.
#pragma once
#include <cstdint>

namespace driftrec::matrix_factorization::cuda {

// One half-sweep's rows, solved by conjugate gradient as the CPU kernel does
// (row_kernels.hpp, cg_solve_row): A_r x = b_r with
//   A_r = G + sum_e (c_e - 1) y_e y_e^T,  b_r = sum_e c_e y_e + eta prior_r,  c_e = 1 + alpha v_e
// over the row's entries with v_e > 0, from the current x_r, `steps` steps at most,
// stopping when r . r < 1e-20 or p . A p <= 0. G holds Y^T Y + (lambda + eta) I, full.
struct CgArgs {
  const std::int64_t* indptr;  // rows + 1
  const std::int32_t* indices;
  const float* values;
  const float* y;      // the fixed side, f columns
  const float* gram;   // f x f
  float* x;            // rows x f, updated in place
  const float* prior;  // rows x f, or null
  float eta;
  float alpha;
  std::int32_t f;
  std::int32_t steps;
  std::int32_t rows;
  std::int32_t* bad_row;  // atomicMin of the rows whose result is not finite (start at INT32_MAX)
};

// The largest f the CG kernel takes (its four vectors per row sit in shared memory).
inline constexpr int kMaxCgFactors = 3072;
int launch_cg(const CgArgs& a);

// g (f x f, column-major lower triangle from cuBLAS syrk) made full and symmetric, diag added.
int launch_symmetrize(float* g, std::int32_t f, float diag);
int launch_symmetrize_double(double* g, std::int32_t f, double diag);
// out[i] = in[i], float to double.
int launch_to_double(const float* in, double* out, std::int64_t n);

// The reference (Solver::cholesky): for rows [first, first + count), A_r (f x f) and b_r
// (f) formed in double into a[i * f * f], b[i * f] for i = row - first; g is
// Y^T Y + (lambda + eta) I in double, full.
struct NormalArgs {
  const std::int64_t* indptr;
  const std::int32_t* indices;
  const float* values;
  const float* y;
  const double* g;
  const float* prior;
  float eta;
  float alpha;
  std::int32_t f;
  std::int32_t first;
  std::int32_t count;
  double* a;
  double* b;
};
int launch_form_normal(const NormalArgs& args);
// x[(first + i) * f + k] = float(b[i * f + k]) for i < count.
int launch_store_solution(const double* b, float* x, std::int32_t f, std::int32_t first, std::int32_t count);

}  // namespace driftrec::matrix_factorization::cuda
