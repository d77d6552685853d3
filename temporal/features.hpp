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
// Storage is user-major: one block per user holding, period after period, a record of the
// feature z_u(t) (D floats), then the step-t targets: the interest target (L), its mask (1),
// and when f > 0 the factor target (f) and its mask (1). A batch's gather reads each user's
// block in one sequential sweep; the per-period column-major matrices of earlier versions
// made it read about 8 scattered cache lines per user and step (17% of the GRU row's profile
// at 10^5 users). Per-period views (D x users, L x users, ...) are
// strided maps over the same storage. Memory is about T (D + L + f + 2) floats per user.
#pragma once
#include <Eigen/Dense>
#include <span>
#include <utility>
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

// A column view of one field of SequenceData for one period: rows x users, column u
// contiguous, columns a user block apart.
using ColumnsView = Eigen::Map<const Matrix<float>, 0, Eigen::OuterStride<>>;
using MutableColumnsView = Eigen::Map<Matrix<float>, 0, Eigen::OuterStride<>>;

struct SequenceData {
  FeatureOptions options;
  int users = 0, periods = 0, labels = 0, factor_size = 0;
  int input_size() const { return labels + factor_size + 2; }
  int steps() const { return periods - 1; }  // steps with targets
  // Floats of one (user, period) record: feature, interest target and mask, factor target
  // and mask (the last two only when factor_size > 0).
  int record_size() const { return input_size() + labels + 1 + (factor_size > 0 ? factor_size + 1 : 0); }

  // users x periods x record_size(), user-major (see above). The targets of the last
  // period's records are zero: no step predicts the period after it.
  std::vector<float> values;

  // Zeroed storage of the given shape; throws InputError on a negative size.
  static SequenceData zeros(int users, int periods, int labels, int factor_size, const FeatureOptions& options = {});

  // Views of period t. features: t < periods; the targets and masks: t < steps(). Zero
  // target columns where masked; masks are 0 or 1. factor_targets has 0 rows and
  // factor_mask 0 rows when factor_size = 0. Throws std::out_of_range on a bad t.
  ColumnsView features(int t) const { return view(t, periods, 0, input_size()); }
  ColumnsView interest_targets(int t) const { return view(t, steps(), input_size(), labels); }
  ColumnsView interest_mask(int t) const { return view(t, steps(), input_size() + labels, 1); }
  ColumnsView factor_targets(int t) const { return view(t, steps(), input_size() + labels + 1, factor_size); }
  ColumnsView factor_mask(int t) const {
    return view(t, steps(), input_size() + labels + 1 + factor_size, factor_size > 0 ? 1 : 0);
  }
  MutableColumnsView features(int t) { return mutable_view(std::as_const(*this).features(t)); }
  MutableColumnsView interest_targets(int t) { return mutable_view(std::as_const(*this).interest_targets(t)); }
  MutableColumnsView interest_mask(int t) { return mutable_view(std::as_const(*this).interest_mask(t)); }
  MutableColumnsView factor_targets(int t) { return mutable_view(std::as_const(*this).factor_targets(t)); }
  MutableColumnsView factor_mask(int t) { return mutable_view(std::as_const(*this).factor_mask(t)); }

  // The first record of user u (period 0); period t's record is record_size() * t after it.
  const float* record(int u) const {
    return values.data() + static_cast<std::size_t>(u) * static_cast<std::size_t>(periods) * static_cast<std::size_t>(record_size());
  }

 private:
  ColumnsView view(int t, int count, int offset, int rows) const;
  static MutableColumnsView mutable_view(const ColumnsView& v) {
    return {const_cast<float*>(v.data()), v.rows(), v.cols(), Eigen::OuterStride<>(v.outerStride())};
  }
};

// Throws InputError when the periods disagree in shape, a value is not finite, an
// activity or truth entry is negative, or there are no periods.
SequenceData assemble_sequences(const SequenceInputs& inputs, const FeatureOptions& options = {});

// The last two feature entries: log(1 + gap) for a gap already capped, log(1 + activity).
float gap_feature(int gap);
float activity_feature(float activity);

// The columns `users` of m, in that order.
Matrix<float> gather_columns(const ColumnsView& m, std::span<const int> users);

// The features of `users` (in that order) for periods 0..steps-1: steps x (D x users), each
// user's records read in one sweep.
std::vector<Matrix<float>> gather_inputs(const SequenceData& data, std::span<const int> users, int steps);

// The columns `users` of steps 0..steps-1 as a model batch (steps <= periods; targets
// exist for steps < periods - 1 only, later steps get empty masks). Targets of steps
// before `first_target_step` are masked out, so the loss covers steps
// first_target_step..steps-1 only.
Batch<float> gather_batch(const SequenceData& data, std::span<const int> users, int steps,
                          int first_target_step);

}  // namespace driftrec::temporal
