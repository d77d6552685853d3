// The public entry points of AlsBackend (every check made once, before the backend's
// kernels run) and the registry of ALS backends by name (als_backend.hpp,
// core/registry.hpp).
#include "matrix_factorization/als_backend.hpp"

#include <fmt/format.h>

#include "core/device.hpp"
#include "core/registry.hpp"
#include "matrix_factorization/als_row_solve.hpp"
#ifdef DRIFTREC_HAVE_CUDA
#include "matrix_factorization/cuda/cuda_als_backend.hpp"
#endif

namespace driftrec::matrix_factorization {
namespace {

const core::Registry<AlsBackend, AlsBackendOptions>& registry() {
  static const core::Registry<AlsBackend, AlsBackendOptions> r(
      "ALS backend", {
                         {"cpu", [] { return std::string(); },
                          [](const AlsBackendOptions& o) { return std::make_unique<CpuAlsBackend>(o.threads); }},
                         // Registered in every build; available where core/device.hpp says
                         // CUDA can run (never in a build without it).
                         {"cuda", [] { return core::cuda_unavailable_reason(); },
                          [](const AlsBackendOptions& o) -> std::unique_ptr<AlsBackend> {
#ifdef DRIFTREC_HAVE_CUDA
                            return std::make_unique<cuda::CudaAlsBackend>(o.threads);
#else
                            (void)o;
                            throw InternalError("the cuda ALS backend was made in a build without CUDA");
#endif
                          }},
                     });
  return r;
}

const char* solver_name(Solver s) { return s == Solver::cg ? "cg" : "cholesky"; }

}  // namespace

void AlsBackendOptions::validate() const {
  if (threads < 0)
    throw InputError(fmt::format(
        "implicit ALS: `threads` must be 0 (OpenMP's default) or a positive count (got {})", threads));
}

Eigen::MatrixXd AlsBackend::gram(const Factors& f) const { return gram_impl(f); }

void AlsBackend::solve_rows(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                            const AlsOptions& options, const DriftPrior& prior) const {
  const Eigen::Index f = options.factors;
  if (ratings.n_rows != solved.rows() || ratings.n_cols != fixed.rows() || fixed.cols() != f ||
      solved.cols() != f)
    throw InputError(fmt::format(
        "solve_rows: ratings are {} x {}, solved factors {} x {} and fixed factors {} x {}; expected "
        "solved rows x fixed rows, both with factors = {}",
        ratings.n_rows, ratings.n_cols, solved.rows(), solved.cols(), fixed.rows(), fixed.cols(), f));
  if (prior.rows && (prior.rows->rows() != solved.rows() || prior.rows->cols() != f))
    throw InputError(fmt::format("solve_rows: the drift prior is {} x {}, expected {} x {}",
                                 prior.rows->rows(), prior.rows->cols(), solved.rows(), f));
  if (!supports(options.solver))
    throw InputError(fmt::format("implicit ALS: the '{}' backend has no {} solver; use `solver` cg",
                                 name(), solver_name(options.solver)));
  solve_rows_impl(ratings, fixed, solved, options, prior);
}

std::unique_ptr<AlsBackend> make_als_backend(std::string_view name, const AlsBackendOptions& options) {
  options.validate();
  return registry().make(name, options);
}

std::vector<std::string> registered_als_backends() { return registry().registered(); }
bool als_backend_available(std::string_view name) { return registry().available(name); }
std::vector<std::string> available_als_backends() { return registry().available(); }

const AlsBackend& als_backend_or_cpu(const AlsBackend* chosen, int threads,
                                     std::unique_ptr<AlsBackend>& owned) {
  if (chosen) return *chosen;
  owned = make_als_backend("cpu", AlsBackendOptions{threads});
  return *owned;
}

}  // namespace driftrec::matrix_factorization
