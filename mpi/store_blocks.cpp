// The shared start of driftrec-mpi's store jobs (mpi/store_blocks.hpp).
#include "mpi/store_blocks.hpp"

#include <cmath>

#include <fmt/format.h>

#include "io/store.hpp"

namespace driftrec::mpi {

using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

namespace {

// Blocks over `rows` balanced by `counts` (this rank's share of per-row counts, for rows
// [share.begin(rank), share.end(rank))), gathered to every rank.
Blocks blocks_from_counts(const Comm& c, const Blocks& share, const std::vector<Offset>& counts) {
  std::vector<int> n(static_cast<std::size_t>(c.size));
  for (int q = 0; q < c.size; ++q) n[q] = static_cast<int>(share.rows(q));
  const std::vector<int> at = displacements(n);
  std::vector<Offset> all(static_cast<std::size_t>(share.bounds.back()));
  MPI_Allgatherv(counts.data(), n[c.rank], MPI_INT64_T, all.data(), n.data(), at.data(), MPI_INT64_T, c.comm);
  std::vector<Offset> prefix(all.size() + 1, 0);
  for (std::size_t r = 0; r < all.size(); ++r) prefix[r + 1] = prefix[r] + all[r];
  return balanced_blocks(prefix, c.size);
}

}  // namespace

Stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(fmt::format("{}: cannot stat the store", path));
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

std::unique_ptr<io::StoreWriter> open_writer(const std::string& path, const Stamp& read, int threads) {
  auto writer = std::make_unique<io::StoreWriter>(path, io::StoreWriter::Amend{}, threads);
  if (!(stamp_of(path) == read))
    throw InputError(fmt::format("{}: the store was changed by another writer while driftrec-mpi read it; run again",
                                 path));
  return writer;
}

StoreShape job_store_shape(const Comm& c, const std::string& store, std::optional<Stamp>& stamp) {
  if (c.root()) stamp = stamp_of(store);
  StoreShape shape = read_store_shape(store);
  if (shape.slices == 0) throw InputError(fmt::format("{}: the store has no slices", store));
  return shape;
}

// Weights finite and >= 0, as pipeline::checked_slice requires; rows and columns named by
// their global ids (this rank has no id strings).
void check_weights(const CsrMatrix& m, std::size_t period, Index row0, const std::string& store) {
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e)
      if (!std::isfinite(m.data[e]) || m.data[e] < 0)
        throw InputError(fmt::format("{}: slice {}: the weight of user row {}, item column {} is {}; "
                                     "weights must be finite and >= 0",
                                     store, period, row0 + r, m.indices[e], m.data[e]));
}

BlockedSlices read_blocked_slices(const Comm& c, ParallelStore& ps, const StoreShape& shape) {
  BlockedSlices b;
  b.slices.resize(shape.slices);
  const Blocks share = even_blocks(shape.users, c.size);
  std::vector<Offset> user_counts(static_cast<std::size_t>(share.rows(c.rank)), 0);
  for (std::size_t t = 0; t < shape.slices; ++t) {
    const auto counts = ps.row_counts(io::slice_group_name(t), share.begin(c.rank), share.end(c.rank));
    for (std::size_t r = 0; r < counts.size(); ++r) user_counts[r] += counts[r];
  }
  b.users = blocks_from_counts(c, share, user_counts);
  std::vector<Offset> item_counts(static_cast<std::size_t>(shape.items), 0);
  for (std::size_t t = 0; t < shape.slices; ++t) {
    b.slices[t] = ps.read_csr_rows(io::slice_group_name(t), b.users.begin(c.rank), b.users.end(c.rank), shape.items);
    for (Index j : b.slices[t].indices) ++item_counts[j];
  }
  MPI_Allreduce(MPI_IN_PLACE, item_counts.data(), static_cast<int>(item_counts.size()), MPI_INT64_T, MPI_SUM, c.comm);
  std::vector<Offset> prefix(item_counts.size() + 1, 0);
  for (std::size_t i = 0; i < item_counts.size(); ++i) prefix[i + 1] = prefix[i] + item_counts[i];
  b.items = balanced_blocks(prefix, c.size);
  return b;
}

BlockedSlices read_blocked_slices(const Comm& c, const std::string& path, const StoreShape& shape) {
  std::unique_ptr<ParallelStore> ps;
  run_phase(c, [&] { ps = std::make_unique<ParallelStore>(c, path); });
  return read_blocked_slices(c, *ps, shape);
}

}  // namespace driftrec::mpi
