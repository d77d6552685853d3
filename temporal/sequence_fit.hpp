// The sequence model (a GRU or LSTM over each user's per-period features, trainer.hpp)
// fitted end to end on the data strictly before a period P (history.hpp), as `driftrec
// train` and the evaluation's sequence rows run it:
//   features   per period t < P: F_U(t) from temporal label propagation, x_u(t) from
//              temporal ALS, the user's event count, the gap (features.hpp); interest truth
//              of t = the normalised label distribution of the user's events of t;
//   training   on steps predicting periods 1..P-2, early stopping on the step predicting
//              P-1 (trainer.hpp), then one pass over periods 0..P-1 predicts P;
//   hybrid     items by (1 - w) x_hat.y_i / max|x_hat.y| + w m_i / max m, where
//              m_i = sum_l p_hat(l) Y_I(i, l) is how well item i's labels match the
//              predicted interests, x_hat the predicted factor and y_i the item factors of
//              P-1; w chosen on the last period P-1 (choose_interest_weight).
// Only the last `window` periods are fed one by one (earlier ones are summed into one first
// period, history.hpp windowed_slices), which bounds the cost on long histories.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "matrix_factorization/temporal_als.hpp"
#include "propagation/temporal_propagation.hpp"
#include "temporal/history.hpp"
#include "temporal/predictor.hpp"
#include "temporal/sequence_state.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::temporal {

struct SequenceOptions {
  propagation::TemporalOptions propagation;      // F_U(t) features
  matrix_factorization::TemporalAlsOptions als;  // x_u(t) features and item factors
  FeatureOptions features;
  SequenceModelOptions model;
  int window = 24;  // periods seen one by one; earlier periods are summed into one, >= 1

  SequenceOptions();  // the defaults of `driftrec train` (see the .cpp)
  // Throws InputError naming the option.
  void validate() const;
};

using SequenceProgress = std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)>;

// The features of every period of `h` and the item factors of the last one.
struct SequenceFeatures {
  SequenceInputs inputs;
  matrix_factorization::Factors item_factors;             // y_i(P-1), items x f
  matrix_factorization::Factors validation_item_factors;  // y_i(P-2)
  propagation::DenseMatrix item_label_seeds;              // Y_I, items x L (row-normalised labels)
  propagation::DenseMatrix last_user_scores;              // raw F_U(P-1): the next period's prior
  int not_converged = 0;                                  // propagation periods that did not converge
  std::int64_t history_periods = 0;                       // periods of the history (before windowing)
  std::int64_t users = 0;                                 // users of the history
  // assemble_sequences(inputs, o.features), when a caller that trains several models on
  // these features assembled it once to share it (evaluation's FeatureCache); null:
  // train_sequence assembles it.
  std::shared_ptr<const SequenceData> data;
};
SequenceFeatures sequence_features(const History& h, const SequenceOptions& o, const SequenceProgress& progress = {});

// The interest truth of the events [first, last): each user's label distribution (their
// events' item labels summed, normalised; a zero row without a labelled event), users x L.
RowMatrix period_interest_truth(const graph::EventColumns& events, std::size_t first, std::size_t last,
                                const graph::CsrMatrix& item_labels, graph::Index users);

// What the features depend on (propagation, temporal ALS, feature and window options; not
// o.model): equal keys give equal features on the same history, so callers that train
// several models (the GRU and LSTM rows) compute them once.
std::string features_key(const SequenceOptions& o);

struct TrainedSequence {
  TrainingResult training;
  Prediction next;  // the prediction for period P: users x L, users x f
  matrix_factorization::Factors item_factors;  // y_i(P-1)
  propagation::DenseMatrix item_label_seeds;
  // The same model's prediction of the validation period P-1 from periods 0..P-2 (the
  // trainer stopped early on that step but never trained on it), and y_i(P-2): what the
  // hybrid's weight is chosen on.
  Prediction validation_next;
  matrix_factorization::Factors validation_item_factors;
  SequenceState state;  // after period P-1: what stepping forward starts from (sequence_step.hpp)
  int not_converged = 0;
  // The features the model was trained on (periods 0..P-1), for what is fitted on top of it
  // (the interest mixture, mixture_fit.hpp).
  std::shared_ptr<const SequenceInputs> inputs;
  std::shared_ptr<const SequenceData> data;
};
// Needs P >= 3 periods. Throws InputError as the trainer does.
TrainedSequence train_sequence(const History& h, const SequenceOptions& o, const SequenceProgress& progress = {});
// The same on features already computed by sequence_features(h, o') with
// features_key(o') == features_key(o); the result is identical to the call above. The
// shared_ptr form keeps no copy of the features: the result's `inputs` and `data` point
// into *f (and f->data when set), so fits of several cells on one cached SequenceFeatures
// hold its per-user sequences once. The reference form copies f's inputs.
TrainedSequence train_sequence(std::shared_ptr<const SequenceFeatures> f, const SequenceOptions& o,
                               const SequenceProgress& progress = {});
TrainedSequence train_sequence(const SequenceFeatures& f, const SequenceOptions& o,
                               const SequenceProgress& progress = {});

// Hybrid item scores (out: one per item) from a predicted factor and interest distribution.
void hybrid_scores(const matrix_factorization::Factors& item_factors, const propagation::DenseMatrix& item_label_seeds,
                   const Eigen::Ref<const Eigen::VectorXf>& factor, const Eigen::Ref<const Eigen::VectorXf>& interests,
                   double weight, std::span<float> out);

// hybrid_scores in two halves, for scoring one user at several weights: the two products,
// each divided by its maximum (once per user), then the blend (per weight). hybrid_scores is
// these two calls, so the blend of the parts equals it bit for bit.
struct HybridParts {
  Eigen::VectorXf by_factor;  // x_hat.y_i / max|x_hat.y| (unscaled when the maximum is 0)
  Eigen::VectorXf match;      // m_i / max m (likewise)
};
void hybrid_parts(const matrix_factorization::Factors& item_factors, const propagation::DenseMatrix& item_label_seeds,
                  const Eigen::Ref<const Eigen::VectorXf>& factor, const Eigen::Ref<const Eigen::VectorXf>& interests,
                  HybridParts& out);
void hybrid_blend(const HybridParts& parts, double weight, std::span<float> out);

inline const std::vector<double> kInterestWeights{0.0, 0.25, 0.5, 0.75};

// The weight of `grid` whose hybrid has the best mean recall@k on the last period P-1 of
// `h` (the history `s` was trained on), scored from s.validation_next; ties keep the earlier
// weight. The pairs and ranking are the evaluation protocol's (evaluation/split.hpp) for
// period P-1: users with an event in P-1 and one before; truth = their items of P-1 that
// someone had before P-1 and they had not; ranked = the items someone had before P-1 that
// the user had not, ties toward the lower index; recall@k = hits / min(k, |truth|).
struct WeightChoice {
  double weight = 0, recall = 0;
  std::size_t pairs = 0;
};
// The users are scored on `threads` threads (0: OpenMP's default), each user's products once
// for every weight; the recalls are summed in user order, so the choice does not depend on
// the thread count.
WeightChoice choose_interest_weight(const History& h, const TrainedSequence& s,
                                    const std::vector<double>& grid = kInterestWeights, int k = 20, int threads = 0);

}  // namespace driftrec::temporal
