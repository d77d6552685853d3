// The seam between implicit ALS (Hu, Koren & Volinsky 2008) and the hardware that runs its
// half-sweeps, shaped like propagation/backend.hpp (and implicit's CPU / GPU solvers): a
// half-sweep is the Gram matrix of the fixed side, G = Y^T Y, and then one independent
// solve per row of the solved side,
//   (G + sum_i (c_ri - 1) y_i y_i^T + (lambda + eta) I) x_r = sum_i c_ri y_i + eta prior_r,
// by conjugate gradient (Solver::cg, the fast path) or exactly (Solver::cholesky, the
// reference). The public entry points (gram, solve_rows) check shapes once and call the
// backend's *_impl; the kernels behind them never re-validate.
//
// make_als_backend(name, options) is the one factory: "cpu" (als_row_solve.hpp: the
// vectorised CG kernel of row_kernels.cpp and Eigen's LLT in double) now; a CUDA backend
// registers in als_backend.cpp and reports itself unavailable where it cannot run. A
// backend is injected through AlsOptions::backend (null: the CPU backend with
// AlsOptions::threads threads), so one backend serves every sweep of a fit. Another
// backend must match the CPU solves to a stated tolerance (tests/conformance/).
#pragma once
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/csr.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace driftrec::matrix_factorization {

struct AlsBackendOptions {
  int threads = 0;  // >= 0; 0: OpenMP's default (omp_get_max_threads())

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

class AlsBackend {
 public:
  virtual ~AlsBackend() = default;
  AlsBackend(const AlsBackend&) = delete;
  AlsBackend& operator=(const AlsBackend&) = delete;

  virtual std::string_view name() const = 0;
  // Whether solve_rows runs `solver` here (every backend runs Solver::cg).
  virtual bool supports(Solver solver) const = 0;

  // F^T F (f x f, symmetric) in double, the same for any thread count.
  Eigen::MatrixXd gram(const Factors& f) const;

  // One half-sweep: re-solves every row r of `solved` against `fixed`, using the stored
  // entries of row r of `ratings` (rows = solved rows, cols = fixed rows), with
  // options.regularization, alpha, solver and cg_steps (CG starts from the current row of
  // `solved`). Throws InputError on mismatched shapes (ratings, fixed, solved, prior,
  // options.factors) or a solver this backend lacks; NumericalError naming the lowest row
  // whose solution is not finite, or whose normal equations are not positive definite
  // (Cholesky). The ratings are assumed valid CSR (fit_implicit_als checks them).
  void solve_rows(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                  const AlsOptions& options, const DriftPrior& prior = {}) const;

 protected:
  AlsBackend() = default;

 private:
  virtual Eigen::MatrixXd gram_impl(const Factors& f) const = 0;
  virtual void solve_rows_impl(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                               const AlsOptions& options, const DriftPrior& prior) const = 0;
};

// The backend called `name` ("cpu"). Throws InputError on an unknown name (listing the
// registered ones), on a registered backend that cannot run here (saying why), and on bad
// options.
std::unique_ptr<AlsBackend> make_als_backend(std::string_view name, const AlsBackendOptions& options = {});

// Every registered backend, available here or not, in registration order ("cpu" first).
std::vector<std::string> registered_als_backends();
// Whether `name` is registered and can run on this machine; false for an unknown name.
bool als_backend_available(std::string_view name);
// The registered backends that can run here.
std::vector<std::string> available_als_backends();

// *chosen, or a CPU backend with `threads` threads made into `owned`.
const AlsBackend& als_backend_or_cpu(const AlsBackend* chosen, int threads,
                                     std::unique_ptr<AlsBackend>& owned);

}  // namespace driftrec::matrix_factorization
