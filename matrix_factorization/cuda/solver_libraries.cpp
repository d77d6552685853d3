// See solver_libraries.hpp. The library files are the ones CMake found at configure time
// (DRIFTREC_CUBLAS_LIBRARY / DRIFTREC_CUSOLVER_LIBRARY, full paths); when a file is not
// there any more, its soname is tried on the loader's search path.
#include "matrix_factorization/cuda/solver_libraries.hpp"

#include <dlfcn.h>

#include <string>

#include <fmt/format.h>

#include "core/error.hpp"

namespace driftrec::matrix_factorization::cuda {
namespace {

void* open_library(const char* path, const char* soname) {
  if (void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) return handle;
  const char* why = dlerror();
  const std::string first = why ? why : "";
  if (void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) return handle;
  const char* second = dlerror();
  throw InternalError(fmt::format("the CUDA ALS backend needs {} (found at build time at {}), which could not be "
                                  "loaded: {}{}",
                                  soname, path, second ? second : "", first.empty() ? "" : " / " + first));
}

template <class F>
void resolve(void* handle, const char* library, const char* name, F& out) {
  dlerror();
  void* symbol = dlsym(handle, name);
  if (!symbol) {
    const char* why = dlerror();
    throw InternalError(fmt::format("{} has no entry point {}: {}", library, name, why ? why : "null symbol"));
  }
  out = reinterpret_cast<F>(symbol);
}

SolverLibraries load() {
  // cuSOLVER first: it loads the cuBLAS it was built with, which the dlopen of cuBLAS then reuses.
  void* solver = open_library(DRIFTREC_CUSOLVER_LIBRARY, DRIFTREC_CUSOLVER_SONAME);
  void* blas = open_library(DRIFTREC_CUBLAS_LIBRARY, DRIFTREC_CUBLAS_SONAME);
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
