#pragma once
// cuBLAS and cuSOLVER, loaded with dlopen when the CUDA ALS backend is first made.
//
// Why not link them: libcusolver pulls in libcublas and libcublasLt, whose loading and
// static initialisation cost every driftrec process about 0.09 s and 220 MB resident on our
// machine (measured: a program that only links them takes 0.097 s and 261 MB to start, one
// that links cudart alone 0.001 s and 1.5 MB), CPU runs included. Only the eight entry
// points below are used, so they are resolved by name at first use instead.
#include <cublas_v2.h>
#include <cusolverDn.h>

namespace driftrec::matrix_factorization::cuda {

struct SolverLibraries {
  decltype(&cublasCreate_v2) blas_create = nullptr;
  decltype(&cublasDestroy_v2) blas_destroy = nullptr;
  decltype(&cublasSsyrk_v2) ssyrk = nullptr;
  decltype(&cublasDsyrk_v2) dsyrk = nullptr;
  decltype(&cusolverDnCreate) solver_create = nullptr;
  decltype(&cusolverDnDestroy) solver_destroy = nullptr;
  decltype(&cusolverDnDpotrfBatched) dpotrf_batched = nullptr;
  decltype(&cusolverDnDpotrsBatched) dpotrs_batched = nullptr;
};

// The libraries, loaded once per process (thread-safe). Throws InternalError naming the
// library file and dlerror()'s reason when a library or an entry point is missing.
const SolverLibraries& solver_libraries();

}  // namespace driftrec::matrix_factorization::cuda
