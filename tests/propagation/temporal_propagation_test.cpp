#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/spmm.hpp"
#include "propagation/temporal_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

namespace {

std::vector<graph::CsrMatrix> random_slices(std::mt19937_64& rng, Index users, Index items, int n,
                                            std::size_t edges) {
  std::vector<graph::CsrMatrix> slices;
  for (int t = 0; t < n; ++t) slices.push_back(test::random_skewed_matrix(rng, users, items, edges));
  return slices;
}

graph::CsrMatrix csr_of(const Eigen::MatrixXd& d) {
  std::vector<graph::Triplet> t;
  for (Eigen::Index r = 0; r < d.rows(); ++r)
    for (Eigen::Index c = 0; c < d.cols(); ++c)
      if (d(r, c) != 0)
        t.push_back({static_cast<Index>(r), static_cast<Index>(c), static_cast<float>(d(r, c))});
  return graph::csr_from_triplets(static_cast<Index>(d.rows()), static_cast<Index>(d.cols()), t);
}

double max_abs_diff(const DenseMatrix& a, const Eigen::MatrixXd& b) {
  return (a.cast<double>() - b).cwiseAbs().maxCoeff();
}

Eigen::MatrixXd normalized_rows(Eigen::MatrixXd m) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    if (m.row(r).sum() > 0) m.row(r) /= m.row(r).sum();
  return m;
}

}  // namespace

TEST_CASE("temporal with gamma 0 and mu 0 is static propagation on each slice",
          "[propagation][temporal]") {
  std::mt19937_64 rng(test::test_seed());
  const auto slices = random_slices(rng, 80, 50, 4, 300);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 50, 5, 0.3);
  TemporalOptions o;
  o.gamma = 0;
  o.mu = 0;
  o.propagation.alpha = 0.8f;
  const auto periods = propagate_temporal(slices, item_labels, o);
  REQUIRE(periods.size() == slices.size());
  for (std::size_t t = 0; t < slices.size(); ++t) {
    INFO("period " << t);
    const PropagationResult s = propagate_labels(slices[t], item_labels, nullptr, o.propagation);
    // The same kernels on the same data: bitwise equal.
    REQUIRE(periods[t].interests == row_normalized(s.user_labels));
    REQUIRE(periods[t].item_labels == s.item_labels);
    REQUIRE(periods[t].iterations == s.iterations);
    REQUIRE(periods[t].converged);
  }
}

TEST_CASE("temporal with gamma > 0 is static propagation on the dense-accumulated history",
          "[propagation][temporal]") {
  std::mt19937_64 rng(test::test_seed());
  const auto slices = random_slices(rng, 60, 40, 4, 200);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 40, 4, 0.3);
  TemporalOptions o;
  o.gamma = 0.6f;
  o.mu = 0;
  o.propagation.alpha = 0.85f;
  o.propagation.tolerance = 1e-7;
  o.propagation.max_iterations = 2000;
  const auto periods = propagate_temporal(slices, item_labels, o);
  Eigen::MatrixXd history = Eigen::MatrixXd::Zero(60, 40);
  for (std::size_t t = 0; t < slices.size(); ++t) {
    INFO("period " << t);
    history = o.gamma * history + test::dense(slices[t]);  // G_t = sum gamma^(t-s) W_s, in double
    const PropagationResult s = propagate_labels(csr_of(history), item_labels, nullptr, o.propagation);
    REQUIRE(periods[t].converged);
    REQUIRE(max_abs_diff(periods[t].interests, row_normalized(s.user_labels).cast<double>()) <= 1e-5);
    REQUIRE(max_abs_diff(periods[t].item_labels, s.item_labels.cast<double>()) <= 1e-5);
  }
}

