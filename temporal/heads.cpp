#include "temporal/heads.hpp"

#include <cmath>

namespace driftrec::temporal {

template <class S>
Matrix<S> softmax_columns(const Matrix<S>& logits) {
  Matrix<S> p(logits.rows(), logits.cols());
  for (Eigen::Index b = 0; b < logits.cols(); ++b) {
    const S top = logits.col(b).maxCoeff();
    p.col(b) = (logits.col(b).array() - top).exp().matrix();
    p.col(b) /= p.col(b).sum();
  }
  return p;
}

template <class S>
Matrix<S> interest_distribution(const Parameters<S>& p, const Matrix<S>& hidden) {
  Matrix<S> logits = p[kInterestWeight] * hidden;
  logits.colwise() += p[kInterestBias].col(0);
  return softmax_columns<S>(logits);
}

template <class S>
Matrix<S> predicted_factor(const Parameters<S>& p, const Matrix<S>& hidden) {
  Matrix<S> x = p[kFactorWeight] * hidden;
  x.colwise() += p[kFactorBias].col(0);
  return x;
}

template <class S>
S interest_loss(const Parameters<S>& p, const Matrix<S>& hidden, const Matrix<S>& target,
                const Matrix<S>& mask, S scale, Parameters<S>* grad, Matrix<S>* d_hidden) {
  Matrix<S> logits = p[kInterestWeight] * hidden;
  logits.colwise() += p[kInterestBias].col(0);
  Matrix<S> d_logits = Matrix<S>::Zero(logits.rows(), logits.cols());
  S loss = 0;
  for (Eigen::Index b = 0; b < logits.cols(); ++b) {
    const S w = mask(0, b);
    if (w == S(0)) continue;
    // log p = logits - log sum exp(logits)
    const S top = logits.col(b).maxCoeff();
    const S log_z = top + std::log((logits.col(b).array() - top).exp().sum());
    const auto log_p = logits.col(b).array() - log_z;
    loss -= w * (target.col(b).array() * log_p).sum();
    d_logits.col(b) = w * (target.col(b).sum() * log_p.exp() - target.col(b).array()).matrix();
  }
  if (grad != nullptr) {
    d_logits *= scale;
    (*grad)[kInterestWeight].noalias() += d_logits * hidden.transpose();
    (*grad)[kInterestBias].noalias() += d_logits.rowwise().sum();
    d_hidden->noalias() += p[kInterestWeight].transpose() * d_logits;
  }
  return loss;
}

template <class S>
S factor_loss(const Parameters<S>& p, const Matrix<S>& hidden, const Matrix<S>& target,
              const Matrix<S>& mask, S scale, Parameters<S>* grad, Matrix<S>* d_hidden) {
  if (p[kFactorWeight].rows() == 0) return S(0);
  Matrix<S> diff = predicted_factor(p, hidden) - target;
  for (Eigen::Index b = 0; b < diff.cols(); ++b)
    if (mask(0, b) == S(0)) diff.col(b).setZero();
  const S loss = (diff.colwise().squaredNorm().array() * mask.array()).sum();
  if (grad != nullptr) {
    // d/dx_hat of w |x_hat - x|^2 = 2 w (x_hat - x)
    const Matrix<S> d_out =
        (S(2) * scale) * (diff.array().rowwise() * mask.row(0).array()).matrix();
    (*grad)[kFactorWeight].noalias() += d_out * hidden.transpose();
    (*grad)[kFactorBias].noalias() += d_out.rowwise().sum();
    d_hidden->noalias() += p[kFactorWeight].transpose() * d_out;
  }
  return loss;
}

#define DRIFTREC_INSTANTIATE_HEADS(S)                                                   \
  template Matrix<S> softmax_columns<S>(const Matrix<S>&);                              \
  template Matrix<S> interest_distribution<S>(const Parameters<S>&, const Matrix<S>&);  \
  template Matrix<S> predicted_factor<S>(const Parameters<S>&, const Matrix<S>&);       \
  template S interest_loss<S>(const Parameters<S>&, const Matrix<S>&, const Matrix<S>&, \
                              const Matrix<S>&, S, Parameters<S>*, Matrix<S>*);         \
  template S factor_loss<S>(const Parameters<S>&, const Matrix<S>&, const Matrix<S>&,   \
                            const Matrix<S>&, S, Parameters<S>*, Matrix<S>*);
DRIFTREC_INSTANTIATE_HEADS(float)
DRIFTREC_INSTANTIATE_HEADS(double)
#undef DRIFTREC_INSTANTIATE_HEADS

}  // namespace driftrec::temporal
