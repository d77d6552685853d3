// `driftrec-mpi propagate --method p3alpha|rp3beta|ppr` (mpi/walk_job.hpp).
#include "mpi/walk_job.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "io/result_name.hpp"
#include "io/walk_result.hpp"
#include "mpi/pagerank.hpp"
#include "mpi/parallel_store.hpp"
#include "mpi/sparse_rows.hpp"
#include "mpi/store_blocks.hpp"
#include "mpi/walk_similarity.hpp"

namespace driftrec::mpi {

namespace pr = propagation;
using graph::CsrMatrix;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Distinct rows some other rank reads, over both sides (the lower bound of one exchange).
std::uint64_t boundary_rows(const Comm& c, const DistributedGraph& g) {
  std::uint64_t distinct = 0;
  for (const GhostPlan* plan : {&g.item_ghosts, &g.user_ghosts}) {
    std::vector<graph::Index> rows = plan->send_rows;
    std::sort(rows.begin(), rows.end());
    distinct += static_cast<std::uint64_t>(std::unique(rows.begin(), rows.end()) - rows.begin());
  }
  return sum_all(c, distinct);
}

}  // namespace

WalkSummary walk_store(const Comm& c, const WalkRequest& q) {
  const auto t_start = Clock::now();
  WalkSummary s;
  s.store = q.store;
  s.method = q.method;
  s.result = q.name.empty() ? q.method : q.name;
  s.ranks = c.size;
  s.threads = q.threads;
  s.walk = q.walk;
  StoreShape shape;
  std::optional<Stamp> stamp;
  run_phase(c, [&] {
    if (!pipeline::is_walk_method(q.method))
      throw InputError(fmt::format("method: expected label, p3alpha, rp3beta or ppr, found '{}'", q.method));
    io::check_result_name(s.result);
    if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
    pipeline::validate_walk(q.method, q.walk);
    if (c.root()) stamp = stamp_of(q.store);
    shape = read_store_shape(q.store);
    if (shape.slices == 0) throw InputError(fmt::format("{}: the store has no slices", q.store));
  });
  s.periods = shape.slices;

  // Partition, collective reads, and G's rows, decayed as the single process decays them.
  CsrMatrix history;
  Blocks users, items;
  {
    std::unique_ptr<ParallelStore> ps;
    run_phase(c, [&] { ps = std::make_unique<ParallelStore>(c, q.store); });
    BlockedSlices blocked = read_blocked_slices(c, *ps, shape);
    users = std::move(blocked.users);
    items = std::move(blocked.items);
    run_phase(c, [&] {
      for (std::size_t t = 0; t < shape.slices; ++t) {
        inject_fault(c, t);
        check_weights(blocked.slices[t], t, users.begin(c.rank), q.store);
        history = t == 0 ? std::move(blocked.slices[0]) : graph::decay_step(history, blocked.slices[t], q.walk.gamma);
        blocked.slices[t] = CsrMatrix{};
      }
    });
  }
  s.read_seconds = since(t_start);
  for (graph::Index b : users.bounds) s.user_blocks.push_back(b);
  for (graph::Index b : items.bounds) s.item_blocks.push_back(b);

  // Rank 0 alone writes: the writer lock, then the check that the store is the one read.
  std::unique_ptr<io::StoreWriter> writer;
  run_phase(c, [&] {
    if (c.root()) writer = open_writer(q.store, *stamp, q.threads);
  });

  const auto t_setup = Clock::now();
  const DistributedGraph g = distribute(c, users, items, history, GlobalOrder{}, /*interior_first=*/false);
  s.graph_nnz = static_cast<std::int64_t>(sum_all(c, static_cast<std::uint64_t>(history.nnz())));
  s.boundary_rows = boundary_rows(c, g);
  s.boundary_pairs = sum_all(c, static_cast<std::uint64_t>(g.item_ghosts.ghosts() + g.user_ghosts.ghosts()));
  s.setup_seconds = since(t_setup);

  const auto t_compute = Clock::now();
  const std::uint64_t bytes_before = traffic().exchange_bytes;
  const pr::RecommendOptions recommend = pipeline::top_options(q.walk, q.threads);
  io::WalkResult w;
  w.method = q.method;
  w.slicing = shape.slicing;
  w.periods = static_cast<std::int64_t>(shape.slices);
  w.gamma = q.walk.gamma;
  if (q.method == "ppr") {
    const pr::PageRankOptions o = pipeline::pagerank_options(q.walk, q.threads);
    PageRankPart p;
    try {
      p = distributed_pagerank(c, g, o, recommend, q.exchange);
    } catch (const NumericalError& e) {  // every rank throws it: the residual is global
      throw RankFailure(0, 2, e.what());
    }
    w.top = std::move(p.top);
    w.restart_probability = o.restart_probability;
    w.tolerance = o.tolerance;
    w.max_iterations = o.max_iterations;
    w.iterations = s.iterations = p.iterations;
    w.residual = s.residual = p.residual;
    w.converged = s.converged = p.converged;
    s.kernel_seconds = p.kernel_seconds;
    s.column_iterations = p.column_iterations;
    s.exchange_seconds = p.exchange_seconds;
  } else {
    const pr::WalkSimilarityOptions o = pipeline::similarity_options(q.method, q.walk, q.threads);
    s.walk.beta = o.beta;
    SimilarityPart part = distributed_similarity(c, g, history, o, recommend);
    const std::vector<std::int64_t> user_rows = users.rows_per_part();
    w.similarity = gather_csr_rows(c, part.rows, items.bounds.back());
    w.top.users = shape.users;
    w.top.k = recommend.k;
    w.top.items = gather_index_rows(c, part.top.items.data(), part.top.users, recommend.k, user_rows);
    w.top.scores = gather_rows(c, part.top.scores.data(), part.top.users, recommend.k, user_rows);
    w.alpha = o.alpha;
    w.beta = o.beta;
    w.neighbours = o.k;
    s.similarity_nnz = static_cast<std::int64_t>(sum_all(c, static_cast<std::uint64_t>(part.rows.nnz())));
  }
  s.exchange_bytes = sum_all(c, traffic().exchange_bytes - bytes_before);
  s.compute_seconds = since(t_compute);

  // Rank 0 writes; every rank has finished; rank 0 renames the file over the store.
  run_phase(c, [&] {
    if (c.root()) io::write_walk_result(*writer, s.result, w);
  });
  MPI_Barrier(c.comm);
  run_phase(c, [&] {
    if (c.root()) writer->commit();
  });
  s.seconds = since(t_start);
  return s;
}

