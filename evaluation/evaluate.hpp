// One evaluation run (docs/evaluation.md, "Evaluation protocol"): split the store's periods
// (split.hpp), tune every model's hyper-parameters on the validation period (fitted on
// the data before it), refit each model with its chosen setting for every test period on
// the data strictly before that period, score every evaluated (user, period) pair, and
// put a 95% bootstrap interval on every mean (bootstrap.hpp; one set of resamples over
// the pooled pairs shared by every model and metric).
//
// Selection on validation: models with an interest prediction minimise the mean
// cross-entropy; item-only models maximise the mean ndcg@K of the first K asked for, or,
// with ModelSpec::select_by_recall, the mean recall@K of the largest K. Ties keep the
// earlier grid entry.
//
// Interest predictions that are all zero (or not positive anywhere) are replaced by
// popularity's prediction for that period, and counted as fallbacks.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/bootstrap.hpp"
#include "evaluation/model.hpp"
#include "evaluation/split.hpp"

namespace driftrec::evaluation {

// The planted interests of generated data, per (period index, user), over the store's
// labels (see truth.hpp).
struct PlantedTruth {
  std::map<std::pair<std::size_t, graph::Index>, std::vector<double>> interests;
  std::string description;  // what was read and what was dropped, for the report
};

struct EvaluateOptions {
  std::int64_t test_periods = 3;
  std::vector<int> ks{10, 20};
  std::uint64_t seed = 0;  // bootstrap resamples
  int resamples = kBootstrapResamples;
  const PlantedTruth* truth = nullptr;  // adds "interest_truth" rows when given
  int threads = 0;  // >= 0: threads scoring the pairs and resampling; 0: OpenMP's default
  // Progress: a stage name and steps done / total (model fits).
  std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)> progress;
};

struct ResultRow {
  std::string model;
  std::string task;    // "interest" | "item" | "interest_truth"
  std::string metric;  // cross_entropy, kl, recall@3, ..., recall@10, ndcg@10, hr@10
  Estimate estimate;   // value, ci95, users (defined pairs)
};

struct PairId {
  graph::Index user = 0;
  std::size_t period = 0;
};

struct EvaluationReport {
  std::string store, slicing;
  std::size_t validation_period = 0;
  std::vector<std::size_t> test_period_index;
  std::vector<std::string> test_periods;  // "begin/end" in ISO 8601 UTC
  std::vector<PairId> pairs;              // the pooled evaluated pairs, by period then user
  std::vector<ResultRow> rows;            // every (model, task, metric), also those with users = 0
  std::vector<Series> series;             // per row: the value of every pair
  nlohmann::json hyperparameters = nlohmann::json::object();  // {model: {name: value}}
  nlohmann::json validation = nlohmann::json::object();       // {model: [{params, metric, value}]}
  nlohmann::json fallbacks = nlohmann::json::object();        // {model: pairs given popularity}
  nlohmann::json seconds = nlohmann::json::object();          // {model: fit + scoring wall time}
  // {model: CPU time of the process (all threads) over the same spans}: unlike the wall
  // time, about the same on a loaded machine.
  nlohmann::json cpu_seconds = nlohmann::json::object();
  std::vector<std::string> notes;
  std::vector<int> ks;
};

// Progress from inside a fit: a model whose fit runs long (the sequence rows train for
// minutes) calls this from the thread that called its fit; during evaluate() it reaches
// EvaluateOptions::progress as the stage "<stage>: <what> <done>/<total>" at the fit count
// of the moment, so a log shows the run is alive. Outside evaluate() it does nothing.
void fit_progress(const char* what, std::uint64_t done, std::uint64_t total);

// The most ModelSpec::min_training_periods of `models` (1 for none): make_split's argument.
std::size_t min_training_periods(const std::vector<ModelSpec>& models);

// Throws InputError on a bad option (naming it): --test-periods out of range
// (make_split(periods, test_periods, min_training_periods(models))), a K below 1, no models.
// The same as assemble_report(data, models, options, evaluate_models(data, models, options)).
EvaluationReport evaluate(const EvaluationData& data, const std::vector<ModelSpec>& models,
                          const EvaluateOptions& options);

// evaluate() in two steps, so the models can be fitted in different processes (driftrec-mpi
// evaluate: each rank evaluates some of the models, rank 0 assembles): what one model
// contributes to the report before the bootstrap. Nothing in it depends on the other models
// evaluated beside it (rows share caches of deterministic fits only), so a model's outcome
// is the same whichever process computes it, up to the timings.
struct ModelOutcome {
  bool evaluated = false;  // false: not selected in this process (everything below empty)
  Params chosen;           // the setting refitted on the test periods
  nlohmann::json validation;                // the settings tried (null: one setting, not tuned)
  std::string validation_note;              // "" or why the first setting was kept
  std::vector<std::string> period_notes;    // per test period: the fit's note ("" none)
  std::vector<Series> series;               // the model's rows' series, in report row order
  std::int64_t fallbacks = 0;
  double seconds = 0, cpu_seconds = 0;      // this process's wall and CPU time on the model
};

struct ModelOutcomes {
  std::vector<PairId> pairs;            // the pooled evaluated pairs, by period then user
  std::vector<ModelOutcome> models;     // per model of the list, in its order
};

// Tunes and refits models[m] for every m with selected[m] (every model when `selected` is
// empty), in evaluate()'s order: the validation period, then each test period in order.
// The options are checked as evaluate() checks them (over every model of the list, selected
// or not).
ModelOutcomes evaluate_models(const EvaluationData& data, const std::vector<ModelSpec>& models,
                              const EvaluateOptions& options, const std::vector<bool>& selected = {});

// The report from every model's outcome (all evaluated): rows in model order, notes in
// evaluate()'s order (validation notes by model, then each test period's by model), and
// the bootstrap on options.seed and options.resamples.
EvaluationReport assemble_report(const EvaluationData& data, const std::vector<ModelSpec>& models,
                                 const EvaluateOptions& options, ModelOutcomes outcomes);

}  // namespace driftrec::evaluation
