// The metrics of the evaluation protocol on hand-computed cases, and top-k against a
// full-sort reference on random scores with many ties.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "evaluation/metrics.hpp"
#include "graph/random.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

TEST_CASE("floored_distribution floors at 1e-6 and renormalises", "[evaluation]") {
  const std::vector<float> s{0.5f, 0.5f, 0.0f};
  const auto p = floored_distribution(s);
  const double z = 1.0 + 1e-6;
  CHECK(p[0] == Approx(0.5 / z).epsilon(1e-15));
  CHECK(p[1] == Approx(0.5 / z).epsilon(1e-15));
  CHECK(p[2] == Approx(1e-6 / z).epsilon(1e-12));
  CHECK(std::accumulate(p.begin(), p.end(), 0.0) == Approx(1.0).epsilon(1e-15));

  // Scores are normalised first: {3, 1} -> {0.75, 0.25}; negatives and NaN count as 0.
  const auto q = floored_distribution(std::vector<float>{3.0f, 1.0f, -2.0f, std::nanf("")});
  const double zq = 1.0 + 2e-6;
  CHECK(q[0] == Approx(0.75 / zq).epsilon(1e-15));
  CHECK(q[1] == Approx(0.25 / zq).epsilon(1e-15));
  CHECK(q[2] == Approx(1e-6 / zq).epsilon(1e-12));
  CHECK(q[3] == q[2]);

  // Nothing positive: uniform (above the floor, so unchanged by it).
  const auto u = floored_distribution(std::vector<float>{0.0f, 0.0f, 0.0f, 0.0f});
  for (double v : u) CHECK(v == Approx(0.25).epsilon(1e-15));
}

TEST_CASE("cross-entropy and KL on a hand-computed case", "[evaluation]") {
  const std::vector<double> t{0.5, 0.5, 0.0};
  const std::vector<double> p{0.25, 0.25, 0.5};
  CHECK(cross_entropy(t, p) == Approx(std::log(4.0)).epsilon(1e-15));
  CHECK(kl_divergence(t, p) == Approx(std::log(2.0)).epsilon(1e-15));
  // KL = CE - H(t); KL of t against itself is 0.
  CHECK(kl_divergence(t, t) == Approx(0.0).margin(1e-15));
  // A label of the truth the prediction floored: log(1e-6) dominates.
  const std::vector<double> t2{1.0, 0.0};
  const auto p2 = floored_distribution(std::vector<float>{0.0f, 1.0f});
  CHECK(cross_entropy(t2, p2) == Approx(-std::log(1e-6 / (1 + 1e-6))).epsilon(1e-12));
}

TEST_CASE("top_k breaks ties toward the lower index and ranks NaN last", "[evaluation]") {
  const std::vector<double> s{1, 3, 3, 2};
  CHECK(top_k(s, 2) == std::vector<Index>{1, 2});
  CHECK(top_k(s, 10) == std::vector<Index>{1, 2, 3, 0});  // K above the size: all of them
  CHECK(top_k(s, 0).empty());
  const std::vector<double> n{std::nan(""), 1, std::nan(""), 1};
  CHECK(top_k(n, 4) == std::vector<Index>{1, 3, 0, 2});
  // Over a subset of eligible items.
  const std::vector<float> f{5, 4, 4, 9, 4};
  const std::vector<Index> eligible{1, 2, 4};
  CHECK(top_k_of(f, eligible, 2) == std::vector<Index>{1, 2});
  CHECK(top_k_of(f, eligible, 10) == std::vector<Index>{1, 2, 4});
}

TEST_CASE("top_k matches a full stable sort on random scores with ties", "[evaluation]") {
  graph::Rng rng(driftrec::test::test_seed(), 1, 0);
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t n = 1 + rng.below(60);
    std::vector<double> s(n);
    for (auto& v : s) v = static_cast<double>(rng.below(5));  // many ties
    std::vector<Index> ref(n);
    std::iota(ref.begin(), ref.end(), Index{0});
    std::stable_sort(ref.begin(), ref.end(), [&](Index a, Index b) { return s[a] > s[b]; });
    const int k = static_cast<int>(rng.below(n + 5));
    ref.resize(std::min<std::size_t>(n, static_cast<std::size_t>(k)));
    CHECK(top_k(s, k) == ref);
  }
}

TEST_CASE("recall, ndcg and hit rate on hand-computed rankings", "[evaluation]") {
  const std::vector<Index> ranked{4, 2, 7};
  const std::vector<Index> relevant{2, 9};
  CHECK(hits_at(ranked, relevant, 3) == 1);
  CHECK(recall_at(ranked, relevant, 3) == Approx(0.5));  // 1 / min(3, 2)
  CHECK(recall_at(ranked, relevant, 1) == 0.0);
  const double d2 = 1.0 / std::log2(3.0);
  CHECK(ndcg_at(ranked, relevant, 3) == Approx(d2 / (1.0 + d2)).epsilon(1e-15));
  CHECK(hit_rate_at(ranked, relevant, 3) == 1.0);
  CHECK(hit_rate_at(ranked, relevant, 1) == 0.0);
  // K = 1 with one relevant item at the top: everything is 1.
  CHECK(ndcg_at(std::vector<Index>{9}, relevant, 1) == 1.0);
  CHECK(recall_at(std::vector<Index>{9}, relevant, 1) == 1.0);

  // K larger than the candidate set: the ranking holds only 2 items, the truth 3.
  const std::vector<Index> short_ranking{5, 1};
  const std::vector<Index> truth{1, 5, 8};
  CHECK(recall_at(short_ranking, truth, 10) == Approx(2.0 / 3.0));  // 2 / min(10, 3)
  const double ideal = 1.0 + 1.0 / std::log2(3.0) + 0.5;
  CHECK(ndcg_at(short_ranking, truth, 10) == Approx((1.0 + 1.0 / std::log2(3.0)) / ideal).epsilon(1e-15));
  CHECK(hit_rate_at(short_ranking, truth, 10) == 1.0);
  // An empty ranking (no candidate left) scores 0, not NaN.
  CHECK(recall_at(std::vector<Index>{}, truth, 10) == 0.0);
  CHECK(ndcg_at(std::vector<Index>{}, truth, 10) == 0.0);
}

