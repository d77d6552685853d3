// The CUDA ALS backend ("cuda" in als_backend.cpp; built with DRIFTREC_HAVE_CUDA only;
// internal, not installed). Per half-sweep it copies the ratings (CSR), the fixed and the
// solved factors (and the prior) to the device, forms G = Y^T Y + (lambda + eta) I with
// cuBLAS (syrk), solves every row there and copies the solved factors back:
// - Solver::cg: the warp-per-row conjugate-gradient kernel of als_kernels.cu, the CPU
//   kernel's iteration step for step (same options, same objective);
// - Solver::cholesky (the reference): A_r and b_r formed in double on the device and
//   solved by cuSOLVER's batched Cholesky (potrfBatched / potrsBatched), rows in batches.
// gram (F^T F in double) is cuBLAS dsyrk. Errors as the CPU backend: NumericalError naming
// the lowest row whose solution is not finite or whose A_r is not positive definite.
// Calls are serialised by a mutex (one cuBLAS / cuSOLVER handle).
#pragma once
#include <memory>
#include <mutex>

#include "matrix_factorization/als_backend.hpp"

namespace driftrec::matrix_factorization::cuda {

class CudaAlsBackend final : public AlsBackend {
 public:
  explicit CudaAlsBackend(int threads = 0);
  ~CudaAlsBackend() override;
  std::string_view name() const override { return "cuda"; }
  bool supports(Solver) const override { return true; }

 private:
  Eigen::MatrixXd gram_impl(const Factors& f) const override;
  void solve_rows_impl(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                       const AlsOptions& options, const DriftPrior& prior) const override;

  struct Context;  // the cuBLAS and cuSOLVER handles
  std::unique_ptr<Context> context_;
  mutable std::mutex mutex_;
};

}  // namespace driftrec::matrix_factorization::cuda
