// One period's graph (the decayed history G_t) split across ranks for label propagation:
// each rank holds the rows of its user block (W) and of its item block (W^T), with the
// column ids renumbered into a compact space: the rank's own rows first, then the ghost
// rows (remote rows its edges reach) in increasing global id, which is owner-rank order.
// A half-step then runs the CPU kernel (propagation/cpu/spmm.hpp) unchanged on the local
// rows, reading its operand from [own rows; ghost rows].
//
// Equal to one process, bit for bit: without a degree order the edges of each row keep
// their stored order (W's rows are read as stored; W^T's rows come out of the edge exchange
// in increasing user id, as graph::transpose builds them); with one (mpi/degree_order.hpp)
// each row's edges are sorted by their column's position, as propagation::relabel and the
// transpose of the relabelled W have them. Degrees are summed in double in that same
// order, and the kernel sums each row in stored order whatever the thread count. Only the
// numbering of the rows and columns changes, which no sum sees.
//
// Local order: with a degree order a rank's own rows are numbered by position (row_order
// maps them back to the block) and its ghost rows by (owner, position), so the rows most
// edges read are packed at the start of each region, as in the single process's relabelled
// graph (this is where the single process's 1.4-1.5x at 2^24 edges comes from). Ghosts
// stay grouped by owner, so each exchange still receives one run per source rank in place.
//
// Ghost exchange (GhostPlan): each rank sends, to each other rank, exactly the rows of its
// block that the other's edges reach, once per half-step (MPI_Isend / MPI_Irecv to and
// from the ranks it shares edges with): the boundary rows, the lower bound for a rank that
// has no copy of them. The alternative, Exchange::allgather, sends every rank's whole
// block to every rank (MPI_Allgatherv); it is kept to measure the choice (bench/mpi).
//
// Overlap (interior_first): a rank's interior rows are those whose edges all reach its own
// rows of the other side; they need no ghost row, so label propagation computes them while
// the ghosts travel (GhostTransfer) and the boundary rows after. With interior_first the
// local order puts the interior rows first (each part in the order above), so both parts
// are row ranges; a row's edges and their order do not change.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"
#include "mpi/comm.hpp"
#include "mpi/degree_order.hpp"
#include "mpi/partition.hpp"

namespace driftrec::mpi {

// How the ghost rows reach a rank: alltoall (each rank sends exactly the rows another reads),
// allgather (every block to every rank), or shared: label propagation keeps the ranks of
// one node in shared windows (mpi/node_window.hpp, no copy) and sends only the rows ranks
// of other nodes read as alltoall does; every other exchange treats shared as alltoall.
enum class Exchange { alltoall, allgather, shared };

// Which of a rank's own rows go to which rank, and how many ghost rows it receives.
struct GhostPlan {
  std::vector<int> send_counts;            // rows, per destination rank
  std::vector<graph::Index> send_rows;     // local row ids, grouped by destination
  // Per destination: the first of its rows when they are consecutive local rows in
  // increasing order (sent in place, without packing; with 2 ranks and interior_first
  // every destination's are: the boundary rows), else -1.
  std::vector<graph::Index> send_run;
  std::vector<int> recv_counts;            // rows, per source rank
  std::vector<graph::Index> ghost_at_owner; // each ghost's local row on its owner
  std::vector<graph::Index> ghost_ids;     // global ids of the ghost rows: by owner, then by
                                           // position (by id without a degree order)
  graph::Index ghosts() const { return static_cast<graph::Index>(ghost_ids.size()); }
};

struct DistributedGraph {
  Blocks users, items;
  graph::CsrMatrix user_rows;  // own users x compact items (own items, then ghost items)
  graph::CsrMatrix item_rows;  // own items x compact users
  std::vector<float> user_inv_sqrt_degree;  // own users, then ghost users
  std::vector<float> item_inv_sqrt_degree;  // own items, then ghost items
  GhostPlan item_ghosts;  // read by the users half-step
  GhostPlan user_ghosts;  // read by the items half-step
  // Local row -> row of the block (global id - begin), for users and items; empty when the
  // rows are in block order (no degree order).
  std::vector<graph::Index> user_order, item_order;
  // With interior_first: local rows [0, interior_users) read no ghost item, and
  // [0, interior_items) no ghost user; 0 otherwise.
  graph::Index interior_users = 0, interior_items = 0;

  graph::Index own_users() const { return user_rows.n_rows; }
  graph::Index own_items() const { return item_rows.n_rows; }
};

// Collective. `history`: this rank's user rows of G_t (users.rows(rank) x all items,
// global column ids, finite weights >= 0); `order`: G_t's degree order (advance_order) or
// an unordered GlobalOrder; `interior_first`: put each side's interior rows first (label
// propagation's overlap; ALS keeps block order).
DistributedGraph distribute(const Comm& c, const Blocks& users, const Blocks& items, const graph::CsrMatrix& history,
                            const GlobalOrder& order, bool interior_first = false);

// Collective: what one exchange of both sides' ghost rows must carry at least, over the
// ranks: the distinct rows some other rank reads, and the (row, reading rank) pairs.
struct Boundary {
  std::uint64_t rows = 0, pairs = 0;
};
Boundary boundary_of(const Comm& c, const DistributedGraph& g);

// Rows of the block (block order) into local order and back, k floats per row.
propagation::DenseMatrix to_local(const propagation::DenseMatrix& block_rows, const std::vector<graph::Index>& order);
propagation::DenseMatrix to_block(const propagation::DenseMatrix& local_rows, const std::vector<graph::Index>& order);

// One alltoall ghost exchange in flight: start() packs the rows the plan sends to each rank
// unless they are one run of `rows` (GhostPlan::send_run), and posts the receives into the
// ghost rows and the sends; the ghost rows are complete after wait(), and until then
// `rows`' own rows must not change (they may be what is being sent). test() lets MPI progress the transfer (OpenMPI
// moves shared-memory messages only inside MPI calls); call it between pieces of work.
// Every rank that shares ghosts with this one must start the same exchange. The calling
// thread must be the one that initialised MPI (MPI_THREAD_FUNNELED).
class GhostTransfer {
 public:
  GhostTransfer() = default;
  GhostTransfer(const GhostTransfer&) = delete;
  GhostTransfer& operator=(const GhostTransfer&) = delete;
  ~GhostTransfer();
  void start(const Comm& c, const GhostPlan& plan, float* rows, graph::Index own_rows, graph::Index k);
  bool test();  // true once complete
  void wait();

 private:
  static constexpr int kGhostTag = 4242;
  std::vector<float> out_;  // the packed rows, grouped by destination; reused across starts
  std::vector<MPI_Request> requests_;
};

// Collective: fills the ghost rows of `rows` (own rows, then plan.ghosts() ghost rows,
// k floats each) from their owners; `side` is that side's blocks (Exchange::allgather
// places every block at its global rows).
void exchange_ghosts(const Comm& c, const GhostPlan& plan, const Blocks& side, float* rows, graph::Index own_rows,
                     graph::Index k, Exchange how);

}  // namespace driftrec::mpi
