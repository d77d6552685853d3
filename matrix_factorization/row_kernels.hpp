// Internal to matrix_factorization: the vectorised inner kernels of the ALS half-sweep
// (row_kernels.cpp), called by solve_rows (als_row_solve.cpp). Not a public interface.
#pragma once
#include <cstddef>

#include "graph/types.hpp"

namespace driftrec::matrix_factorization::detail {

// One row's normal equations, A x = b with
//   A = G + sum_e (c_e - 1) y_e y_e^T,   b = sum_e c_e y_e + eta prior,   c_e = 1 + alpha val_e,
// over the entries e with val_e > 0 (the others are absent); G already holds
// Y^T Y + (lambda + eta) I.
struct RowProblem {
  const float* gram;        // G, f x f row-major
  const float* y;           // fixed factors, (rows of the other side) x f, row-major
  const graph::Index* idx;  // the row's stored entries: row of y ...
  const float* val;         // ... and value
  graph::Offset n;
  float alpha;
  const float* prior;  // null: no drift term
  float eta;
};

// `steps` conjugate-gradient steps on the row's system from x (f floats, updated in
// place); `scratch` holds 4 f floats. Stops early when r . r < 1e-20 (implicit's test).
void cg_solve_row(int f, const RowProblem& q, int steps, float* x, float* scratch);

// out += Y^T Y over `rows` consecutive rows of Y (f columns), lower triangle only
// (out[k][j] for j <= k); out is f x f row-major.
void syrk_lower(int f, const float* y, std::ptrdiff_t rows, float* out);

}  // namespace driftrec::matrix_factorization::detail
