// Implicit ALS against simple references: the objective summed over every (user, item)
// pair, the normal equations built over every item, the Cholesky solver for CG, and a
// planted block preference matrix whose held-out positives must be recovered.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "matrix_factorization/implicit_als.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::matrix_factorization;
using driftrec::graph::CsrMatrix;
using driftrec::graph::Index;
using driftrec::InputError;
using driftrec::graph::Offset;
using driftrec::graph::Triplet;

namespace {

// Random users x items ratings; with `with_non_positive`, a few stored entries are <= 0
// (which the model must treat as absent).
CsrMatrix random_ratings(std::mt19937_64& rng, Index users, Index items, double density,
                         bool with_non_positive = false) {
  std::vector<Triplet> t;
  std::uniform_real_distribution<double> u01(0, 1);
  for (Index u = 0; u < users; ++u)
    for (Index i = 0; i < items; ++i)
      if (u01(rng) < density) {
        float v = static_cast<float>(1 + rng() % 5);
        if (with_non_positive && rng() % 6 == 0) v = (rng() % 2) ? 0.0f : -v;
        t.push_back({u, i, v});
      }
  return driftrec::graph::csr_from_triplets(users, items, t);
}

Factors random_factors(std::mt19937_64& rng, Index rows, int f, double scale = 0.5) {
  std::normal_distribution<double> n01(0, scale);
  Factors x(rows, f);
  for (Index r = 0; r < rows; ++r)
    for (int k = 0; k < f; ++k) x(r, k) = static_cast<float>(n01(rng));
  return x;
}

std::vector<std::vector<double>> dense_of(const CsrMatrix& m) {
  std::vector<std::vector<double>> d(m.n_rows, std::vector<double>(m.n_cols, 0.0));
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k) d[r][m.indices[k]] = m.data[k];
  return d;
}

double dot(const Factors& a, Index ra, const Factors& b, Index rb) {
  double s = 0;
  for (Eigen::Index k = 0; k < a.cols(); ++k) s += static_cast<double>(a(ra, k)) * b(rb, k);
  return s;
}

// sum over every pair of c (p - x.y)^2 + lambda (|X|^2 + |Y|^2), straight from the definition.
double brute_force_loss(const CsrMatrix& m, const AlsModel& model, const AlsOptions& o) {
  const auto r = dense_of(m);
  double loss = 0;
  for (Index u = 0; u < m.n_rows; ++u)
    for (Index i = 0; i < m.n_cols; ++i) {
      const bool pos = r[u][i] > 0;
      const double c = pos ? 1 + static_cast<double>(o.alpha) * r[u][i] : 1.0;
      const double e = (pos ? 1.0 : 0.0) - dot(model.user, u, model.item, i);
      loss += c * e * e;
    }
  const double norms = model.user.cast<double>().squaredNorm() + model.item.cast<double>().squaredNorm();
  return loss + o.regularization * norms;
}

// max over rows of |A x - b| / (1 + |b|) (a row without positives has b = 0 when there is
// no prior), with A and b built by summing over every column.
double worst_normal_equation_residual(const CsrMatrix& m, const Factors& fixed, const Factors& x,
                                      const AlsOptions& o, const Factors* prior, float eta) {
  const auto r = dense_of(m);
  const int f = o.factors;
  double worst = 0;
  for (Index u = 0; u < m.n_rows; ++u) {
    Eigen::MatrixXd a = Eigen::MatrixXd::Identity(f, f) * (o.regularization + eta);
    Eigen::VectorXd b = Eigen::VectorXd::Zero(f);
    if (prior) b += eta * prior->row(u).transpose().cast<double>();
    for (Index i = 0; i < m.n_cols; ++i) {
      const bool pos = r[u][i] > 0;
      const double c = pos ? 1 + static_cast<double>(o.alpha) * r[u][i] : 1.0;
      const Eigen::VectorXd y = fixed.row(i).transpose().cast<double>();
      a += c * y * y.transpose();
      if (pos) b += c * y;
    }
    const Eigen::VectorXd xu = x.row(u).transpose().cast<double>();
    worst = std::max(worst, (a * xu - b).norm() / (1 + b.norm()));
  }
  return worst;
}

