// `driftrec-mpi propagate` (mpi/propagate_job.hpp): partition, collective reads, the
// per-period distributed propagation, and rank 0's write of the result.
#include "mpi/propagate_job.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "io/label_result.hpp"
#include "io/result_name.hpp"
#include "io/store.hpp"
#include "mpi/degree_order.hpp"
#include "mpi/label_propagation.hpp"
#include "mpi/parallel_store.hpp"
#include "pipeline/common.hpp"

namespace driftrec::mpi {

namespace pr = propagation;
using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What identifies the file a job read: replaced or rewritten, one of these changes.
struct Stamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const Stamp&) const = default;
};
Stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(fmt::format("{}: cannot stat the store", path));
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

std::uint64_t sum_all(const Comm& c, std::uint64_t v) {
  std::uint64_t out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_UINT64_T, MPI_SUM, c.comm);
  return out;
}

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

pr::DenseMatrix as_matrix(std::vector<float>&& v, Index rows, Index cols) {
  pr::DenseMatrix m(rows, cols);
  std::copy(v.begin(), v.end(), m.data());
  return m;
}

}  // namespace

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
    if (c.root()) stamp = stamp_of(q.store);
    shape = read_store_shape(q.store);
    if (shape.slices == 0) throw InputError(fmt::format("{}: the store has no slices", q.store));
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
    const Blocks share = even_blocks(shape.users, c.size);
    std::vector<Offset> user_counts(static_cast<std::size_t>(share.rows(c.rank)), 0);
    for (std::size_t t = 0; t < shape.slices; ++t) {
      const auto counts = ps->row_counts(io::slice_group_name(t), share.begin(c.rank), share.end(c.rank));
      for (std::size_t r = 0; r < counts.size(); ++r) user_counts[r] += counts[r];
    }
    users = blocks_from_counts(c, share, user_counts);
    std::vector<Offset> item_counts(static_cast<std::size_t>(shape.items), 0);
    for (std::size_t t = 0; t < shape.slices; ++t) {
      slices[t] = ps->read_csr_rows(io::slice_group_name(t), users.begin(c.rank), users.end(c.rank), shape.items);
      for (Index j : slices[t].indices) ++item_counts[j];
    }
    MPI_Allreduce(MPI_IN_PLACE, item_counts.data(), static_cast<int>(item_counts.size()), MPI_INT64_T, MPI_SUM, c.comm);
    std::vector<Offset> prefix(item_counts.size() + 1, 0);
    for (std::size_t i = 0; i < item_counts.size(); ++i) prefix[i + 1] = prefix[i] + item_counts[i];
    items = balanced_blocks(prefix, c.size);
    const CsrMatrix labels = ps->read_csr_rows("/item_labels", items.begin(c.rank), items.end(c.rank), shape.labels);
    run_phase(c, [&] {
      for (std::size_t t = 0; t < shape.slices; ++t) check_weights(slices[t], t, users.begin(c.rank), q.store);
      y_items = pr::item_seed_labels(labels);
    });
  }
  s.read_seconds = since(t_start);
  for (Index b : users.bounds) s.user_blocks.push_back(b);
  for (Index b : items.bounds) s.item_blocks.push_back(b);

  // Rank 0 alone writes: the writer lock, then the check that the store is the one read.
  std::unique_ptr<io::StoreWriter> writer;
  std::unique_ptr<io::LabelResultWriter> result;
  io::LabelResultInfo info;
  info.options = options;
  info.keep = q.keep;
  info.slicing = shape.slicing;
  run_phase(c, [&] {
    if (!c.root()) return;
    writer = std::make_unique<io::StoreWriter>(q.store, io::StoreWriter::Amend{}, q.threads);
    if (!(stamp_of(q.store) == *stamp))
      throw InputError(fmt::format("{}: the store was changed by another writer while driftrec-mpi read it; run again",
                                   q.store));
    result = std::make_unique<io::LabelResultWriter>(*writer, s.result);
  });

  const int fail_rank = std::getenv("DRIFTREC_MPI_FAIL_RANK") ? std::atoi(std::getenv("DRIFTREC_MPI_FAIL_RANK")) : -1;
  const std::vector<std::int64_t> user_rows = users.rows_per_part(), item_rows = items.rows_per_part();
  CsrMatrix history;
  GlobalOrder order;         // G_t's degree order, as the single process's
  pr::DenseMatrix previous;  // own rows of the raw F_U(t-1)
  const Index k = shape.labels;
  for (std::size_t t = 0; t < shape.slices; ++t) {
    const auto t0 = Clock::now();
    run_phase(c, [&] {
      if (static_cast<int>(t) == 0 && fail_rank == c.rank)
        throw InternalError("fault injected by DRIFTREC_MPI_FAIL_RANK");
      history = t == 0 || options.gamma == 0 ? std::move(slices[t])
                                             : graph::decay_step(history, slices[t], options.gamma);
      slices[t] = CsrMatrix{};
    });
    advance_order(c, users, items, history, t > 0 && options.gamma != 0, options.propagation, order);
    const DistributedGraph g = distribute(c, users, items, history, order);
    PeriodStats p;
    p.period = t;
    p.setup_seconds = since(t0);
    std::uint64_t distinct = 0;
    for (const GhostPlan* plan : {&g.item_ghosts, &g.user_ghosts}) {
      std::vector<Index> rows = plan->send_rows;
      std::sort(rows.begin(), rows.end());
      distinct += static_cast<std::uint64_t>(std::unique(rows.begin(), rows.end()) - rows.begin());
    }
    p.boundary_rows = sum_all(c, distinct);
    p.boundary_pairs = sum_all(c, static_cast<std::uint64_t>(g.item_ghosts.ghosts() + g.user_ghosts.ghosts()));
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

    // The period's rows to rank 0, which writes them as the single process does.
    const bool keep = t >= first, scores = t + 2 >= shape.slices;
    std::vector<float> interests, item_labels, user_scores;
    if (keep) {
      const pr::DenseMatrix normalized = pr::row_normalized(r.users);
      interests = gather_rows(c, normalized.data(), g.own_users(), k, user_rows);
      item_labels = gather_rows(c, r.items.data(), g.own_items(), k, item_rows);
    }
    if (scores) user_scores = gather_rows(c, r.users.data(), g.own_users(), k, user_rows);
    previous = std::move(r.users);
    run_phase(c, [&] {
      if (!c.root()) return;
      if (keep)
        result->write_period(t, as_matrix(std::move(interests), shape.users, k),
                             as_matrix(std::move(item_labels), shape.items, k));
      if (scores) result->write_user_scores(t, as_matrix(std::move(user_scores), shape.users, k));
    });
    p.seconds = since(t0);
    if (q.progress && c.root())
      fmt::print(stderr, "driftrec-mpi: period {}/{}: {} iterations, residual {:.3g}, {:.3f} s\n", t + 1,
                 shape.slices, r.iterations, r.residual, p.seconds);
    s.per_period.push_back(p);
  }
  std::int64_t own_nnz = history.nnz();
  s.user_block_nnz.resize(static_cast<std::size_t>(c.size));
  MPI_Allgather(&own_nnz, 1, MPI_INT64_T, s.user_block_nnz.data(), 1, MPI_INT64_T, c.comm);

  // Every rank has written its rows; rank 0 renames the file over the store.
  MPI_Barrier(c.comm);
  run_phase(c, [&] {
    if (!c.root()) return;
    result->finish(info);
    result.reset();
    writer->commit();
  });
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
