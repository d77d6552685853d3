// The shared option declarations of cli/options.hpp.
#include "cli/options.hpp"

#include <charconv>
#include <map>
#include <string_view>

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

void add_device_option(CLI::App& cmd, std::string& device) {
  cmd.add_option("--device", device,
                 "cpu | cuda | auto: where label propagation and ALS run (auto: cuda when this build has it and "
                 "the machine has a GPU; cuda where either is missing exits 2 saying which)")
      ->default_val("cpu");
}

void add_evaluate_options(CLI::App& cmd, const EvaluateTargets& to) {
  pipeline::EvaluateRequest& q = to.request;
  cmd.add_option("store", q.store, "Store written by `driftrec ingest`")->required();
  cmd.add_option("--test-periods", q.test_periods, "Number of test periods (the last N)")->default_val(3);
  cmd.add_option("--k", to.ks, "Cut-offs of the item metrics, comma-separated")->default_val("10,20");
  cmd.add_option("--json", to.json, "Also write the JSON report to this file");
  cmd.add_option("--seed", q.seed, "Seed of the bootstrap resamples and of the ALS initialisation")->default_val(0);
  cmd.add_option("--truth", q.truth,
                 "truth.csv of `driftrec generate`: also score each interest model against the planted interests");
  cmd.add_option("--tune-budget", q.tune_budget,
                 "Seconds to spend first choosing the sequence models' hidden size, window and learning rate on "
                 "the validation period (0: their defaults)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--train-users", q.train_users,
                 "The sequence rows (GRU, LSTM, attention, and the hybrid and mixture on the GRU) train and "
                 "early-stop on at most this many users drawn with --seed, then predict for every user; 0: every "
                 "user (the default). Stores with at most this many users are unaffected; above it the interest metrics "
                 "move beyond their 95% intervals (docs/evaluation.md: the measured tolerance)")
      ->default_val(q.train_users)
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--models", q.models,
                 "Evaluate only these rows, comma-separated (e.g. recent_popularity,ranker; default: every row); "
                 "the periods are split as for every row")
      ->delimiter(',');
}

std::vector<int> parse_ks(const std::string& spec) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  std::vector<int> ks;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = spec.find(',', start);
    std::string_view field =
        trim(std::string_view(spec).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!field.empty() && field.front() == '+') field.remove_prefix(1);
    int k = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), k);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size() || k < 1 || k > 100000)
      throw InputError(fmt::format(
          "--k '{}': expected a comma-separated list of cut-offs between 1 and 100000, e.g. 10,20", spec));
    ks.push_back(k);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ks;
}

}  // namespace driftrec::cli
