#include "evaluation/sequence_models.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "evaluation/metrics.hpp"

namespace driftrec::evaluation {
namespace mf = matrix_factorization;
namespace pr = propagation;
using graph::Index;

SequenceOptions::SequenceOptions() {
  // Features: propagation to 1e-4 (the features need no more), a small temporal ALS.
  propagation.propagation.tolerance = 1e-4;
  als.als.factors = 16;
  als.als.iterations = 3;
  als.als.regularization = 0.1f;
  als.eta = 1.0f;
  als.gamma = 0.5f;
  // Early stopping ends training; 30 epochs stopped still improving on generated data.
  model.epochs = 80;
}

void SequenceOptions::validate() const {
  if (window < 1) throw InputError(fmt::format("window: expected >= 1 periods, got {}", window));
  propagation.validate();
  als.validate();
  features.validate();
  model.validate();
}

SequenceFeatures sequence_features(const Training& t, const SequenceOptions& o, const SequenceProgress& progress) {
  // The windowed periods and the events of each: the summed head holds every earlier event.
  const std::vector<graph::CsrMatrix> slices = windowed_slices(t, o.window);
  const std::size_t periods = slices.size(), skipped = t.slices.size() - periods;
  std::vector<std::size_t> first_event{0};
  for (std::size_t p = 0; p < periods; ++p) first_event.push_back(t.period_first[p + 1 + skipped]);
  const auto labels = static_cast<Eigen::Index>(t.n_labels);
  SequenceFeatures out;
  out.item_label_seeds = pr::item_seed_labels(t.item_labels);

  // F_U(t): temporal label propagation over the training periods.
  pr::propagate_temporal_streaming(slices, t.item_labels, o.propagation,
                                   [&](std::size_t p, pr::PeriodResult& r) {
                                     if (!r.converged) ++out.not_converged;
                                     out.inputs.interests.push_back(std::move(r.interests));
                                     if (progress) progress("features: propagation", p + 1, periods);
                                   });
  // x_u(t): temporal ALS, and the item factors of the last period.
  mf::fit_temporal_als(slices, o.als, {}, [&](std::size_t p, const mf::AlsModel& m) {
    out.inputs.factors.push_back(m.user);
    if (p + 1 == periods) out.item_factors = m.item;
    if (p + 2 == periods) out.validation_item_factors = m.item;
    if (progress) progress("features: temporal ALS", p + 1, periods);
  });
  // Activity and interest truth from the events of each period.
  std::vector<double> acc(static_cast<std::size_t>(t.n_users) * static_cast<std::size_t>(labels));
  for (std::size_t p = 0; p < periods; ++p) {
    std::vector<float> activity(static_cast<std::size_t>(t.n_users), 0.0f);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t k = first_event[p]; k < first_event[p + 1]; ++k) {
      const auto u = static_cast<std::size_t>(t.events.user[k]);
      activity[u] += 1;
      add_item_labels(t.item_labels, t.events.item[k], 1.0,
                      std::span<double>(acc.data() + u * static_cast<std::size_t>(labels), static_cast<std::size_t>(labels)));
    }
    temporal::RowMatrix truth(t.n_users, labels);
    for (Index u = 0; u < t.n_users; ++u) {
      std::span<double> row(acc.data() + static_cast<std::size_t>(u) * static_cast<std::size_t>(labels),
                            static_cast<std::size_t>(labels));
      normalize(row);
      for (Eigen::Index l = 0; l < labels; ++l) truth(u, l) = static_cast<float>(row[static_cast<std::size_t>(l)]);
    }
    out.inputs.activity.push_back(std::move(activity));
    out.inputs.interest_truth.push_back(std::move(truth));
  }
  return out;
}

TrainedSequence train_sequence(const Training& t, const SequenceOptions& o, const SequenceProgress& progress) {
  o.validate();
  SequenceFeatures f = sequence_features(t, o, progress);
  const temporal::SequenceData data = temporal::assemble_sequences(f.inputs, o.features);
  TrainedSequence out;
  out.training = temporal::train_sequence_model(data, o.model, [&](const temporal::EpochReport& r) {
    if (progress) progress("training", static_cast<std::uint64_t>(r.epoch), static_cast<std::uint64_t>(o.model.epochs));
  });
  out.next = temporal::predict_next(out.training.model, data, o.model.threads);
  temporal::SequenceInputs before = f.inputs;  // periods 0..P-2
  for (auto* v : {&before.interests, &before.factors, &before.interest_truth})
    if (!v->empty()) v->pop_back();
  before.activity.pop_back();
  out.validation_next =
      temporal::predict_next(out.training.model, temporal::assemble_sequences(before, o.features), o.model.threads);
  out.validation_item_factors = std::move(f.validation_item_factors);
  out.item_factors = std::move(f.item_factors);
  out.item_label_seeds = std::move(f.item_label_seeds);
  out.not_converged = f.not_converged;
  return out;
}

