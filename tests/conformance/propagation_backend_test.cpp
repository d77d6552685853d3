// Conformance of every registered propagation backend (propagation/backend.hpp) to an
// independent dense reference in double, on random skewed graphs (seeds printed):
// multiply on both sides, the fused half-step (values and the returned max change, NaN
// included), handles of graphs with equal shape and nnz but different structure (the
// address + nnz identification a device backend must not use), and label propagation to
// its closed-form fixed point.
//
// Tolerances: float32 sums of at most a few hundred terms per row, so each entry is
// within 1e-5 of the reference relative to the row's magnitude sum_e |a_e x_e| (about
// 2^-24 per addition, with room for a device's different summation order or FMA).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "propagation/backend.hpp"
#include "propagation/label_propagation.hpp"
#include "tests/conformance/backends.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

namespace {

constexpr double kRelativeTolerance = 1e-5;
constexpr int kWidths[] = {1, 7, 20, 32};  // the fixed-width kernels and the generic one

template <class Body>
void each_backend(Body&& body) {
  test::for_each_backend("propagation conformance", registered_backends(),
                         [](const std::string& n) { return backend_available(n); }, body);
}

std::unique_ptr<Backend> make(const std::string& name) { return make_backend(name, {2}); }

// Every entry of `got` within kRelativeTolerance * magnitude(r) of `want`.
void require_close(const DenseMatrix& got, const Eigen::MatrixXd& want, const Eigen::VectorXd& magnitude) {
  const Eigen::VectorXd bound = kRelativeTolerance * magnitude.array() + 1e-30;
  test::require_within(got, want, bound.replicate(1, want.cols()));
}

// Per row of a x: sum_e |a_e| max_c |x_c(e)|, the scale of the float rounding.
Eigen::VectorXd magnitude(const Eigen::MatrixXd& a, const DenseMatrix& x) {
  const Eigen::VectorXd row_max = x.cast<double>().cwiseAbs().rowwise().maxCoeff();
  return a.cwiseAbs() * row_max;
}

Eigen::VectorXd inv_sqrt(const Eigen::VectorXd& degree) {
  Eigen::VectorXd out(degree.size());
  for (Eigen::Index i = 0; i < degree.size(); ++i) out(i) = degree(i) > 0 ? 1 / std::sqrt(degree(i)) : 0.0;
  return out;
}

}  // namespace

TEST_CASE("every backend multiplies by W and by W^T as the dense product does", "[conformance][propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 700, 300, 9000);
  const Eigen::MatrixXd d = test::dense(w), dt = d.transpose();
  each_backend([&](const std::string& name) {
    const auto backend = make(name);
    const auto g = backend->prepare(make_bipartite_graph(w));
    for (int k : kWidths) {
      INFO("k = " << k);
      for (Side side : {Side::users, Side::items}) {
        const bool users = side == Side::users;
        const Eigen::MatrixXd& a = users ? d : dt;
        const DenseMatrix x = test::random_dense(rng, a.cols(), k);
        DenseMatrix y = DenseMatrix::Constant(a.rows(), k, 7.0f);  // overwritten, not added to
        backend->multiply(*g, side, view(x), view(y));
        require_close(y, a * x.cast<double>(), magnitude(a, x));
      }
    }
  });
}

TEST_CASE("every backend's half-step matches the dense formula and returns the max change",
          "[conformance][propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 500, 260, 7000);
  const Eigen::MatrixXd d = test::dense(w);
  const Eigen::VectorXd du = inv_sqrt(d.rowwise().sum()), di = inv_sqrt(d.colwise().sum().transpose());
  each_backend([&](const std::string& name) {
    const auto backend = make(name);
    const auto g = backend->prepare(make_bipartite_graph(w));
    for (int k : kWidths)
      for (Side side : {Side::users, Side::items})
        for (bool with_seed : {true, false}) {
          const bool users = side == Side::users;
          INFO("k = " << k << (users ? ", users" : ", items") << (with_seed ? ", seeded" : ", no seed"));
          // S_out = D_out^-1/2 A D_in^-1/2
          const Eigen::MatrixXd s =
              users ? Eigen::MatrixXd(du.asDiagonal() * d * di.asDiagonal())
                    : Eigen::MatrixXd(di.asDiagonal() * d.transpose() * du.asDiagonal());
          const DenseMatrix f_in = test::random_dense(rng, s.cols(), k);
          const DenseMatrix seed = test::random_dense(rng, s.rows(), k);
          const DenseMatrix before = test::random_dense(rng, s.rows(), k);
          DenseMatrix f_out = before;
          HalfStep step;
          step.out = side;
          step.alpha = 0.85f;
          step.f_in = view(f_in);
          step.f_out = view(f_out);
          if (with_seed) step.seed = view(seed);
          step.seed_scale = 0.6f;
          const double change = backend->half_step(*g, step);

          Eigen::MatrixXd want = 0.85 * s * f_in.cast<double>();
          if (with_seed) want += (1 - 0.85) * 0.6 * seed.cast<double>();
          const Eigen::VectorXd mag = 0.85 * magnitude(s, f_in) + Eigen::VectorXd::Constant(s.rows(), 1.0);
          require_close(f_out, want, mag);
          const double want_change = (want - before.cast<double>()).cwiseAbs().maxCoeff();
          REQUIRE(std::abs(change - want_change) <= kRelativeTolerance * mag.maxCoeff());
        }
    // A NaN that reaches the output makes the change NaN (so the caller can stop).
    DenseMatrix f_in = test::random_dense(rng, g->items(), 20), f_out = DenseMatrix::Zero(g->users(), 20);
    Index heavy = 0;  // a user with an edge, so the NaN is gathered
    while (w.row_length(heavy) == 0) ++heavy;
    f_in(w.indices[w.indptr[heavy]], 3) = std::numeric_limits<float>::quiet_NaN();
    HalfStep step;
    step.alpha = 0.5f;
    step.f_in = view(std::as_const(f_in));
    step.f_out = view(f_out);
    REQUIRE(std::isnan(backend->half_step(*g, step)));
  });
}

