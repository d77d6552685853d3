// `driftrec-mpi propagate` (mpi/propagate_job.hpp): partition, collective reads, the
// per-period distributed propagation, and the collective write of the result.
#include "mpi/propagate_job.hpp"

#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "io/label_result.hpp"
#include "io/result_name.hpp"
#include "io/results.hpp"
#include "io/store.hpp"
#include "mpi/clock.hpp"
#include "mpi/degree_order.hpp"
#include "mpi/label_propagation.hpp"
#include "mpi/parallel_store.hpp"
#include "mpi/result_file.hpp"
#include "mpi/store_blocks.hpp"
#include "pipeline/common.hpp"

namespace driftrec::mpi {

namespace pr = propagation;
using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

PropagateSummary propagate_store(const Comm& c, const PropagateRequest& q) {
  const auto t_start = Clock::now();
  PropagateSummary s;
  s.store = q.store;
  s.result = q.name.empty() ? "label" : q.name;
  s.ranks = c.size;
  pr::TemporalOptions options = q.label;
  options.propagation.threads = q.threads;
  StoreShape shape;
  std::size_t first = 0;
  std::optional<Stamp> stamp;
  run_phase(c, [&] {
    io::check_result_name(s.result);
    if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
    options.validate();
    shape = job_store_shape(c, q.store, stamp);
    if (shape.labels == 0)
      throw InputError(fmt::format("{}: the store has no item labels; ingest with --labels to propagate them", q.store));
    first = pipeline::first_kept_period(q.keep, shape.slices, "keep");
  });
  s.periods = shape.slices;
  s.labels = shape.labels;
  s.threads = q.threads;

  // Partition and collective reads.
  std::vector<CsrMatrix> slices(shape.slices);
  pr::DenseMatrix y_items;
  Blocks users, items;
  {
    std::unique_ptr<ParallelStore> ps;
    run_phase(c, [&] { ps = std::make_unique<ParallelStore>(c, q.store); });
    BlockedSlices blocked = read_blocked_slices(c, *ps, shape);
    users = std::move(blocked.users);
    items = std::move(blocked.items);
    slices = std::move(blocked.slices);
    const CsrMatrix labels = ps->read_csr_rows("/item_labels", items.begin(c.rank), items.end(c.rank), shape.labels);
    run_phase(c, [&] {
      for (std::size_t t = 0; t < shape.slices; ++t) check_weights(slices[t], t, users.begin(c.rank), q.store);
      y_items = pr::item_seed_labels(labels);
    });
  }
  s.read_seconds = since(t_start);
  for (Index b : users.bounds) s.user_blocks.push_back(b);
  for (Index b : items.bounds) s.item_blocks.push_back(b);

  // The result's file: rank 0's temporary copy (under the writer lock, checked to be the
  // store read), opened by every rank with MPI-IO.
  io::LabelResultInfo info;
  info.options = options;
  info.keep = q.keep;
  info.slicing = shape.slicing;
  ResultFile out(c, q.store, stamp.value_or(Stamp{}), s.result, q.threads);
  for (const char* group : {"interests", "item_labels", "user_scores"}) out.create_group(group);

  CsrMatrix history;
  GlobalOrder order;         // G_t's degree order, as the single process's
  pr::DenseMatrix previous;  // own rows of the raw F_U(t-1)
  const Index k = shape.labels;
  for (std::size_t t = 0; t < shape.slices; ++t) {
    const auto t0 = Clock::now();
    run_phase(c, [&] {
      inject_fault(c, t);
      history = t == 0 || options.gamma == 0 ? std::move(slices[t])
                                             : graph::decay_step(history, slices[t], options.gamma);
      slices[t] = CsrMatrix{};
    });
    advance_order(c, users, items, history, t > 0 && options.gamma != 0, options.propagation, order);
    const DistributedGraph g = distribute(c, users, items, history, order, /*interior_first=*/true);
    PeriodStats p;
    p.period = t;
    p.setup_seconds = since(t0);
    const Boundary boundary = boundary_of(c, g);
    p.boundary_rows = boundary.rows;
    p.boundary_pairs = boundary.pairs;
    const std::uint64_t bytes_before = traffic().exchange_bytes;
    const bool prior = t > 0 && options.mu > 0;
    DistributedResult r;
    try {
      r = propagate_labels(c, g, y_items, prior ? &previous : nullptr, options.mu, options.propagation, q.exchange, t);
    } catch (const NumericalError& e) {  // every rank throws it: the residual is global
      throw RankFailure(0, 2, e.what());
    }
    p.exchange_bytes = sum_all(c, traffic().exchange_bytes - bytes_before);
    p.iterations = r.iterations;
    p.residual = r.residual;
    p.converged = r.converged;
    p.kernel_seconds = r.kernel_seconds;
    p.exchange_seconds = r.exchange_seconds;
    if (!r.converged) ++s.not_converged;
    info.iterations.push_back(r.iterations);
    info.residual.push_back(r.residual);
    info.converged.push_back(r.converged);

    // Each rank writes its own rows of the period, collectively, where the single process
    // writes the whole matrices (io::LabelResultWriter).
    const bool keep = t >= first, scores = t + 2 >= shape.slices;
    const std::string period = io::period_name(t);
    const Index u0 = users.begin(c.rank), i0 = items.begin(c.rank);
    if (keep) {
      const pr::DenseMatrix normalized = pr::row_normalized(r.users);
      out.write_rows("interests/" + period, normalized.data(), u0, g.own_users(), shape.users, k);
      out.write_rows("item_labels/" + period, r.items.data(), i0, g.own_items(), shape.items, k);
    }
    if (scores) out.write_rows("user_scores/" + period, r.users.data(), u0, g.own_users(), shape.users, k);
    previous = std::move(r.users);
    p.seconds = since(t0);
    if (q.progress && c.root())
      fmt::print(stderr, "driftrec-mpi: period {}/{}: {} iterations, residual {:.3g}, {:.3f} s\n", t + 1,
                 shape.slices, r.iterations, r.residual, p.seconds);
    s.per_period.push_back(p);
  }
  std::int64_t own_nnz = history.nnz();
  s.user_block_nnz.resize(static_cast<std::size_t>(c.size));
  MPI_Allgather(&own_nnz, 1, MPI_INT64_T, s.user_block_nnz.data(), 1, MPI_INT64_T, c.comm);

  // Every rank has written its rows; rank 0 adds the per-period arrays and attributes and
  // renames the file over the store.
  out.commit([&](io::h5::Hid result) { io::write_label_result_info(result, info, q.threads); });
  s.seconds = since(t_start);
  return s;
}

nlohmann::json PropagateSummary::to_json() const {
  nlohmann::json periods_json = nlohmann::json::array();
  std::uint64_t bytes = 0, iterations = 0;
  for (const PeriodStats& p : per_period) {
    periods_json.push_back({{"period", p.period},
                            {"iterations", p.iterations},
                            {"residual", p.residual},
                            {"converged", p.converged},
                            {"seconds", p.seconds},
                            {"setup_seconds", p.setup_seconds},
                            {"kernel_seconds", p.kernel_seconds},
                            {"exchange_seconds", p.exchange_seconds},
                            {"exchange_bytes", p.exchange_bytes},
                            {"boundary_rows", p.boundary_rows},
                            {"boundary_pairs", p.boundary_pairs}});
    bytes += p.exchange_bytes;
    iterations += static_cast<std::uint64_t>(p.iterations);
  }
  return {{"store", store},           {"result", result},         {"method", "label"},
          {"ranks", ranks},           {"threads", threads},       {"labels", labels},
          {"seconds", seconds},       {"read_seconds", read_seconds},
          {"user_blocks", user_blocks}, {"item_blocks", item_blocks}, {"user_block_nnz", user_block_nnz},
          {"exchange_bytes", bytes},  {"iterations", iterations}, {"not_converged", not_converged},
          {"periods", periods_json}};
}

}  // namespace driftrec::mpi