void hybrid_scores(const mf::Factors& item_factors, const pr::DenseMatrix& item_label_seeds,
                   const Eigen::Ref<const Eigen::VectorXf>& factor, const Eigen::Ref<const Eigen::VectorXf>& interests,
                   double weight, std::span<float> out) {
  Eigen::Map<Eigen::VectorXf> scores(out.data(), static_cast<Eigen::Index>(out.size()));
  const Eigen::VectorXf by_factor = item_factors * factor;
  const Eigen::VectorXf match = item_label_seeds * interests;
  const float f_max = by_factor.size() ? by_factor.cwiseAbs().maxCoeff() : 0.0f;
  const float m_max = match.size() ? match.maxCoeff() : 0.0f;
  scores = static_cast<float>(1 - weight) * (f_max > 0 ? Eigen::VectorXf(by_factor / f_max) : by_factor) +
           static_cast<float>(weight) * (m_max > 0 ? Eigen::VectorXf(match / m_max) : match);
}

WeightChoice choose_interest_weight(const EvaluationData& data, std::size_t periods, const TrainedSequence& s,
                                    const std::vector<double>& grid, int k) {
  WeightChoice best;
  if (periods < 2) return best;
  const Training validation = make_training(data, periods - 1);
  const std::vector<EvaluatedPair> pairs = evaluated_pairs(data, validation);
  std::vector<float> scores(static_cast<std::size_t>(data.n_items));
  for (std::size_t g = 0; g < grid.size(); ++g) {
    double sum = 0;
    std::size_t n = 0;
    for (const EvaluatedPair& p : pairs) {
      if (p.items.empty()) continue;
      hybrid_scores(s.validation_item_factors, s.item_label_seeds, s.validation_next.factors.row(p.user).transpose(),
                    s.validation_next.interests.row(p.user).transpose(), grid[g], scores);
      const std::vector<Index> eligible = eligible_items(validation, p.user);
      sum += recall_at(top_k_of(scores, eligible, k), p.items, k);
      ++n;
    }
    const double recall = n ? sum / static_cast<double>(n) : 0.0;
    if (g == 0 || recall > best.recall) best = {grid[g], recall, n};
  }
  return best;
}

namespace {

class SequenceRow : public FittedModel {
 public:
  explicit SequenceRow(std::shared_ptr<const TrainedSequence> s) : s_(std::move(s)) {}
  void interest(Index u, std::span<float> out) const override {
    for (std::size_t l = 0; l < out.size(); ++l) out[l] = s_->next.interests(u, static_cast<Eigen::Index>(l));
  }
  void items(Index u, std::span<float> out) const override {
    Eigen::Map<Eigen::VectorXf>(out.data(), static_cast<Eigen::Index>(out.size())).noalias() =
        s_->item_factors * s_->next.factors.row(u).transpose();
  }
  std::string note() const override { return note_of(*s_); }

  static std::string note_of(const TrainedSequence& s) {
    std::string n = fmt::format("trained {} epochs (best {}{})", s.training.history.size(), s.training.best_epoch,
                                s.training.stopped_early ? ", stopped early" : "");
    if (s.not_converged > 0) n += fmt::format("; propagation did not converge in {} feature periods", s.not_converged);
    return n;
  }

 private:
  std::shared_ptr<const TrainedSequence> s_;
};

class HybridRow : public FittedModel {
 public:
  HybridRow(std::shared_ptr<const TrainedSequence> s, double w) : s_(std::move(s)), w_(w) {}
  void items(Index u, std::span<float> out) const override {
    hybrid_scores(s_->item_factors, s_->item_label_seeds, s_->next.factors.row(u).transpose(),
                  s_->next.interests.row(u).transpose(), w_, out);
  }
  std::string note() const override { return SequenceRow::note_of(*s_); }

 private:
  std::shared_ptr<const TrainedSequence> s_;
  double w_;
};

// Fits keyed by (P, cell); evaluation asks for periods in order, so older ones are dropped.
struct Cache {
  SequenceOptions options;
  SequenceProgress progress;
  std::map<std::pair<std::size_t, int>, std::shared_ptr<const TrainedSequence>> fits;

  std::shared_ptr<const TrainedSequence> get(const Training& t, temporal::CellKind cell) {
    const auto key = std::make_pair(t.period, static_cast<int>(cell));
    if (auto it = fits.find(key); it != fits.end()) return it->second;
    std::erase_if(fits, [&](const auto& kv) { return kv.first.first != t.period; });
    SequenceOptions o = options;
    o.model.cell = cell;
    auto fit = std::make_shared<const TrainedSequence>(train_sequence(t, o, progress));
    fits.emplace(key, fit);
    return fit;
  }
};

}  // namespace

std::vector<ModelSpec> sequence_models(const SequenceOptions& o, const SequenceProgress& progress) {
  o.validate();
  auto cache = std::make_shared<Cache>(Cache{o, progress, {}});
  std::vector<ModelSpec> out;
  for (auto [name, cell] : {std::pair{"sequence_gru", temporal::CellKind::gru},
                            std::pair{"sequence_lstm", temporal::CellKind::lstm}}) {
    ModelSpec m;
    m.name = name;
    m.interest = true;
    m.item = true;
    m.fit = [cache, cell](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
      return std::make_unique<SequenceRow>(cache->get(t, cell));
    };
    out.push_back(std::move(m));
  }
  ModelSpec h;
  h.name = "hybrid";
  h.item = true;
  h.grid.clear();
  for (double w : kInterestWeights) h.grid.push_back({{"interest_weight", w}});
  h.fit = [cache](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    return std::make_unique<HybridRow>(cache->get(t, temporal::CellKind::gru), param(p, "interest_weight"));
  };
  out.push_back(std::move(h));
  return out;
}

}  // namespace driftrec::evaluation
