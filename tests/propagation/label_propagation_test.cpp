#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "propagation/cpu/spmm.hpp"
#include "propagation/label_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

namespace {

Eigen::MatrixXd to_double(const DenseMatrix& m) { return m.cast<double>(); }

// A small random bipartite graph: skewed degrees, some isolated users and items.
graph::CsrMatrix small_graph(std::mt19937_64& rng) {
  const Index users = 1 + static_cast<Index>(rng() % 30), items = 1 + static_cast<Index>(rng() % 25);
  return test::random_skewed_matrix(rng, users, items, rng() % 120);
}

}  // namespace

TEST_CASE("the iteration converges to the closed form (1-alpha)(I - alpha S_sym)^-1 Y",
          "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  for (int round = 0; round < 24; ++round) {
    const graph::CsrMatrix w = small_graph(rng);
    const Index labels = 1 + static_cast<Index>(rng() % 5);
    const graph::CsrMatrix item_labels = test::random_item_labels(rng, w.n_cols, labels, 0.3);
    const bool with_prior = round % 2 == 1;
    const DenseMatrix prior = test::random_dense(rng, w.n_rows, labels).cwiseAbs();
    LabelPropagationOptions o;
    o.alpha = std::array{0.0f, 0.3f, 0.8f, 0.95f}[round % 4];
    o.tolerance = 1e-7;
    o.max_iterations = 5000;
    INFO("round " << round << ": " << w.n_rows << " users, " << w.n_cols << " items, alpha "
                  << o.alpha << (with_prior ? ", with a user prior" : ""));
    const PropagationResult r = propagate_labels(w, item_labels, with_prior ? &prior : nullptr, o);
    REQUIRE(r.converged);
    REQUIRE(r.residual <= o.tolerance);

    const Eigen::MatrixXd y_users =
        with_prior ? to_double(prior) : Eigen::MatrixXd::Zero(w.n_rows, labels);
    const Eigen::MatrixXd f =
        test::closed_form(test::dense(w), y_users, to_double(item_seed_labels(item_labels)), o.alpha);
    // Error <= residual * rho / (1 - rho) with rho = alpha^2 <= 0.9025, plus float rounding.
    const double tol = 2e-5;
    REQUIRE((to_double(r.user_labels) - f.topRows(w.n_rows)).cwiseAbs().maxCoeff() <= tol);
    REQUIRE((to_double(r.item_labels) - f.bottomRows(w.n_cols)).cwiseAbs().maxCoeff() <= tol);
  }
}

TEST_CASE("a warm start reaches the same fixed point, and from the fixed point converges at once",
          "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const auto backend = make_backend("cpu", {1});
  for (int round = 0; round < 12; ++round) {
    const graph::CsrMatrix w = small_graph(rng);
    const Index labels = 1 + static_cast<Index>(rng() % 5);
    const DenseMatrix y_items = item_seed_labels(test::random_item_labels(rng, w.n_cols, labels, 0.3));
    const auto g = backend->prepare(make_bipartite_graph(w));
    LabelPropagationOptions o;
    o.alpha = 0.8f;
    o.tolerance = 1e-7;
    o.max_iterations = 5000;
    Seeds cold;
    cold.items = view(y_items);
    const PropagationResult a = propagate_labels(*g, cold, o);
    REQUIRE(a.converged);

    const DenseMatrix start_users = test::random_dense(rng, w.n_rows, labels);
    const DenseMatrix start_items = test::random_dense(rng, w.n_cols, labels);
    Seeds warm = cold;
    warm.start_users = view(start_users);
    warm.start_items = view(start_items);
    const PropagationResult b = propagate_labels(*g, warm, o);
    REQUIRE(b.converged);
    INFO("round " << round << ": " << w.n_rows << " users, " << w.n_cols << " items");
    REQUIRE((a.user_labels - b.user_labels).cwiseAbs().maxCoeff() <= 2e-5f);
    REQUIRE((a.item_labels - b.item_labels).cwiseAbs().maxCoeff() <= 2e-5f);

    Seeds fixed = cold;
    fixed.start_users = view(a.user_labels);
    fixed.start_items = view(a.item_labels);
    // a is the fixed point only to its tolerance plus float rounding (about 6e-8 per entry
    // near 1): the first change from it is alpha * 1e-7 + rounding, which exceeded 1e-7 for
    // seeds 1 and 2. Ten times the tolerance is met at once from a true fixed point.
    LabelPropagationOptions at_fixed = o;
    at_fixed.tolerance = 1e-6;
    CHECK(propagate_labels(*g, fixed, at_fixed).iterations <= 2);
  }
}

