// The CUDA ALS backend of cuda_als_backend.hpp: the copies, the cuBLAS Gram matrices,
// and the dispatch to the kernels of als_kernels.cu and to cuSOLVER. Arguments arrive
// checked (AlsBackend's public entry points in als_backend.cpp).
#include "matrix_factorization/cuda/cuda_als_backend.hpp"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/cuda/device_memory.hpp"
#include "matrix_factorization/cuda/als_kernels.cuh"
#include "matrix_factorization/cuda/solver_libraries.hpp"

namespace driftrec::matrix_factorization::cuda {
namespace {

using core::cuda::check;
using core::cuda::check_status;
using core::cuda::DeviceArray;

constexpr std::size_t kCholeskyBatchBytes = std::size_t{256} << 20;  // A_r of one batch, in double

void check_launch(int status, const char* what) { check(static_cast<cudaError_t>(status), what); }

}  // namespace

struct CudaAlsBackend::Context {
  cublasHandle_t blas = nullptr;
  cusolverDnHandle_t solver = nullptr;
  ~Context() {
    if (solver) solver_libraries().solver_destroy(solver);
    if (blas) solver_libraries().blas_destroy(blas);
  }
};

CudaAlsBackend::CudaAlsBackend(int threads) : context_(std::make_unique<Context>()) {
  AlsBackendOptions{threads}.validate();
  check(cudaFree(nullptr), "creating the CUDA context");
  check_status(solver_libraries().blas_create(&context_->blas), "cublasCreate");
  check_status(solver_libraries().solver_create(&context_->solver), "cusolverDnCreate");
}

CudaAlsBackend::~CudaAlsBackend() = default;

namespace {

// G = Y^T Y + diag I (f x f, full) from device Y (rows x f, row-major: column-major f x rows).
void gram_float(cublasHandle_t blas, const DeviceArray<float>& y, std::int64_t rows, int f, float diag,
                DeviceArray<float>& g) {
  g.resize(static_cast<std::size_t>(f) * f);
  g.fill_zero();
  const float one = 1, zero = 0;
  if (rows > 0)
    check_status(solver_libraries().ssyrk(blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, f, static_cast<int>(rows), &one, y.data(), f,
                             &zero, g.data(), f),
                 "cublasSsyrk");
  check_launch(launch_symmetrize(g.data(), f, diag), "symmetrize kernel");
}

void gram_double(cublasHandle_t blas, const DeviceArray<float>& y, std::int64_t rows, int f, double diag,
                 DeviceArray<double>& g) {
  DeviceArray<double> yd(y.size());
  check_launch(launch_to_double(y.data(), yd.data(), static_cast<std::int64_t>(y.size())), "to_double kernel");
  g.resize(static_cast<std::size_t>(f) * f);
  g.fill_zero();
  const double one = 1, zero = 0;
  if (rows > 0)
    check_status(solver_libraries().dsyrk(blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, f, static_cast<int>(rows), &one, yd.data(), f,
                             &zero, g.data(), f),
                 "cublasDsyrk");
  check_launch(launch_symmetrize_double(g.data(), f, diag), "symmetrize kernel");
}

DeviceArray<float> upload(const Factors& m) {
  DeviceArray<float> d;
  d.upload(m.data(), static_cast<std::size_t>(m.size()));
  return d;
}

}  // namespace

Eigen::MatrixXd CudaAlsBackend::gram_impl(const Factors& f) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const int k = static_cast<int>(f.cols());
  DeviceArray<double> g;
  gram_double(context_->blas, upload(f), f.rows(), k, 0.0, g);
  Eigen::MatrixXd out(k, k);  // symmetric: column-major on the device or here alike
  g.download(out.data(), static_cast<std::size_t>(k) * k);
  return out;
}

