#include "temporal/gru.hpp"

#include <cstddef>

namespace driftrec::temporal {
namespace {

template <class S>
Matrix<S> sigmoid(const Matrix<S>& a) {
  return (S(1) / (S(1) + (-a.array()).exp())).matrix();
}

}  // namespace

template <class S>
void gru_forward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs, const Matrix<S>& h0,
                 GruTrace<S>& trace) {
  const Eigen::Index h = p.hidden();
  const std::size_t steps = inputs.size();
  const Matrix<S>& w = p[kCellInput];
  const Matrix<S>& u = p[kCellHidden];
  trace.h.assign(1, h0);
  trace.z.resize(steps);
  trace.r.resize(steps);
  trace.n.resize(steps);
  for (std::size_t t = 0; t < steps; ++t) {
    const Matrix<S>& prev = trace.h[t];
    // All three gates' input parts at once, then the recurrent parts of z and r.
    Matrix<S> a = w * inputs[t];
    a.colwise() += p[kCellBias].col(0);
    a.topRows(2 * h).noalias() += u.topRows(2 * h) * prev;
    trace.z[t] = sigmoid<S>(a.topRows(h));
    trace.r[t] = sigmoid<S>(a.middleRows(h, h));
    const Matrix<S> reset = trace.r[t].cwiseProduct(prev);
    Matrix<S> an = a.bottomRows(h);
    an.noalias() += u.bottomRows(h) * reset;
    trace.n[t] = an.array().tanh().matrix();
    trace.h.push_back(trace.z[t].cwiseProduct(prev) +
                      ((S(1) - trace.z[t].array()) * trace.n[t].array()).matrix());
  }
}

template <class S>
void gru_backward(const Parameters<S>& p, const std::vector<Matrix<S>>& inputs,
                  const GruTrace<S>& trace, const std::vector<Matrix<S>>& d_hidden, int bptt,
                  Parameters<S>& grad) {
  const Eigen::Index h = p.hidden();
  const Matrix<S>& u = p[kCellHidden];
  const std::size_t steps = inputs.size();
  Matrix<S> carry;  // dL/dh_{t+1} through steps after t, within the window
  for (std::size_t t = steps; t-- > 0;) {
    const Matrix<S>& prev = trace.h[t];
    const Matrix<S>& z = trace.z[t];
    const Matrix<S>& r = trace.r[t];
    const Matrix<S>& n = trace.n[t];
    Matrix<S> g = d_hidden[t];
    if (carry.size() != 0) g += carry;

    Matrix<S> da(3 * h, g.cols());
    // h_t = z h_{t-1} + (1 - z) n
    da.topRows(h) = (g.array() * (prev - n).array() * z.array() * (S(1) - z.array())).matrix();
    da.bottomRows(h) = (g.array() * (S(1) - z.array()) * (S(1) - n.array().square())).matrix();
    // n = tanh(... + U_n (r h_{t-1})): gradient into r h_{t-1}
    const Matrix<S> d_reset = u.bottomRows(h).transpose() * da.bottomRows(h);
    da.middleRows(h, h) =
        (d_reset.array() * prev.array() * r.array() * (S(1) - r.array())).matrix();

    grad[kCellInput].noalias() += da * inputs[t].transpose();
    grad[kCellBias].noalias() += da.rowwise().sum();
    grad[kCellHidden].topRows(2 * h).noalias() += da.topRows(2 * h) * prev.transpose();
    grad[kCellHidden].bottomRows(h).noalias() +=
        da.bottomRows(h) * r.cwiseProduct(prev).transpose();

    if (t % static_cast<std::size_t>(bptt) == 0) {  // a window starts at t: stop here
      carry.resize(0, 0);
      continue;
    }
    carry = g.cwiseProduct(z) + d_reset.cwiseProduct(r);
    carry.noalias() += u.topRows(2 * h).transpose() * da.topRows(2 * h);
  }
}

template void gru_forward<float>(const Parameters<float>&, const std::vector<Matrix<float>>&,
                                 const Matrix<float>&, GruTrace<float>&);
template void gru_forward<double>(const Parameters<double>&, const std::vector<Matrix<double>>&,
                                  const Matrix<double>&, GruTrace<double>&);
template void gru_backward<float>(const Parameters<float>&, const std::vector<Matrix<float>>&,
                                  const GruTrace<float>&, const std::vector<Matrix<float>>&, int,
                                  Parameters<float>&);
template void gru_backward<double>(const Parameters<double>&, const std::vector<Matrix<double>>&,
                                   const GruTrace<double>&, const std::vector<Matrix<double>>&, int,
                                   Parameters<double>&);

}  // namespace driftrec::temporal
