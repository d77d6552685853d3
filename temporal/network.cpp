#include "temporal/network.hpp"

#include <cstddef>

#include "temporal/attention.hpp"
#include "temporal/gru.hpp"
#include "temporal/heads.hpp"
#include "temporal/lstm.hpp"

namespace driftrec::temporal {
namespace {

template <class S>
Matrix<S> state_or_zero(const Matrix<S>& m, Eigen::Index hidden, Eigen::Index users) {
  return m.size() == 0 ? Matrix<S>::Zero(hidden, users) : m;
}

// Heads at every step: the loss sums, and dL/dh_{t+1} per step for the backward pass.
template <class S>
LossSums<S> heads_over_steps(const Parameters<S>& p, const Batch<S>& batch,
                             const std::vector<Matrix<S>>& hidden_after, S interest_scale,
                             S factor_scale, Parameters<S>* grad,
                             std::vector<Matrix<S>>* d_hidden) {
  LossSums<S> sums;
  const bool has_factor = p[kFactorWeight].rows() > 0;
  for (std::size_t t = 0; t < batch.inputs.size(); ++t) {
    const Matrix<S>& h = hidden_after[t];
    Matrix<S>* dh = nullptr;
    if (grad != nullptr) {
      (*d_hidden)[t] = Matrix<S>::Zero(h.rows(), h.cols());
      dh = &(*d_hidden)[t];
    }
    // A step with no target in the chunk adds exactly zero to the losses and gradients; the
    // validation pass (targets at its last step only) spent about a fifth of its arithmetic here.
    const bool any_target = (batch.interest_mask[t].array() != S(0)).any() ||
                            (has_factor && (batch.factor_mask[t].array() != S(0)).any());
    if (!any_target) continue;
    sums.interest += interest_loss(p, h, batch.interest_targets[t], batch.interest_mask[t],
                                   interest_scale, grad, dh);
    if (has_factor)
      sums.factor +=
          factor_loss(p, h, batch.factor_targets[t], batch.factor_mask[t], factor_scale, grad, dh);
  }
  return sums;
}

}  // namespace

template <class S>
LossSums<S> batch_loss(const Parameters<S>& p, const Batch<S>& batch, S interest_scale,
                       S factor_scale, int bptt, Parameters<S>* grad) {
  const std::size_t steps = batch.inputs.size();
  if (steps == 0) return {};
  const Eigen::Index users = batch.inputs[0].cols();
  const Matrix<S> h0 = state_or_zero(batch.h0, p.hidden(), users);
  std::vector<Matrix<S>> d_hidden(grad != nullptr ? steps : 0);
  std::vector<Matrix<S>>* dh = grad != nullptr ? &d_hidden : nullptr;
  if (p.cell == CellKind::attention) {  // no carried state: h0 and bptt do not apply
    AttentionTrace<S> trace;
    attention_forward(p, batch.inputs, trace);
    const LossSums<S> sums = heads_over_steps(p, batch, trace.h, interest_scale, factor_scale, grad, dh);
    if (grad != nullptr) attention_backward(p, batch.inputs, trace, d_hidden, *grad);
    return sums;
  }
  if (p.cell == CellKind::gru) {
    GruTrace<S> trace;
    gru_forward(p, batch.inputs, h0, trace);
    const std::vector<Matrix<S>> after(trace.h.begin() + 1, trace.h.end());
    const LossSums<S> sums =
        heads_over_steps(p, batch, after, interest_scale, factor_scale, grad, dh);
    if (grad != nullptr) gru_backward(p, batch.inputs, trace, d_hidden, bptt, *grad);
    return sums;
  }
  LstmTrace<S> trace;
  lstm_forward(p, batch.inputs, h0, state_or_zero(batch.c0, p.hidden(), users), trace);
  const std::vector<Matrix<S>> after(trace.h.begin() + 1, trace.h.end());
  const LossSums<S> sums =
      heads_over_steps(p, batch, after, interest_scale, factor_scale, grad, dh);
  if (grad != nullptr) lstm_backward(p, batch.inputs, trace, d_hidden, bptt, *grad);
  return sums;
}

template <class S>
States<S> run_states(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs,
                     const Matrix<S>& h0, const Matrix<S>& c0) {
  States<S> out;
  if (inputs.empty()) return out;
  const Eigen::Index users = inputs[0].cols();
  const Matrix<S> h_init = state_or_zero(h0, p.hidden(), users);
  if (p.cell == CellKind::attention) {
    AttentionTrace<S> trace;
    attention_forward(p, inputs, trace);
    out.h = std::move(trace.h);
    return out;
  }
  if (p.cell == CellKind::gru) {
    GruTrace<S> trace;
    gru_forward(p, inputs, h_init, trace);
    out.h.assign(trace.h.begin() + 1, trace.h.end());
    return out;
  }
  LstmTrace<S> trace;
  lstm_forward(p, inputs, h_init, state_or_zero(c0, p.hidden(), users), trace);
  out.h.assign(trace.h.begin() + 1, trace.h.end());
  out.c.assign(trace.c.begin() + 1, trace.c.end());
  return out;
}

template LossSums<float> batch_loss<float>(const Parameters<float>&, const Batch<float>&, float,
                                           float, int, Parameters<float>*);
template LossSums<double> batch_loss<double>(const Parameters<double>&, const Batch<double>&,
                                             double, double, int, Parameters<double>*);
template States<float> run_states<float>(const Parameters<float>&,
                                         const std::vector<Matrix<float>>&, const Matrix<float>&,
                                         const Matrix<float>&);
template States<double> run_states<double>(const Parameters<double>&,
                                           const std::vector<Matrix<double>>&,
                                           const Matrix<double>&, const Matrix<double>&);

}  // namespace driftrec::temporal
