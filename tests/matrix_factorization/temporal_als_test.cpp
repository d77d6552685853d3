// Temporal ALS: the decayed history against a dense sum, and the drift penalty at its two
// limits (eta = 0 is a warm-started static fit, a huge eta pins the user factors).

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "graph/csr.hpp"
#include "matrix_factorization/temporal_als.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::matrix_factorization;
using driftrec::graph::CsrMatrix;
using driftrec::graph::Index;
using driftrec::InputError;
using driftrec::graph::Offset;
using driftrec::graph::Triplet;

namespace {

std::vector<CsrMatrix> random_slices(std::mt19937_64& rng, std::size_t periods, Index users,
                                     Index items, double density) {
  std::vector<CsrMatrix> slices;
  std::uniform_real_distribution<double> u01(0, 1);
  for (std::size_t t = 0; t < periods; ++t) {
    std::vector<Triplet> trip;
    for (Index u = 0; u < users; ++u)
      for (Index i = 0; i < items; ++i)
        if (u01(rng) < density) trip.push_back({u, i, static_cast<float>(1 + rng() % 4)});
    slices.push_back(driftrec::graph::csr_from_triplets(users, items, trip));
  }
  return slices;
}

std::vector<std::vector<double>> dense_of(const CsrMatrix& m) {
  std::vector<std::vector<double>> d(m.n_rows, std::vector<double>(m.n_cols, 0.0));
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k) d[r][m.indices[k]] += m.data[k];
  return d;
}

TemporalAlsOptions small_options(std::uint64_t seed) {
  TemporalAlsOptions o;
  o.als.factors = 6;
  o.als.alpha = 4;
  o.als.regularization = 0.1f;
  o.als.iterations = 4;
  o.als.seed = seed;
  return o;
}

double relative_change(const Factors& now, const Factors& before) {
  return (now - before).norm() / before.norm();
}

}  // namespace

TEST_CASE("decayed_history equals the dense gamma-weighted sum of the slices", "[mf][temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const auto slices = random_slices(rng, 5, 12, 9, 0.25);
  for (float gamma : {0.0f, 0.3f, 0.5f, 1.0f}) {
    const auto history = decayed_history(slices, gamma);
    REQUIRE(history.size() == slices.size());
    for (std::size_t t = 0; t < slices.size(); ++t) {
      REQUIRE_NOTHROW(driftrec::graph::validate_csr(history[t], "history"));
      const auto got = dense_of(history[t]);
      for (Index u = 0; u < 12; ++u)
        for (Index i = 0; i < 9; ++i) {
          double want = 0;
          for (std::size_t s = 0; s <= t; ++s)
            want += std::pow(static_cast<double>(gamma), static_cast<double>(t - s)) * dense_of(slices[s])[u][i];
          INFO("gamma " << gamma << ", period " << t << ", entry (" << u << ", " << i << ")");
          REQUIRE(got[u][i] == Approx(want).epsilon(1e-6).margin(1e-12));
        }
    }
    if (gamma == 0.0f)
      for (std::size_t t = 0; t < slices.size(); ++t) {
        REQUIRE(history[t].indices == slices[t].indices);  // the slice alone, no decayed zeros
        REQUIRE(history[t].data == slices[t].data);
      }
  }
}

TEST_CASE("with eta = 0 a period equals a static fit warm-started from the previous period", "[mf][temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const auto slices = random_slices(rng, 3, 50, 30, 0.1);
  for (float gamma : {0.0f, 0.5f}) {
    TemporalAlsOptions o = small_options(rng());
    o.gamma = gamma;
    const auto models = fit_temporal_als(slices, o);
    REQUIRE(models.size() == 3);
    const auto history = decayed_history(slices, gamma);
    const AlsModel first = fit_implicit_als(history[0], o.als);  // period 0: a cold seeded fit
    REQUIRE(models[0].user == first.user);
    for (std::size_t t = 1; t < slices.size(); ++t) {
      const AlsModel warm = fit_implicit_als(history[t], o.als, {}, &models[t - 1]);
      REQUIRE(models[t].user == warm.user);
      REQUIRE(models[t].item == warm.item);
    }
  }
}