nlohmann::json WalkSummary::to_json() const {
  nlohmann::json j{{"store", store},
                   {"result", result},
                   {"method", method},
                   {"ranks", ranks},
                   {"threads", threads},
                   {"periods", periods},
                   {"seconds", seconds},
                   {"read_seconds", read_seconds},
                   {"setup_seconds", setup_seconds},
                   {"compute_seconds", compute_seconds},
                   {"graph_nnz", graph_nnz},
                   {"gamma", walk.gamma},
                   {"top", walk.top},
                   {"exchange_bytes", exchange_bytes},
                   {"boundary_rows", boundary_rows},
                   {"boundary_pairs", boundary_pairs},
                   {"user_blocks", user_blocks},
                   {"item_blocks", item_blocks}};
  if (method == "ppr")
    j.update({{"restart_probability", walk.restart},
              {"iterations", iterations},
              {"residual", residual},
              {"converged", converged},
              {"column_iterations", column_iterations},
              // The ghost rows' floats per user and iteration against the boundary pairs'
              // (the chain's doubles and the degrees' one exchange on top).
              {"bytes_per_column_iteration",
               column_iterations > 0 ? static_cast<double>(exchange_bytes) / static_cast<double>(column_iterations) : 0.0},
              {"boundary_bytes_per_column_iteration", 4.0 * static_cast<double>(boundary_pairs)},
              {"kernel_seconds", kernel_seconds},
              {"exchange_seconds", exchange_seconds}});
  else
    j.update({{"alpha", walk.alpha}, {"beta", walk.beta}, {"neighbours", walk.neighbours},
              {"similarity_nnz", similarity_nnz}});
  return j;
}

}  // namespace driftrec::mpi
