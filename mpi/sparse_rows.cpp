// Sparse rows between ranks (mpi/sparse_rows.hpp): three MPI_Alltoallv (lengths, column
// ids, values) along a ghost plan; three MPI_Gatherv to rank 0.
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

CsrMatrix gather_csr_rows(const Comm& c, const CsrMatrix& rows, Index n_cols) {
  const std::size_t p = static_cast<std::size_t>(c.size);
  const int my_rows = rows.n_rows, my_entries = checked(rows.nnz(), "gathered rows");
  std::vector<int> row_counts(p), entry_counts(p);
  MPI_Gather(&my_rows, 1, MPI_INT, row_counts.data(), 1, MPI_INT, 0, c.comm);
  MPI_Gather(&my_entries, 1, MPI_INT, entry_counts.data(), 1, MPI_INT, 0, c.comm);
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(rows.n_rows));
  for (Index r = 0; r < rows.n_rows; ++r) lengths[r] = rows.row_length(r);
  std::vector<std::int32_t> indices(rows.indices.begin(), rows.indices.end());
  std::vector<std::int64_t> all_lengths;
  std::vector<std::int32_t> all_indices;
  std::vector<float> all_data;
  std::vector<int> row_at, entry_at;
  if (c.root()) {
    std::int64_t total = 0;
    for (int n : entry_counts) total += n;
    checked(total, "gathered rows");
    row_at = displacements(row_counts);
    entry_at = displacements(entry_counts);
    all_lengths.resize(static_cast<std::size_t>(row_at.back() + row_counts.back()));
    all_indices.resize(static_cast<std::size_t>(total));
    all_data.resize(static_cast<std::size_t>(total));
  }
  MPI_Gatherv(lengths.data(), my_rows, MPI_INT64_T, all_lengths.data(), row_counts.data(), row_at.data(), MPI_INT64_T,
              0, c.comm);
  MPI_Gatherv(indices.data(), my_entries, MPI_INT32_T, all_indices.data(), entry_counts.data(), entry_at.data(),
              MPI_INT32_T, 0, c.comm);
  MPI_Gatherv(rows.data.data(), my_entries, MPI_FLOAT, all_data.data(), entry_counts.data(), entry_at.data(), MPI_FLOAT,
              0, c.comm);
  if (!c.root()) return CsrMatrix{};
  return assemble(all_lengths, std::move(all_indices), std::move(all_data), n_cols);
}

std::vector<std::int32_t> gather_index_rows(const Comm& c, const std::int32_t* local, std::int64_t local_rows,
                                            std::int64_t cols, const std::vector<std::int64_t>& rows_per_rank) {
  std::vector<int> counts(static_cast<std::size_t>(c.size));
  for (int q = 0; q < c.size; ++q) counts[q] = checked(rows_per_rank[q] * cols, "gathered rows");
  const std::vector<int> d = displacements(counts);
  std::vector<std::int32_t> all;
  if (c.root()) all.resize(static_cast<std::size_t>(d.back() + counts.back()));
  MPI_Gatherv(local, checked(local_rows * cols, "gathered rows"), MPI_INT32_T, all.data(), counts.data(), d.data(),
              MPI_INT32_T, 0, c.comm);
  return all;
}

}  // namespace driftrec::mpi
