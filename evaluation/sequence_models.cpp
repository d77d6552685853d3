#include "evaluation/sequence_models.hpp"

#include <map>
#include <utility>

#include <fmt/format.h>

#include "evaluation/evaluate.hpp"
#include "temporal/mixture_fit.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::evaluation {
using graph::Index;
using temporal::SequenceOptions;
using temporal::SequenceProgress;
using temporal::TrainedSequence;

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
  HybridRow(std::shared_ptr<const TrainedSequence> s, temporal::WeightChoice w) : s_(std::move(s)), w_(w) {}
  void items(Index u, std::span<float> out) const override {
    temporal::hybrid_scores(s_->item_factors, s_->item_label_seeds, s_->next.factors.row(u).transpose(),
                  s_->next.interests.row(u).transpose(), w_.weight, out);
  }
  std::string note() const override {
    return fmt::format("{}; interest_weight {} (recall@20 {:.4f} over {} pairs of the last training period)",
                       SequenceRow::note_of(*s_), w_.weight, w_.recall, w_.pairs);
  }

 private:
  std::shared_ptr<const TrainedSequence> s_;
  temporal::WeightChoice w_;
};

class MixtureRow : public FittedModel {
 public:
  MixtureRow(std::shared_ptr<const TrainedSequence> s, temporal::TrainedMixture m) : s_(std::move(s)), m_(std::move(m)) {}
  void interest(Index u, std::span<float> out) const override {
    for (std::size_t l = 0; l < out.size(); ++l) out[l] = m_.next(u, static_cast<Eigen::Index>(l));
  }
  bool label_ranking(Index u, std::span<float> out) const override {
    temporal::label_ranking(m_, u, out);
    return true;
  }
  std::string note() const override {
    const temporal::MixtureFit& f = m_.fit;
    const temporal::BoostChoice& r = m_.ranking;
    std::string n = fmt::format("{}; mixture {} epochs (best {}), validation cross-entropy {:.4f} (gated {:.4f}", SequenceRow::note_of(*s_),
                                f.epochs_run, f.best_epoch, f.validation_chosen, f.validation_mixture);
    for (int k = 0; k < temporal::kExpertCount; ++k)
      n += fmt::format(", {} {:.4f}", temporal::expert_name(k), f.validation_expert[static_cast<std::size_t>(k)]);
    n += f.parameters.only_expert >= 0 ? fmt::format("): fell back to {}", temporal::expert_name(f.parameters.only_expert))
                                       : std::string("): gated");
    n += fmt::format("; label ranking: never-had labels x{} (validation recall@3 {:.4f} against ewma {:.4f}, "
                     "new-label recall@3 {:.4f} against population {:.4f}, {} pairs, {} with a new label)",
                     r.boost, r.recall3, r.ewma_recall3, r.new_label_recall3, r.population_new_label_recall3, r.pairs,
                     r.new_label_pairs);
    return n;
  }

 private:
  std::shared_ptr<const TrainedSequence> s_;
  temporal::TrainedMixture m_;
};

// Fits keyed by (P, cell); evaluation asks for periods in order, so older ones are dropped.
struct Cache {
  SequenceOptions options;
  SequenceProgress progress;
  std::shared_ptr<FeatureCache> features;
  std::map<std::pair<std::size_t, int>, std::shared_ptr<const TrainedSequence>> fits;

  std::shared_ptr<const TrainedSequence> get(const Training& t, temporal::CellKind cell) {
    const auto key = std::make_pair(t.period, static_cast<int>(cell));
    if (auto it = fits.find(key); it != fits.end()) return it->second;
    std::erase_if(fits, [&](const auto& kv) { return kv.first.first != t.period; });
    SequenceOptions o = options;
    o.model.cell = cell;
    // The caller's progress, and evaluate()'s: features and epochs are minutes at 1e5 users.
    const SequenceProgress progress = [this](const char* stage, std::uint64_t done, std::uint64_t total) {
      if (this->progress) this->progress(stage, done, total);
      fit_progress(stage, done, total);
    };
    const auto f = features->sequence(t, o, progress);
    auto fit = std::make_shared<const TrainedSequence>(temporal::train_sequence(f, o, progress));
    fits.emplace(key, fit);
    return fit;
  }
};

}  // namespace

std::vector<ModelSpec> sequence_models(const SequenceOptions& o, const SequenceProgress& progress,
                                       std::shared_ptr<FeatureCache> features) {
  o.validate();
  if (!features) features = std::make_shared<FeatureCache>();
  auto cache = std::make_shared<Cache>(Cache{o, progress, std::move(features), {}});
  std::vector<ModelSpec> out;
  for (auto [name, cell] : {std::pair{"sequence_gru", temporal::CellKind::gru},
                            std::pair{"sequence_lstm", temporal::CellKind::lstm},
                            std::pair{"sequence_attention", temporal::CellKind::attention}}) {
    ModelSpec m;
    m.name = name;
    m.min_training_periods = temporal::kMinSequencePeriods;
    m.interest = true;
    m.item = true;
    m.fit = [cache, cell](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
      return std::make_unique<SequenceRow>(cache->get(t, cell));
    };
    out.push_back(std::move(m));
  }
  ModelSpec h;
  h.name = "hybrid";
  h.min_training_periods = temporal::kMinSequencePeriods;
  h.item = true;
  // The weight is chosen inside each fit on the fit's own last training period, from the
  // GRU that sequence_gru trained on the same data (as `driftrec train` does), not by a
  // grid on the validation period: that grid needed one more GRU trained on the data
  // before the validation period, for this row alone.
  h.fit = [cache](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
    auto s = cache->get(t, temporal::CellKind::gru);
    const temporal::WeightChoice w =
        temporal::choose_interest_weight(t, *s, temporal::kInterestWeights, 20, cache->options.model.threads);
    return std::make_unique<HybridRow>(std::move(s), w);
  };
  out.push_back(std::move(h));
  ModelSpec x;
  x.name = "mixture";
  x.min_training_periods = temporal::kMinSequencePeriods;
  x.interest = true;
  x.fit = [cache](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
    auto s = cache->get(t, temporal::CellKind::gru);
    // The mixture's epochs as progress: at 1e5 users a fit is minutes on a loaded machine.
    const SequenceProgress progress = [&cache](const char* stage, std::uint64_t done, std::uint64_t total) {
      if (cache->progress) cache->progress(stage, done, total);
      fit_progress(stage, done, total);
    };
    return std::make_unique<MixtureRow>(s, temporal::train_interest_mixture(t, *s, cache->options, {}, progress));
  };
  out.push_back(std::move(x));
  return out;
}

}  // namespace driftrec::evaluation
