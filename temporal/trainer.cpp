#include "temporal/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <span>
#include <utility>

#include "core/passive_team.hpp"
#include "graph/random.hpp"
#include "graph/types.hpp"
#include "temporal/heads.hpp"
#include "temporal/network.hpp"

namespace driftrec::temporal {
namespace {


// The forward and backward pass over `users` cut into fixed chunks of kChunkUsers; chunk c's
// gradient goes to grads[c] and the chunks are reduced in order, so the result does not
// depend on the number of threads. Returns the summed loss sums.
LossSums<double> chunked_pass(const Parameters<float>& p, const SequenceData& d,
                              std::span<const int> users, int steps, float interest_scale,
                              float factor_scale, int bptt, core::PassiveTeam& team,
                              Parameters<float>& grad) {
  const std::size_t chunk_users = kChunkUsers;
  const std::size_t chunks = (users.size() + chunk_users - 1) / chunk_users;
  std::vector<LossSums<float>> sums(chunks);
  std::vector<Parameters<float>> grads(chunks);
  // A team whose threads sleep between mini-batches (core/passive_team.hpp): an OpenMP
  // region per mini-batch spent most of the training's CPU time spinning in libgomp. Its
  // threads keep Eigen's products serial; the team size is the whole budget.
  team.run(static_cast<std::int64_t>(chunks), [&](std::int64_t chunk) {
    const auto c = static_cast<std::size_t>(chunk);
    const std::size_t begin = c * chunk_users;
    const std::size_t end = std::min(users.size(), begin + chunk_users);
    const Batch<float> batch = gather_batch(d, users.subspan(begin, end - begin), steps, 0);
    grads[c] = zero_parameters<float>(p.cell, p.shape());
    sums[c] = batch_loss(p, batch, interest_scale, factor_scale, bptt, &grads[c]);
  });
  LossSums<double> total;
  for (std::size_t c = 0; c < chunks; ++c) {
    total.interest += sums[c].interest;
    total.factor += sums[c].factor;
    for (std::size_t t = 0; t < kTensorCount; ++t) grad[t] += grads[c][t];
  }
  return total;
}

// The loss of step `step` over one validation chunk `users` (reading periods 0..step): what
// batch_loss returns for the chunk's gather_batch(d, users, step + 1, step), bit for bit,
// but only the users with a target at `step` run the cell (a third of them had none on the
// generated logs of bench/evaluate, and their forward added exactly zero). The heads read
// the chunk at its full width, the others' columns zero and masked, so the sums add the same
// terms in the same order. The kept users' states equal the whole chunk's bit for bit: the
// products compute each column on its own, and the element-wise kernels take the same SIMD
// path for a column wherever it sits when `hidden` is a multiple of the SIMD width (8 floats
// with the default x86-64-v3; the default hidden is 32). For other hidden sizes a kept
// column's path can change with its position, so the last bits may differ
// (docs/evaluation.md, "Validation loss over the users with a target").
LossSums<float> validation_chunk_loss(const Parameters<float>& p, const SequenceData& d, std::span<const int> users,
                                      int step) {
  const bool has_factor = d.factor_size > 0;
  const ColumnsView interest_mask = d.interest_mask(step), factor_mask = d.factor_mask(step);
  std::vector<int> kept;
  std::vector<Eigen::Index> where;
  for (std::size_t j = 0; j < users.size(); ++j) {
    const int u = users[j];
    if (interest_mask(0, u) != 0 || (has_factor && factor_mask(0, u) != 0)) {
      kept.push_back(u);
      where.push_back(static_cast<Eigen::Index>(j));
    }
  }
  if (kept.empty()) return {};  // batch_loss skips a step without a target: zero
  const std::vector<Matrix<float>> inputs = gather_inputs(d, kept, step + 1);
  const Matrix<float> last = run_states<float>(p, inputs, {}, {}).h.back();
  Matrix<float> hidden = Matrix<float>::Zero(p.hidden(), static_cast<Eigen::Index>(users.size()));
  for (std::size_t i = 0; i < kept.size(); ++i) hidden.col(where[i]) = last.col(static_cast<Eigen::Index>(i));
  LossSums<float> sums;
  sums.interest = interest_loss<float>(p, hidden, gather_columns(d.interest_targets(step), users),
                                       gather_columns(interest_mask, users), 1.0f, nullptr, nullptr);
  if (has_factor)
    sums.factor = factor_loss<float>(p, hidden, gather_columns(d.factor_targets(step), users),
                                     gather_columns(factor_mask, users), 1.0f, nullptr, nullptr);
  return sums;
}

// Unmasked (user, step) pairs of `users` over steps [first, last).
std::pair<long long, long long> count_pairs(const SequenceData& d, std::span<const int> users,
                                            int first, int last) {
  long long interest = 0, factor = 0;
  for (int t = first; t < last; ++t) {
    const ColumnsView interest_mask = d.interest_mask(t), factor_mask = d.factor_mask(t);
    for (int u : users) {
      interest += interest_mask(0, u) != 0;
      if (d.factor_size > 0) factor += factor_mask(0, u) != 0;
    }
  }
  return {interest, factor};
}

// Adam (Kingma & Ba 2015) with bias correction, one moment pair per tensor.
class Adam {
 public:
  Adam(const Parameters<float>& p, float learning_rate)
      : m_(zero_parameters<float>(p.cell, p.shape())), v_(m_), learning_rate_(learning_rate) {}