TEST_CASE("ndcg matches a dense reference on random rankings", "[evaluation]") {
  graph::Rng rng(driftrec::test::test_seed(), 2, 0);
  for (int trial = 0; trial < 50; ++trial) {
    const Index n = 1 + static_cast<Index>(rng.below(30));
    std::vector<Index> items(static_cast<std::size_t>(n));
    std::iota(items.begin(), items.end(), Index{0});
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
    std::vector<Index> relevant;
    std::vector<int> rel(static_cast<std::size_t>(n), 0);
    for (Index i = 0; i < n; ++i)
      if (rng.below(3) == 0) {
        relevant.push_back(i);
        rel[static_cast<std::size_t>(i)] = 1;
      }
    if (relevant.empty()) continue;
    const int k = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(n) + 3));
    // Reference: DCG over the first k ranks with gains 1/log2(rank + 1), rank from 1.
    double dcg = 0, idcg = 0;
    for (int r = 1; r <= k && r <= n; ++r) dcg += rel[static_cast<std::size_t>(items[static_cast<std::size_t>(r - 1)])] / std::log2(r + 1.0);
    for (int r = 1; r <= k && r <= static_cast<int>(relevant.size()); ++r) idcg += 1.0 / std::log2(r + 1.0);
    CHECK(ndcg_at(items, relevant, k) == Approx(dcg / idcg).epsilon(1e-12));
  }
}

TEST_CASE("interest scores: ties in the prediction, new labels, floor", "[evaluation]") {
  // An all-zero prediction becomes uniform; the top 3 are labels 0, 1, 2 (ties -> lower).
  const std::vector<double> truth{0.0, 0.5, 0.5, 0.0};
  const auto p = floored_distribution(std::vector<float>(4, 0.0f));
  const std::vector<Index> new_labels{2};
  const InterestScores s = interest_scores(truth, p, new_labels);
  CHECK(s.cross_entropy == Approx(std::log(4.0)).epsilon(1e-12));
  CHECK(s.kl == Approx(std::log(2.0)).epsilon(1e-12));
  CHECK(s.recall3 == 1.0);  // both relevant labels in the top 3; min(3, 2) = 2
  const double d2 = 1.0 / std::log2(3.0), d3 = 0.5;
  CHECK(s.ndcg3 == Approx((d2 + d3) / (1.0 + d2)).epsilon(1e-15));
  REQUIRE(s.has_new_label_recall);
  CHECK(s.new_label_recall3 == 1.0);

  // A confident prediction on label 3 only: recall 1/2 of ranks 2-3 (labels 0, 1 tie at the floor).
  const auto q = floored_distribution(std::vector<float>{0.0f, 0.0f, 0.0f, 1.0f});
  const InterestScores t = interest_scores(truth, q, std::vector<Index>{});
  CHECK(t.recall3 == Approx(0.5));  // top 3 = {3, 0, 1}: label 1 hits
  CHECK(t.ndcg3 == Approx(0.5 / (1.0 + d2)).epsilon(1e-15));
  CHECK_FALSE(t.has_new_label_recall);  // no new labels: skipped
  const double floor_p = 1e-6 / (1.0 + 3e-6);
  CHECK(t.cross_entropy == Approx(-std::log(floor_p)).epsilon(1e-12));
}

TEST_CASE("top_k_unseen equals top_k_of over candidates minus seen, and a full sort", "[evaluation]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  INFO("seed " << seed);
  graph::Rng rng(seed, 7, 0);
  const float inf = std::numeric_limits<float>::infinity();
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t n = 1 + rng.below(trial % 2 == 0 ? 80 : 400);  // past a few blocks of 16
    std::vector<float> s(n);
    const bool specials = trial % 3 == 0;
    for (auto& v : s) {
      const auto r = rng.below(specials ? 9 : 6);  // many ties; sometimes NaN and infinities
      v = r < 6 ? static_cast<float>(r) - 2.0f : r == 6 ? std::nanf("") : r == 7 ? inf : -inf;
    }
    std::vector<std::uint8_t> candidates(n);
    std::vector<Index> seen, eligible;
    for (Index i = 0; i < static_cast<Index>(n); ++i) {
      const bool candidate = rng.below(4) != 0, had = rng.below(3) == 0;
      candidates[static_cast<std::size_t>(i)] = candidate;
      if (had) seen.push_back(i);  // seen may hold items that are not candidates
      if (candidate && !had) eligible.push_back(i);
    }
    const int k = static_cast<int>(rng.below(n + 5));
    INFO("trial " << trial << ", n " << n << ", k " << k);
    const std::vector<Index> got = top_k_unseen(s, candidates, seen, k);
    CHECK(got == top_k_of(s, eligible, k));
    // Independently: a stable sort of the eligible items, numbers by score, NaN last.
    std::vector<Index> ref = eligible;
    std::stable_sort(ref.begin(), ref.end(), [&](Index a, Index b) {
      const bool an = std::isnan(s[a]), bn = std::isnan(s[b]);
      if (an != bn) return bn;
      return !an && s[a] > s[b];
    });
    ref.resize(std::min<std::size_t>(ref.size(), static_cast<std::size_t>(k)));
    CHECK(got == ref);
  }
}
