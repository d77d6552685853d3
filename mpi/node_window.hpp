// Label propagation's operands in node-local shared memory (MPI-3 shared windows), the
// path of Exchange::shared (mpi/label_propagation.hpp).
//
// Why: with the ghost exchange every rank holds its own rows plus a private copy of every
// remote row it reads, so on one node the rows read by several ranks sit in memory (and
// pass through the shared L3) once per rank, and each half-step copies them. Measured on
// the 2^24-edge R-MAT at 2 ranks on this 2-core machine (bench/mpi/README.md, --probe):
// the half-step kernels reading one shared copy took about 9% less CPU than on the private
// copies, besides the exchange they no longer need.
//
// Layout: the ranks of one node (MPI_COMM_TYPE_SHARED) allocate one window per side; rank
// r's segment holds its own rows in its local order, then the ghost rows it receives from
// ranks on other nodes (the existing exchange, restricted to them). The segments are
// contiguous in node-rank order, so every row a rank reads is one row of the window: a
// node neighbour's row at the neighbour's segment + its local row (GhostPlan::ghost_at_owner),
// an off-node ghost in the rank's own segment. The half-step matrices get their columns
// renumbered into window rows (window_columns); the kernel, the edges and their order are
// unchanged, so every sum is the same bits.
//
// Synchronisation: the windows are locked for the whole run (MPI_Win_lock_all); after each
// half-step sync() (MPI_Win_sync, a barrier of the node, MPI_Win_sync) makes every rank's
// new rows visible before any rank reads them, and keeps any rank from overwriting rows
// another is still reading. Each rank writes only its own segment.
//
// DRIFTREC_MPI_NODE_RANKS=n (tests) cuts each node into groups of n consecutive ranks, so
// one machine exercises the mixed path (shared on the group, exchange between groups).
#pragma once
#include <vector>

#include "graph/csr.hpp"
#include "mpi/comm.hpp"
#include "mpi/distributed_graph.hpp"

namespace driftrec::mpi {

// The ranks of c that share memory with this one.
class NodeGroup {
 public:
  explicit NodeGroup(const Comm& c);  // collective
  NodeGroup(const NodeGroup&) = delete;
  NodeGroup& operator=(const NodeGroup&) = delete;
  ~NodeGroup();
  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int node_rank_of(int q) const { return node_rank_of_[static_cast<std::size_t>(q)]; }  // -1: another node

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  std::vector<int> node_rank_of_;
};

// One side's rows (k floats each) in a window of the node: this rank's segment holds
// `rows` rows (own rows, then off-node ghosts).
class SharedRows {
 public:
  SharedRows(const NodeGroup& node, graph::Index rows, graph::Index k);  // collective on the node
  SharedRows(const SharedRows&) = delete;
  SharedRows& operator=(const SharedRows&) = delete;
  ~SharedRows();  // collective on the node
  float* mine() const { return base_ + static_cast<std::size_t>(first_[rank_]) * k_; }
  const float* base() const { return base_; }
  graph::Index total_rows() const { return first_.back(); }
  graph::Index first_row(int node_rank) const { return first_[static_cast<std::size_t>(node_rank)]; }
  void sync() const;  // collective on the node

 private:
  MPI_Comm comm_;
  MPI_Win win_ = MPI_WIN_NULL;
  float* base_ = nullptr;
  int rank_ = 0;
  std::size_t k_ = 0;
  std::vector<graph::Index> first_;  // first row of each node rank's segment; last: total
};

// The part of `plan` that crosses nodes: the rows sent to and the ghosts received from
// ranks of other nodes, in the same order.
GhostPlan off_node(const GhostPlan& plan, const NodeGroup& node);

// For the compact columns [own rows; plan's ghosts] of the half-step that reads `side`:
// the window row of each (own rows in this rank's segment, a node neighbour's rows in its
// segment, off-node ghosts after this rank's own rows, in plan order).
std::vector<graph::Index> window_columns(const GhostPlan& plan, graph::Index own, const NodeGroup& node,
                                         const SharedRows& side);

// m with column j renamed map[j] (n_cols columns); scale likewise (0 where no column maps).
graph::CsrMatrix with_columns(const graph::CsrMatrix& m, const std::vector<graph::Index>& map, graph::Index n_cols);
std::vector<float> with_columns(const std::vector<float>& scale, const std::vector<graph::Index>& map,
                                graph::Index n_cols);

}  // namespace driftrec::mpi
