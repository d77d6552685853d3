// `driftrec-mpi evaluate`: the temporal evaluation of `driftrec evaluate`
// (pipeline/evaluate.hpp) across MPI ranks, with the same report.
//
// What costs is fitting the models (tuning on the validation period, a refit per test
// period), and a model's fits are sequential and deterministic; scoring a (user, period)
// pair is cheap beside them. So the ranks split the MODELS, each with its pairs: every rank
// reads the whole store (the trainings need every event before a period) and the same
// setup; the rows are assigned to ranks statically by their cost (assign_models); each
// rank tunes, refits and scores its models on the pairs of every test period
// (evaluation::evaluate_models, on the rank's OpenMP threads), and rank 0 gathers every
// model's per-pair series, chosen setting, validation and notes, and assembles the report
// in the single process's row order with the same bootstrap (evaluation::assemble_report:
// same seed, same resamples, same pooled pairs), so every estimate and interval is the
// single process's bit for bit. Only "seconds" and "cpu_seconds" differ: each is the
// owning rank's wall and CPU time on the model.
//
// --tune-budget: rank 0 alone tunes (a budget in seconds tries as many settings as time
// allows, so ranks tuning apart could choose differently) and broadcasts the choice.
//
// DRIFTREC_MPI_FAIL_RANK=r (tests) makes rank r fail before its first fit (mpi::inject_fault,
// period 0); every rank then exits non-zero and rank 0 names rank r.
#pragma once
#include <string>
#include <vector>

#include "mpi/comm.hpp"
#include "pipeline/evaluate.hpp"

namespace driftrec::mpi {

// The cost of evaluating one row, relative to the others, for the static assignment: the
// CPU seconds of `driftrec evaluate --threads 1` on the bundled MovieLens by year (3 test
// periods); rows not in the table cost as much as the median row.
double model_cost(const std::string& name);

// The rows that must run on one rank because they share fits through a cache (the sequence
// rows: sequence_gru, hybrid and mixture read one GRU fit, and all of them one set of
// features): the same non-empty key; "" for a row alone.
std::string model_group(const std::string& name);

// The rank of each of `names`: groups (model_group) in decreasing cost, ties by first row,
// each to the rank with the least cost so far (ties: the lowest rank). The same on every
// rank.
std::vector<int> assign_models(const std::vector<std::string>& names, int ranks);

struct EvaluateJobSummary {
  pipeline::EvaluateSummary summary;  // rank 0's: the report of `driftrec evaluate`
  int ranks = 0;
  std::vector<std::string> models;    // the models evaluated, in report order
  std::vector<int> owner;             // per model: its rank (assign_models)
  std::vector<double> rank_seconds;   // per rank: wall time on its models (rank 0 holds them)
};

// Collective. Throws RankFailure (every rank) when a rank fails.
EvaluateJobSummary evaluate_store(const Comm& c, const pipeline::EvaluateRequest& request);

}  // namespace driftrec::mpi
