// The CPU ALS backend (als_backend.hpp): the half-sweep of als_row_solve.cpp on OpenMP
// threads, rows under a dynamic schedule. Both solvers: Solver::cg (the vectorised kernel
// of row_kernels.cpp) and Solver::cholesky (Eigen's LLT in double, the reference). Results
// are identical, bit for bit, for any thread count.
#pragma once
#include "matrix_factorization/als_backend.hpp"

namespace driftrec::matrix_factorization {

class CpuAlsBackend final : public AlsBackend {
 public:
  // threads: 0 for OpenMP's default; InputError when negative.
  explicit CpuAlsBackend(int threads = 0);
  std::string_view name() const override { return "cpu"; }
  bool supports(Solver) const override { return true; }
  int threads() const { return threads_; }

 private:
  Eigen::MatrixXd gram_impl(const Factors& f) const override;
  void solve_rows_impl(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                       const AlsOptions& options, const DriftPrior& prior) const override;

  int threads_;
};

}  // namespace driftrec::matrix_factorization