TEST_CASE("memory mu seeds each period with mu times the previous raw F_U (closed forms chained)",
          "[propagation][temporal]") {
  std::mt19937_64 rng(test::test_seed());
  const auto slices = random_slices(rng, 25, 20, 3, 60);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 20, 3, 0.3);
  TemporalOptions o;
  o.gamma = 0.5f;
  o.mu = 0.7f;
  o.propagation.alpha = 0.75f;
  o.propagation.tolerance = 1e-8;
  o.propagation.max_iterations = 2000;
  const auto periods = propagate_temporal(slices, item_labels, o);
  const Eigen::MatrixXd y_items = item_seed_labels(item_labels).cast<double>();
  Eigen::MatrixXd history = Eigen::MatrixXd::Zero(25, 20), previous_users = Eigen::MatrixXd::Zero(25, 3);
  for (std::size_t t = 0; t < slices.size(); ++t) {
    INFO("period " << t);
    history = o.gamma * history + test::dense(slices[t]);
    const Eigen::MatrixXd f = test::closed_form(history, o.mu * previous_users, y_items, o.propagation.alpha);
    previous_users = f.topRows(25);
    REQUIRE(periods[t].converged);
    REQUIRE(max_abs_diff(periods[t].interests, normalized_rows(previous_users)) <= 1e-4);
    REQUIRE(max_abs_diff(periods[t].item_labels, f.bottomRows(20)) <= 1e-5);
  }
}

TEST_CASE("a user inactive in a period keeps the previous interests when gamma is 0",
          "[propagation][temporal]") {
  // User 0 buys item 0 (label 0) in period 0 and nothing in period 1; user 1 is active in both.
  const graph::Triplet p0[] = {{0, 0, 1.0f}, {1, 1, 1.0f}};
  const graph::Triplet p1[] = {{1, 0, 1.0f}};
  const graph::Triplet labels[] = {{0, 0, 1.0f}, {1, 1, 1.0f}};
  const std::vector<graph::CsrMatrix> slices{graph::csr_from_triplets(2, 2, p0),
                                             graph::csr_from_triplets(2, 2, p1)};
  TemporalOptions o;
  o.gamma = 0;
  o.mu = 0.5f;
  const auto periods = propagate_temporal(slices, graph::csr_from_triplets(2, 2, labels), o);
  REQUIRE(periods[0].interests(0, 0) == Approx(1.0));
  REQUIRE(periods[1].interests(0, 0) == Approx(1.0));
  REQUIRE(periods[1].interests(0, 1) == Approx(0.0).margin(1e-7));
  // User 1 moved from label 1 to item 0's label 0 and keeps some memory of label 1.
  REQUIRE(periods[1].interests(1, 0) > 0.5);
  REQUIRE(periods[1].interests(1, 1) > 0.0);
}

TEST_CASE("temporal propagation reports non-convergence per period", "[propagation][temporal]") {
  std::mt19937_64 rng(test::test_seed());
  const auto slices = random_slices(rng, 40, 30, 3, 200);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 30, 4, 0.2);
  TemporalOptions o;
  o.propagation.alpha = 0.9f;
  o.propagation.tolerance = 1e-12;
  o.propagation.max_iterations = 1;
  std::vector<std::size_t> progress_periods;
  const auto periods = propagate_temporal(slices, item_labels, o, [&](const IterationProgress& p) {
    progress_periods.push_back(p.period);
  });
  REQUIRE(progress_periods == std::vector<std::size_t>{0, 1, 2});
  for (const PeriodResult& p : periods) {
    REQUIRE_FALSE(p.converged);
    REQUIRE(p.iterations == 1);
    REQUIRE(p.residual > 1e-12);
  }
}

TEST_CASE("temporal propagation is bitwise identical on 1 and 2 threads", "[propagation][temporal]") {
  std::mt19937_64 rng(test::test_seed());
  const auto slices = random_slices(rng, 20000, 6000, 2, 4 * cpu::kMinWorkPerThread);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 6000, 8, 0.3);
  // Enough work for the kernels to use two threads.
  for (const auto& s : slices) REQUIRE(s.nnz() + s.n_cols >= 2 * cpu::kMinWorkPerThread);
  TemporalOptions o;
  o.propagation.max_iterations = 8;  // bitwise equality needs no convergence; keeps it short
  o.propagation.threads = 1;
  const auto one = propagate_temporal(slices, item_labels, o);
  o.propagation.threads = 2;
  const auto two = propagate_temporal(slices, item_labels, o);
  for (std::size_t t = 0; t < slices.size(); ++t) {
    REQUIRE(one[t].interests == two[t].interests);
    REQUIRE(one[t].item_labels == two[t].item_labels);
    REQUIRE(one[t].residual == two[t].residual);
  }
}

