// The distributed ALS sweeps of mpi/als.hpp.
#include "mpi/als.hpp"

#include <fmt/format.h>

#include "mpi/clock.hpp"

namespace driftrec::mpi {

namespace mf = matrix_factorization;
using graph::Index;

Eigen::MatrixXd distributed_gram(const Comm& c, const Blocks& side, const mf::Factors& own, mf::Solver solver,
                                 AlsTraffic& traffic) {
  const Index n = side.bounds.back(), b0 = side.begin(c.rank), b1 = side.end(c.rank);
  const int f = static_cast<int>(own.cols()), blocks = mf::gram_block_count(n);
  // The rows of blocks that start on an earlier rank go to that rank (only the block
  // holding b0 can: a block starting before b0 and ending past it).
  std::vector<int> send_counts(static_cast<std::size_t>(c.size), 0);
  std::vector<float> send;
  for (int b = 0; b < blocks; ++b) {
    const Index lo = static_cast<Index>(mf::gram_block_begin(n, b)), hi = static_cast<Index>(mf::gram_block_begin(n, b + 1));
    const Index from = std::max(lo, b0), to = std::min(hi, b1);
    if (from >= to || lo >= b0) continue;
    const int head = side.owner(lo);
    send_counts[head] += (to - from) * f;
    send.insert(send.end(), own.row(from - b0).data(), own.row(from - b0).data() + static_cast<std::size_t>(to - from) * f);
  }
  const std::vector<float> tail = alltoallv(c, send, send_counts, traffic.gram_bytes);  // by source rank = by row

  // The partials of the blocks that start here, lower triangles (the rest is 0) in block
  // order; heads increase with the block, so the allgather in rank order is block order.
  const std::size_t tri = static_cast<std::size_t>(f) * static_cast<std::size_t>(f + 1) / 2;
  std::vector<int> counts(static_cast<std::size_t>(c.size), 0);
  for (int b = 0; b < blocks; ++b) counts[side.owner(static_cast<Index>(mf::gram_block_begin(n, b)))] += static_cast<int>(tri);
  std::vector<double> mine;
  mine.reserve(static_cast<std::size_t>(counts[c.rank]));
  std::vector<float> rows;
  for (int b = 0; b < blocks; ++b) {
    const Index lo = static_cast<Index>(mf::gram_block_begin(n, b)), hi = static_cast<Index>(mf::gram_block_begin(n, b + 1));
    if (side.owner(lo) != c.rank) continue;
    const float* first = own.row(lo - b0).data();
    Eigen::Index count = std::min(hi, b1) - lo;
    if (hi > b1) {  // the block's rows on the next ranks follow in row order
      DRIFTREC_ASSERT(static_cast<Index>(tail.size()) == (hi - b1) * f);
      rows.assign(first, first + static_cast<std::size_t>(count) * f);
      rows.insert(rows.end(), tail.begin(), tail.end());
      first = rows.data();
      count = hi - lo;
    }
    const Eigen::MatrixXd p = mf::gram_block_partial(first, count, f, solver);
    for (int j = 0; j < f; ++j)
      for (int i = j; i < f; ++i) mine.push_back(p(i, j));
  }
  DRIFTREC_ASSERT(mine.size() == static_cast<std::size_t>(counts[c.rank]));
  traffic.gram_bytes += mine.size() * sizeof(double) * static_cast<std::size_t>(c.size - 1);
  const std::vector<int> at = displacements(counts);
  std::vector<double> all(static_cast<std::size_t>(blocks) * tri);
  MPI_Allgatherv(mine.data(), counts[c.rank], MPI_DOUBLE, all.data(), counts.data(), at.data(), MPI_DOUBLE, c.comm);
  std::vector<Eigen::MatrixXd> blocks_out(static_cast<std::size_t>(blocks), Eigen::MatrixXd::Zero(f, f));
  const double* next = all.data();
  for (int b = 0; b < blocks; ++b)
    for (int j = 0; j < f; ++j)
      for (int i = j; i < f; ++i) blocks_out[b](i, j) = *next++;
  return mf::gram_from_partials(blocks_out, f);
}

namespace {

// One half-sweep: `solved` (own rows of one side) against the other side's own rows and
// ghosts. `side_name` and `first_row` name a failed row as the single process does.
void half_sweep(const Comm& c, const graph::CsrMatrix& ratings, const GhostPlan& ghosts, const Blocks& fixed_side,
                const mf::Factors& fixed_own, mf::Factors& solved, const mf::AlsOptions& options,
                const mf::DriftPrior& prior, const char* side_name, Index first_row, int sweep, AlsTraffic& traffic) {
  auto t0 = Clock::now();
  const Eigen::MatrixXd yty = distributed_gram(c, fixed_side, fixed_own, options.solver, traffic);
  traffic.gram_seconds += since(t0);
  t0 = Clock::now();
  const Index own = static_cast<Index>(fixed_own.rows());
  mf::Factors fixed(own + ghosts.ghosts(), fixed_own.cols());
  fixed.topRows(own) = fixed_own;
  const std::uint64_t before = mpi::traffic().exchange_bytes;
  exchange_ghosts(c, ghosts, fixed_side, fixed.data(), own, static_cast<Index>(fixed.cols()), Exchange::alltoall);
  traffic.factor_bytes += mpi::traffic().exchange_bytes - before;
  traffic.exchange_seconds += since(t0);
  t0 = Clock::now();
  run_phase(c, [&] {
    try {
      mf::solve_rows_with_gram(ratings, fixed, solved, options, prior, yty, options.threads);
    } catch (const NumericalError& e) {
      throw NumericalError(fmt::format("implicit ALS: {} factors, sweep {} (rows from {} on): {}", side_name, sweep,
                                       first_row, e.what()));
    }
  });
  traffic.solve_seconds += since(t0);
}

}  // namespace

void distributed_sweeps(const Comm& c, const DistributedGraph& g, mf::Factors& users, mf::Factors& items,
                        const mf::AlsOptions& options, const mf::DriftPrior& user_prior, AlsTraffic& traffic) {
  DRIFTREC_ASSERT(g.user_order.empty() && g.item_order.empty());  // rows in block order
  for (int sweep = 1; sweep <= options.iterations; ++sweep) {
    half_sweep(c, g.user_rows, g.item_ghosts, g.items, items, users, options, user_prior, "user",
               g.users.begin(c.rank), sweep, traffic);
    half_sweep(c, g.item_rows, g.user_ghosts, g.users, users, items, options, {}, "item", g.items.begin(c.rank),
               sweep, traffic);
  }
}

}  // namespace driftrec::mpi
