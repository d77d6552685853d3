// The interest mixture (mixture.hpp) fitted on a trained sequence model (sequence_fit.hpp),
// as `driftrec train` and the evaluation's `mixture` row run it. For user u and step t (the
// features of periods 0..t, predicting period t + 1):
//   experts     propagated  F_U(t)_u normalised (the population's distribution of t when the
//                           row is zero);
//               ewma_short, ewma_long  sum_{s <= t} 2^(-(t - s)/h) y_u(s), normalised, with
//                           y_u(s) the user's label distribution of period s and h = 1, 6
//                           (the population's distribution when the user has none yet);
//               population  pi(t), the label distribution of every event of period t;
//               neural      the neural head on the recurrent state h_u(t) of the trained cell;
//               each fixed expert smoothed as (1 - e) q + e / L, e = kExpertSmoothing.
//   gate input  log(1 + activity), log(1 + gap) (the cell's own features of t), the
//               entropy of ewma_long over log L, whether the user has a labelled period,
//               whether F_U(t)_u is non-zero, the population's shift JS(pi(t), pi(t-1)) /
//               log 2 (0 at t = 0), log(1 + labelled periods so far), the overlap
//               sum_l min(ewma_short_l, pi(t)_l); and h_u(t).
// Training pairs: steps predicting periods 1..P-2 with a target (the sequence model's
// masks); validation: the step predicting P-1, which also decides the fallback; the
// prediction for P: the step of period P-1, every user.
#pragma once
#include <Eigen/Dense>
#include <span>
#include <vector>

#include "temporal/label_ranking.hpp"
#include "temporal/mixture.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::temporal {

// pi of the events [first, last): each event's item labels (weight 1 shared among them),
// normalised; a zero vector when none of the events has a labelled item.
Eigen::VectorXd population_distribution(const graph::EventColumns& events, std::size_t first, std::size_t last,
                                        const graph::CsrMatrix& item_labels);

// pi(t) for every period of the windowed history the sequence model sees (sequence_fit.hpp:
// the last `window` periods, the earlier ones summed into the first). A period without a
// labelled event gives a zero vector.
std::vector<Eigen::VectorXd> population_distributions(const History& h, int window);

// The recurrent state after every period (periods x (H x users)), users in chunks in
// parallel; the result does not depend on the thread count.
std::vector<Matrix<float>> hidden_states(const SequenceModel& model, const SequenceData& data, int threads = 0);

// The running values before any period (MixtureState, sequence_state.hpp).
MixtureState empty_mixture_state(int users, int labels);

// Period t's labels into the running values: both EWMAs decay one period, each user's row
// of `truth` (users x L, the interest truth of t; null: none) with mass is added and counts
// as a labelled period, and pi(t) = `population` replaces pi(t-1). Returns the population
// shift JS(pi(t), pi(t-1)) / log 2 (0 for the first period).
double advance_mixture_state(MixtureState& state, const RowMatrix* truth, const Eigen::VectorXd& population);

// The batch of step t for the users `cols`, from the running values after period t, the
// shift advance_mixture_state returned, F_U(t) (users x L), the model's features of t
// (D x users), h(t) (H x users) and, when not null, the targets (L x users).
MixtureBatch mixture_batch(const MixtureState& state, double shift, const RowMatrix& interests,
                           const Eigen::Ref<const Matrix<float>, 0, Eigen::OuterStride<>>& features,
                           int factor_size, const Matrix<float>& hidden, const std::vector<int>& cols,
                           const ColumnsView* targets);

// One batch per period t = 0..T-1: for t < T-1 the users with an interest target at step t
// (target = the truth of t + 1), only those of `targets_of` when it is not null (ascending
// user indices: the training sample, SequenceModelOptions::train_users); for t = T-1 every
// user, without targets. `users_out`, when not null, receives each batch's user indices;
// `state_out` the running values after the last period (what stepping the mixture forward
// starts from, sequence_step.hpp).
std::vector<MixtureBatch> mixture_steps(const SequenceData& data, const SequenceInputs& inputs,
                                        const std::vector<Eigen::VectorXd>& population,
                                        const std::vector<Matrix<float>>& hidden,
                                        std::vector<std::vector<int>>* users_out = nullptr,
                                        MixtureState* state_out = nullptr,
                                        const std::vector<int>* targets_of = nullptr);

struct TrainedMixture {
  MixtureFit fit;
  RowMatrix next;      // users x L: the predicted distribution of period P
  MixtureState state;  // after period P-1
  BoostChoice ranking; // the never-had labels' boost in the label ranking (label_ranking.hpp)
};

// The label ranking of user u for period P (label_ranking.hpp): next(u, l) times the chosen
// boost where the user never had l (state.ewma_long(l, u) is 0). out.size() == L.
void label_ranking(const TrainedMixture& m, int user, std::span<float> out);

// Needs s.inputs and s.data (train_sequence keeps them). Trained and validated on the users
// the sequence model was (o.model.train_users); predicts for every user. Throws InputError as
// train_mixture.
// `progress`, when set, gets ("mixture", epoch, epochs) after each epoch.
TrainedMixture train_interest_mixture(const History& h, const TrainedSequence& s, const SequenceOptions& o,
                                      const MixtureOptions& mixture = {}, const SequenceProgress& progress = {});

}  // namespace driftrec::temporal