TEST_CASE("bad temporal options and slices throw driftrec::InputError naming them", "[propagation][temporal]") {
  std::mt19937_64 rng(test::test_seed());
  const auto slices = random_slices(rng, 10, 8, 2, 30);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 8, 3, 0.2);
  auto with = [&](auto change) {
    TemporalOptions o;
    change(o);
    return propagate_temporal(slices, item_labels, o);
  };
  REQUIRE_THROWS_WITH(with([](auto& o) { o.gamma = 1.5f; }), Catch::Contains("gamma"));
  REQUIRE_THROWS_WITH(with([](auto& o) { o.gamma = -0.1f; }), Catch::Contains("gamma"));
  REQUIRE_THROWS_WITH(with([](auto& o) { o.mu = 2.0f; }), Catch::Contains("mu"));
  REQUIRE_THROWS_WITH(with([](auto& o) { o.mu = -1.0f; }), Catch::Contains("mu"));
  REQUIRE_THROWS_WITH(with([](auto& o) { o.propagation.alpha = 1.0f; }), Catch::Contains("alpha"));
  REQUIRE_THROWS_WITH(with([](auto& o) { o.propagation.max_iterations = 0; }),
                      Catch::Contains("max_iterations"));

  const TemporalOptions o;
  auto mismatched = slices;
  mismatched.push_back(test::random_skewed_matrix(rng, 11, 8, 30));
  REQUIRE_THROWS_WITH(propagate_temporal(mismatched, item_labels, o), Catch::Contains("slice 2"));
  auto negative = slices;
  negative[1].data[0] = -1.0f;
  REQUIRE_THROWS_WITH(propagate_temporal(negative, item_labels, o), Catch::Contains("slice 1"));
  REQUIRE_THROWS_WITH(propagate_temporal(slices, test::random_item_labels(rng, 7, 3, 0.2), o),
                      Catch::Contains("item_labels"));
  REQUIRE(propagate_temporal({}, item_labels, o).empty());
}

TEST_CASE("temporal propagation in degree order equals the unordered run, prior carried in original ids",
          "[propagation][temporal][temporal_propagation][reorder]") {
  std::mt19937_64 rng(test::test_seed());
  // gamma > 0: G_{t-1} stays ordered and W_t is relabelled into it; gamma = 0: each
  // period ordered afresh. mu > 0 in both, so a prior mapped wrongly would show.
  for (const float gamma : {0.6f, 0.0f}) {
    const Index users = 300, items = 120;
    auto slices = random_slices(rng, users, items, 5, 2500);
    // Period 3 is someone else's activity: different heavy users and items.
    slices[3] = test::random_skewed_matrix(rng, users, items, 2500);
    for (Index& c : slices[3].indices) c = items - 1 - c;
    for (Index r = 0; r < users; ++r)
      std::sort(slices[3].indices.begin() + slices[3].indptr[r], slices[3].indices.begin() + slices[3].indptr[r + 1]);
    const graph::CsrMatrix item_labels = test::random_item_labels(rng, items, 6, 0.3);
    TemporalOptions o;
    o.gamma = gamma;
    o.mu = 0.7f;
    o.propagation.alpha = 0.85f;
    o.propagation.tolerance = 0;  // the same 25 iterations per period on both
    o.propagation.max_iterations = 25;
    o.propagation.threads = 2;
    o.propagation.reorder = Reorder::off;
    const auto off = propagate_temporal(slices, item_labels, o);
    o.propagation.reorder = Reorder::on;
    const auto on = propagate_temporal(slices, item_labels, o);
    REQUIRE(on.size() == off.size());
    for (std::size_t t = 0; t < off.size(); ++t) {
      INFO("gamma " << gamma << ", period " << t);
      REQUIRE(on[t].iterations == off[t].iterations);
      // |on - off| <= 1e-5 |off| + 1e-6 max|off| for every entry.
      for (const auto& [a, b] : {std::pair{&on[t].interests, &off[t].interests},
                                 std::pair{&on[t].item_labels, &off[t].item_labels}}) {
        REQUIRE(a->rows() == b->rows());
        const double floor = 1e-6 * double(b->cwiseAbs().maxCoeff());
        for (Eigen::Index i = 0; i < b->size(); ++i)
          REQUIRE(std::fabs(double(a->data()[i]) - b->data()[i]) <= 1e-5 * std::fabs(double(b->data()[i])) + floor);
      }
    }
    // The prior matters: without it period 4 would look different.
    o.mu = 0;
    const auto no_memory = propagate_temporal(slices, item_labels, o);
    REQUIRE((no_memory[4].interests - off[4].interests).cwiseAbs().maxCoeff() > 1e-3);
  }
}