double max_abs_diff(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return (a - b).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("implicit_als_loss equals the objective summed over every user-item pair", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  for (int round = 0; round < 5; ++round) {
    AlsOptions o;
    o.factors = 1 + static_cast<int>(rng() % 8);
    o.alpha = static_cast<float>(rng() % 40) / 4;
    o.regularization = static_cast<float>(rng() % 10) / 10;
    const Index users = 1 + static_cast<Index>(rng() % 40), items = 1 + static_cast<Index>(rng() % 30);
    const CsrMatrix m = random_ratings(rng, users, items, 0.2, true);
    const AlsModel model{random_factors(rng, users, o.factors), random_factors(rng, items, o.factors)};
    const double want = brute_force_loss(m, model, o);
    REQUIRE(implicit_als_loss(m, model, o) == Approx(want).epsilon(1e-9));
  }
}

TEST_CASE("a Cholesky half-sweep solves every row's normal equations", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  AlsOptions o;
  o.factors = 6;
  o.alpha = 3;
  o.regularization = 0.1f;
  o.solver = Solver::cholesky;
  const CsrMatrix m = random_ratings(rng, 40, 25, 0.3, true);
  const Factors y = random_factors(rng, 25, o.factors);
  Factors x = random_factors(rng, 40, o.factors);
  solve_rows(m, y, x, o);
  REQUIRE(worst_normal_equation_residual(m, y, x, o, nullptr, 0) < 1e-5);

  SECTION("with a drift prior the rows solve (A + eta I) x = b + eta prior") {
    const Factors prior = random_factors(rng, 40, o.factors);
    solve_rows(m, y, x, o, DriftPrior{&prior, 2.5f});
    REQUIRE(worst_normal_equation_residual(m, y, x, o, &prior, 2.5f) < 1e-5);
    o.solver = Solver::cg;
    o.cg_steps = 3 * o.factors;
    Factors x_cg = random_factors(rng, 40, o.factors);
    solve_rows(m, y, x_cg, o, DriftPrior{&prior, 2.5f});
    REQUIRE(worst_normal_equation_residual(m, y, x_cg, o, &prior, 2.5f) < 1e-4);
  }
  SECTION("conjugate gradient with f steps reaches the same solution") {
    o.solver = Solver::cg;
    o.cg_steps = 3 * o.factors;
    Factors x_cg = random_factors(rng, 40, o.factors);
    solve_rows(m, y, x_cg, o);
    REQUIRE(worst_normal_equation_residual(m, y, x_cg, o, nullptr, 0) < 1e-4);
    REQUIRE(max_abs_diff(x_cg, x) < 1e-4);
  }
}

// The CG row kernel has a vectorised version for f = 16, 32, 64 and 128 (in one 16-float
// vector on AVX-512, two 8-float halves below it: matrix_factorization/lanes16.hpp) and a
// generic one for other sizes; each must solve the rows' normal equations, which are built
// here densely in double from every column.
TEST_CASE("conjugate gradient solves the normal equations at every specialised size and a generic one", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  for (int f : {16, 24, 32, 64, 128}) {
    INFO("factors " << f);
    AlsOptions o;
    o.factors = f;
    o.alpha = 3;
    o.regularization = 1.0f;
    o.solver = Solver::cg;
    o.cg_steps = 3 * f;
    const CsrMatrix m = random_ratings(rng, 30, 60, 0.3, true);
    const Factors y = random_factors(rng, 60, f, 0.3);
    Factors x = random_factors(rng, 30, f);
    solve_rows(m, y, x, o);
    REQUIRE(worst_normal_equation_residual(m, y, x, o, nullptr, 0) < 1e-4);
    const Factors prior = random_factors(rng, 30, f);
    solve_rows(m, y, x, o, DriftPrior{&prior, 2.5f});
    REQUIRE(worst_normal_equation_residual(m, y, x, o, &prior, 2.5f) < 1e-4);
  }
}

TEST_CASE("conjugate gradient with enough steps and Cholesky give the same fit", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const CsrMatrix m = random_ratings(rng, 60, 40, 0.15);
  AlsOptions o;
  o.factors = 8;
  o.alpha = 5;
  o.regularization = 0.5f;
  o.iterations = 6;
  o.seed = rng();
  o.solver = Solver::cholesky;
  const AlsModel chol = fit_implicit_als(m, o);
  o.solver = Solver::cg;
  o.cg_steps = 4 * o.factors;
  const AlsModel cg = fit_implicit_als(m, o);
  const Eigen::MatrixXf pred_chol = chol.user * chol.item.transpose();
  const Eigen::MatrixXf pred_cg = cg.user * cg.item.transpose();
  REQUIRE(max_abs_diff(pred_cg, pred_chol) < 1e-3);
  REQUIRE(implicit_als_loss(m, cg, o) == Approx(implicit_als_loss(m, chol, o)).epsilon(1e-5));
}

TEST_CASE("the objective never increases from one sweep to the next", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const CsrMatrix m = random_ratings(rng, 120, 80, 0.08, true);
  for (Solver solver : {Solver::cholesky, Solver::cg}) {
    AlsOptions o;
    o.factors = 10;
    o.alpha = 8;
    o.regularization = 0.05f;
    o.iterations = 12;
    o.cg_steps = 3;
    o.solver = solver;
    o.seed = rng();
    AlsOptions start = o;
    start.iterations = 0;  // the seeded initialisation
    std::vector<double> losses{implicit_als_loss(m, fit_implicit_als(m, start), o)};
    fit_implicit_als(m, o, [&](const IterationReport& r) {
      REQUIRE(r.iteration == static_cast<int>(losses.size()));
      losses.push_back(r.loss);
    }, nullptr, true);
    REQUIRE(losses.size() == 13);
    // Cholesky minimises each row exactly; CG's iterates decrease the row's quadratic too.
    // The slack covers float32 rounding of the factors.
    const double slack = solver == Solver::cholesky ? 1e-7 : 1e-6;
    for (std::size_t k = 1; k < losses.size(); ++k) {
      INFO("solver " << (solver == Solver::cg ? "cg" : "cholesky") << ", sweep " << k);
      REQUIRE(losses[k] <= losses[k - 1] * (1 + slack));
    }
    REQUIRE(losses.back() < 0.5 * losses.front());
  }
}

TEST_CASE("a planted block preference matrix is recovered from half of its positives", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  constexpr Index kUsers = 300, kBlocks = 6, kBlockItems = 20, kItems = kBlocks * kBlockItems;
  std::vector<Triplet> train;
  std::vector<std::vector<Index>> held_out(kUsers);
  for (Index u = 0; u < kUsers; ++u) {
    const Index block = u % kBlocks;
    std::vector<Index> mine(kBlockItems);
    for (Index j = 0; j < kBlockItems; ++j) mine[j] = block * kBlockItems + j;
    std::shuffle(mine.begin(), mine.end(), rng);
    for (Index j = 0; j < kBlockItems; ++j) {
      if (j < kBlockItems / 2)
        train.push_back({u, mine[j], static_cast<float>(1 + rng() % 3)});
      else
        held_out[u].push_back(mine[j]);
    }
    const Index noise = static_cast<Index>(rng() % kItems);  // one off-block interaction
    if (noise / kBlockItems != block) train.push_back({u, noise, 1.0f});
  }
  const CsrMatrix m = driftrec::graph::csr_from_triplets(kUsers, kItems, train);
  for (Solver solver : {Solver::cg, Solver::cholesky}) {
    AlsOptions o;
    o.factors = 8;
    o.alpha = 10;
    o.regularization = 0.1f;
    o.iterations = 10;
    o.solver = solver;
    o.seed = rng();
    const AlsModel model = fit_implicit_als(m, o);
    double hits = 0;
    for (Index u = 0; u < kUsers; ++u)
      for (const ScoredItem& s : recommend(model, m, u, 10))
        hits += std::count(held_out[u].begin(), held_out[u].end(), s.item);
    const double precision = hits / (10.0 * kUsers);
    // Chance: 10 held-out among ~109 unseen items, about 0.09.
    INFO("precision@10 = " << precision);
    REQUIRE(precision > 0.8);
  }
}

TEST_CASE("fits are bit-identical for 1 and 2 threads", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const CsrMatrix m = random_ratings(rng, 800, 300, 0.05);  // large enough to run in parallel
  REQUIRE(m.nnz() > driftrec::matrix_factorization::kSerialWork);
  for (Solver solver : {Solver::cg, Solver::cholesky}) {
    AlsOptions o;
    o.factors = 16;
    o.iterations = 3;
    o.alpha = 4;
    o.solver = solver;
    o.seed = rng();
    double loss_one = 0, loss_two = 0;
    o.threads = 1;
    const AlsModel one = fit_implicit_als(m, o, [&](const IterationReport& r) { loss_one = r.loss; }, nullptr, true);
    o.threads = 2;
    const AlsModel two = fit_implicit_als(m, o, [&](const IterationReport& r) { loss_two = r.loss; }, nullptr, true);
    REQUIRE(one.user == two.user);
    REQUIRE(one.item == two.item);
    REQUIRE(loss_one == loss_two);
  }
}

TEST_CASE("a fit continued from a warm start equals the uninterrupted fit", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const CsrMatrix m = random_ratings(rng, 80, 50, 0.1);
  AlsOptions o;
  o.factors = 8;
  o.iterations = 0;
  o.seed = rng();
  const AlsModel init = fit_implicit_als(m, o);
  REQUIRE(init.user == initial_factors(80, 8, o.seed, kUserStream));
  REQUIRE(init.item == initial_factors(50, 8, o.seed, kItemStream));
  o.iterations = 5;
  const AlsModel whole = fit_implicit_als(m, o);
  o.iterations = 2;
  const AlsModel first = fit_implicit_als(m, o);
  o.iterations = 3;
  const AlsModel rest = fit_implicit_als(m, o, {}, &first);
  REQUIRE(rest.user == whole.user);
  REQUIRE(rest.item == whole.item);
}

TEST_CASE("NaN factors raise a driftrec::NumericalError that says to raise the regularization", "[mf][als]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const CsrMatrix m = random_ratings(rng, 30, 20, 0.2);
  for (Solver solver : {Solver::cg, Solver::cholesky}) {
    AlsOptions o;
    o.factors = 4;
    o.iterations = 2;
    o.alpha = 3e38f;  // valid, but c = 1 + alpha r overflows to inf
    o.solver = solver;
    try {
      fit_implicit_als(m, o);
      FAIL("expected a driftrec::NumericalError");
    } catch (const driftrec::NumericalError& e) {
      const std::string what = e.what();
      INFO(what);
      REQUIRE(what.find("raise `regularization`") != std::string::npos);
      REQUIRE(what.find("user factors, sweep 1") != std::string::npos);
    }
  }
}

TEST_CASE("bad options and inputs throw driftrec::InputError naming the culprit", "[mf][als]") {
  const CsrMatrix m = driftrec::graph::csr_from_triplets(3, 4, std::vector<Triplet>{{0, 1, 1.0f}, {2, 3, 2.0f}});
  const auto message_of = [&](AlsOptions o) {
    try {
      fit_implicit_als(m, o);
    } catch (const driftrec::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  AlsOptions o;
  o.factors = 0;
  REQUIRE_THAT(message_of(o), Catch::Contains("`factors`"));
  o = {};
  o.regularization = -0.1f;
  REQUIRE_THAT(message_of(o), Catch::Contains("`regularization`"));
  o = {};
  o.regularization = NAN;
  REQUIRE_THAT(message_of(o), Catch::Contains("`regularization`"));
  o = {};
  o.alpha = -1;
  REQUIRE_THAT(message_of(o), Catch::Contains("`alpha`"));
  o = {};
  o.iterations = -1;
  REQUIRE_THAT(message_of(o), Catch::Contains("`iterations`"));
  o = {};
  o.cg_steps = 0;
  REQUIRE_THAT(message_of(o), Catch::Contains("`cg_steps`"));

  CsrMatrix with_nan = m;
  with_nan.data[1] = NAN;
  REQUIRE_THROWS_WITH(fit_implicit_als(with_nan, AlsOptions{}), Catch::Contains("row 2, column 3 is not finite"));
  CsrMatrix broken = m;
  broken.indices[0] = 9;
  REQUIRE_THROWS_AS(fit_implicit_als(broken, AlsOptions{}), driftrec::InputError);

  AlsOptions small;
  small.factors = 2;
  const AlsModel wrong{Factors::Zero(3, 3), Factors::Zero(4, 3)};
  REQUIRE_THROWS_WITH(fit_implicit_als(m, small, {}, &wrong), Catch::Contains("warm_start"));
  const AlsModel model = fit_implicit_als(m, small);
  REQUIRE_THROWS_AS(recommend(model, m, 3, 2), driftrec::InputError);
  REQUIRE_THROWS_AS(recommend(model, m, 0, -1), driftrec::InputError);
  REQUIRE_THROWS_AS(similar_items(model, 4, 2), driftrec::InputError);
  REQUIRE_THROWS_AS(implicit_als_loss(m, wrong, small), driftrec::InputError);
}

TEST_CASE("recommend returns the best unseen items, ties toward the lower index", "[mf][als]") {
  AlsModel model{Factors(1, 1), Factors(5, 1)};
  model.user << 1;
  model.item << 1, 3, 3, 2, 3;
  const CsrMatrix m = driftrec::graph::csr_from_triplets(1, 5, std::vector<Triplet>{{0, 2, 1.0f}});
  const auto items = [](const std::vector<ScoredItem>& v) {
    std::vector<Index> out;
    for (const auto& s : v) out.push_back(s.item);
    return out;
  };
  REQUIRE(items(recommend(model, m, 0, 3)) == std::vector<Index>{1, 4, 3});
  REQUIRE(recommend(model, m, 0, 3)[2].score == 2.0f);
  REQUIRE(items(recommend(model, m, 0, 3, false)) == std::vector<Index>{1, 2, 4});
  REQUIRE(items(recommend(model, m, 0, 10)) == std::vector<Index>{1, 4, 3, 0});
  REQUIRE(recommend(model, m, 0, 0).empty());
}

TEST_CASE("similar_items ranks by cosine and leaves out the item itself", "[mf][als]") {
  AlsModel model{Factors(1, 2), Factors(5, 2)};
  model.user << 1, 0;
  model.item << 1, 0,   // 0
                2, 0,   // 1: same direction as 0
                0, 1,   // 2: orthogonal
                1, 1,   // 3: 45 degrees
                0, 0;   // 4: zero factor, cosine 0
  const auto got = similar_items(model, 0, 4);
  REQUIRE(got.size() == 4);
  REQUIRE(got[0].item == 1);
  REQUIRE(got[0].score == Approx(1.0f));
  REQUIRE(got[1].item == 3);
  REQUIRE(got[1].score == Approx(std::sqrt(0.5f)));
  REQUIRE(got[2].item == 2);  // cosine 0, ties toward the lower index
  REQUIRE(got[3].item == 4);
  REQUIRE(got[3].score == 0.0f);
}
