// The split graph and its ghost exchange (mpi/distributed_graph.hpp).
#include "mpi/distributed_graph.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>
#include <utility>

#include <fmt/format.h>

namespace driftrec::mpi {
namespace {

using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

// As make_bipartite_graph (propagation/backend.cpp): 0 for an isolated vertex.
std::vector<float> inv_sqrt_row_sums(const CsrMatrix& m) {
  std::vector<float> out(static_cast<std::size_t>(m.n_rows));
  for (Index r = 0; r < m.n_rows; ++r) {
    double d = 0;  // in stored order, as the single process sums it
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) d += m.data[e];
    out[r] = d > 0 ? static_cast<float>(1.0 / std::sqrt(d)) : 0.0f;
  }
  return out;
}

int checked_count(std::int64_t n) {
  if (n > INT_MAX) throw InputError(fmt::format("{} values in one MPI message exceed MPI's int count; run on more ranks", n));
  return static_cast<int>(n);
}

// Which rows of m read only columns in [c0, c1) (the rank's own rows of the other side).
std::vector<char> interior_rows(const CsrMatrix& m, Index c0, Index c1) {
  std::vector<char> inside(static_cast<std::size_t>(m.n_rows), 1);
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e)
      if (m.indices[e] < c0 || m.indices[e] >= c1) {
        inside[r] = 0;
        break;
      }
  return inside;
}

// The rows of a block [b0, b0 + n) in local order: by position (by id without one), the
// interior rows first when `inside` is given (empty: block order).
std::vector<Index> local_order(Index b0, Index n, const std::vector<Index>& pos, const std::vector<char>* inside) {
  if (pos.empty() && !inside) return {};
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  if (!pos.empty()) std::sort(order.begin(), order.end(), [&](Index a, Index b) { return pos[b0 + a] < pos[b0 + b]; });
  if (inside) std::stable_partition(order.begin(), order.end(), [&](Index r) { return (*inside)[r] != 0; });
  for (std::size_t p = 0; p < order.size(); ++p)
    if (order[p] != static_cast<Index>(p)) return order;
  return {};  // block order after all (one rank, or no interior row moved)
}

// Row p of the result = row row_order[p] of m (empty: m's order), each row's edges sorted
// by col_pos of their column (empty: as stored). Column ids stay global.
CsrMatrix reordered(CsrMatrix m, const std::vector<Index>& row_order, const std::vector<Index>& col_pos) {
  if (row_order.empty() && col_pos.empty()) return m;
  CsrMatrix out;
  out.n_rows = m.n_rows;
  out.n_cols = m.n_cols;
  out.indptr.assign(static_cast<std::size_t>(m.n_rows) + 1, 0);
  const auto source = [&](Index p) { return row_order.empty() ? p : row_order[p]; };
  for (Index p = 0; p < m.n_rows; ++p) out.indptr[p + 1] = out.indptr[p] + m.row_length(source(p));
  out.indices.resize(m.indices.size());
  out.data.resize(m.data.size());
  std::vector<std::pair<Index, float>> row;
  for (Index p = 0; p < m.n_rows; ++p) {
    const Index r = source(p);
    row.clear();
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) row.emplace_back(m.indices[e], m.data[e]);
    if (!col_pos.empty())  // a row holds each column once: no ties
      std::sort(row.begin(), row.end(), [&](const auto& a, const auto& b) { return col_pos[a.first] < col_pos[b.first]; });
    Offset o = out.indptr[p];
    for (const auto& [j, v] : row) {
      out.indices[o] = j;
      out.data[o++] = v;
    }
  }
  return out;
}

std::vector<Index> inverse(const std::vector<Index>& order) {
  std::vector<Index> inv(order.size());
  for (std::size_t p = 0; p < order.size(); ++p) inv[static_cast<std::size_t>(order[p])] = static_cast<Index>(p);
  return inv;
}

