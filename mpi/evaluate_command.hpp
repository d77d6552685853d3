// The `evaluate` subcommand of driftrec-mpi (mpi/evaluate_job.hpp): the options of
// `driftrec evaluate` (cli/options.hpp), --threads per rank, and rank 0's printing.
#pragma once
#include <CLI/CLI.hpp>

#include "mpi/comm.hpp"

namespace driftrec::mpi {

void add_evaluate_command(CLI::App& app, const Comm& c);

}  // namespace driftrec::mpi
