#include "temporal/mixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "graph/random.hpp"
#include "temporal/heads.hpp"

namespace driftrec::temporal {
namespace {

constexpr std::array<std::string_view, kExpertCount> kExpertNames = {"propagated", "ewma_short", "ewma_long",
                                                                     "population", "neural"};
constexpr std::array<std::string_view, kMixtureTensorCount> kTensorNames = {"gate_weight", "gate_bias",
                                                                            "head_weight", "head_bias"};

// [f; h]: the gate's input.
Matrix<double> gate_in(const MixtureBatch& b) {
  Matrix<double> z(b.gate_input.rows() + b.hidden.rows(), b.size());
  z.topRows(b.gate_input.rows()) = b.gate_input;
  z.bottomRows(b.hidden.rows()) = b.hidden;
  return z;
}

Matrix<double> expert(const MixtureBatch& b, const Matrix<double>& neural, int k) {
  return k == kNeural ? neural : b.experts[static_cast<std::size_t>(k)];
}

// The two products over the hidden state a prediction needs: A [f; h] (the gate's logits
// before the bias) and the neural expert. Computed once where only the bias moves (the
// refit) or several predictions share them (validation); the same expressions as before,
// so every result stays equal bit for bit.
struct Products {
  Matrix<double> gate_logits;  // A [f; h], K x N
  Matrix<double> neural;       // softmax(V h + c), L x N
};

Products products(const MixtureParameters& p, const MixtureBatch& b) {
  Products out;
  out.gate_logits = p[kGateWeight] * gate_in(b);
  out.neural = neural_expert(p, b);
  return out;
}

Matrix<double> gate_of(const Products& x, const Matrix<double>& bias) {
  Matrix<double> a = x.gate_logits;
  a.colwise() += bias.col(0);
  return softmax_columns<double>(a);
}

// sum_k g_k q_k
Matrix<double> mixture_of(const MixtureBatch& b, const Matrix<double>& neural, const Matrix<double>& g) {
  Matrix<double> mix = Matrix<double>::Zero(neural.rows(), b.size());
  for (int k = 0; k < kExpertCount; ++k) mix += (expert(b, neural, k).array().rowwise() * g.row(k).array()).matrix();
  return mix;
}

// Mean of -sum_l y_l log q_l over the columns with a target; 0 when none has one.
double mean_cross_entropy_of(const Matrix<double>& q, const MixtureBatch& b) {
  double sum = 0;
  long long n = 0;
  for (Eigen::Index j = 0; j < b.size(); ++j) {
    if (!(b.target.col(j).sum() > 0)) continue;
    ++n;
    for (Eigen::Index l = 0; l < q.rows(); ++l)
      if (b.target(l, j) > 0) sum -= b.target(l, j) * std::log(q(l, j));
  }
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

double mixture_cross_entropy(const MixtureParameters& p, const Products& x, const MixtureBatch& b) {
  const Matrix<double>& q = p.only_expert >= 0 ? (p.only_expert == kNeural ? x.neural : b.experts[static_cast<std::size_t>(p.only_expert)])
                                               : mixture_of(b, x.neural, gate_of(x, p[kGateBias]));
  return mean_cross_entropy_of(q, b);
}

// Adam (Kingma & Ba 2015) over the four tensors.
class MixtureAdam {
 public:
  MixtureAdam(const MixtureParameters& p, double learning_rate) : lr_(learning_rate) {
    for (std::size_t k = 0; k < kMixtureTensorCount; ++k) {
      m_[k] = Matrix<double>::Zero(p[k].rows(), p[k].cols());
      v_[k] = m_[k];
    }
  }
  void step(MixtureParameters& p, const MixtureParameters& g) {
    ++t_;
    const double c1 = 1 - std::pow(0.9, t_), c2 = 1 - std::pow(0.999, t_);
    for (std::size_t k = 0; k < kMixtureTensorCount; ++k) {
      m_[k] = 0.9 * m_[k] + 0.1 * g[k];
      v_[k] = 0.999 * v_[k] + 0.001 * g[k].cwiseProduct(g[k]);
      p[k].array() -= lr_ * (m_[k].array() / c1) / ((v_[k].array() / c2).sqrt() + 1e-8);
    }
  }

 private:
  double lr_;
  std::array<Matrix<double>, kMixtureTensorCount> m_, v_;
  int t_ = 0;
};

}  // namespace

std::string_view expert_name(int expert) { return kExpertNames.at(static_cast<std::size_t>(expert)); }
std::string_view mixture_tensor_name(std::size_t tensor) { return kTensorNames.at(tensor); }

MixtureBatch gather_columns(const MixtureBatch& b, const std::vector<Eigen::Index>& cols) {
  MixtureBatch out;
  for (std::size_t k = 0; k < b.experts.size(); ++k) out.experts[k] = b.experts[k](Eigen::all, cols);
  out.hidden = b.hidden(Eigen::all, cols);
  out.gate_input = b.gate_input(Eigen::all, cols);
  out.target = b.target(Eigen::all, cols);
  return out;
}

MixtureBatch concatenate(std::span<MixtureBatch> parts) {
  MixtureBatch out;
  if (parts.empty()) return out;
  std::vector<Eigen::Index> sizes;
  for (const MixtureBatch& p : parts) sizes.push_back(p.size());
  const Eigen::Index n = std::accumulate(sizes.begin(), sizes.end(), Eigen::Index{0});
  // One matrix of every part at a time, each part's freed once copied: the peak is the
  // parts plus one member's worth, not the parts twice.
  auto stack = [&](auto&& member) {
    Matrix<double> m(member(parts.front()).rows(), n);
    Eigen::Index at = 0;
    for (std::size_t j = 0; j < parts.size(); ++j) {
      Matrix<double>& part = member(parts[j]);
      m.middleCols(at, sizes[j]) = part;
      at += sizes[j];
      part = Matrix<double>();
    }
    return m;
  };
  for (std::size_t k = 0; k < out.experts.size(); ++k)
    out.experts[k] = stack([k](MixtureBatch& b) -> Matrix<double>& { return b.experts[k]; });
  out.hidden = stack([](MixtureBatch& b) -> Matrix<double>& { return b.hidden; });
  out.gate_input = stack([](MixtureBatch& b) -> Matrix<double>& { return b.gate_input; });
  out.target = stack([](MixtureBatch& b) -> Matrix<double>& { return b.target; });
  return out;
}

MixtureParameters initial_mixture(const Matrix<double>& head_weight, const Matrix<double>& head_bias) {
  MixtureParameters p;
  p[kGateWeight] = Matrix<double>::Zero(kExpertCount, kGateFeatures + head_weight.cols());
  p[kGateBias] = Matrix<double>::Zero(kExpertCount, 1);
  p[kHeadWeight] = head_weight;
  p[kHeadBias] = head_bias;
  return p;
}

Matrix<double> gate_weights(const MixtureParameters& p, const MixtureBatch& b) {
  Matrix<double> a = p[kGateWeight] * gate_in(b);
  a.colwise() += p[kGateBias].col(0);
  return softmax_columns<double>(a);
}

Matrix<double> neural_expert(const MixtureParameters& p, const MixtureBatch& b) {
  Matrix<double> z = p[kHeadWeight] * b.hidden;
  z.colwise() += p[kHeadBias].col(0);
  return softmax_columns<double>(z);
}

Matrix<double> mixture_distribution(const MixtureParameters& p, const MixtureBatch& b) {
  const Matrix<double> neural = neural_expert(p, b);
  if (p.only_expert >= 0) return expert(b, neural, p.only_expert);
  return mixture_of(b, neural, gate_weights(p, b));
}

double mixture_loss(const MixtureParameters& p, const MixtureBatch& b, MixtureParameters* grad) {
  const Eigen::Index n = b.size(), labels = p.labels();
  const Matrix<double> z = gate_in(b);
  Matrix<double> a = p[kGateWeight] * z;
  a.colwise() += p[kGateBias].col(0);
  const Matrix<double> g = softmax_columns<double>(a);
  const Matrix<double> neural = neural_expert(p, b);
  Matrix<double> d_gate = Matrix<double>::Zero(kExpertCount, n);  // dL/da
  Matrix<double> d_logits = Matrix<double>::Zero(labels, n);       // dL/d(V h + c)
  double loss = 0;
  Eigen::VectorXd mix(labels), r(labels), dg(kExpertCount);
  for (Eigen::Index j = 0; j < n; ++j) {
    if (!(b.target.col(j).sum() > 0)) continue;
    mix.setZero();
    for (int k = 0; k < kExpertCount; ++k) mix += g(k, j) * (k == kNeural ? neural.col(j) : b.experts[k].col(j));
    for (Eigen::Index l = 0; l < labels; ++l) {
      const double y = b.target(l, j);
      if (y > 0) loss -= y * std::log(mix(l));
      r(l) = y > 0 ? -y / mix(l) : 0.0;  // dL/dp_l
    }
    if (grad == nullptr) continue;
    for (int k = 0; k < kExpertCount; ++k)
      dg(k) = r.dot(k == kNeural ? neural.col(j) : b.experts[k].col(j));
    const double mean = g.col(j).dot(dg);
    d_gate.col(j) = g.col(j).cwiseProduct(dg.array().matrix() - Eigen::VectorXd::Constant(kExpertCount, mean));
    // The neural expert: dL/dq = g_n r, through the softmax.
    const Eigen::VectorXd dq = g(kNeural, j) * r;
    d_logits.col(j) = neural.col(j).cwiseProduct(dq - Eigen::VectorXd::Constant(labels, neural.col(j).dot(dq)));
  }
  if (grad != nullptr) {
    (*grad)[kGateWeight].noalias() += d_gate * z.transpose();
    (*grad)[kGateBias].noalias() += d_gate.rowwise().sum();
    (*grad)[kHeadWeight].noalias() += d_logits * b.hidden.transpose();
    (*grad)[kHeadBias].noalias() += d_logits.rowwise().sum();
  }
  return loss;
}

long long target_count(const MixtureBatch& b) {
  long long n = 0;
  for (Eigen::Index j = 0; j < b.size(); ++j) n += b.target.col(j).sum() > 0;
  return n;
}

double mean_cross_entropy(const MixtureParameters& p, const MixtureBatch& b, int which) {
  if (which == kExpertCount) return mixture_cross_entropy(p, products(p, b), b);
  if (which == kNeural) return mean_cross_entropy_of(neural_expert(p, b), b);
  return mean_cross_entropy_of(b.experts[static_cast<std::size_t>(which)], b);
}

void MixtureOptions::validate() const {
  const auto fail = [](const std::string& why) { throw InputError("interest mixture: " + why); };
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    fail(fmt::format("`learning_rate` must be finite and > 0 (got {})", learning_rate));
  if (epochs < 1) fail(fmt::format("`epochs` must be >= 1 (got {})", epochs));
  if (batch_pairs < 1) fail(fmt::format("`batch_pairs` must be >= 1 (got {})", batch_pairs));
  if (patience < 1) fail(fmt::format("`patience` must be >= 1 (got {})", patience));
  if (!(l2 >= 0) || !std::isfinite(l2)) fail(fmt::format("`l2` must be finite and >= 0 (got {})", l2));
  if (bias_steps < 0) fail(fmt::format("`bias_steps` must be >= 0 (got {})", bias_steps));
  if (!(bias_learning_rate > 0) || !std::isfinite(bias_learning_rate))
    fail(fmt::format("`bias_learning_rate` must be finite and > 0 (got {})", bias_learning_rate));
}

MixtureParameters refit_gate_bias(const MixtureParameters& start, const MixtureBatch& validation,
                                  const MixtureOptions& o) {
  o.validate();
  const long long pairs = target_count(validation);
  MixtureParameters best = start;
  if (pairs == 0) return best;
  MixtureParameters q = start;
  q.only_expert = -1;
  const Products x = products(q, validation);  // fixed: only the bias moves
  const Eigen::Index n = validation.size(), labels = q.labels();
  MixtureAdam bias_adam(q, o.bias_learning_rate);
  const double scale = 1.0 / static_cast<double>(pairs);
  double q_loss = mixture_cross_entropy(q, x, validation);
  Eigen::VectorXd mix(labels), r(labels), dg(kExpertCount);
  for (int step = 0; step < o.bias_steps; ++step) {
    // mixture_loss's gate gradient, the products reused: dL/da per pair, summed over pairs.
    const Matrix<double> g = gate_of(x, q[kGateBias]);
    Matrix<double> d_gate = Matrix<double>::Zero(kExpertCount, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      if (!(validation.target.col(j).sum() > 0)) continue;
      mix.setZero();
      for (int k = 0; k < kExpertCount; ++k)
        mix += g(k, j) * (k == kNeural ? x.neural.col(j) : validation.experts[k].col(j));
      for (Eigen::Index l = 0; l < labels; ++l) {
        const double y = validation.target(l, j);
        r(l) = y > 0 ? -y / mix(l) : 0.0;
      }
      for (int k = 0; k < kExpertCount; ++k)
        dg(k) = r.dot(k == kNeural ? x.neural.col(j) : validation.experts[k].col(j));
      const double mean = g.col(j).dot(dg);
      d_gate.col(j) = g.col(j).cwiseProduct(dg.array().matrix() - Eigen::VectorXd::Constant(kExpertCount, mean));
    }
    MixtureParameters grad;
    for (std::size_t k = 0; k < kMixtureTensorCount; ++k) grad[k] = Matrix<double>::Zero(q[k].rows(), q[k].cols());
    grad[kGateBias].noalias() += d_gate.rowwise().sum();
    grad[kGateBias] *= scale;
    bias_adam.step(q, grad);
    const double v = mixture_cross_entropy(q, x, validation);
    if (std::isfinite(v) && v < q_loss) {
      q_loss = v;
      best = q;
    }
  }
  return best;
}

namespace {

MixtureFit fit_mixture(const MixtureBatch& train, const MixtureBatch& validation, const MixtureParameters& initial,
                       const MixtureOptions& o, const std::function<void(int, int)>& on_epoch) {
  std::vector<Eigen::Index> pairs;
  for (Eigen::Index j = 0; j < train.size(); ++j)
    if (train.target.col(j).sum() > 0) pairs.push_back(j);
  if (pairs.empty()) throw InputError("interest mixture: no training pair has a target");
  MixtureFit fit;
  fit.train_pairs = static_cast<long long>(pairs.size());
  fit.validation_pairs = target_count(validation);
  const bool has_validation = fit.validation_pairs > 0;

  MixtureParameters p = initial;
  p.only_expert = -1;
  MixtureParameters best = p;
  MixtureAdam adam(p, o.learning_rate);
  double best_loss = has_validation ? mean_cross_entropy(p, validation) : std::numeric_limits<double>::infinity();
  int since_best = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    graph::Rng rng(o.seed, 0x313, static_cast<std::uint64_t>(epoch));
    for (std::size_t i = pairs.size(); i > 1; --i) std::swap(pairs[i - 1], pairs[rng.below(i)]);
    for (std::size_t begin = 0; begin < pairs.size(); begin += static_cast<std::size_t>(o.batch_pairs)) {
      const std::size_t end = std::min(pairs.size(), begin + static_cast<std::size_t>(o.batch_pairs));
      const MixtureBatch mb =
          gather_columns(train, std::vector<Eigen::Index>(pairs.begin() + static_cast<std::ptrdiff_t>(begin),
                                                          pairs.begin() + static_cast<std::ptrdiff_t>(end)));
      MixtureParameters g;
      for (std::size_t k = 0; k < kMixtureTensorCount; ++k) g[k] = Matrix<double>::Zero(p[k].rows(), p[k].cols());
      const double loss = mixture_loss(p, mb, &g);
      if (!std::isfinite(loss))
        throw NumericalError(fmt::format(
            "interest mixture: the training loss is not finite in epoch {}; lower `learning_rate`", epoch));
      const double scale = 1.0 / static_cast<double>(end - begin);
      for (std::size_t k = 0; k < kMixtureTensorCount; ++k) g[k] *= scale;
      g[kGateWeight] += o.l2 * p[kGateWeight];
      g[kHeadWeight] += o.l2 * p[kHeadWeight];
      adam.step(p, g);
    }
    fit.epochs_run = epoch;
    if (on_epoch) on_epoch(epoch, o.epochs);
    if (!has_validation) {
      best = p;
      fit.best_epoch = epoch;
      continue;
    }
    const double v = mean_cross_entropy(p, validation);
    if (!std::isfinite(v))
      throw NumericalError(
          fmt::format("interest mixture: the validation loss is not finite in epoch {}; lower `learning_rate`", epoch));
    if (v < best_loss) {
      best_loss = v;
      best = p;
      fit.best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= o.patience) {
      break;
    }
  }

