// See sparse_library.hpp. The library file is the one CMake found at configure time
// (DRIFTREC_CUSPARSE_LIBRARY, a full path); when it is not there any more, its soname is
// tried on the loader's search path. libnvJitLink comes with it (cuSPARSE's RUNPATH is
// $ORIGIN).
#include "propagation/cuda/sparse_library.hpp"

#include "core/cuda/shared_library.hpp"

namespace driftrec::propagation::cuda {
namespace {

SparseLibrary load() {
  using core::cuda::resolve;
  constexpr const char* kName = DRIFTREC_CUSPARSE_SONAME;
  void* h = core::cuda::open_library(DRIFTREC_CUSPARSE_LIBRARY, kName, "the CUDA propagation backend");
  SparseLibrary l;
  resolve(h, kName, "cusparseCreate", l.create);
  resolve(h, kName, "cusparseDestroy", l.destroy);
  resolve(h, kName, "cusparseCreateCsr", l.create_csr);
  resolve(h, kName, "cusparseDestroySpMat", l.destroy_sp_mat);
  resolve(h, kName, "cusparseCreateDnMat", l.create_dn_mat);
  resolve(h, kName, "cusparseDestroyDnMat", l.destroy_dn_mat);
  resolve(h, kName, "cusparseSpMM_bufferSize", l.spmm_buffer_size);
  resolve(h, kName, "cusparseSpMM", l.spmm);
  return l;  // the handle stays open for the life of the process
}

}  // namespace

const SparseLibrary& sparse_library() {
  static const SparseLibrary library = load();
  return library;
}

}  // namespace driftrec::propagation::cuda
