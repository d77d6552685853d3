#include "temporal/lstm.hpp"

#include <cstddef>

namespace driftrec::temporal {

template <class S>
void lstm_forward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, const Matrix<S>& h0,
                  const Matrix<S>& c0, LstmTrace<S>& trace) {
  const Eigen::Index h = p.hidden();
  const std::size_t steps = inputs.size();
  trace.h.assign(1, h0);
  trace.c.assign(1, c0);
  trace.gates.resize(steps);
  for (std::size_t t = 0; t < steps; ++t) {
    Matrix<S> a = p[kCellInput] * inputs[t];
    a.colwise() += p[kCellBias].col(0);
    a.noalias() += p[kCellHidden] * trace.h[t];
    auto sig = [](const auto& x) { return (S(1) / (S(1) + (-x.array()).exp())).matrix(); };
    a.topRows(2 * h) = sig(a.topRows(2 * h));
    a.middleRows(2 * h, h) = a.middleRows(2 * h, h).array().tanh().matrix();
    a.bottomRows(h) = sig(a.bottomRows(h));
    const auto i = a.topRows(h).array();
    const auto f = a.middleRows(h, h).array();
    const auto g = a.middleRows(2 * h, h).array();
    const auto o = a.bottomRows(h).array();
    Matrix<S> c = (f * trace.c[t].array() + i * g).matrix();
    trace.h.push_back((o * c.array().tanh()).matrix());
    trace.c.push_back(std::move(c));
    trace.gates[t] = std::move(a);
  }
}

template <class S>
void lstm_backward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs,
                   const LstmTrace<S>& trace, const std::vector<Matrix<S>>& d_hidden, int bptt,
                   Parameters<S>& grad) {
  const Eigen::Index h = p.hidden();
  const std::size_t steps = inputs.size();
  Matrix<S> carry_h, carry_c;  // dL/dh_{t+1}, dL/dc_{t+1} through later steps of the window
  for (std::size_t t = steps; t-- > 0;) {
    const Matrix<S>& a = trace.gates[t];
    const auto i = a.topRows(h).array();
    const auto f = a.middleRows(h, h).array();
    const auto g = a.middleRows(2 * h, h).array();
    const auto o = a.bottomRows(h).array();
    Matrix<S> dh = d_hidden[t];
    if (carry_h.size() != 0) dh += carry_h;
    const Matrix<S> tanh_c = trace.c[t + 1].array().tanh().matrix();
    // h = o tanh(c); c = f c_{t-1} + i g
    Matrix<S> dc = (dh.array() * o * (S(1) - tanh_c.array().square())).matrix();
    if (carry_c.size() != 0) dc += carry_c;
    Matrix<S> da(4 * h, dh.cols());
    da.topRows(h) = (dc.array() * g * i * (S(1) - i)).matrix();
    da.middleRows(h, h) = (dc.array() * trace.c[t].array() * f * (S(1) - f)).matrix();
    da.middleRows(2 * h, h) = (dc.array() * i * (S(1) - g.square())).matrix();
    da.bottomRows(h) = (dh.array() * tanh_c.array() * o * (S(1) - o)).matrix();

    grad[kCellInput].noalias() += da * inputs[t].transpose();
    grad[kCellHidden].noalias() += da * trace.h[t].transpose();
    grad[kCellBias].noalias() += da.rowwise().sum();

    if (t % static_cast<std::size_t>(bptt) == 0) {  // a window starts at t: stop here
      carry_h.resize(0, 0);
      carry_c.resize(0, 0);
      continue;
    }
    carry_h.noalias() = p[kCellHidden].transpose() * da;
    carry_c = (dc.array() * f).matrix();
  }
}

template void lstm_forward<float>(const Parameters<float>&, const std::vector<Matrix<float>>&,
                                  const Matrix<float>&, const Matrix<float>&, LstmTrace<float>&);
template void lstm_forward<double>(const Parameters<double>&, const std::vector<Matrix<double>>&,
                                   const Matrix<double>&, const Matrix<double>&,
                                   LstmTrace<double>&);
template void lstm_backward<float>(const Parameters<float>&, const std::vector<Matrix<float>>&,
                                   const LstmTrace<float>&, const std::vector<Matrix<float>>&, int,
                                   Parameters<float>&);
template void lstm_backward<double>(const Parameters<double>&, const std::vector<Matrix<double>>&,
                                    const LstmTrace<double>&, const std::vector<Matrix<double>>&,
                                    int, Parameters<double>&);

}  // namespace driftrec::temporal
