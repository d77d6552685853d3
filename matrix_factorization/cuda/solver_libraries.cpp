// See solver_libraries.hpp. The library files are the ones CMake found at configure time
// (DRIFTREC_CUBLAS_LIBRARY / DRIFTREC_CUSOLVER_LIBRARY, full paths); when a file is not
// there any more, its soname is tried on the loader's search path.
#include "matrix_factorization/cuda/solver_libraries.hpp"

#include "core/cuda/shared_library.hpp"

namespace driftrec::matrix_factorization::cuda {
namespace {

using core::cuda::open_library;
using core::cuda::resolve;
constexpr const char* kUser = "the CUDA ALS backend";

SolverLibraries load() {
  // cuSOLVER first: it loads the cuBLAS it was built with, which the dlopen of cuBLAS then reuses.
  void* solver = open_library(DRIFTREC_CUSOLVER_LIBRARY, DRIFTREC_CUSOLVER_SONAME, kUser);
  void* blas = open_library(DRIFTREC_CUBLAS_LIBRARY, DRIFTREC_CUBLAS_SONAME, kUser);
  SolverLibraries l;
  resolve(blas, DRIFTREC_CUBLAS_SONAME, "cublasCreate_v2", l.blas_create);
  resolve(blas, DRIFTREC_CUBLAS_SONAME, "cublasDestroy_v2", l.blas_destroy);
  resolve(blas, DRIFTREC_CUBLAS_SONAME, "cublasSsyrk_v2", l.ssyrk);
  resolve(blas, DRIFTREC_CUBLAS_SONAME, "cublasDsyrk_v2", l.dsyrk);
  resolve(solver, DRIFTREC_CUSOLVER_SONAME, "cusolverDnCreate", l.solver_create);
  resolve(solver, DRIFTREC_CUSOLVER_SONAME, "cusolverDnDestroy", l.solver_destroy);
  resolve(solver, DRIFTREC_CUSOLVER_SONAME, "cusolverDnDpotrfBatched", l.dpotrf_batched);
  resolve(solver, DRIFTREC_CUSOLVER_SONAME, "cusolverDnDpotrsBatched", l.dpotrs_batched);
  return l;  // the handles stay open for the life of the process
}

}  // namespace

const SolverLibraries& solver_libraries() {
  static const SolverLibraries libraries = load();
  return libraries;
}

}  // namespace driftrec::matrix_factorization::cuda
