// What every part of the _driftrec extension shares: numpy arrays that own a C++ vector or
// Eigen matrix (zero-copy results: the array's capsule deletes the moved-in buffer), CSR
// matrices from the (indptr, indices, data) arrays of scipy.sparse, the lock that keeps
// HDF5 (not built thread-safe in Debian) to one thread while the GIL is released. Thread
// counts travel in each call's options; nothing here changes OpenMP's settings.
//
// Inputs arrive already converted by the Python layer (driftrec/_convert.py): C-contiguous,
// the exact dtype, read-only allowed. The ndarray types below are strict, so a caller of
// the raw extension with other arrays gets a TypeError rather than a silent conversion.
#pragma once
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <Eigen/Core>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "graph/csr.hpp"

namespace driftrec::python {

namespace nb = nanobind;

template <class T>
using Array1 = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <class T>
using Array2 = nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using NumpyArray = nb::ndarray<nb::numpy, T>;

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

// A 1-D numpy array that owns `v` (moved; no copy of the elements).
template <class T>
NumpyArray<T> to_numpy(std::vector<T>&& v) {
  auto* owner = new std::vector<T>(std::move(v));
  nb::capsule capsule(owner, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return NumpyArray<T>(owner->data(), {owner->size()}, capsule);
}

// A rows x cols numpy array that owns `v` (row-major, v.size() == rows * cols).
template <class T>
NumpyArray<T> to_numpy(std::vector<T>&& v, std::size_t rows, std::size_t cols) {
  auto* owner = new std::vector<T>(std::move(v));
  nb::capsule capsule(owner, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return NumpyArray<T>(owner->data(), {rows, cols}, capsule);
}

// A numpy array that owns the row-major matrix `m` (moved).
NumpyArray<float> to_numpy(RowMatrix&& m);

// The view of a 2-D float array as a row-major Eigen matrix.
inline ConstRowMap as_matrix(const Array2<float>& a) {
  return ConstRowMap(a.data(), static_cast<Eigen::Index>(a.shape(0)), static_cast<Eigen::Index>(a.shape(1)));
}

// A copy of a scipy CSR matrix's arrays, checked (graph::validate_csr naming `what`, and
// finite values when `finite`): InputError on anything broken.
graph::CsrMatrix csr_from_arrays(const Array1<std::int64_t>& indptr, const Array1<std::int32_t>& indices,
                                 const Array1<float>& data, std::int64_t rows, std::int64_t cols, const char* what,
                                 bool finite = true);

// (indptr, indices, data) numpy arrays owning the matrix's vectors (moved).
nb::tuple csr_to_arrays(graph::CsrMatrix&& m);

// Serialises every HDF5 call of the extension: take it after releasing the GIL.
std::mutex& hdf5_mutex();

// The bindings of each topic, called by NB_MODULE in module.cpp.
void bind_errors(nb::module_& m);
void bind_store(nb::module_& m);
void bind_propagate(nb::module_& m);
void bind_als(nb::module_& m);
void bind_jobs(nb::module_& m);

}  // namespace driftrec::python
