// evaluate_store: `driftrec evaluate` as a call. The temporal evaluation protocol
// (evaluation/evaluate.hpp) on a store, every baseline and model of
// evaluation/registry.hpp in one run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/library_models.hpp"
#include "pipeline/common.hpp"

namespace driftrec::pipeline {

struct EvaluateRequest {
  std::string store;
  std::int64_t test_periods = 3;  // the last N periods, >= 1
  std::vector<int> ks{10, 20};    // cut-offs of the item metrics
  std::uint64_t seed = 0;         // bootstrap resamples and ALS initialisation
  std::string truth;              // truth.csv of `driftrec generate`: also score against the planted interests
  int threads = 0;                // 0: OpenMP's default; the scoring's and every model's
  std::string device = "cpu";     // cpu | cuda | auto: the propagation and ALS models' kernels
  double tune_budget = 0;         // seconds; > 0: first choose the sequence models' hidden size,
                                  // window and learning rate on the validation period
                                  // (evaluation/tuning.hpp)
  // The sequence rows train on at most this many users drawn with `seed` (0: every user);
  // see evaluation::LibraryModelOptions::train_users.
  int train_users = evaluation::kDefaultTrainUsers;
  // The rows to evaluate, by name (evaluation/registry.hpp); empty: every row. The periods
  // are split as for every row, so a subset scores the same pairs as the full run.
  std::vector<std::string> models;
  Progress progress;
};

struct EvaluateSummary {
  std::string table;     // the report as `driftrec evaluate` prints it
  nlohmann::json report; // the JSON report (evaluation/report.hpp)
  double seconds = 0;

  // The report with "wall_seconds": what `driftrec evaluate --json FILE` writes.
  nlohmann::json to_json() const;
};

// Throws InputError naming the field (test_periods, ks, truth...) for a bad request.
EvaluateSummary evaluate_store(const EvaluateRequest& request);

}  // namespace driftrec::pipeline