// Renumbers rows' column ids (global, on `side`) into own rows (local order: own_local
// maps a row of the block to its local row, empty for block order) then ghost rows (by
// owner, then by `pos`, empty for by id), and agrees with the owners which rows each rank
// sends and where each ghost sits in its owner's local order.
GhostPlan plan_ghosts(const Comm& c, const Blocks& side, const std::vector<Index>& pos,
                      const std::vector<Index>& own_local, CsrMatrix& rows) {
  const Index b0 = side.begin(c.rank), b1 = side.end(c.rank), own = b1 - b0;
  const auto local = [&](Index j) { return own_local.empty() ? j - b0 : own_local[j - b0]; };
  GhostPlan plan;
  for (Index j : rows.indices)
    if (j < b0 || j >= b1) plan.ghost_ids.push_back(j);
  std::sort(plan.ghost_ids.begin(), plan.ghost_ids.end());
  plan.ghost_ids.erase(std::unique(plan.ghost_ids.begin(), plan.ghost_ids.end()), plan.ghost_ids.end());
  if (!pos.empty()) {  // owners are increasing in the id: (owner, position) as one key
    std::vector<std::pair<std::int64_t, Index>> keyed;
    keyed.reserve(plan.ghost_ids.size());
    for (Index j : plan.ghost_ids)
      keyed.emplace_back((static_cast<std::int64_t>(side.owner(j)) << 32) | static_cast<std::uint32_t>(pos[j]), j);
    std::sort(keyed.begin(), keyed.end());
    for (std::size_t g = 0; g < keyed.size(); ++g) plan.ghost_ids[g] = keyed[g].second;
  }
  std::vector<Index> compact(static_cast<std::size_t>(rows.n_cols), -1);
  for (Index j = b0; j < b1; ++j) compact[j] = local(j);
  for (std::size_t g = 0; g < plan.ghost_ids.size(); ++g) compact[plan.ghost_ids[g]] = own + static_cast<Index>(g);
  for (Index& j : rows.indices) j = compact[j];
  rows.n_cols = own + plan.ghosts();

  // Each owner's requests are one run of the ghosts.
  plan.recv_counts.assign(static_cast<std::size_t>(c.size), 0);
  for (Index j : plan.ghost_ids) ++plan.recv_counts[side.owner(j)];
  const std::vector<std::int32_t> wanted =
      alltoallv(c, std::vector<std::int32_t>(plan.ghost_ids.begin(), plan.ghost_ids.end()), plan.recv_counts,
                traffic().setup_bytes);
  plan.send_counts = exchange_counts(c, plan.recv_counts);
  plan.send_rows.resize(wanted.size());
  for (std::size_t i = 0; i < wanted.size(); ++i) plan.send_rows[i] = local(wanted[i]);
  plan.send_run.assign(static_cast<std::size_t>(c.size), -1);
  for (int q = 0, at = 0; q < c.size; at += plan.send_counts[q++]) {
    bool run = plan.send_counts[q] > 0;
    for (int i = at + 1; run && i < at + plan.send_counts[q]; ++i) run = plan.send_rows[i] == plan.send_rows[i - 1] + 1;
    if (run) plan.send_run[q] = plan.send_rows[at];
  }
  // Where each ghost sits in its owner's rows (Exchange::allgather reads it there).
  const std::vector<std::int32_t> at_owner = alltoallv(
      c, std::vector<std::int32_t>(plan.send_rows.begin(), plan.send_rows.end()), plan.send_counts,
      traffic().setup_bytes);
  plan.ghost_at_owner.assign(at_owner.begin(), at_owner.end());
  return plan;
}

}  // namespace

