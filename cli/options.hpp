// The option declarations that `driftrec` (cli/) and `driftrec-mpi` (mpi/main.cpp) share,
// so that a job's options read the same in both: names, defaults and help text are
// declared once here. This library holds no HDF5 (driftrec-mpi links the parallel HDF5,
// the CLI commands the serial one), only CLI11 and the option structs.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "matrix_factorization/implicit_als.hpp"
#include "matrix_factorization/temporal_als.hpp"
#include "pipeline/walk_options.hpp"
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

}  // namespace driftrec::cli
