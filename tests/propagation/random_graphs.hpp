// Shared helpers of the propagation tests: random skewed matrices, random item labels,
// and the dense references (Eigen, double) they are checked against.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"

namespace driftrec::test {

// rows x cols with about `edges` entries whose row and column ids are skewed like
// R-MAT's (id = floor(n * u^3), so low ids are heavy), one extra dense row, and
// positive values in [0.1, 2). Many rows and columns stay empty.
inline graph::CsrMatrix random_skewed_matrix(std::mt19937_64& rng, graph::Index rows,
                                             graph::Index cols, std::size_t edges) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_real_distribution<float> value(0.1f, 2.0f);
  auto skewed = [&](graph::Index n) {
    return std::min<graph::Index>(n - 1, static_cast<graph::Index>(n * std::pow(u(rng), 3.0)));
  };
  std::vector<graph::Triplet> t;
  t.reserve(edges + static_cast<std::size_t>(cols));
  for (std::size_t e = 0; e < edges; ++e) t.push_back({skewed(rows), skewed(cols), value(rng)});
  const graph::Index heavy = static_cast<graph::Index>(rng() % static_cast<std::uint64_t>(rows));
  for (graph::Index c = 0; c < cols; c += 2) t.push_back({heavy, c, value(rng)});
  return graph::csr_from_triplets(rows, cols, t);
}

// items x labels: each item gets 1..3 labels of random positive weight, except about
// `unlabelled` of them, which get none.
inline graph::CsrMatrix random_item_labels(std::mt19937_64& rng, graph::Index items,
                                           graph::Index labels, double unlabelled) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<graph::Triplet> t;
  for (graph::Index i = 0; i < items; ++i) {
    if (u(rng) < unlabelled) continue;
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int j = 0; j < n; ++j)
      t.push_back({i, static_cast<graph::Index>(rng() % static_cast<std::uint64_t>(labels)),
                   static_cast<float>(0.5 + u(rng))});
  }
  return graph::csr_from_triplets(items, labels, t);
}

inline Eigen::MatrixXd dense(const graph::CsrMatrix& m) {
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(m.n_rows, m.n_cols);
  for (graph::Index r = 0; r < m.n_rows; ++r)
    for (graph::Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) d(r, m.indices[e]) += m.data[e];
  return d;
}

inline propagation::DenseMatrix random_dense(std::mt19937_64& rng, Eigen::Index rows,
                                             Eigen::Index cols) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  propagation::DenseMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(rng);
  return m;
}

// Every |got - want| <= bound, entry by entry (a NaN fails); reports the worst entry.
inline void require_within(const propagation::DenseMatrix& got, const Eigen::MatrixXd& want,
                           const Eigen::MatrixXd& bound) {
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  double worst = 0;
  Eigen::Index worst_r = 0, worst_c = 0;
  for (Eigen::Index r = 0; r < want.rows(); ++r)
    for (Eigen::Index c = 0; c < want.cols(); ++c) {
      const double excess = std::abs(got(r, c) - want(r, c)) / bound(r, c);
      if (!(excess <= worst)) {
        worst = excess;
        worst_r = r;
        worst_c = c;
      }
    }
  INFO("worst at row " << worst_r << ", column " << worst_c << ": got " << got(worst_r, worst_c)
                       << ", want " << want(worst_r, worst_c) << ", allowed error " << bound(worst_r, worst_c));
  REQUIRE(worst <= 1.0);
}

// The fixed point of bipartite label propagation, densely: with S = D_U^-1/2 W D_I^-1/2
// and S_sym = [[0, S], [S^T, 0]], F = (1 - alpha)(I - alpha S_sym)^-1 [Y_U; Y_I].
// Returns F stacked: users first, then items.
inline Eigen::MatrixXd closed_form(const Eigen::MatrixXd& w, const Eigen::MatrixXd& y_users,
                                   const Eigen::MatrixXd& y_items, double alpha) {
  const Eigen::Index nu = w.rows(), ni = w.cols();
  Eigen::VectorXd du = w.rowwise().sum(), di = w.colwise().sum().transpose();
  for (Eigen::Index i = 0; i < nu; ++i) du(i) = du(i) > 0 ? 1 / std::sqrt(du(i)) : 0;
  for (Eigen::Index i = 0; i < ni; ++i) di(i) = di(i) > 0 ? 1 / std::sqrt(di(i)) : 0;
  const Eigen::MatrixXd s = du.asDiagonal() * w * di.asDiagonal();
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(nu + ni, nu + ni);
  m.topRightCorner(nu, ni) -= alpha * s;
  m.bottomLeftCorner(ni, nu) -= alpha * s.transpose();
  Eigen::MatrixXd y(nu + ni, y_items.cols());
  y.topRows(nu) = y_users;
  y.bottomRows(ni) = y_items;
  return (1 - alpha) * m.partialPivLu().solve(y);
}

}  // namespace driftrec::test
