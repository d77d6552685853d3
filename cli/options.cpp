// The shared option declarations of cli/options.hpp.
#include "cli/options.hpp"

#include <map>

#include <fmt/core.h>

#include "core/error.hpp"

namespace driftrec::cli {

void add_factorize_options(CLI::App& cmd, const FactorizeTargets& to) {
  auto& als = to.options.als;
  cmd.add_option("store", to.store, "Store written by `driftrec ingest`")->required();
  cmd.add_option("--name", to.name, "Result name under /results")->default_val("als");
  cmd.add_option("--factors", als.factors, "Factors per user and item")->default_val(64);
  cmd.add_option("--regularization", als.regularization, "lambda")->default_val(0.01);
  cmd.add_option("--alpha", als.alpha, "Confidence c = 1 + alpha * value")->default_val(1.0);
  cmd.add_option("--iterations", als.iterations, "Sweeps per period")->default_val(15);
  cmd.add_option("--cg-steps", als.cg_steps, "Conjugate-gradient steps per row solve")->default_val(3);
  cmd.add_option("--solver", to.solver, "cg | cholesky (exact, slow; the reference)")->default_val("cg");
  cmd.add_option("--eta", to.options.eta, "Drift penalty tying x_u(t) to x_u(t-1); 0: none")->default_val(0.0);
  cmd.add_option("--gamma", to.options.gamma, "History decay in [0, 1]; 0: each period alone")->default_val(0.0);
  cmd.add_option("--keep-users", to.keep_users, "User factors to keep: all | last:N")->default_val("all");
  cmd.add_option("--keep-items", to.keep_items, "Item factors to keep: all | last:N")->default_val("last:1");
  cmd.add_option("--seed", als.seed, "Seed of the initial factors")->default_val(0);
}

matrix_factorization::Solver parse_solver(const std::string& solver) {
  if (solver == "cg") return matrix_factorization::Solver::cg;
  if (solver == "cholesky") return matrix_factorization::Solver::cholesky;
  throw InputError(fmt::format("--solver: expected cg or cholesky, found '{}'", solver));
}

void add_label_stop_options(CLI::App& cmd, propagation::LabelPropagationOptions& options) {
  cmd.add_option("--tolerance", options.tolerance, "Stop when an iteration changes no score by more than this")
      ->default_val(1e-6);
  cmd.add_option("--max-iterations", options.max_iterations, "Iterations per period at most")->default_val(100);
}

void add_reorder_option(CLI::App& cmd, propagation::Reorder& reorder) {
  const std::map<std::string, propagation::Reorder> reorders{
      {"auto", propagation::Reorder::automatic}, {"on", propagation::Reorder::on}, {"off", propagation::Reorder::off}};
  cmd.add_option("--reorder", reorder,
                 "label: relabel each period's graph by degree (faster gathers on large graphs): auto (from 2^21 "
                 "stored entries), on or off; results equal up to float rounding")
      ->transform(CLI::CheckedTransformer(reorders))
      ->default_str("auto");
}

void add_walk_options(CLI::App& cmd, pipeline::WalkOptions& walk) {
  cmd.add_option("--beta", walk.beta, "rp3beta: divide by item popularity^beta")->default_val(0.5);
  cmd.add_option("--neighbours", walk.neighbours, "p3alpha/rp3beta: similar items kept per item")->default_val(100);
  cmd.add_option("--top", walk.top, "p3alpha/rp3beta/ppr: items saved per user")->default_val(20);
  cmd.add_option("--restart", walk.restart, "ppr: restart probability (the damping is 1 - restart)")->default_val(0.15);
}

}  // namespace driftrec::cli
