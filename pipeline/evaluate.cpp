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
#include "pipeline/evaluate_steps.hpp"

namespace driftrec::pipeline {
namespace ev = evaluation;

void load_evaluation(const EvaluateRequest& q, EvaluationSetup& s) {
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  for (int k : q.ks)
    if (k < 1 || k > 100000) throw InputError(fmt::format("ks: expected cut-offs between 1 and 100000, got {}", k));
  if (q.ks.empty()) throw InputError("ks: expected at least one cut-off");
  const io::Store store = io::Store::open(q.store);
  if (store.n_labels() == 0)
    throw InputError(fmt::format("{}: the store has no item labels, which the interest models and metrics need; "
                                 "ingest the log again with --labels FILE (item,label rows, or MovieLens movies.csv)",
                                 q.store));
  s.data = ev::load_evaluation_data(store);
  for (std::size_t k = 0; k < s.data.slices.size(); ++k) check_slice_weights(store, k, s.data.slices[k]);
  s.device = device_backends(q.device, q.threads);
  ev::LibraryModelOptions& lo = s.library;
  lo.seed = q.seed;
  lo.threads = q.threads;
  if (q.train_users < 0)
    throw InputError(fmt::format("train_users: expected 0 (every user) or a positive count, got {}", q.train_users));
  lo.train_users = q.train_users;
  if (!(q.tune_budget >= 0))
    throw InputError(fmt::format("tune_budget: expected a time in seconds >= 0, got {}", q.tune_budget));
  lo.propagation_backend = s.device.propagation.get();
  lo.als_backend = s.device.als.get();
  s.split = ev::make_split(s.data.periods.size(), q.test_periods, ev::min_training_periods(ev::default_models(lo)));

  ev::EvaluateOptions& o = s.options;
  o.test_periods = q.test_periods;
  o.ks = q.ks;
  o.seed = q.seed;
  o.threads = q.threads;
  o.progress = q.progress;
  if (!q.truth.empty()) {
    s.truth = ev::read_planted_truth(q.truth, s.data, s.split.test);
    o.truth = &s.truth;
  }
}

ev::TuneResult tune_evaluation(const EvaluationSetup& s, const EvaluateRequest& q) {
  // Tuning reads the validation period (and the data before it) only.
  return ev::tune_sequence(s.data, s.split.validation, ev::default_sequence_options(s.library), q.tune_budget);
}

void choose_models(EvaluationSetup& s, const EvaluateRequest& q, std::optional<ev::TuneResult> tuned) {
  if (tuned) s.library.sequence_settings = tuned->chosen;
  s.tuned = std::move(tuned);
  std::vector<ev::ModelSpec> models = ev::default_models(s.library);
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
  s.models = std::move(models);
}

EvaluateSummary summarize_evaluation(const EvaluationSetup& setup, const ev::EvaluationReport& report,
                                     double seconds) {
  EvaluateSummary s;
  s.seconds = seconds;
  ev::ReportContext c;
  c.seed = setup.options.seed;
  c.resamples = setup.options.resamples;
  c.truth = setup.options.truth;
  const std::size_t v = setup.split.validation;
  c.validation_period =
      io::format_time(setup.data.periods.begin[v]) + "/" + io::format_time(setup.data.periods.end[v]);
  s.table = ev::report_table(report, c);
  s.report = ev::report_json(report, c);
  s.report["train_users"] = setup.library.train_users;  // 0: every user; the sequence rows depend on it
  if (const auto& tuned = setup.tuned) {
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

EvaluateSummary evaluate_store(const EvaluateRequest& q) {
  EvaluationSetup setup;
  load_evaluation(q, setup);
  std::optional<ev::TuneResult> tuned;
  if (q.tune_budget > 0) tuned = tune_evaluation(setup, q);
  choose_models(setup, q, std::move(tuned));
  const auto t0 = std::chrono::steady_clock::now();
  const ev::EvaluationReport report = ev::evaluate(setup.data, setup.models, setup.options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summarize_evaluation(setup, report, seconds);
}

nlohmann::json EvaluateSummary::to_json() const {
  nlohmann::json j = report;
  j["wall_seconds"] = seconds;
  return j;
}

}  // namespace driftrec::pipeline
