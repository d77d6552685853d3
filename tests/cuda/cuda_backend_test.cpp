// The "cuda" propagation and ALS backends against the "cpu" ones (the reference), on random
// skewed graphs and ratings (seeds printed), run only where a GPU is present (main.cpp).
// Cases the general conformance suites (tests/conformance/) do not reach: rows heavier
// than CudaBackend::kSegmentEdges (split over several warps), widths above 32 (several
// column passes), the device-resident iterate loop, the cuSPARSE anchor, and whole ALS
// fits.
//
// Tolerances:
// - products and half-steps: |y_cuda - y_cpu| <= 1e-5 * (the row's magnitude + 1), the
//   float32 rounding of a few thousand terms summed in another order (split rows);
//   light rows are summed in the CPU's order without FMA and usually agree exactly;
// - 30 iterations of propagation: 1e-5 of the largest score (a contraction: errors do
//   not grow);
// - ALS CG half-sweep: 1e-4 * (1 + max |x|) (3 CG steps in float32, dot products
//   summed in another order); Cholesky: 1e-6 * (1 + max |x|) (both in double);
//   a 5-sweep fit's loss within 1e-3 relative.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "matrix_factorization/als_backend.hpp"
#include "matrix_factorization/implicit_als.hpp"
#include "propagation/backend.hpp"
#include "propagation/label_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"
#ifdef DRIFTREC_HAVE_CUDA
#include "propagation/cuda/cuda_backend.hpp"
#endif

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

namespace {

// A skewed graph with hub rows and columns far above the 512-edge segment.
graph::CsrMatrix graph_with_hubs(std::mt19937_64& rng) {
  graph::CsrMatrix w = test::random_skewed_matrix(rng, 1500, 4000, 40000);
  std::vector<graph::Triplet> t;
  for (Index r = 0; r < w.n_rows; ++r)
    for (graph::Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e) t.push_back({r, w.indices[e], w.data[e]});
  for (Index c = 0; c < w.n_cols; c += 1) t.push_back({7, c, 0.5f});      // 4000 edges: 8 segments
  for (Index r = 0; r < w.n_rows; r += 1) t.push_back({r, 11, 0.25f});   // a hub column
  return graph::csr_from_triplets(w.n_rows, w.n_cols, t);
}

// max over rows of max_c |got - want| / (magnitude_r + 1)
double worst(const DenseMatrix& got, const DenseMatrix& want, const Eigen::VectorXd& magnitude) {
  double w = 0;
  for (Eigen::Index r = 0; r < got.rows(); ++r)
    for (Eigen::Index c = 0; c < got.cols(); ++c)
      w = std::max(w, std::abs(double(got(r, c)) - want(r, c)) / (magnitude(r) + 1.0));
  return w;
}

Eigen::VectorXd magnitude(const graph::CsrMatrix& a, const DenseMatrix& x) {
  Eigen::VectorXd m = Eigen::VectorXd::Zero(a.n_rows);
  for (Index r = 0; r < a.n_rows; ++r)
    for (graph::Offset e = a.indptr[r]; e < a.indptr[r + 1]; ++e)
      m(r) += std::abs(a.data[e]) * x.row(a.indices[e]).cwiseAbs().maxCoeff();
  return m;
}

}  // namespace

