// The ranker's arithmetic against brute force: the candidate set and its features equal an
// exhaustive computation (every source's whole ranking sorted, every rank counted), the
// listwise loss's gradient and Hessian match finite differences, and the Newton fit lands
// on a stationary point that no random nearby weight beats, for any thread count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "evaluation/ranker.hpp"
#include "graph/random.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

namespace {

double uniform(graph::Rng& rng) { return static_cast<double>(rng.below(1u << 20)) / static_cast<double>(1u << 20); }

// Random examples of `users` users, 3..12 candidates each, one or more positives.
std::vector<RankingExample> random_examples(graph::Rng& rng, int users) {
  std::vector<RankingExample> out(static_cast<std::size_t>(users));
  for (auto& ex : out) {
    const int n = 3 + static_cast<int>(rng.below(10));
    ex.candidates.features.resize(n, kRankerFeatures);
    for (int j = 0; j < n; ++j) {
      ex.candidates.items.push_back(j);
      for (int f = 0; f < kRankerFeatures; ++f) ex.candidates.features(j, f) = uniform(rng) * 2 - 0.5;
      ex.positive.push_back(rng.below(4) == 0 ? 1 : 0);
    }
    ex.positive[rng.below(static_cast<std::uint64_t>(n))] = 1;
  }
  return out;
}

}  // namespace

TEST_CASE("ranker candidates and features equal an exhaustive computation", "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  graph::Rng rng(seed, 31, 0);
  for (int trial = 0; trial < 20; ++trial) {
    CAPTURE(trial);
    const Index n_items = 5 + static_cast<Index>(rng.below(30));
    const int per_source = 1 + static_cast<int>(rng.below(6));
    std::array<std::vector<float>, kRankerSources> scores;
    for (auto& s : scores)
      for (Index i = 0; i < n_items; ++i) s.push_back(static_cast<float>(rng.below(6)) - 2.0f);  // many ties
    std::vector<Index> eligible;
    for (Index i = 0; i < n_items; ++i)
      if (rng.below(4) != 0) eligible.push_back(i);
    std::vector<float> age, trend;
    for (Index i = 0; i < n_items; ++i) {
      age.push_back(static_cast<float>(uniform(rng)));
      trend.push_back(static_cast<float>(uniform(rng) - 0.5));
    }
    std::array<std::span<const float>, kRankerSources> views;
    for (int s = 0; s < kRankerSources; ++s) views[s] = scores[s];
    const CandidateSet c = make_candidates(views, eligible, age, trend, per_source);

    // Reference: the union of each source's top per_source after a full stable sort.
    std::set<Index> want;
    for (int s = 0; s < kRankerSources; ++s) {
      std::vector<Index> all(eligible);
      std::stable_sort(all.begin(), all.end(), [&](Index a, Index b) { return scores[s][a] > scores[s][b]; });
      for (std::size_t r = 0; r < all.size() && r < static_cast<std::size_t>(per_source); ++r) want.insert(all[r]);
    }
    REQUIRE(c.items == std::vector<Index>(want.begin(), want.end()));
    REQUIRE(c.features.rows() == static_cast<Eigen::Index>(c.items.size()));
    for (std::size_t j = 0; j < c.items.size(); ++j) {
      const Index i = c.items[j];
      for (int s = 0; s < kRankerSources; ++s) {
        float lo = scores[s][i], hi = scores[s][i];
        int rank = 0;  // candidates ahead of i: a higher score, or the same and a lower index
        for (Index k : c.items) {
          lo = std::min(lo, scores[s][k]);
          hi = std::max(hi, scores[s][k]);
          if (scores[s][k] > scores[s][i] || (scores[s][k] == scores[s][i] && k < i)) ++rank;
        }
        const double norm = hi > lo ? (scores[s][i] - lo) / static_cast<double>(hi - lo) : 0.0;
        CHECK(c.features(static_cast<Eigen::Index>(j), 2 * s) == Approx(norm).margin(1e-12));
        CHECK(c.features(static_cast<Eigen::Index>(j), 2 * s + 1) == Approx(1.0 / std::log2(2.0 + rank)));
      }
      CHECK(c.features(static_cast<Eigen::Index>(j), 2 * kRankerSources) == Approx(age[i]));
      CHECK(c.features(static_cast<Eigen::Index>(j), 2 * kRankerSources + 1) == Approx(trend[i]));
    }
  }
}

