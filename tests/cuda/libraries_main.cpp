// The CUDA libraries the backends call are loaded at their first use, not at start-up
// (core/cuda/shared_library.hpp): before the first call none of their pages is mapped
// into the process, after it every entry point the backend calls is resolved.
//   driftrec_cuda_libraries solver   cuBLAS and cuSOLVER of the ALS backend
//                                    (matrix_factorization/cuda/solver_libraries.hpp)
//   driftrec_cuda_libraries sparse   cuSPARSE of the propagation backend, with the
//                                    nvJitLink it needs (propagation/cuda/sparse_library.hpp)
// One library set per process, so that "not mapped before" means something. Needs the CUDA
// libraries, not a GPU, so it runs in every CUDA build.
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "matrix_factorization/cuda/solver_libraries.hpp"
#include "propagation/cuda/sparse_library.hpp"

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

int solver() {
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

int sparse() {
  using driftrec::propagation::cuda::sparse_library;
  if (mapped("libcusparse")) return fail("libcusparse is mapped before the propagation backend asked for it");
  if (mapped("libnvJitLink")) return fail("libnvJitLink is mapped before the propagation backend asked for it");
  const auto& l = sparse_library();
  if (!l.create || !l.destroy || !l.create_csr || !l.destroy_sp_mat || !l.create_dn_mat || !l.destroy_dn_mat ||
      !l.spmm_buffer_size || !l.spmm)
    return fail("an entry point is null");
  if (!mapped("libcusparse")) return fail("libcusparse is not mapped after loading");
  if (&sparse_library() != &l) return fail("the library was loaded twice");
  std::printf("cuSPARSE loaded at first use; 8 entry points resolved\n");
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  const std::string_view which = argc == 2 ? argv[1] : "";
  if (which == "solver") return solver();
  if (which == "sparse") return sparse();
  std::printf("usage: driftrec_cuda_libraries solver|sparse\n");
  return 2;
}