TEST_CASE("cuda half-steps and products equal the cpu backend's, heavy rows and wide k included", "[cuda][propagation]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const BipartiteGraph host = make_bipartite_graph(graph_with_hubs(rng));
  const auto cpu = make_backend("cpu", {2});
  const auto gpu = make_backend("cuda", {2});
  const auto gc = cpu->prepare(host);
  const auto gg = gpu->prepare(host);
  for (int k : {1, 7, 20, 32, 33, 64}) {
    for (Side side : {Side::users, Side::items}) {
      const bool users = side == Side::users;
      CAPTURE(k, users);
      const graph::CsrMatrix& a = users ? host.user_items : host.item_users;
      const DenseMatrix x = test::random_dense(rng, a.n_cols, k);
      const DenseMatrix seed_rows = test::random_dense(rng, a.n_rows, k);
      const DenseMatrix before = test::random_dense(rng, a.n_rows, k);
      const Eigen::VectorXd mag = magnitude(a, x);

      DenseMatrix y_cpu(a.n_rows, k), y_gpu(a.n_rows, k);
      cpu->multiply(*gc, side, view(x), view(y_cpu));
      gpu->multiply(*gg, side, view(x), view(y_gpu));
      REQUIRE(worst(y_gpu, y_cpu, mag) <= 1e-5);

      HalfStep step;
      step.out = side;
      step.alpha = 0.85f;
      step.f_in = view(x);
      step.seed = view(seed_rows);
      step.seed_scale = 0.6f;
      DenseMatrix f_cpu = before, f_gpu = before;
      step.f_out = view(f_cpu);
      const double change_cpu = cpu->half_step(*gc, step);
      step.f_out = view(f_gpu);
      const double change_gpu = gpu->half_step(*gg, step);
      REQUIRE(worst(f_gpu, f_cpu, mag) <= 1e-5);
      REQUIRE(std::abs(change_gpu - change_cpu) <= 1e-5 * (mag.maxCoeff() + 1));
    }
  }
  // A NaN in the input makes the change NaN.
  DenseMatrix x = test::random_dense(rng, host.items(), 20), f = DenseMatrix::Zero(host.users(), 20);
  x(host.user_items.indices[host.user_items.indptr[7]], 3) = std::nanf("");
  HalfStep step;
  step.alpha = 0.85f;
  step.f_in = view(x);
  step.f_out = view(f);
  REQUIRE(std::isnan(gpu->half_step(*gg, step)));
}

TEST_CASE("cuda label propagation (the device-resident loop) equals the cpu backend's", "[cuda][propagation]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = graph_with_hubs(rng);
  const graph::CsrMatrix labels = test::random_item_labels(rng, w.n_cols, 20, 0.3);
  const DenseMatrix prior = test::random_dense(rng, w.n_rows, 20).cwiseAbs();
  const auto gpu = make_backend("cuda", {2});
  LabelPropagationOptions o;
  o.tolerance = 0;  // both run all 30 iterations
  o.max_iterations = 30;
  o.reorder = Reorder::off;
  const PropagationResult want = propagate_labels(w, labels, &prior, o);
  o.backend = gpu.get();
  const PropagationResult got = propagate_labels(w, labels, &prior, o);
  REQUIRE(got.iterations == 30);
  const double scale = std::max(want.user_labels.cwiseAbs().maxCoeff(), want.item_labels.cwiseAbs().maxCoeff());
  REQUIRE((got.user_labels - want.user_labels).cwiseAbs().maxCoeff() <= 1e-5 * scale);
  REQUIRE((got.item_labels - want.item_labels).cwiseAbs().maxCoeff() <= 1e-5 * scale);
  REQUIRE(std::abs(got.residual - want.residual) <= 1e-5 * scale);

  // To the default tolerance: the same convergence, within an iteration.
  LabelPropagationOptions d;
  d.reorder = Reorder::off;
  const PropagationResult a = propagate_labels(w, labels, nullptr, d);
  d.backend = gpu.get();
  const PropagationResult b = propagate_labels(w, labels, nullptr, d);
  REQUIRE(b.converged == a.converged);
  REQUIRE(std::abs(b.iterations - a.iterations) <= 1);
}

#ifdef DRIFTREC_HAVE_CUDA
TEST_CASE("the cuSPARSE anchor computes the products the cpu backend does", "[cuda][propagation]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const BipartiteGraph host = make_bipartite_graph(graph_with_hubs(rng));
  const auto cpu = make_backend("cpu", {2});
  const cuda::CudaBackend gpu;
  const auto gc = cpu->prepare(host);
  const auto gg = gpu.prepare(host);
  for (int k : {1, 20, 64})
    for (Side side : {Side::users, Side::items}) {
      CAPTURE(k, side == Side::users);
      const graph::CsrMatrix& a = side == Side::users ? host.user_items : host.item_users;
      const DenseMatrix x = test::random_dense(rng, a.n_cols, k);
      DenseMatrix y_cpu(a.n_rows, k), y_sparse(a.n_rows, k);
      cpu->multiply(*gc, side, view(x), view(y_cpu));
      gpu.multiply_cusparse(*gg, side, view(x), view(y_sparse));
      REQUIRE(worst(y_sparse, y_cpu, magnitude(a, x)) <= 1e-5);
    }
  REQUIRE(gpu.iteration_seconds(*gg, 20, 2) > 0);
  REQUIRE(gpu.cusparse_seconds(*gg, 20, 2) > 0);
}
#endif

