// driftrec-mpi: the store jobs of `driftrec` across MPI ranks, launched by mpirun or srun
// (docs/mpi.md). `driftrec-mpi propagate STORE ...` takes the options of `driftrec
// propagate` (label propagation only), plus --exchange; each rank runs --threads OpenMP
// threads. Rank 0 prints the summary and the errors. A failure on any rank ends every rank
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

namespace {

using namespace driftrec;

void add_propagate(CLI::App& app, const mpi::Comm& c) {
  auto* cmd = app.add_subcommand("propagate", "Temporal label propagation over a store's slices, across the MPI ranks");
  cmd->footer(
      "The options of `driftrec propagate --method label`; the result is the same store layout, and equal "
      "to the single process's bit for bit (with the same --reorder, each rank sums every row in the single "
      "process's order). Example:\n  mpirun -np 4 driftrec-mpi propagate ml.h5 --threads 2 --json");
  struct Args {
    mpi::PropagateRequest request;
    std::string method = "label", exchange = "alltoall";
    bool json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  auto& t = q.label;
  cmd->add_option("store", q.store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--method", a->method, "label (the random walks are not distributed yet)")->default_val("label");
  cmd->add_option("--name", q.name, "Result name under /results (default: label)");
  cmd->add_option("--alpha", t.propagation.alpha, "Weight of the neighbours against the seed, in [0, 1)")
      ->default_val(0.85);
  cmd->add_option("--gamma", t.gamma, "History decay in [0, 1]; 0: each period alone")->default_val(0.5);
  cmd->add_option("--mu", t.mu, "Memory of the previous period's interests, in [0, 1]")->default_val(0.5);
  cli::add_label_stop_options(*cmd, t.propagation);
  cli::add_reorder_option(*cmd, t.propagation.reorder);
  cmd->add_option("--keep", q.keep, "Periods whose results are saved: all | last:N")->default_val("all");
  cmd->add_option("--threads", q.threads, "OpenMP threads per rank (0: OpenMP's default)")->default_val(0);
  cmd->add_option("--exchange", a->exchange,
                  "Ghost rows per half-step: alltoall (only the rows each rank reads) or allgather (every block "
                  "to every rank)")
      ->default_val("alltoall");
  cmd->add_flag("--json", a->json, "Print a JSON summary (with per-period timings and bytes exchanged)");
  cmd->add_flag("--quiet", a->quiet, "No progress lines on stderr");
  cmd->callback([a, c] {
    mpi::run_phase(c, [&] {
      if (a->method != "label")
        throw InputError(fmt::format("method: driftrec-mpi propagates labels only (label), found '{}'; run the "
                                     "random walks with driftrec",
                                     a->method));
      if (a->exchange != "alltoall" && a->exchange != "allgather")
        throw InputError(fmt::format("exchange: expected alltoall or allgather, found '{}'", a->exchange));
    });
    a->request.exchange = a->exchange == "allgather" ? mpi::Exchange::allgather : mpi::Exchange::alltoall;
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
  CLI::App app{"driftrec-mpi: driftrec's store jobs across MPI ranks (mpirun -np N driftrec-mpi propagate|factorize|evaluate STORE)",
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
