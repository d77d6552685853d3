#include "evaluation/tuning.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.hpp"
#include "evaluation/baselines.hpp"
#include "evaluation/metrics.hpp"

namespace driftrec::evaluation {

TuneResult tune_within_budget(const std::vector<Params>& candidates, const std::function<double(const Params&)>& score,
                              double budget_seconds, const TuneClock& clock) {
  if (candidates.empty()) throw InputError("tuning: no candidate settings");
  if (!(budget_seconds >= 0))
    throw InputError(fmt::format("--tune-budget: expected a time in seconds >= 0, got {}", budget_seconds));
  const TuneClock now = clock ? clock : [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  TuneResult r;
  r.budget_seconds = budget_seconds;
  r.chosen = candidates.front();
  const double start = now();
  double best = std::numeric_limits<double>::quiet_NaN(), slowest = 0;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const double spent = now() - start;
    if (c > 0 && spent + slowest > budget_seconds) {
      r.skipped = candidates.size() - c;
      break;
    }
    const double t0 = now();
    TuneTrial trial{candidates[c], score(candidates[c]), 0};
    trial.seconds = now() - t0;
    slowest = std::max(slowest, trial.seconds);
    if (!std::isnan(trial.value) && (std::isnan(best) || trial.value < best)) {  // ties keep the earlier
      best = trial.value;
      r.chosen = candidates[c];
    }
    r.trials.push_back(std::move(trial));
  }
  r.seconds = now() - start;
  return r;
}

nlohmann::json to_json(const TuneResult& r) {
  auto params = [](const Params& p) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : p) j[k] = v;
    return j;
  };
  nlohmann::json trials = nlohmann::json::array();
  for (const TuneTrial& t : r.trials)
    trials.push_back({{"params", params(t.params)},
                      {"value", std::isnan(t.value) ? nlohmann::json(nullptr) : nlohmann::json(t.value)},
                      {"seconds", t.seconds}});
  return {{"chosen", params(r.chosen)}, {"trials", trials}, {"skipped", r.skipped},
          {"budget_seconds", r.budget_seconds}, {"seconds", r.seconds}};
}

std::vector<Params> sequence_search_space(const temporal::SequenceOptions& base) {
  const double h = base.model.hidden, w = base.window, lr = base.model.learning_rate;
  const Params d{{"hidden", h}, {"window", w}, {"learning_rate", lr}};
  std::vector<Params> out{d};
  auto with = [&](const char* key, double v) {
    Params p = d;
    p[key] = v;
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  // Cheaper settings first, so a small budget still tries a few.
  with("hidden", std::max(4.0, std::round(h / 2)));
  with("window", std::max(1.0, std::round(w / 2)));
  with("learning_rate", lr * 3);
  with("learning_rate", lr / 3);
  with("hidden", h * 2);
  with("window", w * 2);
  return out;
}

temporal::SequenceOptions apply_sequence_params(temporal::SequenceOptions base, const Params& p) {
  if (auto it = p.find("hidden"); it != p.end()) base.model.hidden = static_cast<int>(it->second);
  if (auto it = p.find("window"); it != p.end()) base.window = static_cast<int>(it->second);
  if (auto it = p.find("learning_rate"); it != p.end()) base.model.learning_rate = static_cast<float>(it->second);
  return base;
}

double sequence_validation_loss(const EvaluationData& data, std::size_t period, const temporal::SequenceOptions& o) {
  const Training t = make_training(data, period);
  temporal::SequenceOptions gru = o;
  gru.model.cell = temporal::CellKind::gru;
  const temporal::TrainedSequence fit = temporal::train_sequence(t, gru);
  const std::vector<float> popularity = popularity_interest(t);
  double sum = 0;
  std::size_t n = 0;
  std::vector<float> row(static_cast<std::size_t>(t.n_labels));
  for (const EvaluatedPair& e : evaluated_pairs(data, t)) {
    if (!e.has_interest) continue;
    bool any = false;
    for (std::size_t l = 0; l < row.size(); ++l) {
      row[l] = fit.next.interests(e.user, static_cast<Eigen::Index>(l));
      any = any || row[l] > 0;
    }
    const std::vector<double> p = floored_distribution(any ? std::span<const float>(row) : popularity);
    sum += cross_entropy(e.interest, p);
    ++n;
  }
  return n > 0 ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

TuneResult tune_sequence(const EvaluationData& data, std::size_t validation_period,
                         const temporal::SequenceOptions& base, double budget_seconds, const TuneClock& clock) {
  return tune_within_budget(
      sequence_search_space(base),
      [&](const Params& p) { return sequence_validation_loss(data, validation_period, apply_sequence_params(base, p)); },
      budget_seconds, clock);
}

}  // namespace driftrec::evaluation
