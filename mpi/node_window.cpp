// The node-local shared windows of mpi/node_window.hpp.
#include "mpi/node_window.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace driftrec::mpi {

using graph::Index;

NodeGroup::NodeGroup(const Comm& c) {
  MPI_Comm shared;
  MPI_Comm_split_type(c.comm, MPI_COMM_TYPE_SHARED, c.rank, MPI_INFO_NULL, &shared);
  int shared_rank = 0;
  MPI_Comm_rank(shared, &shared_rank);
  const char* group = std::getenv("DRIFTREC_MPI_NODE_RANKS");
  const int n = group ? std::atoi(group) : 0;
  if (n > 0) {  // emulated nodes of n ranks (tests)
    MPI_Comm_split(shared, shared_rank / n, shared_rank, &comm_);
    MPI_Comm_free(&shared);
  } else {
    comm_ = shared;
  }
  MPI_Comm_rank(comm_, &rank_);
  // Every rank of c learns which node rank each rank of c is on its own node.
  int node_id = c.rank;  // the lowest c rank of the node names it
  MPI_Allreduce(&c.rank, &node_id, 1, MPI_INT, MPI_MIN, comm_);
  std::vector<int> ids(static_cast<std::size_t>(c.size)), ranks(static_cast<std::size_t>(c.size));
  MPI_Allgather(&node_id, 1, MPI_INT, ids.data(), 1, MPI_INT, c.comm);
  MPI_Allgather(&rank_, 1, MPI_INT, ranks.data(), 1, MPI_INT, c.comm);
  node_rank_of_.assign(static_cast<std::size_t>(c.size), -1);
  for (int q = 0; q < c.size; ++q)
    if (ids[q] == node_id) node_rank_of_[q] = ranks[q];
}

NodeGroup::~NodeGroup() {
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

SharedRows::SharedRows(const NodeGroup& node, Index rows, Index k)
    : comm_(node.comm()), rank_(node.rank()), k_(static_cast<std::size_t>(k)) {
  int size = 0;
  MPI_Comm_size(comm_, &size);
  std::vector<Index> counts(static_cast<std::size_t>(size));
  MPI_Allgather(&rows, 1, MPI_INT32_T, counts.data(), 1, MPI_INT32_T, comm_);
  first_.assign(static_cast<std::size_t>(size) + 1, 0);
  for (int q = 0; q < size; ++q) first_[q + 1] = first_[q] + counts[q];
  // Contiguous in node-rank order (MPI-3's default for MPI_Win_allocate_shared).
  float* mine = nullptr;
  MPI_Win_allocate_shared(static_cast<MPI_Aint>(rows) * static_cast<MPI_Aint>(k_ * sizeof(float)), sizeof(float),
                          MPI_INFO_NULL, comm_, &mine, &win_);
  MPI_Aint bytes = 0;
  int unit = 0;
  MPI_Win_shared_query(win_, MPI_PROC_NULL, &bytes, &unit, &base_);  // the lowest rank with memory
  // With no rows anywhere base_ may be null; otherwise rank 0's segment starts the window.
  DRIFTREC_ASSERT(first_.back() == 0 || mine == base_ + static_cast<std::size_t>(first_[rank_]) * k_ || rows == 0);
  MPI_Win_lock_all(MPI_MODE_NOCHECK, win_);
}

SharedRows::~SharedRows() {
  MPI_Win_unlock_all(win_);
  MPI_Win_free(&win_);
}

void SharedRows::sync() const {
  MPI_Win_sync(win_);
  MPI_Barrier(comm_);
  MPI_Win_sync(win_);
}

GhostPlan off_node(const GhostPlan& plan, const NodeGroup& node) {
  GhostPlan out;
  const std::size_t ranks = plan.send_counts.size();
  out.send_counts.assign(ranks, 0);
  out.recv_counts.assign(ranks, 0);
  out.send_run.assign(ranks, -1);
  for (std::size_t q = 0, at = 0, g = 0; q < ranks; at += plan.send_counts[q], g += plan.recv_counts[q], ++q) {
    if (node.node_rank_of(static_cast<int>(q)) >= 0) continue;
    out.send_counts[q] = plan.send_counts[q];
    out.send_run[q] = plan.send_run[q];
    out.send_rows.insert(out.send_rows.end(), plan.send_rows.begin() + at, plan.send_rows.begin() + at + plan.send_counts[q]);
    out.recv_counts[q] = plan.recv_counts[q];
    out.ghost_ids.insert(out.ghost_ids.end(), plan.ghost_ids.begin() + g, plan.ghost_ids.begin() + g + plan.recv_counts[q]);
    out.ghost_at_owner.insert(out.ghost_at_owner.end(), plan.ghost_at_owner.begin() + g,
                              plan.ghost_at_owner.begin() + g + plan.recv_counts[q]);
  }
  return out;
}

std::vector<Index> window_columns(const GhostPlan& plan, Index own, const NodeGroup& node, const SharedRows& side) {
  std::vector<Index> map(static_cast<std::size_t>(own + plan.ghosts()));
  const Index mine = side.first_row(node.rank());
  for (Index j = 0; j < own; ++j) map[j] = mine + j;
  Index off = mine + own;  // the next off-node ghost's row
  std::size_t g = 0;
  for (std::size_t q = 0; q < plan.recv_counts.size(); ++q) {
    const int r = node.node_rank_of(static_cast<int>(q));
    for (int i = 0; i < plan.recv_counts[q]; ++i, ++g)
      map[static_cast<std::size_t>(own) + g] = r >= 0 ? side.first_row(r) + plan.ghost_at_owner[g] : off++;
  }
  return map;
}

graph::CsrMatrix with_columns(const graph::CsrMatrix& m, const std::vector<Index>& map, Index n_cols) {
  graph::CsrMatrix out = m;
  for (Index& j : out.indices) j = map[j];
  out.n_cols = n_cols;
  return out;
}

std::vector<float> with_columns(const std::vector<float>& scale, const std::vector<Index>& map, Index n_cols) {
  std::vector<float> out(static_cast<std::size_t>(n_cols), 0.0f);
  for (std::size_t j = 0; j < map.size(); ++j) out[map[j]] = scale[j];
  return out;
}

}  // namespace driftrec::mpi
