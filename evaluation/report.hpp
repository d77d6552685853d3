// What `driftrec evaluate` prints: a readable table (one block per task, models as rows,
// metrics as columns, each cell "value [ci95 low, high]") and the JSON report
//   {"store", "slicing", "test_periods": [str], "users_evaluated": int,
//    "results": [{"model", "task", "metric", "value", "ci95": [lo, hi], "users"}], ...}
// plus the extra keys "validation_period", "hyperparameters", "validation", "fallbacks",
// "bootstrap", "notes" (and "truth" with --truth). A row that no pair defines (e.g.
// new_label_recall@3 when no user met a new label) has no value: it is left out of
// "results", shown as "n/a" in the table and named in "notes".
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "evaluation/evaluate.hpp"

namespace driftrec::evaluation {

struct ReportContext {
  std::uint64_t seed = 0;
  int resamples = kBootstrapResamples;
  const PlantedTruth* truth = nullptr;
  std::string validation_period;  // "begin/end"
};

nlohmann::json report_json(const EvaluationReport& r, const ReportContext& c);
std::string report_table(const EvaluationReport& r, const ReportContext& c);

}  // namespace driftrec::evaluation