void CudaAlsBackend::solve_rows_impl(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                                     const AlsOptions& options, const DriftPrior& prior) const {
  const int f = options.factors;
  if (options.solver == Solver::cg && f > kMaxCgFactors)
    throw InputError(fmt::format("factors: the cuda backend's CG solver takes at most {} factors, got {}; use "
                                 "--device cpu",
                                 kMaxCgFactors, f));
  const std::lock_guard<std::mutex> lock(mutex_);
  const bool use_prior = prior.rows != nullptr && prior.eta != 0;
  const float diag = options.regularization + (use_prior ? prior.eta : 0.0f);
  const std::int32_t rows = ratings.n_rows;
  DeviceArray<std::int64_t> indptr;
  DeviceArray<std::int32_t> indices;
  DeviceArray<float> values;
  indptr.upload(ratings.indptr);
  indices.upload(ratings.indices);
  values.upload(ratings.data);
  const DeviceArray<float> y = upload(fixed);
  DeviceArray<float> x = upload(solved);
  DeviceArray<float> prior_rows;
  if (use_prior) prior_rows = upload(*prior.rows);
  const float* prior_data = use_prior ? prior_rows.data() : nullptr;
  const float eta = use_prior ? prior.eta : 0.0f;

  if (options.solver == Solver::cg) {
    DeviceArray<float> g;
    gram_float(context_->blas, y, fixed.rows(), f, diag, g);
    DeviceArray<std::int32_t> bad_row(1);
    const std::int32_t none = std::numeric_limits<std::int32_t>::max();
    bad_row.upload(&none, 1);
    CgArgs a{indptr.data(), indices.data(), values.data(), y.data(), g.data(), x.data(), prior_data, eta,
             options.alpha, f, options.cg_steps, rows, bad_row.data()};
    check_launch(launch_cg(a), "ALS CG kernel");
    std::int32_t bad = none;
    bad_row.download(&bad, 1);  // synchronises: kernel errors surface here
    x.download(solved.data(), static_cast<std::size_t>(solved.size()));
    if (bad != none)
      throw NumericalError(fmt::format(
          "row {} became NaN or infinite at regularization = {}, alpha = {}; raise `regularization` (or lower "
          "`alpha`)",
          bad, options.regularization, options.alpha));
    return;
  }

  // The reference: batched Cholesky in double.
  DeviceArray<double> g;
  gram_double(context_->blas, y, fixed.rows(), f, diag, g);
  const std::size_t matrix = static_cast<std::size_t>(f) * f;
  const std::int32_t batch =
      static_cast<std::int32_t>(std::clamp<std::size_t>(kCholeskyBatchBytes / (matrix * sizeof(double)), 1, 65536));
  DeviceArray<double> a(static_cast<std::size_t>(batch) * matrix), b(static_cast<std::size_t>(batch) * f);
  DeviceArray<double*> a_ptrs(static_cast<std::size_t>(batch)), b_ptrs(static_cast<std::size_t>(batch));
  std::vector<double*> host_a(static_cast<std::size_t>(batch)), host_b(static_cast<std::size_t>(batch));
  for (std::int32_t i = 0; i < batch; ++i) {
    host_a[i] = a.data() + static_cast<std::size_t>(i) * matrix;
    host_b[i] = b.data() + static_cast<std::size_t>(i) * f;
  }
  a_ptrs.upload(host_a);
  b_ptrs.upload(host_b);
  DeviceArray<int> info(static_cast<std::size_t>(batch)), solve_info(1);
  std::vector<int> host_info(static_cast<std::size_t>(batch));
  std::int32_t not_definite = -1;
  for (std::int32_t first = 0; first < rows && not_definite < 0; first += batch) {
    const std::int32_t count = std::min(batch, rows - first);
    const NormalArgs n{indptr.data(), indices.data(), values.data(), y.data(), g.data(), prior_data, eta,
                       options.alpha, f, first, count, a.data(), b.data()};
    check_launch(launch_form_normal(n), "ALS normal-equation kernel");
    check_status(solver_libraries().dpotrf_batched(context_->solver, CUBLAS_FILL_MODE_LOWER, f, a_ptrs.data(), f, info.data(),
                                         count),
                 "cusolverDnDpotrfBatched");
    info.download(host_info.data(), static_cast<std::size_t>(count));
    for (std::int32_t i = 0; i < count; ++i)
      if (host_info[i] != 0) {
        not_definite = first + i;
        break;
      }
    if (not_definite >= 0) break;
    check_status(solver_libraries().dpotrs_batched(context_->solver, CUBLAS_FILL_MODE_LOWER, f, 1, a_ptrs.data(), f,
                                         b_ptrs.data(), f, solve_info.data(), count),
                 "cusolverDnDpotrsBatched");
    check_launch(launch_store_solution(b.data(), x.data(), f, first, count), "ALS store kernel");
  }
  if (not_definite >= 0)
    throw NumericalError(fmt::format(
        "row {}: the normal equations are not positive definite (Cholesky failed) at regularization = {}; raise "
        "`regularization`",
        not_definite, options.regularization));
  x.download(solved.data(), static_cast<std::size_t>(solved.size()));
  for (Eigen::Index r = 0; r < solved.rows(); ++r)
    if (!solved.row(r).allFinite())
      throw NumericalError(fmt::format(
          "row {} became NaN or infinite at regularization = {}, alpha = {}; raise `regularization` (or lower "
          "`alpha`)",
          r, options.regularization, options.alpha));
}

}  // namespace driftrec::matrix_factorization::cuda
