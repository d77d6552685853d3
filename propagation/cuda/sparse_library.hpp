// cuSPARSE, loaded with dlopen when the CUDA propagation backend is first made.
//
// Why not link it: libcusparse and the libnvJitLink it needs were mapped and relocated in
// every driftrec process, CPU runs and `driftrec --version` included, for about 37 MB
// resident (core/cuda/shared_library.hpp), while only the cuSPARSE anchor of
// CudaBackend::multiply_cusparse uses it: the eight entry points below.
#pragma once
#include <cusparse.h>

namespace driftrec::propagation::cuda {

struct SparseLibrary {
  decltype(&cusparseCreate) create = nullptr;
  decltype(&cusparseDestroy) destroy = nullptr;
  decltype(&cusparseCreateCsr) create_csr = nullptr;
  decltype(&cusparseDestroySpMat) destroy_sp_mat = nullptr;
  decltype(&cusparseCreateDnMat) create_dn_mat = nullptr;
  decltype(&cusparseDestroyDnMat) destroy_dn_mat = nullptr;
  decltype(&cusparseSpMM_bufferSize) spmm_buffer_size = nullptr;
  decltype(&cusparseSpMM) spmm = nullptr;
};

// The library, loaded once per process (thread-safe). Throws InternalError naming the
// library file and dlerror()'s reason when the library or an entry point is missing.
const SparseLibrary& sparse_library();

}  // namespace driftrec::propagation::cuda
