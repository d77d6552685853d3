// The option declarations that `driftrec` (cli/) and `driftrec-mpi` (mpi/main.cpp) share,
// so that a job's options read the same in both: names, defaults and help text are
// declared once here. This library holds no HDF5 (driftrec-mpi links the parallel HDF5,
// the CLI commands the serial one), only CLI11 and the option structs.
#pragma once
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "core/error.hpp"

#include "matrix_factorization/implicit_als.hpp"
#include "matrix_factorization/temporal_als.hpp"
#include "pipeline/walk_options.hpp"
#include "pipeline/evaluate.hpp"
#include "propagation/label_propagation.hpp"

namespace driftrec::cli {

// Where `factorize`'s shared options land: STORE, --name, --factors, --regularization,
// --alpha, --iterations, --cg-steps, --solver (a string; parse_solver turns it into the
// Solver), --eta, --gamma, --keep-users, --keep-items, --seed, in that order.
struct FactorizeTargets {
  std::string& store;
  std::string& name;
  matrix_factorization::TemporalAlsOptions& options;
  std::string& solver;
  std::string& keep_users;
  std::string& keep_items;
};
void add_factorize_options(CLI::App& cmd, const FactorizeTargets& to);

// "cg" or "cholesky"; InputError naming --solver otherwise.
matrix_factorization::Solver parse_solver(const std::string& solver);

// Label propagation's --tolerance and --max-iterations.
void add_label_stop_options(CLI::App& cmd, propagation::LabelPropagationOptions& options);

// Label propagation's --reorder auto|on|off.
void add_reorder_option(CLI::App& cmd, propagation::Reorder& reorder);

// The random walks' --beta, --neighbours, --top and --restart (--alpha, --gamma,
// --tolerance and --max-iterations are shared with label propagation: each command maps them).
void add_walk_options(CLI::App& cmd, pipeline::WalkOptions& walk);

// --device cpu|cuda|auto (propagate, factorize, train, evaluate), into a request's `device`;
// the pipeline job checks it (exit 2 when cuda is asked for and cannot run).
void add_device_option(CLI::App& cmd, std::string& device);

// Where `evaluate`'s shared options land: STORE, --test-periods, --k (a string; parse_ks
// turns it into the cut-offs), --json FILE, --seed, --truth, --tune-budget, --models, in
// that order. --threads, --device and --quiet are each binary's own.
struct EvaluateTargets {
  pipeline::EvaluateRequest& request;
  std::string& ks;
  std::string& json;
};
void add_evaluate_options(CLI::App& cmd, const EvaluateTargets& to);

// "10,20" -> {10, 20}: cut-offs between 1 and 100000; InputError naming --k otherwise.
std::vector<int> parse_ks(const std::string& spec);

// What `evaluate` prints: the table and the wall time on stdout, the JSON report in
// `json_path` when given. Inline, since EvaluateSummary::to_json lives in the pipeline
// library each binary links its own build of.
inline void print_evaluation(const pipeline::EvaluateSummary& s, const std::string& json_path) {
  fmt::print("{}", s.table);
  fmt::print("evaluated in {:.1f} s\n", s.seconds);
  if (json_path.empty()) return;
  std::ofstream f(json_path);
  if (!f) throw InputError(fmt::format("--json {}: cannot open the file for writing", json_path));
  f << s.to_json().dump(2) << "\n";
  f.close();
  if (!f) throw std::runtime_error(fmt::format("--json {}: write failed", json_path));
}

}  // namespace driftrec::cli