namespace mf = driftrec::matrix_factorization;

namespace {

graph::CsrMatrix random_ratings(std::mt19937_64& rng, Index rows, Index cols, std::size_t entries) {
  std::uniform_real_distribution<float> value(-0.5f, 3.0f);
  std::vector<graph::Triplet> t;
  for (std::size_t e = 0; e < entries; ++e)
    t.push_back({static_cast<Index>(rng() % rows), static_cast<Index>(rng() % cols), value(rng)});
  for (Index c = 0; c < cols; ++c) t.push_back({3, c, 1.0f});  // one heavy row
  return graph::csr_from_triplets(rows, cols, t);
}

double relative(const mf::Factors& got, const mf::Factors& want) {
  return (got - want).cwiseAbs().maxCoeff() / (1.0 + want.cwiseAbs().maxCoeff());
}

}  // namespace

TEST_CASE("cuda ALS half-sweeps, Gram matrix and fits equal the cpu backend's", "[cuda][mf]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const auto cpu = mf::make_als_backend("cpu", {2});
  const auto gpu = mf::make_als_backend("cuda", {2});
  const graph::CsrMatrix ratings = random_ratings(rng, 400, 300, 6000);
  for (int f : {5, 32, 64, 128}) {
    CAPTURE(f);
    const mf::Factors fixed = mf::initial_factors(300, f, seed, 1) * 30.0f;
    const mf::Factors start = mf::initial_factors(400, f, seed, 2) * 30.0f;
    const mf::Factors prior_rows = mf::initial_factors(400, f, seed, 3) * 30.0f;
    REQUIRE((gpu->gram(fixed) - cpu->gram(fixed)).cwiseAbs().maxCoeff() <=
            1e-9 * (1 + cpu->gram(fixed).cwiseAbs().maxCoeff()));
    for (mf::Solver solver : {mf::Solver::cg, mf::Solver::cholesky})
      for (bool with_prior : {false, true}) {
        CAPTURE(solver == mf::Solver::cg, with_prior);
        mf::AlsOptions o;
        o.factors = f;
        o.regularization = 0.5f;
        o.alpha = 2.0f;
        o.solver = solver;
        const mf::DriftPrior prior{with_prior ? &prior_rows : nullptr, 0.3f};
        mf::Factors x_cpu = start, x_gpu = start;
        cpu->solve_rows(ratings, fixed, x_cpu, o, prior);
        gpu->solve_rows(ratings, fixed, x_gpu, o, prior);
        REQUIRE(relative(x_gpu, x_cpu) <= (solver == mf::Solver::cg ? 1e-4 : 1e-6));
      }
  }
  // A singular system (zero fixed factors, no regularization: A_r = 0) fails loudly on both.
  mf::AlsOptions o;
  o.factors = 4;
  o.regularization = 0;
  o.solver = mf::Solver::cholesky;
  const graph::CsrMatrix empty = graph::csr_from_triplets(3, 2, {});
  const mf::Factors fixed = mf::Factors::Zero(2, 4);
  mf::Factors x = mf::Factors::Zero(3, 4);
  REQUIRE_THROWS_AS(cpu->solve_rows(empty, fixed, x, o), NumericalError);
  REQUIRE_THROWS_AS(gpu->solve_rows(empty, fixed, x, o), NumericalError);

  // A whole fit: the same loss to 1e-3.
  mf::AlsOptions fit;
  fit.factors = 32;
  fit.iterations = 5;
  fit.seed = seed;
  const mf::AlsModel m_cpu = mf::fit_implicit_als(ratings, fit);
  fit.backend = gpu.get();
  const mf::AlsModel m_gpu = mf::fit_implicit_als(ratings, fit);
  fit.backend = nullptr;
  const double l_cpu = mf::implicit_als_loss(ratings, m_cpu, fit), l_gpu = mf::implicit_als_loss(ratings, m_gpu, fit);
  REQUIRE(std::abs(l_gpu - l_cpu) <= 1e-3 * std::abs(l_cpu));
}
