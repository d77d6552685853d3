// The replicated degree order of mpi/degree_order.hpp.
#include "mpi/degree_order.hpp"

#include <algorithm>
#include <numeric>

namespace driftrec::mpi {
namespace {

using graph::Index;
using graph::Offset;

// `previous` (ids in the previous order, or empty for id order) sorted stably by
// decreasing degree: the composition temporal_propagation.cpp makes of degree_order on a
// graph in the previous order and that order.
std::vector<Index> sorted_by_degree(const std::vector<Offset>& degree, const std::vector<Index>& previous) {
  std::vector<Index> out = previous;
  if (out.empty()) {
    out.resize(degree.size());
    std::iota(out.begin(), out.end(), Index{0});
  }
  std::stable_sort(out.begin(), out.end(), [&](Index a, Index b) { return degree[a] > degree[b]; });
  return out;
}

std::vector<Index> inverse(const std::vector<Index>& old_of_new) {
  std::vector<Index> inv(old_of_new.size());
  for (std::size_t p = 0; p < old_of_new.size(); ++p) inv[static_cast<std::size_t>(old_of_new[p])] = static_cast<Index>(p);
  return inv;
}

}  // namespace

void advance_order(const Comm& c, const Blocks& users, const Blocks& items, const graph::CsrMatrix& history,
                   bool decayed, const propagation::LabelPropagationOptions& options, GlobalOrder& order) {
  // Every user's row length (an allgather of the blocks) and every item's column count.
  std::vector<Offset> own(static_cast<std::size_t>(history.n_rows));
  for (Index r = 0; r < history.n_rows; ++r) own[r] = history.row_length(r);
  std::vector<int> counts(static_cast<std::size_t>(c.size));
  for (int q = 0; q < c.size; ++q) counts[q] = static_cast<int>(users.rows(q));
  const std::vector<int> at = displacements(counts);
  std::vector<Offset> user_degree(static_cast<std::size_t>(users.bounds.back()));
  MPI_Allgatherv(own.data(), counts[c.rank], MPI_INT64_T, user_degree.data(), counts.data(), at.data(), MPI_INT64_T,
                 c.comm);
  Offset nnz = 0;
  for (Offset d : user_degree) nnz += d;
  const bool history_ordered = decayed && order.ordered;
  if (!history_ordered && !options.reorders(nnz)) {
    order = GlobalOrder{};
    return;
  }
  std::vector<Offset> item_degree(static_cast<std::size_t>(items.bounds.back()), 0);
  for (Index j : history.indices) ++item_degree[j];
  MPI_Allreduce(MPI_IN_PLACE, item_degree.data(), static_cast<int>(item_degree.size()), MPI_INT64_T, MPI_SUM, c.comm);
  traffic().setup_bytes += (user_degree.size() - own.size() + item_degree.size()) * sizeof(Offset);

  GlobalOrder next;
  next.ordered = true;
  next.user_old = sorted_by_degree(user_degree, history_ordered ? order.user_old : std::vector<Index>{});
  next.item_old = sorted_by_degree(item_degree, history_ordered ? order.item_old : std::vector<Index>{});
  next.user_pos = inverse(next.user_old);
  next.item_pos = inverse(next.item_old);
  order = std::move(next);
}

}  // namespace driftrec::mpi
