// Sparse rows between ranks (mpi/sparse_rows.hpp): three MPI_Alltoallv (lengths, column
// ids, values) along a ghost plan.
#include "mpi/sparse_rows.hpp"

#include <climits>

#include <fmt/format.h>

namespace driftrec::mpi {

using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

namespace {

int checked(std::int64_t n, const char* what) {
  if (n > INT_MAX)
    throw InputError(fmt::format("{}: {} values in one MPI message exceed MPI's int count; run on more ranks", what, n));
  return static_cast<int>(n);
}

// A CSR from row lengths, column ids and values, concatenated.
CsrMatrix assemble(const std::vector<std::int64_t>& lengths, std::vector<std::int32_t> indices, std::vector<float> data,
                   Index n_cols) {
  CsrMatrix m;
  m.n_rows = static_cast<Index>(lengths.size());
  m.n_cols = n_cols;
  m.indptr.assign(lengths.size() + 1, 0);
  for (std::size_t r = 0; r < lengths.size(); ++r) m.indptr[r + 1] = m.indptr[r] + lengths[r];
  DRIFTREC_ASSERT(static_cast<std::size_t>(m.indptr.back()) == indices.size() && indices.size() == data.size());
  m.indices.assign(indices.begin(), indices.end());
  m.data = std::move(data);
  return m;
}

}  // namespace

CsrMatrix exchange_sparse_rows(const Comm& c, const GhostPlan& plan, const CsrMatrix& rows) {
  std::vector<std::int64_t> lengths;
  std::vector<std::int32_t> indices;
  std::vector<float> data;
  std::vector<int> entries(static_cast<std::size_t>(c.size), 0);
  for (int q = 0, at = 0; q < c.size; at += plan.send_counts[q++]) {
    std::int64_t n = 0;
    for (int i = at; i < at + plan.send_counts[q]; ++i) {
      const Index r = plan.send_rows[i];
      lengths.push_back(rows.row_length(r));
      n += rows.row_length(r);
      for (Offset e = rows.indptr[r]; e < rows.indptr[r + 1]; ++e) {
        indices.push_back(static_cast<std::int32_t>(rows.indices[e]));
        data.push_back(rows.data[e]);
      }
    }
    entries[q] = checked(n, "sparse ghost rows");
  }
  std::uint64_t& counter = traffic().exchange_bytes;
  ++traffic().exchanges;
  std::vector<std::int64_t> got_lengths = alltoallv(c, lengths, plan.send_counts, counter);
  std::vector<std::int32_t> got_indices = alltoallv(c, indices, entries, counter);
  std::vector<float> got_data = alltoallv(c, data, entries, counter);
  DRIFTREC_ASSERT(got_lengths.size() == static_cast<std::size_t>(plan.ghosts()));
  return assemble(got_lengths, std::move(got_indices), std::move(got_data), rows.n_cols);
}

}  // namespace driftrec::mpi
