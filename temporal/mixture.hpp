// The repeat/explore mixture for next-period interests (docs/math.md, "Interest mixture"), in
// the spirit of RepeatNet (Ren et al., AAAI 2019): a user's next label distribution is a
// per-user, per-period gated mixture of K = 5 experts,
//
//   p = sum_k g_k q_k,    g = softmax(A [f; h] + a),
//
//   q_0 propagated   the user's propagated interests F_U(t), row-normalised
//   q_1 ewma_short   EWMA of the user's own label distributions, half-life 1 period
//   q_2 ewma_long    the same, half-life 6 periods
//   q_3 population   the population's label distribution of the last period t
//   q_4 neural       softmax(V h + c), the neural head on the recurrent state h
//
// where f holds kGateFeatures gate features (activity, gap, entropy of the user's history,
// whether the user has a history, the population's shift between its last two periods ...,
// listed in mixture_fit.cpp) and h the recurrent state. The fixed experts q_0..q_3 arrive
// already smoothed towards uniform (weight kExpertSmoothing), so every mixture is positive.
//
// The gate (A, a) and the neural head (V, c) are trained by minimising the summed
// cross-entropy -sum_l y_l log p_l over the training pairs (mixture_loss gives its exact
// gradient, checked by finite differences), with Adam and early stopping on a validation
// set; then the gate's bias alone (K numbers) is refitted on the validation set, since the
// neural expert looks better on the pairs its cell was trained on than on a new period.
// Afterwards the mixture is compared on validation with each expert alone and replaced
// by the best one if that is better (`only_expert`): since the gate could represent each
// expert alone, its validation cross-entropy is then never above the best single expert's.
#pragma once
#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "temporal/parameters.hpp"

namespace driftrec::temporal {

enum Expert : int { kPropagated, kEwmaShort, kEwmaLong, kPopulation, kNeural, kExpertCount };
inline constexpr int kFixedExperts = kNeural;  // experts 0..3 are given, the neural one computed
inline constexpr int kGateFeatures = 8;
inline constexpr double kExpertSmoothing = 1e-3;

std::string_view expert_name(int expert);  // "propagated", "ewma_short", ...

// N (user, step) pairs; column j of every matrix is one pair.
struct MixtureBatch {
  std::array<Matrix<double>, kFixedExperts> experts;  // L x N each, distributions (smoothed)
  Matrix<double> hidden;                              // H x N, the recurrent state
  Matrix<double> gate_input;                          // kGateFeatures x N
  Matrix<double> target;                              // L x N; a zero column has no target
  Eigen::Index size() const { return hidden.cols(); }
};

// Columns `cols` of every matrix, in that order.
MixtureBatch gather_columns(const MixtureBatch& b, const std::vector<Eigen::Index>& cols);
// The columns of every batch, one after the other. Consumes the parts: each of their
// matrices is freed once copied (they are left empty), so the peak stays near one copy.
MixtureBatch concatenate(std::span<MixtureBatch> parts);

enum MixtureTensor : std::size_t { kGateWeight, kGateBias, kHeadWeight, kHeadBias, kMixtureTensorCount };
std::string_view mixture_tensor_name(std::size_t tensor);  // "gate_weight", ...

struct MixtureParameters {
  // gate_weight K x (kGateFeatures + H), gate_bias K x 1, head_weight L x H, head_bias L x 1.
  std::array<Matrix<double>, kMixtureTensorCount> tensor;
  int only_expert = -1;  // >= 0: the prediction is this expert alone (the fallback)

  const Matrix<double>& operator[](std::size_t t) const { return tensor[t]; }
  Matrix<double>& operator[](std::size_t t) { return tensor[t]; }
  int hidden() const { return static_cast<int>(tensor[kHeadWeight].cols()); }
  int labels() const { return static_cast<int>(tensor[kHeadWeight].rows()); }
};

// A zero gate (uniform weights) and the given neural head (L x H, L x 1).
MixtureParameters initial_mixture(const Matrix<double>& head_weight, const Matrix<double>& head_bias);

// The gate weights g (K x N) and the neural expert softmax(V h + c) (L x N).
Matrix<double> gate_weights(const MixtureParameters& p, const MixtureBatch& b);
Matrix<double> neural_expert(const MixtureParameters& p, const MixtureBatch& b);

// The predicted distributions (L x N): the gated mixture, or expert only_expert alone.
Matrix<double> mixture_distribution(const MixtureParameters& p, const MixtureBatch& b);

// Sum over the columns with a target of -sum_l y_l log p_l for the gated mixture (only_expert
// ignored). When grad is not null, adds the gradient of that sum to *grad (same shapes).
double mixture_loss(const MixtureParameters& p, const MixtureBatch& b, MixtureParameters* grad);

// Mean cross-entropy over the columns with a target of `expert` alone (kExpertCount: the
// prediction mixture_distribution gives); 0 when no column has a target.
double mean_cross_entropy(const MixtureParameters& p, const MixtureBatch& b, int expert = kExpertCount);
long long target_count(const MixtureBatch& b);

struct MixtureOptions {
  float learning_rate = 0.01f;  // Adam step size, > 0
  int epochs = 40;              // >= 1
  int batch_pairs = 1024;       // pairs per mini-batch, >= 1
  int patience = 4;             // epochs without validation improvement, >= 1
  double l2 = 1e-4;             // on gate_weight and head_weight, >= 0
  int bias_steps = 200;         // full-batch Adam steps refitting the gate bias on validation, >= 0
  float bias_learning_rate = 0.05f;  // > 0
  std::uint64_t seed = 0;

  void validate() const;  // throws InputError naming the option
};

struct MixtureFit {
  MixtureParameters parameters;  // the best validation epoch's, with only_expert decided
  double validation_mixture = 0;  // mean CE of the gated mixture on validation
  std::array<double, kExpertCount> validation_expert{};  // mean CE of each expert alone
  double validation_chosen = 0;   // mean CE of what is predicted (<= every entry above)
  int epochs_run = 0, best_epoch = 0;
  long long train_pairs = 0, validation_pairs = 0;
};

// The gate's bias alone refitted on `validation` (full-batch Adam, o.bias_steps steps at
// o.bias_learning_rate, the mean cross-entropy as loss), returning the step with the lowest
// validation cross-entropy, `start` itself when no step improves (or nothing has a target).
// Only the bias moves, so A [f; h] and the neural expert are computed once and a step costs
// O(K L N); the result equals stepping with mixture_loss bit for bit (tests/temporal).
MixtureParameters refit_gate_bias(const MixtureParameters& start, const MixtureBatch& validation,
                                  const MixtureOptions& options);

// Trains from `initial` on `train`, early stopping on `validation`, then applies the
// fallback rule. Throws InputError when `train` has no target or options are bad, and
// NumericalError when the loss stops being finite. Deterministic for a seed.
// on_epoch(epoch, options.epochs), when set, after each epoch (progress).
MixtureFit train_mixture(const MixtureBatch& train, const MixtureBatch& validation, const MixtureParameters& initial,
                         const MixtureOptions& options, const std::function<void(int, int)>& on_epoch = {});

}  // namespace driftrec::temporal
