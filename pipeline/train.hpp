// train_store and predict: `driftrec train` and `driftrec predict` as calls. train_store
// fits the sequence model (temporal/sequence_fit.hpp) on every period of a store, chooses
// the hybrid's blend weight on the last period, and saves the model with each user's
// prediction for the period after the last under /results/<name> (layout
// io/sequence_result.hpp). predict reads a user's predicted interests back.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/sequence_result.hpp"
#include "pipeline/common.hpp"
#include "temporal/label_ranking.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::pipeline {

struct TrainRequest {
  std::string store;
  std::string name = "sequence";
  temporal::SequenceOptions options;
  // Which interests to store and serve: "best" (the sequence model's head or the interest
  // mixture, whichever has the lower cross-entropy on the last period), "sequence" or
  // "mixture".
  std::string interests = "best";
  // What `recommend --model`, `export` and `serve` rank the result's items by: "best" (the hybrid or the learned item ranker,
  // whichever has the higher recall@20 on the last period: each fitted on the periods
  // before it), "hybrid" or "ranker" (evaluation/ranker_model.hpp).
  std::string items = "best";
  int threads = 0;  // 0: OpenMP's default; sets every threads field of `options`
  std::string device = "cpu";  // cpu | cuda | auto: the propagated interests' and ALS features' kernels
  Progress progress;
};

struct TrainSummary {
  std::string store, result;
  temporal::CellKind cell = temporal::CellKind::gru;
  std::size_t periods = 0;
  std::size_t epochs_run = 0;
  int best_epoch = 0;
  bool stopped_early = false;
  double best_validation_loss = 0;
  temporal::WeightChoice interest_weight;  // recall@20 on the last period
  int propagation_not_converged = 0;       // feature periods
  std::string interests = "sequence";      // what the result serves: "sequence" | "mixture"
  double validation_cross_entropy_sequence = 0;
  double validation_cross_entropy_mixture = 0;  // NaN when no mixture was trained
  int mixture_only_expert = -1;                 // -1: gated; else the expert it fell back to
  temporal::BoostChoice label_ranking;          // the mixture's (boost 1: p's order, or no mixture served)
  std::string items = "hybrid";                 // what recommend --model ranks by: "hybrid" | "ranker"
  std::string ranker_setting;                   // "learned" or a source's name; empty: not fitted
  double validation_recall_ranker = 0;          // recall@20 on the last period (NaN: not fitted)
  double seconds = 0;

  const char* cell_name() const;  // "gru" | "lstm" | "attention"
  nlohmann::json to_json() const;
};

// Needs a store with item labels and at least 4 periods. Throws InputError naming the
// field for a bad request, as the trainer does.
TrainSummary train_store(const TrainRequest& request);

// What train_store does between reading the store and writing the result, on a history
// already in memory (update --retrain): `options` with their thread counts set and
// validated. Fills `result` (slicing and periods included) and returns the summary.
TrainSummary train_history(const temporal::History& history, const temporal::SequenceOptions& options,
                           const std::string& slicing, io::SequenceResult& result, const Progress& progress = {},
                           const std::string& interests = "best");

// Every period of a store as the history train fits on (and the reference a stepped
// model is compared with).
temporal::History store_history(const io::Store& store);

// The options a train result was trained with (its model's own, its window and factor
// count; the feature propagation and ALS at `driftrec train`'s defaults otherwise).
temporal::SequenceOptions stored_train_options(const io::SequenceResult& result);

struct PredictRequest {
  std::string store;
  std::string user;               // id as in the log
  std::string model = "sequence"; // a train result
  int top = 5;                    // labels returned, >= 1
};

struct PredictedLabel {
  std::string label;
  float probability = 0;
  bool is_new = false;  // the user never had an item with this label
};

struct Prediction {
  std::string user, model;
  std::vector<PredictedLabel> labels;  // ranked first (below)

  nlohmann::json to_json() const;
};

// The user's `top` first labels for the period after the store's last: by probability,
// those the user never had multiplied by the result's new_label_boost (the interest
// mixture's label ranking, docs/math.md; 1 for a cell's own head), ties by label index.
Prediction predict(const PredictRequest& request);

}  // namespace driftrec::pipeline