DistributedGraph distribute(const Comm& c, const Blocks& users, const Blocks& items, const CsrMatrix& history,
                            const GlobalOrder& order, bool interior_first) {
  DistributedGraph g;
  g.users = users;
  g.items = items;
  const Index u0 = users.begin(c.rank), i0 = items.begin(c.rank), ni = items.rows(c.rank);

  // W^T's rows: every edge to the owner of its item, in row order, so that each owner
  // receives its edges by increasing user (source ranks hold increasing user blocks).
  std::vector<int> counts(static_cast<std::size_t>(c.size), 0);
  std::vector<int> edge_owner(history.indices.size());
  for (std::size_t e = 0; e < history.indices.size(); ++e) ++counts[edge_owner[e] = items.owner(history.indices[e])];
  std::vector<int> next = displacements(counts);
  std::vector<std::int32_t> send_user(history.indices.size()), send_item(history.indices.size());
  std::vector<float> send_weight(history.indices.size());
  for (Index r = 0; r < history.n_rows; ++r)
    for (Offset e = history.indptr[r]; e < history.indptr[r + 1]; ++e) {
      const int at = next[edge_owner[e]]++;
      send_user[at] = u0 + r;
      send_item[at] = history.indices[e];
      send_weight[at] = history.data[e];
    }
  edge_owner = {};
  const auto recv_user = alltoallv(c, send_user, counts, traffic().setup_bytes);
  const auto recv_item = alltoallv(c, send_item, counts, traffic().setup_bytes);
  const auto recv_weight = alltoallv(c, send_weight, counts, traffic().setup_bytes);
  send_user = {};
  send_item = {};
  send_weight = {};

  CsrMatrix& t = g.item_rows;  // stable counting sort by item
  t.n_rows = ni;
  t.n_cols = users.bounds.back();
  t.indptr.assign(static_cast<std::size_t>(ni) + 1, 0);
  for (std::int32_t i : recv_item) ++t.indptr[i - i0 + 1];
  for (Index i = 0; i < ni; ++i) t.indptr[i + 1] += t.indptr[i];
  t.indices.resize(recv_item.size());
  t.data.resize(recv_item.size());
  std::vector<Offset> fill(t.indptr.begin(), t.indptr.end() - 1);
  for (std::size_t e = 0; e < recv_item.size(); ++e) {
    const Offset at = fill[recv_item[e] - i0]++;
    t.indices[at] = recv_user[e];
    t.data[at] = recv_weight[e];
  }

  // Local order and the single process's summation order (mpi/degree_order.hpp).
  std::vector<char> user_inside, item_inside;
  if (interior_first) {
    user_inside = interior_rows(history, i0, items.end(c.rank));
    item_inside = interior_rows(g.item_rows, u0, users.end(c.rank));
    g.interior_users = static_cast<Index>(std::count(user_inside.begin(), user_inside.end(), 1));
    g.interior_items = static_cast<Index>(std::count(item_inside.begin(), item_inside.end(), 1));
  }
  g.user_order = local_order(u0, history.n_rows, order.user_pos, interior_first ? &user_inside : nullptr);
  g.item_order = local_order(i0, ni, order.item_pos, interior_first ? &item_inside : nullptr);
  g.user_rows = reordered(history, g.user_order, order.item_pos);
  g.item_rows = reordered(std::move(g.item_rows), g.item_order, order.user_pos);
  g.user_inv_sqrt_degree = inv_sqrt_row_sums(g.user_rows);
  g.item_inv_sqrt_degree = inv_sqrt_row_sums(g.item_rows);
  g.item_ghosts = plan_ghosts(c, items, order.item_pos, inverse(g.item_order), g.user_rows);
  g.user_ghosts = plan_ghosts(c, users, order.user_pos, inverse(g.user_order), g.item_rows);
  // The ghosts' degrees come from their owners, once per period.
  g.user_inv_sqrt_degree.resize(static_cast<std::size_t>(g.user_rows.n_rows + g.user_ghosts.ghosts()));
  g.item_inv_sqrt_degree.resize(static_cast<std::size_t>(ni + g.item_ghosts.ghosts()));
  const std::uint64_t before = traffic().exchange_bytes;
  exchange_ghosts(c, g.user_ghosts, users, g.user_inv_sqrt_degree.data(), g.user_rows.n_rows, 1, Exchange::alltoall);
  exchange_ghosts(c, g.item_ghosts, items, g.item_inv_sqrt_degree.data(), ni, 1, Exchange::alltoall);
  traffic().setup_bytes += traffic().exchange_bytes - before;
  traffic().exchange_bytes = before;
  traffic().exchanges -= 2;
  return g;
}

void GhostTransfer::start(const Comm& c, const GhostPlan& plan, float* rows, Index own_rows, Index k) {
  DRIFTREC_ASSERT(requests_.empty());
  const std::size_t uk = static_cast<std::size_t>(k);
  ++traffic().exchanges;
  std::size_t packed = 0;
  for (int q = 0; q < c.size; ++q)
    if (plan.send_run[q] < 0) packed += static_cast<std::size_t>(plan.send_counts[q]);
  out_.resize(packed * uk);
  float* pack = out_.data();
  for (int q = 0, at = 0; q < c.size; at += plan.send_counts[q++]) {
    if (plan.send_run[q] >= 0) continue;
    for (int i = at; i < at + plan.send_counts[q]; ++i, pack += uk)
      std::copy_n(rows + static_cast<std::size_t>(plan.send_rows[i]) * uk, uk, pack);
  }
  // Receives first, so that a sender's rows can land in place as soon as they arrive.
  float* in = rows + static_cast<std::size_t>(own_rows) * uk;
  for (int q = 0; q < c.size; ++q) {
    const int n = checked_count(static_cast<std::int64_t>(plan.recv_counts[q]) * k);
    if (n == 0) continue;
    requests_.emplace_back();
    MPI_Irecv(in, n, MPI_FLOAT, q, kGhostTag, c.comm, &requests_.back());
    in += n;
  }
  const float* packed_rows = out_.data();
  for (int q = 0; q < c.size; ++q) {
    const int n = checked_count(static_cast<std::int64_t>(plan.send_counts[q]) * k);
    if (n == 0) continue;
    DRIFTREC_ASSERT(q != c.rank);  // a rank's ghosts are other ranks' rows
    traffic().exchange_bytes += static_cast<std::uint64_t>(n) * sizeof(float);
    const float* send = packed_rows;
    if (plan.send_run[q] >= 0) send = rows + static_cast<std::size_t>(plan.send_run[q]) * uk;
    else packed_rows += n;
    requests_.emplace_back();
    MPI_Isend(send, n, MPI_FLOAT, q, kGhostTag, c.comm, &requests_.back());
  }
}

