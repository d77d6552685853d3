// /results/<name> in a store: what propagate, factorize and train compute, with their
// parameters as attributes. A result is added to a copy of the store that is renamed over
// the original (StoreWriter::Amend), so a failure or a kill leaves the store as it was.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "io/hdf5.hpp"
#include "io/result_name.hpp"
#include "io/store.hpp"

namespace driftrec::io {

// Creates /results/<name> in `w` (replacing a result of that name) and returns the group.
h5::Handle create_result(StoreWriter& w, const std::string& name);

// Opens /results/<name>; InputError naming the results the store has if it is missing.
h5::Handle open_result(const Store& store, const std::string& name);

// The 2-d dataset write_matrix writes into: rows x cols of `type`, chunked by rows (about
// 2^18 values a chunk), shuffled and deflated. driftrec-mpi creates its results' matrices
// with it, so they have the single process's layout.
h5::Handle create_matrix(hid_t loc, const std::string& name, hid_t type, std::uint64_t rows, std::uint64_t cols);
// Row-major float32 matrices as 2-d datasets (chunked by rows, compressed).
void write_matrix(hid_t loc, const std::string& name, const float* data, std::uint64_t rows,
                  std::uint64_t cols);
void write_matrix(hid_t loc, const std::string& name, const std::int32_t* data, std::uint64_t rows,
                  std::uint64_t cols);
struct Matrix {
  std::uint64_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major
};
// Results hold finite numbers only (a walk's top_scores also -inf, the padding of a short
// list): any other value means the file was damaged or edited, and would surface as nan
// scores or zero cosines. InputError names the store, the result, the dataset and the first
// bad row and column.
enum class NonFinite { refuse, allow_negative_infinity };
Matrix read_matrix(hid_t loc, const std::string& name, const h5::ReadContext& cx,
                   NonFinite non_finite = NonFinite::refuse);
// The same check for values read otherwise (a CSR group's data): `dataset` is the HDF5
// path; `cols` 0 names the entry's index rather than its row and column.
void check_result_values(const float* data, std::size_t n, std::size_t cols, const std::string& dataset,
                         const h5::ReadContext& cx, NonFinite non_finite = NonFinite::refuse);

// The same for the row-major float Eigen matrices of the results (factors, propagated
// scores, predictions).
template <class M>
void write_rows(hid_t loc, const std::string& name, const M& m) {
  static_assert(M::IsRowMajor, "results are stored row-major");
  write_matrix(loc, name, m.data(), static_cast<std::uint64_t>(m.rows()), static_cast<std::uint64_t>(m.cols()));
}
template <class M>
M as_rows(const Matrix& m) {
  static_assert(M::IsRowMajor, "results are stored row-major");
  return Eigen::Map<const M>(m.data.data(), static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols));
}

// The dataset of one period in a group of periods: "0007".
std::string period_name(std::size_t period);
struct IndexMatrix {
  std::uint64_t rows = 0, cols = 0;
  std::vector<std::int32_t> data;  // row-major
};
IndexMatrix read_index_matrix(hid_t loc, const std::string& name, const h5::ReadContext& cx);

}  // namespace driftrec::io
