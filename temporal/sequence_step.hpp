// Stepping a trained sequence model forward over periods appended to its store, with its
// weights as they are (no retraining): the features of each new period are computed from
// the saved recurrences (sequence_state.hpp) by the same kernels train runs over the whole
// history, and the cell takes one step per new period from its saved state.
//
// The fed sequence. Train feeds the last `window` periods one by one after ONE period that
// sums every earlier one (history.hpp windowed_slices). Stepping appends the new periods to
// THAT sequence: the summed head keeps the periods it had, and the state carries everything
// fed since. So after k new periods the model has read exactly what train's feature
// pipeline would give with window + k (windowed_slices of every store period with window
// fed_periods - 1 + k, the same head); it is not what a fresh `train --window W` on the
// grown store would feed (that sums k more periods into the head, which changes every
// feature after it). step_sequence on a state from train equals predict_next over
// sequence_features(window + k) of the grown store, bit for bit when no user, item or label
// was added (the tests show it).
//
// New users (rows beyond the state's) enter as users who were there all along with no
// event: F_U = 0, X = 0, activity 0, gap = gap_cap in every fed period, their h (and c) the
// cell's state after those features. A full recompute agrees except for X: there ALS solves
// a user without events from the seeded initialisation, which comes near 0 but not to it;
// new items start from y = 0 likewise, and the seeded initial rows of new ids enter the
// first period's solve of a full recompute. Their predictions therefore match a recompute
// within a tolerance, not bitwise (tests/temporal/sequence_step_test.cpp states it).
//
// The attention cell has no recurrence, but step t reads of the earlier periods only their
// keys and values (attention.hpp), so its state is those of every period fed and a step
// appends the new period's (attention_extend, the very step attention_forward takes): bit
// for bit the whole sequence's output. The state grows by users x 2H floats per period.
//
// The interest mixture (mixture_fit.hpp) on top: its running values (sequence_state.hpp
// MixtureState) take each new period's interest truth and pi in by the function
// mixture_steps uses, and the last new period's batch (F_U, activity and gap of that period,
// the stepped h) through the trained gate and head gives the prediction: bit for bit
// mixture_steps over the widened features of the grown store, last step, with the same
// weights. New users start with empty EWMAs and no labelled period, as a recompute has them.
#pragma once
#include <vector>

#include "graph/csr.hpp"
#include "graph/events.hpp"
#include "temporal/mixture.hpp"
#include "temporal/sequence_fit.hpp"
#include "temporal/sequence_state.hpp"

namespace driftrec::temporal {

// What stepping the interest mixture (mixture_fit.hpp) needs besides what the cell reads:
// its weights (as trained; the gate and head stay as they are) and, for each new period, the
// users' interest truth (period_interest_truth) and the population's pi
// (population_distribution).
struct MixtureStepInputs {
  const MixtureParameters* parameters = nullptr;
  std::vector<RowMatrix> truth;             // per new period, users x L
  std::vector<Eigen::VectorXd> population;  // per new period, L
};

// The new periods' features when they were computed elsewhere by the very arithmetic
// step_sequence would run (`update` passes the label propagation and temporal ALS results
// it has just carried forward, when their options and starting matrices are the model's:
// pipeline/update.cpp). Per new period: F_U row-normalised and x_u after the sweeps; then
// the raw F_U, x_u and y_i of the last new period.
struct StepFeatures {
  std::vector<propagation::DenseMatrix> interests;      // users x L, one per new period
  std::vector<matrix_factorization::Factors> user_factors;  // users x f, one per new period
  propagation::DenseMatrix user_scores;                 // raw F_U of the last new period
  matrix_factorization::Factors item_factors;           // y_i of the last new period
  int not_converged = 0;                                // new periods whose propagation did not converge
};

struct SteppedSequence {
  Prediction next;                             // for the period after the last new one
  RowMatrix mixture_next;                      // the mixture's prediction for it, when stepped (users x L)
  matrix_factorization::Factors item_factors;  // y_i of the last new period
  SequenceState state;                         // after the last new period
  int not_converged = 0;                       // new periods whose propagation did not converge
};

// `slices`: every period of the store after the append (users x items of now), whose first
// state.periods periods are the ones the state was built on; `activity[j]` each user's
// event count in period state.periods + j (one vector per new period); `item_factors`
// y_i of the state's last period. `options` are the model's feature options (threads
// included). Throws InputError when the shapes do not fit (fewer users, items or periods
// than the state, another label count, no new period, an attention state without the keys
// and values of every period fed). `mixture` is required exactly when the state holds the
// mixture's running values (state.mixture): they are advanced over the new periods and the
// mixture's step on the last one gives mixture_next. `features`, when given, are the new
// periods' features (StepFeatures; the caller vouches that they are what the propagation
// and ALS here would compute): they are used instead of computing them.
SteppedSequence step_sequence(const SequenceModel& model, const SequenceOptions& options,
                              const std::vector<graph::CsrMatrix>& slices, const graph::CsrMatrix& item_labels,
                              const std::vector<std::vector<float>>& activity, const SequenceState& state,
                              const matrix_factorization::Factors& item_factors,
                              const MixtureStepInputs* mixture = nullptr, const StepFeatures* features = nullptr);

// The state grown to `users` rows, as step_sequence grows it: new users enter as never
// active (and, in the mixture's running values, without a labelled period).
SequenceState grown_state(const SequenceModel& model, const SequenceState& old, graph::Index users);

// Each user's event count among events [first, last) (sequence_features' activity).
std::vector<float> period_activity(const graph::EventColumns& events, std::size_t first, std::size_t last,
                                   graph::Index users);

}  // namespace driftrec::temporal