TEST_CASE("every backend keeps two graphs of equal shape and nnz apart", "[conformance][propagation]") {
  std::mt19937_64 rng(test::test_seed());
  // W2: W1 with its item ids reversed, so the shape and nnz are equal, the structure not.
  const graph::CsrMatrix w1 = test::random_skewed_matrix(rng, 400, 150, 4000);
  std::vector<graph::Triplet> t;
  for (Index r = 0; r < w1.n_rows; ++r)
    for (graph::Offset e = w1.indptr[r]; e < w1.indptr[r + 1]; ++e)
      t.push_back({r, w1.n_cols - 1 - w1.indices[e], w1.data[e]});
  const graph::CsrMatrix w2 = graph::csr_from_triplets(w1.n_rows, w1.n_cols, t);
  REQUIRE(w2.nnz() == w1.nnz());
  REQUIRE(w2.indices != w1.indices);
  const Eigen::MatrixXd d1 = test::dense(w1), d2 = test::dense(w2);
  const int k = 20;
  const DenseMatrix x = test::random_dense(rng, w1.n_cols, k);
  each_backend([&](const std::string& name) {
    const auto backend = make(name);
    const auto product = [&](const PreparedGraph& g) {
      DenseMatrix y(w1.n_rows, k);
      backend->multiply(g, Side::users, view(x), view(y));
      return y;
    };
    {  // one host graph object, refilled between periods: same address, same nnz
      BipartiteGraph host = make_bipartite_graph(w1);
      auto g = backend->prepare(host);
      require_close(product(*g), d1 * x.cast<double>(), magnitude(d1, x));
      g.reset();
      host = make_bipartite_graph(w2);
      g = backend->prepare(host);
      require_close(product(*g), d2 * x.cast<double>(), magnitude(d2, x));
    }
    {  // both handles alive, used in turn
      const auto g1 = backend->prepare(make_bipartite_graph(w1));
      const auto g2 = backend->prepare(make_bipartite_graph(w2));
      for (int round = 0; round < 2; ++round) {
        require_close(product(*g1), d1 * x.cast<double>(), magnitude(d1, x));
        require_close(product(*g2), d2 * x.cast<double>(), magnitude(d2, x));
      }
    }
    {  // a handle made by another backend object is refused
      const auto other = make(name);
      const auto g = other->prepare(make_bipartite_graph(w1));
      DenseMatrix y(w1.n_rows, k);
      REQUIRE_THROWS_WITH(backend->multiply(*g, Side::users, view(x), view(y)),
                          Catch::Contains("prepared by another backend"));
    }
  });
}

TEST_CASE("label propagation on every backend reaches the closed-form fixed point",
          "[conformance][propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 90, 60, 500);
  const graph::CsrMatrix labels = test::random_item_labels(rng, w.n_cols, 4, 0.3);
  const Eigen::MatrixXd f = test::closed_form(test::dense(w), Eigen::MatrixXd::Zero(w.n_rows, 4),
                                              item_seed_labels(labels).cast<double>(), 0.8);
  each_backend([&](const std::string& name) {
    const auto backend = make(name);
    LabelPropagationOptions o;
    o.alpha = 0.8f;
    o.tolerance = 1e-8;
    o.max_iterations = 2000;
    o.backend = backend.get();
    const PropagationResult r = propagate_labels(w, labels, nullptr, o);
    REQUIRE(r.converged);
    // Error <= residual * alpha^2 / (1 - alpha^2) plus float rounding.
    REQUIRE((r.user_labels.cast<double>() - f.topRows(w.n_rows)).cwiseAbs().maxCoeff() <= 1e-5);
    REQUIRE((r.item_labels.cast<double>() - f.bottomRows(w.n_cols)).cwiseAbs().maxCoeff() <= 1e-5);
  });
}
