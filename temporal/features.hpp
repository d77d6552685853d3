// Per-user feature sequences and next-period targets for the sequence model (docs/math.md,
// "Sequence model").
//
// Inputs per period t = 0..T-1 (all for the same users):
//   interests[t]       F_U(t), users x L (propagated interest distribution; rows may be 0)
//   factors[t]         X(t), users x f (temporal ALS user factors); the vector may be empty
//                      (f = 0: no factor feature and no factor head)
//   activity[t]        a_u(t) >= 0, the user's event count (or summed value) in period t
//   interest_truth[t]  the label distribution of the items the user touched in period t
//                      (users x L; an all-zero row = no truth; rows are renormalised).
//                      May be empty when only predicting: every interest target is masked.
//
// Feature of user u at period t (input_size D = L + f + 2):
//   z_u(t) = [ F_U(t)_u , X(t)_u , log(1 + a_u(t)) , log(1 + gap_u(t)) ]
// where gap_u(t) = min(gap_cap, t - s - 1) with s the user's last period before t with
// a_u(s) > 0: 0 when the user was active at t - 1, 1 when the last activity was at t - 2,
// and so on; gap_cap when the user was never active before t (in particular at t = 0).
//
// Step t (t = 0..T-2) reads z(0..t) and predicts period t + 1:
//   interest target = interest_truth[t + 1]_u, masked (weight 0) when that row is empty or
//                     the user has no activity in periods 0..t;
//   factor target   = X(t + 1)_u, masked when a_u(t + 1) = 0 or no activity in 0..t.
// The features of period T - 1 are kept too: running all T periods predicts period T.
//
// Storage is column-major, one column per user (D x users per period), so a batch of
// users is a column gather; memory is about T (D + L + f + 2) floats per user.
#pragma once
#include <Eigen/Dense>
#include <span>
#include <vector>

#include "temporal/network.hpp"
#include "temporal/parameters.hpp"

namespace driftrec::temporal {

// The row-major float layout of propagation::DenseMatrix and matrix_factorization::Factors.
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct FeatureOptions {
  int gap_cap = 12;  // periods; >= 1

  // Throws InputError naming the option.
  void validate() const;
};

struct SequenceInputs {
  std::vector<RowMatrix> interests;          // T x (users x L)
  std::vector<RowMatrix> factors;            // T x (users x f), or empty
  std::vector<std::vector<float>> activity;  // T x users
  std::vector<RowMatrix> interest_truth;     // T x (users x L), or empty (no targets)
};

struct SequenceData {
  FeatureOptions options;
  int users = 0, periods = 0, labels = 0, factor_size = 0;
  int input_size() const { return labels + factor_size + 2; }
  int steps() const { return periods - 1; }  // steps with targets

  std::vector<Matrix<float>> features;          // periods x (D x users)
  std::vector<Matrix<float>> interest_targets;  // steps x (L x users); zero where masked
  std::vector<Matrix<float>> interest_mask;     // steps x (1 x users), 0 or 1
  std::vector<Matrix<float>> factor_targets;    // steps x (f x users); empty when f = 0
  std::vector<Matrix<float>> factor_mask;       // steps x (1 x users); empty when f = 0
};

// Throws InputError when the periods disagree in shape, a value is not finite, an
// activity or truth entry is negative, or there are no periods.
SequenceData assemble_sequences(const SequenceInputs& inputs, const FeatureOptions& options = {});

// The last two feature entries: log(1 + gap) for a gap already capped, log(1 + activity).
float gap_feature(int gap);
float activity_feature(float activity);

// The columns `users` of m, in that order (the gather of gather_batch).
Matrix<float> gather_columns(const Matrix<float>& m, std::span<const int> users);

// The columns `users` of steps 0..steps-1 as a model batch (steps <= periods; targets
// exist for steps < periods - 1 only, later steps get empty masks). Targets of steps
// before `first_target_step` are masked out, so the loss covers steps
// first_target_step..steps-1 only.
Batch<float> gather_batch(const SequenceData& data, std::span<const int> users, int steps,
                          int first_target_step);

}  // namespace driftrec::temporal
