// cuBLAS and cuSOLVER are loaded at first use of the CUDA ALS backend, not at start-up
// (matrix_factorization/cuda/solver_libraries.hpp): before the first call no cuBLAS page is
// mapped into the process, after it every entry point the backend calls is resolved.
// Needs the CUDA libraries, not a GPU, so it runs in every CUDA build.
#include <cstdio>
#include <fstream>
#include <string>

#include "matrix_factorization/cuda/solver_libraries.hpp"

namespace {

bool mapped(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(library) != std::string::npos) return true;
  return false;
}

int fail(const char* what) {
  std::printf("FAILED: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  using driftrec::matrix_factorization::cuda::solver_libraries;
  if (mapped("libcublas")) return fail("libcublas is mapped before the ALS backend asked for it");
  if (mapped("libcusolver")) return fail("libcusolver is mapped before the ALS backend asked for it");
  const auto& l = solver_libraries();
  if (!l.blas_create || !l.blas_destroy || !l.ssyrk || !l.dsyrk || !l.solver_create || !l.solver_destroy ||
      !l.dpotrf_batched || !l.dpotrs_batched)
    return fail("an entry point is null");
  if (!mapped("libcublas") || !mapped("libcusolver")) return fail("the libraries are not mapped after loading");
  if (&solver_libraries() != &l) return fail("the libraries were loaded twice");
  std::printf("cuBLAS and cuSOLVER loaded at first use; 8 entry points resolved\n");
  return 0;
}
