#include "temporal/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace driftrec::temporal {
namespace {

std::size_t distance_slot(std::size_t t, std::size_t s) {
  return std::min<std::size_t>(t - s, static_cast<std::size_t>(kAttentionDistances - 1));
}

}  // namespace

template <class S>
void attention_extend(const Parameters<S>& p, const Matrix<S>& input, AttentionTrace<S>& trace) {
  const Eigen::Index h = p.hidden();
  const std::size_t t = trace.k.size();  // the new step's position: periods 0..t-1 are in the trace
  const S scale = S(1) / std::sqrt(static_cast<S>(h));
  const Matrix<S>& bias = p[kCellBias];
  Matrix<S> a = p[kCellInput] * input;
  a.colwise() += bias.topRows(4 * h).col(0);
  Matrix<S> q = a.middleRows(h, h);
  trace.u.push_back(a.topRows(h));
  trace.k.push_back(a.middleRows(2 * h, h));
  trace.v.push_back(a.bottomRows(h));
  const Eigen::Index users = input.cols();
  Matrix<S> e(static_cast<Eigen::Index>(t + 1), users);
  for (std::size_t s = 0; s <= t; ++s)
    e.row(static_cast<Eigen::Index>(s)).array() =
        scale * q.cwiseProduct(trace.k[s]).colwise().sum().array() +
        bias(4 * h + static_cast<Eigen::Index>(distance_slot(t, s)), 0);
  for (Eigen::Index b = 0; b < users; ++b) {  // softmax over s, per column
    const S top = e.col(b).maxCoeff();
    e.col(b) = (e.col(b).array() - top).exp().matrix();
    e.col(b) /= e.col(b).sum();
  }
  Matrix<S> c = Matrix<S>::Zero(h, users);
  for (std::size_t s = 0; s <= t; ++s)
    c += (trace.v[s].array().rowwise() * e.row(static_cast<Eigen::Index>(s)).array()).matrix();
  Matrix<S> pre = trace.u.back();
  pre.noalias() += p[kCellHidden] * c;
  trace.h.push_back(pre.array().tanh().matrix());
  trace.q.push_back(std::move(q));
  trace.weights.push_back(std::move(e));
  trace.context.push_back(std::move(c));
}

template <class S>
void attention_forward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, AttentionTrace<S>& trace) {
  trace = AttentionTrace<S>{};
  for (const Matrix<S>& x : inputs) attention_extend(p, x, trace);
}

template <class S>
void attention_backward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, const AttentionTrace<S>& trace,
                        const std::vector<Matrix<S>>& d_hidden, Parameters<S>& grad) {
  const Eigen::Index h = p.hidden();
  const std::size_t steps = inputs.size();
  if (steps == 0) return;
  const S scale = S(1) / std::sqrt(static_cast<S>(h));
  const Eigen::Index users = inputs[0].cols();
  // dL/d(u, q, k, v) per step, stacked as the 4H rows of cell_input.
  std::vector<Matrix<S>> da(steps, Matrix<S>::Zero(4 * h, users));
  for (std::size_t t = 0; t < steps; ++t) {
    const Matrix<S> d_pre = (d_hidden[t].array() * (S(1) - trace.h[t].array().square())).matrix();
    da[t].topRows(h) += d_pre;
    grad[kCellHidden].noalias() += d_pre * trace.context[t].transpose();
    const Matrix<S> d_context = p[kCellHidden].transpose() * d_pre;
    const Matrix<S>& a = trace.weights[t];
    Matrix<S> d_weight(static_cast<Eigen::Index>(t + 1), users);
    for (std::size_t s = 0; s <= t; ++s) {
      const auto row = static_cast<Eigen::Index>(s);
      da[s].bottomRows(h) += (d_context.array().rowwise() * a.row(row).array()).matrix();
      d_weight.row(row) = d_context.cwiseProduct(trace.v[s]).colwise().sum();
    }
    // Through the softmax: de_ts = a_ts (da_ts - sum_s' a_ts' da_ts').
    const Matrix<S> mean = a.cwiseProduct(d_weight).colwise().sum();
    for (std::size_t s = 0; s <= t; ++s) {
      const auto row = static_cast<Eigen::Index>(s);
      const Eigen::Array<S, 1, Eigen::Dynamic> de = a.row(row).array() * (d_weight.row(row).array() - mean.row(0).array());
      da[t].middleRows(h, h) += scale * (trace.k[s].array().rowwise() * de).matrix();
      da[s].middleRows(2 * h, h) += scale * (trace.q[t].array().rowwise() * de).matrix();
      grad[kCellBias](4 * h + static_cast<Eigen::Index>(distance_slot(t, s)), 0) += de.sum();
    }
  }
  for (std::size_t t = 0; t < steps; ++t) {
    grad[kCellInput].noalias() += da[t] * inputs[t].transpose();
    grad[kCellBias].topRows(4 * h) += da[t].rowwise().sum();
  }
}

template void attention_extend<float>(const Parameters<float>&, const Matrix<float>&, AttentionTrace<float>&);
template void attention_extend<double>(const Parameters<double>&, const Matrix<double>&, AttentionTrace<double>&);
template void attention_forward<float>(const Parameters<float>&, const std::vector<Matrix<float>>&,
                                       AttentionTrace<float>&);
template void attention_forward<double>(const Parameters<double>&, const std::vector<Matrix<double>>&,
                                        AttentionTrace<double>&);
template void attention_backward<float>(const Parameters<float>&, const std::vector<Matrix<float>>&,
                                        const AttentionTrace<float>&, const std::vector<Matrix<float>>&,
                                        Parameters<float>&);
template void attention_backward<double>(const Parameters<double>&, const std::vector<Matrix<double>>&,
                                         const AttentionTrace<double>&, const std::vector<Matrix<double>>&,
                                         Parameters<double>&);

}  // namespace driftrec::temporal