TEST_CASE("non-convergence is reported with the residual reached", "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 40, 30, 300);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 30, 4, 0.2);
  LabelPropagationOptions o;
  o.alpha = 0.9f;
  o.tolerance = 1e-12;
  o.max_iterations = 1;
  const PropagationResult r = propagate_labels(w, item_labels, nullptr, o);
  REQUIRE_FALSE(r.converged);
  REQUIRE(r.iterations == 1);
  // F(0) = Y with Y_U = 0: the one iteration's change is max(|F_U(1)|, |F_I(1) - Y_I|).
  const DenseMatrix y_items = item_seed_labels(item_labels);
  const double want = std::max(r.user_labels.cwiseAbs().maxCoeff(),
                               (r.item_labels - y_items).cwiseAbs().maxCoeff());
  REQUIRE(r.residual == want);
  REQUIRE(r.residual > o.tolerance);

  // With room to run, the same problem converges.
  o.tolerance = 1e-6;
  o.max_iterations = 1000;
  REQUIRE(propagate_labels(w, item_labels, nullptr, o).converged);
}

TEST_CASE("the progress callback sees every iteration and the final residual",
          "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 60, 40, 400);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 40, 3, 0.2);
  LabelPropagationOptions o;
  o.alpha = 0.7f;
  std::vector<IterationProgress> seen;
  const PropagationResult r =
      propagate_labels(w, item_labels, nullptr, o, [&](const IterationProgress& p) { seen.push_back(p); });
  REQUIRE(r.converged);
  REQUIRE(static_cast<int>(seen.size()) == r.iterations);
  for (std::size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i].iteration == static_cast<int>(i) + 1);
  REQUIRE(seen.back().residual == r.residual);
}

TEST_CASE("label propagation is bitwise identical on 1 and 2 threads", "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 40000, 15000, 4 * cpu::kMinWorkPerThread);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 15000, 20, 0.3);
  // Enough work on both sides for the kernels to use two threads.
  REQUIRE(w.nnz() + w.n_cols >= 2 * cpu::kMinWorkPerThread);
  LabelPropagationOptions o;
  o.alpha = 0.85f;
  o.max_iterations = 10;  // bitwise equality needs no convergence; keeps it short
  o.threads = 1;
  const PropagationResult one = propagate_labels(w, item_labels, nullptr, o);
  o.threads = 2;
  const PropagationResult two = propagate_labels(w, item_labels, nullptr, o);
  REQUIRE(one.iterations == two.iterations);
  REQUIRE(one.residual == two.residual);
  REQUIRE(one.user_labels == two.user_labels);
  REQUIRE(one.item_labels == two.item_labels);
}

TEST_CASE("item_seed_labels row-normalises and leaves unlabelled items at zero",
          "[propagation][label_propagation]") {
  const graph::Triplet t[] = {{0, 0, 1.0f}, {0, 2, 3.0f}, {2, 1, 5.0f}};
  const DenseMatrix y = item_seed_labels(graph::csr_from_triplets(3, 3, t));
  DenseMatrix want(3, 3);
  want << 0.25f, 0, 0.75f, 0, 0, 0, 0, 1, 0;
  REQUIRE(y == want);
  const graph::Triplet bad[] = {{1, 0, -1.0f}};
  REQUIRE_THROWS_WITH(item_seed_labels(graph::csr_from_triplets(2, 2, bad)),
                      Catch::Contains("item_labels") && Catch::Contains("item 1"));
}

TEST_CASE("row_normalized makes rows sum to 1 and keeps all-zero rows at zero",
          "[propagation][label_propagation]") {
  DenseMatrix f(3, 2);
  f << 1, 3, 0, 0, 0.5f, 0.5f;
  DenseMatrix want(3, 2);
  want << 0.25f, 0.75f, 0, 0, 0.5f, 0.5f;
  REQUIRE(row_normalized(f) == want);
}