TEST_CASE("with a very large eta the user factors stay at the previous period's", "[mf][temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const auto slices = random_slices(rng, 3, 60, 40, 0.1);  // independent slices: a lot of drift
  TemporalAlsOptions o = small_options(rng());
  const auto free = fit_temporal_als(slices, o);
  o.eta = 1e5f;
  const auto tied = fit_temporal_als(slices, o);
  REQUIRE(tied[0].user == free[0].user);  // no penalty in the first period
  for (std::size_t t = 1; t < slices.size(); ++t) {
    const double tied_move = relative_change(tied[t].user, tied[t - 1].user);
    const double free_move = relative_change(free[t].user, free[t - 1].user);
    INFO("period " << t << ": tied moved " << tied_move << ", free moved " << free_move);
    REQUIRE(tied_move < 1e-3);
    REQUIRE(free_move > 0.1);
  }
}

TEST_CASE("the temporal objective with its drift term never increases within a period", "[mf][temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const auto slices = random_slices(rng, 3, 60, 40, 0.1);
  TemporalAlsOptions o = small_options(rng());
  o.als.solver = Solver::cholesky;
  o.eta = 2;
  o.gamma = 0.5f;
  o.compute_loss = true;
  std::vector<std::vector<double>> losses(slices.size());
  const auto models = fit_temporal_als(slices, o, [&](std::size_t period, const IterationReport& r) {
    losses.at(period).push_back(r.loss);
  });
  const auto history = decayed_history(slices, o.gamma);
  for (std::size_t t = 1; t < slices.size(); ++t) {
    REQUIRE(losses[t].size() == 4);
    // Before the first sweep the factors are the previous period's: the drift term is 0.
    double before = temporal_als_loss(history[t], models[t - 1], models[t - 1].user, o);
    for (double loss : losses[t]) {
      REQUIRE(loss <= before * (1 + 1e-7));
      before = loss;
    }
    REQUIRE(losses[t].back() == Approx(temporal_als_loss(history[t], models[t], models[t - 1].user, o)).epsilon(1e-12));
  }
}

TEST_CASE("temporal fits are bit-identical for 1 and 2 threads", "[mf][temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const auto slices = random_slices(rng, 3, 600, 200, 0.05);  // large enough to run in parallel
  REQUIRE(slices[1].nnz() > kSerialWork);
  TemporalAlsOptions o = small_options(rng());
  o.eta = 1;
  o.gamma = 0.7f;
  o.als.threads = 1;
  const auto one = fit_temporal_als(slices, o);
  o.als.threads = 2;
  const auto two = fit_temporal_als(slices, o);
  for (std::size_t t = 0; t < slices.size(); ++t) {
    REQUIRE(one[t].user == two[t].user);
    REQUIRE(one[t].item == two[t].item);
  }
}

TEST_CASE("bad temporal options and mismatched slices throw driftrec::InputError", "[mf][temporal]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  auto slices = random_slices(rng, 2, 5, 4, 0.5);
  TemporalAlsOptions o = small_options(1);
  o.gamma = 1.5f;
  REQUIRE_THROWS_WITH(fit_temporal_als(slices, o), Catch::Contains("`gamma`"));
  REQUIRE_THROWS_WITH(decayed_history(slices, -0.1f), Catch::Contains("`gamma`"));
  o.gamma = 0;
  o.eta = -1;
  REQUIRE_THROWS_WITH(fit_temporal_als(slices, o), Catch::Contains("`eta`"));
  o.eta = 0;
  o.als.cg_steps = 0;
  REQUIRE_THROWS_WITH(fit_temporal_als(slices, o), Catch::Contains("`cg_steps`"));
  o.als.cg_steps = 3;
  slices.push_back(driftrec::graph::csr_from_triplets(5, 3, std::vector<Triplet>{}));
  REQUIRE_THROWS_WITH(fit_temporal_als(slices, o), Catch::Contains("slices[2]: shape 5 x 3"));
  REQUIRE(fit_temporal_als({}, o).empty());
}