TEST_CASE("resuming at a period from the saved raw F_U gives the uninterrupted run bitwise",
          "[propagation][temporal][resume]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const auto slices = random_slices(rng, 90, 60, 6, 400);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, 60, 5, 0.3);
  for (Reorder reorder : {Reorder::off, Reorder::on}) {
    TemporalOptions o;
    o.gamma = 0.6f;
    o.mu = 0.4f;
    o.propagation.reorder = reorder;
    const auto full = propagate_temporal(slices, item_labels, o);
    for (std::size_t first : {std::size_t{1}, std::size_t{3}, std::size_t{5}}) {
      CAPTURE(first, reorder == Reorder::on);
      TemporalResume resume{first, full[first - 1].user_scores};
      std::vector<std::size_t> seen;
      propagate_temporal_streaming(
          slices, item_labels, o,
          [&](std::size_t t, PeriodResult& r) {
            seen.push_back(t);
            CHECK(r.interests == full[t].interests);
            CHECK(r.item_labels == full[t].item_labels);
            CHECK(r.user_scores == full[t].user_scores);
            CHECK(r.iterations == full[t].iterations);
          },
          {}, &resume);
      CHECK(seen.size() == slices.size() - first);
      CHECK((!seen.empty() && seen.front() == first));
    }
  }
  TemporalResume wrong{2, DenseMatrix::Zero(3, 5)};
  CHECK_THROWS_AS(propagate_temporal_streaming(slices, item_labels, {}, {}, {}, &wrong), InputError);
}

TEST_CASE("temporal propagation over the tiles handed to the backend equals the untiled run bit for bit",
          "[propagation][temporal][blocked]") {
  std::mt19937_64 rng(test::test_seed());
  // Each period's G_t goes to the backend, which replaces W and W^T by their tiles (small
  // ones here, so that each matrix has many), and comes back rebuilt from W's tiles for
  // the next decay step: any entry lost or moved there would change the later periods.
  const Index users = 900, items = 400;
  const auto slices = random_slices(rng, users, items, 4, 6000);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, items, 6, 0.3);
  cpu::CpuBackend tiled(2), off(2);
  tiled.set_tiling(cpu::CpuBackend::Tiling::automatic, 5, 64, 0);
  off.set_tiling(cpu::CpuBackend::Tiling::off);
  for (const Reorder reorder : {Reorder::off, Reorder::on}) {
    TemporalOptions o;
    o.gamma = 0.6f;
    o.mu = 0.7f;
    o.propagation.tolerance = 1e-7;
    o.propagation.max_iterations = 30;
    o.propagation.threads = 2;
    o.propagation.reorder = reorder;
    o.propagation.backend = &off;
    const auto plain = propagate_temporal(slices, item_labels, o);
    o.propagation.backend = &tiled;
    const auto got = propagate_temporal(slices, item_labels, o);
    for (std::size_t t = 0; t < slices.size(); ++t) {
      INFO("reorder " << (reorder == Reorder::on) << ", period " << t);
      REQUIRE(got[t].iterations == plain[t].iterations);
      REQUIRE(got[t].residual == plain[t].residual);
      REQUIRE(got[t].interests == plain[t].interests);
      REQUIRE(got[t].item_labels == plain[t].item_labels);
    }
  }
}
