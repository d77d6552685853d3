// `driftrec-mpi propagate --method p3alpha|rp3beta|ppr` (mpi/walk_job.hpp).
#include "mpi/walk_job.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "io/result_name.hpp"
#include "io/walk_result.hpp"
#include "mpi/clock.hpp"
#include "mpi/pagerank.hpp"
#include "mpi/result_file.hpp"
#include "mpi/store_blocks.hpp"
#include "mpi/walk_similarity.hpp"
#include "propagation/backend.hpp"

namespace driftrec::mpi {

namespace pr = propagation;
using graph::CsrMatrix;

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
    shape = job_store_shape(c, q.store, stamp);
  });
  s.periods = shape.slices;

  // Partition, collective reads, and G's rows, decayed as the single process decays them
  // and checked as it checks them (global rows: the lowest failing rank reports the
  // single process's first bad entry).
  CsrMatrix history;
  BlockedSlices blocked = read_blocked_slices(c, q.store, shape);
  const Blocks& users = blocked.users;
  const Blocks& items = blocked.items;
  run_phase(c, [&] {
    for (std::size_t t = 0; t < shape.slices; ++t) {
      inject_fault(c, t);
      check_weights(blocked.slices[t], t, users.begin(c.rank), q.store);
      history = t == 0 ? std::move(blocked.slices[0]) : graph::decay_step(history, blocked.slices[t], q.walk.gamma);
      blocked.slices[t] = CsrMatrix{};
    }
    pr::check_edge_weights(history, pipeline::kWalkGraphName, users.begin(c.rank));
  });
  s.read_seconds = since(t_start);
  for (graph::Index b : users.bounds) s.user_blocks.push_back(b);
  for (graph::Index b : items.bounds) s.item_blocks.push_back(b);

  // The result's file: rank 0's temporary copy (under the writer lock, checked to be the
  // store read), opened by every rank with MPI-IO.
  ResultFile out(c, q.store, stamp.value_or(Stamp{}), s.result, q.threads);

  const auto t_setup = Clock::now();
  const DistributedGraph g = distribute(c, users, items, history, GlobalOrder{}, /*interior_first=*/false);
  s.counts.graph_nnz = static_cast<std::int64_t>(sum_all(c, static_cast<std::uint64_t>(history.nnz())));
  const Boundary boundary = boundary_of(c, g);
  s.boundary_rows = boundary.rows;
  s.boundary_pairs = boundary.pairs;
  s.setup_seconds = since(t_setup);

  const auto t_compute = Clock::now();
  const std::uint64_t bytes_before = traffic().exchange_bytes;
  const pr::RecommendOptions recommend = pipeline::top_options(q.walk, q.threads);
  // What the attributes say (the rows stay with their ranks).
  io::WalkResult w =
      pipeline::walk_result_info(q.method, q.walk, shape.slicing, static_cast<std::int64_t>(shape.slices));
  pr::TopItems top;       // this rank's users'
  CsrMatrix similarity;   // this rank's items' rows (p3alpha, rp3beta)
  if (q.method == "ppr") {
    PageRankPart p;
    try {
      p = distributed_pagerank(c, g, pipeline::pagerank_options(q.walk, q.threads), recommend, q.exchange);
    } catch (const NumericalError& e) {  // every rank throws it: the residual is global
      throw RankFailure(0, 2, e.what());
    }
    top = std::move(p.top);
    pipeline::record_pagerank(p.iterations, p.residual, p.converged, w, s.counts);
    s.kernel_seconds = p.kernel_seconds;
    s.column_iterations = p.column_iterations;
    s.exchange_seconds = p.exchange_seconds;
  } else {
    const pr::WalkSimilarityOptions o = pipeline::similarity_options(q.method, q.walk, q.threads);
    s.walk.beta = o.beta;
    SimilarityPart part = distributed_similarity(c, g, history, o, recommend);
    similarity = std::move(part.rows);
    top = std::move(part.top);
    s.counts.similarity_nnz = static_cast<std::int64_t>(sum_all(c, static_cast<std::uint64_t>(similarity.nnz())));
  }
  s.exchange_bytes = sum_all(c, traffic().exchange_bytes - bytes_before);
  s.compute_seconds = since(t_compute);

  // Each rank writes its own rows where the single process writes the whole datasets;
  // rank 0 adds the attributes and, after every rank has closed the file, renames it.
  if (q.method != "ppr") out.write_csr_rows("similarity", similarity);
  const std::int64_t u0 = users.begin(c.rank);
  out.write_rows("top_items", top.items.data(), u0, top.users, shape.users, recommend.k);
  out.write_rows("top_scores", top.scores.data(), u0, top.users, shape.users, recommend.k);
  out.commit([&](io::h5::Hid result) { io::write_walk_result_attributes(result, w); });
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
                   {"exchange_bytes", exchange_bytes},
                   {"boundary_rows", boundary_rows},
                   {"boundary_pairs", boundary_pairs},
                   {"user_blocks", user_blocks},
                   {"item_blocks", item_blocks}};
  j.update(pipeline::walk_json(method, walk, counts));
  if (method == "ppr")
    j.update({{"column_iterations", column_iterations},
              // The ghost rows' floats per user and iteration against the boundary pairs'
              // (the chain's doubles and the degrees' one exchange on top).
              {"bytes_per_column_iteration",
               column_iterations > 0 ? static_cast<double>(exchange_bytes) / static_cast<double>(column_iterations) : 0.0},
              {"boundary_bytes_per_column_iteration", 4.0 * static_cast<double>(boundary_pairs)},
              {"kernel_seconds", kernel_seconds},
              {"exchange_seconds", exchange_seconds}});
  return j;
}

}  // namespace driftrec::mpi