TEST_CASE("bad options and mismatched inputs throw driftrec::InputError naming them",
          "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 10, 8, 30);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 8, 3, 0.2);
  auto run = [&](auto change) {
    LabelPropagationOptions o;
    change(o);
    return propagate_labels(w, item_labels, nullptr, o);
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(run([](auto& o) { o.alpha = 1.0f; }), Catch::Contains("alpha"));
  REQUIRE_THROWS_WITH(run([](auto& o) { o.alpha = -0.1f; }), Catch::Contains("alpha"));
  REQUIRE_THROWS_WITH(run([&](auto& o) { o.alpha = nan; }), Catch::Contains("alpha"));
  REQUIRE_THROWS_WITH(run([](auto& o) { o.tolerance = -1; }), Catch::Contains("tolerance"));
  REQUIRE_THROWS_WITH(run([&](auto& o) { o.tolerance = nan; }), Catch::Contains("tolerance"));
  REQUIRE_THROWS_WITH(run([](auto& o) { o.max_iterations = 0; }), Catch::Contains("max_iterations"));
  REQUIRE_THROWS_WITH(run([](auto& o) { o.threads = -2; }), Catch::Contains("threads"));
  REQUIRE_THROWS_AS(run([](auto& o) { o.alpha = 1.5f; }), driftrec::InputError);

  const LabelPropagationOptions o;
  const graph::CsrMatrix wrong_items = test::random_item_labels(rng, 9, 3, 0.2);
  REQUIRE_THROWS_WITH(propagate_labels(w, wrong_items, nullptr, o), Catch::Contains("item_labels"));
  const DenseMatrix wrong_prior = DenseMatrix::Zero(10, 4);
  REQUIRE_THROWS_WITH(propagate_labels(w, item_labels, &wrong_prior, o), Catch::Contains("user_prior"));
  DenseMatrix nan_prior = DenseMatrix::Zero(10, 3);
  nan_prior(2, 1) = nan;
  REQUIRE_THROWS_WITH(propagate_labels(w, item_labels, &nan_prior, o), Catch::Contains("user_prior"));
  const graph::Triplet negative[] = {{0, 0, -2.0f}};
  REQUIRE_THROWS_WITH(propagate_labels(graph::csr_from_triplets(10, 8, negative), item_labels, nullptr, o),
                      Catch::Contains("W"));
}

TEST_CASE("a label set with no labels gives empty score matrices and converges at once",
          "[propagation][label_propagation]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 12, 9, 40);
  const PropagationResult r =
      propagate_labels(w, graph::csr_from_triplets(9, 0, {}), nullptr, LabelPropagationOptions{});
  REQUIRE(r.user_labels.rows() == 12);
  REQUIRE(r.user_labels.cols() == 0);
  REQUIRE(r.item_labels.rows() == 9);
  REQUIRE(r.converged);
  REQUIRE(r.iterations == 1);
}

namespace {

// |a - b| <= 1e-5 |b| + 1e-6 max|b| for every entry: equal up to float rounding (the
// ordered graph sums each row's terms in another order).
void require_close(const DenseMatrix& a, const DenseMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  if (b.size() == 0) return;
  const double floor = 1e-6 * double(b.cwiseAbs().maxCoeff());
  for (Eigen::Index i = 0; i < b.size(); ++i) {
    INFO("entry " << i << ": " << a.data()[i] << " vs " << b.data()[i]);
    REQUIRE(std::fabs(double(a.data()[i]) - b.data()[i]) <= 1e-5 * std::fabs(double(b.data()[i])) + floor);
  }
}

}  // namespace

TEST_CASE("degree order on gives the unordered results in the original ids",
          "[propagation][label_propagation][reorder]") {
  std::mt19937_64 rng(test::test_seed());
  for (int round = 0; round < 8; ++round) {
    const Index users = 200 + static_cast<Index>(rng() % 400), items = 50 + static_cast<Index>(rng() % 300);
    const graph::CsrMatrix w = test::random_skewed_matrix(rng, users, items, 3000 + rng() % 5000);
    const Index labels = 1 + static_cast<Index>(rng() % 12);
    const graph::CsrMatrix item_labels = test::random_item_labels(rng, items, labels, 0.3);
    const DenseMatrix prior = test::random_dense(rng, users, labels).cwiseAbs();
    const bool with_prior = round % 2 == 0;
    LabelPropagationOptions o;
    o.alpha = 0.85f;
    o.tolerance = 0;  // the same 30 iterations on both, so only rounding differs
    o.max_iterations = 30;
    o.threads = 1 + round % 2;
    INFO("round " << round << ": " << users << " x " << items << ", " << w.nnz() << " entries, "
                  << labels << " labels" << (with_prior ? ", with a user prior" : ""));
    o.reorder = Reorder::off;
    const PropagationResult off = propagate_labels(w, item_labels, with_prior ? &prior : nullptr, o);
    o.reorder = Reorder::on;
    const PropagationResult on = propagate_labels(w, item_labels, with_prior ? &prior : nullptr, o);
    REQUIRE(on.iterations == off.iterations);
    require_close(on.user_labels, off.user_labels);
    require_close(on.item_labels, off.item_labels);
    // The residual is a difference of two iterates, each within the entry tolerance
    // above, so it may differ by twice that tolerance at the largest entry.
    const double largest = std::max(off.user_labels.cwiseAbs().maxCoeff(), off.item_labels.cwiseAbs().maxCoeff());
    REQUIRE(std::fabs(on.residual - off.residual) <= 2 * (1e-5 + 1e-6) * largest);
  }
}

TEST_CASE("degree order: automatic orders large graphs only; bad weights name the caller's row",
          "[propagation][label_propagation][reorder]") {
  LabelPropagationOptions o;
  REQUIRE(o.reorder == Reorder::automatic);
  REQUIRE_FALSE(o.reorders(LabelPropagationOptions::kReorderMinNonzeros - 1));
  REQUIRE(o.reorders(LabelPropagationOptions::kReorderMinNonzeros));
  o.reorder = Reorder::on;
  REQUIRE(o.reorders(0));
  o.reorder = Reorder::off;
  REQUIRE_FALSE(o.reorders(LabelPropagationOptions::kReorderMinNonzeros * 4));

  // Row 7 is light, so the degree order moves it; the message still names row 7.
  std::vector<graph::Triplet> t;
  for (Index c = 0; c < 10; ++c) t.push_back({0, c, 1.0f});
  t.push_back({7, 3, -2.0f});
  const graph::CsrMatrix w = graph::csr_from_triplets(8, 10, t);
  std::mt19937_64 rng(test::test_seed());
  o.reorder = Reorder::on;
  REQUIRE_THROWS_WITH(propagate_labels(w, test::random_item_labels(rng, 10, 3, 0.2), nullptr, o),
                      Catch::Contains("W: the value at row 7, column 3 is -2"));
}