bool GhostTransfer::test() {
  if (requests_.empty()) return true;
  int done = 0;
  MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE);
  if (done) requests_.clear();
  return done != 0;
}

void GhostTransfer::wait() {
  if (requests_.empty()) return;
  MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
  requests_.clear();
}

GhostTransfer::~GhostTransfer() {
  // Only reached with requests in flight when an exception left propagate_labels: the
  // buffers must outlive them.
  if (!requests_.empty()) MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
}

void exchange_ghosts(const Comm& c, const GhostPlan& plan, const Blocks& side, float* rows, Index own_rows, Index k,
                     Exchange how) {
  const std::size_t uk = static_cast<std::size_t>(k);
  if (how == Exchange::allgather) {
    ++traffic().exchanges;
    static std::vector<float> all;  // every block at its global rows; reused across calls
    all.resize(static_cast<std::size_t>(side.bounds.back()) * uk);
    std::vector<int> counts(static_cast<std::size_t>(c.size)), at(static_cast<std::size_t>(c.size));
    for (int q = 0; q < c.size; ++q) {
      counts[q] = checked_count(static_cast<std::int64_t>(side.rows(q)) * k);
      at[q] = checked_count(static_cast<std::int64_t>(side.begin(q)) * k);
    }
    traffic().exchange_bytes += static_cast<std::uint64_t>(own_rows) * uk * sizeof(float) * (c.size - 1);
    MPI_Allgatherv(rows, counts[c.rank], MPI_FLOAT, all.data(), counts.data(), at.data(), MPI_FLOAT, c.comm);
    std::size_t g = 0;
    for (int q = 0; q < c.size; ++q)
      for (int i = 0; i < plan.recv_counts[q]; ++i, ++g)
        std::copy_n(all.data() + static_cast<std::size_t>(side.begin(q) + plan.ghost_at_owner[g]) * uk, uk,
                    rows + (static_cast<std::size_t>(own_rows) + g) * uk);
    return;
  }
  GhostTransfer t;
  t.start(c, plan, rows, own_rows, k);
  t.wait();
}

}  // namespace driftrec::mpi

namespace driftrec::mpi {

propagation::DenseMatrix to_local(const propagation::DenseMatrix& block_rows, const std::vector<Index>& order) {
  if (order.empty()) return block_rows;
  propagation::DenseMatrix out(block_rows.rows(), block_rows.cols());
  for (std::size_t p = 0; p < order.size(); ++p) out.row(static_cast<Eigen::Index>(p)) = block_rows.row(order[p]);
  return out;
}

propagation::DenseMatrix to_block(const propagation::DenseMatrix& local_rows, const std::vector<Index>& order) {
  if (order.empty()) return local_rows;
  propagation::DenseMatrix out(local_rows.rows(), local_rows.cols());
  for (std::size_t p = 0; p < order.size(); ++p) out.row(order[p]) = local_rows.row(static_cast<Eigen::Index>(p));
  return out;
}

Boundary boundary_of(const Comm& c, const DistributedGraph& g) {
  std::uint64_t mine[2] = {0, static_cast<std::uint64_t>(g.item_ghosts.ghosts() + g.user_ghosts.ghosts())};
  for (const GhostPlan* plan : {&g.item_ghosts, &g.user_ghosts}) {
    std::vector<Index> rows = plan->send_rows;
    std::sort(rows.begin(), rows.end());
    mine[0] += static_cast<std::uint64_t>(std::unique(rows.begin(), rows.end()) - rows.begin());
  }
  std::uint64_t all[2] = {0, 0};
  MPI_Allreduce(mine, all, 2, MPI_UINT64_T, MPI_SUM, c.comm);
  return {all[0], all[1]};
}

}  // namespace driftrec::mpi
