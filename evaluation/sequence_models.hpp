// The sequence model of temporal/ (a GRU or LSTM over each user's per-period features,
// docs/math.md "Sequence model") run end to end on the data strictly before a period P, and
// its rows in `driftrec evaluate`:
//   features   per training period t < P: F_U(t) from temporal label propagation, x_u(t)
//              from temporal ALS, the user's event count, the gap (temporal/features.hpp);
//              interest truth of t = docs/evaluation.md's truth formula on the user's events of t;
//   training   on steps predicting periods 1..P-2, early stopping on the step predicting
//              P-1 (temporal/trainer.hpp), then one pass over periods 0..P-1 predicts P;
//   rows       sequence_gru / sequence_lstm: the predicted interest distribution, and item
//              scores x_hat_u(P) . y_i(P-1) (the predicted factor through the last training
//              period's item factors);
//              hybrid: items by (1 - w) x_hat.y_i / max|x_hat.y| + w m_i / max m, where
//              m_i = sum_l p_hat(l) Y_I(i, l) is how well item i's labels match the
//              predicted interests; w tuned on validation.
// Only the last `window` training periods are fed one by one (earlier ones are summed into
// one first period), which bounds the cost on long histories.
// Every step sees only the Training, so nothing from P or later reaches it. Fits are
// cached per (P, cell) and shared by the rows, so the GRU behind `hybrid` is trained once.
#pragma once
#include <functional>
#include <memory>

#include "evaluation/library_models.hpp"
#include "evaluation/model.hpp"
#include "matrix_factorization/temporal_als.hpp"
#include "propagation/temporal_propagation.hpp"
#include "temporal/predictor.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::evaluation {

struct SequenceOptions {
  propagation::TemporalOptions propagation;      // F_U(t) features
  matrix_factorization::TemporalAlsOptions als;  // x_u(t) features and item factors
  temporal::FeatureOptions features;
  temporal::SequenceModelOptions model;          // model.cell is set per row
  int window = 24;  // periods seen one by one; earlier training periods are summed into one
                    // first period (library_models.hpp, windowed_slices), >= 1

  SequenceOptions();  // the defaults of `driftrec train` (see the .cpp)
  void validate() const;
};

using SequenceProgress = std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)>;

// The features of every training period and the item factors of the last one.
struct SequenceFeatures {
  temporal::SequenceInputs inputs;
  matrix_factorization::Factors item_factors;  // y_i(P-1), items x f
  matrix_factorization::Factors validation_item_factors;  // y_i(P-2)
  propagation::DenseMatrix item_label_seeds;   // Y_I, items x L (row-normalised labels)
  int not_converged = 0;                       // propagation periods that did not converge
};
SequenceFeatures sequence_features(const Training& t, const SequenceOptions& o,
                                   const SequenceProgress& progress = {});

struct TrainedSequence {
  temporal::TrainingResult training;
  temporal::Prediction next;  // the prediction for period P: users x L, users x f
  matrix_factorization::Factors item_factors;  // y_i(P-1)
  propagation::DenseMatrix item_label_seeds;
  // The same model's prediction of the validation period P-1 from periods 0..P-2 (the
  // trainer stopped early on that step but never trained on it), and y_i(P-2): what the
  // hybrid's weight is chosen on.
  temporal::Prediction validation_next;
  matrix_factorization::Factors validation_item_factors;
  int not_converged = 0;
};
// Needs P >= 3 periods of training data. Throws InputError as the trainer does.
TrainedSequence train_sequence(const Training& t, const SequenceOptions& o, const SequenceProgress& progress = {});

// Hybrid item scores (out: one per item) from a predicted factor and interest distribution.
void hybrid_scores(const matrix_factorization::Factors& item_factors, const propagation::DenseMatrix& item_label_seeds,
                   const Eigen::Ref<const Eigen::VectorXf>& factor, const Eigen::Ref<const Eigen::VectorXf>& interests,
                   double weight, std::span<float> out);

inline const std::vector<double> kInterestWeights{0.0, 0.25, 0.5, 0.75};

// The interest weight of `grid` with the best mean recall@k of the hybrid on the last
// training period P-1 of `data` (the periods s was trained on are 0..P-1), using
// s.validation_next; ties keep the earlier weight. Returns {weight, recall, pairs}.
struct WeightChoice {
  double weight = 0, recall = 0;
  std::size_t pairs = 0;
};
WeightChoice choose_interest_weight(const EvaluationData& data, std::size_t periods, const TrainedSequence& s,
                                    const std::vector<double>& grid = kInterestWeights, int k = 20);

// The rows sequence_gru, sequence_lstm and hybrid, sharing one cache of fits.
std::vector<ModelSpec> sequence_models(const SequenceOptions& o, const SequenceProgress& progress = {});

}  // namespace driftrec::evaluation