  void step(Parameters<float>& p, const Parameters<float>& g) {
    ++t_;
    const double c1 = 1 - std::pow(kBeta1, t_), c2 = 1 - std::pow(kBeta2, t_);
    const float step = static_cast<float>(learning_rate_ * std::sqrt(c2) / c1);
    for (std::size_t k = 0; k < kTensorCount; ++k) {
      m_[k] = kBeta1 * m_[k] + (1 - kBeta1) * g[k];
      v_[k] = kBeta2 * v_[k] + (1 - kBeta2) * g[k].cwiseProduct(g[k]);
      // theta -= lr * m_hat / (sqrt(v_hat) + eps), with the corrections folded into `step`
      p[k].array() -= step * m_[k].array() / (v_[k].array().sqrt() + kEpsilon * std::sqrt(c2));
    }
  }

 private:
  static constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEpsilon = 1e-8f;
  Parameters<float> m_, v_;
  float learning_rate_;
  int t_ = 0;
};

void add_l2_and_clip(const Parameters<float>& p, Parameters<float>& g, float l2, float clip_norm) {
  double norm2 = 0;
  for (std::size_t k = 0; k < kTensorCount; ++k) {
    if (l2 > 0 && is_weight(k)) g[k] += l2 * p[k];
    norm2 += g[k].cast<double>().squaredNorm();
  }
  const double norm = std::sqrt(norm2);
  if (!std::isfinite(norm))
    throw NumericalError(
        "sequence model: the gradient is not finite; lower `learning_rate` or `clip_norm`");
  if (clip_norm > 0 && norm > clip_norm) {
    const float scale = static_cast<float>(clip_norm / norm);
    for (auto& m : g.tensor) m *= scale;
  }
}

double combine(double interest_sum, long long interest_pairs, double factor_sum,
               long long factor_pairs, float factor_weight) {
  double loss = interest_pairs > 0 ? interest_sum / static_cast<double>(interest_pairs) : 0.0;
  if (factor_pairs > 0) loss += factor_weight * factor_sum / static_cast<double>(factor_pairs);
  return loss;
}

void check_model_fits(const Shape& s, const SequenceData& d) {
  if (s.input_size != d.input_size() || s.labels != d.labels || s.factor_size != d.factor_size)
    throw InputError(fmt::format(
        "sequence model: the model expects {} labels and {} factors (input size {}), the "
        "data has {} labels and {} factors (input size {})",
        s.labels, s.factor_size, s.input_size, d.labels, d.factor_size, d.input_size()));
}

}  // namespace

void SequenceModelOptions::validate() const {
  const auto fail = [](const std::string& why) { throw InputError("sequence model: " + why); };
  if (hidden < 1) fail(fmt::format("`hidden` must be >= 1 (got {})", hidden));
  if (bptt < 1) fail(fmt::format("`bptt` must be >= 1 (got {})", bptt));
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    fail(fmt::format("`learning_rate` must be finite and > 0 (got {})", learning_rate));
  if (epochs < 1) fail(fmt::format("`epochs` must be >= 1 (got {})", epochs));
  if (batch_users < 1) fail(fmt::format("`batch_users` must be >= 1 (got {})", batch_users));
  if (!(factor_weight >= 0) || !std::isfinite(factor_weight))
    fail(fmt::format("`factor_weight` must be finite and >= 0 (got {})", factor_weight));
  if (!(l2 >= 0) || !std::isfinite(l2))
    fail(fmt::format("`l2` must be finite and >= 0 (got {})", l2));
  if (patience < 1) fail(fmt::format("`patience` must be >= 1 (got {})", patience));
  if (!(clip_norm >= 0) || !std::isfinite(clip_norm))
    fail(fmt::format("`clip_norm` must be finite and >= 0, 0 disabling clipping (got {})",
                     clip_norm));
  if (threads < 0)
    fail(fmt::format("`threads` must be 0 (OpenMP's default) or a positive count (got {})",
                     threads));
  if (train_users < 0)
    fail(fmt::format("`train_users` must be 0 (every user) or a positive count (got {})", train_users));
}

std::vector<int> training_user_sample(int users, int cap, std::uint64_t seed) {
  std::vector<int> out(static_cast<std::size_t>(std::max(users, 0)));
  for (int u = 0; u < users; ++u) out[static_cast<std::size_t>(u)] = u;
  if (cap <= 0 || users <= cap) return out;
  // Partial Fisher-Yates: the first `cap` positions are a uniform sample without replacement.
  graph::Rng rng(seed, 0x5a3b1e, 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(cap); ++i)
    std::swap(out[i], out[i + rng.below(out.size() - i)]);
  out.resize(static_cast<std::size_t>(cap));
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The loss of step `step` over `users`.
StepLoss step_loss(const SequenceModel& model, const SequenceData& d, int step, std::span<const int> users,
                   core::PassiveTeam& team) {
  check_model_fits(model.shape(), d);
  if (step < 0 || step >= d.steps())
    throw InputError(fmt::format("sequence model: step {} is outside 0..{}", step, d.steps() - 1));
  const auto [ni, nf] = count_pairs(d, users, step, step + 1);
  // Chunks of kValidationChunkUsers, reduced in order (as chunked_pass does).
  const std::size_t chunk_users = kValidationChunkUsers;
  const std::size_t chunks = (users.size() + chunk_users - 1) / chunk_users;
  std::vector<LossSums<float>> sums(chunks);
  team.run(static_cast<std::int64_t>(chunks), [&](std::int64_t chunk) {
    const auto c = static_cast<std::size_t>(chunk);
    const std::size_t begin = c * chunk_users;
    const std::size_t end = std::min(users.size(), begin + chunk_users);
    sums[c] = validation_chunk_loss(model.parameters, d, users.subspan(begin, end - begin), step);
  });
  LossSums<double> s;
  for (std::size_t c = 0; c < chunks; ++c) {
    s.interest += sums[c].interest;
    s.factor += sums[c].factor;
  }
  StepLoss out;
  out.interest_pairs = ni;
  out.factor_pairs = nf;
  out.cross_entropy = ni > 0 ? s.interest / static_cast<double>(ni) : 0.0;
  out.factor_mse = nf > 0 ? s.factor / static_cast<double>(nf) : 0.0;
  return out;
}

}  // namespace

StepLoss step_loss(const SequenceModel& model, const SequenceData& d, int step, int threads) {
  core::check_threads(threads);
  core::PassiveTeam team(threads);
  std::vector<int> users(static_cast<std::size_t>(d.users));
  for (int u = 0; u < d.users; ++u) users[static_cast<std::size_t>(u)] = u;
  return step_loss(model, d, step, users, team);
}

TrainingResult train_sequence_model(const SequenceData& d, const SequenceModelOptions& options,
                                    const EpochCallback& on_epoch) {
  options.validate();
  if (d.periods < kMinSequencePeriods)
    throw InputError(fmt::format(
        "sequence model: needs at least {} periods (training steps, a validation step and its "
        "target), got {}",
        kMinSequencePeriods, d.periods));
  const int validation_step = d.steps() - 1;  // train on steps 0..validation_step-1

  // The users trained and validated on: every user, or a sample of options.train_users.
  const std::vector<int> sample = training_user_sample(d.users, options.train_users, options.seed);
  std::vector<int> users;  // users of the sample with a training target
  // Each user's training pairs, counted once: a mini-batch's counts are their sums (read
  // per batch from the masks, they were one scattered load per user and step every epoch).
  std::vector<std::pair<int, int>> pairs_of(static_cast<std::size_t>(d.users));
  for (int u : sample) {
    const std::array<int, 1> one{u};
    const auto [ni, nf] = count_pairs(d, one, 0, validation_step);
    pairs_of[static_cast<std::size_t>(u)] = {static_cast<int>(ni), static_cast<int>(nf)};
    if (ni + nf > 0) users.push_back(u);
  }
  if (users.empty())
    throw InputError("sequence model: no user has a target in the training periods");

  TrainingResult result;
  SequenceModel& model = result.model;
  model.options = options;
  model.features = d.options;
  model.parameters = initial_parameters(
      options.cell, {d.input_size(), options.hidden, d.labels, d.factor_size}, options.seed);
  const auto [vi, vf] = count_pairs(d, sample, validation_step, validation_step + 1);
  if (vi + vf == 0)
    throw InputError(sample.size() == static_cast<std::size_t>(d.users)
                         ? "sequence model: no user has a target in the validation period (the last)"
                         : "sequence model: no user of the training sample has a target in the validation period "
                           "(the last); raise `train_users` or set it to 0 (every user)");

  core::PassiveTeam team(options.threads);
  Adam adam(model.parameters, options.learning_rate);
  Parameters<float> best = model.parameters;
  double best_loss = std::numeric_limits<double>::infinity();
  int since_best = 0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    graph::Rng rng(options.seed, 1, static_cast<std::uint64_t>(epoch));
    for (std::size_t i = users.size(); i > 1; --i) std::swap(users[i - 1], users[rng.below(i)]);

    double interest_sum = 0, factor_sum = 0;
    long long interest_pairs = 0, factor_pairs = 0;
    for (std::size_t begin = 0; begin < users.size(); begin += options.batch_users) {
      const std::span<const int> batch(
          users.data() + begin, std::min<std::size_t>(options.batch_users, users.size() - begin));
      long long ni = 0, nf = 0;
      for (int u : batch) {
        ni += pairs_of[static_cast<std::size_t>(u)].first;
        nf += pairs_of[static_cast<std::size_t>(u)].second;
      }
      const float interest_scale = ni > 0 ? 1.0f / static_cast<float>(ni) : 0.0f;
      const float factor_scale = nf > 0 ? options.factor_weight / static_cast<float>(nf) : 0.0f;
      Parameters<float> grad = zero_parameters<float>(options.cell, model.shape());
      const LossSums<double> s =
          chunked_pass(model.parameters, d, batch, validation_step, interest_scale, factor_scale,
                       options.bptt, team, grad);
      if (!std::isfinite(s.interest) || !std::isfinite(s.factor))
        throw NumericalError(
            fmt::format("sequence model: the training loss is not finite in epoch {}; lower "
                        "`learning_rate` or `clip_norm`",
                        epoch));
      interest_sum += s.interest;
      factor_sum += s.factor;
      interest_pairs += ni;
      factor_pairs += nf;
      add_l2_and_clip(model.parameters, grad, options.l2, options.clip_norm);
      adam.step(model.parameters, grad);
    }

    const StepLoss v = step_loss(model, d, validation_step, sample, team);
    EpochReport r;
    r.epoch = epoch;
    r.train_loss =
        combine(interest_sum, interest_pairs, factor_sum, factor_pairs, options.factor_weight);
    r.train_cross_entropy =
        interest_pairs > 0 ? interest_sum / static_cast<double>(interest_pairs) : 0.0;
    r.validation_cross_entropy = v.cross_entropy;
    r.validation_loss =
        v.cross_entropy + (v.factor_pairs > 0 ? options.factor_weight * v.factor_mse : 0.0);
    if (!std::isfinite(r.validation_loss))
      throw NumericalError(
          fmt::format("sequence model: the validation loss is not finite in epoch {}; lower "
                      "`learning_rate` or `clip_norm`",
                      epoch));
    r.improved = r.validation_loss < best_loss;
    if (r.improved) {
      best_loss = r.validation_loss;
      best = model.parameters;
      result.best_epoch = epoch;
      since_best = 0;
    } else {
      ++since_best;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.history.push_back(r);
    if (on_epoch) on_epoch(r);
    if (since_best >= options.patience) {
      result.stopped_early = epoch < options.epochs;
      break;
    }
  }
  model.parameters = std::move(best);
  return result;
}

}  // namespace driftrec::temporal
