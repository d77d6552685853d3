// cuSPARSE is loaded at the first use of the cuSPARSE anchor of the CUDA propagation
// backend, not at start-up (propagation/cuda/sparse_library.hpp): before the first call
// neither libcusparse nor the libnvJitLink it needs is mapped into the process, after it
// every entry point the backend calls is resolved. Needs the CUDA libraries, not a GPU, so
// it runs in every CUDA build.
#include <cstdio>
#include <fstream>
#include <string>

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

}  // namespace

int main() {
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
