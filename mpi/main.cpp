// driftrec-mpi: the store jobs of `driftrec` across MPI ranks, launched by mpirun or srun
// (docs/mpi.md). `driftrec-mpi propagate STORE ...` takes the options of `driftrec
// propagate` (every method: label, p3alpha, rp3beta, ppr; not --device or --low-memory),
// plus --exchange; each rank runs --threads OpenMP threads. Rank 0 prints the summary and the errors. A failure on any rank ends every rank
// with the same exit code (2 for bad input or a user-fixable numerical failure, 1 for an
// internal one) and a message naming the rank; a rank that fails outside an agreed phase
// exits at once, and mpirun ends the job and names it.
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/options.hpp"
#include "mpi/comm.hpp"
#include "mpi/evaluate_command.hpp"
#include "mpi/factorize_job.hpp"
#include "mpi/propagate_job.hpp"
#include "mpi/walk_job.hpp"

namespace {

using namespace driftrec;

// The random walks: --gamma, --tolerance and --max-iterations as the label options take
// them; --alpha only when given (its default is label propagation's), as `driftrec
// propagate` maps them.
template <class Args>
void run_walk(Args& a, mpi::Exchange exchange, bool alpha_given, const mpi::Comm& c) {
  mpi::WalkRequest& w = a.walk;
  const mpi::PropagateRequest& q = a.request;
  w.store = q.store;
  w.name = q.name;
  w.method = a.method;
  w.threads = q.threads;
  w.exchange = exchange;
  w.progress = !a.quiet;
  w.walk.gamma = q.label.gamma;
  w.walk.tolerance = q.label.propagation.tolerance;
  w.walk.max_iterations = q.label.propagation.max_iterations;
  if (alpha_given) w.walk.alpha = q.label.propagation.alpha;
  const mpi::WalkSummary s = mpi::walk_store(c, w);
  if (!c.root()) return;
  if (a.json) {
    fmt::print("{}\n", s.to_json().dump(2));
  } else if (s.method == "ppr") {
    fmt::print("{}: /results/{}: personalised PageRank (restart {}) on the decayed history ({} edges) on {} ranks; "
               "top {} items per user; {} iterations at most, {} in {:.2f} s\n",
               s.store, s.result, static_cast<double>(s.walk.restart), s.counts.graph_nnz, s.ranks, s.walk.top,
               s.counts.iterations, s.counts.converged ? "converged" : "NOT converged", s.seconds);
  } else {
    fmt::print("{}: /results/{}: {} item-item similarity (alpha {}, beta {}, {} neighbours, {} entries) on the "
               "decayed history ({} edges) on {} ranks; top {} items per user, in {:.2f} s\n",
               s.store, s.result, s.method, static_cast<double>(s.walk.alpha), static_cast<double>(s.walk.beta),
               s.walk.neighbours, s.counts.similarity_nnz, s.counts.graph_nnz, s.ranks, s.walk.top, s.seconds);
  }
  if (s.method == "ppr" && !s.counts.converged)
    fmt::print(stderr,
               "driftrec-mpi: warning: personalised PageRank did not converge within {} iterations for every user "
               "(largest L1 residual {:.3g}, tolerance {:.3g}); raise --max-iterations or --tolerance\n",
               s.walk.max_iterations, s.counts.residual, s.walk.tolerance);
}

void add_propagate(CLI::App& app, const mpi::Comm& c) {
  auto* cmd = app.add_subcommand(
      "propagate", "Temporal label propagation or random-walk CF over a store's slices, across the MPI ranks");
  cmd->footer(
      "The options of `driftrec propagate` (without --device and --low-memory); the result is the same store "
      "layout, equal to the single process's bit for bit: each rank sums every row in the single process's "
      "order (label: with the same --reorder).\n"
      "--method label: the rows of each period's graph split across the ranks, the ghost rows exchanged per "
      "half-step.\n"
      "--method p3alpha | rp3beta: each rank computes the similarity rows of its items (its items' users' rows "
      "exchanged once) and the top items of its users.\n"
      "--method ppr: each block of users iterates over the split graph, the ghost rows exchanged per "
      "half-step; the ranks' top items merged on rank 0.\nExamples:\n"
      "  mpirun -np 4 driftrec-mpi propagate ml.h5 --threads 2 --json\n"
      "  mpirun -np 4 driftrec-mpi propagate ml.h5 --method rp3beta --beta 0.5 --top 20");
  struct Args {
    mpi::PropagateRequest request;
    mpi::WalkRequest walk;
    std::string method = "label", exchange = "alltoall";
    bool json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  auto& t = q.label;
  cmd->add_option("store", q.store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--method", a->method, "label | p3alpha | rp3beta | ppr")->default_val("label");
  cmd->add_option("--name", q.name, "Result name under /results (default: the method)");
  cmd->add_option("--alpha", t.propagation.alpha,
                  "label: weight of the neighbours against the seed, in [0, 1); p3alpha/rp3beta: the exponent of "
                  "the transition probabilities")
      ->default_str("0.85 (label), 1 (p3alpha, rp3beta)");
  cmd->add_option("--gamma", t.gamma, "History decay in [0, 1]; 0: each period alone")->default_val(0.5);
  cmd->add_option("--mu", t.mu, "label: memory of the previous period's interests, in [0, 1]")->default_val(0.5);
  cli::add_label_stop_options(*cmd, t.propagation);
  cli::add_reorder_option(*cmd, t.propagation.reorder);
  cmd->add_option("--keep", q.keep, "label: periods whose results are saved: all | last:N")->default_val("all");
  cli::add_walk_options(*cmd, a->walk.walk);
  cmd->add_option("--threads", q.threads, "OpenMP threads per rank (0: OpenMP's default)")->default_val(0);
  cmd->add_option("--exchange", a->exchange,
                  "Ghost rows per half-step (label, ppr): alltoall (only the rows each rank reads), shared (label: "
                  "the ranks of one node share their rows in MPI-3 shared memory, no copy; only rows read on other "
                  "nodes are sent, as alltoall; ppr: alltoall) or allgather (every block to every rank)")
      ->default_val("alltoall");
  cmd->add_flag("--json", a->json, "Print a JSON summary (with per-period timings and bytes exchanged)");
  cmd->add_flag("--quiet", a->quiet, "No progress lines on stderr");
  cmd->callback([a, c, cmd] {
    mpi::run_phase(c, [&] {
      if (a->method != "label" && !pipeline::is_walk_method(a->method))
        throw InputError(fmt::format("method: expected label, p3alpha, rp3beta or ppr, found '{}'", a->method));
      if (a->exchange != "shared" && a->exchange != "alltoall" && a->exchange != "allgather")
        throw InputError(fmt::format("exchange: expected shared, alltoall or allgather, found '{}'", a->exchange));
    });
    const mpi::Exchange exchange = a->exchange == "allgather" ? mpi::Exchange::allgather
                                   : a->exchange == "shared"  ? mpi::Exchange::shared
                                                              : mpi::Exchange::alltoall;
    if (a->method != "label") {
      run_walk(*a, exchange, cmd->count("--alpha") > 0, c);
      return;
    }
    a->request.exchange = exchange;
    a->request.progress = !a->quiet;
    const mpi::PropagateSummary s = mpi::propagate_store(c, a->request);
    if (!c.root()) return;
    if (a->json) {
      fmt::print("{}\n", s.to_json().dump(2));
    } else {
      std::int64_t iterations = 0;
      for (const auto& p : s.per_period) iterations += p.iterations;
      fmt::print("{}: /results/{}: label propagation over {} periods on {} ranks ({} iterations in all, {} not "
                 "converged) in {:.2f} s\n",
                 s.store, s.result, s.periods, s.ranks, iterations, s.not_converged, s.seconds);
    }
  });
}

void add_factorize(CLI::App& app, const mpi::Comm& c) {
  auto* cmd = app.add_subcommand("factorize", "Temporal implicit ALS over a store's slices, across the MPI ranks");
  cmd->footer(
      "The options of `driftrec factorize` (without --verbose); the result is the same store layout, equal to "
      "the single process's bit for bit. Example:\n  mpirun -np 4 driftrec-mpi factorize ml.h5 --threads 2 --json");
  struct Args {
    mpi::FactorizeRequest request;
    std::string solver = "cg";
    bool json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  cli::add_factorize_options(*cmd, {q.store, q.name, q.options, a->solver, q.keep_users, q.keep_items});
  cmd->add_option("--threads", q.threads, "OpenMP threads per rank (0: OpenMP's default)")->default_val(0);
  cmd->add_flag("--json", a->json, "Print a JSON summary (with per-period timings and bytes exchanged)");
  cmd->add_flag("--quiet", a->quiet, "No progress lines on stderr");
  cmd->callback([a, c] {
    mpi::run_phase(c, [&] { a->request.options.als.solver = cli::parse_solver(a->solver); });
    a->request.progress = !a->quiet;
    const mpi::FactorizeSummary s = mpi::factorize_store(c, a->request);
    if (!c.root()) return;
    if (a->json)
      fmt::print("{}\n", s.to_json().dump(2));
    else
      fmt::print("{}: /results/{}: implicit ALS over {} periods on {} ranks ({} factors, {} sweeps per period) in "
                 "{:.2f} s\n",
                 s.store, s.result, s.periods, s.ranks, s.factors, s.sweeps, s.seconds);
  });
}

int run(int argc, char** argv, const mpi::Comm& c) {
  CLI::App app{"driftrec-mpi: driftrec's store jobs across MPI ranks (mpirun -np N driftrec-mpi propagate|factorize|evaluate STORE); "
               "propagate runs every method (label, p3alpha, rp3beta, ppr)",
               "driftrec-mpi"};
  app.require_subcommand(1);
  add_propagate(app, c);
  add_factorize(app, c);
  mpi::add_evaluate_command(app, c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same arguments; one message.
    if (c.root()) return app.exit(e);
    return e.get_exit_code() == 0 ? 0 : 2;
  } catch (const mpi::RankFailure& e) {
    if (c.root()) fmt::print(stderr, "driftrec-mpi: error: {}\n", e.what());
    return e.exit_code();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);  // MPI from the main thread only
  const mpi::Comm c = mpi::Comm::world();
  int rc = 0;
  try {
    rc = run(argc, argv, c);
  } catch (const std::exception& e) {
    // One rank alone: the others may wait in a collective call, so no MPI_Finalize; mpirun
    // sees the exit and ends the job.
    fmt::print(stderr, "driftrec-mpi: error: rank {} of {}: {}\n", c.rank, c.size, e.what());
    std::fflush(stderr);
    std::_Exit(mpi::exit_code_of(e));
  }
  std::fflush(stdout);
  MPI_Finalize();
  return rc;
}