TEST_CASE("the listwise loss's value, gradient and Hessian match a direct sum and finite differences",
          "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  graph::Rng rng(seed, 32, 0);
  const std::vector<RankingExample> ex = random_examples(rng, 40);
  Eigen::VectorXd w(kRankerFeatures);
  for (int f = 0; f < kRankerFeatures; ++f) w(f) = uniform(rng) * 2 - 1;
  const double l2 = 0.05;

  // The definition, term by term.
  double direct = 0;
  for (const auto& e : ex) {
    const Eigen::VectorXd s = e.candidates.features * w;
    double z = 0, pos = 0, sum_pos = 0;
    for (Eigen::Index j = 0; j < s.size(); ++j) z += std::exp(s(j));
    for (std::size_t j = 0; j < e.positive.size(); ++j)
      if (e.positive[j]) {
        pos += 1;
        sum_pos += s(static_cast<Eigen::Index>(j)) - std::log(z);
      }
    direct -= sum_pos / pos;
  }
  direct = direct / static_cast<double>(ex.size()) + 0.5 * l2 * w.squaredNorm();

  Eigen::VectorXd g;
  Eigen::MatrixXd h;
  const double loss = listwise_loss(ex, w, l2, &g, &h, 2);
  CHECK(loss == Approx(direct).epsilon(1e-12));
  const double eps = 1e-5;
  for (int f = 0; f < kRankerFeatures; ++f) {
    CAPTURE(f);
    Eigen::VectorXd up = w, down = w;
    up(f) += eps;
    down(f) -= eps;
    Eigen::VectorXd gu, gd;
    const double lu = listwise_loss(ex, up, l2, &gu), ld = listwise_loss(ex, down, l2, &gd);
    CHECK(g(f) == Approx((lu - ld) / (2 * eps)).margin(1e-7));
    for (int k = 0; k < kRankerFeatures; ++k) CHECK(h(k, f) == Approx((gu(k) - gd(k)) / (2 * eps)).margin(1e-6));
  }
}

TEST_CASE("the listwise Newton fit reaches the minimum, the same for 1 and 2 threads", "[evaluation][ranker]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  graph::Rng rng(seed, 33, 0);
  const std::vector<RankingExample> ex = random_examples(rng, 200);
  const ListwiseFit a = fit_listwise(ex, 0.01, 50, 1), b = fit_listwise(ex, 0.01, 50, 2);
  CHECK(a.weights == b.weights);
  CHECK(a.gradient_norm < 1e-7);
  CHECK(a.iterations < 50);
  CHECK(a.loss < listwise_loss(ex, Eigen::VectorXd::Zero(kRankerFeatures), 0.01));
  for (int trial = 0; trial < 20; ++trial) {  // convex: no nearby point is lower
    Eigen::VectorXd w = a.weights;
    for (int f = 0; f < kRankerFeatures; ++f) w(f) += (uniform(rng) - 0.5) * 0.1;
    CHECK(listwise_loss(ex, w, 0.01) >= a.loss);
  }
  // A positive always on top of a feature: the fit learns a positive weight for it.
  std::vector<RankingExample> easy = random_examples(rng, 100);
  for (auto& e : easy)
    for (std::size_t j = 0; j < e.positive.size(); ++j) e.candidates.features(static_cast<Eigen::Index>(j), 3) = e.positive[j];
  CHECK(fit_listwise(easy, 0.01).weights(3) > 1.0);
}
