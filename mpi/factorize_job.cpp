// `driftrec-mpi factorize` (mpi/factorize_job.hpp): reads, the per-period distributed
// sweeps, and the collective write of the factors.
#include "mpi/factorize_job.hpp"

#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "io/factors_result.hpp"
#include "io/result_name.hpp"
#include "io/results.hpp"
#include "io/store.hpp"
#include "mpi/als.hpp"
#include "mpi/clock.hpp"
#include "mpi/distributed_graph.hpp"
#include "mpi/parallel_store.hpp"
#include "mpi/result_file.hpp"
#include "mpi/store_blocks.hpp"
#include "pipeline/common.hpp"

namespace driftrec::mpi {

namespace mf = matrix_factorization;
using graph::CsrMatrix;
using graph::Index;

FactorizeSummary factorize_store(const Comm& c, const FactorizeRequest& q) {
  const auto t_start = Clock::now();
  FactorizeSummary s;
  s.store = q.store;
  s.result = q.name;
  s.ranks = c.size;
  s.threads = q.threads;
  mf::TemporalAlsOptions options = q.options;
  options.als.threads = q.threads;
  options.als.backend = nullptr;
  options.compute_loss = false;
  s.factors = options.als.factors;
  s.sweeps = options.als.iterations;
  StoreShape shape;
  std::size_t first_user = 0, first_item = 0;
  std::optional<Stamp> stamp;
  run_phase(c, [&] {
    io::check_result_name(q.name);
    if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
    options.validate();
    shape = job_store_shape(c, q.store, stamp);
    first_user = pipeline::first_kept_period(q.keep_users, shape.slices, "keep_users");
    first_item = pipeline::first_kept_period(q.keep_items, shape.slices, "keep_items");
  });
  s.periods = shape.slices;

  BlockedSlices b = read_blocked_slices(c, q.store, shape);
  run_phase(c, [&] {
    for (std::size_t t = 0; t < shape.slices; ++t) check_weights(b.slices[t], t, b.users.begin(c.rank), q.store);
  });
  s.read_seconds = since(t_start);
  for (Index x : b.users.bounds) s.user_blocks.push_back(x);
  for (Index x : b.items.bounds) s.item_blocks.push_back(x);

  // The result's file: rank 0's temporary copy, opened by every rank with MPI-IO.
  ResultFile out(c, q.store, stamp.value_or(Stamp{}), q.name, q.threads);
  for (const char* group : {"user_factors", "item_factors"}) out.create_group(group);

  const int f = options.als.factors;
  const Index u0 = b.users.begin(c.rank), i0 = b.items.begin(c.rank);
  // The seeded start, each row keyed by its global id as initial_factors keys it.
  mf::Factors users = mf::initial_factors(b.users.rows(c.rank), f, options.als.seed, mf::kUserStream, q.threads, u0);
  mf::Factors items = mf::initial_factors(b.items.rows(c.rank), f, options.als.seed, mf::kItemStream, q.threads, i0);
  CsrMatrix history;
  for (std::size_t t = 0; t < shape.slices; ++t) {
    const auto t0 = Clock::now();
    run_phase(c, [&] {
      inject_fault(c, t);
      history = t == 0 ? std::move(b.slices[t]) : graph::decay_step(history, b.slices[t], options.gamma);
      b.slices[t] = CsrMatrix{};
      if (t > 0)  // the slices are finite; their decayed sums can still overflow
        for (float v : history.data)
          if (!std::isfinite(v))
            throw InputError(fmt::format("temporal ALS: the decayed history of period {} has a non-finite value; "
                                         "rescale the slices or lower `gamma`",
                                         t));
    });
    const DistributedGraph g = distribute(c, b.users, b.items, history, GlobalOrder{});
    FactorizePeriodStats p;
    p.period = t;
    p.setup_seconds = since(t0);
    p.boundary_pairs = sum_all(c, static_cast<std::uint64_t>(g.item_ghosts.ghosts() + g.user_ghosts.ghosts()));
    AlsTraffic traffic;
    // Period 0 has no prior; later ones tie the users to the previous period's rows.
    const mf::Factors previous = t > 0 ? users : mf::Factors{};
    const mf::DriftPrior prior = t > 0 ? mf::DriftPrior{&previous, options.eta} : mf::DriftPrior{};
    distributed_sweeps(c, g, users, items, options.als, prior, traffic);
    p.factor_bytes = sum_all(c, traffic.factor_bytes);
    p.gram_bytes = sum_all(c, traffic.gram_bytes);
    p.gram_seconds = traffic.gram_seconds;
    p.exchange_seconds = traffic.exchange_seconds;
    p.solve_seconds = traffic.solve_seconds;

    // Each rank writes its own rows, collectively (io::FactorsResultWriter's layout).
    const std::string period = io::period_name(t);
    if (t >= first_user) out.write_rows("user_factors/" + period, users.data(), u0, users.rows(), shape.users, f);
    if (t >= first_item) out.write_rows("item_factors/" + period, items.data(), i0, items.rows(), shape.items, f);
    p.seconds = since(t0);
    if (q.progress && c.root())
      fmt::print(stderr, "driftrec-mpi: period {}/{}: {} sweeps, {:.3f} s\n", t + 1, shape.slices,
                 options.als.iterations, p.seconds);
    s.per_period.push_back(p);
  }

  out.commit([&](io::h5::Hid result) { io::write_factors_attributes(result, options, shape.slicing, shape.slices); });
  s.seconds = since(t_start);
  return s;
}

nlohmann::json FactorizeSummary::to_json() const {
  nlohmann::json periods_json = nlohmann::json::array();
  std::uint64_t factor_bytes = 0, gram_bytes = 0;
  for (const FactorizePeriodStats& p : per_period) {
    periods_json.push_back({{"period", p.period},
                            {"seconds", p.seconds},
                            {"setup_seconds", p.setup_seconds},
                            {"gram_seconds", p.gram_seconds},
                            {"exchange_seconds", p.exchange_seconds},
                            {"solve_seconds", p.solve_seconds},
                            {"factor_bytes", p.factor_bytes},
                            {"gram_bytes", p.gram_bytes},
                            {"boundary_pairs", p.boundary_pairs}});
    factor_bytes += p.factor_bytes;
    gram_bytes += p.gram_bytes;
  }
  return {{"store", store},           {"result", result},         {"method", "als"},
          {"ranks", ranks},           {"threads", threads},       {"factors", factors},
          {"sweeps_per_period", sweeps}, {"periods", periods},    {"seconds", seconds},
          {"read_seconds", read_seconds}, {"user_blocks", user_blocks}, {"item_blocks", item_blocks},
          {"factor_bytes", factor_bytes}, {"gram_bytes", gram_bytes}, {"per_period", periods_json}};
}

}  // namespace driftrec::mpi
