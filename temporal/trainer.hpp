// Training of the sequence model (docs/math.md, "Sequence model"): a GRU (default) or LSTM
// over each user's feature sequence (features.hpp) with an interest head and a factor
// head (heads.hpp), minimising
//   CE (next-period interests) + factor_weight * MSE (next-period factor) + l2/2 |weights|^2
// where CE is the cross-entropy and MSE the squared Euclidean error |x_hat - x|^2 (summed
// over the f factor dimensions), each averaged over its unmasked (user, step) pairs of the
// mini-batch. Reported losses leave out the l2 term.
// with truncated back-propagation through time (network.hpp) and Adam (Kingma & Ba 2015,
// "Adam: a method for stochastic optimization"), gradients clipped by their global norm
// (Pascanu, Mikolov & Bengio 2013).
//
// Split: with S = periods - 1 steps that have targets, the last one (step S - 1, predicting
// the last period) is the validation step; training uses steps 0..S-2. After every epoch
// the validation loss is measured and the parameters with the lowest one are kept; training
// stops after `patience` epochs without improvement (early stopping).
//
// Parallelism and determinism: each mini-batch of `batch_users` users (shuffled per epoch
// with a seeded Rng) is cut into fixed chunks of kChunkUsers users; the threads of a
// core::PassiveTeam (threads that sleep between mini-batches) compute
// the chunks' gradients into per-chunk buffers, which are then summed in chunk order. The
// arithmetic does not depend on the thread count, so the trained parameters are bit for
// bit the same for a given seed with any number of threads.
#pragma once
#include "core/error.hpp"  // InputError, NumericalError
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "temporal/features.hpp"
#include "temporal/parameters.hpp"

namespace driftrec::temporal {

inline constexpr int kChunkUsers = 32;
// The validation loss (forward only, no gradient buffers) in wider chunks: fewer, wider
// products for the pass over every user after each epoch.
inline constexpr int kValidationChunkUsers = 128;

struct SequenceModelOptions {
  CellKind cell = CellKind::gru;
  int hidden = 32;              // H >= 1
  int bptt = 8;                 // truncation window in steps, >= 1
  float learning_rate = 0.01f;  // Adam step size, > 0
  int epochs = 30;              // >= 1
  int batch_users = 64;         // users per mini-batch, >= 1
  float factor_weight = 1.0f;   // weight of the factor MSE, >= 0
  float l2 = 0.0f;              // L2 on weight matrices (not biases), >= 0
  int patience = 5;             // epochs without validation improvement before stopping, >= 1
  float clip_norm = 5.0f;       // global gradient norm cap, > 0; 0 disables clipping
  std::uint64_t seed = 0;
  int threads = 0;  // >= 0; 0: OpenMP's default
  // At most this many users, drawn with `seed` (training_user_sample), train the model and
  // measure the validation loss that stops it; 0 or at least the data's users: every user,
  // and the training is exactly what it is without a cap. The prediction covers every user
  // either way. Not stored with the model (a property of its training, like `threads`).
  int train_users = 0;

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

// The users a model is trained and early-stopped on (SequenceModelOptions::train_users):
// 0..users-1 when cap is 0 or users <= cap; otherwise `cap` distinct users drawn uniformly
// with `seed` (a stream of its own, so the epochs' shuffles are those of the uncapped
// training), ascending. The interest mixture on top of the model uses the same users.
std::vector<int> training_user_sample(int users, int cap, std::uint64_t seed);

// A trained (or loaded) model: its parameters and what is needed to use them.
struct SequenceModel {
  SequenceModelOptions options;
  FeatureOptions features;
  Parameters<float> parameters;
  Shape shape() const { return parameters.shape(); }
};

struct EpochReport {
  int epoch = 0;          // 1-based
  double train_loss = 0;  // CE + factor_weight * MSE over the epoch's mini-batches
  double train_cross_entropy = 0;
  double validation_loss = 0;  // CE + factor_weight * MSE on the validation step
  double validation_cross_entropy = 0;
  bool improved = false;  // the best validation loss so far
  double seconds = 0;
};
using EpochCallback = std::function<void(const EpochReport&)>;

struct TrainingResult {
  SequenceModel model;  // the parameters of the best validation epoch
  std::vector<EpochReport> history;
  int best_epoch = 0;
  bool stopped_early = false;
};

// The fewest periods the model trains on: steps predicting periods 1..P-2, and the step
// predicting P-1 for early stopping, need P >= 3.
inline constexpr int kMinSequencePeriods = 3;

// Throws InputError on bad options, fewer than kMinSequencePeriods periods, or no target in the
// training or validation steps; NumericalError when the loss stops being finite.
TrainingResult train_sequence_model(const SequenceData& data, const SequenceModelOptions& options,
                                    const EpochCallback& on_epoch = {});

// Loss of `model` on step `step` of `data` (reading periods 0..step): {cross-entropy mean,
// factor MSE mean} over the step's unmasked users (0 when none).
struct StepLoss {
  double cross_entropy = 0, factor_mse = 0;
  long long interest_pairs = 0, factor_pairs = 0;
};
StepLoss step_loss(const SequenceModel& model, const SequenceData& data, int step, int threads = 0);

}  // namespace driftrec::temporal
