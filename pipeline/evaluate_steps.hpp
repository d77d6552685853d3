// The steps of evaluate_store (pipeline/evaluate.hpp), for a caller that runs the models
// elsewhere (driftrec-mpi evaluate: every rank loads, rank 0 tunes, each rank fits some
// of the models, rank 0 assembles the report): evaluate_store is
//   load_evaluation -> tune_evaluation (when tune_budget > 0) -> choose_models
//   -> evaluation::evaluate -> summarize_evaluation.
#pragma once
#include <optional>
#include <vector>

#include "evaluation/evaluate.hpp"
#include "evaluation/library_models.hpp"
#include "evaluation/split.hpp"
#include "evaluation/tuning.hpp"
#include "pipeline/common.hpp"
#include "pipeline/evaluate.hpp"

namespace driftrec::pipeline {

struct EvaluationSetup {
  evaluation::EvaluationData data;
  DeviceBackends device;                   // borrowed by `library` and the models: keep alive
  evaluation::LibraryModelOptions library;
  evaluation::Split split;                 // as for every row of the registry
  evaluation::PlantedTruth truth;          // read when the request names a truth file
  evaluation::EvaluateOptions options;     // points into `truth`: do not copy the setup
  std::vector<evaluation::ModelSpec> models;  // set by choose_models
  std::optional<evaluation::TuneResult> tuned;

  EvaluationSetup() = default;
  EvaluationSetup(const EvaluationSetup&) = delete;
  EvaluationSetup& operator=(const EvaluationSetup&) = delete;
};

// Checks the request (InputError naming the field), reads the store (every event: the
// protocol's trainings need them) and the truth file; no models yet.
void load_evaluation(const EvaluateRequest& request, EvaluationSetup& setup);

// The sequence models' tuning on the validation period (request.tune_budget > 0).
evaluation::TuneResult tune_evaluation(const EvaluationSetup& setup, const EvaluateRequest& request);

// The models of the registry with the tuned sequence settings (none: the defaults), kept
// to request.models when it names some (InputError for an unknown name); sets
// setup.tuned and setup.models.
void choose_models(EvaluationSetup& setup, const EvaluateRequest& request,
                   std::optional<evaluation::TuneResult> tuned);

// The table and the JSON report of `driftrec evaluate`; `seconds`: the evaluation's wall time.
EvaluateSummary summarize_evaluation(const EvaluationSetup& setup, const evaluation::EvaluationReport& report,
                                     double seconds);

}  // namespace driftrec::pipeline