  // The gate's bias refitted on validation: the cell (and so the neural expert) was trained
  // on the training pairs, where it looks better than it is on a period it never saw, and
  // the gate learnt to trust it accordingly. K numbers on a whole period barely overfit.
  if (has_validation && o.bias_steps > 0) best = refit_gate_bias(best, validation, o);

  // The fallback: the gated mixture only if no expert alone does better on validation.
  fit.parameters = best;
  const Products x = products(best, validation);
  fit.validation_mixture = mixture_cross_entropy(best, x, validation);
  fit.validation_chosen = fit.validation_mixture;
  for (int k = 0; k < kExpertCount; ++k) {
    fit.validation_expert[static_cast<std::size_t>(k)] =
        mean_cross_entropy_of(k == kNeural ? x.neural : validation.experts[static_cast<std::size_t>(k)], validation);
    if (has_validation && fit.validation_expert[static_cast<std::size_t>(k)] < fit.validation_chosen) {
      fit.validation_chosen = fit.validation_expert[static_cast<std::size_t>(k)];
      fit.parameters.only_expert = k;
    }
  }
  return fit;
}

}  // namespace

MixtureFit train_mixture(const MixtureBatch& train, const MixtureBatch& validation, const MixtureParameters& initial,
                         const MixtureOptions& o, const std::function<void(int, int)>& on_epoch) {
  o.validate();
  // Thousands of products over 1,024 pairs: on Eigen's own threads they cost 20x more CPU in
  // waiting than in computing (mixture row of the evaluation, 2,000 users: 36.6 -> 1.7 s),
  // and serial they no longer depend on the machine's core count.
  MixtureFit fit;
  core::with_serial_products([&] { fit = fit_mixture(train, validation, initial, o, on_epoch); });
  return fit;
}

}  // namespace driftrec::temporal
