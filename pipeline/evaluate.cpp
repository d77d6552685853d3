#include "pipeline/evaluate.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "evaluation/evaluate.hpp"
#include "evaluation/registry.hpp"
#include "evaluation/report.hpp"
#include "evaluation/truth.hpp"
#include "evaluation/tuning.hpp"
#include "io/store_info.hpp"

namespace driftrec::pipeline {
namespace ev = evaluation;

EvaluateSummary evaluate_store(const EvaluateRequest& q) {
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  for (int k : q.ks)
    if (k < 1 || k > 100000) throw InputError(fmt::format("ks: expected cut-offs between 1 and 100000, got {}", k));
  if (q.ks.empty()) throw InputError("ks: expected at least one cut-off");
  const io::Store store = io::Store::open(q.store);
  if (store.n_labels() == 0)
    throw InputError(fmt::format("{}: the store has no item labels, which the interest models and metrics need; "
                                 "ingest the log again with --labels FILE (item,label rows, or MovieLens movies.csv)",
                                 q.store));
  const ev::EvaluationData data = ev::load_evaluation_data(store);
  for (std::size_t k = 0; k < data.slices.size(); ++k) check_slice_weights(store, k, data.slices[k]);
  const DeviceBackends device = device_backends(q.device, q.threads);
  ev::LibraryModelOptions lo;
  lo.seed = q.seed;
  lo.threads = q.threads;
  lo.propagation_backend = device.propagation.get();
  lo.als_backend = device.als.get();
  std::vector<ev::ModelSpec> models = ev::default_models(lo);
  const ev::Split split = ev::make_split(data.periods.size(), q.test_periods, ev::min_training_periods(models));
  // Tuning reads the validation period (and the data before it) only.
  std::optional<ev::TuneResult> tuned;
  if (q.tune_budget > 0) {
    tuned = ev::tune_sequence(data, split.validation, ev::default_sequence_options(lo), q.tune_budget);
    lo.sequence_settings = tuned->chosen;
    models = ev::default_models(lo);
  }

  if (!q.models.empty()) {
    std::vector<ev::ModelSpec> kept;
    std::string names;
    for (const ev::ModelSpec& m : models) names += (names.empty() ? "" : ", ") + m.name;
    for (const std::string& name : q.models) {
      auto it = std::find_if(models.begin(), models.end(), [&](const ev::ModelSpec& m) { return m.name == name; });
      if (it == models.end())
        throw InputError(fmt::format("models: no row named '{}'; expected some of: {}", name, names));
      if (std::none_of(kept.begin(), kept.end(), [&](const ev::ModelSpec& m) { return m.name == name; }))
        kept.push_back(*it);
    }
    models = std::move(kept);
  }

  ev::PlantedTruth truth;
  ev::EvaluateOptions o;
  o.test_periods = q.test_periods;
  o.ks = q.ks;
  o.seed = q.seed;
  o.threads = q.threads;
  o.progress = q.progress;
  if (!q.truth.empty()) {
    truth = ev::read_planted_truth(q.truth, data, split.test);
    o.truth = &truth;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const ev::EvaluationReport report = ev::evaluate(data, models, o);
  EvaluateSummary s;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  ev::ReportContext c;
  c.seed = q.seed;
  c.resamples = o.resamples;
  c.truth = o.truth;
  c.validation_period = io::format_time(data.periods.begin[split.validation]) + "/" +
                        io::format_time(data.periods.end[split.validation]);
  s.table = ev::report_table(report, c);
  s.report = ev::report_json(report, c);
  if (tuned) {
    s.report["tuning"] = {{"sequence", ev::to_json(*tuned)}};
    std::string chosen;
    for (const auto& [k, v] : tuned->chosen) chosen += fmt::format("{}{}={}", chosen.empty() ? "" : ", ", k, v);
    s.table += fmt::format("tuned the sequence models on the validation period in {:.1f} s (budget {:.0f} s, {} of {} "
                           "settings tried): {}\n",
                           tuned->seconds, tuned->budget_seconds, tuned->trials.size(),
                           tuned->trials.size() + tuned->skipped, chosen);
  }
  return s;
}

nlohmann::json EvaluateSummary::to_json() const {
  nlohmann::json j = report;
  j["wall_seconds"] = seconds;
  return j;
}

}  // namespace driftrec::pipeline
