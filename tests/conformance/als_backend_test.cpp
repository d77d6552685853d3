// Conformance of every registered ALS backend (matrix_factorization/als_backend.hpp) to an
// independent dense reference in double on random ratings (seeds printed): the Gram
// matrix, and the half-sweep row solves of every solver the backend has against each
// row's normal equations formed densely and solved by Householder QR (not the LLT the CPU
// backend uses), with and without the drift prior, for factor counts that take the
// fixed-width CG kernels (32) and the generic one (5, 12).
//
// Stated tolerances, on max |x - x_ref| / (1 + max |x_ref|) over the sweep:
// - Cholesky 1e-6: an exact solve in double stored as float32 (relative 2^-24), with room
//   for the conditioning of these systems (lambda = 0.5 against entries of Y ~ N(0, 0.25));
// - CG 1e-5 after 3 f steps in float32.
// Measured on the CPU backend over seeds 1-8: Cholesky 0 (both solves round to the same
// floats), CG at most 1.1e-6.
#include <catch2/catch.hpp>
#include <random>

#include "graph/csr.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "tests/conformance/backends.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::matrix_factorization;
using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

namespace {

template <class Body>
void each_backend(Body&& body) {
  test::for_each_backend("ALS conformance", registered_als_backends(),
                         [](const std::string& n) { return als_backend_available(n); }, body);
}

// rows x cols with about `density` of the entries stored, values in [-0.5, 3): the
// stored entries <= 0 must count as absent (c = 1, p = 0). Some rows stay empty.
CsrMatrix random_ratings(std::mt19937_64& rng, Index rows, Index cols, double density) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<graph::Triplet> t;
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      if (r % 7 != 3 && u(rng) < density) t.push_back({r, c, static_cast<float>(-0.5 + 3.5 * u(rng))});
  return graph::csr_from_triplets(rows, cols, t);
}

Factors random_factors(std::mt19937_64& rng, Index rows, int f) {
  std::normal_distribution<float> n(0.0f, 0.5f);
  Factors m(rows, f);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

// Row r's normal equations, densely, from the objective:
//   (sum_i c_ri y_i y_i^T + (lambda + eta) I) x = sum_{i: r_ri > 0} c_ri y_i + eta prior_r
// over EVERY column i (c = 1 where nothing positive is stored), solved by Householder QR.
Factors dense_solve(const CsrMatrix& m, const Factors& fixed, const AlsOptions& o, const Factors* prior,
                    float eta) {
  const int f = o.factors;
  const Eigen::MatrixXd y = fixed.cast<double>();
  Factors out(m.n_rows, f);
  for (Index r = 0; r < m.n_rows; ++r) {
    Eigen::VectorXd c = Eigen::VectorXd::Ones(m.n_cols), p = Eigen::VectorXd::Zero(m.n_cols);
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e)
      if (m.data[e] > 0) {
        c(m.indices[e]) = 1 + static_cast<double>(o.alpha) * m.data[e];
        p(m.indices[e]) = 1;
      }
    const Eigen::MatrixXd a = y.transpose() * c.asDiagonal() * y +
                              (o.regularization + eta) * Eigen::MatrixXd::Identity(f, f);
    Eigen::VectorXd b = y.transpose() * c.cwiseProduct(p);
    if (prior) b += eta * prior->row(r).transpose().cast<double>();
    out.row(r) = a.householderQr().solve(b).transpose().cast<float>();
  }
  return out;
}

double scaled_error(const Factors& got, const Factors& want) {
  return (got - want).cwiseAbs().maxCoeff() / (1.0 + want.cwiseAbs().maxCoeff());
}

}  // namespace

TEST_CASE("every ALS backend's Gram matrix equals F^T F", "[conformance][mf]") {
  std::mt19937_64 rng(test::test_seed());
  each_backend([&](const std::string& name) {
    const auto backend = make_als_backend(name, {2});
    for (const auto& [rows, f] : {std::pair{3000, 12}, std::pair{70, 32}, std::pair{0, 5}}) {
      INFO(rows << " rows, " << f << " factors");
      const Factors m = random_factors(rng, rows, f);
      const Eigen::MatrixXd want = m.cast<double>().transpose() * m.cast<double>();
      const Eigen::MatrixXd got = backend->gram(m);
      REQUIRE(got.rows() == f);
      REQUIRE(got.cols() == f);
      // Products of floats are exact in double; only the order of the additions differs.
      REQUIRE((got - want).cwiseAbs().maxCoeff() <= 1e-12 * (1 + want.cwiseAbs().maxCoeff()));
    }
  });
}

TEST_CASE("every ALS backend's row solves match the dense normal equations", "[conformance][mf]") {
  std::mt19937_64 rng(test::test_seed());
  each_backend([&](const std::string& name) {
    const auto backend = make_als_backend(name, {2});
    for (const int f : {5, 12, 32})
      for (const Solver solver : {Solver::cholesky, Solver::cg}) {
        if (!backend->supports(solver)) {
          WARN("ALS conformance: backend '" << name << "' has no "
                                            << (solver == Solver::cg ? "cg" : "cholesky") << " solver: skipped");
          continue;
        }
        const bool exact = solver == Solver::cholesky;
        INFO(f << " factors, " << (exact ? "cholesky" : "cg"));
        AlsOptions o;
        o.factors = f;
        o.alpha = 2;
        o.regularization = 0.5f;
        o.solver = solver;
        o.cg_steps = 3 * f;
        const double tolerance = exact ? 1e-6 : 1e-5;
        const CsrMatrix m = random_ratings(rng, 300, 90, 0.15);
        const Factors fixed = random_factors(rng, m.n_cols, f);
        const Factors start = random_factors(rng, m.n_rows, f);
        Factors x = start;
        backend->solve_rows(m, fixed, x, o);
        CHECK(scaled_error(x, dense_solve(m, fixed, o, nullptr, 0)) <= tolerance);

        const Factors prior = random_factors(rng, m.n_rows, f);
        x = start;
        backend->solve_rows(m, fixed, x, o, DriftPrior{&prior, 1.5f});
        CHECK(scaled_error(x, dense_solve(m, fixed, o, &prior, 1.5f)) <= tolerance);
      }
  });
}

TEST_CASE("every ALS backend refuses mismatched shapes and reports a breakdown by row",
          "[conformance][mf]") {
  std::mt19937_64 rng(test::test_seed());
  each_backend([&](const std::string& name) {
    const auto backend = make_als_backend(name, {1});
    AlsOptions o;
    o.factors = 4;
    const CsrMatrix m = random_ratings(rng, 20, 10, 0.3);
    const Factors fixed = random_factors(rng, 10, 4);
    Factors x = random_factors(rng, 20, 4), wrong_rows = random_factors(rng, 19, 4);
    REQUIRE_THROWS_AS(backend->solve_rows(m, fixed, wrong_rows, o), InputError);
    REQUIRE_THROWS_AS(backend->solve_rows(m, random_factors(rng, 10, 5), x, o), InputError);
    const Factors short_prior = random_factors(rng, 3, 4);
    REQUIRE_THROWS_WITH(backend->solve_rows(m, fixed, x, o, DriftPrior{&short_prior, 1}),
                        Catch::Contains("prior"));
    if (backend->supports(Solver::cholesky)) {
      // Y = 0 and lambda = 0: every row's matrix is 0, not positive definite.
      o.solver = Solver::cholesky;
      o.regularization = 0;
      REQUIRE_THROWS_WITH(backend->solve_rows(m, Factors::Zero(10, 4), x, o),
                          Catch::Contains("row 0") && Catch::Contains("`regularization`"));
    }
  });
}
