// The seam of matrix_factorization/als_backend.hpp: the registry, and implicit and
// temporal ALS running their half-sweeps on the backend their options name, with the
// thread count their options give (the numbers of each backend are checked in
// tests/conformance/).
#include "matrix_factorization/als_backend.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "matrix_factorization/temporal_als.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::matrix_factorization;
using graph::CsrMatrix;
using graph::Index;

namespace {

CsrMatrix random_ratings(std::mt19937_64& rng, Index rows, Index cols, double density) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<graph::Triplet> t;
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      if (u(rng) < density) t.push_back({r, c, static_cast<float>(1 + 4 * u(rng))});
  return graph::csr_from_triplets(rows, cols, t);
}

// Counts the half-sweeps and runs them on a one-thread CPU backend; has no Cholesky.
class CountingAlsBackend final : public AlsBackend {
 public:
  std::string_view name() const override { return "counting"; }
  bool supports(Solver s) const override { return s == Solver::cg; }
  mutable int sweeps = 0;

 private:
  Eigen::MatrixXd gram_impl(const Factors& f) const override { return cpu_->gram(f); }
  void solve_rows_impl(const CsrMatrix& ratings, const Factors& fixed, Factors& solved, const AlsOptions& o,
                       const DriftPrior& prior) const override {
    ++sweeps;
    cpu_->solve_rows(ratings, fixed, solved, o, prior);
  }
  std::unique_ptr<AlsBackend> cpu_ = make_als_backend("cpu", {1});
};

}  // namespace

TEST_CASE("the ALS registry makes the cpu backend and names the registered ones on a bad name",
          "[mf][als_backend]") {
  const auto registered = registered_als_backends();
  REQUIRE(std::find(registered.begin(), registered.end(), "cpu") != registered.end());
  const auto available = available_als_backends();
  REQUIRE(std::find(available.begin(), available.end(), "cpu") != available.end());
  REQUIRE(als_backend_available("cpu"));
  REQUIRE_FALSE(als_backend_available("no-such-backend"));
  const auto cpu = make_als_backend("cpu");
  REQUIRE(cpu->name() == "cpu");
  REQUIRE(cpu->supports(Solver::cg));
  REQUIRE(cpu->supports(Solver::cholesky));
  REQUIRE_THROWS_WITH(make_als_backend("no-such-backend"),
                      Catch::Contains("no-such-backend") && Catch::Contains("unknown") && Catch::Contains("cpu"));
  REQUIRE_THROWS_WITH(make_als_backend("cpu", {-2}), Catch::Contains("`threads`"));
  AlsOptions o;
  o.threads = -1;
  REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("`threads`"));
}

TEST_CASE("implicit and temporal ALS run every half-sweep on the backend in their options",
          "[mf][als_backend]") {
  std::mt19937_64 rng(test::test_seed());
  const CsrMatrix m = random_ratings(rng, 70, 40, 0.1);
  AlsOptions o;
  o.factors = 6;
  o.iterations = 3;
  o.seed = rng();
  o.threads = 1;
  const AlsModel plain = fit_implicit_als(m, o);
  const CountingAlsBackend counting;
  o.backend = &counting;
  const AlsModel counted = fit_implicit_als(m, o);
  REQUIRE(counting.sweeps == 2 * o.iterations);  // users, then items, per sweep
  REQUIRE(counted.user == plain.user);           // the same CPU kernels, bit for bit
  REQUIRE(counted.item == plain.item);

  TemporalAlsOptions t;
  t.als = o;
  t.als.iterations = 2;
  t.eta = 1;
  counting.sweeps = 0;
  fit_temporal_als({m, m, m}, t);
  REQUIRE(counting.sweeps == 3 * 2 * 2);

  o.solver = Solver::cholesky;  // the backend has none: refused before any solve
  REQUIRE_THROWS_WITH(fit_implicit_als(m, o), Catch::Contains("'counting'") && Catch::Contains("no cholesky solver"));
  REQUIRE(counting.sweeps == 3 * 2 * 2);
}
